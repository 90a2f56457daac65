"""HTTP layer of public warnings: JSON API, CAP 1.2 and Atom, public pages, staff pages."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.errors import IocError
from ioc.core.http import Page, PageParams, db_session, page_params
from ioc.core.i18n import request_language
from ioc.core.runtime import Runtime
from ioc.core.security import Principal
from ioc.core.templating import render
from ioc.core.time import to_local
from ioc.modules import org_unit

from . import service
from .constants import (
    API_PREFIX,
    CAP_ALERT_PATH,
    CAP_FEED_PATH,
    PUBLIC_PATH,
    SCOPE_APPROVE,
    SCOPE_AUTHOR,
    SEVERITY_LABELS,
    STAFF_PATH,
    STATE_LABELS,
    SUBSCRIBE_PATH,
    CapStatus,
    Category,
    Certainty,
    MsgType,
    ResponseType,
    Severity,
    SubscriberChannel,
    Urgency,
    WarningState,
    label,
)
from .deps import require_approve, require_author, require_read
from .schemas import (
    AlarmProposalInput,
    DeliveryReport,
    ReviewInput,
    SubscribeInput,
    SubscribeResult,
    WarningInput,
    WarningKpis,
    WarningPublic,
    WarningRead,
)

api_router = APIRouter(tags=["warning"])
WARNING_ID = Path(..., ge=1, description="Mã số cảnh báo / warning id")
IDENTIFIER = Path(..., pattern=r"^[A-Za-z0-9._-]{1,80}$", description="CAP identifier")
CAP_MEDIA_TYPE = "application/cap+xml"
ATOM_MEDIA_TYPE = "application/atom+xml"

_STAFF: dict[int | str, dict[str, Any]] = {
    401: {"description": "Cần đăng nhập / login required"},
    403: {"description": "Không có quyền / not allowed"},
    404: {"description": "Không tìm thấy / not found"},
}
_ACTION: dict[int | str, dict[str, Any]] = {
    **_STAFF,
    409: {"description": "Không thực hiện được ở trạng thái hiện tại / not possible in the current state"},
    422: {"description": "Dữ liệu không hợp lệ / invalid input"},
}


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _lang(request: Request) -> str:
    return request_language(request, _runtime(request).settings.default_language)


@api_router.get(API_PREFIX, response_model=Page[WarningRead], summary="Danh sách cảnh báo / warnings", responses=_STAFF)
async def list_warnings(
    request: Request,
    state: list[WarningState] = Query(default_factory=list, description="trạng thái / states"),
    page: PageParams = Depends(page_params),
    session: AsyncSession = Depends(db_session),
    _principal: Principal = Depends(require_read),
) -> Page[WarningRead]:
    """List warnings in any state, newest first (staff)."""
    return await service.list_warnings(session, _runtime(request), state, page)


@api_router.get(f"{API_PREFIX}/current", response_model=list[WarningPublic], summary="Cảnh báo đang hiệu lực / current")
async def current_warnings(
    request: Request,
    unit: str | None = Query(None, max_length=20, description="mã xã/phường / unit code"),
    session: AsyncSession = Depends(db_session),
) -> list[WarningPublic]:
    """List the warnings in force now (public)."""
    return await service.current_warnings(session, _runtime(request), unit_code=unit)


@api_router.get(f"{API_PREFIX}/areas.geojson", summary="Vùng cảnh báo đang hiệu lực / current warning areas (GeoJSON)")
async def warning_areas(request: Request, session: AsyncSession = Depends(db_session)) -> dict[str, Any]:
    """Return the areas of current warnings as GeoJSON (public)."""
    return await service.area_features(session, lang=_lang(request))


@api_router.get(f"{API_PREFIX}/kpis", response_model=WarningKpis, summary="Chỉ số / KPIs", responses=_STAFF)
async def warning_kpis(
    session: AsyncSession = Depends(db_session), _principal: Principal = Depends(require_read)
) -> WarningKpis:
    """Return the figures of the operations picture."""
    return await service.kpis(session)


@api_router.post(
    API_PREFIX, response_model=WarningRead, status_code=201, summary="Soạn cảnh báo / draft", responses=_ACTION
)
async def create_warning(
    request: Request,
    data: WarningInput,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_author),
) -> WarningRead:
    """Create a draft warning (authorised staff)."""
    warning = await service.create_draft(session, _runtime(request), data, principal)
    await session.commit()
    return warning


@api_router.post(
    f"{API_PREFIX}/from-alarm",
    response_model=WarningRead,
    status_code=201,
    summary="Đề xuất cảnh báo từ sự cố / propose from an alarm",
    responses=_ACTION,
)
async def propose_from_alarm(
    request: Request,
    data: AlarmProposalInput,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_author),
) -> WarningRead:
    """Draft a warning from an alarm; the author completes and submits it."""
    warning = await service.propose_from_alarm(session, _runtime(request), data.alarm_id, principal)
    await session.commit()
    return warning


@api_router.post(
    f"{API_PREFIX}/subscriptions",
    response_model=SubscribeResult,
    status_code=202,
    summary="Đăng ký nhận cảnh báo / subscribe",
    responses={422: {"description": "Dữ liệu không hợp lệ / invalid input"}},
)
async def subscribe(
    request: Request, data: SubscribeInput, session: AsyncSession = Depends(db_session)
) -> SubscribeResult:
    """Subscribe an address to warnings for some units; it starts after the confirmation link is opened."""
    result = await service.subscribe(session, _runtime(request), data)
    await session.commit()
    return result


@api_router.get(
    f"{API_PREFIX}/{{warning_id}}", response_model=WarningRead, summary="Một cảnh báo / one", responses=_STAFF
)
async def get_warning(
    request: Request,
    warning_id: int = WARNING_ID,
    session: AsyncSession = Depends(db_session),
    _principal: Principal = Depends(require_read),
) -> WarningRead:
    """Return one warning with its workflow fields (staff)."""
    return await service.get_warning(session, _runtime(request), warning_id)


@api_router.put(
    f"{API_PREFIX}/{{warning_id}}", response_model=WarningRead, summary="Sửa bản nháp / edit", responses=_ACTION
)
async def update_warning(
    request: Request,
    data: WarningInput,
    warning_id: int = WARNING_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_author),
) -> WarningRead:
    """Replace the content of a draft or returned warning."""
    warning = await service.update_draft(session, _runtime(request), warning_id, data, principal)
    await session.commit()
    return warning


@api_router.post(
    f"{API_PREFIX}/{{warning_id}}/submit", response_model=WarningRead, summary="Gửi duyệt / submit", responses=_ACTION
)
async def submit_warning(
    request: Request,
    warning_id: int = WARNING_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_author),
) -> WarningRead:
    """Send a draft for approval by a second person."""
    warning = await service.submit(session, _runtime(request), warning_id, principal)
    await session.commit()
    return warning


@api_router.post(
    f"{API_PREFIX}/{{warning_id}}/approve",
    response_model=WarningRead,
    summary="Duyệt và phát hành / approve and publish",
    responses=_ACTION,
)
async def approve_warning(
    request: Request,
    warning_id: int = WARNING_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_approve),
) -> WarningRead:
    """Approve and publish a warning (not its author); subscribers are notified."""
    warning = await service.approve(session, _runtime(request), warning_id, principal)
    service.audit_decision(session, principal, "approve", warning_id)
    await session.commit()
    return warning


@api_router.post(
    f"{API_PREFIX}/{{warning_id}}/reject", response_model=WarningRead, summary="Trả lại / return", responses=_ACTION
)
async def reject_warning(
    request: Request,
    data: ReviewInput,
    warning_id: int = WARNING_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_approve),
) -> WarningRead:
    """Return a pending warning to its author with a reason."""
    warning = await service.reject(session, _runtime(request), warning_id, principal, data.note)
    service.audit_decision(session, principal, "reject", warning_id)
    await session.commit()
    return warning


@api_router.post(
    f"{API_PREFIX}/{{warning_id}}/update",
    response_model=WarningRead,
    status_code=201,
    summary="Soạn bản cập nhật / draft an Update",
    responses=_ACTION,
)
async def derive_update(
    request: Request,
    warning_id: int = WARNING_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_author),
) -> WarningRead:
    """Start a CAP Update of a published warning (a new draft referencing it)."""
    warning = await service.derive(session, _runtime(request), warning_id, MsgType.UPDATE, principal)
    await session.commit()
    return warning


@api_router.post(
    f"{API_PREFIX}/{{warning_id}}/cancel",
    response_model=WarningRead,
    status_code=201,
    summary="Soạn bản huỷ / draft a Cancel",
    responses=_ACTION,
)
async def derive_cancel(
    request: Request,
    warning_id: int = WARNING_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_author),
) -> WarningRead:
    """Start a CAP Cancel of a published warning; it also needs a second person's approval."""
    warning = await service.derive(session, _runtime(request), warning_id, MsgType.CANCEL, principal)
    await session.commit()
    return warning


