"""Retention: each datastream keeps its raw readings for its own number of days, on both engines."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ioc.core.runtime import Runtime
from ioc.core.time import utc_now
from ioc.modules.telemetry import repository, service
from ioc.modules.telemetry.models import Observation
from ioc.modules.telemetry.schemas import DatastreamCreate

from .conftest import DeviceFactory


async def test_each_datastream_loses_only_readings_past_its_own_retention(
    runtime: Runtime, make_device: DeviceFactory
) -> None:
    created = await make_device(
        "KK-01",
        streams=(
            DatastreamCreate(key="pm25", observed_property="PM2.5", retention_days=30),
            DatastreamCreate(key="pm10", observed_property="PM10", retention_days=60),
            DatastreamCreate(key="so2", observed_property="SO2", retention_days=30),
        ),
    )
    ids = {s.key: s.id for s in created.device.datastreams}
    now = utc_now()
    rows = [
        (ids[key], now - timedelta(days=age), float(age), now)
        for key in ("pm25", "pm10", "so2")
        for age in (10, 40, 70)
    ]
    async with runtime.db.transaction() as session:
        await repository.write_observations(session, rows)
    async with runtime.db.transaction() as session:
        deleted = await service.enforce_retention(session, now)
    async with runtime.db.session() as session:
        kept = {(d, v) for d, v in await session.execute(select(Observation.datastream_id, Observation.value))}
    assert kept == {(ids["pm25"], 10.0), (ids["so2"], 10.0), (ids["pm10"], 10.0), (ids["pm10"], 40.0)}
    assert deleted == 5
