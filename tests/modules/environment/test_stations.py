"""Stations on telemetry: hourly index, exceedances opened and cleared once, events, the picture and the demo seed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ioc.core.jobs import Job
from ioc.core.models import OutboxEvent
from ioc.core.module import PictureContext, SeedContext
from ioc.core.runtime import Runtime
from ioc.core.time import utc_now
from ioc.modules.environment import station_by_code
from ioc.modules.environment.constants import RECOMPUTE_JOB, StationKind, WaterClass
from ioc.modules.environment.evaluation import evaluate_station, hour_of
from ioc.modules.environment.models import Exceedance, IndexHour
from ioc.modules.environment.picture import stations_in_exceedance, stations_layer, worst_aqi
from ioc.modules.environment.seed import seed_demo
from ioc.modules.telemetry import hourly_means
from ioc.modules.telemetry.ingest import write_batch
from ioc.modules.telemetry.service import compute_rollups, create_device
from ioc.modules.telemetry.simulator import STATIONS, device_create, history_messages

from .conftest import StationFactory, send


async def events(runtime: Runtime, name: str) -> list[dict[str, object]]:
    """Payloads of the outbox events with this name, oldest first."""
    async with runtime.db.session() as session:
        rows = await session.scalars(select(OutboxEvent).where(OutboxEvent.name == name).order_by(OutboxEvent.id))
        return [row.payload for row in rows]


async def evaluate(runtime: Runtime, station_id: int) -> None:
    """Run the evaluation job's work once, committed."""
    async with runtime.db.transaction() as session:
        await evaluate_station(session, station_id)


async def test_a_polluted_hour_turns_the_index_red_and_opens_then_clears_an_exceedance(
    runtime: Runtime, make_station: StationFactory
) -> None:
    station = await make_station("KK-01")
    now = utc_now()
    hour = hour_of(now)
    # Three hours of heavy PM2.5 (NowCast ≈ 120 µg/m³ → VN_AQI 179, "bad", red) and SO2 above its 1-hour limit.
    await send(
        runtime,
        "KK-01",
        [(hour - timedelta(hours=h), {"pm25": 120.0, "so2": 400.0, "no2": 40.0}) for h in (2, 1)]
        + [(hour, {"pm25": 120.0, "so2": 400.0, "no2": 40.0})],
    )
    await evaluate(runtime, station.id)
    async with runtime.db.session() as session:
        current = await station_by_code(session, "KK-01")
    assert (current.index_standard, current.index_value, current.index_category) == ("VN_AQI", 179, "bad")
    assert current.index_colour == "#FF0000"
    assert current.open_exceedances == 1
    computed = await events(runtime, "environment.index_computed")
    assert [(e["station_code"], e["value"], e["category"]) for e in computed] == [("KK-01", 179, "bad")]
    detected = await events(runtime, "environment.exceedance_detected")
    assert [(e["parameter"], e["period"], e["limit"]) for e in detected] == [("SO2", "1h", 350.0)]

    # Evaluating again changes nothing: one open exceedance per station, parameter and period; no new events.
    await evaluate(runtime, station.id)
    assert len(await events(runtime, "environment.exceedance_detected")) == 1
    assert len(await events(runtime, "environment.index_computed")) == 1

    # The SO2 mean of the hour falls below the limit once clean readings outnumber the bad one.
    await send(runtime, "KK-01", [(hour + timedelta(seconds=s), {"so2": 20.0}) for s in (1, 2, 3, 4)])
    await evaluate(runtime, station.id)
    cleared = await events(runtime, "environment.exceedance_cleared")
    assert [(e["parameter"], e["period"]) for e in cleared] == [("SO2", "1h")]
    async with runtime.db.session() as session:
        rows = list(await session.scalars(select(Exceedance)))
    assert [(r.parameter, r.peak_value, r.ended_at is not None, r.open_key) for r in rows] == [
        ("SO2", 400.0, True, None)
    ]


async def test_ingestion_schedules_one_debounced_job_per_station(
    runtime: Runtime, make_station: StationFactory
) -> None:
    await make_station("KK-01")
    now = utc_now()
    for offset in (3, 2, 1):
        await send(runtime, "KK-01", [(now - timedelta(seconds=offset), {"pm25": 30.0})])
    await runtime.drain()  # delivers telemetry.observations_received to the environment handler
    async with runtime.db.session() as session:
        jobs = list(await session.scalars(select(Job).where(Job.name == RECOMPUTE_JOB)))
    assert 1 <= len(jobs) <= 2  # three batches, one job per station per window (two if a window edge fell between)
    assert all(job.payload == {"station_id": jobs[0].payload["station_id"]} for job in jobs)
    assert all(job.run_at > now for job in jobs)


