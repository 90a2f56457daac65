"""HTTP routes: the delivery log, templates and test messages (API), and the admin log page."""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.http import Page, PageParams, db_session, page_params
from ioc.core.i18n import request_language
from ioc.core.security import Principal, optional_principal
from ioc.core.templating import render

from . import service
from .constants import RETRYABLE_STATUSES, SCOPE_ADMIN, TEMPLATE_CHANNELS, ChannelKind, DeliveryStatus
from .deps import require_notification_admin
from .schemas import ChannelTestCreate, DeliveryFilters, DeliveryRead, TemplateRead, TemplateUpdate

PAGE_SIZE = 50
E = TypeVar("E", bound=Enum)
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Cần đăng nhập / login required"},
    403: {"description": "Không có quyền notification:admin / notification:admin scope required"},
}

api_router = APIRouter(prefix="/notifications", tags=["notification"], responses=ERRORS)
page_router = APIRouter(include_in_schema=False)


def delivery_filters(
    status: DeliveryStatus | None = Query(None, description="Trạng thái / status"),
    channel: ChannelKind | None = Query(None, description="Kênh / channel"),
    correlation: str | None = Query(None, max_length=200, description="Liên kết, ví dụ alarm:123 / correlation"),
) -> DeliveryFilters:
    """Read the delivery log filters from the query string."""
    return DeliveryFilters(status=status, channel=channel, correlation=correlation or None)


@api_router.get("/deliveries", response_model=Page[DeliveryRead], summary="Nhật ký gửi / delivery log")
async def list_deliveries(
    filters: DeliveryFilters = Depends(delivery_filters),
    page: PageParams = Depends(page_params),
    principal: Principal = Depends(require_notification_admin),
    session: AsyncSession = Depends(db_session),
) -> Page[DeliveryRead]:
    """List deliveries, newest first."""
    return await service.list_deliveries(session, filters, page, reveal_recipients=principal.is_admin)


@api_router.get(
    "/deliveries/{delivery_id}",
    response_model=DeliveryRead,
    summary="Một lượt gửi / one delivery",
    responses={404: {"description": "Không tìm thấy / not found"}},
)
async def get_delivery(
    delivery_id: int,
    principal: Principal = Depends(require_notification_admin),
    session: AsyncSession = Depends(db_session),
) -> DeliveryRead:
    """Return one delivery with its rendered text and last error."""
    return await service.get_delivery(session, delivery_id, reveal_recipient=principal.is_admin)


@api_router.post(
    "/deliveries/{delivery_id}/retry",
    response_model=DeliveryRead,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Gửi lại / retry a delivery",
    responses={404: {"description": "Không tìm thấy / not found"}, 409: {"description": "Không gửi lại được"}},
)
async def retry_delivery(
    delivery_id: int,
    request: Request,
    principal: Principal = Depends(require_notification_admin),
    session: AsyncSession = Depends(db_session),
) -> DeliveryRead:
    """Send a failed or dead delivery again now."""
    read = await service.retry_delivery(session, request.app.state.runtime, delivery_id, principal)
    await session.commit()
    return read


@api_router.get("/templates", response_model=list[TemplateRead], summary="Mẫu tin / templates")
async def list_templates(
    key: str | None = Query(None, max_length=120, description="Khoá mẫu tin / template key"),
    _principal: Principal = Depends(require_notification_admin),
    session: AsyncSession = Depends(db_session),
) -> list[TemplateRead]:
    """List the stored templates."""
    return await service.list_templates(session, key)


@api_router.get(
    "/templates/{key}/{channel}/{lang}",
    response_model=TemplateRead,
    summary="Một mẫu tin / one template",
    responses={404: {"description": "Không tìm thấy / not found"}},
)
async def get_template(
    key: str = Path(max_length=120),
    channel: str = Path(description=" | ".join(TEMPLATE_CHANNELS)),
    lang: str = Path(description="vi | en"),
    _principal: Principal = Depends(require_notification_admin),
    session: AsyncSession = Depends(db_session),
) -> TemplateRead:
    """Return one template variant."""
    return await service.get_template(session, key, channel, lang)


