"""MQTT ingestion: sustained rate through Mosquitto, ingest-to-queryable latency, raw bulk insert, chart query.

On a fresh database of the chosen engine: N devices (default 1,000, `--devices N`) with three datastreams each
(pm25, pm10, no2), the first M of them (default 100, `--stations M`) air stations of the environment module,
so that every batch also marks stations for their QCVN exceedance checks, which run as in production
(outbox dispatcher, job runner, hourly rollups). The process ingests exactly as `ioc run` does: the telemetry
module subscribes to Mosquitto (127.0.0.1:1883) at start-up, commits batches and acknowledges each message
only after its readings are committed.

A publisher in a separate process (so that it never competes for this process's interpreter; the raw-socket
publisher of `tests/support/mqtt_load.py`, which the soak test uses too) publishes QoS 1 messages
`{"ts", "values": {pm25, pm10, no2}}` round-robin over the devices at a set rate (default 15,000/s, `--rate R`)
for S seconds (default 20, `--seconds S`), and every 50 ms a probe reading stamped with its send time on a
probe device. This process looks for the probes through the series query every 10 ms: the
ingest-to-queryable latency is the time from publishing to the first query that returns the reading.

Publishing starts once the daily jobs have had their start-up run (retention alone issues one DELETE per
datastream), so that a once-a-day cost is not counted in a sustained rate.

Figures: messages per second committed while the publisher runs (after a 3-second warm-up), and the CPU
time this process spent per committed message meanwhile (ingestion and all background work; on a machine
shared with other work the wall-clock rate says more about the neighbours, the CPU time less), against the
engine's raw bulk insert of the same rows in the same run (COPY on PostgreSQL, executemany on SQLite,
batches of the same size, one transaction each, into a bare table with the same primary key); the
latency median and p99; then a year of 1-minute history of one datastream bulk-loaded and rolled up, and a
30-day chart of it through `telemetry.series` (hourly rollups, chosen automatically), p95 of 40 random
windows, against the engine running the chart's own query (`--chart-only` runs this part alone).

Run: `python -m bench ingest` (BENCH_DATABASE=postgresql for PostgreSQL). Targets (issue): ≥ 15,000
messages/s (45,000 readings/s) with a ratio to the raw insert ≥ 0.5, latency p99 < 1 s, chart p95 < 50 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import multiprocessing
import os
import random
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from tests.support.mqtt_load import Message, RawPublisher, publish_steadily

from ioc.core import migrate
from ioc.core.db import Base
from ioc.core.jobs import RECURRING_PREFIX
from ioc.core.models import Job
from ioc.core.runtime import Runtime
from ioc.core.settings import Environment, Settings
from ioc.core.time import utc_now
from ioc.modules.environment.constants import StationKind
from ioc.modules.environment.schemas import StationCreate
from ioc.modules.environment.stations import create_station
from ioc.modules.telemetry import repository
from ioc.modules.telemetry import service as telemetry_service
from ioc.modules.telemetry.constants import MQTT_BATCH_MAX_MESSAGES, PARTITION_JOB, RETENTION_JOB
from ioc.modules.telemetry.ingest import floor_hour
from ioc.modules.telemetry.models import Observation
from ioc.modules.telemetry.mqtt import running_ingestor
from ioc.modules.telemetry.mqtt_client import connect_packet
from ioc.modules.telemetry.schemas import DatastreamCreate, DeviceCreate

from .common import Figure, engine_choice, fresh_database

MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883
MODULES = ["audit", "identity", "org_unit", "telemetry", "environment"]
KEYS = ("pm25", "pm10", "no2")
DEFAULT_DEVICES = 1_000
DEFAULT_STATIONS = 100
DEFAULT_RATE = 15_000
DEFAULT_SECONDS = 20
WARM_UP = 3.0  # seconds of publishing left out of the sustained rate (connections, first batches)
TICK = 0.005  # the publisher's pacing step
PROBE_EVERY = 0.05
POLL_EVERY = 0.01
DRAIN_TIMEOUT = 60.0
STALL_SECONDS = 5.0  # draining ends when nothing is committed for this long
# Jobs that run once a day, and once at start-up: publishing starts after their start-up run (retention alone
# issues one DELETE per datastream, 3,000 here).
DAILY_JOBS = (RETENTION_JOB, PARTITION_JOB)
SETTLE_TIMEOUT = 120.0
# Messages the publisher may have unacknowledged by the broker (a fleet of devices, each with a few in flight).
PUBLISH_WINDOW = 20_000
ACK_WAIT_SECONDS = 30.0  # after the last publication, for the broker's last acknowledgements
RAW_BATCH_MESSAGES = MQTT_BATCH_MAX_MESSAGES  # the ingestion's largest batch
RAW_MESSAGES = 150_000
HISTORY_DAYS = 365
CHART_DAYS = 30
CHART_RUNS = 40
CHART_ONLY = "--chart-only"  # run only the chart part (no broker needed)


def option(name: str, default: int) -> int:
    args = sys.argv[1:]
    if name in args:
        return int(args[args.index(name) + 1].replace("_", ""))
    return default


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# --- the publisher (its own process) -----------------------------------------------------------------------------


def publisher_main(prefix: str, codes: list[str], probe: str, rate: int, seconds: float, out: Connection) -> None:
    """Entry point of the publisher process: publish, then send the counts back."""
    out.send(asyncio.run(_publish(prefix, codes, probe, rate, seconds)))
    out.close()


async def _publish(prefix: str, codes: list[str], probe: str, rate: int, seconds: float) -> dict[str, Any]:
    """Publish QoS 1 at `rate` messages/s, round-robin over the devices, and a probe every PROBE_EVERY."""
    publisher = await RawPublisher.connect(MQTT_HOST, MQTT_PORT, f"ioc-bench-pub-{uuid.uuid4().hex[:8]}")
    topics = [f"{prefix}/{code}" for code in codes]
    probe_topic = f"{prefix}/{probe}"
    # Each device's timestamps are distinct (one millisecond per message), in the recent past.
    base_ms = int(time.time() * 1000) - int(seconds * 1000) - 120_000
    probes: list[int] = []
    wall_start = time.time()
    started = time.perf_counter()

    def reading(number: int) -> Message:
        body = b'{"ts":%d,"values":{"pm25":%.1f,"pm10":%.1f,"no2":%.1f}}' % (
            base_ms + number,
            20 + number % 30,
            40 + number % 50,
            15 + number % 20,
        )
        return topics[number % len(topics)], body

    def probe_if_due() -> list[Message]:
        # Probe n is due n × PROBE_EVERY after publishing started.
        if time.perf_counter() < started + len(probes) * PROBE_EVERY:
            return []
        stamp = int(time.time() * 1000)
        body = json.dumps({"ts": stamp, "values": {"p": len(probes)}}).encode()
        probes.append(stamp)
        return [(probe_topic, body)]

    try:
        sent = await publish_steadily(
            publisher, rate, seconds, reading, window=PUBLISH_WINDOW, tick=TICK, extra=probe_if_due
        )
        publish_seconds = time.perf_counter() - started
        await publisher.wait_acknowledged(ACK_WAIT_SECONDS)
    finally:
        publisher.close()
    return {"sent": sent, "acked": publisher.acked, "probes": probes, "start": wall_start, "seconds": publish_seconds}


# --- the ingesting process (this one) ------------------------------------------------------------------------------


def _runtime(url: str, client_id: str, prefix: str) -> Runtime:
    settings = Settings(
        env=Environment.TEST,
        database_url=url,
        modules=MODULES,
        run_background=True,
        log_json=False,
        log_level="WARNING",
        mqtt_url=f"mqtt://{MQTT_HOST}:{MQTT_PORT}?client_id={client_id}",
        mqtt_topic_prefix=prefix,
    )
    return Runtime(settings)


async def _setup(runtime: Runtime, devices: int, stations: int) -> tuple[list[str], int]:
    """Register the devices, the stations and the probe device; return the device codes and the probe stream."""
    codes = [f"BENCH-{n:05d}" for n in range(devices)]
    async with runtime.db.transaction() as session:
        for code in codes:
            await telemetry_service.create_device(
                session,
                DeviceCreate(
                    code=code,
                    name=f"Cảm biến {code}",
                    datastreams=[
                        DatastreamCreate(key=key, observed_property=key.upper(), unit_symbol="µg/m³", valid_min=0)
                        for key in KEYS
                    ],
                ),
            )
        probe = await telemetry_service.create_device(
            session,
            DeviceCreate(
                code="BENCH-PROBE",
                name="Đầu dò độ trễ",
                datastreams=[DatastreamCreate(key="p", observed_property="Probe", unit_symbol="1")],
            ),
        )
    async with runtime.db.transaction() as session:
        for code in codes[:stations]:
            await create_station(
                session, StationCreate(code=f"ST-{code}", name=f"Trạm {code}", kind=StationKind.AIR, device_code=code)
            )
    return codes, probe.device.datastreams[0].id


async def _watch_probes(runtime: Runtime, stream_id: int, seen: dict[int, float], stop: asyncio.Event) -> None:
    """Query the probe stream until stopped; note when each probe reading was first returned."""
    since = utc_now() - timedelta(minutes=10)
    while not stop.is_set():
        async with runtime.db.session() as session:
            rows = await repository.raw_series(session, stream_id, since, utc_now() + timedelta(minutes=5), 10_000)
        now = time.time()
        for moment, _value in rows:
            seen.setdefault(round(moment.timestamp() * 1000), now)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), POLL_EVERY)


async def settle_daily_jobs(runtime: Runtime) -> None:
    """Wait until the daily jobs have had their start-up run: a once-a-day cost is no part of a sustained rate."""
    keys = [RECURRING_PREFIX + name for name in DAILY_JOBS]
    deadline = time.perf_counter() + SETTLE_TIMEOUT
    while time.perf_counter() < deadline:
        async with runtime.db.session() as session:
            later = utc_now() + timedelta(hours=1)
            done = await session.scalar(
                select(func.count()).select_from(Job).where(Job.dedupe_key.in_(keys), Job.run_at > later)
            )
        if done == len(keys):
            return
        await asyncio.sleep(0.2)
    print("ingest: the daily jobs were still running when publishing started", flush=True)


async def remove_mqtt_session(client_id: str) -> None:
    """Drop the benchmark's persistent session from the broker (a clean-start connection replaces it)."""
    reader, writer = await asyncio.open_connection(MQTT_HOST, MQTT_PORT)
    writer.write(connect_packet(client_id, keepalive=10, clean_start=True, version=4))
    await reader.readexactly(4)
    writer.write(b"\xe0\x00")
    writer.close()


