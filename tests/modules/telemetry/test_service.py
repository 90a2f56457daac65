"""Rollups in the province's days, the resolution of queries, retention and offline detection."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from ioc.core.jobs import schedule_job
from ioc.core.models import OutboxEvent
from ioc.core.runtime import Runtime
from ioc.core.time import PROVINCE_TZ, local_today, utc_now
from ioc.modules.telemetry import Resolution, choose_resolution, repository, service
from ioc.modules.telemetry.constants import OFFLINE_JOB, RETENTION_JOB, ROLLUP_JOB
from ioc.modules.telemetry.exceptions import InvalidPeriod, TooManyPoints
from ioc.modules.telemetry.models import DirtyHour, Observation, RollupDay, RollupHour
from ioc.modules.telemetry.schemas import DatastreamCreate

from .conftest import DeviceFactory
from .test_ingest import ingest_messages, mqtt, ms


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Tây Ninh, as UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=PROVINCE_TZ).astimezone(UTC)


async def pm25_id(make_device: DeviceFactory, code: str = "KK-01", **fields: object) -> int:
    """Register a device and return its pm25 datastream id."""
    created = await make_device(code, **fields)
    return next(s.id for s in created.device.datastreams if s.key == "pm25")


async def send(runtime: Runtime, readings: list[tuple[datetime, float]], code: str = "KK-01") -> None:
    """Ingest pm25 readings of a device."""
    body = [{"ts": ms(moment), "values": {"pm25": value}} for moment, value in readings]
    await ingest_messages(runtime, [mqtt(code, body)])


async def rollup(runtime: Runtime) -> int:
    """Run the rollup once, committed."""
    async with runtime.db.transaction() as session:
        return await service.compute_rollups(session)


class TestRollups:
    DAY = local_today() - timedelta(days=3)
    NEXT = DAY + timedelta(days=1)

    async def test_hours_and_days_are_cut_at_local_midnight(self, runtime: Runtime, make_device: DeviceFactory) -> None:
        stream = await pm25_id(make_device)
        await send(
            runtime,
            [
                (local(self.DAY, 22, 10), 10),
                (local(self.DAY, 23, 30), 20),
                (local(self.DAY, 23, 50), 30),
                (local(self.NEXT, 0, 10), 40),
                (local(self.NEXT, 0, 30), 50),
            ],
        )
        # All five readings fall on one UTC date; the province's calendar splits them 3 + 2.
        assert local(self.DAY, 22, 10).date() == local(self.NEXT, 0, 30).date()
        assert await rollup(runtime) == 3
        async with runtime.db.session() as session:
            days = await repository.daily_series(session, stream, self.DAY, self.NEXT)
            hours = await repository.hourly_series(session, stream, local(self.DAY, 0), local(self.NEXT, 12))
        assert days == [(self.DAY, 3, 10.0, 30.0, 20.0), (self.NEXT, 2, 40.0, 50.0, 45.0)]
        assert hours == [
            (local(self.DAY, 22), 1, 10.0, 10.0, 10.0),
            (local(self.DAY, 23), 2, 20.0, 30.0, 25.0),
            (local(self.NEXT, 0), 2, 40.0, 50.0, 45.0),
        ]

    async def test_only_touched_hours_are_recomputed_and_late_data_updates_them(
        self, runtime: Runtime, make_device: DeviceFactory
    ) -> None:
        stream = await pm25_id(make_device)
        await send(runtime, [(local(self.DAY, 10, 0), 10), (local(self.DAY, 15, 0), 30)])
        assert await rollup(runtime) == 2
        assert await rollup(runtime) == 0  # nothing new, nothing done
        await send(runtime, [(local(self.DAY, 10, 40), 20)])  # a late reading
        assert await rollup(runtime) == 1
        async with runtime.db.session() as session:
            days = await repository.daily_series(session, stream, self.DAY, self.DAY)
            hour = await repository.hourly_series(session, stream, local(self.DAY, 10), local(self.DAY, 11))
        assert hour == [(local(self.DAY, 10), 2, 10.0, 20.0, 15.0)]
        assert days == [(self.DAY, 3, 10.0, 30.0, 20.0)]

    async def test_a_dirty_hour_marked_again_while_the_rollup_ran_is_kept_for_the_next_run(
        self, runtime: Runtime, make_device: DeviceFactory
    ) -> None:
        await pm25_id(make_device)
        await send(runtime, [(local(self.DAY, 9), 1)])
        async with runtime.db.session() as session:
            seen = await repository.dirty_hours(session, 10)
        await send(runtime, [(local(self.DAY, 9, 30), 2)])  # committed after the rollup read its work list
        async with runtime.db.transaction() as session:
            await repository.clear_dirty_hours(session, seen)
            remaining = await session.scalar(select(func.count()).select_from(DirtyHour))
        assert remaining == 1

    async def test_the_recurring_job_runs_the_rollup(self, runtime: Runtime, make_device: DeviceFactory) -> None:
        await pm25_id(make_device)
        await send(runtime, [(local(self.DAY, 9), 1)])
        async with runtime.db.transaction() as session:
            await schedule_job(session, ROLLUP_JOB)
        await runtime.drain()
        async with runtime.db.session() as session:
            assert await session.scalar(select(func.count()).select_from(RollupHour)) == 1
            assert await session.scalar(select(func.count()).select_from(RollupDay)) == 1
            assert await session.scalar(select(func.count()).select_from(DirtyHour)) == 0


class TestResolution:
    NOW = datetime(2026, 3, 1, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("span", "expected"),
        [
            (timedelta(hours=1), Resolution.RAW),
            (timedelta(days=2), Resolution.RAW),
            (timedelta(days=2, seconds=1), Resolution.HOUR),
            (timedelta(days=90), Resolution.HOUR),
            (timedelta(days=91), Resolution.DAY),
            (timedelta(days=3650), Resolution.DAY),
        ],
    )
    def test_auto_picks_by_range(self, span: timedelta, expected: Resolution) -> None:
        assert choose_resolution(self.NOW - span, self.NOW) is expected

    def test_an_explicit_resolution_wins(self) -> None:
        assert choose_resolution(self.NOW - timedelta(days=300), self.NOW, Resolution.RAW) is Resolution.RAW

    async def test_series_answers_raw_hourly_and_daily(self, runtime: Runtime, make_device: DeviceFactory) -> None:
        stream = await pm25_id(make_device)
        day = local_today() - timedelta(days=5)
        await send(runtime, [(local(day, 8, 0), 10), (local(day, 8, 30), 20), (local(day, 20, 0), 60)])
        await rollup(runtime)
        end = local(day + timedelta(days=1), 0)
        async with runtime.db.session() as session:
            raw = await service.series(session, stream, end - timedelta(days=1), end)
            hourly = await service.series(session, stream, end - timedelta(days=10), end)
            daily = await service.series(session, stream, end - timedelta(days=200), end)
        assert raw.resolution is Resolution.RAW
        assert [p.value for p in raw.points] == [10, 20, 60]
        assert hourly.resolution is Resolution.HOUR
        assert [(p.time, p.count, p.value) for p in hourly.points] == [
            (local(day, 8), 2, 15.0),
            (local(day, 20), 1, 60.0),
        ]
        assert daily.resolution is Resolution.DAY
        assert [(p.day, p.time, p.count, p.min, p.max, p.value) for p in daily.points] == [
            (day, local(day, 0), 3, 10.0, 60.0, 30.0)
        ]

    async def test_too_many_raw_points_fall_back_to_hours_unless_raw_was_asked(
        self, runtime: Runtime, make_device: DeviceFactory
    ) -> None:
        stream = await pm25_id(make_device)
        start = (utc_now() - timedelta(hours=5)).replace(minute=0, second=0, microsecond=0)
        await send(runtime, [(start + timedelta(minutes=5 * i), i) for i in range(12)])
        await rollup(runtime)
        async with runtime.db.session() as session:
            auto = await service.series(session, stream, start, start + timedelta(hours=2), limit=5)
            with pytest.raises(TooManyPoints):
                await service.series(session, stream, start, start + timedelta(hours=2), Resolution.RAW, limit=5)
            with pytest.raises(InvalidPeriod):
                await service.series(session, stream, start, start)
        assert auto.resolution is Resolution.HOUR
        assert [p.count for p in auto.points] == [12]


async def test_retention_deletes_only_raw_readings_older_than_each_datastreams_period(
    runtime: Runtime, make_device: DeviceFactory
) -> None:
    short = (DatastreamCreate(key="pm25", observed_property="PM2.5", retention_days=30),)
    created = await make_device("KK-01", streams=short)
    long_kept = await make_device("KK-02")
    ids = [created.device.datastreams[0].id, long_kept.device.datastreams[0].id]
    now = utc_now()
    old, recent = now - timedelta(days=31), now - timedelta(days=29)
    async with runtime.db.transaction() as session:
        # Written directly: ingestion itself refuses readings already past retention.
        await repository.write_observations(session, [(i, t, 1.0, now) for i in ids for t in (old, recent)])
        await repository.mark_dirty_hours(
            session, {(i, t.replace(minute=0, second=0, microsecond=0)) for i in ids for t in (old, recent)}
        )
    await rollup(runtime)
    async with runtime.db.transaction() as session:
        await schedule_job(session, RETENTION_JOB)
    await runtime.drain()
    async with runtime.db.session() as session:
        left = sorted((i, t) for i, t in await session.execute(select(Observation.datastream_id, Observation.time)))
        rollups = await session.scalar(select(func.count()).select_from(RollupHour))
    assert left == sorted([(ids[0], recent), (ids[1], old), (ids[1], recent)])
    assert rollups == 4  # rollups outlive the raw readings


async def test_a_silent_device_goes_offline_once_and_comes_back_online(
    runtime: Runtime, make_device: DeviceFactory
) -> None:
    await make_device("KK-01", offline_after_minutes=15)
    await make_device("KK-02", offline_after_minutes=60)
    twenty_minutes_ago = utc_now() - timedelta(minutes=20)
    for code in ("KK-01", "KK-02"):
        await ingest_messages(runtime, [mqtt(code, {"values": {"pm25": 1}}, received_at=twenty_minutes_ago)])
    for _ in range(2):
        async with runtime.db.transaction() as session:
            await schedule_job(session, OFFLINE_JOB)
        await runtime.drain()
    async with runtime.db.session() as session:
        events = list(
            await session.scalars(
                select(OutboxEvent).where(OutboxEvent.name == "telemetry.device_went_offline").order_by(OutboxEvent.id)
            )
        )
        device = await service.get_device(session, "KK-01")
    assert [e.payload["device_code"] for e in events] == ["KK-01"]
    assert events[0].payload["offline_after_minutes"] == 15
    assert device.status.value == "offline"
    await ingest_messages(runtime, [mqtt("KK-01", {"values": {"pm25": 2}})])
    async with runtime.db.session() as session:
        online = await session.scalar(select(func.count()).where(OutboxEvent.name == "telemetry.device_came_online"))
        device = await service.get_device(session, "KK-01")
    assert online == 3  # both first messages, then KK-01 coming back
    assert device.status.value == "online"
