"""HTTP layer of the audit log: a read-only JSON API and the administrators' page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.errors import IocError
from ioc.core.http import Page, PageParams, db_session, page_params
from ioc.core.security import Principal
from ioc.core.templating import format_local, render

from . import service
from .constants import PAGE_PATH, PAGE_SIZE
from .deps import audit_filters, local_day_start, require_audit_read
from .exceptions import InvalidDate, InvalidPeriod
from .schemas import AuditEntryRead, AuditFilters, FieldChange

# No write routes, on purpose: the log is append-only and only the kernel writes it.
api_router = APIRouter(prefix="/audit", tags=["audit"], dependencies=[Depends(require_audit_read)])
page_router = APIRouter(include_in_schema=False)

ISO_DATE_LENGTH = len("2025-07-01")
ISO_TIME_MIN_LENGTH = len("2025-07-01T00:00+00:00")

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Cần đăng nhập / login required"},
    403: {"description": "Thiếu quyền audit:read / scope audit:read missing"},
}


@api_router.get(
    "",
    response_model=Page[AuditEntryRead],
    summary="Nhật ký thao tác / audit log",
    responses={**_ERRORS, 422: {"description": "Bộ lọc không hợp lệ / invalid filters"}},
)
async def list_audit_entries(
    filters: AuditFilters = Depends(audit_filters),
    paging: PageParams = Depends(page_params),
    session: AsyncSession = Depends(db_session),
) -> Page[AuditEntryRead]:
    """List audit entries, newest first, filtered by actor, entity, action and period."""
    return await service.list_entries(session, filters, paging)


@api_router.get(
    "/{entry_id}",
    response_model=AuditEntryRead,
    summary="Một bản ghi nhật ký / one audit entry",
    responses={**_ERRORS, 404: {"description": "Không tồn tại / not found"}},
)
async def read_audit_entry(entry_id: int, session: AsyncSession = Depends(db_session)) -> AuditEntryRead:
    """Return one audit entry with its before and after values."""
    return await service.get_entry(session, entry_id)


def _local_text(value: str | None) -> str | None:
    # Times are stored as UTC ISO strings; the page shows them on the province's clock, like its Time column.
    if value is None or len(value) < ISO_TIME_MIN_LENGTH or value[ISO_DATE_LENGTH] != "T":
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return format_local(moment, "%d/%m/%Y %H:%M:%S") if moment.tzinfo is not None else value


def _on_province_clock(changes: list[FieldChange]) -> list[FieldChange]:
    return [
        change.model_copy(update={"before": _local_text(change.before), "after": _local_text(change.after)})
        for change in changes
    ]


@page_router.get(PAGE_PATH)
async def audit_page(
    request: Request,
    _principal: Principal = Depends(require_audit_read),
    session: AsyncSession = Depends(db_session),
    actor: str = "",
    entity_type: str = "",
    entity_id: str = "",
    action: str = "",
    day_from: str = Query("", alias="from"),
    day_to: str = Query("", alias="to"),
    offset: int = Query(0, ge=0),
) -> Response:
    """Show the audit log as a table with filters and an expandable before/after diff per entry."""
    form = {"actor": actor, "entity_type": entity_type, "entity_id": entity_id, "action": action}
    form |= {"from": day_from, "to": day_to}
    errors: dict[str, IocError] = {}
    bounds: dict[str, datetime | None] = {}
    for name, text in (("from", day_from), ("to", day_to)):
        try:
            bounds[name] = local_day_start(text)
        except InvalidDate as exc:
            errors[name] = exc
    end_day = bounds.get("to")
    filters = AuditFilters(
        actor=actor.strip() or None,
        entity_type=entity_type.strip() or None,
        entity_id=entity_id.strip() or None,
        action=action.strip() or None,
        occurred_from=bounds.get("from"),
        # "To" is a whole day in the form, so the period runs until the next local midnight.
        occurred_to=end_day + timedelta(days=1) if end_day is not None else None,
    )
    result: Page[AuditEntryRead] | None = None
    if not errors:
        try:
            result = await service.list_entries(session, filters, PageParams(limit=PAGE_SIZE, offset=offset))
        except InvalidPeriod as exc:
            errors["to"] = exc
    rows = (
        [{"entry": entry, "changes": _on_province_clock(service.field_changes(entry))} for entry in result.items]
        if result
        else []
    )
    return render(request, "audit/list.html", {"form": form, "errors": errors, "rows": rows, "page": result})