@api_router.get(
    f"{API_PREFIX}/{{warning_id}}/deliveries",
    response_model=DeliveryReport,
    summary="Báo cáo gửi tin / delivery report",
    responses=_STAFF,
)
async def delivery_report(
    request: Request,
    warning_id: int = WARNING_ID,
    session: AsyncSession = Depends(db_session),
    _principal: Principal = Depends(require_read),
) -> DeliveryReport:
    """Count the warning's messages per channel: delivered, pending, failed, retried."""
    return await service.delivery_report(session, _runtime(request), warning_id)


# Standards and pages (outside /api/v1)

page_router = APIRouter(include_in_schema=False)


@page_router.get(f"{CAP_ALERT_PATH}/{{identifier}}.xml")
async def cap_alert(
    request: Request, identifier: str = IDENTIFIER, session: AsyncSession = Depends(db_session)
) -> Response:
    """Serve the CAP 1.2 message of a published warning."""
    body = await service.cap_xml(session, _runtime(request), identifier)
    return Response(body, media_type=CAP_MEDIA_TYPE, headers={"Cache-Control": "public, max-age=60"})


@page_router.get(CAP_FEED_PATH)
async def cap_feed(request: Request, session: AsyncSession = Depends(db_session)) -> Response:
    """Serve the Atom feed of current warnings."""
    body = await service.atom_feed(session, _runtime(request), _lang(request))
    return Response(body, media_type=ATOM_MEDIA_TYPE, headers={"Cache-Control": "public, max-age=60"})