@api_router.put(
    "/templates/{key}/{channel}/{lang}",
    response_model=TemplateRead,
    summary="Lưu mẫu tin / save a template",
    responses={422: {"description": "Mẫu sai cú pháp hoặc không an toàn / invalid or unsafe template"}},
)
async def put_template(
    data: TemplateUpdate,
    key: str = Path(max_length=120),
    channel: str = Path(description=" | ".join(TEMPLATE_CHANNELS)),
    lang: str = Path(description="vi | en"),
    _principal: Principal = Depends(require_notification_admin),
    session: AsyncSession = Depends(db_session),
) -> TemplateRead:
    """Create or replace one template variant (placeholders are `{{ name }}`)."""
    read = await service.put_template(session, key, channel, lang, data)
    await session.commit()
    return read


@api_router.post(
    "/test",
    response_model=DeliveryRead,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Gửi tin thử / send a test message",
    responses={422: {"description": "Người nhận không hợp lệ / invalid recipient"}},
)
async def send_test(
    data: ChannelTestCreate,
    request: Request,
    principal: Principal = Depends(require_notification_admin),
    session: AsyncSession = Depends(db_session),
) -> DeliveryRead:
    """Queue the test template to a recipient through a channel; it leaves right after this answer."""
    delivery_id = await service.send_test(session, request.app.state.runtime, data, principal)
    await session.commit()
    request.app.state.runtime.jobs.wake()
    return await service.get_delivery(session, delivery_id, reveal_recipient=principal.is_admin)


def _login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=status.HTTP_303_SEE_OTHER)


def _forbidden_page(request: Request) -> Response:
    # Browsers get the shell's readable refusal rather than a JSON error.
    return render(
        request,
        "error.html",
        {
            "status_code": status.HTTP_403_FORBIDDEN,
            "title_key": "shell.error.403.title",
            "text_key": "shell.error.403.text",
            "message": None,
            "request_id": getattr(request.state, "request_id", None),
        },
        status_code=status.HTTP_403_FORBIDDEN,
    )


def _choice(enum: type[E], value: str) -> E | None:
    return next((member for member in enum if member.value == value), None)


@page_router.get("/admin/notifications")
async def deliveries_page(
    request: Request,
    status_filter: str = Query("", alias="status"),
    channel: str = "",
    correlation: str = "",
    offset: str = "0",
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Show the delivery log with status badges, filters and a retry button."""
    if principal is None:
        return _login_redirect(request)
    if not principal.has(SCOPE_ADMIN):
        return _forbidden_page(request)
    # A hand-edited address bar should show the unfiltered log, not a validation error.
    filters = DeliveryFilters(
        status=_choice(DeliveryStatus, status_filter),
        channel=_choice(ChannelKind, channel),
        correlation=correlation.strip()[:200] or None,
    )
    start = int(offset) if offset.isdigit() else 0
    page = await service.list_deliveries(
        session, filters, PageParams(limit=PAGE_SIZE, offset=start), reveal_recipients=principal.is_admin
    )
    lang = request_language(request, request.app.state.runtime.settings.default_language)
    translate = request.app.state.runtime.translator
    return render(
        request,
        "notification/deliveries.html",
        {
            "page": page,
            "filters": filters,
            "status_options": [(s.value, translate(f"notification.status.{s.value}", lang)) for s in DeliveryStatus],
            "channel_options": [(c.value, translate(f"notification.channel.{c.value}", lang)) for c in ChannelKind],
            "retryable": RETRYABLE_STATUSES,
        },
    )


@page_router.post("/admin/notifications/{delivery_id}/retry")
async def retry_from_page(
    request: Request,
    delivery_id: int,
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Retry a delivery from the log page (the form carries the CSRF token) and go back to the log."""
    if principal is None:
        return _login_redirect(request)
    if not principal.has(SCOPE_ADMIN):
        return _forbidden_page(request)
    await service.retry_delivery(session, request.app.state.runtime, delivery_id, principal)
    await session.commit()
    request.app.state.runtime.jobs.wake()
    return RedirectResponse("/admin/notifications", status_code=status.HTTP_303_SEE_OTHER)
