"""What the citizen_report module charts for the operations picture: reports received and resolved over time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from ioc.core.module import ChartLine, ChartPlot, ChartWindow, PictureContext
from ioc.modules import org_unit

from .models import Report


async def _units(ctx: PictureContext) -> list[str] | None:
    """Return the communes a drill-down covers (the unit and everything below it), or None for the province."""
    if not ctx.unit_code:
        return None
    try:
        return [ctx.unit_code, *await org_unit.units_within(ctx.session, ctx.unit_code)]
    except org_unit.UnitNotFound:
        return []


def _hour_of(column: Any, dialect: str) -> Any:
    """Return a SQL expression for the UTC hour a timestamp falls in (text on SQLite, a timestamp on PostgreSQL)."""
    if dialect == "postgresql":
        return func.date_trunc("hour", column)
    # SQLite keeps UTC timestamps as "YYYY-MM-DD HH:MM:SS.ffffff": the first 13 characters name the hour.
    return func.substr(column, 1, 13)


def _as_hour(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(f"{value}:00:00").replace(tzinfo=UTC)


async def _per_bucket(
    ctx: PictureContext, window: ChartWindow, column: Any, units: list[str] | None
) -> list[float | None]:
    """Count the reports whose `column` moment falls in each bucket of the window."""
    hour = _hour_of(column, ctx.session.get_bind().dialect.name)
    query = select(hour, func.count()).where(column.is_not(None), column >= window.since, column <= window.until)
    if units is not None:
        query = query.where(Report.unit_code.in_(units))
    counts: list[float | None] = [0.0] * len(window.starts)
    # Counted per UTC hour by the database (at most 24 × 90 rows over 100,000 reports); the province's offset is a
    # whole number of hours, so every UTC hour lies inside one local hour and one local day.
    for moment, count in (await ctx.session.execute(query.group_by(hour))).all():
        slot = window.slot(_as_hour(moment))
        if slot is not None:
            counts[slot] = (counts[slot] or 0.0) + int(count)
    return counts


async def received_and_resolved(ctx: PictureContext, window: ChartWindow) -> ChartPlot:
    """Reports received (submitted) and resolved per hour (24 h) or per day, as the KPI tiles count them."""
    units = await _units(ctx)
    received = await _per_bucket(ctx, window, Report.created_at, units)
    resolved = await _per_bucket(ctx, window, Report.resolved_at, units)
    english = ctx.lang == "en"
    return ChartPlot(
        lines=[
            ChartLine("Received" if english else "Tiếp nhận", received),
            ChartLine("Resolved" if english else "Đã giải quyết", resolved),
        ]
    )
