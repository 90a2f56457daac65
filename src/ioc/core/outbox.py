"""The outbox dispatcher and the event transports (in-process jobs, NATS JetStream)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections import defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .events import Subscription, handle_in_session, handle_once, parse_event
from .jobs import JobContext, JobSpec, schedule_job
from .logging import OutageLog
from .metrics import EVENTS_PUBLISHED
from .models import OutboxEvent
from .time import utc_now

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsClient
    from nats.aio.msg import Msg
    from nats.js import JetStreamContext

    from .runtime import Runtime

log = logging.getLogger(__name__)

DELIVER_JOB = "events.deliver"


class Transport(Protocol):
    """Carries published events to their subscribers."""

    async def start(self) -> None:
        """Connect and begin consuming."""

    async def publish(self, session: AsyncSession, row: OutboxEvent) -> None:
        """Hand one outbox row to the transport, inside the dispatcher's transaction."""

    async def stop(self) -> None:
        """Stop consuming and disconnect."""


def _by_event(subscriptions: list[Subscription]) -> dict[str, list[Subscription]]:
    grouped: dict[str, list[Subscription]] = defaultdict(list)
    for sub in subscriptions:
        grouped[sub.event.event_name].append(sub)
    return grouped


class InProcessTransport:
    """Turns each (event, subscriber) pair into a durable delivery job in the same database."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.subscriptions = _by_event(runtime.subscriptions)

    async def start(self) -> None:
        """Nothing to connect."""

    async def publish(self, session: AsyncSession, row: OutboxEvent) -> None:
        """Schedule one delivery job per subscriber."""
        for sub in self.subscriptions.get(row.name, []):
            delay = sub.defer(self.runtime) if sub.defer is not None else 0.0
            await schedule_job(
                session,
                DELIVER_JOB,
                {"outbox_id": row.id, "handler": sub.name},
                run_at=utc_now() + timedelta(seconds=delay) if delay > 0 else None,
                dedupe_key=f"deliver:{row.event_id}:{sub.name}",
                max_attempts=10,
            )

    async def stop(self) -> None:
        """Nothing to disconnect."""


async def deliver_job(ctx: JobContext) -> None:
    """Deliver one stored event to one in-process subscriber."""
    runtime = ctx.runtime
    row = await ctx.session.get(OutboxEvent, int(ctx.payload["outbox_id"]))
    sub = runtime.subscriptions_by_name.get(str(ctx.payload["handler"]))
    if row is None or sub is None:
        log.warning("dropping delivery of an unknown event or handler", extra={"job": ctx.payload})
        return
    event = parse_event(row.name, row.payload)
    if event is None:
        return
    # Same transaction as the job: the handler's writes, the handled mark and the job's end commit together.
    await handle_in_session(ctx.session, runtime, sub, event)


DELIVER_JOB_SPEC = JobSpec(name=DELIVER_JOB, handler=deliver_job, max_attempts=10)


def durable_name(handler_name: str) -> str:
    """Return a JetStream consumer name for a handler."""
    return "ioc_" + re.sub(r"[^A-Za-z0-9_-]", "_", handler_name)


class NatsTransport:
    """Publishes to a JetStream stream; one durable pull consumer per handler, shared by processes."""

    def __init__(self, runtime: Runtime, url: str, stream: str) -> None:
        self.runtime = runtime
        self.url = url
        # One stream per installation; its name prefixes every subject ("IOC_EVENTS.citizen_report.submitted").
        self.stream = stream
        self.prefix = f"{stream}."
        self.nc: NatsClient | None = None
        self.js: JetStreamContext | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._subscriptions: list[Any] = []
        self._stop = asyncio.Event()
        self._outage = OutageLog(log, "events")

    async def start(self) -> None:
        """Connect, make sure the stream exists and start one consumer loop per subscription."""
        import nats
        from nats.js.api import StreamConfig

        self.nc = await nats.connect(self.url, max_reconnect_attempts=-1, reconnect_time_wait=0.5, name="ioc")
        self.js = self.nc.jetstream()
        config = StreamConfig(name=self.stream, subjects=[self.prefix + ">"])
        try:
            await self.js.add_stream(config)
        except Exception:
            await self.js.update_stream(config)
        for sub in self.runtime.subscriptions:
            psub = await self.js.pull_subscribe(
                self.prefix + sub.event.event_name, durable=durable_name(sub.name), stream=self.stream
            )
            self._subscriptions.append(psub)
            self._tasks.append(asyncio.create_task(self._consume(sub, psub)))

    async def publish(self, session: AsyncSession, row: OutboxEvent) -> None:
        """Publish with the event id as message id, so JetStream drops duplicates."""
        assert self.js is not None, "NATS transport not started"
        data = json.dumps({"name": row.name, "payload": row.payload}).encode()
        await self.js.publish(self.prefix + row.name, data, headers={"Nats-Msg-Id": row.event_id})

    async def _consume(self, sub: Subscription, psub: Any) -> None:
        from nats.errors import TimeoutError as NatsTimeout

        while not self._stop.is_set():
            try:
                messages: list[Msg] = await psub.fetch(batch=10, timeout=1)
            except (NatsTimeout, TimeoutError):
                continue  # nothing to fetch within the second (nats-py raises either)
            except Exception:
                log.exception("NATS fetch failed; retrying", extra={"handler": sub.name})
                await asyncio.sleep(1)
                continue
            for msg in messages:
                await self._handle(sub, msg)

    async def _handle(self, sub: Subscription, msg: Msg) -> None:
        try:
            body = json.loads(msg.data)
            event = parse_event(body["name"], body["payload"])
            if event is not None:
                await handle_once(self.runtime, sub, event)
                self._outage.succeeded()
            await msg.ack()
        except Exception as exc:
            self._outage.failed(exc, "event handler failed; redelivering", handler=sub.name)
            await msg.nak(delay=5)

    async def stop(self) -> None:
        """Stop the consumer loops and drain the connection."""
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        # Nobody reads the pull subscriptions' queues any more: left subscribed, drain() would wait for them
        # until its 30-second timeout. Their unacknowledged messages are redelivered to the next consumer.
        for psub in self._subscriptions:
            with contextlib.suppress(Exception):
                await psub.unsubscribe()
        self._subscriptions.clear()
        if self.nc is not None and not self.nc.is_closed:
            await self.nc.drain()


class OutboxDispatcher:
    """Publishes committed outbox rows through the transport, oldest first, exactly one process each."""

    def __init__(self, runtime: Runtime, transport: Transport) -> None:
        self.runtime = runtime
        self.transport = transport
        self._wake = asyncio.Event()
        self._outage = OutageLog(log, "outbox")

    def wake(self) -> None:
        """Publish now instead of at the next poll."""
        self._wake.set()

    async def dispatch_pending(self, limit: int = 200) -> int:
        """Publish unpublished rows; return how many were published."""
        async with self.runtime.db.session() as session:
            rows = (
                await session.scalars(
                    select(OutboxEvent)
                    .where(OutboxEvent.published_at.is_(None))
                    .order_by(OutboxEvent.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                await self.transport.publish(session, row)
                row.published_at = utc_now()
                EVENTS_PUBLISHED.labels(name=row.name).inc()
            await session.commit()
        return len(rows)

    async def run_forever(self, stop: asyncio.Event, poll_seconds: float = 1.0) -> None:
        """Publish until `stop` is set."""
        while not stop.is_set():
            try:
                published = await self.dispatch_pending()
                self._outage.succeeded()
            except Exception as exc:
                self._outage.failed(exc, "outbox dispatch failed; retrying")
                published = 0
                await asyncio.sleep(poll_seconds)
            if published:
                self.runtime.jobs.wake()
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=poll_seconds)
