"""HTTP layer of the audit log: a read-only JSON API and the administrators' page."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.http import Page, PageParams, db_session, page_params
from ioc.core.security import Principal, optional_principal
from ioc.core.templating import render
from ioc.core.time import PROVINCE_TZ

from . import service
from .constants import LOGIN_PATH, PAGE_PATH, PAGE_SIZE, SCOPE_READ
from .deps import audit_filters, require_audit_read
from .exceptions import InvalidPeriod
from .schemas import AuditEntryRead, AuditFilters

# No write routes, on purpose: the log is append-only and only the kernel writes it.
api_router = APIRouter(prefix="/audit", tags=["audit"], dependencies=[Depends(require_audit_read)])
page_router = APIRouter(include_in_schema=False)

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


def _day_start(text: str, errors: list[tuple[str, dict[str, str]]]) -> datetime | None:
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        errors.append(("audit.error.date", {"value": text}))
        return None
    return datetime.combine(day, time(), tzinfo=PROVINCE_TZ)


@page_router.get(PAGE_PATH)
async def audit_page(
    request: Request,
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
    actor: str = "",
    entity_type: str = "",
    entity_id: str = "",
    action: str = "",
    day_from: str = Query("", alias="from"),
    day_to: str = Query("", alias="to"),
    page: int = Query(1, ge=1),
) -> Response:
    """Show the audit log as a table with filters and an expandable before/after diff per entry."""
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{LOGIN_PATH}?next={quote(target, safe='')}", status_code=303)
    if not principal.has(SCOPE_READ):
        return render(request, "audit/list.html", {"forbidden": True}, status_code=403)

    form = {"actor": actor, "entity_type": entity_type, "entity_id": entity_id, "action": action}
    form |= {"from": day_from, "to": day_to}
    errors: list[tuple[str, dict[str, str]]] = []
    start = _day_start(day_from, errors)
    end_day = _day_start(day_to, errors)
    # "To" is a whole day in the form, so the period runs until the next local midnight.
    end = end_day + timedelta(days=1) if end_day is not None else None
    filters = AuditFilters(
        actor=actor.strip() or None,
        entity_type=entity_type.strip() or None,
        entity_id=entity_id.strip() or None,
        action=action.strip() or None,
        occurred_from=start,
        occurred_to=end,
    )
    result = None
    if not errors:
        try:
            result = await service.list_entries(
                session, filters, PageParams(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
            )
        except InvalidPeriod:
            errors.append(("audit.error.period", {}))
    pages = max(math.ceil(result.total / PAGE_SIZE), 1) if result else 1
    kept = {key: value for key, value in form.items() if value.strip()}

    def page_url(number: int) -> str:
        return f"{PAGE_PATH}?{urlencode({**kept, 'page': number})}"

    return render(
        request,
        "audit/list.html",
        {
            "form": form,
            "errors": errors,
            "entries": [(entry, service.field_changes(entry)) for entry in result.items] if result else [],
            "total": result.total if result else 0,
            "page": page,
            "pages": pages,
            "prev_url": page_url(page - 1) if page > 1 else None,
            "next_url": page_url(page + 1) if page < pages else None,
        },
    )
