"""Business rules of the `dashboard` module: the operations picture assembled from the modules' manifests.

The dashboard imports no service module: KPI tiles and map layers come from `Manifest.kpis` and
`Manifest.map_layers` of whatever modules are enabled, the feed and the event charts from the outbox.
No HTTP and no commit here (the router commits).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.events import DomainEvent
from ioc.core.module import KpiTile, KpiValue, Manifest, MapLayer, PictureContext
from ioc.core.runtime import Runtime
from ioc.core.security import SYSTEM, Principal, Role
from ioc.core.time import PROVINCE_TZ, utc_now

from . import clustering, repository
from .constants import (
    ANY_ROLE,
    API_PREFIX,
    FEED_DEFAULT,
    RANGE_BUCKET,
    RANGE_SPAN,
    CellKind,
    ChartRange,
    Trend,
)
from .exceptions import ChartNotFound, LayerFailed, LayerNotFound, LayoutInvalid
from .models import DashboardKpiSnapshot, DashboardWallLayout
from .schemas import (
    ChartData,
    ChartRead,
    ChartSeries,
    FeedItem,
    KpiBoard,
    KpiTileRead,
    LayerCatalogue,
    LayerRead,
    WallCell,
    WallLayout,
    WallLayoutRead,
    WallScreen,
    WallSummary,
)

log = logging.getLogger(__name__)

# A change smaller than this share of the previous value reads as "flat".
FLAT_SHARE = 0.005


# ---------- what the caller may see ----------


def _may_see(scope: str | None, principal: Principal | None) -> bool:
    return scope is None or (principal is not None and principal.has(scope))


def visible_tiles(runtime: Runtime, principal: Principal | None) -> list[tuple[Manifest, KpiTile]]:
    """Return the KPI tiles of the enabled modules that the caller may see, in display order."""
    tiles = [(m, tile) for m in runtime.modules for tile in m.kpis if _may_see(tile.scope, principal)]
    return sorted(tiles, key=lambda pair: (pair[1].order, pair[1].key))


def visible_layers(runtime: Runtime, principal: Principal | None) -> list[tuple[Manifest, MapLayer]]:
    """Return the map layers of the enabled modules that the caller may see, in display order."""
    layers = [(m, layer) for m in runtime.modules for layer in m.map_layers if _may_see(layer.scope, principal)]
    return sorted(layers, key=lambda pair: (pair[1].order, pair[1].key))


def _error_text(lang: str) -> str:
    return "Could not be computed just now." if lang == "en" else "Tạm thời không tính được."


# ---------- KPI tiles ----------


def trend_of(value: KpiValue) -> tuple[Trend | None, float | None]:
    """Return the direction and size of a figure's change against the previous period."""
    if value.value is None or value.previous is None:
        return None, None
    change = value.value - value.previous
    tolerance = abs(value.previous) * FLAT_SHARE
    if abs(change) <= tolerance:
        return Trend.FLAT, change
    return (Trend.UP if change > 0 else Trend.DOWN), change


def _tile_read(manifest: Manifest, tile: KpiTile, lang: str) -> KpiTileRead:
    return KpiTileRead(key=tile.key, module=manifest.name, label=tile.label(lang), link=tile.link)


async def compute_tile(ctx: PictureContext, manifest: Manifest, tile: KpiTile) -> KpiTileRead:
    """Compute one tile; a failure becomes the tile's error state, never the caller's."""
    read = _tile_read(manifest, tile, ctx.lang)
    try:
        # A savepoint: on PostgreSQL a failed statement would otherwise poison the whole session.
        async with ctx.session.begin_nested():
            value = await tile.compute(ctx)
    except Exception:
        log.exception("KPI tile failed", extra={"tile": tile.key})
        return read.model_copy(update={"error": _error_text(ctx.lang)})
    trend, change = trend_of(value)
    return read.model_copy(
        update={
            "value": value.value,
            "previous": value.previous,
            "unit": value.unit,
            "status": value.status,
            "higher_is_better": value.higher_is_better,
            "trend": trend,
            "change": change,
        }
    )


