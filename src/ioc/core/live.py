"""Live updates: tails the outbox and fans events out to Server-Sent Events clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from .db import Database
from .events import DomainEvent
from .logging import OutageLog
from .metrics import LIVE_CLIENTS
from .models import OutboxEvent
from .security import Principal, Role

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000
BACKLOG_LIMIT = 500
HEARTBEAT_SECONDS = 15.0
# Ids are allocated before commit, so a lower id can appear after a higher one; look back this far.
LOOKBACK_IDS = 200

# The payload fields that tie an event to agencies or to administrative units; one list for every module, so
# a module scopes its events by naming its fields this way (incident: `agency_codes`/`unit_codes`, citizen
# report: `agency_code`/`unit_code`, alarm: `unit_code`). The former agency of a reassigned task or returned
# report keeps seeing that event; the statistics module names its agency `agency`.
AGENCY_FIELDS = ("agency_code", "agency_codes", "from_agency_code", "returned_by_agency_code", "agency")
UNIT_FIELDS = ("unit_code", "unit_codes")
# Roles whose work covers the whole province: they receive every staff event (the access matrix's command).
PROVINCE_WIDE_ROLES = frozenset({Role.HOTLINE_OPERATOR, Role.LEADER, Role.ADMIN})

AgencyCodeResolver = Callable[[int], Awaitable[str | None]]


def _codes(payload: dict[str, Any], fields: Iterable[str]) -> frozenset[str]:
    found: set[str] = set()
    for name in fields:
        value = payload.get(name)
        if isinstance(value, str) and value:
            found.add(value)
        elif isinstance(value, list):
            found.update(item for item in value if isinstance(item, str) and item)
    return frozenset(found)


@dataclass(frozen=True)
class EventScope:
    """The agencies and units an event is about, read from its payload (both empty: province-wide)."""

    agencies: frozenset[str]
    units: frozenset[str]

    @classmethod
    def of(cls, payload: dict[str, Any]) -> EventScope:
        """Read the scope fields of a payload."""
        return cls(_codes(payload, AGENCY_FIELDS), _codes(payload, UNIT_FIELDS))


@dataclass(frozen=True)
class Viewer:
    """What one staff subscriber may receive: everything, or its agency's and its units' events."""

    province_wide: bool
    agency_code: str | None = None
    unit_codes: frozenset[str] = frozenset()

    def sees(self, message: LiveMessage) -> bool:
        """Tell whether the message may reach this subscriber."""
        if self.province_wide or message.audience == "public":
            return True
        scope = EventScope.of(message.payload)
        if scope.agencies:
            # Row level as in the modules: a task or report of agency A is agency A's (and the command's).
            return self.agency_code is not None and self.agency_code in scope.agencies
        if scope.units:
            # As the alarm console: staff bound to communes see those; unbound staff see every commune.
            return not self.unit_codes or bool(self.unit_codes & scope.units)
        return True


@dataclass(frozen=True)
class LiveMessage:
    """One event as sent to browsers."""

    id: int
    name: str
    payload: dict[str, Any]
    occurred_at: datetime

    @property
    def audience(self) -> str:
        """Return who may see the event: "public" or "staff"."""
        cls = DomainEvent.registry.get(self.name)
        return cls.audience if cls else "staff"

    def to_sse(self) -> str:
        """Format the message as one Server-Sent Events frame."""
        data = json.dumps({"id": self.id, "name": self.name, "payload": self.payload}, ensure_ascii=False)
        return f"id: {self.id}\nevent: {self.name}\ndata: {data}\n\n"


def _message(row: OutboxEvent) -> LiveMessage:
    return LiveMessage(id=row.id, name=row.name, payload=row.payload, occurred_at=row.occurred_at)


class LiveFeed:
    """Polls the outbox for new rows (from any process) and pushes them to subscriber queues."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._queues: set[asyncio.Queue[LiveMessage | None]] = set()
        self._seen: set[int] = set()
        self._cursor: int | None = None
        self._wake = asyncio.Event()
        self._outage = OutageLog(log, "live feed")
        self._listeners: list[Callable[[LiveMessage], None]] = []
        self._agency_code: AgencyCodeResolver | None = None

    def set_agency_resolver(self, resolver: AgencyCodeResolver) -> None:
        """Tell the feed how to find an agency's code from its id (the module that keeps agencies sets it)."""
        self._agency_code = resolver

    async def viewer(self, principal: Principal) -> Viewer:
        """Return what a principal may receive on the staff stream."""
        if principal.role in PROVINCE_WIDE_ROLES:
            return Viewer(province_wide=True)
        code = None
        if principal.agency_id is not None and self._agency_code is not None:
            code = await self._agency_code(principal.agency_id)
        return Viewer(province_wide=False, agency_code=code, unit_codes=principal.unit_codes)

    def add_listener(self, listener: Callable[[LiveMessage], None]) -> None:
        """Call `listener` in this process for every new event the feed reads (e.g. to drop a cache)."""
        self._listeners.append(listener)

    def wake(self) -> None:
        """Look for new events now."""
        self._wake.set()

    async def _init_cursor(self) -> int:
        async with self.db.session() as session:
            top = int(await session.scalar(select(func.coalesce(func.max(OutboxEvent.id), 0))) or 0)
            recent = await session.scalars(select(OutboxEvent.id).where(OutboxEvent.id > top - LOOKBACK_IDS))
            self._seen = set(recent.all())
        return top

    def _fan_out(self, message: LiveMessage) -> None:
        for queue in list(self._queues):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                # A client too slow to keep up is ended; it reconnects with Last-Event-ID and catches up.
                self._queues.discard(queue)
                queue.get_nowait()
                queue.put_nowait(None)

    async def poll(self) -> int:
        """Fetch rows committed since the last poll and fan them out; return how many."""
        if self._cursor is None:
            self._cursor = await self._init_cursor()
        floor = max(self._cursor - LOOKBACK_IDS, 0)
        async with self.db.session() as session:
            # Ids first: the look-back window is mostly rows already sent, and payloads can be large
            # (a telemetry batch names thousands of datastreams); only the unseen rows are read whole.
            ids = (await session.scalars(select(OutboxEvent.id).where(OutboxEvent.id > floor))).all()
            unseen = sorted(i for i in ids if i not in self._seen)
            rows = (
                (
                    await session.scalars(
                        select(OutboxEvent).where(OutboxEvent.id.in_(unseen)).order_by(OutboxEvent.id)
                    )
                ).all()
                if unseen
                else []
            )
        fresh = [row for row in rows if row.id not in self._seen]
        for row in fresh:
            self._seen.add(row.id)
            self._cursor = max(self._cursor, row.id)
            message = _message(row)
            self._fan_out(message)
            for listener in self._listeners:
                try:
                    listener(message)
                except Exception:
                    log.exception("live feed listener failed", extra={"event": message.name})
        low = self._cursor - LOOKBACK_IDS
        self._seen = {seen for seen in self._seen if seen > low}
        return len(fresh)

    async def run_forever(self, stop: asyncio.Event, poll_seconds: float = 0.5) -> None:
        """Poll until `stop` is set."""
        while not stop.is_set():
            try:
                await self.poll()
                self._outage.succeeded()
            except Exception as exc:
                self._outage.failed(exc, "live feed poll failed; retrying")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=poll_seconds)
        for queue in list(self._queues):
            self._queues.discard(queue)
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(None)

    async def backlog(self, after_id: int, limit: int = BACKLOG_LIMIT) -> list[LiveMessage]:
        """Return events after `after_id`, for a client that reconnects."""
        async with self.db.session() as session:
            rows = (
                await session.scalars(
                    select(OutboxEvent).where(OutboxEvent.id > after_id).order_by(OutboxEvent.id).limit(limit)
                )
            ).all()
        return [_message(row) for row in rows]

    async def stream(
        self,
        *,
        last_event_id: int | None,
        public_only: bool,
        names: set[str] | None = None,
        viewer: Viewer | None = None,
    ) -> AsyncIterator[str]:
        """Yield SSE frames: first what the client missed, then live events, with heartbeats.

        `viewer` limits a staff stream to what its principal may see (None: every staff event, for the kernel).
        """
        queue: asyncio.Queue[LiveMessage | None] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._queues.add(queue)
        LIVE_CLIENTS.inc()

        def wanted(message: LiveMessage) -> bool:
            if public_only and message.audience != "public":
                return False
            if viewer is not None and not viewer.sees(message):
                return False
            return names is None or message.name in names or message.name.split(".")[0] in names

        try:
            yield "retry: 2000\n\n"
            sent = last_event_id or 0
            if last_event_id is not None:
                for message in await self.backlog(last_event_id):
                    sent = max(sent, message.id)
                    if wanted(message):
                        yield message.to_sse()
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ": ping\n\n"
                    continue
                if item is None:
                    return
                if last_event_id is not None and item.id <= sent:
                    continue
                if wanted(item):
                    yield item.to_sse()
        finally:
            self._queues.discard(queue)
            LIVE_CLIENTS.dec()
