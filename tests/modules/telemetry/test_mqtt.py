"""MQTT ingestion through a real Mosquitto: QoS 1, acknowledged only after commit, reconnecting by itself.

Each test uses its own topic prefix and client id, so parallel runs do not see each other's messages, and
removes its persistent session from the broker afterwards.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import paho.mqtt.client as paho
import pytest
from click.testing import CliRunner
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from ioc.app import create_app
from ioc.cli import main
from ioc.core.runtime import Runtime
from ioc.core.settings import Settings
from ioc.core.time import utc_now
from ioc.modules.telemetry import service
from ioc.modules.telemetry.ingest import BatchResult, InboundMessage, ingest_messages
from ioc.modules.telemetry.models import DeadLetter, Observation
from ioc.modules.telemetry.mqtt import MqttConfig, MqttIngestor, parse_mqtt_url, publish, running_ingestor
from ioc.modules.telemetry.simulator import STATIONS, device_create

from ...conftest import require_service
from ...support.tcp_proxy import TcpProxy
from .conftest import DeviceFactory
from .test_ingest import ms, observations

HOST, PORT = "127.0.0.1", 1883
WAIT = 15.0


def _remove_session(client_id: str) -> None:
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.connect(HOST, PORT)
    client.loop_start()
    client.disconnect()
    client.loop_stop()


@pytest.fixture
async def config() -> AsyncIterator[MqttConfig]:
    """A broker configuration with a topic prefix and client id of this test only."""
    require_service("Mosquitto", HOST, PORT)
    unique = uuid.uuid4().hex[:12]
    config = MqttConfig(
        host=HOST, port=PORT, client_id=f"ioc-test-{unique}", topic_prefix=f"ioc-test/{unique}/telemetry"
    )
    yield config
    await asyncio.to_thread(_remove_session, config.client_id)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = WAIT) -> None:
    """Wait until an async check passes."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def started(runtime: Runtime, config: MqttConfig, **options: Any) -> MqttIngestor:
    """Start an ingestor and wait until its subscription is active."""
    ingestor = MqttIngestor(runtime, config, **options)
    await ingestor.start()
    await asyncio.wait_for(ingestor.subscribed.wait(), WAIT)
    return ingestor


def reading(value: float) -> str:
    """A payload with one pm25 reading a minute ago."""
    return json.dumps({"ts": ms(utc_now()) - 60_000, "values": {"pm25": value}})


async def test_a_published_reading_is_stored_and_bad_messages_become_dead_letters(
    runtime: Runtime, make_device: DeviceFactory, config: MqttConfig
) -> None:
    await make_device("KK-01")
    ingestor = await started(runtime, config)
    try:
        senml = json.dumps([{"bn": "urn:dev:ioc:KK-01:", "n": "temp", "v": 29.5, "t": -30}])
        await publish(
            config,
            [
                (f"{config.topic_prefix}/KK-01", reading(33.3)),
                (f"{config.topic_prefix}/KK-01", senml),
                (f"{config.topic_prefix}/KHONG-CO", reading(1)),
                (f"{config.topic_prefix}/KK-01", "không phải JSON"),
            ],
        )

        async def stored() -> bool:
            return bool(await observations(runtime)) and bool(await observations(runtime, "temp"))

        await eventually(stored)

        async def two_dead_letters() -> bool:
            async with runtime.db.session() as session:
                return len((await session.scalars(select(DeadLetter))).all()) == 2

        await eventually(two_dead_letters)
    finally:
        await ingestor.stop()
    assert [v for _, v in await observations(runtime)] == [33.3]
    assert [v for _, v in await observations(runtime, "temp")] == [29.5]
    async with runtime.db.session() as session:
        letters = {(d.reason, d.topic, d.source) for d in await session.scalars(select(DeadLetter))}
    assert letters == {
        ("unknown_device", f"{config.topic_prefix}/KHONG-CO", "mqtt"),
        ("malformed_payload", f"{config.topic_prefix}/KK-01", "mqtt"),
    }
    assert ingestor.committed_messages == 4


async def test_a_message_is_not_acknowledged_until_committed(
    runtime: Runtime, make_device: DeviceFactory, config: MqttConfig
) -> None:
    """The commit fails, the process stops; the next process with the same client id gets the message again."""
    await make_device("KK-01")
    attempts: list[int] = []

    async def database_down(_runtime: Runtime, messages: Sequence[InboundMessage]) -> BatchResult:
        attempts.append(len(messages))
        raise ConnectionError("database unavailable")

    failing = await started(runtime, config, ingest_fn=database_down)
    await publish(config, [(f"{config.topic_prefix}/KK-01", reading(12.5))])

    async def tried() -> bool:
        return bool(attempts)

    await eventually(tried)
    await failing.stop()
    assert await observations(runtime) == []

    # Same client id: the broker redelivers the unacknowledged message to the new session.
    working = await started(runtime, config)

    async def stored() -> bool:
        return bool(await observations(runtime))

    await eventually(stored)
    await working.stop()
    assert [v for _, v in await observations(runtime)] == [12.5]

    # And now that it was committed and acknowledged, nothing comes back.
    seen: list[int] = []

    async def record(_runtime: Runtime, messages: Sequence[InboundMessage]) -> BatchResult:
        seen.append(len(messages))
        return await ingest_messages(_runtime, messages)

    quiet = await started(runtime, config, ingest_fn=record)
    await asyncio.sleep(1.0)
    await quiet.stop()
    assert seen == []