async def kpi_board(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal | None,
    lang: str,
    unit_code: str | None = None,
    keys: Sequence[str] | None = None,
) -> KpiBoard:
    """Compute every tile the caller may see, one after the other in one session (sessions are not shared)."""
    now = utc_now()
    ctx = PictureContext(session=session, principal=principal, now=now, lang=lang, unit_code=unit_code)
    wanted = set(keys) if keys else None
    tiles = [
        await compute_tile(ctx, manifest, tile)
        for manifest, tile in visible_tiles(runtime, principal)
        if wanted is None or tile.key in wanted
    ]
    return KpiBoard(computed_at=now, unit_code=unit_code, tiles=tiles)


# ---------- map layers ----------


def _layer_url(key: str, unit_code: str | None) -> str:
    url = f"/api/v1{API_PREFIX}/layers/{key}"
    return f"{url}?unit={unit_code}" if unit_code else url


async def _features(ctx: PictureContext, layer: MapLayer) -> dict[str, Any]:
    async with ctx.session.begin_nested():
        collection = await layer.features(ctx)
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise TypeError(f"layer {layer.key} did not answer a FeatureCollection")
    return collection


async def layer_catalogue(
    session: AsyncSession, runtime: Runtime, principal: Principal | None, lang: str, unit_code: str | None = None
) -> LayerCatalogue:
    """List the layers the caller may see with their counts; a failing layer shows its error, not a 500."""
    now = utc_now()
    ctx = PictureContext(session=session, principal=principal, now=now, lang=lang, unit_code=unit_code)
    layers: list[LayerRead] = []
    for manifest, layer in visible_layers(runtime, principal):
        read = LayerRead(
            key=layer.key,
            module=manifest.name,
            label=layer.label(lang),
            default_on=layer.default_on,
            url=_layer_url(layer.key, unit_code),
        )
        try:
            read.count = clustering.layer_count(await _features(ctx, layer))
        except Exception:
            log.exception("map layer failed", extra={"layer": layer.key})
            read.error = _error_text(lang)
        layers.append(read)
    return LayerCatalogue(computed_at=now, unit_code=unit_code, layers=layers)


async def layer_geojson(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal | None,
    key: str,
    lang: str,
    unit_code: str | None = None,
    zoom: int | None = None,
) -> dict[str, Any]:
    """Return one layer's GeoJSON, its points clustered on a grid when the zoom is low and they are many."""
    found = next(((m, layer) for m, layer in visible_layers(runtime, principal) if layer.key == key), None)
    if found is None:
        raise LayerNotFound(key)
    ctx = PictureContext(session=session, principal=principal, now=utc_now(), lang=lang, unit_code=unit_code)
    try:
        collection = await _features(ctx, found[1])
    except Exception as exc:
        log.exception("map layer failed", extra={"layer": key})
        raise LayerFailed(key) from exc
    # The total travels with the layer (a GeoJSON foreign member), so that a map needs no second request.
    return {**clustering.cluster(collection, zoom), "count": clustering.layer_count(collection)}


# ---------- the live feed ----------


# Events the feed shows: new things operators act on (reports, alarms, incidents, warnings, exceedances).
FEED_EVENTS = (
    "citizen_report.submitted",
    "citizen_report.overdue",
    "citizen_report.reopened",
    "environment.exceedance_detected",
    "alarm.raised",
    "alarm.escalated",
    "incident.opened",
    "incident.task_overdue",
    "incident.closed",
    "warning.published",
)
CRITICAL_WORDS = frozenset({"critical", "extreme", "severe", "emergency"})
TEXT_FIELDS = ("title", "headline", "tracking_code", "code", "station_code", "name")
# Where an event's detail lives, for modules whose payload carries no `url`.
FEED_LINKS = {"citizen_report": "/citizen-reports?q={tracking_code}"}


def feed_event_names(runtime: Runtime) -> list[str]:
    """Return the names of the events the feed shows, among those of the enabled modules."""
    enabled = {m.name for m in runtime.modules}
    return [name for name in FEED_EVENTS if name in DomainEvent.registry and name.split(".", 1)[0] in enabled]


def is_critical(name: str, payload: dict[str, Any]) -> bool:
    """Tell whether an event deserves the wall's attention cue."""
    for field in ("severity", "level", "priority"):
        value = payload.get(field)
        if isinstance(value, str) and value.lower() in CRITICAL_WORDS:
            return True
    return name.endswith((".escalated", ".overdue"))


