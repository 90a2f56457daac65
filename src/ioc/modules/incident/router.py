"""HTTP layer of incidents: the JSON API, the incident list and workspace, and the agency task inbox."""

from __future__ import annotations

from typing import Any, Literal, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.errors import IocError
from ioc.core.http import Page, PageParams, db_session, page_params
from ioc.core.i18n import request_language
from ioc.core.runtime import Runtime
from ioc.core.security import Principal, Role, require_principal
from ioc.core.templating import render
from ioc.core.time import utc_now

from . import exports, service
from .constants import (
    API_PREFIX,
    DEFAULT_TASK_HOURS,
    EMERGENCY_TYPES,
    LIST_PATH,
    MAX_TASK_HOURS,
    OPEN_TASK_STATUSES,
    PAGE_SIZE,
    SCOPE_COMMAND,
    TASK_API_PREFIX,
    TASK_INBOX_PATH,
    IncidentStatus,
    IncidentType,
    LogKind,
    Severity,
    TaskStatus,
)
from .deps import incident_filters, require_command, require_read, require_task
from .exceptions import InformedChangeRefused
from .schemas import (
    ChecklistItemRead,
    ChecklistTick,
    CloseInput,
    FromAlarmCreate,
    FromReportCreate,
    IncidentCreate,
    IncidentFilters,
    IncidentKpis,
    IncidentRead,
    IncidentSummary,
    IncidentUpdate,
    LinkCreate,
    LogCreate,
    LogRead,
    TaskCreate,
    TaskInformedUpdate,
    TaskRead,
    TaskReassign,
    TaskReport,
    TaskStatusUpdate,
)

api_router = APIRouter(tags=["incident"])
page_router = APIRouter(include_in_schema=False)

M = TypeVar("M", bound=BaseModel)
INCIDENT_ID = Path(..., ge=1, description="Mã số sự cố / incident id")
TASK_ID = Path(..., ge=1, description="Mã số nhiệm vụ / task id")
ITEM_ID = Path(..., ge=1, description="Mã số bước / checklist item id")
FORMATS: dict[str, tuple[str, str]] = {
    "pdf": ("application/pdf", "pdf"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
_STAFF: dict[int | str, dict[str, Any]] = {
    401: {"description": "Cần đăng nhập / login required"},
    403: {"description": "Không có quyền / not allowed"},
    404: {"description": "Không tìm thấy / not found"},
}
_ACTION: dict[int | str, dict[str, Any]] = {
    **_STAFF,
    409: {"description": "Không thực hiện được ở trạng thái hiện tại / not possible in the current status"},
    422: {"description": "Dữ liệu không hợp lệ / invalid input"},
}


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _lang(request: Request) -> str:
    return request_language(request, _runtime(request).settings.default_language)


# JSON API


@api_router.get(
    API_PREFIX, response_model=Page[IncidentSummary], responses=_STAFF, summary="Danh sách sự cố / incidents"
)
async def list_incidents(
    filters: IncidentFilters = Depends(incident_filters),
    paging: PageParams = Depends(page_params),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> Page[IncidentSummary]:
    """List the incidents the caller may see, newest first (`alarm_id`/`report_id`: those holding that record)."""
    return await service.list_incidents(session, filters, paging, principal)


@api_router.post(
    API_PREFIX, response_model=IncidentRead, status_code=201, responses=_ACTION, summary="Mở sự cố / open an incident"
)
async def create_incident(
    data: IncidentCreate, session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_command)
) -> IncidentRead:
    """Open an incident by hand; the caller becomes its commander."""
    incident = await service.create_incident(session, data, principal)
    await session.commit()
    return incident


@api_router.post(
    f"{API_PREFIX}/from-alarm",
    response_model=IncidentRead,
    status_code=201,
    responses=_ACTION,
    summary="Mở sự cố từ cảnh báo / open an incident from an alarm",
)
async def create_from_alarm(
    data: FromAlarmCreate, session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_command)
) -> IncidentRead:
    """Open an incident from an alarm; an alarm already linked to a running incident returns that incident."""
    incident = await service.create_from_alarm(session, data, principal)
    await session.commit()
    return incident


@api_router.post(
    f"{API_PREFIX}/from-report",
    response_model=IncidentRead,
    status_code=201,
    responses=_ACTION,
    summary="Mở sự cố từ phản ánh / open an incident from a citizen report",
)
async def create_from_report(
    data: FromReportCreate, session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_command)
) -> IncidentRead:
    """Open an incident from a citizen report; a report already linked returns its incident."""
    incident = await service.create_from_report(session, data, principal)
    await session.commit()
    return incident