async def _ingestion(url: str) -> list[Figure]:
    devices = option("--devices", DEFAULT_DEVICES)
    stations = min(devices, option("--stations", DEFAULT_STATIONS))
    rate = option("--rate", DEFAULT_RATE)
    seconds = float(option("--seconds", DEFAULT_SECONDS))
    unique = uuid.uuid4().hex[:10]
    client_id, prefix = f"ioc-bench-{unique}", f"ioc-bench/{unique}/telemetry"
    migrate.import_all_models()
    runtime = _runtime(url, client_id, prefix)
    async with runtime.db.engine.begin() as conn:
        # The schema of the models, which may be ahead of the last migration while a change is under way.
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
    codes, probe_stream = await _setup(runtime, devices, stations)
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    try:
        await runtime.start()
        ingestor = running_ingestor(runtime)
        assert ingestor is not None, "MQTT ingestion did not start"
        await asyncio.wait_for(ingestor.subscribed.wait(), 30)
        await settle_daily_jobs(runtime)
        seen: dict[int, float] = {}
        stop = asyncio.Event()
        watcher = asyncio.create_task(_watch_probes(runtime, probe_stream, seen, stop))
        process = context.Process(
            target=publisher_main, args=(prefix, codes, "BENCH-PROBE", rate, seconds, sender), daemon=True
        )
        process.start()
        timeline: list[tuple[float, int, float]] = []
        while not receiver.poll():
            timeline.append((time.time(), ingestor.committed_messages, time.process_time()))
            await asyncio.sleep(0.25)
        report: dict[str, Any] = receiver.recv()
        await asyncio.to_thread(process.join, 10)
        expected = report["sent"] + len(report["probes"])
        deadline = time.perf_counter() + DRAIN_TIMEOUT
        progress = (ingestor.committed_messages, time.perf_counter())
        while ingestor.committed_messages < expected and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
            if ingestor.committed_messages != progress[0]:
                progress = (ingestor.committed_messages, time.perf_counter())
            elif time.perf_counter() - progress[1] > STALL_SECONDS:
                break  # nothing more is coming: the broker dropped the rest (counted as missing below)
        drained_at = time.time() - report["start"]
        await asyncio.sleep(0.3)
        stop.set()
        await watcher
        async with runtime.db.session() as session:
            stored = int(await session.scalar(select(func.count()).select_from(Observation)) or 0)
    finally:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(runtime.stop(), timeout=30)
        await remove_mqtt_session(client_id)
    window = [(t - report["start"], n, cpu) for t, n, cpu in timeline]
    window = [(t, n, cpu) for t, n, cpu in window if WARM_UP <= t <= report["seconds"]]
    sustained = cpu_per_message = 0.0
    if len(window) > 1 and window[-1][1] > window[0][1]:
        sustained = (window[-1][1] - window[0][1]) / (window[-1][0] - window[0][0])
        # CPU of this whole process (ingestion and every background job) per message committed.
        cpu_per_message = (window[-1][2] - window[0][2]) / (window[-1][1] - window[0][1]) * 1e6
    latencies = [(seen[stamp] - stamp / 1000) * 1000 for stamp in report["probes"] if stamp in seen]
    lost = len(report["probes"]) - len(latencies)
    missing_readings = report["sent"] * len(KEYS) + len(report["probes"]) - stored
    print(
        f"ingest: offered {rate:,} msg/s for {seconds:.0f} s; published {report['sent']:,} (+{len(report['probes'])} "
        f"probes), broker acknowledged {report['acked']:,}; all committed after {drained_at:.1f} s; "
        f"readings stored {stored:,} (missing {missing_readings:,})",
        flush=True,
    )
    return [
        Figure("MQTT → committed, sustained (×3 readings)", sustained, "msg/s", target="≥ 15,000 msg/s"),
        Figure("ingest → queryable, median", pct(latencies, 0.5), "ms"),
        Figure("ingest → queryable, p99", pct(latencies, 0.99), "ms", target="< 1,000 ms"),
        Figure("probes never seen / readings missing", float(lost + max(missing_readings, 0)), "", target="0"),
        Figure("CPU of the ingesting process per message", cpu_per_message, "µs"),
    ]


