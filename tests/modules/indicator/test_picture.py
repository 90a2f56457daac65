"""The statistics tile of the operations picture: reports received on time across every data set."""

from __future__ import annotations

from datetime import UTC, datetime

from ioc.core.module import PictureContext
from ioc.core.runtime import Runtime
from ioc.modules.indicator import repository, service
from ioc.modules.indicator.periods import PeriodType, period_containing
from ioc.modules.indicator.picture import reports_on_time

from .conftest import COMMUNE, World
from .test_service import run_import, tthc

# Two days after November ends: November is the last finished month and its 5-day deadline is still ahead.
NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
MONTH = "202611"


async def _tile(runtime: Runtime, unit_code: str | None = None) -> tuple[float | None, float | None, str]:
    async with runtime.db.session() as session:
        value = await reports_on_time(PictureContext(session=session, principal=None, now=NOW, unit_code=unit_code))
    return value.value, value.previous, value.status


async def test_the_tile_counts_reports_on_time_against_every_expected_report(runtime: Runtime, world: World) -> None:
    # Reporters are assigned and nothing has come in: nobody reported, for this period or the one before.
    assert await _tile(runtime) == (0.0, 0.0, "critical")
    assert (await _tile(runtime, COMMUNE))[0] is None  # reports are expected per agency, not per commune

    summary = await run_import(runtime, tthc(COMMUNE, MONTH), world.staff, check_calendar=False)
    assert summary.refused == 0
    async with runtime.db.transaction() as session:
        catalog = await repository.load_catalog(session)
        key = service.report_key(catalog, "TTHC_MONTHLY", MONTH, COMMUNE, None, world.staff)
        await service.transition(session, catalog, key, "submit", world.staff)
    async with runtime.db.session() as session:
        catalog = await repository.load_catalog(session)
        today = NOW.date()
        expected = 0
        for data_set in catalog.data_sets.values():
            period = period_containing(PeriodType(data_set.period_type), today).previous()
            expected += (await service.completeness(session, catalog, data_set, period, today=today))[0].expected
    value, previous, status = await _tile(runtime)
    assert value == round(100 / expected, 1)  # the one report, submitted before its deadline
    assert previous == 0.0
    assert status == "critical"
