"""Business rules of the `dashboard` module: the operations picture assembled from the modules' manifests.

The dashboard imports no service module: KPI tiles, map layers and module charts come from `Manifest.kpis`,
`Manifest.map_layers` and `Manifest.charts` of whatever modules are enabled, the feed and the event charts
from the outbox.
No HTTP and no commit here (the router commits).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.events import DomainEvent
from ioc.core.live import LiveMessage
from ioc.core.logging import OutageLog
from ioc.core.module import (
    ChartPlot,
    ChartSource,
    ChartWindow,
    FeedEntry,
    KpiTile,
    KpiValue,
    Manifest,
    MapLayer,
    PictureContext,
)
from ioc.core.runtime import Runtime
from ioc.core.security import SYSTEM, Principal, Role
from ioc.core.time import PROVINCE_TZ, utc_now

from . import cache as picture_cache
from . import clustering, repository
from .cache import PictureCache, viewer_key
from .constants import (
    ANY_ROLE,
    API_PREFIX,
    FEED_DEFAULT,
    FEED_SCOPE_FACTOR,
    RANGE_BUCKET,
    RANGE_SPAN,
    SNAPSHOT_TREND_SPAN,
    SNAPSHOT_TREND_TOLERANCE,
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
    UnitHistory,
    UnitHistoryRow,
    WallCell,
    WallLayout,
    WallLayoutRead,
    WallScreen,
    WallSummary,
)

log = logging.getLogger(__name__)
_TILE_OUTAGE = OutageLog(log, "dashboard tiles")

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


def visible_charts(runtime: Runtime, principal: Principal | None) -> list[tuple[Manifest, ChartSource]]:
    """Return the charts the enabled modules offer that the caller may see, in display order."""
    charts = [(m, chart) for m in runtime.modules for chart in m.charts if _may_see(chart.scope, principal)]
    return sorted(charts, key=lambda pair: (pair[1].order, pair[1].key))


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


async def _tile_value(ctx: PictureContext, tile: KpiTile) -> KpiValue:
    # A savepoint: on PostgreSQL a failed statement would otherwise poison the whole session.
    async with ctx.session.begin_nested():
        return await tile.compute(ctx)


async def compute_tile(
    ctx: PictureContext, manifest: Manifest, tile: KpiTile, cache: PictureCache | None = None, mark: int = 0
) -> KpiTileRead:
    """Compute one tile (or reuse it from `cache`); a failure becomes the tile's error state, never the caller's."""
    read = _tile_read(manifest, tile, ctx.lang)
    try:
        if cache is None:
            value = await _tile_value(ctx, tile)
        else:
            key = ("tile", tile.key, ctx.unit_code, ctx.lang, viewer_key(ctx.principal), mark)
            value = await cache.get(key, lambda: _tile_value(ctx, tile))
    except Exception as exc:
        # A lost database is logged once per outage, not once per tile of every page.
        _TILE_OUTAGE.failed(exc, "KPI tile failed", tile=tile.key)
        return read.model_copy(update={"error": _error_text(ctx.lang)})
    _TILE_OUTAGE.succeeded()
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
    """Compute every tile the caller may see, reusing what the same picture computed moments ago."""
    now = utc_now()
    wanted = set(keys) if keys else None
    chosen = [(m, tile) for m, tile in visible_tiles(runtime, principal) if wanted is None or tile.key in wanted]

    cache, mark = picture_cache.for_runtime(runtime), await repository.latest_event_id(session)

    # One after the other in the request's session: a session is not safe for concurrent use, and on SQLite
    # every transaction takes the write lock, so sessions of their own would only queue behind each other.
    ctx = PictureContext(session=session, principal=principal, now=now, lang=lang, unit_code=unit_code)
    tiles = [await compute_tile(ctx, manifest, tile, cache, mark) for manifest, tile in chosen]
    if unit_code is None:  # snapshots are province-wide
        tiles = await _trend_from_snapshots(session, tiles, now)
    return KpiBoard(computed_at=now, unit_code=unit_code, tiles=tiles)


async def _trend_from_snapshots(session: AsyncSession, tiles: list[KpiTileRead], now: datetime) -> list[KpiTileRead]:
    """Compare the tiles that bring no previous figure with their snapshot of a day earlier."""
    lacking = [t.key for t in tiles if t.error is None and t.value is not None and t.previous is None]
    if not lacking:
        return tiles
    target = now - SNAPSHOT_TREND_SPAN
    nearest: dict[str, tuple[datetime, float]] = {}
    window = await repository.snapshots_between(
        session, lacking, target - SNAPSHOT_TREND_TOLERANCE, target + SNAPSHOT_TREND_TOLERANCE
    )
    for key, taken, value in window:
        best = nearest.get(key)
        if value is not None and (best is None or abs(taken - target) < abs(best[0] - target)):
            nearest[key] = (taken, value)
    answers: list[KpiTileRead] = []
    for tile in tiles:
        found = nearest.get(tile.key)
        if found is None:
            answers.append(tile)
            continue
        trend, change = trend_of(KpiValue(value=tile.value, previous=found[1]))
        update = {"previous": found[1], "previous_at": found[0], "trend": trend, "change": change}
        answers.append(tile.model_copy(update=update))
    return answers


# ---------- map layers ----------


def _layer_url(key: str, unit_code: str | None) -> str:
    url = f"/api/v1{API_PREFIX}/layers/{key}"
    return f"{url}?unit={unit_code}" if unit_code else url


async def _compute_features(ctx: PictureContext, layer: MapLayer) -> clustering.PreparedLayer:
    async with ctx.session.begin_nested():
        collection = await layer.features(ctx)
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise TypeError(f"layer {layer.key} did not answer a FeatureCollection")
    # Read once (positions, weights, total) for the catalogue's count and every zoom's clustering.
    return clustering.prepare(collection)


async def _features(ctx: PictureContext, layer: MapLayer, cache: PictureCache, mark: int) -> clustering.PreparedLayer:
    """Return a layer's features, shared with the catalogue and other viewers of the same picture."""
    key = ("layer", layer.key, ctx.unit_code, ctx.lang, viewer_key(ctx.principal), mark)
    return await cache.get(key, lambda: _compute_features(ctx, layer))