def _labels(lang: str) -> dict[str, Any]:
    return {
        "severity_label": lambda value: label(SEVERITY_LABELS, value, lang),
        "state_label": lambda value: label(STATE_LABELS, value, lang),
    }


@page_router.get(PUBLIC_PATH)
async def public_page(request: Request, session: AsyncSession = Depends(db_session)) -> Response:
    """Show the warnings in force and their map (public, phone first)."""
    warnings = await service.current_warnings(session, _runtime(request))
    return render(request, "warning/public.html", {"warnings": warnings, **_labels(_lang(request))})


@page_router.get(f"{PUBLIC_PATH}/{{warning_id:int}}")
async def public_detail(request: Request, warning_id: int, session: AsyncSession = Depends(db_session)) -> Response:
    """Show one published warning (public)."""
    warning = await service.get_public(session, _runtime(request), warning_id)
    return render(request, "warning/detail.html", {"warning": warning, **_labels(_lang(request))})


async def _communes(session: AsyncSession, settings_code: str) -> list[org_unit.OrgUnitRead]:
    return sorted(await org_unit.children(session, settings_code), key=lambda u: u.name)


async def _render_subscribe(
    request: Request,
    session: AsyncSession,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, Any] | None = None,
    result: SubscribeResult | None = None,
    status_code: int = 200,
) -> Response:
    communes = await _communes(session, _runtime(request).settings.province_code)
    return render(
        request,
        "warning/subscribe.html",
        {
            "communes": communes,
            "channels": list(SubscriberChannel),
            "values": values or {"unit_codes": []},
            "errors": errors or {},
            "result": result,
        },
        status_code=status_code,
    )


@page_router.get(SUBSCRIBE_PATH)
async def subscribe_page(request: Request, session: AsyncSession = Depends(db_session)) -> Response:
    """Show the subscription form: channel, address and communes."""
    return await _render_subscribe(request, session)