# --- the raw engine ------------------------------------------------------------------------------------------------

RAW_TABLE = (
    "CREATE TABLE bench_raw_observation (datastream_id integer NOT NULL, time {ts} NOT NULL, "
    "value double precision NOT NULL, received_at {ts} NOT NULL, PRIMARY KEY (datastream_id, time))"
)


def _raw_rows(devices: int) -> list[list[tuple[int, datetime, float, datetime]]]:
    """Return the rows of RAW_MESSAGES messages (three readings each) in ingestion-sized batches."""
    base = utc_now() - timedelta(days=1)
    batches: list[list[tuple[int, datetime, float, datetime]]] = []
    rows: list[tuple[int, datetime, float, datetime]] = []
    for n in range(RAW_MESSAGES):
        when = base + timedelta(milliseconds=n)
        device = n % devices
        rows.extend((device * 3 + k, when, 20.0 + k, when) for k in range(3))
        if len(rows) >= RAW_BATCH_MESSAGES * 3:
            batches.append(rows)
            rows = []
    if rows:
        batches.append(rows)
    return batches


async def _raw_postgres(url: str, batches: list[list[tuple[int, datetime, float, datetime]]]) -> float:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection  # asyncpg itself: COPY with nothing in between
            await driver.execute(RAW_TABLE.format(ts="timestamptz"))
            try:
                started = time.perf_counter()
                for rows in batches:
                    async with driver.transaction():
                        await driver.copy_records_to_table("bench_raw_observation", records=rows)
                return time.perf_counter() - started
            finally:
                await driver.execute("DROP TABLE IF EXISTS bench_raw_observation")
    finally:
        await engine.dispose()


