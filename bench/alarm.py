"""Alarm latency: from a reading that crosses a threshold to the `alarm.raised` frame on the live stream.

On a fresh database of the chosen engine: 1,000 datastreams (100 stations × 10 streams v0…v9) each watched by
one threshold rule (1,000 rules enabled). The process runs as `ioc run` does: the telemetry module subscribes
to Mosquitto (127.0.0.1:1883) at start-up, commits batches and acknowledges after commit; the alarm module's
observation lane evaluates the rules after each commit; the outbox dispatcher, job runner and live feed run.

A publisher in a separate process (the raw-socket publisher of `tests/support/mqtt_load.py`, as for
`bench/ingest.py`) publishes ordinary QoS 1 messages of three readings below the threshold (`v1`…`v9` in turn)
round-robin over the stations at a set rate (default 10,000 messages/s, `--rate R`) for S seconds (default 20,
`--seconds S`); from the warm-up on, every PROBE_EVERY it publishes a probe: one reading above the threshold
on the `v0` stream of a station not probed yet, noting the wall-clock time it was written to the socket. The
latency of a probe is the time from then to the moment this process's staff live stream yields the
`alarm.raised` frame of that stream.

Figures, per event transport (in-process; NATS JetStream too when it answers on 127.0.0.1:4222): messages/s
committed while the publisher runs (after the warm-up), the median and p99 latency, probes without an alarm
within 10 s of the end of publishing. Target (issue): p99 < 1 s while ingesting 10,000 messages/s with 1,000
rules. Run: `python -m bench alarm` (BENCH_DATABASE=postgresql for PostgreSQL).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import time
import uuid
from multiprocessing.connection import Connection
from typing import Any

from tests.support.mqtt_load import Message, RawPublisher, publish_steadily

from ioc.core import migrate
from ioc.core.db import Base
from ioc.core.runtime import Runtime
from ioc.core.security import Principal, PrincipalKind, Role
from ioc.core.settings import Environment, Settings
from ioc.modules.alarm import rulebook
from ioc.modules.alarm.schemas import RuleWrite
from ioc.modules.telemetry import service as telemetry_service
from ioc.modules.telemetry.mqtt import running_ingestor
from ioc.modules.telemetry.schemas import DatastreamCreate, DeviceCreate

from .common import Figure, fresh_database
from .ingest import MQTT_HOST, MQTT_PORT, option, pct, remove_mqtt_session, settle_daily_jobs

STATIONS = 100  # each probe uses the v0 stream of a station of its own, so at most STATIONS probes
STREAMS_PER_STATION = 10
ORDINARY_KEYS = [f"v{k}" for k in range(1, STREAMS_PER_STATION)]  # v0 is left to the probes
READINGS_PER_MESSAGE = 3  # as the ingestion target's messages
DEFAULT_RATE = 10_000
DEFAULT_SECONDS = 20
TICK = 0.005  # the publisher's pacing step
PUBLISH_WINDOW = 20_000
ACK_WAIT_SECONDS = 30.0
WARM_UP = 3.0  # seconds: connections and first batches; no probe and no rate figure before
PROBE_EVERY = 0.5  # seconds
ARRIVAL_WAIT = 10.0  # after publishing ends, for the last probes' alarms
THRESHOLD = 100.0
MODULES = ["audit", "identity", "org_unit", "notification", "telemetry", "citizen_report", "environment", "alarm"]
NATS_URL = "nats://127.0.0.1:4222"
BENCH_USER = Principal(kind=PrincipalKind.SYSTEM, id=None, name="bench", role=Role.ADMIN)


# --- the publisher (its own process) -----------------------------------------------------------------------------


def publisher_main(prefix: str, rate: int, seconds: float, out: Connection) -> None:
    """Entry point of the publisher process: publish, then send the counts and probe times back."""
    out.send(asyncio.run(_publish(prefix, rate, seconds)))
    out.close()


def _station(number: int) -> str:
    return f"BENCH-{number:03d}"


async def _publish(prefix: str, rate: int, seconds: float) -> dict[str, Any]:
    """Publish ordinary messages at `rate` per second and a probe every PROBE_EVERY after the warm-up."""
    publisher = await RawPublisher.connect(MQTT_HOST, MQTT_PORT, f"ioc-bench-pub-{uuid.uuid4().hex[:8]}")
    topics = [f"{prefix}/{_station(n)}" for n in range(STATIONS)]
    groups = [ORDINARY_KEYS[i : i + READINGS_PER_MESSAGE] for i in range(0, len(ORDINARY_KEYS), READINGS_PER_MESSAGE)]
    # A station's messages follow the clock, as real sensors' do (each its own millisecond, so no reading
    # replaces another): the n-th message of a station is stamped n × (stations / rate) seconds after the start.
    # (Readings stamped minutes apart in one batch make the evaluation read every reading in between: see
    # docs/modules/alarm.md.)
    step_ms = max(1, STATIONS * 1000 // max(1, rate))
    base_ms = int(time.time() * 1000)
    probes: dict[str, float] = {}  # "station:v0" → wall-clock time the probe was written
    started = time.perf_counter()

    def ordinary(number: int) -> Message:
        keys = groups[(number // STATIONS) % len(groups)]
        values = ",".join(f'"{key}":{50 + number % 10}' for key in keys)
        stamp = base_ms + (number // STATIONS) * step_ms
        return topics[number % STATIONS], b'{"ts":%d,"values":{%s}}' % (stamp, values.encode())

    def probe_if_due() -> list[Message]:
        elapsed = time.perf_counter() - started
        if elapsed < WARM_UP + len(probes) * PROBE_EVERY or len(probes) >= STATIONS:
            return []
        station = _station((len(probes) * 37) % STATIONS)  # 37 is prime to 100: every station once
        probes[f"{station}:v0"] = time.time()
        body = json.dumps({"ts": int(time.time() * 1000), "values": {"v0": THRESHOLD + 50}}).encode()
        return [(f"{prefix}/{station}", body)]

    try:
        sent = await publish_steadily(
            publisher, rate, seconds, ordinary, window=PUBLISH_WINDOW, tick=TICK, extra=probe_if_due
        )
        publish_seconds = time.perf_counter() - started
        await publisher.wait_acknowledged(ACK_WAIT_SECONDS)
    finally:
        publisher.close()
    return {"sent": sent, "acked": publisher.acked, "probes": probes, "seconds": publish_seconds}


# --- the ingesting process (this one) ------------------------------------------------------------------------------


def _runtime(url: str, transport: str, client_id: str, prefix: str) -> Runtime:
    settings = Settings(
        env=Environment.TEST,
        database_url=url,
        modules=MODULES,
        run_background=True,
        log_json=False,
        log_level="WARNING",
        mqtt_url=f"mqtt://{MQTT_HOST}:{MQTT_PORT}?client_id={client_id}",
        mqtt_topic_prefix=prefix,
        event_transport=transport,
        nats_url=NATS_URL if transport == "nats" else "",
        nats_stream=f"BENCH_{uuid.uuid4().hex[:8]}",
    )
    return Runtime(settings)


async def _setup(runtime: Runtime) -> dict[int, str]:
    """Create the stations, their streams and one rule per stream; return {stream id: "station:key"}."""
    streams: dict[int, str] = {}
    async with runtime.db.transaction() as session:
        for s in range(STATIONS):
            code = _station(s)
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
                streams[stream.id] = f"{code}:{stream.key}"
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


async def _listen(runtime: Runtime, names: dict[int, str], arrived: dict[str, float]) -> None:
    """Note when each alarm.raised frame arrives on the staff live stream, by its stream's "station:key"."""
    async for frame in runtime.live.stream(last_event_id=None, public_only=False, names={"alarm"}):
        if "event: alarm.raised" not in frame:
            continue
        data = json.loads(frame.split("data: ", 1)[1])
        name = names.get(int(data["payload"]["source_ref"]))
        if name is not None:
            arrived.setdefault(name, time.time())


