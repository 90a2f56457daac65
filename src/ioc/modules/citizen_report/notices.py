"""Message templates of citizen reports, registered with the notification module at start-up (never overwritten).

Every template receives the same parameters: `code`, `category`, `status`, `agency`, `due`, `note`, `link`.
Administrators may edit the stored copies; the texts here are only the first version.
"""

from __future__ import annotations

from typing import Final

from ioc.modules import notification

from .constants import Action

REPORTER_PREFIX: Final = "citizen_report."
AGENCY_PREFIX: Final = "citizen_report.agency_"


class AgencyNotice:
    """What an agency's office is told about (a template key suffix)."""

    ASSIGNED: Final = "assigned"
    REOPENED: Final = "reopened"
    APPROACHING: Final = "approaching"
    OVERDUE: Final = "overdue"


# (Vietnamese, English) sentence per status change the reporter hears about.
REPORTER_TEXTS: Final[dict[Action, tuple[str, str]]] = {
    Action.SUBMITTED: (
        "Phản ánh {{ code }} ({{ category }}) đã được tiếp nhận và sẽ được xem xét trước {{ due }}.",
        "Your report {{ code }} ({{ category }}) was received and will be reviewed before {{ due }}.",
    ),
    Action.ACCEPTED: (
        "Phản ánh {{ code }} đã được duyệt, công khai và sẽ được chuyển đến cơ quan có thẩm quyền.",
        "Your report {{ code }} was accepted and published; it will be passed to the responsible agency.",
    ),
    Action.REJECTED: (
        "Phản ánh {{ code }} không được tiếp nhận. Lý do: {{ note }}",
        "Your report {{ code }} was not accepted. Reason: {{ note }}",
    ),
    Action.ASSIGNED: (
        "Phản ánh {{ code }} đã được chuyển đến {{ agency }} xử lý, hạn {{ due }}.",
        "Your report {{ code }} was assigned to {{ agency }}, due {{ due }}.",
    ),
    Action.STARTED: (
        "{{ agency }} đã bắt đầu xử lý phản ánh {{ code }}.",
        "{{ agency }} started work on your report {{ code }}.",
    ),
    Action.RESOLVED: (
        "Phản ánh {{ code }} đã được xử lý: {{ note }}\nXin đánh giá kết quả bằng mã đánh giá tại {{ link }}",
        "Your report {{ code }} was resolved: {{ note }}\nPlease rate the result with your rating code at {{ link }}",
    ),
    Action.REOPENED: (
        "Phản ánh {{ code }} được mở lại để {{ agency }} xử lý tiếp, hạn {{ due }}.",
        "Your report {{ code }} was reopened; {{ agency }} works on it again, due {{ due }}.",
    ),
    Action.CLOSED: (
        "Phản ánh {{ code }} đã hoàn thành. Cảm ơn bạn đã góp ý xây dựng tỉnh.",
        "Your report {{ code }} is closed. Thank you for helping the province.",
    ),
    Action.MERGED: (
        "Phản ánh {{ code }} được gộp vào phản ánh cùng nội dung {{ note }}; bạn sẽ nhận tin của phản ánh đó.",
        "Your report {{ code }} was merged into {{ note }} about the same problem; you will get its updates.",
    ),
    Action.EXTENSION_APPROVED: (
        "Hạn xử lý phản ánh {{ code }} được gia hạn: {{ note }}",
        "The deadline of your report {{ code }} was extended: {{ note }}",
    ),
}

AGENCY_TEXTS: Final[dict[str, tuple[str, str, str]]] = {
    # (subject, Vietnamese body, English body)
    AgencyNotice.ASSIGNED: (
        "Phản ánh mới được giao / new report assigned: {{ code }}",
        "Cơ quan được giao xử lý phản ánh {{ code }} ({{ category }}), hạn {{ due }}.\nChi tiết: {{ link }}",
        "Your agency was assigned report {{ code }} ({{ category }}), due {{ due }}.\nDetails: {{ link }}",
    ),
    AgencyNotice.REOPENED: (
        "Phản ánh mở lại / report reopened: {{ code }}",
        "Người dân chưa hài lòng, phản ánh {{ code }} được mở lại; hạn mới {{ due }}.\n{{ note }}\n"
        "Chi tiết: {{ link }}",
        "The citizen was not satisfied; report {{ code }} was reopened, new deadline {{ due }}.\n{{ note }}\n"
        "Details: {{ link }}",
    ),
    AgencyNotice.APPROACHING: (
        "Phản ánh sắp đến hạn / report nearly due: {{ code }}",
        "Phản ánh {{ code }} ({{ category }}) sắp đến hạn xử lý ({{ due }}).\nChi tiết: {{ link }}",
        "Report {{ code }} ({{ category }}) is nearly due ({{ due }}).\nDetails: {{ link }}",
    ),
    AgencyNotice.OVERDUE: (
        "Phản ánh quá hạn / report overdue: {{ code }}",
        "Phản ánh {{ code }} ({{ category }}) đã quá hạn xử lý ({{ due }}); đề nghị lãnh đạo cơ quan chỉ đạo xử lý."
        "\nChi tiết: {{ link }}",
        "Report {{ code }} ({{ category }}) is overdue ({{ due }}); the agency's head should see to it.\n"
        "Details: {{ link }}",
    ),
}


def reporter_key(action: Action) -> str:
    """Return the template key of a status change told to the reporter."""
    return f"{REPORTER_PREFIX}{action.value}"


def agency_key(notice: str) -> str:
    """Return the template key of a notice to an agency."""
    return f"{AGENCY_PREFIX}{notice}"


def _templates() -> list[notification.DefaultTemplate]:
    made: list[notification.DefaultTemplate] = []
    sms_vi, sms_en = (
        "1022: Phan anh {{ code }}: {{ status }}. {{ link }}",
        "1022: Report {{ code }}: {{ status }}. {{ link }}",
    )
    for action, (vi, en) in REPORTER_TEXTS.items():
        key = reporter_key(action)
        made += [
            notification.DefaultTemplate(key, notification.ANY_CHANNEL, "vi", "[Phản ánh {{ code }}] {{ status }}", vi),
            notification.DefaultTemplate(key, notification.ANY_CHANNEL, "en", "[Report {{ code }}] {{ status }}", en),
            # SMS is billed per segment: the status and the tracking page only, without diacritics.
            notification.DefaultTemplate(
                key, notification.ChannelKind.SMS.value, "vi", "", sms_vi,
                sms_ascii=True,
            ),
            notification.DefaultTemplate(
                key, notification.ChannelKind.SMS.value, "en", "", sms_en,
                sms_ascii=True,
            ),
        ]  # fmt: skip
    for notice, (subject, vi, en) in AGENCY_TEXTS.items():
        key = agency_key(notice)
        made += [
            notification.DefaultTemplate(key, notification.ANY_CHANNEL, "vi", subject, vi),
            notification.DefaultTemplate(key, notification.ANY_CHANNEL, "en", subject, en),
        ]
    return made


TEMPLATES: Final = tuple(_templates())
