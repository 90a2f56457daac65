"""MQTT ingestion: a persistent QoS 1 subscription whose messages are acknowledged only once committed.

paho-mqtt runs its network loop in a thread of its own (it reconnects by itself after a broker restart)
with `manual_ack=True`; messages are handed to the event loop, batched, written in one transaction by
`ingest.ingest_messages`, and only then acknowledged. A crash between receipt and commit therefore leads to a
redelivery (the session is persistent: clean_session=False with a stable client id), and the write is
idempotent. aiomqtt is not used because it does not expose manual acknowledgement.

A message received before a reconnect is not acknowledged after it: the broker sends it again in the new
session with the same packet id, and acknowledging the old copy could acknowledge a newer message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit
from weakref import WeakKeyDictionary

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from ioc.core.time import utc_now

from . import ingest
from .constants import (
    MQTT_BATCH_MAX_MESSAGES,
    MQTT_BATCH_WAIT_SECONDS,
    MQTT_KEEPALIVE_SECONDS,
    MQTT_RECONNECT_MAX_SECONDS,
    MQTT_RECONNECT_MIN_SECONDS,
    MQTT_RETRY_MAX_SECONDS,
    IngestSource,
)
from .ingest import BatchResult, InboundMessage

if TYPE_CHECKING:
    from ioc.core.runtime import Runtime

log = logging.getLogger(__name__)

# A batch is closed when no further message arrives within this gap, so that a quiet line is not delayed.
BATCH_GAP_SECONDS = 0.005
STOP_TIMEOUT_SECONDS = 10.0

IngestFunction = Callable[["Runtime", Sequence[InboundMessage]], Awaitable[BatchResult]]


class MqttUrlError(ValueError):
    """IOC_MQTT_URL cannot be read."""


@dataclass(frozen=True)
class MqttConfig:
    """Where the broker is and how this process subscribes."""

    host: str
    port: int
    client_id: str
    topic_prefix: str
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @property
    def subscription(self) -> str:
        """Return the topic filter: one level per device under the prefix."""
        return f"{self.topic_prefix}/+"


def parse_mqtt_url(url: str, topic_prefix: str, default_client_id: str) -> MqttConfig:
    """Read `mqtt[s]://[user:password@]host[:port][?client_id=...]`."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise MqttUrlError(
            f"IOC_MQTT_URL phải có dạng mqtt://máy:cổng / IOC_MQTT_URL must look like mqtt://host:port, not {url!r}"
        )
    tls = parts.scheme in ("mqtts", "ssl")
    query = parse_qs(parts.query)
    client_id = (query.get("client_id") or [default_client_id])[0]
    return MqttConfig(
        host=parts.hostname,
        port=parts.port or (8883 if tls else 1883),
        client_id=client_id,
        topic_prefix=topic_prefix.strip("/"),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
    )


@dataclass(frozen=True)
class _Received:
    generation: int
    message: paho.MQTTMessage
    received_at: datetime