async def layer_catalogue(
    session: AsyncSession, runtime: Runtime, principal: Principal | None, lang: str, unit_code: str | None = None
) -> LayerCatalogue:
    """List the layers the caller may see with their counts; a failing layer shows its error, not a 500."""
    now = utc_now()
    cache, mark = picture_cache.for_runtime(runtime), await repository.latest_event_id(session)

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
            read.count = (await _features(ctx, layer, cache, mark)).count
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
    cache, mark = picture_cache.for_runtime(runtime), await repository.latest_event_id(session)
    layer = found[1]
    try:
        prepared = await _features(ctx, layer, cache, mark)
    except Exception as exc:
        log.exception("map layer failed", extra={"layer": key})
        raise LayerFailed(key) from exc

    async def answer() -> dict[str, Any]:
        clustered = clustering.cluster_prepared(prepared, zoom)
        if layer.link:
            clustered = {**clustered, "features": [_with_link(f, layer.link) for f in clustered.get("features") or []]}
        # The total travels with the layer (GeoJSON foreign members), so that a map needs no second request, and
        # `by_zoom` tells the map whether zooming changes the answer (few points are never clustered).
        return {**clustered, "count": prepared.count, "by_zoom": prepared.by_zoom()}

    return await cache.get(("answer", key, unit_code, lang, viewer_key(principal), mark, zoom), answer)


def _with_link(feature: Any, template: str) -> Any:
    """Give a feature without a `url` the layer's detail link (new dicts: the cached collection stays as is)."""
    properties = feature.get("properties") if isinstance(feature, dict) else None
    if not isinstance(properties, dict) or properties.get("cluster") or properties.get("url"):
        return feature
    values = {key: quote(str(value), safe="") for key, value in properties.items()}
    try:
        url = _safe_path(template.format(**values))
    except (KeyError, IndexError, ValueError):
        return feature
    return {**feature, "properties": {**properties, "url": url}} if url else feature


# ---------- the live feed ----------


TEXT_FIELDS = ("title", "headline", "tracking_code", "code", "station_code", "name")


def feed_entries(runtime: Runtime) -> dict[str, FeedEntry]:
    """Return the feed entries of the enabled modules whose event is registered, by event name (first wins)."""
    entries: dict[str, FeedEntry] = {}
    for manifest in runtime.modules:
        for entry in manifest.feed:
            if entry.event in DomainEvent.registry:
                entries.setdefault(entry.event, entry)
    return entries


