"""What the alarm module charts for the operations picture: alarms raised per hour or day, by severity."""

from __future__ import annotations

from sqlalchemy import or_, select

from ioc.core.module import ChartLine, ChartPlot, ChartWindow, PictureContext

from .constants import SEVERITY_RANK, Severity
from .models import Alarm

# The severities as the module's pages name them (locale keys alarm.severity.*).
SEVERITY_LABELS: dict[Severity, tuple[str, str]] = {
    Severity.CRITICAL: ("Khẩn cấp", "Critical"),
    Severity.MAJOR: ("Nghiêm trọng", "Major"),
    Severity.MINOR: ("Nhẹ", "Minor"),
    Severity.WARNING: ("Lưu ý", "Warning"),
    Severity.INDETERMINATE: ("Chưa xác định", "Indeterminate"),
}


async def raised_by_severity(ctx: PictureContext, window: ChartWindow) -> ChartPlot:
    """Count the alarms first raised in each bucket, one line per severity that occurred, most severe first.

    Staff bound to some communes see the alarms of their communes and those of no commune, as on the console.
    """
    query = select(Alarm.severity, Alarm.first_seen_at).where(
        Alarm.first_seen_at >= window.since, Alarm.first_seen_at <= window.until
    )
    if ctx.unit_code:
        query = query.where(Alarm.unit_code == ctx.unit_code)
    principal = ctx.principal
    if principal is not None and principal.unit_codes and not principal.is_admin:
        query = query.where(or_(Alarm.unit_code.is_(None), Alarm.unit_code.in_(principal.unit_codes)))
    counts: dict[str, list[float | None]] = {}
    for severity, moment in (await ctx.session.execute(query)).all():
        slot = window.slot(moment)
        if slot is not None:
            values = counts.setdefault(severity, [0.0] * len(window.starts))
            values[slot] = (values[slot] or 0.0) + 1
    english = ctx.lang == "en"
    lines: list[ChartLine] = []
    for code in sorted(counts, key=_rank):
        known = _severity(code)
        label = code if known is None else SEVERITY_LABELS[known][1 if english else 0]
        lines.append(ChartLine(label, counts[code]))
    return ChartPlot(lines=lines)


def _severity(value: str) -> Severity | None:
    try:
        return Severity(value)
    except ValueError:  # a severity a newer rule book knows: shown by its code
        return None


def _rank(value: str) -> int:
    severity = _severity(value)
    return 9 if severity is None else SEVERITY_RANK[severity]
