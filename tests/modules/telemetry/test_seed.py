"""The demo: stations inside Tây Ninh's communes, a week of deterministic history, and the live simulator."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from ioc.core.module import SeedContext
from ioc.core.runtime import Runtime
from ioc.core.time import utc_now
from ioc.modules.org_unit.seed import seed_demo as seed_org_units
from ioc.modules.telemetry import service
from ioc.modules.telemetry.models import Datastream, Device, Observation, RollupHour
from ioc.modules.telemetry.seed import seed_demo
from ioc.modules.telemetry.simulator import (
    AIR_QUANTITIES,
    HISTORY_DAYS,
    STATIONS,
    LiveRun,
    history_messages,
    readings,
)


async def run_seeds(runtime: Runtime) -> list[str]:
    """Seed the communes, then the telemetry demo, as `ioc demo seed` does."""
    messages: list[str] = []
    for seed in (seed_org_units, seed_demo):
        async with runtime.db.transaction() as session:
            ctx = SeedContext(session=session, runtime=runtime)
            await seed(ctx)
        messages += ctx.messages
    return messages


async def pm25_values(runtime: Runtime, code: str) -> list[float]:
    """The seeded pm25 history of a station, by time."""
    async with runtime.db.session() as session:
        rows = await session.scalars(
            select(Observation.value)
            .join(Datastream, Datastream.id == Observation.datastream_id)
            .join(Device, Device.id == Datastream.device_id)
            .where(Device.code == code, Datastream.key == "pm25")
            .order_by(Observation.time)
        )
        return list(rows)


async def test_the_demo_seeds_15_stations_in_communes_with_a_week_of_history_once(runtime: Runtime) -> None:
    # The history is laid out from the current hour: two runs either side of an hour boundary would rightly
    # write a different week, so the comparison below starts well inside an hour.
    now = utc_now()
    if now.minute >= 58:
        await asyncio.sleep((60 - now.minute) * 60 - now.second + 1)
    messages = await run_seeds(runtime)
    assert "15 trạm mới" in messages[-1]
    first = await pm25_values(runtime, "KK-TANNINH")
    again = await run_seeds(runtime)
    assert "0 trạm mới" in again[-1]
    assert (await pm25_values(runtime, "KK-TANNINH"))[: len(first)] == first  # the same values on every run
    async with runtime.db.session() as session:
        devices = list(await session.scalars(select(Device).order_by(Device.code)))
        readings_count = await session.scalar(select(func.count()).select_from(Observation))
        hours = await session.scalar(select(func.count()).select_from(RollupHour))
        silent = await service.get_device(session, "KK-CANGIUOC")
        busy = await service.get_device(session, "KK-TANNINH")
    assert len(devices) == len(STATIONS) == 15
    assert sum(d.code.startswith("KK-") for d in devices) == 8
    assert all(d.unit_code for d in devices), [d.code for d in devices if not d.unit_code]
    assert readings_count
    assert readings_count > 14 * 7 * 24 * 7
    assert hours
    assert hours > 13 * 7 * 24
    assert silent.last_seen_at is not None
    assert utc_now() - silent.last_seen_at > timedelta(hours=29)  # the silent one stopped 30 hours ago
    assert {s.key for s in busy.datastreams} == {q.key for q in AIR_QUANTITIES}
    assert all(s.last_value is not None for s in busy.datastreams)


async def test_the_history_has_an_episode_a_drift_and_realistic_cycles() -> None:
    now = utc_now()
    history = list(history_messages(now))
    assert len(history) == sum(1 for _ in history)
    episode = next(s for s in STATIONS if s.episode)
    drifting = next(s for s in STATIONS if s.drifting_key)
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=HISTORY_DAYS)
    peak = max(
        readings(episode, start + timedelta(hours=h), episode_start=start + timedelta(hours=100))["pm25"]
        for h in range(96, 112)
    )
    calm = max(readings(episode, start + timedelta(hours=h))["pm25"] for h in range(96, 112))
    assert peak > 150 > calm  # the episode would turn the station red
    early = sum(readings(drifting, start + timedelta(hours=h), drift_origin=start)["pm25"] for h in range(24))
    late = sum(readings(drifting, start + timedelta(days=6, hours=h), drift_origin=start)["pm25"] for h in range(24))
    assert late - early > 24 * 20  # about 4 µg/m³ a day for six days
    noon = readings(STATIONS[0], now.replace(hour=6, minute=0))  # 13:00 in Tây Ninh
    night = readings(STATIONS[0], now.replace(hour=20, minute=0))  # 03:00 in Tây Ninh
    assert noon["temp"] > night["temp"]
    assert noon["o3"] > night["o3"]


def test_the_live_run_skips_the_silent_station_and_starts_its_episode_after_a_minute() -> None:
    started = utc_now()
    run = LiveRun(started=started)
    first = {s.code: body for s, body in run.messages(started)}
    assert "KK-CANGIUOC" not in first
    assert len(first) == len(STATIONS) - 1
    assert first["NM-VCD-GODAU"].startswith('[{"bn"')  # SenML
    assert '"values"' in first["KK-TANNINH"]
