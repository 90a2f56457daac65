"""Reading the audit log: listing with filters, one entry, and the per-column changes of an entry."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.http import Page, PageParams

from . import repository
from .exceptions import AuditEntryNotFound, InvalidPeriod
from .schemas import AuditEntryRead, AuditFilters, FieldChange


async def list_entries(session: AsyncSession, filters: AuditFilters, paging: PageParams) -> Page[AuditEntryRead]:
    """Return one page of audit entries matching the filters, newest first."""
    if (
        filters.occurred_from is not None
        and filters.occurred_to is not None
        and filters.occurred_to <= filters.occurred_from
    ):
        raise InvalidPeriod()
    rows, total = await repository.list_entries(session, filters, limit=paging.limit, offset=paging.offset)
    return Page[AuditEntryRead](
        items=[AuditEntryRead.model_validate(row) for row in rows],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
    )


async def get_entry(session: AsyncSession, entry_id: int) -> AuditEntryRead:
    """Return one audit entry, or raise AuditEntryNotFound."""
    row = await repository.get_entry(session, entry_id)
    if row is None:
        raise AuditEntryNotFound(entry_id)
    return AuditEntryRead.model_validate(row)


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def field_changes(entry: AuditEntryRead) -> list[FieldChange]:
    """List every column the entry mentions with its value before and after (None: empty), in column order."""
    before = entry.before or {}
    after = entry.after or {}
    fields = [*after, *(key for key in before if key not in after)]
    return [
        FieldChange(
            field=key,
            before=_as_text(before.get(key)),
            after=_as_text(after.get(key)),
            changed=before.get(key) != after.get(key),
        )
        for key in fields
    ]