@api_router.get(
    f"{API_PREFIX}/kpis", response_model=IncidentKpis, responses=_STAFF, summary="Chỉ số sự cố / incident KPIs"
)
async def incident_kpis(
    unit: str | None = Query(None, max_length=20, description="mã đơn vị / unit code"),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> IncidentKpis:
    """Return open incidents, open and overdue tasks, optionally inside one unit."""
    return await service.kpis(session, unit or None, principal)


@api_router.get(f"{API_PREFIX}.geojson", responses=_STAFF, summary="Sự cố đang xử lý (GeoJSON) / running incidents")
async def incidents_geojson(
    request: Request,
    unit: str | None = Query(None, max_length=20),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> dict[str, Any]:
    """Return the running incidents that have a location, as GeoJSON points."""
    return await service.geojson(session, unit or None, _lang(request), principal)


@api_router.get(
    f"{API_PREFIX}/{{incident_id}}", response_model=IncidentRead, responses=_STAFF, summary="Chi tiết sự cố / incident"
)
async def read_incident(
    incident_id: int = INCIDENT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> IncidentRead:
    """Return an incident with its links, tasks, command log and checklist (404 for one the caller may not see)."""
    return await service.read_incident(session, incident_id, principal)


@api_router.patch(
    f"{API_PREFIX}/{{incident_id}}", response_model=IncidentRead, responses=_ACTION, summary="Cập nhật sự cố / update"
)
async def update_incident(
    data: IncidentUpdate,
    incident_id: int = INCIDENT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_command),
) -> IncidentRead:
    """Change the title, severity or status (open ↔ responding) of a running incident."""
    incident = await service.update_incident(session, incident_id, data, principal)
    await session.commit()
    return incident


@api_router.post(
    f"{API_PREFIX}/{{incident_id}}/links", response_model=IncidentRead, responses=_ACTION, summary="Liên kết / link"
)
async def link_record(
    data: LinkCreate,
    incident_id: int = INCIDENT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_command),
) -> IncidentRead:
    """Link an alarm or a citizen report to a running incident."""
    incident = await service.add_link(session, incident_id, data, principal)
    await session.commit()
    return incident


@api_router.post(
    f"{API_PREFIX}/{{incident_id}}/tasks",
    response_model=TaskRead,
    status_code=201,
    responses=_ACTION,
    summary="Giao nhiệm vụ / assign a task",
)
async def assign_task(
    request: Request,
    data: TaskCreate,
    incident_id: int = INCIDENT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_command),
) -> TaskRead:
    """Give a task to an agency, due after `due_hours` of office time."""
    task = await service.assign_task(session, _runtime(request), incident_id, data, principal)
    await session.commit()
    return task


@api_router.post(
    f"{API_PREFIX}/{{incident_id}}/log",
    response_model=LogRead,
    status_code=201,
    responses=_ACTION,
    summary="Ghi nhật ký chỉ huy / write to the command log",
)
async def append_log(
    data: LogCreate,
    incident_id: int = INCIDENT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_command),
) -> LogRead:
    """Append an order, decision or report to the command log (entries are never changed)."""
    entry = await service.append_log(session, incident_id, data, principal)
    await session.commit()
    return entry


@api_router.post(
    f"{API_PREFIX}/{{incident_id}}/checklist/{{item_id}}",
    response_model=ChecklistItemRead,
    responses=_ACTION,
    summary="Đánh dấu bước quy trình / tick a procedure step",
)
async def tick_item(
    data: ChecklistTick,
    incident_id: int = INCIDENT_ID,
    item_id: int = ITEM_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_command),
) -> ChecklistItemRead:
    """Tick or untick a step of the incident's procedure."""
    item = await service.tick(session, incident_id, item_id, data.done, principal)
    await session.commit()
    return item


