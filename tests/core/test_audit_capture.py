"""Audit capture: every write made for a person or integration leaves an append-only trace."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from ioc.core.audit import REDACTED, AuditLogImmutableError, record
from ioc.core.db import Base
from ioc.core.models import AuditEntry, CalendarDay
from ioc.core.runtime import Runtime
from ioc.core.security import Principal, PrincipalKind, Role, current_actor
from ioc.core.time import utc_now

OFFICER = Principal(kind=PrincipalKind.USER, id=7, name="nguyenvana", role=Role.AGENCY_STAFF)
INTEGRATION = Principal(kind=PrincipalKind.API_KEY, id=12, name="sokhcn-sync", role=Role.AGENCY_STAFF)
NATIONAL_DAY = date(2025, 9, 2)
AUDIT_TABLE = Base.metadata.tables[AuditEntry.__tablename__]


@contextmanager
def acting_as(principal: Principal) -> Iterator[None]:
    """Make `principal` the actor of the current context, as a job or a command does."""
    token = current_actor.set(principal)
    try:
        yield
    finally:
        current_actor.reset(token)


async def _entries(runtime: Runtime, *where: Any) -> list[AuditEntry]:
    async with runtime.db.session() as session:
        rows = await session.scalars(select(AuditEntry).where(*where).order_by(AuditEntry.id))
        return list(rows)


async def _add_holiday(runtime: Runtime) -> None:
    async with runtime.db.transaction() as session:
        session.add(CalendarDay(day=NATIONAL_DAY, kind="holiday", name="Quốc khánh"))


async def test_creating_a_row_records_the_actor_and_every_new_value(kernel_runtime: Runtime) -> None:
    with acting_as(OFFICER):
        await _add_holiday(kernel_runtime)
    [entry] = await _entries(kernel_runtime)
    assert (entry.action, entry.entity_type, entry.entity_id) == ("create", "calendar_day", "2025-09-02")
    assert (entry.actor_id, entry.actor_name, entry.actor_kind) == (7, "nguyenvana", "user")
    assert entry.before is None
    assert entry.after == {"day": "2025-09-02", "kind": "holiday", "name": "Quốc khánh"}
    assert abs((utc_now() - entry.occurred_at).total_seconds()) < 60


async def test_updating_a_row_records_only_the_changed_columns(kernel_runtime: Runtime) -> None:
    with acting_as(OFFICER):
        await _add_holiday(kernel_runtime)
        async with kernel_runtime.db.transaction() as session:
            day = await session.get(CalendarDay, NATIONAL_DAY)
            assert day is not None
            day.name = "Quốc khánh 2/9"
            day.kind = "holiday"  # unchanged value: not a change
    entries = await _entries(kernel_runtime, AuditEntry.action == "update")
    assert [(e.before, e.after) for e in entries] == [({"name": "Quốc khánh"}, {"name": "Quốc khánh 2/9"})]


async def test_deleting_a_row_records_its_last_values(kernel_runtime: Runtime) -> None:
    with acting_as(OFFICER):
        await _add_holiday(kernel_runtime)
        async with kernel_runtime.db.transaction() as session:
            day = await session.get(CalendarDay, NATIONAL_DAY)
            await session.delete(day)
    [entry] = await _entries(kernel_runtime, AuditEntry.action == "delete")
    assert entry.entity_id == "2025-09-02"
    assert entry.before == {"day": "2025-09-02", "kind": "holiday", "name": "Quốc khánh"}
    assert entry.after is None


async def test_writes_without_an_actor_leave_no_entry(kernel_runtime: Runtime) -> None:
    await _add_holiday(kernel_runtime)
    async with kernel_runtime.db.session() as session:
        assert await session.get(CalendarDay, NATIONAL_DAY) is not None
    assert await _entries(kernel_runtime) == []


async def test_a_rolled_back_write_leaves_no_entry(kernel_runtime: Runtime) -> None:
    with acting_as(OFFICER):
        async with kernel_runtime.db.session() as session:
            session.add(CalendarDay(day=NATIONAL_DAY, kind="holiday", name="Quốc khánh"))
            await session.flush()
            await session.rollback()
    assert await _entries(kernel_runtime) == []


async def test_request_session_actor_and_origin_are_recorded(kernel_runtime: Runtime) -> None:
    # What ioc.core.http.db_session does for every request: the principal and origin ride on the session.
    async with kernel_runtime.db.transaction() as session:
        session.sync_session.info["actor"] = INTEGRATION
        session.sync_session.info["request_meta"] = {"request_id": "req-42", "ip": "10.80.1.5"}
        session.add(CalendarDay(day=NATIONAL_DAY, kind="holiday", name="Quốc khánh"))
    [entry] = await _entries(kernel_runtime)
    assert (entry.actor_name, entry.actor_kind, entry.actor_id) == ("sokhcn-sync", "api_key", 12)
    assert (entry.request_id, entry.ip) == ("req-42", "10.80.1.5")


async def test_recorded_actions_outside_the_orm_are_kept(kernel_runtime: Runtime) -> None:
    async with kernel_runtime.db.transaction() as session:
        record(session, OFFICER, "export", "calendar_day", "2025", after={"rows": 12, "day": NATIONAL_DAY})
    [entry] = await _entries(kernel_runtime)
    assert (entry.action, entry.entity_type, entry.entity_id) == ("export", "calendar_day", "2025")
    assert entry.after == {"rows": 12, "day": "2025-09-02"}


async def test_secret_columns_are_redacted(runtime: Runtime, make_user: Any) -> None:
    if runtime.module("identity") is None:
        pytest.skip("the identity module is not enabled (TEST_MODULES)")
    users = Base.metadata.tables["identity_user"]
    secret_columns = [column.name for column in users.columns if column.info.get("audit") is False]
    assert secret_columns, "identity_user marks no column with info={'audit': False}"
    with acting_as(OFFICER):
        created = await make_user(Role.AGENCY_STAFF, username="tranthib")
    [entry] = await _entries(runtime, AuditEntry.entity_type == "identity_user", AuditEntry.action == "create")
    assert entry.after is not None
    assert entry.after["username"] == "tranthib"
    assert entry.entity_id == str(created["id"])
    for column in secret_columns:
        assert entry.after[column] == REDACTED
    async with runtime.db.session() as session:
        stored = (await session.execute(select(users).where(users.c.username == "tranthib"))).one()._mapping
    stored_log = json.dumps([e.after for e in await _entries(runtime)], ensure_ascii=False)
    for column in secret_columns:
        assert str(stored[column]) not in stored_log


async def test_changing_an_audit_entry_is_refused(kernel_runtime: Runtime) -> None:
    with acting_as(OFFICER):
        await _add_holiday(kernel_runtime)
    [entry] = await _entries(kernel_runtime)
    async with kernel_runtime.db.session() as session:
        loaded = await session.get(AuditEntry, entry.id)
        assert loaded is not None
        loaded.actor_name = "someone-else"
        with pytest.raises(AuditLogImmutableError):
            await session.flush()
    [unchanged] = await _entries(kernel_runtime)
    assert unchanged.actor_name == "nguyenvana"


async def test_deleting_an_audit_entry_is_refused(kernel_runtime: Runtime) -> None:
    with acting_as(OFFICER):
        await _add_holiday(kernel_runtime)
    [entry] = await _entries(kernel_runtime)
    async with kernel_runtime.db.session() as session:
        loaded = await session.get(AuditEntry, entry.id)
        await session.delete(loaded)
        with pytest.raises(AuditLogImmutableError):
            await session.flush()
    assert len(await _entries(kernel_runtime)) == 1


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEntry).values(actor_name="someone-else"),
        delete(AuditEntry),
        update(AUDIT_TABLE).values(actor_name="someone-else"),
        delete(AUDIT_TABLE),
    ],
    ids=["orm-update", "orm-delete", "table-update", "table-delete"],
)
async def test_bulk_statements_on_the_audit_log_are_refused(kernel_runtime: Runtime, statement: Any) -> None:
    with acting_as(OFFICER):
        await _add_holiday(kernel_runtime)
    async with kernel_runtime.db.session() as session:
        with pytest.raises(AuditLogImmutableError):
            await session.execute(statement)
    [entry] = await _entries(kernel_runtime)
    assert entry.actor_name == "nguyenvana"


async def test_other_tables_can_still_be_changed_in_bulk(kernel_runtime: Runtime) -> None:
    with acting_as(OFFICER):
        await _add_holiday(kernel_runtime)
        async with kernel_runtime.db.transaction() as session:
            await session.execute(update(CalendarDay).values(name="Quốc khánh 2/9"))
    async with kernel_runtime.db.session() as session:
        day = await session.get(CalendarDay, NATIONAL_DAY)
    assert day is not None
    assert day.name == "Quốc khánh 2/9"