async def test_a_water_station_checks_qcvn_08_for_its_level(runtime: Runtime, make_station: StationFactory) -> None:
    station = await make_station("NM-01", StationKind.SURFACE_WATER, ("ph", "do", "bod5", "cod", "nh4"), WaterClass.A)
    await send(runtime, "NM-01", [(utc_now(), {"ph": 7.0, "bod5": 5.0, "cod": 8.0, "nh4": 0.2})])
    await evaluate(runtime, station.id)
    detected = await events(runtime, "environment.exceedance_detected")
    # BOD5 5 mg/L breaks level A (≤ 4); COD 8 and N-NH4 0.2 comply; pH 7 is inside 6.5–8.5.
    assert [(e["parameter"], e["regulation"], e["limit"]) for e in detected] == [("BOD5", "QCVN_08_2023", 4.0)]


async def test_the_demo_episode_turns_a_station_red_and_feeds_the_picture(runtime: Runtime) -> None:
    # Three of the simulator's stations and three days of its history (the episode is 50 hours ago), then the seed.
    codes = {"KK-PHUOCDONG", "KK-TANNINH", "NM-DAUTIENG"}
    async with runtime.db.transaction() as session:
        for demo in STATIONS:
            if demo.code in codes:
                await create_device(session, device_create(demo))
        await write_batch(session, [m for m in history_messages(utc_now(), days=3) if m.device_code in codes])
    async with runtime.db.transaction() as session:
        ctx = SeedContext(session=session, runtime=runtime)
        await seed_demo(ctx)
    assert "3 trạm mới" in ctx.messages[-1]
    async with runtime.db.session() as session:
        episode = await station_by_code(session, "KK-PHUOCDONG")
        worst = await session.scalar(
            select(IndexHour.value).where(IndexHour.station_id == episode.id).order_by(IndexHour.value.desc()).limit(1)
        )
        calm = await station_by_code(session, "KK-TANNINH")
        water = await station_by_code(session, "NM-DAUTIENG")
        ctx = PictureContext(session=session, principal=None, now=utc_now())
        layer = await stations_layer(ctx)
        worst_tile = await worst_aqi(ctx)
        exceeding = await stations_in_exceedance(ctx)
        open_rows = (await session.execute(select(Exceedance.station_id).where(Exceedance.ended_at.is_(None)))).all()
    assert worst is not None
    assert worst > 150
    assert calm.index_value is not None
    assert calm.index_value < worst
    assert water.kind is StationKind.SURFACE_WATER
    assert water.water_class == "A"
    detected = await events(runtime, "environment.exceedance_detected")
    assert any(e["station_code"] == "KK-PHUOCDONG" and e["parameter"] == "PM2.5" for e in detected)
    assert len(layer["features"]) == 3
    assert worst_tile.value is not None
    assert worst_tile.higher_is_better is False
    assert exceeding.value == len({s for (s,) in open_rows})


async def test_hourly_means_read_rollups_before_raw_from_and_raw_readings_after(
    runtime: Runtime, make_station: StationFactory
) -> None:
    station = await make_station("KK-01", keys=("pm25",))
    [stream] = station.datastreams.values()
    hour = hour_of(utc_now())
    await send(
        runtime, "KK-01", [(hour - timedelta(hours=2), {"pm25": 10.0}), (hour - timedelta(hours=1), {"pm25": 20.0})]
    )
    await send(runtime, "KK-01", [(hour - timedelta(minutes=30), {"pm25": 40.0}), (hour, {"pm25": 50.0})])
    start, end, raw_from = hour - timedelta(hours=2), hour + timedelta(hours=1), hour - timedelta(hours=1)
    async with runtime.db.session() as session:
        assert await hourly_means(session, [stream], start, end) == {stream: {start: 10.0, raw_from: 30.0, hour: 50.0}}
        before_rollup = await hourly_means(session, [stream], start, end, raw_from=raw_from)
    assert before_rollup == {stream: {raw_from: 30.0, hour: 50.0}}  # the oldest hour is not rolled up yet
    async with runtime.db.transaction() as session:
        await compute_rollups(session)
    async with runtime.db.session() as session:
        after = await hourly_means(session, [stream], start, end, raw_from=raw_from)
    assert after == {stream: {start: 10.0, raw_from: 30.0, hour: 50.0}}