@api_router.post(
    f"{API_PREFIX}/{{incident_id}}/close", response_model=IncidentRead, responses=_ACTION, summary="Kết thúc / close"
)
async def close_incident(
    data: CloseInput,
    incident_id: int = INCIDENT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_command),
) -> IncidentRead:
    """Close an incident with its summary once no task is open."""
    incident = await service.close_incident(session, incident_id, data, principal)
    await session.commit()
    return incident


@api_router.get(
    f"{API_PREFIX}/{{incident_id}}/after-action.{{fmt}}",
    responses={
        **_STAFF,
        200: {
            "content": {
                "application/pdf": {},
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            }
        },
    },
    summary="Báo cáo sau sự cố (PDF, Word, Excel) / after-action report",
)
async def after_action(
    request: Request,
    fmt: Literal["pdf", "docx", "xlsx"],
    incident_id: int = INCIDENT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> Response:
    """Download the after-action report: timeline, tasks on time or late, command log, checklist, summary."""
    lang = _lang(request)
    incident = await service.read_incident(session, incident_id, principal)
    report = exports.build(incident, lang)
    if fmt == "pdf":
        body = exports.to_pdf(report, utc_now())
    elif fmt == "docx":
        body = exports.to_docx(report)
    else:
        body = exports.to_xlsx(report)
    media_type, extension = FORMATS[fmt]
    name = f"{'after-action' if lang == 'en' else 'bao-cao-su-co'}-{incident.code}.{extension}"
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@api_router.get(
    TASK_API_PREFIX, response_model=list[TaskRead], responses=_STAFF, summary="Nhiệm vụ của cơ quan / my agency's tasks"
)
async def my_tasks(
    include_finished: bool = Query(False, description="cả nhiệm vụ đã xong / finished ones too"),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_task),
) -> list[TaskRead]:
    """Return the tasks of the caller's agency, most urgent first."""
    return await service.agency_tasks(session, principal, open_only=not include_finished)


@api_router.post(
    f"{TASK_API_PREFIX}/{{task_id}}/status",
    response_model=TaskRead,
    responses=_ACTION,
    summary="Cập nhật nhiệm vụ / update a task",
)
async def update_task(
    request: Request,
    data: TaskStatusUpdate,
    task_id: int = TASK_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_principal),
) -> TaskRead:
    """Start or finish a task (its agency), or cancel it (the command)."""
    task = await service.update_task(session, _runtime(request), task_id, data, principal)
    await session.commit()
    return task


@api_router.post(
    f"{TASK_API_PREFIX}/{{task_id}}/reassign",
    response_model=TaskRead,
    responses=_ACTION,
    summary="Giao lại nhiệm vụ / reassign a task",
)
async def reassign_task(
    request: Request,
    data: TaskReassign,
    task_id: int = TASK_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_principal),
) -> TaskRead:
    """Give an open task to another person of its agency (its head or the command) or another agency (the command)."""
    task = await service.reassign_task(session, _runtime(request), task_id, data, principal)
    await session.commit()
    return task


@api_router.put(
    f"{TASK_API_PREFIX}/{{task_id}}/informed",
    response_model=TaskRead,
    responses=_ACTION,
    summary="Người được báo tin về nhiệm vụ / who is kept informed of a task",
)
async def set_informed(
    request: Request,
    data: TaskInformedUpdate,
    task_id: int = TASK_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_principal),
) -> TaskRead:
    """Replace the colleagues kept informed of an open task (the command or the head of the task's agency)."""
    task = await service.set_informed(session, _runtime(request), task_id, data, principal)
    await session.commit()
    return task


@api_router.post(
    f"{TASK_API_PREFIX}/{{task_id}}/reports",
    response_model=LogRead,
    status_code=201,
    responses=_ACTION,
    summary="Báo cáo tiến độ / report progress",
)
async def report_on_task(
    data: TaskReport,
    task_id: int = TASK_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_task),
) -> LogRead:
    """Write the agency's progress report into the incident's command log."""
    entry = await service.report_on_task(session, task_id, data.text, principal)
    await session.commit()
    return entry


# Pages


def _form_model(model: type[M], data: dict[str, Any]) -> M:
    return model.model_validate({k: v for k, v in data.items() if v not in ("", None)})


