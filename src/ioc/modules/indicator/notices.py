"""Message templates of deadline reminders and late notices, registered with the notification module at start-up.

Both receive `data_set`, `data_set_name`, `period`, `deadline` (dd/mm/yyyy), `agency`, `units` (the units not
yet reported, comma separated), `count` and `link`. Administrators may edit the stored copies.
"""

from __future__ import annotations

from typing import Final

from ioc.modules import notification

from .constants import NoticeKind

PREFIX: Final = "indicator."

TEXTS: Final[dict[NoticeKind, tuple[tuple[str, str], tuple[str, str]]]] = {
    # kind: ((Vietnamese subject, body), (English subject, body))
    NoticeKind.REMINDER: (
        (
            "Sắp đến hạn nộp báo cáo {{ data_set }} kỳ {{ period }}",
            "Kính gửi {{ agency }},\nBáo cáo {{ data_set_name }} kỳ {{ period }} cần nộp trước hết ngày "
            "{{ deadline }}. Còn {{ count }} đơn vị chưa nộp: {{ units }}.\nNhập số liệu tại: {{ link }}",
        ),
        (
            "Report {{ data_set }} for {{ period }} is due soon",
            "Dear {{ agency }},\nThe report {{ data_set_name }} for {{ period }} is due by the end of "
            "{{ deadline }}. {{ count }} unit(s) not yet submitted: {{ units }}.\nEnter the figures at: {{ link }}",
        ),
    ),
    NoticeKind.LATE: (
        (
            "Quá hạn nộp báo cáo {{ data_set }} kỳ {{ period }}",
            "Kính gửi {{ agency }} và lãnh đạo cơ quan,\nBáo cáo {{ data_set_name }} kỳ {{ period }} đã quá hạn "
            "nộp ({{ deadline }}). Còn {{ count }} đơn vị chưa nộp: {{ units }}.\nĐề nghị khẩn trương nộp tại: "
            "{{ link }}",
        ),
        (
            "Report {{ data_set }} for {{ period }} is late",
            "Dear {{ agency }} and the agency's head,\nThe report {{ data_set_name }} for {{ period }} passed its "
            "deadline ({{ deadline }}). {{ count }} unit(s) not yet submitted: {{ units }}.\nPlease submit at: "
            "{{ link }}",
        ),
    ),
}


def key(kind: NoticeKind) -> str:
    """Return the template key of a deadline message."""
    return f"{PREFIX}{kind.value}"


def _templates() -> list[notification.DefaultTemplate]:
    made: list[notification.DefaultTemplate] = []
    for kind, ((subject_vi, body_vi), (subject_en, body_en)) in TEXTS.items():
        made += [
            notification.DefaultTemplate(key(kind), notification.ANY_CHANNEL, "vi", subject_vi, body_vi),
            notification.DefaultTemplate(key(kind), notification.ANY_CHANNEL, "en", subject_en, body_en),
        ]
    return made


TEMPLATES: Final = tuple(_templates())
