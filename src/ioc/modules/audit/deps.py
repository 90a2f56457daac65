"""Dependencies of the audit routes: the scope check and the list filters."""

from __future__ import annotations

from datetime import date, datetime, time

from fastapi import Query

from ioc.core.security import require_scope
from ioc.core.time import PROVINCE_TZ

from .constants import MAX_ACTION_LENGTH, MAX_ACTOR_LENGTH, MAX_ENTITY_ID_LENGTH, MAX_ENTITY_TYPE_LENGTH, SCOPE_READ
from .exceptions import InvalidDate
from .schemas import AuditFilters

require_audit_read = require_scope(SCOPE_READ)


def in_province_time(value: datetime | None) -> datetime | None:
    """Read a time without an offset as Vietnam time, the way people in the province write it."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=PROVINCE_TZ)


def local_day_start(text: str) -> datetime | None:
    """Return the Vietnam-time midnight that starts a yyyy-mm-dd day; None for a blank field."""
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidDate(text) from None
    return datetime.combine(day, time(), tzinfo=PROVINCE_TZ)


def _clean(value: str | None) -> str | None:
    return (value or "").strip() or None


def audit_filters(
    actor: str | None = Query(
        None, max_length=MAX_ACTOR_LENGTH, description="Tên hoặc mã người thực hiện / actor name or user id"
    ),
    entity_type: str | None = Query(
        None, max_length=MAX_ENTITY_TYPE_LENGTH, description="Bảng dữ liệu, ví dụ calendar_day / table name"
    ),
    entity_id: str | None = Query(None, max_length=MAX_ENTITY_ID_LENGTH, description="Khoá chính / primary key"),
    action: str | None = Query(
        None, max_length=MAX_ACTION_LENGTH, description="create | update | delete | hành động khác / other action"
    ),
    occurred_from: datetime | None = Query(
        None, alias="from", description="Từ thời điểm (bao gồm; không ghi múi giờ = giờ Việt Nam) / from (inclusive)"
    ),
    occurred_to: datetime | None = Query(
        None, alias="to", description="Đến thời điểm (không bao gồm; không ghi múi giờ = giờ Việt Nam) / to (exclusive)"
    ),
) -> AuditFilters:
    """Read the audit list filters from the query string."""
    return AuditFilters(
        actor=_clean(actor),
        entity_type=_clean(entity_type),
        entity_id=_clean(entity_id),
        action=_clean(action),
        occurred_from=in_province_time(occurred_from),
        occurred_to=in_province_time(occurred_to),
    )