async def test_ingestion_reconnects_after_the_broker_goes_away(
    runtime: Runtime, make_device: DeviceFactory, config: MqttConfig
) -> None:
    await make_device("KK-01")
    proxy = TcpProxy(HOST, PORT)
    await proxy.start()
    through_proxy = MqttConfig(host=HOST, port=proxy.port, client_id=config.client_id, topic_prefix=config.topic_prefix)
    ingestor = await started(runtime, through_proxy)
    try:
        await proxy.cut()  # the broker "restarts": connections drop, new ones are refused

        async def disconnected() -> bool:
            return not ingestor.subscribed.is_set()

        await eventually(disconnected)
        # Published while the ingestor is away: the broker keeps it in the persistent session.
        await publish(config, [(f"{config.topic_prefix}/KK-01", reading(7.0))])
        await proxy.start()

        async def stored() -> bool:
            return bool(await observations(runtime))

        await eventually(stored, within=30)
    finally:
        await ingestor.stop()
        await proxy.cut()
    assert [v for _, v in await observations(runtime)] == [7.0]


async def test_the_module_starts_ingestion_with_the_process_when_a_broker_is_configured(
    settings: Settings, config: MqttConfig, make_device: DeviceFactory, runtime: Runtime
) -> None:
    await make_device("KK-01")
    background = settings.model_copy(
        update={
            "run_background": True,
            "mqtt_url": f"mqtt://{HOST}:{PORT}?client_id={config.client_id}",
            "mqtt_topic_prefix": config.topic_prefix,
        }
    )
    app = create_app(background)
    served: Runtime = app.state.runtime
    async with app.router.lifespan_context(app):
        ingestor = running_ingestor(served)
        assert ingestor is not None
        assert ingestor.config.client_id == config.client_id
        await asyncio.wait_for(ingestor.subscribed.wait(), WAIT)
        await publish(config, [(f"{config.topic_prefix}/KK-01", reading(21.0))])

        async def stored() -> bool:
            return bool(await observations(runtime))

        await eventually(stored)
    assert running_ingestor(served) is None  # stopped with the process


def test_mqtt_url_forms() -> None:
    plain = parse_mqtt_url("mqtt://127.0.0.1", "ioc/telemetry/", "ioc-80-telemetry")
    assert (plain.host, plain.port, plain.client_id, plain.subscription, plain.tls) == (
        "127.0.0.1",
        1883,
        "ioc-80-telemetry",
        "ioc/telemetry/+",
        False,
    )
    secure = parse_mqtt_url("mqtts://ioc%40tn:m%E1%BA%ADt@broker.example:8884?client_id=ioc-2", "x", "d")
    assert (secure.username, secure.password, secure.port, secure.client_id, secure.tls) == (
        "ioc@tn",
        "mật",
        8884,
        "ioc-2",
        True,
    )
    with pytest.raises(ValueError, match="mqtt://"):
        parse_mqtt_url("http://broker", "x", "d")


async def test_the_simulator_publishes_every_talking_station_through_the_broker(
    runtime: Runtime, config: MqttConfig, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with runtime.db.transaction() as session:
        for station in STATIONS:
            await service.create_device(session, device_create(station))
    monkeypatch.setenv("IOC_MQTT_URL", f"mqtt://{HOST}:{PORT}")
    monkeypatch.setenv("IOC_MQTT_TOPIC_PREFIX", config.topic_prefix)
    ingestor = await started(runtime, config)
    try:
        # The command runs its own event loop, so it runs in a thread of its own here.
        result = await asyncio.to_thread(cli.invoke, main, ["simulate", "--once", "--no-episode"])
        assert result.exit_code == 0, result.output
        assert f"MQTT {HOST}:{PORT}" in result.output

        async def all_stored() -> bool:
            return ingestor.committed_messages >= len(STATIONS) - 1

        await eventually(all_stored)
    finally:
        await ingestor.stop()
    async with runtime.db.session() as session:
        readings = await session.scalar(select(func.count()).select_from(Observation))
        letters = await session.scalar(select(func.count()).select_from(DeadLetter))
    assert readings == sum(len(s.quantities) for s in STATIONS if not s.silent)
    assert letters == 0