@page_router.post(SUBSCRIBE_PATH)
async def subscribe_submit(request: Request, session: AsyncSession = Depends(db_session)) -> Response:
    """Subscribe from the form; the confirmation link goes to the address given."""
    form = await request.form()
    values = {
        "channel": str(form.get("channel", "")),
        "address": str(form.get("address", "")).strip(),
        "unit_codes": [str(v) for v in form.getlist("unit_codes")],
        "lang": _lang(request),
    }
    try:
        data = SubscribeInput.model_validate(values)
        result = await service.subscribe(session, _runtime(request), data)
        await session.commit()
    except ValidationError as exc:
        fields = {str(e["loc"][0]) for e in exc.errors() if e.get("loc")}
        errors = {name: {"vi": "Giá trị không hợp lệ.", "en": "Invalid value."} for name in fields}
        if "unit_codes" in fields:
            errors["unit_codes"] = {"vi": "Hãy chọn ít nhất một xã/phường.", "en": "Choose at least one commune."}
        return await _render_subscribe(request, session, values=values, errors=errors, status_code=422)
    except IocError as exc:
        await session.rollback()
        key = "unit_codes" if exc.detail.get("field") == "areas" else "address"
        return await _render_subscribe(request, session, values=values, errors={key: exc}, status_code=422)
    return await _render_subscribe(request, session, result=result, status_code=202)


@page_router.get(f"{SUBSCRIBE_PATH}/xac-nhan/{{token}}")
async def confirm_page(request: Request, token: str = Path(..., max_length=64)) -> Response:
    """Ask the subscriber to press the button (mail scanners follow links but do not post forms)."""
    return render(request, "warning/confirm.html", {"token": token, "action": "confirm"})


@page_router.post(f"{SUBSCRIBE_PATH}/xac-nhan/{{token}}")
async def confirm_submit(
    request: Request, token: str = Path(..., max_length=64), session: AsyncSession = Depends(db_session)
) -> Response:
    """Confirm a subscription."""
    try:
        await service.confirm(session, token)
        await session.commit()
    except IocError as exc:
        return render(request, "warning/confirm.html", {"token": token, "action": "confirm", "error": exc}, 404)
    return render(request, "warning/confirm.html", {"token": token, "action": "confirm", "done": True})


@page_router.get(f"{SUBSCRIBE_PATH}/huy/{{token}}")
async def unsubscribe_page(request: Request, token: str = Path(..., max_length=64)) -> Response:
    """Ask the subscriber to confirm unsubscribing."""
    return render(request, "warning/confirm.html", {"token": token, "action": "unsubscribe"})


@page_router.post(f"{SUBSCRIBE_PATH}/huy/{{token}}")
async def unsubscribe_submit(
    request: Request, token: str = Path(..., max_length=64), session: AsyncSession = Depends(db_session)
) -> Response:
    """Delete a subscription and its address."""
    try:
        await service.unsubscribe(session, token)
        await session.commit()
    except IocError as exc:
        return render(request, "warning/confirm.html", {"token": token, "action": "unsubscribe", "error": exc}, 404)
    return render(request, "warning/confirm.html", {"token": token, "action": "unsubscribe", "done": True})


# Staff pages