def _raw_sqlite(url: str, batches: list[list[tuple[int, datetime, float, datetime]]]) -> float:
    database = make_url(url).database
    assert database is not None
    connection = sqlite3.connect(database)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(RAW_TABLE.format(ts="text"))
        text_batches = [[(d, t.isoformat(), v, r.isoformat()) for d, t, v, r in rows] for rows in batches]
        started = time.perf_counter()
        for rows in text_batches:
            with connection:
                connection.executemany("INSERT INTO bench_raw_observation VALUES (?, ?, ?, ?)", rows)
        return time.perf_counter() - started
    finally:
        connection.execute("DROP TABLE IF EXISTS bench_raw_observation")
        connection.close()


async def _raw_rate(url: str) -> float:
    """Messages per second the bare engine stores (three rows each), in ingestion-sized transactions."""
    batches = _raw_rows(option("--devices", DEFAULT_DEVICES))
    if engine_choice() == "postgresql":
        elapsed = await _raw_postgres(url, batches)
    else:
        elapsed = await asyncio.to_thread(_raw_sqlite, url, batches)
    return RAW_MESSAGES / elapsed


# --- the chart ------------------------------------------------------------------------------------------------------


async def _chart(url: str) -> tuple[float, float, float, float]:
    """Load a year of 1-minute history, roll it up, and time 30-day charts; return p50, p95, raw p95 and CPU ms."""
    runtime = _runtime(url, "unused", "unused")
    end = floor_hour(utc_now())
    start = end - timedelta(days=HISTORY_DAYS)
    try:
        async with runtime.db.transaction() as session:
            created = await telemetry_service.create_device(
                session,
                DeviceCreate(
                    code="BENCH-HISTORY",
                    name="Lịch sử một năm",
                    datastreams=[DatastreamCreate(key="level", observed_property="Water level", unit_symbol="m")],
                ),
            )
        stream = created.device.datastreams[0].id
        minutes = HISTORY_DAYS * 24 * 60
        loaded = time.perf_counter()
        for offset in range(0, minutes, 50_000):
            # Built chunk by chunk: a year of rows held in memory would make every garbage collection during the
            # timed charts walk half a million tuples, a cost of this benchmark and not of the product.
            rows = [
                (stream, start + timedelta(minutes=m), 2.0 + (m % 1440) / 1440, start + timedelta(minutes=m))
                for m in range(offset, min(offset + 50_000, minutes))
            ]
            async with runtime.db.transaction() as session:
                await repository.write_observations(session, rows)
                await repository.mark_dirty_hours(session, {(d, floor_hour(t)) for d, t, _, _ in rows})
        del rows
        while True:
            async with runtime.db.transaction() as session:
                if not await telemetry_service.compute_rollups(session):
                    break
        print(f"chart: {minutes:,} readings loaded and rolled up in {time.perf_counter() - loaded:.1f} s", flush=True)
        gc.collect()
        rng = random.Random(4)
        hours = (HISTORY_DAYS - CHART_DAYS) * 24
        windows = [start + timedelta(hours=rng.randrange(0, hours)) for _ in range(CHART_RUNS)]
        product: list[float] = []
        cpu: list[float] = []
        raw: list[float] = []
        query = text(
            "SELECT bucket, count, min_value, max_value, mean_value FROM telemetry_rollup_hour "
            "WHERE datastream_id = :d AND bucket >= :s AND bucket < :e ORDER BY bucket"
        )

        async def product_chart(begin: datetime) -> None:
            async with runtime.db.session() as session:
                t0, c0 = time.perf_counter(), time.process_time()
                chart = await telemetry_service.series(session, stream, begin, begin + timedelta(days=CHART_DAYS))
                product.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
            assert len(chart.points) == CHART_DAYS * 24, len(chart.points)

        async def raw_chart(begin: datetime) -> None:
            async with runtime.db.session() as session:
                t0 = time.perf_counter()
                found = (
                    await session.execute(query, {"d": stream, "s": begin, "e": begin + timedelta(days=CHART_DAYS)})
                ).all()
                raw.append((time.perf_counter() - t0) * 1000)
            assert len(found) == CHART_DAYS * 24

        # A running server has compiled and prepared both statements long before: one untimed round of each.
        await product_chart(windows[0])
        await raw_chart(windows[0])
        for timings in (product, cpu, raw):
            timings.clear()
        for number, begin in enumerate(windows):
            # Alternate which goes first, so that neither always finds the other's pages freshly cached.
            pair = (product_chart, raw_chart) if number % 2 == 0 else (raw_chart, product_chart)
            for chart_once in pair:
                await chart_once(begin)
    finally:
        await runtime.db.dispose()
    print(
        f"chart: CPU of this process per chart median {statistics.median(cpu):.2f} ms, p95 {pct(cpu, 0.95):.2f} ms "
        "(the figure that moves least when the machine is shared)",
        flush=True,
    )
    return statistics.median(product), pct(product, 0.95), pct(raw, 0.95), statistics.median(cpu)


async def run() -> list[Figure]:
    """Run the ingestion benchmark on a fresh database of the chosen engine."""
    figures: list[Figure] = []
    async with fresh_database() as url:
        if CHART_ONLY not in sys.argv[1:]:
            figures = await _ingestion(url)
            raw = await _raw_rate(url)
            figures[0].raw = raw
        if "--no-chart" in sys.argv[1:]:
            return figures
        p50, p95, raw_p95, cpu = await _chart(url)
    cores = os.cpu_count() or 0
    print(f"ingest: {cores} cores; figures from a machine shared with other work are pessimistic", flush=True)
    return [
        *figures,
        Figure("30-day chart of a year of 1-minute data, median", p50, "ms"),
        Figure("30-day chart of a year of 1-minute data, p95", p95, "ms", target="< 50 ms", raw=raw_p95),
        Figure("30-day chart, CPU of this process per chart, median", cpu, "ms"),
    ]