def event_label(runtime: Runtime, name: str, lang: str) -> str:
    """Return an event's name for people: the dashboard's translation, else module title and verb."""
    key = f"dashboard.event.{name}"
    text = runtime.translator(key, lang)
    if text != key:
        return text
    module, _, verb = name.partition(".")
    manifest = runtime.module(module)
    title = manifest.title(lang) if manifest else module
    return f"{title} · {verb.replace('_', ' ')}"


def _feed_text(payload: dict[str, Any]) -> str:
    parts = [str(payload[f]) for f in TEXT_FIELDS if isinstance(payload.get(f), str | int) and payload.get(f)]
    unit = payload.get("unit_code")
    text = parts[0] if parts else ""
    return f"{text} · {unit}" if unit and text else (text or str(unit or ""))


def _feed_link(name: str, payload: dict[str, Any]) -> str:
    url = payload.get("url")
    if isinstance(url, str) and url.startswith("/") and not url.startswith("//"):
        return url
    template = FEED_LINKS.get(name.split(".", 1)[0])
    if template:
        try:
            return template.format(**payload)
        except (KeyError, IndexError):
            return ""
    return ""


def _audience(name: str) -> str:
    cls = DomainEvent.registry.get(name)
    return cls.audience if cls else "staff"


async def recent_feed(
    session: AsyncSession, runtime: Runtime, principal: Principal | None, lang: str, limit: int = FEED_DEFAULT
) -> list[FeedItem]:
    """Return the newest feed events the caller may see (staff-only events need the live stream's scope)."""
    staff = principal is not None and principal.has("live:read")
    names = [n for n in feed_event_names(runtime) if staff or _audience(n) == "public"]
    rows = await repository.recent_events(session, names, limit)
    return [
        FeedItem(
            id=row.id,
            name=row.name,
            label=event_label(runtime, row.name, lang),
            text=_feed_text(row.payload),
            critical=is_critical(row.name, row.payload),
            occurred_at=row.occurred_at,
            link=_feed_link(row.name, row.payload),
            payload=row.payload if staff else {},
        )
        for row in rows
    ]


# ---------- charts ----------


@dataclass(frozen=True)
class EventChart:
    """A chart counting events per bucket: one series per event name present."""

    key: str
    label_vi: str
    label_en: str
    events: tuple[str, ...]

    def label(self, lang: str) -> str:
        """Return the label in the requested language."""
        return self.label_en if lang == "en" else self.label_vi


EVENT_CHARTS = (
    EventChart("reports", "Phản ánh mới", "New citizen reports", ("citizen_report.submitted",)),
    EventChart(
        "report_outcomes",
        "Phản ánh đã giải quyết và quá hạn",
        "Reports resolved and overdue",
        ("citizen_report.resolved", "citizen_report.overdue"),
    ),
    EventChart("alarms", "Cảnh báo vận hành theo ngày", "Alarms per day", ("alarm.raised", "alarm.escalated")),
    EventChart(
        "exceedances",
        "Vượt ngưỡng môi trường",
        "Environmental exceedances",
        ("environment.exceedance_detected",),
    ),
    EventChart("incidents", "Sự cố mới", "New incidents", ("incident.opened", "incident.created")),
    EventChart("warnings", "Cảnh báo đã phát", "Warnings issued", ("warning.issued", "warning.published")),
)


def _chart_events(chart: EventChart, principal: Principal | None) -> list[str]:
    staff = principal is not None and principal.has("live:read")
    return [n for n in chart.events if n in DomainEvent.registry and (staff or _audience(n) == "public")]


KPI_CHART_PREFIX = "kpi."


def chart_catalogue(
    principal: Principal | None, lang: str, runtime: Runtime | None = None, with_kpis: bool = False
) -> list[ChartRead]:
    """List the charts the caller may see: event counts, and (`with_kpis`) the history of each KPI tile."""
    charts = [ChartRead(key=c.key, label=c.label(lang)) for c in EVENT_CHARTS if _chart_events(c, principal)]
    if with_kpis and runtime is not None:
        charts += [
            ChartRead(key=f"{KPI_CHART_PREFIX}{tile.key}", label=tile.label(lang))
            for _m, tile in visible_tiles(runtime, principal)
        ]
    return charts


