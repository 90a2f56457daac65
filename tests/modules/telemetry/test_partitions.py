"""Monthly partitions of the observation table on PostgreSQL: created ahead, rows moved out of DEFAULT, dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from ioc.core.runtime import Runtime
from ioc.core.time import utc_now
from ioc.modules.telemetry import partitions, repository, service
from ioc.modules.telemetry.schemas import DatastreamCreate

from .conftest import DeviceFactory


def test_month_partitions_follow_each_other_across_a_year_end() -> None:
    months = partitions.months_from(datetime(2026, 11, 20, 23, 30, tzinfo=UTC), 3)
    assert [m.name for m in months] == [
        "telemetry_observation_p202611",
        "telemetry_observation_p202612",
        "telemetry_observation_p202701",
    ]
    assert months[1].end == datetime(2027, 1, 1, tzinfo=UTC)


@pytest.fixture
def postgres_only(is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("partitions exist on PostgreSQL only")


async def _rows_in(runtime: Runtime, table: str) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


@pytest.mark.usefixtures("postgres_only")
async def test_partitions_are_created_ahead_and_take_over_rows_already_in_default(
    runtime: Runtime, make_device: DeviceFactory
) -> None:
    created = await make_device("KK-01")
    stream = created.device.datastreams[0].id
    now = utc_now()
    # A partition for a month ten years on cannot exist yet: its rows go to DEFAULT first, then move.
    future = datetime(now.year + 10, 3, 15, 6, tzinfo=UTC)
    async with runtime.db.transaction() as session:
        await repository.write_observations(session, [(stream, future, 12.5, now), (stream, now, 8.0, now)])
    name = partitions.MonthPartition(partitions.month_start(future)).name
    assert await _rows_in(runtime, partitions.DEFAULT_PARTITION) >= 1

    before = future - timedelta(days=60)
    async with runtime.db.transaction() as session:
        made = await partitions.ensure_partitions(session, before, months_ahead=2)
    # The month under way on `before` is never attached (inserts may be routed to DEFAULT meanwhile).
    assert partitions.MonthPartition(partitions.month_start(before)).name not in made
    assert name in made
    assert await _rows_in(runtime, name) == 1
    async with runtime.db.transaction() as session:
        names = await partitions.partition_names(session)
        assert name in names
        # Created again: nothing to do.
        assert await partitions.ensure_partitions(session, before, months_ahead=2) == []
        # The upsert keeps working through the partitioned table.
        await repository.write_observations(session, [(stream, future, 13.0, now)])
    async with runtime.db.session() as session:
        value = await session.scalar(
            text("SELECT value FROM telemetry_observation WHERE datastream_id = :d AND time = :t"),
            {"d": stream, "t": future},
        )
    assert value == 13.0


@pytest.mark.usefixtures("postgres_only")
async def test_retention_drops_whole_months_older_than_the_longest_retention(
    runtime: Runtime, make_device: DeviceFactory
) -> None:
    created = await make_device(
        "KK-01", streams=(DatastreamCreate(key="pm25", observed_property="PM2.5", retention_days=30),)
    )
    stream = created.device.datastreams[0].id
    now = utc_now()
    old = now - timedelta(days=120)
    async with runtime.db.transaction() as session:
        await repository.write_observations(session, [(stream, old, 1.0, now), (stream, now, 2.0, now)])
        made = await partitions.ensure_partitions(
            session, partitions.month_start(old) - timedelta(days=2), months_ahead=1
        )
    old_name = partitions.MonthPartition(partitions.month_start(old)).name
    assert made == [old_name]
    async with runtime.db.transaction() as session:
        await service.enforce_retention(session, now)
        names = await partitions.partition_names(session)
    assert old_name not in names
    assert partitions.DEFAULT_PARTITION in names
    assert await _rows_in(runtime, "telemetry_observation") == 1