def feed_event_names(runtime: Runtime) -> list[str]:
    """Return the names of the events the feed shows, among those of the enabled modules."""
    return list(feed_entries(runtime))


def feed_audience(entry: FeedEntry) -> str:
    """Return who may see an entry: public only when both the event and the entry say so."""
    cls = DomainEvent.registry.get(entry.event)
    event_audience = cls.audience if cls else "staff"
    return "public" if event_audience == "public" and entry.audience in (None, "public") else "staff"


def is_critical(entry: FeedEntry, payload: dict[str, Any]) -> bool:
    """Tell whether an event deserves the wall's attention cue, by its module's feed entry."""
    if entry.critical:
        return True
    value = payload.get(entry.severity_field) if entry.severity_field else None
    return isinstance(value, str) and value.lower() in {v.lower() for v in entry.critical_values}


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


def _safe_path(url: object) -> str:
    return url if isinstance(url, str) and url.startswith("/") and not url.startswith("//") else ""


def feed_link(entry: FeedEntry, payload: dict[str, Any]) -> str:
    """Return where an event's detail lives: the payload's own `url`, else the entry's template filled."""
    own = _safe_path(payload.get("url"))
    if own or not entry.link:
        return own
    try:
        values = {key: quote(str(value), safe="") for key, value in payload.items()}
        return _safe_path(entry.link.format(**values))
    except (KeyError, IndexError, ValueError):
        return ""


def feed_client_config(runtime: Runtime) -> dict[str, dict[str, Any]]:
    """Return what the browser needs to show live events as the server does: link, critical rule."""
    return {
        name: {
            "link": entry.link,
            "critical": entry.critical,
            "field": entry.severity_field,
            "values": [v.lower() for v in entry.critical_values],
        }
        for name, entry in feed_entries(runtime).items()
    }


def touches_unit(payload: dict[str, Any], codes: set[str]) -> bool:
    """Tell whether an event concerns one of these units (its `unit_code`, or one of its `unit_codes`)."""
    if payload.get("unit_code") in codes:
        return True
    listed = payload.get("unit_codes")
    return isinstance(listed, list) and any(code in codes for code in listed)


async def recent_feed(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal | None,
    lang: str,
    limit: int = FEED_DEFAULT,
    unit_code: str | None = None,
) -> list[FeedItem]:
    """Return the newest feed events the caller may see (staff-only events need the live stream's scope)."""
    staff = principal is not None and principal.has("live:read")
    entries = {n: e for n, e in feed_entries(runtime).items() if staff or feed_audience(e) == "public"}
    viewer = await runtime.live.viewer(principal) if staff and principal is not None else None
    if viewer is None or viewer.province_wide:
        rows = await repository.recent_events(session, list(entries), limit, unit_code)
    else:
        # The live stream's rule: agency staff see their agency's events, not another agency's restricted ones.
        rows = await repository.recent_events(session, list(entries), limit * FEED_SCOPE_FACTOR, unit_code)
        rows = [r for r in rows if viewer.sees(LiveMessage(r.id, r.name, r.payload, r.occurred_at))][:limit]
    return [
        FeedItem(
            id=row.id,
            name=row.name,
            label=event_label(runtime, row.name, lang),
            text=_feed_text(row.payload),
            critical=is_critical(entries[row.name], row.payload),
            occurred_at=row.occurred_at,
            link=feed_link(entries[row.name], row.payload),
            payload=row.payload if staff else {},
        )
        for row in rows
    ]


