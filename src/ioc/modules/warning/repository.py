"""Every query of the warning module."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from .constants import Severity, WarningState
from .models import PublicWarning, Subscriber


def add(session: AsyncSession, row: PublicWarning | Subscriber) -> None:
    """Add a new row to the session."""
    session.add(row)


async def get(session: AsyncSession, warning_id: int, *, for_update: bool = False) -> PublicWarning | None:
    """Return a warning by id."""
    query = select(PublicWarning).where(PublicWarning.id == warning_id)
    if for_update:
        query = query.with_for_update()
    result: PublicWarning | None = await session.scalar(query)
    return result


async def get_by_identifier(session: AsyncSession, identifier: str) -> PublicWarning | None:
    """Return a published (or since replaced) warning by its CAP identifier."""
    result: PublicWarning | None = await session.scalar(
        select(PublicWarning).where(PublicWarning.identifier == identifier)
    )
    return result


async def list_warnings(
    session: AsyncSession, states: Sequence[str] | None, limit: int, offset: int
) -> tuple[list[PublicWarning], int]:
    """Return warnings in some states, newest first, and how many match."""
    where = [PublicWarning.state.in_(list(states))] if states else []
    total = await session.scalar(select(func.count()).select_from(PublicWarning).where(*where)) or 0
    rows = await session.scalars(
        select(PublicWarning).where(*where).order_by(PublicWarning.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), int(total)


async def current(session: AsyncSession, now: datetime, unit_code: str | None = None) -> list[PublicWarning]:
    """Return published warnings in force at `now` (Alerts and Updates; a Cancel ends its original)."""
    query = (
        select(PublicWarning)
        .where(
            PublicWarning.state == WarningState.PUBLISHED,
            PublicWarning.msg_type != "Cancel",
            PublicWarning.expires_at > now,
            or_(PublicWarning.effective_at.is_(None), PublicWarning.effective_at <= now),
        )
        .order_by(PublicWarning.sent_at.desc())
    )
    rows = list(await session.scalars(query))
    if unit_code is not None:
        rows = [row for row in rows if unit_code in (row.unit_codes or [])]
    return rows


async def count_state(session: AsyncSession, state: WarningState) -> int:
    """Count warnings in one state."""
    return int(
        await session.scalar(select(func.count()).select_from(PublicWarning).where(PublicWarning.state == state)) or 0
    )


def count_serious(rows: Sequence[PublicWarning]) -> int:
    """Count extreme or severe warnings among rows."""
    return sum(1 for row in rows if row.severity in (Severity.EXTREME, Severity.SEVERE))


async def get_subscriber_by_token(
    session: AsyncSession, *, confirm: str | None = None, unsubscribe: str | None = None
) -> Subscriber | None:
    """Return the subscriber a confirmation or unsubscribe token belongs to."""
    if confirm:
        query = select(Subscriber).where(Subscriber.confirm_token == confirm)
    elif unsubscribe:
        query = select(Subscriber).where(Subscriber.unsubscribe_token == unsubscribe)
    else:
        return None
    result: Subscriber | None = await session.scalar(query)
    return result


async def find_subscriber(session: AsyncSession, channel: str, address: str) -> Subscriber | None:
    """Return the subscription of an address on a channel, if any."""
    result: Subscriber | None = await session.scalar(
        select(Subscriber).where(Subscriber.channel == channel, Subscriber.address == address)
    )
    return result


async def confirmed_subscribers(session: AsyncSession) -> list[Subscriber]:
    """Return every confirmed subscriber (filtered by unit in Python: unit lists are JSON on both engines)."""
    return list(await session.scalars(select(Subscriber).where(Subscriber.confirmed.is_(True))))


async def count_subscribers(session: AsyncSession) -> int:
    """Count confirmed subscribers."""
    return int(
        await session.scalar(select(func.count()).select_from(Subscriber).where(Subscriber.confirmed.is_(True))) or 0
    )


async def delete(session: AsyncSession, row: Subscriber) -> None:
    """Delete a subscriber."""
    await session.delete(row)
