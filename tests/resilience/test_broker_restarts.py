"""Brokers going away under load: the product's MQTT and NATS clients reconnect by themselves, losing nothing.

The shared Mosquitto cannot be restarted (other suites use it), so its outage is a TCP proxy that is cut;
a private `mosquitto` and a private `nats-server` are really stopped and started again. These scenarios do
not depend on the database engine, so they run once, in the PostgreSQL pass.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ioc.core.events import record_event
from ioc.core.models import CalendarDay, OutboxEvent
from ioc.core.outbox import NatsTransport, durable_name
from ioc.core.runtime import Runtime
from ioc.modules.telemetry.mqtt import MqttConfig, MqttIngestor

from ..conftest import require_service
from ..core.samplemod import manifest as sample
from .support import (
    MQTT_HOST,
    IocProcess,
    NumberedPublisher,
    ServerProcess,
    TcpProxy,
    eventually,
    mosquitto_process,
    nats_process,
    remove_mqtt_session,
    unique_mqtt,
)
from .telemetry import check_exactly_once, dead_letters, progress, provision, stored, stored_count, wait_until_ingesting

pytestmark = pytest.mark.usefixtures("once")

DEVICES = ("BROKER-01", "BROKER-02", "BROKER-03")
COUNT, RATE = 450, 150.0
OUTAGE_SECONDS = 1.5


@asynccontextmanager
async def _ingesting(runtime: Runtime, port: int, client_id: str, prefix: str) -> AsyncIterator[MqttIngestor]:
    """Run the product's MQTT ingestor, subscribed, for the duration of the block."""
    ingestor = MqttIngestor(runtime, MqttConfig(host=MQTT_HOST, port=port, client_id=client_id, topic_prefix=prefix))
    await ingestor.start()
    try:
        await asyncio.wait_for(ingestor.subscribed.wait(), 15)
        yield ingestor
    finally:
        await ingestor.stop()


@dataclass(frozen=True)
class _Outcome:
    """What the broker acknowledged and what was stored, across an outage."""

    stored_at_outage: int
    acknowledged: set[int]
    rows: list[tuple[str, int, float]]


async def _publish_through_outage(
    runtime: Runtime,
    publisher: NumberedPublisher,
    outage: Callable[[], Awaitable[None]],
    restore: Callable[[], Awaitable[None]],
    name: str,
) -> _Outcome:
    """Publish; once a quarter is stored, bring the broker down, back up OUTAGE_SECONDS later; wait for the rest."""
    try:
        publisher.start()

        async def some_stored() -> bool:
            return await stored_count(runtime, publisher) >= COUNT // 4

        await eventually(some_stored, within=30, what=f"readings flowing before the {name}")
        await outage()
        stored_at_outage = await stored_count(runtime, publisher)
        await asyncio.sleep(OUTAGE_SECONDS)
        await restore()
        await publisher.wait_sent()
        acknowledged = publisher.acknowledged()

        async def all_stored() -> bool:
            return await stored_count(runtime, publisher) >= len(acknowledged)

        async def report() -> str:
            return await progress(runtime, publisher)

        # paho waits up to MQTT_RECONNECT_MAX_SECONDS between attempts.
        await eventually(
            all_stored, within=45, what=f"every acknowledged reading stored after the {name}", detail=report
        )
        await asyncio.sleep(0.5)
        return _Outcome(stored_at_outage, acknowledged, await stored(runtime, publisher))
    finally:
        publisher.close()


async def test_mqtt_connection_cut_during_ingestion_loses_and_duplicates_nothing(tool_runtime: Runtime) -> None:
    require_service("Mosquitto", MQTT_HOST, 1883)
    client_id, prefix = unique_mqtt("ioc-cut")
    await provision(tool_runtime, DEVICES)
    proxy = TcpProxy(MQTT_HOST, 1883)
    await proxy.start()
    publisher = NumberedPublisher(1883, prefix, DEVICES, COUNT, RATE)
    try:
        async with _ingesting(tool_runtime, proxy.port, client_id, prefix) as ingestor:

            async def cut() -> None:
                await proxy.cut()

                async def disconnected() -> bool:
                    return not ingestor.subscribed.is_set()

                await eventually(disconnected, within=15, what="the ingestor noticed the cut")

            outcome = await _publish_through_outage(tool_runtime, publisher, cut, proxy.start, "cut")
    finally:
        await proxy.cut()
        await asyncio.to_thread(remove_mqtt_session, 1883, client_id)
    assert len(outcome.acknowledged) == COUNT
    check_exactly_once(outcome.rows, publisher, outcome.acknowledged)
    assert await dead_letters(tool_runtime, prefix) == 0


