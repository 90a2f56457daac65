"""The simulator's live pollution episode, through ingestion and the station evaluation, as the demo shows it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from ioc.core.jobs import Job
from ioc.core.models import OutboxEvent
from ioc.core.runtime import Runtime
from ioc.core.time import utc_now
from ioc.modules.environment import StationRead, station_by_code
from ioc.modules.environment.constants import RECOMPUTE_JOB, StationKind
from ioc.modules.environment.evaluation import evaluate_station
from ioc.modules.environment.schemas import StationCreate
from ioc.modules.environment.stations import create_station
from ioc.modules.telemetry import InboundMessage, IngestSource, ingest_messages
from ioc.modules.telemetry.ingest import write_batch
from ioc.modules.telemetry.service import compute_rollups, create_device
from ioc.modules.telemetry.simulator import STATIONS, LiveRun, device_create, history_messages

EPISODE_STATION = next(s for s in STATIONS if s.episode and s.is_air)
ROUND = timedelta(seconds=10)  # the demo's round (DEMO_ROUND_SECONDS)
# VN_AQI "bad" (red) and worse, Decision 1459/QĐ-TCMT Bảng 1.
RED_OR_WORSE = {"bad": "#FF0000", "very_bad": "#8F3F97", "hazardous": "#7E0023"}
MINUTES = 15


async def _exceedances(runtime: Runtime) -> list[dict[str, object]]:
    async with runtime.db.session() as session:
        rows = await session.scalars(
            select(OutboxEvent).where(OutboxEvent.name == "environment.exceedance_detected").order_by(OutboxEvent.id)
        )
        return [row.payload for row in rows]


async def _station(runtime: Runtime) -> StationRead:
    async with runtime.db.session() as session:
        return await station_by_code(session, EPISODE_STATION.code)


async def _hold_recompute_jobs(runtime: Runtime) -> None:
    """Keep the evaluations the ingestion path scheduled from running on the real clock during the replay."""
    # The test evaluates at each simulated minute itself; an evaluation at the real time in between would judge
    # hours the replay has not reached yet, and whether one ran would depend on how fast the machine is.
    async with runtime.db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.name == RECOMPUTE_JOB, Job.status == "pending")
            .values(run_at=utc_now() + timedelta(days=1))
        )


async def _evaluate_at(runtime: Runtime, station_id: int, now: datetime) -> None:
    async with runtime.db.transaction() as session:
        await evaluate_station(session, station_id, now)


async def test_the_live_episode_turns_the_industrial_park_red_and_raises_a_qcvn_05_exceedance(
    runtime: Runtime,
) -> None:
    # The demo's state: the station with a day of calm history (the seeded week's episode is 50 hours back).
    started = utc_now() - timedelta(minutes=MINUTES + 1)
    async with runtime.db.transaction() as session:
        await create_device(session, device_create(EPISODE_STATION))
        station = await create_station(
            session,
            StationCreate(
                code=EPISODE_STATION.code,
                name=EPISODE_STATION.name,
                kind=StationKind.AIR,
                device_code=EPISODE_STATION.code,
                us_aqi=True,
            ),
        )
        history = [m for m in history_messages(started, days=1) if m.device_code == EPISODE_STATION.code]
        await write_batch(session, history)
    async with runtime.db.transaction() as session:
        while await compute_rollups(session):
            pass
    await runtime.drain()
    await _evaluate_at(runtime, station.id, started)
    calm = await _station(runtime)
    assert calm.index_value is not None
    assert calm.index_category not in RED_OR_WORSE
    assert await _exceedances(runtime) == []

    # Then the live run, minute by minute: each minute's rounds are ingested as the demo does, the environment
    # module's handler schedules the station's evaluation, and the evaluation runs at the end of the minute.
    run = LiveRun(started=started)
    red_after: timedelta | None = None
    exceeded_after: timedelta | None = None
    moment = started
    for minute in range(1, MINUTES + 1):
        messages = []
        while moment < started + timedelta(minutes=minute):
            messages += [
                InboundMessage(payload=body, source=IngestSource.EMBEDDED, device_code=sender.code, received_at=moment)
                for sender, body in run.messages(moment)
                if sender is EPISODE_STATION
            ]
            moment += ROUND
        await ingest_messages(runtime, messages)
        await _hold_recompute_jobs(runtime)
        await runtime.drain()
        await _evaluate_at(runtime, station.id, moment)
        current = await _station(runtime)
        if red_after is None and current.index_category in RED_OR_WORSE:
            red_after = moment - started
            assert current.index_colour == RED_OR_WORSE[current.index_category]
            assert current.index_dominant == "PM2.5"
        if exceeded_after is None and await _exceedances(runtime):
            exceeded_after = moment - started
    async with runtime.db.session() as session:
        scheduled = list(await session.scalars(select(Job).where(Job.name == RECOMPUTE_JOB)))
    assert scheduled  # the ingestion path asked for the evaluation by itself

    assert red_after is not None
    assert red_after <= timedelta(minutes=6), red_after  # about four minutes
    assert exceeded_after is not None
    assert exceeded_after <= timedelta(minutes=7), exceeded_after  # about five minutes
    detected = await _exceedances(runtime)
    so2 = [e for e in detected if e["parameter"] == "SO2"]
    assert so2, detected
    # QCVN 05:2023/BTNMT Bảng 1: SO2, 1-hour mean, 350 µg/Nm³.
    assert (so2[0]["station_code"], so2[0]["regulation"], so2[0]["period"], so2[0]["limit"]) == (
        EPISODE_STATION.code,
        "QCVN_05_2023",
        "1h",
        350.0,
    )
    final = await _station(runtime)
    assert final.index_category in RED_OR_WORSE
    assert final.open_exceedances >= 1
