"""Every query of the audit module (read-only: the kernel writes the table)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from .constants import MAX_ACTOR_ID
from .models import AuditEntry
from .schemas import AuditFilters


def _actor_condition(actor: str) -> ColumnElement[bool]:
    by_name = func.lower(AuditEntry.actor_name) == actor.lower()
    if actor.isascii() and actor.isdigit() and int(actor) <= MAX_ACTOR_ID:
        return or_(AuditEntry.actor_id == int(actor), by_name)
    return by_name


def _conditions(filters: AuditFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.actor:
        conditions.append(_actor_condition(filters.actor))
    if filters.entity_type:
        conditions.append(AuditEntry.entity_type == filters.entity_type)
    if filters.entity_id:
        conditions.append(AuditEntry.entity_id == filters.entity_id)
    if filters.action:
        conditions.append(AuditEntry.action == filters.action)
    if filters.occurred_from is not None:
        conditions.append(AuditEntry.occurred_at >= filters.occurred_from)
    if filters.occurred_to is not None:
        conditions.append(AuditEntry.occurred_at < filters.occurred_to)
    return conditions


async def list_entries(
    session: AsyncSession, filters: AuditFilters, *, limit: int, offset: int
) -> tuple[Sequence[AuditEntry], int]:
    """Return one page of matching entries, newest first, and how many match in all."""
    conditions = _conditions(filters)
    total = await session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0
    rows = await session.scalars(
        select(AuditEntry)
        .where(*conditions)
        .order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return rows.all(), total


async def get_entry(session: AsyncSession, entry_id: int) -> AuditEntry | None:
    """Return one entry by id, or None."""
    return await session.get(AuditEntry, entry_id)