def _validation_message(exc: ValidationError) -> dict[str, str]:
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return {
        "vi": f"Dữ liệu không hợp lệ ({where}): {first.get('msg', '')}",
        "en": f"Invalid input ({where}): {first.get('msg', '')}",
    }


def _options(enum_type: Any, prefix: str, t: Any) -> list[tuple[str, str]]:
    return [(member.value, t(f"{prefix}.{member.value}")) for member in enum_type]


@page_router.get(LIST_PATH)
async def list_page(
    request: Request,
    filters: IncidentFilters = Depends(incident_filters),
    offset: int = Query(0, ge=0),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> Response:
    """Show the incident list with its filters and the map of running incidents."""
    page = await service.list_incidents(session, filters, PageParams(limit=PAGE_SIZE, offset=offset), principal)
    query = {k: v for k, v in request.query_params.items() if k not in ("offset", "lang")}
    return render(
        request,
        "incident/list.html",
        {
            "page": page,
            "form": query,
            "statuses": list(IncidentStatus),
            "types": list(IncidentType),
            "severities": list(Severity),
            "can_command": principal.has(SCOPE_COMMAND),
            "kpis": await service.kpis(session, filters.unit, principal),
            "query": urlencode(query),
        },
    )


async def _render_new(
    request: Request, *, error: Any = None, form: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    return render(
        request,
        "incident/new.html",
        {
            "types": list(IncidentType),
            "severities": list(Severity),
            "error": error,
            "form": form or dict(request.query_params),
        },
        status_code=status_code,
    )


@page_router.get(f"{LIST_PATH}/new")
async def new_page(request: Request, _principal: Principal = Depends(require_command)) -> Response:
    """Show the forms that open an incident by hand, from an alarm or from a citizen report."""
    return await _render_new(request)


@page_router.post(f"{LIST_PATH}/new")
async def new_submit(
    request: Request, session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_command)
) -> Response:
    """Open an incident from the form and go to its workspace."""
    form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf_token"}
    source = form.pop("source", "manual")
    try:
        if source == "alarm":
            incident = await service.create_from_alarm(session, _form_model(FromAlarmCreate, form), principal)
        elif source == "report":
            incident = await service.create_from_report(session, _form_model(FromReportCreate, form), principal)
        else:
            incident = await service.create_incident(session, _form_model(IncidentCreate, form), principal)
        await session.commit()
    except ValidationError as exc:
        return await _render_new(request, error=_validation_message(exc), form=form, status_code=422)
    except IocError as exc:
        await session.rollback()
        return await _render_new(request, error=exc, form=form, status_code=exc.status_code)
    return RedirectResponse(f"{LIST_PATH}/{incident.id}", status_code=303)


async def _render_workspace(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    incident_id: int,
    *,
    error: Any = None,
    status_code: int = 200,
) -> Response:
    incident = await service.read_incident(session, incident_id, principal)
    agencies = await service.candidate_agencies(session, incident.unit_code, _runtime(request).settings.province_code)
    can_command = principal.has(SCOPE_COMMAND) and incident.status != IncidentStatus.CLOSED
    return render(
        request,
        "incident/workspace.html",
        {
            "incident": incident,
            "agencies": agencies,
            "agency_codes": {agency.code for agency in agencies},
            "can_command": can_command,
            # Who is kept informed of a task: the command, or the head of the task's agency (as for reassigning).
            "informed_task_ids": {
                task.id
                for task in incident.tasks
                if task.status in OPEN_TASK_STATUSES
                and incident.status != IncidentStatus.CLOSED
                and service.may_change_informed(principal, incident, task)
            },
            "log_kinds": [k for k in LogKind if k is not LogKind.SYSTEM],
            "severities": list(Severity),
            "default_hours": DEFAULT_TASK_HOURS,
            # Critical incidents, fires and accidents get round-the-clock deadlines unless the command unticks it.
            "emergency": incident.severity is Severity.CRITICAL or incident.incident_type in EMERGENCY_TYPES,
            "max_hours": MAX_TASK_HOURS,
            "type_label": service.type_label(incident.incident_type, _lang(request)),
            "error": error,
            "open_task_statuses": [TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS],
        },
        status_code=status_code,
    )


@page_router.get(f"{LIST_PATH}/{{incident_id}}")
async def workspace_page(
    request: Request,
    incident_id: int = INCIDENT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> Response:
    """Show the incident workspace: map, links, tasks, command log, checklist, closing and the report."""
    return await _render_workspace(request, session, principal, incident_id)


@page_router.get(f"{LIST_PATH}/of-alarm/{{alarm_id}}")
async def alarm_incidents_fragment(
    request: Request,
    alarm_id: int = Path(..., ge=1, le=2**31 - 1, description="Mã số cảnh báo / alarm id"),
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> Response:
    """Show, inside the alarm's page, the incidents opened from an alarm and the way to open one (htmx fragment)."""
    incidents = await service.incidents_for_alarm(session, alarm_id, principal)
    return render(
        request,
        "incident/_alarm_incidents.html",
        {
            "alarm_id": alarm_id,
            "incidents": incidents,
            "running": [i for i in incidents if i.status is not IncidentStatus.CLOSED],
            "can_command": principal.has(SCOPE_COMMAND),
        },
    )


@page_router.post(f"{LIST_PATH}/{{incident_id}}/informed")
async def informed_submit(
    request: Request,
    incident_id: int = INCIDENT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_read),
) -> Response:
    """Change who is kept informed of a task from its row in the workspace, then show the workspace again."""
    incident = await service.read_incident(session, incident_id, principal)  # 404 for an incident not theirs
    try:
        # Refused before the form is read: only the command and the heads of the incident's agencies change it.
        if not service.may_change_informed(principal, incident):
            raise InformedChangeRefused()
        raw = await request.form()
        task_id = int(str(raw.get("task_id", "")).strip() or "0")
        if task_id < 1:
            raise ValueError("no task chosen")
        # The picker posts one field per person; more than allowed is refused by the schema, not cut silently.
        user_ids = [str(v) for v in raw.getlist("notify_user_ids") if str(v).strip()]
        data = TaskInformedUpdate.model_validate({"user_ids": user_ids})
        await service.set_informed(session, _runtime(request), task_id, data, principal, incident_id=incident_id)
        await session.commit()
    except (ValidationError, ValueError) as exc:
        await session.rollback()
        error = (
            _validation_message(exc)
            if isinstance(exc, ValidationError)
            else {"vi": "Dữ liệu không hợp lệ.", "en": "Invalid input."}
        )
        return await _render_workspace(request, session, principal, incident_id, error=error, status_code=422)
    except IocError as exc:
        await session.rollback()
        return await _render_workspace(request, session, principal, incident_id, error=exc, status_code=exc.status_code)
    return RedirectResponse(f"{LIST_PATH}/{incident_id}#tasks", status_code=303)


ACTIONS = frozenset({"task", "log", "tick", "untick", "close", "update", "link", "cancel", "reassign"})


@page_router.post(f"{LIST_PATH}/{{incident_id}}/{{action}}")
async def workspace_action(
    request: Request,
    action: str,
    incident_id: int = INCIDENT_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_command),
) -> Response:
    """Run one of the workspace's forms, then show the workspace again."""
    if action not in ACTIONS:
        return await _render_workspace(
            request,
            session,
            principal,
            incident_id,
            error={"vi": "Thao tác không hợp lệ.", "en": "Unknown action."},
            status_code=404,
        )
    raw = await request.form()
    form = {k: str(v) for k, v in raw.items() if k != "csrf_token"}
    runtime = _runtime(request)
    anchor = "tasks"
    try:
        if action == "task":
            # The notify picker posts one field per person.
            notify = [str(v) for v in raw.getlist("notify_user_ids") if str(v).strip()]
            form.pop("notify_user_ids", None)
            task_data = _form_model(TaskCreate, {**form, "notify_user_ids": notify})
            await service.assign_task(session, runtime, incident_id, task_data, principal)
        elif action == "log":
            await service.append_log(session, incident_id, _form_model(LogCreate, form), principal)
            anchor = "log"
        elif action in ("tick", "untick"):
            item_id = int(form.get("item_id", "0") or 0)
            await service.tick(session, incident_id, item_id, action == "tick", principal)
            anchor = "checklist"
        elif action == "close":
            await service.close_incident(session, incident_id, _form_model(CloseInput, form), principal)
            anchor = "summary"
        elif action == "update":
            await service.update_incident(session, incident_id, _form_model(IncidentUpdate, form), principal)
            anchor = "top"
        elif action == "link":
            await service.add_link(session, incident_id, _form_model(LinkCreate, form), principal)
            anchor = "links"
        elif action == "reassign":
            task_id = int(form.pop("task_id", "0") or 0)
            await service.reassign_task(session, runtime, task_id, _form_model(TaskReassign, form), principal)
        else:
            task_id = int(form.pop("task_id", "0") or 0)
            data = TaskStatusUpdate(status=TaskStatus.CANCELLED, result=form.get("result", ""))
            await service.update_task(session, runtime, task_id, data, principal)
        await session.commit()
    except (ValidationError, ValueError) as exc:
        await session.rollback()
        error = (
            _validation_message(exc)
            if isinstance(exc, ValidationError)
            else {"vi": "Dữ liệu không hợp lệ.", "en": "Invalid input."}
        )
        return await _render_workspace(request, session, principal, incident_id, error=error, status_code=422)
    except IocError as exc:
        await session.rollback()
        if exc.status_code == 404 and action not in ("tick", "untick", "cancel", "link", "reassign"):
            raise
        return await _render_workspace(request, session, principal, incident_id, error=exc, status_code=exc.status_code)
    return RedirectResponse(f"{LIST_PATH}/{incident_id}#{anchor}", status_code=303)


async def _render_inbox(
    request: Request, session: AsyncSession, principal: Principal, *, error: Any = None, status_code: int = 200
) -> Response:
    show_all = request.query_params.get("all") == "1"
    tasks = await service.agency_tasks(session, principal, open_only=not show_all)
    return render(
        request,
        "incident/tasks.html",
        {
            "tasks": tasks,
            "show_all": show_all,
            "error": error,
            "has_agency": principal.agency_id is not None,
            # The head of an agency gives its tasks to its own people; moving a task elsewhere is the command's.
            "can_reassign": principal.role is Role.AGENCY_HEAD or principal.is_admin,
        },
        status_code=status_code,
    )


@page_router.get(TASK_INBOX_PATH)
async def task_inbox(
    request: Request, session: AsyncSession = Depends(db_session), principal: Principal = Depends(require_task)
) -> Response:
    """Show the tasks given to the caller's agency."""
    return await _render_inbox(request, session, principal)


@page_router.post(f"{TASK_INBOX_PATH}/{{task_id}}")
async def task_action(
    request: Request,
    task_id: int = TASK_ID,
    session: AsyncSession = Depends(db_session),
    principal: Principal = Depends(require_task),
) -> Response:
    """Start, finish or report on a task from the inbox, then show the inbox again."""
    form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf_token"}
    try:
        # Another agency's task is refused before its form is read, whatever the form holds.
        await service.check_task_agency(session, task_id, principal)
        if form.get("action") == "report":
            await service.report_on_task(session, task_id, _form_model(TaskReport, form).text, principal)
        elif form.get("action") == "reassign":
            handover = TaskReassign.model_validate(
                {k: v for k, v in form.items() if k in ("assignee_id", "reason") and v not in ("", None)}
            )
            await service.reassign_task(session, _runtime(request), task_id, handover, principal)
        else:
            data = _form_model(TaskStatusUpdate, form)
            if data.status is TaskStatus.CANCELLED:
                raise ValueError("agencies do not cancel tasks")
            await service.update_task(session, _runtime(request), task_id, data, principal)
        await session.commit()
    except (ValidationError, ValueError) as exc:
        await session.rollback()
        error = (
            _validation_message(exc)
            if isinstance(exc, ValidationError)
            else {"vi": "Dữ liệu không hợp lệ.", "en": "Invalid input."}
        )
        return await _render_inbox(request, session, principal, error=error, status_code=422)
    except IocError as exc:
        await session.rollback()
        return await _render_inbox(request, session, principal, error=exc, status_code=exc.status_code)
    return RedirectResponse(f"{TASK_INBOX_PATH}#task-{task_id}", status_code=303)