async def _scenario(transport: str) -> list[Figure]:
    """Measure one event transport on a fresh database."""
    rate = option("--rate", DEFAULT_RATE)
    seconds = float(option("--seconds", DEFAULT_SECONDS))
    unique = uuid.uuid4().hex[:10]
    client_id, prefix = f"ioc-bench-{unique}", f"ioc-bench/{unique}/telemetry"
    async with fresh_database() as url:
        migrate.import_all_models()
        runtime = _runtime(url, transport, client_id, prefix)
        async with runtime.db.engine.begin() as conn:
            # Tables of modules newer than the last migration are created from the models.
            await conn.run_sync(Base.metadata.create_all)
        context = multiprocessing.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        arrived: dict[str, float] = {}
        try:
            names = await _setup(runtime)
            await runtime.start()
            ingestor = running_ingestor(runtime)
            assert ingestor is not None, "MQTT ingestion did not start"
            await asyncio.wait_for(ingestor.subscribed.wait(), 30)
            await settle_daily_jobs(runtime)
            listener = asyncio.create_task(_listen(runtime, names, arrived))
            process = context.Process(target=publisher_main, args=(prefix, rate, seconds, sender), daemon=True)
            process.start()
            began = time.time()
            timeline: list[tuple[float, int]] = []
            while not receiver.poll():
                timeline.append((time.time() - began, ingestor.committed_messages))
                await asyncio.sleep(0.25)
            report: dict[str, Any] = receiver.recv()
            await asyncio.to_thread(process.join, 10)
            deadline = time.perf_counter() + ARRIVAL_WAIT
            while not report["probes"].keys() <= arrived.keys() and time.perf_counter() < deadline:  # noqa: ASYNC110 - dicts, polled
                await asyncio.sleep(0.05)
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        finally:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(runtime.stop(), timeout=30)
            await remove_mqtt_session(client_id)
            if transport == "nats":
                await _delete_stream(runtime.settings.nats_stream)
    window = [(t, n) for t, n in timeline if WARM_UP <= t <= report["seconds"]]
    sustained = 0.0
    if len(window) > 1 and window[-1][0] > window[0][0]:
        sustained = (window[-1][1] - window[0][1]) / (window[-1][0] - window[0][0])
    probes: dict[str, float] = report["probes"]
    latencies = [(arrived[name] - sent) * 1000 for name, sent in probes.items() if name in arrived]
    missing = len(probes) - len(latencies)
    print(
        f"alarm ({transport}): offered {rate:,} msg/s × {READINGS_PER_MESSAGE} readings for {seconds:.0f} s; "
        f"published {report['sent']:,}, broker acknowledged {report['acked']:,}; {len(probes)} probes, "
        f"{len(latencies)} alarms seen",
        flush=True,
    )
    return [
        Figure(f"{transport}: MQTT → committed while probing (×3 readings)", sustained, "msg/s", target="10,000 msg/s"),
        Figure(f"{transport}: reading → alarm.raised on SSE, median", pct(latencies, 0.5), "ms"),
        Figure(f"{transport}: reading → alarm.raised on SSE, p99", pct(latencies, 0.99), "ms", target="< 1,000 ms"),
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
