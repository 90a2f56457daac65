"""MQTT ingestion: a persistent QoS 1 subscription whose messages are acknowledged only once committed.

The connection is the module's own asyncio MQTT 5 client (`mqtt_client.py`; why not paho-mqtt is explained
there) in the event loop of the process. Messages are batched, written in one transaction by
`ingest.ingest_messages`, and only then acknowledged. A crash between receipt and commit therefore leads to a
redelivery (the session is persistent: clean start off, a session that never expires, a stable client id),
and the write is idempotent. Several batches may be committed at once (`IOC_MQTT_INGEST_WORKERS`), so that
parsing the next batch overlaps the database's work on the previous one. With `IOC_MQTT_SHARED_GROUP`, several
processes subscribe through one MQTT 5 shared subscription and the broker gives each message to one of them.

A message received before a reconnect is not acknowledged after it: the broker sends it again in the new
session with the same packet id, and acknowledging the old copy could acknowledge a newer message.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
import ssl
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit
from weakref import WeakKeyDictionary

from ioc.core.logging import OutageLog
from ioc.core.time import utc_now

from . import ingest
from .constants import (
    MQTT_BATCH_MAX_MESSAGES,
    MQTT_BATCH_WAIT_SECONDS,
    MQTT_INGEST_WORKERS_POSTGRES,
    MQTT_KEEPALIVE_SECONDS,
    MQTT_RECONNECT_MAX_SECONDS,
    MQTT_RECONNECT_MIN_SECONDS,
    MQTT_RETRY_MAX_SECONDS,
    IngestSource,
)
from .ingest import BatchResult, InboundMessage
from .mqtt_client import Message, MqttConnection, MqttError

if TYPE_CHECKING:
    from ioc.core.runtime import Runtime

log = logging.getLogger(__name__)

# A batch is closed when no further message arrives within this gap, so that a quiet line is not delayed.
BATCH_GAP_SECONDS = 0.005
STOP_TIMEOUT_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 10.0

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
    shared_group: str = ""

    @property
    def subscription(self) -> str:
        """Return the topic filter: one level per device under the prefix, shared by the group if there is one."""
        topics = f"{self.topic_prefix}/+"
        # MQTT 5.0 §4.8.2: the broker gives each message of a shared subscription to one member of the group.
        return f"$share/{self.shared_group}/{topics}" if self.shared_group else topics

    def tls_context(self) -> ssl.SSLContext | None:
        """Return the TLS context of an mqtts:// broker."""
        return ssl.create_default_context() if self.tls else None


def parse_mqtt_url(url: str, topic_prefix: str, default_client_id: str, shared_group: str = "") -> MqttConfig:
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
        shared_group=shared_group,
    )


@dataclass(frozen=True, slots=True)
class _Received:
    generation: int
    message: Message
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
        workers: int = 1,
    ) -> None:
        self.runtime = runtime
        self.config = config
        self.batch_max = batch_max
        self.batch_wait = batch_wait
        self.ingest_fn = ingest_fn
        self.workers = max(1, workers)
        self.committed_messages = 0
        self.subscribed = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._pending: deque[_Received] = deque()
        self._arrived = asyncio.Event()
        self._generation = 0
        self._connection: MqttConnection | None = None
        self._stopping = False
        self._stopped = asyncio.Event()
        self._outage = OutageLog(log, "telemetry ingestion")
        self._connector: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # --- the connection ----------------------------------------------------------------------------------------

    def _on_messages(self, messages: list[Message]) -> None:
        received_at = utc_now()
        generation = self._generation
        self._pending.extend(_Received(generation, message, received_at) for message in messages)
        self._arrived.set()

    async def _connect_once(self) -> MqttConnection:
        config = self.config
        connection = await MqttConnection.open(
            config.host,
            config.port,
            config.client_id,
            keepalive=MQTT_KEEPALIVE_SECONDS,
            clean_start=False,
            username=config.username,
            password=config.password,
            tls=config.tls_context(),
            on_messages=self._on_messages,
            wait_seconds=CONNECT_TIMEOUT_SECONDS,
        )
        # Known before SUBSCRIBE: a resumed session redelivers right after CONNACK, and a batch of those may be
        # committed before the SUBACK arrives; its acknowledgement must find this connection.
        self._connection = connection
        try:
            await connection.subscribe(config.subscription, qos=1)
        except BaseException:
            self._connection = None
            await connection.close()
            raise
        return connection

    async def _stay_connected(self) -> None:
        delay = float(MQTT_RECONNECT_MIN_SECONDS)
        while not self._stopping:
            # A new generation before the connection exists: its messages must never be mistaken for older ones.
            self._generation += 1
            try:
                connection = await self._connect_once()
            except (OSError, MqttError, TimeoutError) as exc:
                log.warning("MQTT connection failed; retrying", extra={"host": self.config.host, "error": str(exc)})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopped.wait(), delay)
                delay = min(delay * 2, float(MQTT_RECONNECT_MAX_SECONDS))
                continue
            delay = float(MQTT_RECONNECT_MIN_SECONDS)
            self.subscribed.set()
            log.info("MQTT connected", extra={"host": self.config.host, "topic": self.config.subscription})
            closed = asyncio.ensure_future(connection.closed.wait())
            stopped = asyncio.ensure_future(self._stopped.wait())
            await asyncio.wait({closed, stopped}, return_when=asyncio.FIRST_COMPLETED)
            closed.cancel()
            stopped.cancel()
            self.subscribed.clear()
            if not self._stopping:
                log.warning("MQTT connection lost; reconnecting", extra={"host": self.config.host})
                # Messages of the lost connection will come again in the new session: forget them.
                self._pending.clear()
                self._connection = None
                await connection.close()

    # --- batches ---------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect (in the background, retrying until the broker answers) and start ingesting."""
        self._connector = asyncio.create_task(self._stay_connected(), name="telemetry-mqtt")
        self._tasks = [asyncio.create_task(self._run(), name=f"telemetry-mqtt-{n}") for n in range(self.workers)]

    async def stop(self) -> None:
        """Finish the batches in progress, then disconnect; unacknowledged messages stay with the broker."""
        self._stopping = True
        self._stopped.set()
        self._arrived.set()
        if self._tasks:
            _done, running = await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT_SECONDS)
            for task in running:
                task.cancel()
            for task in self._tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._connector is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._connector
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
        self.subscribed.clear()

    async def _next_batch(self) -> list[_Received]:
        while not self._pending or self._stopping:
            if self._stopping:
                # Messages not taken yet stay unacknowledged: the broker delivers them again.
                return []
            self._arrived.clear()
            await self._arrived.wait()
        deadline = self._loop.time() + self.batch_wait
        while len(self._pending) < self.batch_max and not self._stopping:
            remaining = min(deadline - self._loop.time(), BATCH_GAP_SECONDS)
            if remaining <= 0:
                break
            before = len(self._pending)
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)
            if len(self._pending) == before:
                break
        count = min(len(self._pending), self.batch_max)
        return [self._pending.popleft() for _ in range(count)]

    def _inbound(self, item: _Received) -> InboundMessage:
        topic = item.message.topic
        prefix = self.config.topic_prefix + "/"
        code = topic[len(prefix) :] if topic.startswith(prefix) else ""
        return InboundMessage(
            payload=item.message.payload,
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
                self._outage.succeeded()
                return True
            except Exception as exc:
                # Not acknowledged: the batch stays ours and is tried again, or the broker redelivers it later.
                self._outage.failed(exc, "telemetry batch not committed; retrying", messages=len(messages))
                if self._stopping:
                    return False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopped.wait(), delay)
                delay = min(delay * 2, MQTT_RETRY_MAX_SECONDS)
                if self._stopping:
                    return False

    def _acknowledge(self, batch: list[_Received]) -> None:
        connection = self._connection
        if connection is None or connection.closed.is_set():
            return
        current = self._generation
        with contextlib.suppress(MqttError, OSError, RuntimeError):
            connection.ack(item.message.packet_id for item in batch if item.generation == current and item.message.qos)

    async def _run(self) -> None:
        while True:
            batch = await self._next_batch()
            if not batch:
                if self._stopping:
                    return
                # The connection dropped while the batch was gathered: its messages come again in the new session.
                continue
            if await self._commit(batch):
                self._acknowledge(batch)
                self.committed_messages += len(batch)
            elif self._stopping:
                return