async def snapshot_kpis(session: AsyncSession, runtime: Runtime) -> int:
    """Store the current value of every tile of every module (province-wide); return how many were stored."""
    ctx = PictureContext(session=session, principal=SYSTEM, now=utc_now(), lang="vi")
    stored = 0
    for manifest, tile in [(m, t) for m in runtime.modules for t in m.kpis]:
        read = await compute_tile(ctx, manifest, tile)
        if read.error is None:
            repository.add_snapshot(
                session, DashboardKpiSnapshot(tile_key=tile.key, taken_at=ctx.now, value=read.value)
            )
            stored += 1
    return stored


async def _kpi_chart(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal | None,
    key: str,
    range_: ChartRange,
    lang: str,
) -> ChartData | None:
    tile = next((t for _m, t in visible_tiles(runtime, principal) if f"{KPI_CHART_PREFIX}{t.key}" == key), None)
    if tile is None:
        return None
    bucket, starts = _buckets(utc_now(), range_)
    index = {int(s.timestamp()): i for i, s in enumerate(starts)}
    sums: list[float] = [0.0] * len(starts)
    counts: list[int] = [0] * len(starts)
    for taken, value in await repository.snapshots(session, tile.key, starts[0]) if starts else []:
        slot = index.get(int(_bucket_start(taken, bucket).timestamp()))
        if slot is not None and value is not None:
            sums[slot] += value
            counts[slot] += 1
    # The mean of the snapshots in each bucket; a bucket without any stays a gap.
    values: list[float | None] = [round(total / n, 3) if n else None for total, n in zip(sums, counts, strict=True)]
    return ChartData(
        key=key,
        label=tile.label(lang),
        range=range_.value,
        bucket_seconds=int(bucket.total_seconds()),
        times=list(index),
        series=[ChartSeries(label=tile.label(lang), values=values)],
    )


def _bucket_start(moment: datetime, bucket: timedelta) -> datetime:
    local = moment.astimezone(PROVINCE_TZ)
    if bucket >= timedelta(days=1):
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        local = local.replace(minute=0, second=0, microsecond=0)
    return local


def _buckets(now: datetime, range_: ChartRange) -> tuple[timedelta, list[datetime]]:
    bucket = RANGE_BUCKET[range_]
    cursor = _bucket_start(now - RANGE_SPAN[range_], bucket) + bucket
    starts: list[datetime] = []
    while cursor <= now:
        starts.append(cursor)
        # Vietnam has no daylight saving time: adding a day to a local midnight lands on the next midnight.
        cursor = cursor + bucket
    return bucket, starts


async def charts_data(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal | None,
    range_: ChartRange,
    lang: str,
    unit_code: str | None = None,
    keys: Sequence[str] | None = None,
) -> list[ChartData]:
    """Count the charts' events per hour (24 h) or per day in the province's time zone, in one query."""
    charts = [(c, _chart_events(c, principal)) for c in EVENT_CHARTS if keys is None or c.key in keys]
    charts = [(c, names) for c, names in charts if names]
    bucket, starts = _buckets(utc_now(), range_)
    index = {int(s.timestamp()): i for i, s in enumerate(starts)}
    wanted = sorted({name for _c, names in charts for name in names})
    times = await repository.event_times(session, wanted, starts[0], unit_code) if starts else {}
    answers: list[ChartData] = []
    for chart, names in charts:
        series: list[ChartSeries] = []
        for name in names:
            values: list[float | None] = [0.0] * len(starts)
            for moment in times.get(name, []):
                slot = index.get(int(_bucket_start(moment, bucket).timestamp()))
                if slot is not None:
                    values[slot] = (values[slot] or 0.0) + 1
            series.append(ChartSeries(label=event_label(runtime, name, lang), values=values))
        answers.append(
            ChartData(
                key=chart.key,
                label=chart.label(lang),
                range=range_.value,
                bucket_seconds=int(bucket.total_seconds()),
                times=list(index),
                series=series,
            )
        )
    for key in keys or []:
        if key.startswith(KPI_CHART_PREFIX) and unit_code is None:
            kpi = await _kpi_chart(session, runtime, principal, key, range_, lang)
            if kpi is not None:
                answers.append(kpi)
    return answers


