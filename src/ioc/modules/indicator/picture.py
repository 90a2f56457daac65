"""What the statistics module offers the operations picture: how completely and punctually agencies report."""

from __future__ import annotations

from ioc.core.module import KpiTile, KpiValue, PictureContext
from ioc.core.time import to_local

from . import repository, service
from .constants import PAGE_PATH, SCOPE_READ
from .periods import PeriodType, period_containing

# Below this share of reports received on time the tile turns amber, below the second red (the overview
# highlights data sets under 80 % the same way).
WARNING_BELOW = 80.0
CRITICAL_BELOW = 50.0


async def reports_on_time(ctx: PictureContext) -> KpiValue:
    """Share of the reports expected for every data set's last finished period that came in on time.

    The previous figure is the same share one period earlier, so the tile's trend says whether agencies are
    catching up. Reports are expected per agency and reporting unit, not per commune of a drill-down, so a
    commune's picture shows no figure rather than a misleading one.
    """
    if ctx.unit_code is not None:
        return KpiValue(value=None, unit="%")
    catalog = await repository.load_catalog(ctx.session)
    today = to_local(ctx.now).date()
    latest = [0, 0]  # on time, expected
    before = [0, 0]
    for data_set in catalog.data_sets.values():
        last = period_containing(PeriodType(data_set.period_type), today).previous()
        for totals, period in ((latest, last), (before, last.previous())):
            overall = (await service.completeness(ctx.session, catalog, data_set, period, today=today))[0]
            totals[0] += overall.on_time
            totals[1] += overall.expected
    value = round(latest[0] * 100 / latest[1], 1) if latest[1] else None
    previous = round(before[0] * 100 / before[1], 1) if before[1] else None
    status = "normal"
    if value is not None:
        status = "critical" if value < CRITICAL_BELOW else ("warning" if value < WARNING_BELOW else "good")
    return KpiValue(value=value, previous=previous, unit="%", status=status)


KPIS = (
    KpiTile(
        key="indicator.reports_on_time",
        label_vi="Báo cáo thống kê đúng hạn",
        label_en="Statistical reports on time",
        compute=reports_on_time,
        link=PAGE_PATH,
        scope=SCOPE_READ,
        order=60,
    ),
)