class MqttIngestor:
    """Subscribes to device topics and ingests their messages in batches, acknowledging after commit."""

    def __init__(
        self,
        runtime: Runtime,
        config: MqttConfig,
        *,
        batch_max: int = MQTT_BATCH_MAX_MESSAGES,
        batch_wait: float = MQTT_BATCH_WAIT_SECONDS,
        ingest_fn: IngestFunction = ingest.ingest_messages,
    ) -> None:
        self.runtime = runtime
        self.config = config
        self.batch_max = batch_max
        self.batch_wait = batch_wait
        self.ingest_fn = ingest_fn
        self.committed_messages = 0
        self.subscribed = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[_Received | None] = asyncio.Queue()
        self._generation = 0
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._client = self._make_client()

    def _make_client(self) -> paho.Client:
        client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.config.client_id,
            clean_session=False,
            protocol=paho.MQTTv311,
            manual_ack=True,
        )
        client.reconnect_delay_set(MQTT_RECONNECT_MIN_SECONDS, MQTT_RECONNECT_MAX_SECONDS)
        if self.config.username is not None:
            client.username_pw_set(self.config.username, self.config.password)
        if self.config.tls:
            client.tls_set_context(ssl.create_default_context())
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        return client

    # --- paho's thread ---------------------------------------------------------------------------------------

    def _on_connect(self, client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _properties: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT connection refused", extra={"reason": str(reason), "host": self.config.host})
            return
        self._generation += 1
        log.info("MQTT connected", extra={"host": self.config.host, "topic": self.config.subscription})
        client.subscribe(self.config.subscription, qos=1)

    def _on_subscribe(self, _client: paho.Client, _userdata: Any, _mid: int, _reasons: Any, _properties: Any) -> None:
        self._loop.call_soon_threadsafe(self.subscribed.set)

    def _on_disconnect(self, _client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _properties: Any) -> None:
        self._loop.call_soon_threadsafe(self.subscribed.clear)
        if not self._stopping:
            log.warning("MQTT connection lost; reconnecting", extra={"reason": str(reason)})

    def _on_message(self, _client: paho.Client, _userdata: Any, message: paho.MQTTMessage) -> None:
        item = _Received(self._generation, message, utc_now())
        self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

    # --- the event loop ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect (in the background, retrying until the broker answers) and start ingesting."""
        self._client.connect_async(self.config.host, self.config.port, keepalive=MQTT_KEEPALIVE_SECONDS)
        self._client.loop_start()
        self._task = asyncio.create_task(self._run(), name="telemetry-mqtt")

    async def stop(self) -> None:
        """Finish the batch in progress, then disconnect; unacknowledged messages stay with the broker."""
        self._stopping = True
        self._queue.put_nowait(None)
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=STOP_TIMEOUT_SECONDS)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)

    async def _next_batch(self) -> tuple[list[_Received], bool]:
        first = await self._queue.get()
        if first is None:
            return [], True
        batch = [first]
        deadline = self._loop.time() + self.batch_wait
        while len(batch) < self.batch_max:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = min(deadline - self._loop.time(), BATCH_GAP_SECONDS)
                if remaining <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self._queue.get(), timeout=remaining)
                except TimeoutError:
                    break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _inbound(self, item: _Received) -> InboundMessage:
        topic = item.message.topic
        prefix = self.config.topic_prefix + "/"
        code = topic[len(prefix) :] if topic.startswith(prefix) else ""
        return InboundMessage(
            payload=bytes(item.message.payload),
            source=IngestSource.MQTT,
            device_code=code if code and "/" not in code else None,
            topic=topic,
            received_at=item.received_at,
        )

    async def _commit(self, batch: list[_Received]) -> bool:
        messages = [self._inbound(item) for item in batch]
        delay = 0.5
        while True:
            try:
                await self.ingest_fn(self.runtime, messages)
                return True
            except Exception:
                # Not acknowledged: the batch stays ours and is tried again, or the broker redelivers it later.
                log.exception("telemetry batch not committed; retrying", extra={"messages": len(messages)})
                if self._stopping:
                    return False
                await asyncio.sleep(delay)
                delay = min(delay * 2, MQTT_RETRY_MAX_SECONDS)
                if self._stopping:
                    return False

    def _acknowledge(self, batch: list[_Received]) -> None:
        for item in batch:
            if item.generation == self._generation and item.message.qos > 0:
                self._client.ack(item.message.mid, item.message.qos)

    async def _run(self) -> None:
        while True:
            batch, stop = await self._next_batch()
            if batch and await self._commit(batch):
                self._acknowledge(batch)
                self.committed_messages += len(batch)
            if stop:
                return


_RUNNING: WeakKeyDictionary[Runtime, MqttIngestor] = WeakKeyDictionary()


def default_client_id(runtime: Runtime) -> str:
    """Return the stable client id of this deployment (the broker keeps its session between restarts)."""
    return f"ioc-{runtime.settings.province_code}-telemetry"


def config_from_settings(runtime: Runtime) -> MqttConfig:
    """Build the broker configuration from IOC_MQTT_URL and IOC_MQTT_TOPIC_PREFIX."""
    settings = runtime.settings
    return parse_mqtt_url(settings.mqtt_url, settings.mqtt_topic_prefix, default_client_id(runtime))


async def start_ingestion(runtime: Runtime) -> None:
    """Start MQTT ingestion when a broker is configured and this process runs background work."""
    if not runtime.settings.mqtt_url or not runtime.settings.run_background or runtime in _RUNNING:
        return
    ingestor = MqttIngestor(runtime, config_from_settings(runtime))
    await ingestor.start()
    _RUNNING[runtime] = ingestor


async def stop_ingestion(runtime: Runtime) -> None:
    """Stop MQTT ingestion if it runs."""
    ingestor = _RUNNING.pop(runtime, None)
    if ingestor is not None:
        await ingestor.stop()


def running_ingestor(runtime: Runtime) -> MqttIngestor | None:
    """Return the ingestor of a runtime, if MQTT ingestion runs."""
    return _RUNNING.get(runtime)


def _publish_blocking(config: MqttConfig, items: Sequence[tuple[str, str | bytes]], timeout: float) -> None:
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
    if config.username is not None:
        client.username_pw_set(config.username, config.password)
    if config.tls:
        client.tls_set_context(ssl.create_default_context())
    client.connect(config.host, config.port, keepalive=MQTT_KEEPALIVE_SECONDS)
    client.loop_start()
    try:
        infos = [client.publish(topic, body, qos=1) for topic, body in items]
        for info in infos:
            info.wait_for_publish(timeout=timeout)
            if not info.is_published():
                raise TimeoutError("MQTT publish not acknowledged by the broker")
    finally:
        client.disconnect()
        client.loop_stop()


async def publish(config: MqttConfig, items: Sequence[tuple[str, str | bytes]], wait_seconds: float = 10.0) -> None:
    """Publish messages with QoS 1 and wait until the broker has acknowledged each (simulator, tests)."""
    await asyncio.to_thread(_publish_blocking, config, items, wait_seconds)