_RUNNING: WeakKeyDictionary[Runtime, MqttIngestor] = WeakKeyDictionary()


def default_client_id(runtime: Runtime) -> str:
    """Return the stable client id of this deployment (the broker keeps its session between restarts).

    In a shared group every member needs a session of its own: the host's name tells the members apart,
    so several members on one host must each be given `?client_id=` in IOC_MQTT_URL.
    """
    base = f"ioc-{runtime.settings.province_code}-telemetry"
    if runtime.settings.mqtt_shared_group:
        return f"{base}-{runtime.settings.mqtt_shared_group}-{socket.gethostname()}"
    return base


def config_from_settings(runtime: Runtime) -> MqttConfig:
    """Build the broker configuration from IOC_MQTT_URL and IOC_MQTT_TOPIC_PREFIX."""
    settings = runtime.settings
    return parse_mqtt_url(
        settings.mqtt_url, settings.mqtt_topic_prefix, default_client_id(runtime), settings.mqtt_shared_group
    )


def ingest_workers(runtime: Runtime) -> int:
    """Return how many batches are committed at once: IOC_MQTT_INGEST_WORKERS, else one per engine's liking."""
    if runtime.settings.mqtt_ingest_workers:
        return runtime.settings.mqtt_ingest_workers
    # SQLite has a single writer: a second batch would only wait for the lock.
    return MQTT_INGEST_WORKERS_POSTGRES if runtime.db.engine.dialect.name == "postgresql" else 1


async def start_ingestion(runtime: Runtime) -> None:
    """Start MQTT ingestion when a broker is configured and this process runs background work."""
    if not runtime.settings.mqtt_url or not runtime.settings.run_background or runtime in _RUNNING:
        return
    ingestor = MqttIngestor(runtime, config_from_settings(runtime), workers=ingest_workers(runtime))
    # Every message allocates short-lived objects; without this each full collection would also walk the
    # hundreds of thousands of long-lived objects of the started application (modules, metadata, templates).
    gc.freeze()
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


async def publish(config: MqttConfig, items: Sequence[tuple[str, str | bytes]], wait_seconds: float = 10.0) -> None:
    """Publish messages with QoS 1 and wait until the broker has acknowledged each (simulator, tests)."""
    connection = await MqttConnection.open(
        config.host,
        config.port,
        f"ioc-publish-{uuid.uuid4().hex[:12]}",
        keepalive=MQTT_KEEPALIVE_SECONDS,
        username=config.username,
        password=config.password,
        tls=config.tls_context(),
        wait_seconds=wait_seconds,
    )
    try:
        await asyncio.gather(
            *(
                connection.publish(topic, body.encode("utf-8") if isinstance(body, str) else body, 1, wait_seconds)
                for topic, body in items
            )
        )
    except TimeoutError as exc:
        raise TimeoutError("MQTT publish not acknowledged by the broker") from exc
    finally:
        await connection.close()
