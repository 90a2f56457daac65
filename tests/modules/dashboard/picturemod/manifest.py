"""A test-only module that offers KPI tiles, map layers, charts and feed events to the dashboard, some broken."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import func, select, text

from ioc.core.events import Audience, DomainEvent
from ioc.core.models import CalendarDay
from ioc.core.module import (
    ChartLine,
    ChartPlot,
    ChartSource,
    ChartWindow,
    FeedEntry,
    KpiTile,
    KpiValue,
    Manifest,
    MapLayer,
    PictureContext,
    Scope,
)
from ioc.core.security import Role

# The points the layer answers; tests set them (each: lon, lat, status, unit_code).
POINTS: list[tuple[float, float, str, str]] = []
SECRET_SCOPE = "picturemod:secret"


class Sighting(DomainEvent):
    """Something was seen at a place (public; critical when its level says so)."""

    event_name: ClassVar[str] = "picturemod.sighting"
    audience: ClassVar[Audience] = "public"

    code: str
    level: str
    unit_code: str | None = None


class Note(DomainEvent):
    """A remark about several places: a public event the module keeps off the anonymous feed."""

    event_name: ClassVar[str] = "picturemod.note"
    audience: ClassVar[Audience] = "public"

    code: str
    unit_codes: list[str]


async def count_days(ctx: PictureContext) -> KpiValue:
    """Count calendar overrides, against a fixed previous figure of 2."""
    count = await ctx.session.scalar(select(func.count()).select_from(CalendarDay))
    return KpiValue(value=float(count or 0), previous=2.0, higher_is_better=False)


async def plain_tile(ctx: PictureContext) -> KpiValue:
    """Answer a figure without any previous period (the dashboard compares it with its snapshots)."""
    return KpiValue(value=7.0)


async def broken_tile(ctx: PictureContext) -> KpiValue:
    """Fail inside the database, as a tile with a bad query would."""
    await ctx.session.execute(text("SELECT * FROM picturemod_no_such_table"))
    return KpiValue(value=1.0)


async def secret_tile(ctx: PictureContext) -> KpiValue:
    """Answer a figure only some roles may see."""
    return KpiValue(value=42.0, previous=42.0, unit="%", status="good")


async def points_layer(ctx: PictureContext) -> dict[str, Any]:
    """Answer the test points, only those of the drill-down unit when there is one."""
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"status": status, "unit_code": unit, "url": "/samplepoint"},
        }
        for lon, lat, status, unit in POINTS
        if ctx.unit_code is None or unit == ctx.unit_code
    ]
    return {"type": "FeatureCollection", "features": features}


async def broken_layer(ctx: PictureContext) -> dict[str, Any]:
    """Fail, as a module whose layer query breaks would."""
    raise RuntimeError("planned layer failure")


async def days_chart(ctx: PictureContext, window: ChartWindow) -> ChartPlot:
    """Count the calendar overrides per bucket of the window, by the day they stand for."""
    values: list[float | None] = [0.0] * len(window.starts)
    for day in await ctx.session.scalars(select(CalendarDay.day)):
        slot = window.day_slot(day)
        if slot is not None:
            values[slot] = (values[slot] or 0.0) + 1
    label = "Days" if ctx.lang == "en" else "Ngày"
    return ChartPlot(lines=[ChartLine(label, values)])


async def broken_chart(ctx: PictureContext, window: ChartWindow) -> ChartPlot:
    """Fail inside the database, as a chart with a bad query would."""
    await ctx.session.execute(text("SELECT * FROM picturemod_no_such_table"))
    return ChartPlot(lines=[])


async def short_chart(ctx: PictureContext, window: ChartWindow) -> ChartPlot:
    """Answer fewer values than the window has buckets, as a careless provider would."""
    return ChartPlot(lines=[ChartLine("x", [1.0])])


async def secret_chart(ctx: PictureContext, window: ChartWindow) -> ChartPlot:
    """Answer two points of its own (not the window's buckets), for some roles only."""
    return ChartPlot(lines=[ChartLine("s", [1.0, 2.0])], times=window.starts[:2], bucket=window.bucket * 2)


manifest = Manifest(
    name="picturemod",
    tier=1,
    title_vi="Mô-đun thử bức tranh",
    title_en="Picture test module",
    scopes=(Scope(SECRET_SCOPE, "Xem chỉ số bí mật", "See the secret figure", (Role.LEADER, Role.ADMIN)),),
    kpis=(
        KpiTile("picturemod.days", "Số ngày đặc biệt", "Special days", count_days, link="/calendar", order=1),
        KpiTile("picturemod.broken", "Ô hỏng", "Broken tile", broken_tile, order=2),
        KpiTile("picturemod.secret", "Ô bí mật", "Secret tile", secret_tile, scope=SECRET_SCOPE, order=3),
        KpiTile("picturemod.plain", "Ô không có kỳ trước", "Tile without a previous period", plain_tile, order=4),
    ),
    map_layers=(
        MapLayer("picturemod.points", "Điểm thử", "Test points", points_layer, order=1),
        MapLayer("picturemod.broken", "Lớp hỏng", "Broken layer", broken_layer, order=2, default_on=False),
    ),
    charts=(
        ChartSource("picturemod.days", "Ngày đặc biệt", "Special days", days_chart, unit="ngày", link="/calendar"),
        ChartSource("picturemod.broken", "Biểu đồ hỏng", "Broken chart", broken_chart, order=101),
        ChartSource("picturemod.short", "Biểu đồ thiếu", "Short chart", short_chart, order=102),
        ChartSource("picturemod.secret", "Biểu đồ bí mật", "Secret chart", secret_chart, scope=SECRET_SCOPE),
    ),
    feed=(
        FeedEntry("picturemod.sighting", severity_field="level", critical_values=("red",), link="/samples/{code}"),
        FeedEntry("picturemod.note", audience="staff", critical=True),
        FeedEntry("picturemod.never_registered"),
    ),
    package_dir=Path(__file__).parent,
)
