"""The chart query: one statement that carries the datastream's label, and the same answer as the rollups."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from ioc.core.runtime import Runtime
from ioc.core.time import utc_now
from ioc.modules.telemetry import Resolution, repository, service
from ioc.modules.telemetry.exceptions import DatastreamNotFound, InvalidPeriod

from .conftest import DeviceFactory
from .test_service import pm25_id, rollup, send


async def test_a_30_day_chart_is_the_hourly_rollups_with_the_datastreams_key_and_unit(
    runtime: Runtime, make_device: DeviceFactory
) -> None:
    stream = await pm25_id(make_device)
    end = utc_now().replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=30)
    # Two readings every six hours for 30 days, so that buckets have counts, minimums and maximums.
    readings = [
        (start + timedelta(hours=h, minutes=m), float(h % 50 + m)) for h in range(0, 30 * 24, 6) for m in (5, 35)
    ]
    await send(runtime, readings)
    while await rollup(runtime):
        pass
    async with runtime.db.session() as session:
        chart = await service.series(session, stream, start, end)
        rows = await repository.hourly_series(session, stream, start, end)
    assert (chart.key, chart.unit_symbol, chart.resolution) == ("pm25", "µg/m³", Resolution.HOUR)
    assert len(chart.points) == 30 * 4
    assert [(p.time, p.count, p.min, p.max, p.value) for p in chart.points] == [
        (b, n, lo, hi, m) for b, n, lo, hi, m in rows
    ]
    first = chart.points[0]
    assert (first.time, first.count, first.min, first.max, first.value) == (start, 2, 5.0, 35.0, 20.0)


async def test_a_chart_costs_one_statement(runtime: Runtime, make_device: DeviceFactory) -> None:
    stream = await pm25_id(make_device)
    end = utc_now()
    await send(runtime, [(end - timedelta(days=5), 12.0)])
    await rollup(runtime)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(runtime.db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with runtime.db.session() as session:
            chart = await service.series(session, stream, end - timedelta(days=30), end)
    finally:
        event.remove(runtime.db.engine.sync_engine, "before_cursor_execute", count)
    assert [p.value for p in chart.points] == [12.0]
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1, statements


@pytest.mark.parametrize("days", [1, 30, 365])
async def test_an_empty_period_answers_no_points_but_an_unknown_datastream_is_not_found(
    runtime: Runtime, make_device: DeviceFactory, days: int
) -> None:
    stream = await pm25_id(make_device)
    end = utc_now()
    async with runtime.db.session() as session:
        empty = await service.series(session, stream, end - timedelta(days=days), end)
        with pytest.raises(DatastreamNotFound):
            await service.series(session, stream + 1000, end - timedelta(days=days), end)
    assert (empty.key, empty.unit_symbol, empty.points) == ("pm25", "µg/m³", [])


async def test_an_unknown_datastream_is_reported_before_a_bad_period(
    runtime: Runtime, make_device: DeviceFactory
) -> None:
    stream = await pm25_id(make_device)
    end = utc_now()
    async with runtime.db.session() as session:
        with pytest.raises(DatastreamNotFound):
            await service.series(session, stream + 1000, end, end)
        with pytest.raises(InvalidPeriod):
            await service.series(session, stream, end, end)
