"""Typed domain events, recorded in a transactional outbox and published after commit."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from .models import EventHandled, OutboxEvent
from .time import utc_now

if TYPE_CHECKING:
    from .runtime import Runtime

log = logging.getLogger(__name__)

Audience = Literal["staff", "public"]


class DomainEvent(BaseModel):
    """Base of every event; subclasses set `event_name` in the past tense (`module.thing_happened`)."""

    model_config = ConfigDict(frozen=True)

    event_name: ClassVar[str] = ""
    # "public" events may be streamed to anonymous browsers: they must carry no personal data.
    audience: ClassVar[Audience] = "staff"
    registry: ClassVar[dict[str, type[DomainEvent]]] = {}

    event_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    occurred_at: datetime = Field(default_factory=utc_now)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Register every concrete event class under its name."""
        super().__pydantic_init_subclass__(**kwargs)
        if cls.event_name:
            existing = DomainEvent.registry.get(cls.event_name)
            if existing is not None and existing.__qualname__ != cls.__qualname__:
                raise TypeError(f"event name {cls.event_name!r} is used twice")
            DomainEvent.registry[cls.event_name] = cls

    def payload(self) -> dict[str, Any]:
        """Return the JSON payload stored in the outbox."""
        return self.model_dump(mode="json")


def parse_event(name: str, payload: dict[str, Any]) -> DomainEvent | None:
    """Rebuild a typed event from the outbox, or None if its class is not loaded."""
    cls = DomainEvent.registry.get(name)
    return cls.model_validate(payload) if cls else None


def record_event(session: AsyncSession, event: DomainEvent) -> None:
    """Add an event to the outbox of the session's transaction; it is published after commit."""
    if not event.event_name:
        raise TypeError(f"{type(event).__name__} has no event_name")
    session.add(
        OutboxEvent(
            event_id=event.event_id,
            name=event.event_name,
            payload=event.payload(),
            occurred_at=event.occurred_at,
        )
    )


@dataclass
class HandlerContext:
    """What an event handler gets besides the event: a session in the handler's transaction."""

    session: AsyncSession
    runtime: Runtime
    handler_name: str


EventHandler = Callable[[HandlerContext, Any], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """A module's reaction to an event, delivered at least once and handled once."""

    event: type[DomainEvent]
    handler: EventHandler
    name: str
    # Seconds the durable delivery job waits (in-process transport), for a module that handles the event
    # sooner by a lane of its own while that runs; the job then finds the event handled, or is the fallback.
    defer: Callable[[Runtime], float] | None = None


async def handle_in_session(
    session: AsyncSession, runtime: Runtime, subscription: Subscription, event: DomainEvent
) -> bool:
    """Run a handler in the caller's transaction unless it already handled the event; tell if it ran."""
    # The handled mark is claimed before the handler runs: a concurrent claimer (another process, or the
    # alarm module's observation lane) waits on the unique key and then finds the event taken, instead of
    # running the handler too and failing on the key at the end.
    if not await claim(session, [event.event_id], subscription.name):
        return False
    ctx = HandlerContext(session=session, runtime=runtime, handler_name=subscription.name)
    await subscription.handler(ctx, event)
    return True


async def claim(session: AsyncSession, event_ids: Sequence[str], handler: str) -> set[str]:
    """Mark events handled by a handler in the session's transaction; return the ids nobody had claimed before.

    A claim that another open transaction holds waits for it: taken if that one commits, free if it rolls back.
    """
    if not event_ids:
        return set()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = utc_now()
    statement = (
        insert(EventHandled)
        .values([{"event_id": event_id, "handler": handler, "handled_at": now} for event_id in event_ids])
        .on_conflict_do_nothing(index_elements=["event_id", "handler"])
        .returning(EventHandled.event_id)
    )
    return set((await session.execute(statement)).scalars())


async def handle_once(runtime: Runtime, subscription: Subscription, event: DomainEvent) -> bool:
    """Run a handler in a transaction of its own, at most once per event; tell if it ran."""
    async with runtime.db.session() as session:
        ran = await handle_in_session(session, runtime, subscription, event)
        await session.commit()
        return ran