async def test_mqtt_broker_restarted_during_ingestion_loses_and_duplicates_nothing(
    tool_runtime: Runtime, processes: list[IocProcess | ServerProcess], tmp_path: Path
) -> None:
    broker = mosquitto_process(tmp_path)
    processes.append(broker)
    await broker.start()
    client_id, prefix = unique_mqtt("ioc-restart")
    await provision(tool_runtime, DEVICES)
    publisher = NumberedPublisher(broker.port, prefix, DEVICES, COUNT, RATE)

    async def stop_broker() -> None:
        # A graceful stop: Mosquitto writes its sessions and queued messages to disk, as on a service restart.
        broker.kill(signal.SIGTERM)

    try:
        async with _ingesting(tool_runtime, broker.port, client_id, prefix):
            await wait_until_ingesting(tool_runtime, broker.port, prefix, DEVICES[0], within=15)
            outcome = await _publish_through_outage(
                tool_runtime, publisher, stop_broker, broker.start, "broker restart"
            )
    finally:
        broker.kill()
    assert outcome.stored_at_outage < COUNT
    assert len(outcome.acknowledged) >= COUNT // 2, "the publisher reconnected too"
    check_exactly_once(outcome.rows, publisher, outcome.acknowledged)
    print(
        f"\nbroker stopped at {outcome.stored_at_outage}/{COUNT}; {len(outcome.acknowledged)} acknowledged, "
        f"{len(outcome.rows)} stored"
    )


async def _handled(runtime: Runtime) -> list[int]:
    async with runtime.db.session() as session:
        days = await session.scalars(select(CalendarDay.day).where(CalendarDay.name == "handled"))
        return sorted((day - sample.BASE_DAY).days for day in days)


async def test_nats_restarted_while_events_flow_delivers_each_event_once(
    tool_runtime: Runtime, processes: list[IocProcess | ServerProcess], tmp_path: Path
) -> None:
    server = nats_process(tmp_path)
    processes.append(server)
    await server.start()
    settings = tool_runtime.settings.model_copy(
        update={
            "modules": ["tests.core.samplemod"],
            "event_transport": "nats",
            "nats_url": f"nats://127.0.0.1:{server.port}",
            "nats_stream": f"IOC_RES_{uuid.uuid4().hex[:8]}",
            "run_background": True,
        }
    )
    runtime = Runtime(settings)
    await runtime.start()
    # 80 events, one every 50 ms; NATS is down from the 20th to the 50th (about 1.5 s and 30 events).
    total, down_at, up_at = 80, 20, 50
    try:
        for number in range(total):
            if number == down_at:
                server.kill()  # kill -9: JetStream keeps what it acknowledged in its store folder
            if number == up_at:
                await server.start()
                restarted_at = asyncio.get_running_loop().time()
            async with runtime.db.transaction() as session:
                record_event(session, sample.ThingHappened(number=number))
            await asyncio.sleep(0.05)

        async def all_handled() -> bool:
            return len(await _handled(runtime)) >= total

        await eventually(all_handled, within=45, what="every event handled after NATS came back")
        caught_up = asyncio.get_running_loop().time() - restarted_at
        await asyncio.sleep(1.0)  # a redelivery, if any, would be handled now
        handled = await _handled(runtime)
        async with runtime.db.session() as session:
            unpublished = await session.scalar(select(func.count()).where(OutboxEvent.published_at.is_(None)))
        assert isinstance(runtime.transport, NatsTransport)
        assert runtime.transport.js is not None
        consumer = await runtime.transport.js.consumer_info(settings.nats_stream, durable_name("samplemod.on_thing"))
    finally:
        await runtime.stop()
        server.kill()
    assert handled == list(range(total))
    assert unpublished == 0
    # Nothing is left undelivered in the stream. A message whose acknowledgement died with the connection may
    # still be "ack pending": JetStream redelivers it after AckWait and the handled-events table drops it.
    assert consumer.num_pending == 0
    print(f"\nNATS killed for {up_at - down_at} events; every event handled {caught_up:.1f} s after its restart")
