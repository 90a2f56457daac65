"""The leaders' headline figures for the operations picture: dossiers resolved on time and key indicator trends.

Both read the analytics engine the pivot and the pack overviews use, for the province (or a drill-down's
unit), so that the picture shows the same number as the statistics pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from functools import cache
from itertools import zip_longest

from ioc.core.module import ChartLine, ChartPlot, ChartSource, ChartWindow, KpiTile, KpiValue, PictureContext
from ioc.core.time import PROVINCE_TZ, to_local

from . import analytics, repository, service
from .constants import PAGE_PATH, SCOPE_READ
from .periods import Period, PeriodType, period_containing
from .picture import CRITICAL_BELOW, WARNING_BELOW

PROVINCE_CODE = "80"  # Tây Ninh, as the pack overviews read it
TTHC_PACK = "tthc"
# Resolved early or on time over all resolved (tthc pack; Decision 766/QĐ-TTg, statistics.md §6-7).
ON_TIME_INDICATOR = "TTHC_ONTIME_RATE"
# How far back the tile looks for the latest month whose dossier figures came in.
TILE_MONTHS = 12
# Monthly statistics are drawn over at least this many finished months, whatever the picker's range:
# a day or a week of a monthly figure would be a single point.
MIN_MONTHS = 6
# One line per colour of the chart palette.
MAX_LINES = 5
PERCENT = "%"
MONTH = timedelta(days=30)


@cache
def key_rates() -> tuple[str, ...]:
    """Return the packs' headline indicators (their overviews) that are rates in percent, one pack after another.

    Taken in turns (each pack's first rate, then each pack's second...), so that the few lines a chart holds
    show every sector rather than the first pack's rates only.
    """
    per_pack: list[list[str]] = []
    for pack in service.pack_files().values():
        units = {i["code"]: i.get("unit_label", "") for i in pack.get("indicators", [])}
        per_pack.append([code for code in pack.get("overview", []) if units.get(code) == PERCENT])
    return tuple(code for turn in zip_longest(*per_pack) for code in turn if code is not None)


async def _monthly(ctx: PictureContext, codes: Sequence[str], months: Sequence[Period]) -> dict[str, dict[str, float]]:
    """Return each indicator's value per month for the province or the drill-down's unit, as the overview does."""
    catalog = await repository.load_catalog(ctx.session)
    indicators = await repository.indicators(ctx.session)
    known = {i.code for i in indicators}
    wanted = [code for code in codes if code in known]
    unit = catalog.current_unit(ctx.unit_code or PROVINCE_CODE)
    if unit is None or not wanted or not months:
        return {}
    query = analytics.parse_query(
        catalog,
        indicators,
        [f"dx:{';'.join(wanted)}", f"pe:{';'.join(m.iso for m in months)}", f"ou:{unit.code}"],
        [],
        remap=True,
        today=to_local(ctx.now).date(),
    )
    series: dict[str, dict[str, float]] = {}
    for dx, pe, _ou, value in (await analytics.run(ctx.session, catalog, query)).rows:
        series.setdefault(dx, {})[pe] = float(value)
    return series


def _last_month(ctx: PictureContext) -> Period:
    """Return the latest finished month."""
    return period_containing(PeriodType.MONTHLY, to_local(ctx.now).date()).previous()


async def dossiers_on_time(ctx: PictureContext) -> KpiValue:
    """Share of dossiers resolved on time in the latest month with figures, against the month before it."""
    last = _last_month(ctx)
    months = [last.shift(-i) for i in range(TILE_MONTHS - 1, -1, -1)]
    values = (await _monthly(ctx, [ON_TIME_INDICATOR], months)).get(ON_TIME_INDICATOR, {})
    reported = [i for i, month in enumerate(months) if month.iso in values]
    if not reported:
        return KpiValue(value=None, unit=PERCENT)
    latest = reported[-1]
    value = values[months[latest].iso]
    previous = values.get(months[latest - 1].iso) if latest else None
    status = "critical" if value < CRITICAL_BELOW else ("warning" if value < WARNING_BELOW else "good")
    return KpiValue(value=value, previous=previous, unit=PERCENT, status=status)


def _months_of(ctx: PictureContext, window: ChartWindow) -> list[Period]:
    """Return the finished months the window touches, at least the last MIN_MONTHS of them, oldest first."""
    first = period_containing(PeriodType.MONTHLY, to_local(window.since).date())
    months = [_last_month(ctx)]
    while len(months) < MIN_MONTHS or months[0].start > first.start:
        months.insert(0, months[0].previous())
    return months


async def key_rates_trend(ctx: PictureContext, window: ChartWindow) -> ChartPlot:
    """The packs' headline rates per month (those with figures), for the province or the drill-down's unit."""
    months = _months_of(ctx, window)
    series = await _monthly(ctx, key_rates(), months)
    indicators = {i.code: i for i in await repository.indicators(ctx.session)}
    lines: list[ChartLine] = []
    for code in key_rates():
        points = series.get(code)
        if not points or code not in indicators:
            continue
        name = indicators[code].name_en if ctx.lang == "en" else indicators[code].name
        lines.append(ChartLine(name, [points.get(m.iso) for m in months]))
    return ChartPlot(
        lines=lines[:MAX_LINES],
        times=tuple(datetime.combine(m.start, time(0), tzinfo=PROVINCE_TZ) for m in months),
        bucket=MONTH,
    )


TILES = (
    KpiTile(
        key="indicator.dossiers_on_time",
        label_vi="Hồ sơ TTHC giải quyết đúng hạn",
        label_en="Dossiers resolved on time",
        compute=dossiers_on_time,
        link=f"{PAGE_PATH}/overview/{TTHC_PACK}",
        scope=SCOPE_READ,
        order=55,
    ),
)

CHARTS = (
    ChartSource(
        key="indicator.key_rates",
        label_vi="Chỉ tiêu chủ yếu theo tháng",
        label_en="Key indicators by month",
        plot=key_rates_trend,
        unit=PERCENT,
        link=PAGE_PATH,
        scope=SCOPE_READ,
        order=40,
    ),
)