def _audience(name: str) -> str:
    cls = DomainEvent.registry.get(name)
    return cls.audience if cls else "staff"


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
    """List the charts the caller may see: the modules' charts, event counts and (`with_kpis`) each tile's history."""
    charts: list[ChartRead] = []
    if runtime is not None:
        charts += [
            ChartRead(key=c.key, label=c.label(lang), module=m.name, unit=c.unit, link=c.link)
            for m, c in visible_charts(runtime, principal)
        ]
    charts += [ChartRead(key=c.key, label=c.label(lang)) for c in EVENT_CHARTS if _chart_events(c, principal)]
    if with_kpis and runtime is not None:
        charts += [
            ChartRead(key=f"{KPI_CHART_PREFIX}{tile.key}", label=tile.label(lang), module=m.name, link=tile.link)
            for m, tile in visible_tiles(runtime, principal)
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


def chart_window(now: datetime, range_: ChartRange) -> ChartWindow:
    """Return the buckets a chart of this range is drawn over (hours for a day, else days), ending now."""
    bucket, starts = _buckets(now, range_)
    return ChartWindow(range=range_.value, bucket=bucket, starts=tuple(starts), until=now)


async def _plot(ctx: PictureContext, source: ChartSource, window: ChartWindow) -> ChartPlot:
    # A savepoint, as for the tiles: a failing chart must not poison the session the other charts use.
    async with ctx.session.begin_nested():
        plot = await source.plot(ctx, window)
    points = len(plot.times) if plot.times is not None else len(window.starts)
    if any(len(line.values) != points for line in plot.lines):
        raise ValueError(f"chart {source.key} answered lines of another length than its {points} points")
    return plot


async def module_chart(
    ctx: PictureContext,
    manifest: Manifest,
    source: ChartSource,
    window: ChartWindow,
    cache: PictureCache | None = None,
    mark: int = 0,
) -> ChartData:
    """Draw one module's chart (or reuse it from `cache`); a failure becomes the chart's error state."""
    bucket_seconds = int(window.bucket.total_seconds())
    data = ChartData(
        key=source.key,
        label=source.label(ctx.lang),
        range=window.range,
        bucket_seconds=bucket_seconds,
        times=[int(start.timestamp()) for start in window.starts],
        series=[],
        unit=source.unit,
        link=source.link,
    )
    try:
        if cache is None:
            plot = await _plot(ctx, source, window)
        else:
            key = ("chart", source.key, window.range, ctx.unit_code, ctx.lang, viewer_key(ctx.principal), mark)
            plot = await cache.get(key, lambda: _plot(ctx, source, window))
    except Exception:
        log.exception("chart failed", extra={"chart": source.key, "chart_module": manifest.name})
        return data.model_copy(update={"error": _error_text(ctx.lang)})
    series = [ChartSeries(label=line.label, values=list(line.values)) for line in plot.lines]
    update: dict[str, Any] = {"series": series}
    if plot.times is not None:
        update["times"] = [int(moment.timestamp()) for moment in plot.times]
        update["bucket_seconds"] = int((plot.bucket or window.bucket).total_seconds())
    return data.model_copy(update=update)


async def charts_data(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal | None,
    range_: ChartRange,
    lang: str,
    unit_code: str | None = None,
    keys: Sequence[str] | None = None,
) -> list[ChartData]:
    """Draw every chart the caller may see (or only `keys`): the modules' charts, then the event counts.

    Events are counted per hour (24 h) or per day in the province's time zone, in one query.
    """
    now = utc_now()
    answers: list[ChartData] = []
    sources = [(m, c) for m, c in visible_charts(runtime, principal) if keys is None or c.key in keys]
    if sources:
        window = chart_window(now, range_)
        cache, mark = picture_cache.for_runtime(runtime), await repository.latest_event_id(session)
        ctx = PictureContext(session=session, principal=principal, now=now, lang=lang, unit_code=unit_code)
        # One after the other in the request's session, for the same reason as the tiles.
        answers += [await module_chart(ctx, m, source, window, cache, mark) for m, source in sources]
    charts = [(c, _chart_events(c, principal)) for c in EVENT_CHARTS if keys is None or c.key in keys]
    charts = [(c, names) for c, names in charts if names]
    bucket, starts = _buckets(now, range_)
    index = {int(s.timestamp()): i for i, s in enumerate(starts)}
    wanted = sorted({name for _c, names in charts for name in names})
    times = await repository.event_times(session, wanted, starts[0], unit_code) if starts and wanted else {}
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
    """Draw one chart: a module's, an event count per hour or day, or a tile's history."""
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


# ---------- unit history (drill-down) ----------

# The stations' index events: their `value` per unit gives the index trend of a drill-down.
INDEX_EVENT = "environment.index_computed"


def _is_staff(principal: Principal | None) -> bool:
    return principal is not None and principal.has("live:read")


def history_event_names(runtime: Runtime, principal: Principal | None) -> list[str]:
    """Return the events a unit's history counts: the modules' feed events and the charts' events, by module."""
    staff = _is_staff(principal)
    entries = feed_entries(runtime)
    order = {m.name: i for i, m in enumerate(runtime.modules)}
    candidates = [*entries, *(n for chart in EVENT_CHARTS for n in chart.events)]
    names: list[str] = []
    for name in dict.fromkeys(candidates):
        if name not in DomainEvent.registry or name.split(".", 1)[0] not in order:
            continue
        audience = feed_audience(entries[name]) if name in entries else _audience(name)
        if staff or audience == "public":
            names.append(name)
    # Stable sort: each module's events stay in the order its manifest lists them.
    return sorted(names, key=lambda n: order[n.split(".", 1)[0]])


def _index_chart(
    events: list[tuple[datetime, dict[str, Any]]], range_: ChartRange, now: datetime, lang: str
) -> ChartData | None:
    """Average the unit's station index values per bucket, one series per standard (VN_AQI, VN_WQI...)."""
    bucket, starts = _buckets(now, range_)
    index = {int(st.timestamp()): i for i, st in enumerate(starts)}
    sums: dict[str, list[float]] = {}
    counts: dict[str, list[int]] = {}
    for occurred, payload in events:
        standard, value = payload.get("standard"), payload.get("value")
        if not isinstance(standard, str) or not isinstance(value, int | float) or payload.get("period") == "day":
            continue
        moment = payload.get("computed_for")
        when = datetime.fromisoformat(moment) if isinstance(moment, str) else occurred
        slot = index.get(int(_bucket_start(when, bucket).timestamp()))
        if slot is None:
            continue
        sums.setdefault(standard, [0.0] * len(starts))[slot] += float(value)
        counts.setdefault(standard, [0] * len(starts))[slot] += 1
    if not sums:
        return None
    series: list[ChartSeries] = []
    for standard in sorted(sums):
        # An index event is recorded only when the value changes: a bucket without one keeps the last value.
        values: list[float | None] = []
        last: float | None = None
        for total, n in zip(sums[standard], counts[standard], strict=True):
            last = round(total / n, 1) if n else last
            values.append(last)
        series.append(ChartSeries(label=standard, values=values))
    label = "Station index (mean of the unit's stations)" if lang == "en" else "Chỉ số trạm (trung bình các trạm)"
    return ChartData(
        key="unit.index",
        label=label,
        range=range_.value,
        bucket_seconds=int(bucket.total_seconds()),
        times=list(index),
        series=series,
    )


async def unit_history(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal | None,
    unit_code: str,
    range_: ChartRange,
    lang: str,
    area_codes: Sequence[str] = (),
) -> UnitHistory:
    """Count what happened in a unit over a range and the range before it; add the station index trend."""
    now = utc_now()
    span = RANGE_SPAN[range_]
    since = now - span
    names = history_event_names(runtime, principal)
    current = await repository.unit_event_counts(session, names, since, now, unit_code, area_codes)
    before = await repository.unit_event_counts(session, names, since - span, since, unit_code, area_codes)
    rows: list[UnitHistoryRow] = []
    for name in names:
        count, previous = current.get(name, 0), before.get(name, 0)
        trend, _change = trend_of(KpiValue(value=float(count), previous=float(previous)))
        rows.append(
            UnitHistoryRow(
                name=name,
                module=name.split(".", 1)[0],
                label=event_label(runtime, name, lang),
                count=count,
                previous=previous,
                trend=trend,
                change=count - previous,
            )
        )
    chart = None
    index_on = INDEX_EVENT in DomainEvent.registry and runtime.module(INDEX_EVENT.split(".", 1)[0]) is not None
    if index_on and (_is_staff(principal) or _audience(INDEX_EVENT) == "public"):
        events = await repository.unit_event_payloads(session, INDEX_EVENT, since, unit_code)
        chart = _index_chart(events, range_, now, lang)
    return UnitHistory(unit_code=unit_code, range=range_.value, since=since, until=now, rows=rows, index=chart)


# ---------- wall layouts ----------


def default_layout(runtime: Runtime, principal: Principal | None) -> WallLayout:
    """Return the layout a wall shows before anyone saved one: the picture, then the charts."""
    charts = chart_catalogue(principal, "vi", runtime)
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
    charts |= {chart.key for m in runtime.modules for chart in m.charts}
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