@page_router.get(STAFF_PATH)
async def staff_list(
    request: Request,
    offset: int = Query(0, ge=0),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> Response:
    """Show the approval queue and every warning."""
    return await _render_staff_list(request, session, principal, offset)


async def _render_staff_list(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    offset: int,
    *,
    error: IocError | None = None,
    status_code: int = 200,
) -> Response:
    runtime = _runtime(request)
    queue = await service.list_warnings(session, runtime, [WarningState.PENDING], PageParams(limit=100, offset=0))
    everything = await service.list_warnings(session, runtime, [], PageParams(limit=50, offset=offset))
    return render(
        request,
        "warning/staff_list.html",
        {
            "queue": queue,
            "page": everything,
            "can_author": principal.has(SCOPE_AUTHOR),
            "can_approve": principal.has(SCOPE_APPROVE),
            "error": error,
            **_labels(_lang(request)),
        },
        status_code=status_code,
    )


def _local_input(value: datetime | None) -> str:
    return to_local(value).strftime("%Y-%m-%dT%H:%M") if value else ""


def _parse_local(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    # datetime-local has no offset: the form is in the province's time (+07:00).
    return f"{value}:00+07:00" if len(value) == 16 else f"{value}+07:00"


def _form_values(form: Any) -> dict[str, Any]:
    fields = [
        "status",
        "category",
        "response_type",
        "urgency",
        "severity",
        "certainty",
        "event_vi",
        "event_en",
        "headline_vi",
        "headline_en",
        "description_vi",
        "description_en",
        "instruction_vi",
        "instruction_en",
    ]
    values: dict[str, Any] = {name: str(form.get(name, "")).strip() for name in fields}
    values["response_type"] = values["response_type"] or None
    values["effective_at"] = _parse_local(str(form.get("effective_at", "")))
    values["expires_at"] = _parse_local(str(form.get("expires_at", "")))
    values["unit_codes"] = [str(v) for v in form.getlist("unit_codes")]
    raw = str(form.get("polygons", "")).strip()
    try:
        polygons = json.loads(raw) if raw else []
    except (json.JSONDecodeError, RecursionError):
        polygons = raw  # rejected with a field message below
    values["polygons"] = polygons
    return values


def _validation_errors(exc: ValidationError) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error.get("loc") else "areas"
        message = error.get("msg", "").removeprefix("Value error, ")
        errors.setdefault(name, {"vi": message, "en": message})
    return errors


async def _render_form(
    request: Request,
    session: AsyncSession,
    *,
    warning: WarningRead | None,
    values: dict[str, Any],
    errors: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    communes = await _communes(session, _runtime(request).settings.province_code)
    return render(
        request,
        "warning/form.html",
        {
            "warning": warning,
            "values": values,
            "errors": errors or {},
            "communes": communes,
            "options": {
                "status": list(CapStatus),
                "category": list(Category),
                "response_type": list(ResponseType),
                "urgency": list(Urgency),
                "severity": list(Severity),
                "certainty": list(Certainty),
            },
        },
        status_code=status_code,
    )


def _values_of(data: WarningInput) -> dict[str, Any]:
    values = data.model_dump(mode="json")
    values["effective_at"] = _local_input(data.effective_at)
    values["expires_at"] = _local_input(data.expires_at)
    values["polygons"] = json.dumps(values["polygons"], ensure_ascii=False) if values["polygons"] else ""
    return values


@page_router.get(f"{STAFF_PATH}/moi")
async def new_form(
    request: Request, session: AsyncSession = Depends(db_session), _principal: Principal = Depends(require_author)
) -> Response:
    """Show an empty warning form."""
    values = {"status": "Actual", "category": "Env", "unit_codes": [], "polygons": ""}
    return await _render_form(request, session, warning=None, values=values)


async def _save(request: Request, session: AsyncSession, principal: Principal, warning_id: int | None) -> Response:
    form = await request.form()
    values = _form_values(form)
    warning = await service.get_warning(session, _runtime(request), warning_id) if warning_id else None
    shown = {
        **values,
        "effective_at": str(form.get("effective_at", "")),
        "expires_at": str(form.get("expires_at", "")),
        "polygons": str(form.get("polygons", "")),
    }
    try:
        data = WarningInput.model_validate(values)
        if warning_id is None:
            saved = await service.create_draft(session, _runtime(request), data, principal)
        else:
            saved = await service.update_draft(session, _runtime(request), warning_id, data, principal)
        if form.get("then") == "submit":
            saved = await service.submit(session, _runtime(request), saved.id, principal)
        await session.commit()
    except ValidationError as exc:
        return await _render_form(
            request, session, warning=warning, values=shown, errors=_validation_errors(exc), status_code=422
        )
    except IocError as exc:
        await session.rollback()
        field = str(exc.detail.get("field", "areas")) if exc.detail else "areas"
        return await _render_form(
            request, session, warning=warning, values=shown, errors={field: exc}, status_code=exc.status_code
        )
    return RedirectResponse(f"{STAFF_PATH}/{saved.id}", status_code=303)


@page_router.post(f"{STAFF_PATH}/moi")
async def new_submit(
    request: Request, session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_author)
) -> Response:
    """Create a draft from the form (and submit it when asked)."""
    return await _save(request, session, principal, None)


@page_router.post(f"{STAFF_PATH}/tu-su-co")
async def propose_page(
    request: Request, session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_author)
) -> Response:
    """Draft a warning from an alarm number and open it for editing."""
    form = await request.form()
    raw = str(form.get("alarm_id", "")).strip()
    try:
        draft = await service.propose_from_alarm(
            session, _runtime(request), int(raw) if raw.isdigit() else 0, principal
        )
        await session.commit()
    except IocError as exc:
        await session.rollback()
        return await _render_staff_list(request, session, principal, 0, error=exc, status_code=exc.status_code)
    return RedirectResponse(f"{STAFF_PATH}/{draft.id}/sua", status_code=303)


@page_router.get(f"{STAFF_PATH}/{{warning_id:int}}")
async def staff_detail(
    request: Request,
    warning_id: int,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> Response:
    """Show a warning with the actions the caller may take, and its delivery report."""
    runtime = _runtime(request)
    warning = await service.get_warning(session, runtime, warning_id)
    report = await service.delivery_report(session, runtime, warning_id)
    return render(
        request,
        "warning/staff_detail.html",
        {
            "warning": warning,
            "report": report,
            "can_author": principal.has(SCOPE_AUTHOR),
            "can_approve": principal.has(SCOPE_APPROVE) and principal.name != warning.author,
            "is_author": principal.name == warning.author,
            "error": None,
            **_labels(_lang(request)),
        },
    )


@page_router.get(f"{STAFF_PATH}/{{warning_id:int}}/sua")
async def edit_form(
    request: Request,
    warning_id: int,
    session: AsyncSession = Depends(db_session),
    _principal: Principal = Depends(require_author),
) -> Response:
    """Show the form of a draft or returned warning."""
    warning = await service.get_warning(session, _runtime(request), warning_id)
    row = await service.to_input_by_id(session, warning_id)
    return await _render_form(request, session, warning=warning, values=_values_of(row))


@page_router.post(f"{STAFF_PATH}/{{warning_id:int}}/sua")
async def edit_submit(
    request: Request,
    warning_id: int,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_author),
) -> Response:
    """Save a draft from the form (and submit it when asked)."""
    return await _save(request, session, principal, warning_id)


@page_router.post(f"{STAFF_PATH}/{{warning_id:int}}/{{action}}")
async def staff_action(
    request: Request,
    warning_id: int,
    action: str = Path(..., pattern="^(submit|approve|reject|update|cancel)$"),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> Response:
    """Run a workflow action from the detail page; errors are shown on the page."""
    runtime = _runtime(request)
    form = await request.form()
    target = warning_id
    try:
        if action == "submit":
            await require_author(request)
            await service.submit(session, runtime, warning_id, principal)
        elif action == "approve":
            await require_approve(request)
            await service.approve(session, runtime, warning_id, principal)
            service.audit_decision(session, principal, "approve", warning_id)
        elif action == "reject":
            await require_approve(request)
            await service.reject(session, runtime, warning_id, principal, str(form.get("note", "")))
            service.audit_decision(session, principal, "reject", warning_id)
        else:
            await require_author(request)
            kind = MsgType.UPDATE if action == "update" else MsgType.CANCEL
            target = (await service.derive(session, runtime, warning_id, kind, principal)).id
        await session.commit()
    except IocError as exc:
        await session.rollback()
        warning = await service.get_warning(session, runtime, warning_id)
        report = await service.delivery_report(session, runtime, warning_id)
        return render(
            request,
            "warning/staff_detail.html",
            {
                "warning": warning,
                "report": report,
                "can_author": principal.has(SCOPE_AUTHOR),
                "can_approve": principal.has(SCOPE_APPROVE) and principal.name != warning.author,
                "is_author": principal.name == warning.author,
                "error": exc,
                **_labels(_lang(request)),
            },
            status_code=exc.status_code,
        )
    suffix = "/sua" if action in ("update", "cancel") else ""
    return RedirectResponse(f"{STAFF_PATH}/{target}{suffix}", status_code=303)