async def chart_data(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal | None,
    key: str,
    range_: ChartRange,
    lang: str,
    unit_code: str | None = None,
) -> ChartData:
    """Count one chart's events per hour (24 h) or per day."""
    if key.startswith(KPI_CHART_PREFIX):
        # Snapshots are province-wide: a drill-down has no history of its own.
        kpi = None if unit_code else await _kpi_chart(session, runtime, principal, key, range_, lang)
        if kpi is None:
            raise ChartNotFound(key)
        return kpi
    found = await charts_data(session, runtime, principal, range_, lang, unit_code, [key])
    if not found:
        raise ChartNotFound(key)
    return found[0]


# ---------- wall layouts ----------


def default_layout(runtime: Runtime, principal: Principal | None) -> WallLayout:
    """Return the layout a wall shows before anyone saved one: the picture, then the charts."""
    charts = chart_catalogue(principal, "vi")
    first = WallScreen(
        title="",
        columns=3,
        cells=[
            WallCell(kind=CellKind.KPIS, span=3),
            WallCell(kind=CellKind.MAP, span=2, rows=2),
            WallCell(kind=CellKind.FEED, span=1, rows=2),
        ],
    )
    screens = [first]
    if charts:
        screens.append(
            WallScreen(
                title="",
                columns=2,
                cells=[WallCell(kind=CellKind.KPIS, span=2)]
                + [WallCell(kind=CellKind.CHART, key=c.key, span=1) for c in charts[:4]],
            )
        )
    return WallLayout(screens=screens)


def check_layout(runtime: Runtime, layout: WallLayout) -> None:
    """Refuse a layout that names a tile or chart no enabled module offers."""
    tiles = {tile.key for m in runtime.modules for tile in m.kpis}
    charts = {c.key for c in EVENT_CHARTS} | {f"{KPI_CHART_PREFIX}{key}" for key in tiles}
    for screen_no, screen in enumerate(layout.screens, start=1):
        for cell in screen.cells:
            if cell.kind is CellKind.KPI and cell.key not in tiles:
                raise LayoutInvalid(screen_no, cell.key)
            if cell.kind is CellKind.CHART and cell.key not in charts:
                raise LayoutInvalid(screen_no, cell.key)


def _layout_read(row: DashboardWallLayout) -> WallLayoutRead:
    return WallLayoutRead(
        wall=row.wall,
        role=row.role,
        saved=True,
        layout=WallLayout.model_validate(row.layout),
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


async def effective_layout(
    session: AsyncSession, runtime: Runtime, principal: Principal | None, wall: str, role: str | None
) -> WallLayoutRead:
    """Return the layout for a wall and role: the role's own, else the wall's, else the default."""
    for candidate in dict.fromkeys([role or ANY_ROLE, ANY_ROLE]):
        row = await repository.get_layout(session, wall, candidate)
        if row is not None:
            return _layout_read(row)
    return WallLayoutRead(wall=wall, role=role or ANY_ROLE, saved=False, layout=default_layout(runtime, principal))


async def save_layout(
    session: AsyncSession, runtime: Runtime, actor: Principal, wall: str, role: str, layout: WallLayout
) -> WallLayoutRead:
    """Save a wall's layout for a role (or every role); the caller commits."""
    check_layout(runtime, layout)
    data = layout.model_dump(mode="json")
    row = await repository.get_layout(session, wall, role)
    if row is None:
        row = DashboardWallLayout(wall=wall, role=role, layout=data, updated_by=actor.name)
        repository.add_layout(session, row)
    else:
        row.layout = data
        row.updated_by = actor.name
        row.updated_at = utc_now()
    await session.flush()
    return _layout_read(row)


async def reset_layout(session: AsyncSession, wall: str, role: str) -> bool:
    """Forget a saved layout, so that the wall falls back; tell whether there was one."""
    row = await repository.get_layout(session, wall, role)
    if row is None:
        return False
    await repository.delete_layout(session, row)
    return True


async def list_walls(session: AsyncSession) -> list[WallSummary]:
    """List the saved layouts."""
    return [
        WallSummary(wall=row.wall, role=row.role, screens=len(row.layout.get("screens", [])), updated_at=row.updated_at)
        for row in await repository.list_layouts(session)
    ]


def role_names() -> list[str]:
    """Return the roles a layout can be saved for (staff roles; '' is every role)."""
    return [r.value for r in Role if r is not Role.CITIZEN]
