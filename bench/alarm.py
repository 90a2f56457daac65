"""Alarm latency: from a reading that crosses a threshold to the `alarm.raised` frame on the live stream.

On a fresh database of the chosen engine: 1,000 datastreams (100 stations × 10 streams) each watched by one
threshold rule (1,000 rules enabled). A producer ingests ordinary readings at a steady rate in batches, with the
background workers running as in production (outbox dispatcher, job runner, live feed). Every PROBE_EVERY a
probe reading above the threshold is ingested on a stream picked in turn; the latency is the time from the
ingest call to the moment the staff live stream yields the matching `alarm.raised` frame.
Run: `python -m bench alarm` (BENCH_DATABASE=postgresql for PostgreSQL; BENCH_ALARM_RATE sets the producer's
messages per second, default 100). When NATS answers on 127.0.0.1:4222 the run is repeated with the NATS
transport. Target (issue): p99 < 1 s at 10,000 messages/s with 1,000 rules; the figures report the rate
actually sustained on the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from datetime import timedelta

from ioc.core import migrate
from ioc.core.db import Base
from ioc.core.runtime import Runtime
from ioc.core.security import Principal, PrincipalKind, Role
from ioc.core.settings import Environment, Settings
from ioc.core.time import utc_now
from ioc.modules.alarm import rulebook
from ioc.modules.alarm.schemas import RuleWrite
from ioc.modules.telemetry import InboundMessage, IngestSource, ingest_messages
from ioc.modules.telemetry import service as telemetry_service
from ioc.modules.telemetry.schemas import DatastreamCreate, DeviceCreate

from .common import Figure, fresh_database

STATIONS = 100  # PROBES must not exceed STATIONS: each probe uses the v0 stream of its own station
STREAMS_PER_STATION = 10
# Messages per second the producer aims at (one message = one station, 10 readings); BENCH_ALARM_RATE overrides.
TARGET_RATE = int(os.environ.get("BENCH_ALARM_RATE", "100"))
TICK = 0.1  # seconds between producer batches
PROBES = 30
PROBE_EVERY = 0.25  # seconds
WARM_UP = 3.0  # seconds: the start-up jobs (retention, partitions...) run first
THRESHOLD = 100.0
MODULES = ["audit", "identity", "org_unit", "notification", "telemetry", "citizen_report", "environment", "alarm"]
NATS_URL = "nats://127.0.0.1:4222"
BENCH_USER = Principal(kind=PrincipalKind.SYSTEM, id=None, name="bench", role=Role.ADMIN)


def _runtime(url: str, transport: str = "inprocess") -> Runtime:
    settings = Settings(
        env=Environment.TEST,
        database_url=url,
        modules=MODULES,
        run_background=True,
        log_json=False,
        mqtt_url="",
        event_transport=transport,
        nats_url=NATS_URL if transport == "nats" else "",
        nats_stream=f"BENCH_{uuid.uuid4().hex[:8]}",
    )
    return Runtime(settings)


async def _setup(runtime: Runtime) -> dict[int, tuple[str, str]]:
    """Create the stations, their streams and one rule per stream; return {stream id: (station, key)}."""
    streams: dict[int, tuple[str, str]] = {}
    async with runtime.db.transaction() as session:
        for s in range(STATIONS):
            code = f"BENCH-{s:03d}"
            created = await telemetry_service.create_device(
                session,
                DeviceCreate(
                    code=code,
                    name=f"Trạm {code}",
                    datastreams=[
                        DatastreamCreate(key=f"v{k}", observed_property="Water level", unit_symbol="cm")
                        for k in range(STREAMS_PER_STATION)
                    ],
                ),
            )
            for stream in created.device.datastreams:
                streams[stream.id] = (code, stream.key)
    async with runtime.db.transaction() as session:
        for stream_id in streams:
            await rulebook.create_rule(
                session,
                RuleWrite(
                    name=f"Ngưỡng {stream_id}",
                    kind="threshold",
                    scope_kind="datastream",
                    scope_ref=str(stream_id),
                    operator=">",
                    threshold=THRESHOLD,
                    enabled=True,
                ),
                BENCH_USER,
            )
    return streams


def _message(code: str, values: dict[str, float], at_offset: float = 0.0) -> InboundMessage:
    ts = (utc_now() + timedelta(seconds=at_offset)).isoformat()
    return InboundMessage(payload=json.dumps({"ts": ts, "values": values}), source=IngestSource.HTTP, device_code=code)


async def _produce(runtime: Runtime, stop: asyncio.Event, sent: list[int]) -> None:
    """Ingest ordinary readings (below the threshold) at TARGET_RATE messages per second."""
    per_tick = max(1, int(TARGET_RATE * TICK))
    station = 0
    while not stop.is_set():
        started = time.perf_counter()
        batch = []
        for _ in range(per_tick):
            code = f"BENCH-{station % STATIONS:03d}"
            # v0 is left to the probes: a probe and an ordinary reading of one stream never race.
            batch.append(_message(code, {f"v{k}": 50.0 for k in range(1, STREAMS_PER_STATION)}))
            station += 1
        await ingest_messages(runtime, batch)
        sent[0] += len(batch)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max(0.0, TICK - (time.perf_counter() - started)))


async def _listen(runtime: Runtime, arrived: dict[str, float], probes: dict[str, float], done: asyncio.Event) -> None:
    """Record when each alarm.raised frame arrives on the staff live stream, by its source."""
    async for frame in runtime.live.stream(last_event_id=None, public_only=False, names={"alarm"}):
        if "event: alarm.raised" not in frame:
            continue
        data = json.loads(frame.split("data: ", 1)[1])
        arrived.setdefault(data["payload"]["source_ref"], time.perf_counter())
        if len(probes) == PROBES and probes.keys() <= arrived.keys():
            done.set()


async def _scenario(transport: str) -> list[Figure]:
    """Measure one event transport on a fresh database."""
    async with fresh_database() as url:
        migrate.import_all_models()
        runtime = _runtime(url, transport)
        async with runtime.db.engine.begin() as conn:
            # Tables of modules newer than the last migration are created from the models.
            await conn.run_sync(Base.metadata.create_all)
        try:
            streams = await _setup(runtime)
            await runtime.start()
            arrived: dict[str, float] = {}
            probes: dict[str, float] = {}
            all_arrived = asyncio.Event()
            listener = asyncio.create_task(_listen(runtime, arrived, probes, all_arrived))
            stop = asyncio.Event()
            sent = [0]
            await asyncio.sleep(WARM_UP)
            producer = asyncio.create_task(_produce(runtime, stop, sent))
            await asyncio.sleep(1.0)
            load_started, sent_before = time.perf_counter(), sent[0]
            ids = [i for i, (_code, key) in streams.items() if key == "v0"]
            for n in range(PROBES):
                stream_id = ids[(n * 37) % len(ids)]
                code, key = streams[stream_id]
                probes[str(stream_id)] = time.perf_counter()
                await ingest_messages(runtime, [_message(code, {key: THRESHOLD + 50}, at_offset=0.001)])
                await asyncio.sleep(PROBE_EVERY)
            rate = (sent[0] - sent_before) / (time.perf_counter() - load_started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_arrived.wait(), timeout=10)
            stop.set()
            await producer
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        finally:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(runtime.stop(), timeout=30)
            if transport == "nats":
                await _delete_stream(runtime.settings.nats_stream)
    latencies = sorted(arrived[ref] - t0 for ref, t0 in probes.items() if ref in arrived)
    missing = len(probes) - len(latencies)

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")

    return [
        Figure(f"{transport}: ordinary messages ingested (×9 readings)", rate, "msg/s", target="10,000 msg/s"),
        Figure(f"{transport}: reading → alarm.raised on SSE, median", pct(0.5), "ms"),
        Figure(f"{transport}: reading → alarm.raised on SSE, p99", pct(0.99), "ms", target="< 1,000 ms"),
        Figure(f"{transport}: probes without an alarm within 10 s", float(missing), "probes", target="0"),
    ]


async def _delete_stream(name: str) -> None:
    """Remove the benchmark's JetStream stream from the local NATS server."""
    import nats

    connection = await nats.connect(NATS_URL)
    try:
        with contextlib.suppress(Exception):
            await connection.jetstream().delete_stream(name)
    finally:
        await connection.close()


async def _nats_reachable() -> bool:
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", 4222), timeout=1)
    except OSError:
        return False
    except TimeoutError:
        return False
    writer.close()
    return True


async def run() -> list[Figure]:
    """Run the alarm latency benchmark with the in-process transport, and with NATS when it answers."""
    figures = await _scenario("inprocess")
    if await _nats_reachable():
        figures += await _scenario("nats")
    return figures
