"""Audit capture: every flush made on behalf of a person or integration writes audit entries."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from .db import Base
from .models import AuditEntry
from .security import Principal, current_actor
from .time import utc_now

REDACTED = "***"


class AuditLogImmutableError(RuntimeError):
    """Code tried to change or delete an audit entry; the audit log is append-only."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"Nhật ký thao tác chỉ được ghi thêm, không được sửa hay xoá ({detail}). / "
            f"The audit log is append-only: entries cannot be changed or deleted ({detail})."
        )


class AuditAction(enum.StrEnum):
    """What happened to the audited row."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)


def _column_value(obj: Base, key: str, info: dict[str, Any], value: Any) -> Any:
    # Columns marked info={"audit": False} (password hashes, token digests) are never copied.
    return REDACTED if info.get("audit") is False else _jsonable(value)


def snapshot(obj: Base) -> dict[str, Any]:
    """Return the audited column values of a mapped object."""
    state = inspect(obj)
    result: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        info = attr.columns[0].info
        result[attr.key] = _column_value(obj, attr.key, info, getattr(obj, attr.key, None))
    return result


def _changes(obj: Base) -> tuple[dict[str, Any], dict[str, Any]]:
    state = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        info = attr.columns[0].info
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        before[attr.key] = _column_value(obj, attr.key, info, old)
        after[attr.key] = _column_value(obj, attr.key, info, new)
    return before, after


def _identity(obj: Base) -> str:
    state = inspect(obj)
    # New rows get their identity key only after the flush; their primary key attributes are already set.
    key = state.identity or state.mapper.primary_key_from_instance(obj)
    return "/".join(str(part) for part in key) if key and None not in key else "?"


def _entry(actor: Principal, action: AuditAction, obj: Base, before: Any, after: Any) -> dict[str, Any]:
    return {
        "occurred_at": utc_now(),
        "actor_id": actor.id,
        "actor_name": actor.name,
        "actor_kind": actor.kind.value,
        "action": action.value,
        "entity_type": obj.__tablename__,
        "entity_id": _identity(obj),
        "before": before,
        "after": after,
    }


def _is_audited(obj: object) -> bool:
    return isinstance(obj, Base) and getattr(type(obj), "__audited__", True)


def _after_flush(session: Session, _flush_context: UOWTransaction) -> None:
    actor: Principal | None = session.info.get("actor") or current_actor.get()
    if actor is None:
        return
    rows: list[dict[str, Any]] = []
    for obj in session.new:
        if _is_audited(obj):
            rows.append(_entry(actor, AuditAction.CREATE, obj, None, snapshot(obj)))
    for obj in session.dirty:
        if _is_audited(obj) and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj)
            if after:
                rows.append(_entry(actor, AuditAction.UPDATE, obj, before, after))
    for obj in session.deleted:
        if _is_audited(obj):
            rows.append(_entry(actor, AuditAction.DELETE, obj, snapshot(obj), None))
    if rows:
        request_meta = session.info.get("request_meta", {})
        for row in rows:
            row["request_id"] = request_meta.get("request_id")
            row["ip"] = request_meta.get("ip")
        session.connection().execute(insert(AuditEntry), rows)


def creation_entry(session: Session | AsyncSession, obj: Base) -> dict[str, Any] | None:
    """Return the audit row a flush would write for this new row, for inserts that skip the unit of work."""
    actor: Principal | None = session.info.get("actor") or current_actor.get()
    if actor is None or not _is_audited(obj):
        return None
    row = _entry(actor, AuditAction.CREATE, obj, None, snapshot(obj))
    request_meta = session.info.get("request_meta", {})
    row["request_id"] = request_meta.get("request_id")
    row["ip"] = request_meta.get("ip")
    return row


def _refuse_audit_changes(session: Session, _flush_context: UOWTransaction, _instances: object) -> None:
    for obj in session.deleted:
        if isinstance(obj, AuditEntry):
            raise AuditLogImmutableError(f"delete audit_entry {obj.id}")
    for obj in session.dirty:
        if isinstance(obj, AuditEntry) and session.is_modified(obj, include_collections=False):
            raise AuditLogImmutableError(f"update audit_entry {obj.id}")


def _refuse_audit_statements(state: ORMExecuteState) -> None:
    # Bulk update()/delete() statements skip the flush, so they are checked where they are executed.
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) == AuditEntry.__tablename__:
        raise AuditLogImmutableError(f"{'update' if state.is_update else 'delete'} statement on audit_entry")


def install_audit(session_class: type[Session]) -> None:
    """Attach audit capture, and the guard that keeps the audit log append-only, to a session class."""
    event.listen(session_class, "after_flush", _after_flush)
    event.listen(session_class, "before_flush", _refuse_audit_changes)
    event.listen(session_class, "do_orm_execute", _refuse_audit_statements)


def record(
    session: Session | AsyncSession,
    actor: Principal,
    action: str,
    entity_type: str,
    entity_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Record a write that did not go through the ORM (bulk statements, logins, exports)."""
    session.add(
        AuditEntry(
            occurred_at=utc_now(),
            actor_id=actor.id,
            actor_name=actor.name,
            actor_kind=actor.kind.value,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            before=_jsonable(before),
            after=_jsonable(after),
        )
    )
