"""Business rules of incidents: opening, tasks with working-time deadlines, escalation, command log, closing.

Nothing here commits: routers, jobs and seeds do.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.errors import Forbidden
from ioc.core.events import record_event
from ioc.core.http import Page, PageParams
from ioc.core.jobs import cancel_job, schedule_job
from ioc.core.live import PROVINCE_WIDE_ROLES
from ioc.core.security import Principal, PrincipalKind, Role
from ioc.core.time import ensure_utc, to_local, utc_now
from ioc.modules import alarm, citizen_report, identity, notification, org_unit

from . import repository
from .constants import (
    ACTIVE_INCIDENT_STATUSES,
    ALARM_SEVERITY,
    CODE_PREFIX,
    ESCALATION_AGENCY,
    ESCALATION_LEADERS,
    GEOJSON_MAX_FEATURES,
    LEADER_ESCALATION_MAX_HOURS,
    LEADER_ESCALATION_MIN_HOURS,
    LEADER_ESCALATION_SHARE,
    LIST_PATH,
    MAX_LEADERS_TOLD,
    NOTIFY_TEMPLATE,
    OPEN_TASK_STATUSES,
    OVERDUE_JOB,
    SCOPE_COMMAND,
    SCOPE_READ,
    SCOPE_TASK,
    TASK_TRANSITIONS,
    IncidentStatus,
    IncidentType,
    LinkKind,
    LogKind,
    Origin,
    Severity,
    TaskStatus,
)
from .events import (
    ChecklistTicked,
    IncidentClosed,
    IncidentOpened,
    IncidentUpdated,
    LogAppended,
    TaskAssigned,
    TaskEscalated,
    TaskOverdue,
    TaskReassigned,
    TaskUpdated,
)
from .exceptions import (
    ChecklistItemNotFound,
    IncidentAlreadyClosed,
    IncidentNotFound,
    InformedChangeRefused,
    InvalidTaskTransition,
    LinkedRecordNotFound,
    NotAgencyHead,
    NothingToReassign,
    NotTaskAgency,
    OpenTasksRemain,
    ResultRequired,
    TaskNotFound,
    TaskNotOpen,
    UnknownAgency,
    UnknownPerson,
    UnknownUnit,
)
from .models import ChecklistItem, CommandLogEntry, Incident, IncidentLink, IncidentTask
from .repository import Visibility
from .schemas import (
    ChecklistItemRead,
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
    LinkRead,
    LogCreate,
    LogRead,
    TaskCreate,
    TaskInformedUpdate,
    TaskPerson,
    TaskRead,
    TaskReassign,
    TaskStatusUpdate,
)

if TYPE_CHECKING:
    from ioc.core.runtime import Runtime

log = logging.getLogger(__name__)

SOP_FILE = Path(__file__).parent / "sop.json"
SYSTEM_AUTHOR = "Hệ thống"


# Helpers


def code_of(incident_id: int) -> str:
    """Return the display code of an incident (SC-00042)."""
    return f"{CODE_PREFIX}-{incident_id:05d}"


def _author(principal: Principal | None) -> str:
    if principal is None:
        return SYSTEM_AUTHOR
    return (principal.display_name or principal.name)[:120]


def _require(principal: Principal, scope: str) -> None:
    if not principal.has(scope):
        raise Forbidden(
            f"Bạn không có quyền thực hiện thao tác này ({scope}).",
            f"You are not allowed to do this ({scope}).",
            scope=scope,
        )


@cache
def sop_steps() -> dict[str, list[tuple[str, str]]]:
    """Return the standard operating procedure of every incident type as (Vietnamese, English) steps."""
    data = json.loads(SOP_FILE.read_text(encoding="utf-8"))
    return {kind.value: [(step["vi"], step["en"]) for step in data.get(kind.value, [])] for kind in IncidentType}


async def _fields(session: AsyncSession, incident: Incident) -> dict[str, Any]:
    """Return the fields of every incident event, with all the units and agencies the incident involves."""
    units = (await repository.units_of(session, [incident.id])).get(incident.id, [])
    return {
        "incident_id": incident.id,
        "code": code_of(incident.id),
        "status": incident.status,
        "severity": incident.severity,
        "incident_type": incident.incident_type,
        "unit_code": incident.unit_code,
        "unit_codes": list(dict.fromkeys(code for code in (incident.unit_code, *units) if code)),
        "agency_codes": await repository.agency_codes_of(session, incident.id),
    }


async def _task_fields(session: AsyncSession, incident: Incident, task: IncidentTask) -> dict[str, Any]:
    return {
        **await _fields(session, incident),
        "task_id": task.id,
        "agency_code": task.agency_code,
        "task_status": task.status,
        "due_at": ensure_utc(task.due_at),
    }


async def _log(
    session: AsyncSession,
    incident: Incident,
    kind: LogKind,
    text: str,
    now: datetime,
    principal: Principal | None = None,
    *,
    task: IncidentTask | None = None,
    agency_code: str | None = None,
) -> CommandLogEntry:
    """Append a line to the command log and announce it."""
    entry = CommandLogEntry(
        incident_id=incident.id,
        at=now,
        kind=kind.value,
        author_id=principal.id if principal else None,
        author_name=_author(principal),
        agency_code=agency_code or (task.agency_code if task else None),
        task_id=task.id if task else None,
        text=text,
    )
    repository.add(session, entry)
    await repository.flush(session)
    record_event(
        session, LogAppended(**await _fields(session, incident), entry_id=entry.id, kind=kind.value, occurred_at=now)
    )
    return entry


async def _incident(session: AsyncSession, incident_id: int, *, for_update: bool = False) -> Incident:
    incident = await repository.get_incident(session, incident_id, for_update=for_update)
    if incident is None:
        raise IncidentNotFound(incident_id)
    return incident


async def _active_incident(session: AsyncSession, incident_id: int) -> Incident:
    incident = await _incident(session, incident_id, for_update=True)
    if incident.status == IncidentStatus.CLOSED:
        raise IncidentAlreadyClosed(incident_id)
    return incident


# Opening


async def _locate(session: AsyncSession, lat: float | None, lon: float | None, unit_code: str | None) -> str | None:
    if unit_code:
        if await org_unit.get_unit(session, unit_code) is None:
            raise UnknownUnit(unit_code)
        return unit_code
    if lat is None or lon is None:
        return None
    unit = await org_unit.locate_point(session, lat, lon)
    return unit.code if unit else None


async def _check_units(session: AsyncSession, unit_codes: Sequence[str]) -> list[str]:
    """Return the unit codes without repeats, or raise UnknownUnit for the first that does not exist."""
    codes = list(dict.fromkeys(code.strip() for code in unit_codes if code.strip()))
    for code in codes:
        if await org_unit.get_unit(session, code) is None:
            raise UnknownUnit(code)
    return codes


async def _open(
    session: AsyncSession,
    principal: Principal | None,
    now: datetime,
    *,
    title: str,
    description: str,
    incident_type: IncidentType,
    severity: Severity,
    origin: Origin,
    lat: float | None,
    lon: float | None,
    unit_code: str | None,
    address: str = "",
    link: tuple[LinkKind, int, str] | None = None,
    unit_codes: Sequence[str] = (),
) -> Incident:
    """Create the incident, its affected units, procedure checklist, first log line and the opened event."""
    incident = Incident(
        title=title[:200],
        description=description,
        incident_type=incident_type.value,
        severity=severity.value,
        status=IncidentStatus.OPEN.value,
        origin=origin.value,
        lat=lat,
        lon=lon,
        unit_code=unit_code,
        address=address[:300],
        commander_id=principal.id if principal else None,
        commander_name=_author(principal) if principal else "",
        opened_at=now,
        updated_at=now,
    )
    repository.add(session, incident)
    await repository.flush(session)
    await repository.set_units(session, incident.id, [code for code in (unit_code, *unit_codes) if code])
    repository.add(
        session,
        *(
            ChecklistItem(incident_id=incident.id, position=index, text_vi=vi, text_en=en)
            for index, (vi, en) in enumerate(sop_steps()[incident_type.value], start=1)
        ),
    )
    text = {
        Origin.ALARM: "Mở sự cố từ cảnh báo",
        Origin.CITIZEN_REPORT: "Mở sự cố từ phản ánh của người dân",
        Origin.MANUAL: "Mở sự cố",
    }[origin]
    if link is not None:
        kind, ref_id, label = link
        repository.add(
            session,
            IncidentLink(
                incident_id=incident.id,
                kind=kind.value,
                ref_id=ref_id,
                label=label[:200],
                linked_at=now,
                linked_by=_author(principal),
            ),
        )
        text = f"{text}: {label}"
    record_event(session, IncidentOpened(**await _fields(session, incident), origin=origin.value, occurred_at=now))
    await _log(session, incident, LogKind.SYSTEM, f"{text}. Chỉ huy: {incident.commander_name or '—'}.", now, principal)
    return incident


async def create_incident(
    session: AsyncSession, data: IncidentCreate, principal: Principal, now: datetime | None = None
) -> IncidentRead:
    """Open an incident by hand; the caller becomes its commander."""
    _require(principal, SCOPE_COMMAND)
    moment = now or utc_now()
    affected = await _check_units(session, data.unit_codes)
    incident = await _open(
        session,
        principal,
        moment,
        title=data.title,
        description=data.description,
        incident_type=data.incident_type,
        severity=data.severity,
        origin=Origin.MANUAL,
        lat=data.lat,
        lon=data.lon,
        unit_code=await _locate(session, data.lat, data.lon, data.unit_code) or (affected[0] if affected else None),
        address=data.address,
        unit_codes=affected,
    )
    return await get_incident(session, incident.id)


async def _report(session: AsyncSession, report_id: int, principal: Principal) -> citizen_report.ReportRead:
    try:
        return await citizen_report.get_report(session, report_id, principal)
    except citizen_report.ReportNotFound as exc:
        raise LinkedRecordNotFound(LinkKind.CITIZEN_REPORT.value, report_id) from exc


def _report_label(report: citizen_report.ReportRead) -> str:
    return f"{report.tracking_code} · {report.category_name}"


async def create_from_report(
    session: AsyncSession, data: FromReportCreate, principal: Principal, now: datetime | None = None
) -> IncidentRead:
    """Open an incident from a citizen report (location, unit and description come from it)."""
    _require(principal, SCOPE_COMMAND)
    report = await _report(session, data.report_id, principal)
    existing = await repository.incidents_linking(session, LinkKind.CITIZEN_REPORT.value, report.id)
    if existing:
        return await get_incident(session, existing[0].id)
    incident = await _open(
        session,
        principal,
        now or utc_now(),
        title=data.title or f"{report.category_name} ({report.tracking_code})",
        description=report.description,
        incident_type=data.incident_type,
        severity=data.severity,
        origin=Origin.CITIZEN_REPORT,
        lat=report.lat,
        lon=report.lon,
        unit_code=report.unit_code,
        address=report.address,
        link=(LinkKind.CITIZEN_REPORT, report.id, _report_label(report)),
    )
    return await get_incident(session, incident.id)


async def add_link(
    session: AsyncSession, incident_id: int, data: LinkCreate, principal: Principal, now: datetime | None = None
) -> IncidentRead:
    """Link an alarm or a citizen report to a running incident (linking twice changes nothing)."""
    _require(principal, SCOPE_COMMAND)
    moment = now or utc_now()
    incident = await _active_incident(session, incident_id)
    if any(
        link.kind == data.kind and link.ref_id == data.ref_id
        for link in await repository.links_of(session, incident.id)
    ):
        return await get_incident(session, incident.id)
    if data.kind is LinkKind.CITIZEN_REPORT:
        label = _report_label(await _report(session, data.ref_id, principal))
    else:
        label = await _alarm_label(session, data.ref_id)
    repository.add(
        session,
        IncidentLink(
            incident_id=incident.id,
            kind=data.kind.value,
            ref_id=data.ref_id,
            label=label[:200],
            linked_at=moment,
            linked_by=_author(principal),
        ),
    )
    incident.updated_at = moment
    what = "cảnh báo" if data.kind is LinkKind.ALARM else "phản ánh"
    await _log(session, incident, LogKind.SYSTEM, f"Liên kết {what}: {label}.", moment, principal)
    record_event(session, IncidentUpdated(**await _fields(session, incident), change="linked", occurred_at=moment))
    return await get_incident(session, incident.id)


async def update_incident(
    session: AsyncSession, incident_id: int, data: IncidentUpdate, principal: Principal, now: datetime | None = None
) -> IncidentRead:
    """Change an incident's title, severity or status (open ↔ responding), with a log line."""
    _require(principal, SCOPE_COMMAND)
    moment = now or utc_now()
    incident = await _active_incident(session, incident_id)
    changes: list[str] = []
    if data.title and data.title != incident.title:
        incident.title = data.title
        changes.append(f"tiêu đề: {data.title}")
    if data.severity and data.severity.value != incident.severity:
        changes.append(f"mức độ: {incident.severity} → {data.severity.value}")
        incident.severity = data.severity.value
    if data.status and data.status.value != incident.status:
        changes.append(f"trạng thái: {incident.status} → {data.status.value}")
        incident.status = data.status.value
    if data.unit_codes is not None:
        affected = await _check_units(session, data.unit_codes)
        # The incident's own unit always stays among the affected ones.
        wanted = list(dict.fromkeys(code for code in (incident.unit_code, *affected) if code))
        current = (await repository.units_of(session, [incident.id])).get(incident.id, [])
        if set(wanted) != set(current):
            await repository.set_units(session, incident.id, wanted)
            changes.append("địa bàn ảnh hưởng: " + (", ".join(wanted) or "—"))
    if changes:
        incident.updated_at = moment
        await _log(session, incident, LogKind.SYSTEM, "Cập nhật " + "; ".join(changes) + ".", moment, principal)
        record_event(session, IncidentUpdated(**await _fields(session, incident), change="updated", occurred_at=moment))
    return await get_incident(session, incident.id)


# Tasks


def _timer_key(task_id: int, level: int = ESCALATION_AGENCY) -> str:
    # Level 2 has a key of its own: it is scheduled while the level-1 job still holds the plain key.
    return f"{OVERDUE_JOB}:{task_id}" if level == ESCALATION_AGENCY else f"{OVERDUE_JOB}:{task_id}:{level}"


async def _set_overdue_timer(
    session: AsyncSession,
    task: IncidentTask,
    due: datetime,
    hours: float,
    *,
    round_the_clock: bool,
    new_deadline: bool = False,
) -> None:
    """Schedule a task's level-1 timer at its deadline; a new deadline also drops a pending level-2 timer."""
    # The duration and its kind travel in the payload, so that level 2 can be placed without a column for them.
    payload = {"task_id": task.id, "due_at": due.isoformat(), "hours": hours, "round_the_clock": round_the_clock}
    await schedule_job(session, OVERDUE_JOB, payload, run_at=due, dedupe_key=_timer_key(task.id))
    if new_deadline:
        await cancel_job(session, _timer_key(task.id, ESCALATION_LEADERS))


async def _drop_overdue_timers(session: AsyncSession, task_id: int) -> None:
    for level in (ESCALATION_AGENCY, ESCALATION_LEADERS):
        await cancel_job(session, _timer_key(task_id, level))


def leader_escalation_hours(task_hours: float) -> float:
    """Return how long after its deadline an unfinished task goes to the province's leaders (its own kind of hours)."""
    return min(max(task_hours * LEADER_ESCALATION_SHARE, LEADER_ESCALATION_MIN_HOURS), LEADER_ESCALATION_MAX_HOURS)


CLOCK_NOTE = ", tính liên tục 24/7"


def _deadline(runtime: Runtime, start: datetime, hours: float, *, round_the_clock: bool) -> datetime:
    """Return a task's deadline: office hours by the working calendar, or clock hours for an emergency."""
    # A fire or a flood at night cannot wait for the office to open: round-the-clock deadlines count every hour.
    if round_the_clock:
        return ensure_utc(start) + timedelta(hours=hours)
    return runtime.calendar.add_working_hours(start, hours)


async def candidate_agencies(
    session: AsyncSession, unit_code: str | None, province_code: str
) -> list[org_unit.AgencyRead]:
    """Return the agencies that may receive a task: those responsible for the incident's unit, then the province's."""
    try:
        return await org_unit.agencies_for_unit(session, unit_code or province_code)
    except org_unit.UnitNotFound:
        return []


async def assign_task(
    session: AsyncSession,
    runtime: Runtime,
    incident_id: int,
    data: TaskCreate,
    principal: Principal,
    now: datetime | None = None,
) -> TaskRead:
    """Give a task to an agency, due after `due_hours` of office time, and set its overdue timer."""
    _require(principal, SCOPE_COMMAND)
    moment = now or utc_now()
    incident = await _active_incident(session, incident_id)
    try:
        agency = await org_unit.get_agency(session, data.agency_code)
    except org_unit.AgencyNotFound as exc:
        raise UnknownAgency(data.agency_code) from exc
    if not agency.is_active:
        raise UnknownAgency(data.agency_code)
    assignee = await _staff_member(session, data.assignee_id, agency) if data.assignee_id else None
    informed = [await _staff_member(session, user_id) for user_id in dict.fromkeys(data.notify_user_ids)]
    due = _deadline(runtime, moment, data.due_hours, round_the_clock=data.round_the_clock)
    task = IncidentTask(
        incident_id=incident.id,
        agency_id=agency.id,
        agency_code=agency.code,
        agency_name=agency.name,
        title=data.title,
        instructions=data.instructions,
        assignee_id=assignee.id if assignee else None,
        assignee_name=_person_name(assignee) if assignee else "",
        notify_users=[{"id": person.id, "name": _person_name(person)} for person in informed],
        status=TaskStatus.ASSIGNED.value,
        assigned_at=moment,
        assigned_by=_author(principal),
        due_at=due,
        overdue=False,
        updated_at=moment,
    )
    repository.add(session, task)
    await repository.flush(session)
    if incident.status == IncidentStatus.OPEN:
        incident.status = IncidentStatus.RESPONDING.value
    incident.updated_at = moment
    await _set_overdue_timer(session, task, due, data.due_hours, round_the_clock=data.round_the_clock)
    who = f" — người thực hiện: {task.assignee_name}" if task.assignee_name else ""
    await _log(
        session,
        incident,
        LogKind.ORDER,
        f"Giao nhiệm vụ cho {agency.name}{who}: {task.title} "
        f"(hạn {to_local(due):%H:%M %d/%m/%Y}{CLOCK_NOTE if data.round_the_clock else ''}).",
        moment,
        principal,
        task=task,
    )
    record_event(session, TaskAssigned(**await _task_fields(session, incident, task), occurred_at=moment))
    title = f"Nhiệm vụ mới: {code_of(incident.id)}"
    message = (
        f'{agency.name} được giao nhiệm vụ "{task.title}" trong sự cố {code_of(incident.id)} '
        f"({incident.title}){who}; hạn hoàn thành {to_local(due):%H:%M %d/%m/%Y}"
        f"{CLOCK_NOTE if data.round_the_clock else ''}."
    )
    await _notify_agency(session, runtime, agency, title, message, "Cao", incident)
    # The assignee and the colleagues kept informed get the same message in their own mailbox.
    for email in dict.fromkeys(p.email for p in [*([assignee] if assignee else []), *informed] if p.email):
        if email != agency.email:
            await _send(session, runtime, email, title, message, "Cao", incident)
    return _task_read(task, incident)


def _person_name(person: identity.UserRead) -> str:
    return (person.display_name or person.username)[:200]


async def _staff_member(
    session: AsyncSession, user_id: int, agency: org_unit.AgencyRead | None = None
) -> identity.UserRead:
    """Return an active staff member (of the agency, when given), or raise UnknownPerson."""
    person = await identity.get_user(session, user_id)
    if person is None or not person.is_active or person.role is Role.CITIZEN:
        raise UnknownPerson(user_id, agency_name=agency.name if agency else None)
    if agency is not None and person.agency_id != agency.id:
        raise UnknownPerson(user_id, agency_name=agency.name)
    return person


def _may_act_for_agency(principal: Principal, task: IncidentTask) -> bool:
    return principal.is_admin or (principal.has(SCOPE_TASK) and principal.agency_id == task.agency_id)


async def check_task_agency(session: AsyncSession, task_id: int, principal: Principal) -> None:
    """Raise TaskNotFound or NotTaskAgency unless the caller works for the task's agency (before reading a form)."""
    task = await repository.get_task(session, task_id)
    if task is None:
        raise TaskNotFound(task_id)
    if not _may_act_for_agency(principal, task):
        raise NotTaskAgency()


async def update_task(
    session: AsyncSession,
    runtime: Runtime,
    task_id: int,
    data: TaskStatusUpdate,
    principal: Principal,
    now: datetime | None = None,
) -> TaskRead:
    """Move a task: its agency starts or finishes it (with a result); the command may cancel it."""
    moment = now or utc_now()
    task = await repository.get_task(session, task_id, for_update=True)
    if task is None:
        raise TaskNotFound(task_id)
    target = data.status
    if target is TaskStatus.CANCELLED:
        _require(principal, SCOPE_COMMAND)
    elif not _may_act_for_agency(principal, task):
        raise NotTaskAgency()
    incident = await _active_incident(session, task.incident_id)
    current = TaskStatus(task.status)
    allowed = TASK_TRANSITIONS[current] | ({TaskStatus.CANCELLED} if current in OPEN_TASK_STATUSES else set())
    if target not in allowed:
        raise InvalidTaskTransition(current.value, target.value)
    result = data.result.strip()
    if target is TaskStatus.DONE and not result:
        raise ResultRequired()
    task.status = target.value
    task.updated_at = moment
    if target is TaskStatus.IN_PROGRESS:
        task.started_at = moment
        text = f"{task.agency_name} bắt đầu thực hiện: {task.title}."
        kind = LogKind.REPORT
    elif target is TaskStatus.DONE:
        task.completed_at = moment
        task.result = result
        late = "" if moment <= ensure_utc(task.due_at) else " (trễ hạn)"
        text = f"{task.agency_name} báo cáo hoàn thành{late}: {task.title}. Kết quả: {result}"
        kind = LogKind.REPORT
    else:
        task.result = result
        text = f"Huỷ nhiệm vụ của {task.agency_name}: {task.title}." + (f" Lý do: {result}" if result else "")
        kind = LogKind.DECISION
    if target in (TaskStatus.DONE, TaskStatus.CANCELLED):
        await _drop_overdue_timers(session, task.id)
    incident.updated_at = moment
    await _log(session, incident, kind, text, moment, principal, task=task)
    record_event(
        session,
        TaskUpdated(**await _task_fields(session, incident, task), from_status=current.value, occurred_at=moment),
    )
    return _task_read(task, incident)


def _heads_task_agency(principal: Principal, task: IncidentTask) -> bool:
    return principal.role is Role.AGENCY_HEAD and principal.has(SCOPE_TASK) and principal.agency_id == task.agency_id


async def _target_agency(session: AsyncSession, code: str, *, moving: bool) -> org_unit.AgencyRead:
    try:
        agency = await org_unit.get_agency(session, code)
    except org_unit.AgencyNotFound as exc:
        raise UnknownAgency(code) from exc
    if moving and not agency.is_active:
        raise UnknownAgency(code)
    return agency


async def reassign_task(
    session: AsyncSession,
    runtime: Runtime,
    task_id: int,
    data: TaskReassign,
    principal: Principal,
    now: datetime | None = None,
) -> TaskRead:
    """Give an open task to another person of its agency (its head or the command) or another agency (the command)."""
    # The deadline stays unless the command gives a new one; the overdue timer reads the task when it fires,
    # so an escalation reaches the agency and person holding the task then.
    moment = now or utc_now()
    task = await repository.get_task(session, task_id, for_update=True)
    if task is None:
        raise TaskNotFound(task_id)
    moving = data.agency_code is not None and data.agency_code != task.agency_code
    if moving or data.due_hours is not None:
        _require(principal, SCOPE_COMMAND)
    elif not (principal.has(SCOPE_COMMAND) or principal.is_admin or _heads_task_agency(principal, task)):
        raise NotAgencyHead()
    incident = await _active_incident(session, task.incident_id)
    current = TaskStatus(task.status)
    if current not in OPEN_TASK_STATUSES:
        raise TaskNotOpen(task.id, current.value)
    agency = await _target_agency(
        session, data.agency_code if moving and data.agency_code else task.agency_code, moving=moving
    )
    assignee = await _staff_member(session, data.assignee_id, agency) if data.assignee_id else None
    new_person = assignee.id if assignee else None
    if not moving and data.due_hours is None:
        if assignee is None:
            raise NothingToReassign()
        if new_person == task.assignee_id:
            return _task_read(task, incident)  # already theirs: nothing to record
    old_agency = (task.agency_code, task.agency_name)
    old_person = (task.assignee_id, task.assignee_name)
    if moving:
        task.agency_id, task.agency_code, task.agency_name = agency.id, agency.code, agency.name
        if current is TaskStatus.IN_PROGRESS:
            # The new agency has not started the work; its inbox shows the task as newly given.
            task.status = TaskStatus.ASSIGNED.value
            task.started_at = None
    if moving or assignee is not None:
        task.assignee_id = new_person
        task.assignee_name = _person_name(assignee) if assignee else ""
    due = ensure_utc(task.due_at)
    if data.due_hours is not None:
        due = _deadline(runtime, moment, data.due_hours, round_the_clock=data.round_the_clock)
        task.due_at = due
        task.overdue = False  # a new deadline gives the task a new overdue timer, which escalates again
        await _set_overdue_timer(
            session, task, due, data.due_hours, round_the_clock=data.round_the_clock, new_deadline=True
        )
    task.updated_at = moment
    incident.updated_at = moment
    local_due = f"{to_local(due):%H:%M %d/%m/%Y}"
    who = task.assignee_name or "chưa chỉ định"
    if moving:
        text = f'Chuyển nhiệm vụ "{task.title}" từ {old_agency[1]} sang {agency.name} — người thực hiện: {who}.'
    elif assignee is None or new_person == old_person[0]:
        text = f'Gia hạn nhiệm vụ "{task.title}" của {agency.name}.'
    else:
        text = f'Giao lại nhiệm vụ "{task.title}" của {agency.name}: {old_person[1] or "chưa chỉ định"} → {who}.'
    if data.due_hours is not None:
        text += f" Hạn mới: {local_due}{CLOCK_NOTE if data.round_the_clock else ''}."
    if data.reason.strip():
        text += f" Lý do: {data.reason.strip()}"
    await _log(session, incident, LogKind.ORDER, text, moment, principal, task=task)
    fields = await _task_fields(session, incident, task)
    # The agency that gave the task up still hears of it (its inbox drops the task).
    fields["agency_codes"] = list(dict.fromkeys([*fields["agency_codes"], old_agency[0]]))
    record_event(
        session,
        TaskReassigned(
            **fields,
            from_agency_code=old_agency[0],
            assignee_id=task.assignee_id,
            from_assignee_id=old_person[0],
            occurred_at=moment,
        ),
    )
    if assignee is None and task.assignee_id is not None:
        assignee = await identity.get_user(session, task.assignee_id)  # a new deadline only: tell the holder
    await _notify_reassignment(
        session,
        runtime,
        task,
        incident,
        agency,
        assignee,
        old_person[0],
        moving or data.due_hours is not None,
        local_due,
    )
    return _task_read(task, incident)


async def _notify_reassignment(
    session: AsyncSession,
    runtime: Runtime,
    task: IncidentTask,
    incident: Incident,
    agency: org_unit.AgencyRead,
    assignee: identity.UserRead | None,
    previous_id: int | None,
    tell_agency: bool,
    local_due: str,
) -> None:
    """Mail the agency (when the task moved or got a new deadline), its person, and the person it was taken from."""
    code = code_of(incident.id)
    who = f" — người thực hiện: {task.assignee_name}" if task.assignee_name else ""
    title = f"Nhiệm vụ được giao: {code}"
    message = (
        f'{agency.name} được giao nhiệm vụ "{task.title}" trong sự cố {code} ({incident.title}){who}; '
        f"hạn hoàn thành {local_due}."
    )
    sent: set[str] = set()
    if tell_agency and agency.email:
        await _send(session, runtime, agency.email, title, message, "Cao", incident)
        sent.add(agency.email)
    if assignee is not None and assignee.email and assignee.email not in sent:
        await _send(session, runtime, assignee.email, title, message, "Cao", incident)
        sent.add(assignee.email)
    if previous_id is not None and previous_id != task.assignee_id:
        previous = await identity.get_user(session, previous_id)
        if previous is not None and previous.is_active and previous.email and previous.email not in sent:
            await _send(
                session,
                runtime,
                previous.email,
                f"Nhiệm vụ đã chuyển: {code}",
                f'Nhiệm vụ "{task.title}" trong sự cố {code} ({incident.title}) đã được giao cho '
                f"{task.assignee_name or agency.name}; bạn không còn là người thực hiện.",
                "Thông thường",
                incident,
            )


def may_change_informed(principal: Principal, incident: IncidentRead, task: TaskRead | None = None) -> bool:
    """Tell whether a caller may change who is kept informed of a task (of any task of the incident when None)."""
    if principal.has(SCOPE_COMMAND) or principal.is_admin:
        return True
    if principal.role is not Role.AGENCY_HEAD or not principal.has(SCOPE_TASK) or principal.agency_id is None:
        return False
    tasks = [task] if task is not None else incident.tasks
    return any(t.agency_id == principal.agency_id for t in tasks)


async def set_informed(
    session: AsyncSession,
    runtime: Runtime,
    task_id: int,
    data: TaskInformedUpdate,
    principal: Principal,
    now: datetime | None = None,
    *,
    incident_id: int | None = None,
) -> TaskRead:
    """Replace the colleagues kept informed of an open task (the command or the head of the task's agency)."""
    moment = now or utc_now()
    task = await repository.get_task(session, task_id, for_update=True)
    if task is None or (incident_id is not None and task.incident_id != incident_id):
        raise TaskNotFound(task_id)
    # The same people who may give the task to another person of its agency.
    if not (principal.has(SCOPE_COMMAND) or principal.is_admin or _heads_task_agency(principal, task)):
        raise InformedChangeRefused()
    incident = await _active_incident(session, task.incident_id)
    current = TaskStatus(task.status)
    if current not in OPEN_TASK_STATUSES:
        raise TaskNotOpen(task.id, current.value, changing="informed")
    wanted = [await _staff_member(session, user_id) for user_id in dict.fromkeys(data.user_ids)]
    before = {int(str(p["id"])): str(p["name"]) for p in task.notify_users or []}
    after = {person.id: _person_name(person) for person in wanted}
    added = [person for person in wanted if person.id not in before]
    removed = [name for user_id, name in before.items() if user_id not in after]
    if not added and not removed:
        return _task_read(task, incident)  # the same people: nothing to record
    # A new list object, so that the change of the JSON column is seen (and audited) at the flush.
    task.notify_users = [{"id": user_id, "name": name} for user_id, name in after.items()]
    task.updated_at = moment
    incident.updated_at = moment
    changes: list[str] = []
    if added:
        changes.append("thêm " + ", ".join(after[person.id] for person in added))
    if removed:
        changes.append("bỏ " + ", ".join(removed))
    await _log(
        session,
        incident,
        LogKind.ORDER,
        f'Cập nhật người được báo tin về nhiệm vụ "{task.title}" của {task.agency_name}: {"; ".join(changes)}.',
        moment,
        principal,
        task=task,
    )
    code = code_of(incident.id)
    title = f"Được báo tin về nhiệm vụ: {code}"
    message = (
        f'Bạn được báo tin về nhiệm vụ "{task.title}" giao cho {task.agency_name} trong sự cố {code} '
        f"({incident.title}); hạn hoàn thành {to_local(task.due_at):%H:%M %d/%m/%Y}."
    )
    for email in dict.fromkeys(person.email for person in added if person.email):
        await _send(session, runtime, email, title, message, "Thông thường", incident)
    return _task_read(task, incident)


async def report_on_task(
    session: AsyncSession, task_id: int, text: str, principal: Principal, now: datetime | None = None
) -> LogRead:
    """Write an agency's progress report on its task into the incident's command log."""
    moment = now or utc_now()
    task = await repository.get_task(session, task_id)
    if task is None:
        raise TaskNotFound(task_id)
    if not _may_act_for_agency(principal, task):
        raise NotTaskAgency()
    incident = await _active_incident(session, task.incident_id)
    entry = await _log(
        session, incident, LogKind.REPORT, f"{task.agency_name}: {text.strip()}", moment, principal, task=task
    )
    return _log_read(entry)


async def check_overdue(
    session: AsyncSession, runtime: Runtime, payload: dict[str, Any], now: datetime | None = None
) -> bool:
    """Escalate an unfinished task at the level its timer carries (job); tell whether it escalated."""
    task = await repository.get_task(session, int(payload["task_id"]), for_update=True)
    if task is None or TaskStatus(task.status) not in OPEN_TASK_STATUSES:
        return False
    due = ensure_utc(task.due_at)
    moment = now or utc_now()
    if due.isoformat() != payload.get("due_at"):
        return False  # the deadline moved: its own timer handles it
    if int(payload.get("level", ESCALATION_AGENCY)) >= ESCALATION_LEADERS:
        return await _check_long_overdue(session, runtime, task, due, payload, moment)
    if task.overdue or moment < due:
        return False  # escalated already (once per deadline), or not due yet
    incident = await _incident(session, task.incident_id, for_update=True)
    task.overdue = True
    task.escalated_at = moment
    task.updated_at = moment
    local_due = f"{to_local(due):%H:%M %d/%m/%Y}"
    await _log(
        session,
        incident,
        LogKind.SYSTEM,
        f"Nhiệm vụ quá hạn ({local_due}): {task.title} — {task.agency_name}. "
        f"Đã báo cáo lãnh đạo cơ quan và chỉ huy sự cố.",
        moment,
        task=task,
    )
    record_event(session, TaskOverdue(**await _task_fields(session, incident, task), occurred_at=moment))
    message = (
        f'Nhiệm vụ "{task.title}" giao cho {task.agency_name} trong sự cố {code_of(incident.id)} '
        f"({incident.title}) đã quá hạn {local_due} mà chưa hoàn thành. Đề nghị chỉ đạo xử lý ngay."
    )
    await _escalate(session, runtime, task, incident, message)
    await _schedule_leader_escalation(session, runtime, task, due, payload, moment)
    return True


async def _schedule_leader_escalation(
    session: AsyncSession, runtime: Runtime, task: IncidentTask, due: datetime, payload: dict[str, Any], now: datetime
) -> None:
    """Set the level-2 timer: the province's leaders hear of the task if it is still open a while after its deadline."""
    round_the_clock = bool(payload.get("round_the_clock", False))
    try:
        hours = float(payload.get("hours") or 0)
    except (TypeError, ValueError):
        hours = 0.0  # a timer written before durations travelled in the payload: the shortest wait applies
    delay = leader_escalation_hours(hours)
    escalate_at = _deadline(runtime, due, delay, round_the_clock=round_the_clock)
    await schedule_job(
        session,
        OVERDUE_JOB,
        {
            "task_id": task.id,
            "due_at": due.isoformat(),
            "level": ESCALATION_LEADERS,
            "escalate_at": escalate_at.isoformat(),
            # The level-1 moment: a later escalation of the same task (a new deadline, passed) makes this one stale.
            "escalated_at": ensure_utc(now).isoformat(),
        },
        run_at=escalate_at,
        dedupe_key=_timer_key(task.id, ESCALATION_LEADERS),
    )


async def _check_long_overdue(
    session: AsyncSession,
    runtime: Runtime,
    task: IncidentTask,
    due: datetime,
    payload: dict[str, Any],
    now: datetime,
) -> bool:
    """Escalate a task still open long after its deadline to the province's leaders and the commander (level 2)."""
    escalate_at = payload.get("escalate_at")
    if not task.overdue or task.escalated_at is None or not isinstance(escalate_at, str):
        return False
    if ensure_utc(task.escalated_at).isoformat() != payload.get("escalated_at"):
        return False  # escalated again since (level 2 done, or a new deadline passed): nothing more to say
    if now < datetime.fromisoformat(escalate_at):
        return False
    incident = await _incident(session, task.incident_id, for_update=True)
    task.escalated_at = now
    task.updated_at = now
    local_due = f"{to_local(due):%H:%M %d/%m/%Y}"
    await _log(
        session,
        incident,
        LogKind.SYSTEM,
        f"Nhiệm vụ quá hạn kéo dài (hạn {local_due}): {task.title} — {task.agency_name}. "
        f"Đã báo cáo lãnh đạo UBND tỉnh và chỉ huy sự cố.",
        now,
        task=task,
    )
    record_event(
        session,
        TaskEscalated(**await _task_fields(session, incident, task), level=ESCALATION_LEADERS, occurred_at=now),
    )
    message = (
        f'Nhiệm vụ "{task.title}" giao cho {task.agency_name} trong sự cố {code_of(incident.id)} '
        f"({incident.title}) quá hạn từ {local_due}, đã báo lãnh đạo cơ quan nhưng đến "
        f"{to_local(now):%H:%M %d/%m/%Y} vẫn chưa hoàn thành. Kính báo cáo lãnh đạo UBND tỉnh để chỉ đạo."
    )
    await _escalate_to_leaders(session, runtime, task, incident, message)
    return True


async def _escalate_to_leaders(
    session: AsyncSession, runtime: Runtime, task: IncidentTask, incident: Incident, message: str
) -> None:
    """E-mail the province's leaders and the incident commander about a task long overdue."""
    leaders, _total = await identity.list_users(
        session, identity.UserFilters(role=Role.LEADER, is_active=True), limit=MAX_LEADERS_TOLD
    )
    recipients = [leader.email for leader in leaders if leader.email]
    if incident.commander_id is not None:
        commander = await identity.get_user(session, incident.commander_id)
        if commander is not None and commander.is_active and commander.email:
            recipients.append(commander.email)
    if not recipients:
        log.info("nobody to e-mail about a long overdue task", extra={"task_id": task.id})
    title = f"Nhiệm vụ quá hạn kéo dài: {code_of(incident.id)}"
    for email in dict.fromkeys(recipients):
        await _send(session, runtime, email, title, message, "Khẩn", incident)


async def _escalate(
    session: AsyncSession, runtime: Runtime, task: IncidentTask, incident: Incident, message: str
) -> None:
    """E-mail the agency's office, its heads and the incident commander about an overdue task."""
    recipients: list[str] = []
    try:
        agency = await org_unit.get_agency(session, task.agency_code)
        if agency.email:
            recipients.append(agency.email)
    except org_unit.AgencyNotFound:
        log.warning("task agency no longer exists", extra={"agency": task.agency_code})
    heads, _total = await identity.list_users(
        session, identity.UserFilters(role=Role.AGENCY_HEAD, agency_id=task.agency_id, is_active=True), limit=20
    )
    recipients += [head.email for head in heads if head.email]
    if incident.commander_id is not None:
        commander = await identity.get_user(session, incident.commander_id)
        if commander is not None and commander.email:
            recipients.append(commander.email)
    named = [task.assignee_id, *(int(str(p["id"])) for p in task.notify_users or [])]
    for user_id in (i for i in named if i is not None):
        person = await identity.get_user(session, user_id)
        if person is not None and person.is_active and person.email:
            recipients.append(person.email)
    if not recipients:
        log.info("nobody to e-mail about an overdue task", extra={"task_id": task.id})
    for email in dict.fromkeys(recipients):
        await _send(session, runtime, email, f"Nhiệm vụ quá hạn: {code_of(incident.id)}", message, "Khẩn", incident)


async def _notify_agency(
    session: AsyncSession,
    runtime: Runtime,
    agency: org_unit.AgencyRead,
    title: str,
    message: str,
    severity: str,
    incident: Incident,
) -> None:
    if not agency.email:
        log.info("agency has no e-mail address; notification skipped", extra={"agency": agency.code})
        return
    await _send(session, runtime, agency.email, title, message, severity, incident)


async def _send(
    session: AsyncSession, runtime: Runtime, email: str, title: str, message: str, severity: str, incident: Incident
) -> None:
    await notification.send(
        session,
        runtime,
        channel=notification.ChannelKind.EMAIL,
        recipient=email,
        template=NOTIFY_TEMPLATE,
        params={"title": title, "severity": severity, "message": message, "link": f"{LIST_PATH}/{incident.id}"},
        lang="vi",
        correlation=f"incident:{incident.id}",
    )


# Command log, checklist, closing


async def append_log(
    session: AsyncSession, incident_id: int, data: LogCreate, principal: Principal, now: datetime | None = None
) -> LogRead:
    """Write an order, decision or report into the command log."""
    _require(principal, SCOPE_COMMAND)
    incident = await _active_incident(session, incident_id)
    entry = await _log(session, incident, data.kind, data.text.strip(), now or utc_now(), principal)
    return _log_read(entry)


async def tick(
    session: AsyncSession, incident_id: int, item_id: int, done: bool, principal: Principal, now: datetime | None = None
) -> ChecklistItemRead:
    """Tick (or untick) a procedure step, recording who and when."""
    _require(principal, SCOPE_COMMAND)
    moment = now or utc_now()
    incident = await _active_incident(session, incident_id)
    item = await repository.get_checklist_item(session, incident.id, item_id)
    if item is None:
        raise ChecklistItemNotFound(item_id)
    if (item.done_at is not None) != done:
        item.done_at = moment if done else None
        item.done_by = _author(principal) if done else ""
        verb = "Hoàn thành bước" if done else "Bỏ đánh dấu bước"
        await _log(session, incident, LogKind.SYSTEM, f"{verb} {item.position}: {item.text_vi}.", moment, principal)
        record_event(
            session, ChecklistTicked(**await _fields(session, incident), item_id=item.id, done=done, occurred_at=moment)
        )
    return _item_read(item)


async def close_incident(
    session: AsyncSession, incident_id: int, data: CloseInput, principal: Principal, now: datetime | None = None
) -> IncidentRead:
    """Close an incident with its summary once every task is finished or cancelled."""
    _require(principal, SCOPE_COMMAND)
    moment = now or utc_now()
    incident = await _active_incident(session, incident_id)
    still_open = [
        t for t in await repository.tasks_of(session, incident.id) if TaskStatus(t.status) in OPEN_TASK_STATUSES
    ]
    if still_open:
        raise OpenTasksRemain(len(still_open))
    incident.status = IncidentStatus.CLOSED.value
    incident.closed_at = moment
    incident.closing_summary = data.summary.strip()
    incident.updated_at = moment
    await _log(
        session, incident, LogKind.DECISION, f"Kết thúc sự cố. Tóm tắt: {incident.closing_summary}", moment, principal
    )
    record_event(session, IncidentClosed(**await _fields(session, incident), occurred_at=moment))
    return await get_incident(session, incident.id)


# Reads


def _on_time(task: IncidentTask) -> bool | None:
    if task.completed_at is None:
        return None
    return ensure_utc(task.completed_at) <= ensure_utc(task.due_at)


def _task_read(task: IncidentTask, incident: Incident) -> TaskRead:
    return TaskRead(
        id=task.id,
        incident_id=task.incident_id,
        incident_code=code_of(task.incident_id),
        incident_title=incident.title,
        agency_id=task.agency_id,
        agency_code=task.agency_code,
        agency_name=task.agency_name,
        title=task.title,
        instructions=task.instructions,
        assignee=TaskPerson(id=task.assignee_id, name=task.assignee_name) if task.assignee_id else None,
        notify=[TaskPerson(id=int(str(p["id"])), name=str(p["name"])) for p in task.notify_users or []],
        status=TaskStatus(task.status),
        assigned_at=task.assigned_at,
        assigned_by=task.assigned_by,
        due_at=task.due_at,
        started_at=task.started_at,
        completed_at=task.completed_at,
        result=task.result,
        overdue=task.overdue,
        escalated_at=task.escalated_at,
        on_time=_on_time(task),
    )


def _log_read(entry: CommandLogEntry) -> LogRead:
    return LogRead(
        id=entry.id,
        at=entry.at,
        kind=LogKind(entry.kind),
        author_name=entry.author_name,
        agency_code=entry.agency_code,
        task_id=entry.task_id,
        text=entry.text,
    )


def _item_read(item: ChecklistItem) -> ChecklistItemRead:
    return ChecklistItemRead(
        id=item.id,
        position=item.position,
        text_vi=item.text_vi,
        text_en=item.text_en,
        done_at=item.done_at,
        done_by=item.done_by,
    )


def _summary(incident: Incident, counts: tuple[int, int] = (0, 0), unit_codes: Sequence[str] = ()) -> IncidentSummary:
    return IncidentSummary(
        id=incident.id,
        code=code_of(incident.id),
        title=incident.title,
        incident_type=IncidentType(incident.incident_type),
        severity=Severity(incident.severity),
        status=IncidentStatus(incident.status),
        origin=Origin(incident.origin),
        unit_code=incident.unit_code,
        # Incidents opened before affected units existed have only their own unit.
        unit_codes=list(unit_codes) or ([incident.unit_code] if incident.unit_code else []),
        lat=incident.lat,
        lon=incident.lon,
        opened_at=incident.opened_at,
        closed_at=incident.closed_at,
        commander_name=incident.commander_name,
        open_tasks=counts[0],
        overdue_tasks=counts[1],
    )


async def get_incident(session: AsyncSession, incident_id: int) -> IncidentRead:
    """Return an incident with its links, tasks, command log and checklist."""
    incident = await _incident(session, incident_id)
    tasks = await repository.tasks_of(session, incident.id)
    counts = (
        sum(TaskStatus(t.status) in OPEN_TASK_STATUSES for t in tasks),
        sum(TaskStatus(t.status) in OPEN_TASK_STATUSES and t.overdue for t in tasks),
    )
    units = (await repository.units_of(session, [incident.id])).get(incident.id, [])
    return IncidentRead(
        **_summary(incident, counts, units).model_dump(),
        description=incident.description,
        address=incident.address,
        closing_summary=incident.closing_summary,
        links=[
            LinkRead(
                id=li.id,
                kind=LinkKind(li.kind),
                ref_id=li.ref_id,
                label=li.label,
                linked_at=li.linked_at,
                linked_by=li.linked_by,
            )
            for li in await repository.links_of(session, incident.id)
        ],
        tasks=[_task_read(task, incident) for task in tasks],
        log=[_log_read(entry) for entry in await repository.log_of(session, incident.id)],
        checklist=[_item_read(item) for item in await repository.checklist_of(session, incident.id)],
    )


def visibility(principal: Principal | None) -> Visibility | None:
    """Return which incidents a caller may see (None: every incident)."""
    # As the live stream: the command (hotline, leaders, administrators) covers the province; agency staff see the
    # incidents with a task for their agency, those affecting a commune they are bound to, and those they command.
    if principal is None or principal.kind is PrincipalKind.SYSTEM or principal.role in PROVINCE_WIDE_ROLES:
        return None
    return Visibility(agency_id=principal.agency_id, unit_codes=principal.unit_codes, user_id=principal.id)


async def read_incident(session: AsyncSession, incident_id: int, principal: Principal) -> IncidentRead:
    """Return an incident the caller may see; one it may not see is not found, so its existence does not leak."""
    _require(principal, SCOPE_READ)
    if not await repository.is_visible(session, incident_id, visibility(principal)):
        raise IncidentNotFound(incident_id)
    return await get_incident(session, incident_id)


async def incidents_for_alarm(
    session: AsyncSession, alarm_id: int, principal: Principal, limit: int = 20
) -> list[IncidentSummary]:
    """Return the incidents holding an alarm that the caller may see, running ones first."""
    _require(principal, SCOPE_READ)
    rows = await repository.incidents_of_record(session, LinkKind.ALARM.value, alarm_id, visibility(principal), limit)
    ids = [row.id for row in rows]
    counts = await repository.task_counts(session, ids)
    units = await repository.units_of(session, ids)
    return [_summary(row, counts.get(row.id, (0, 0)), units.get(row.id, ())) for row in rows]


async def scope_units(session: AsyncSession, unit_code: str | None) -> list[str] | None:
    """Return the unit and every unit below it (None: no restriction)."""
    if not unit_code:
        return None
    try:
        return [unit_code, *await org_unit.units_within(session, unit_code)]
    except org_unit.UnitNotFound:
        return [unit_code]


async def list_incidents(
    session: AsyncSession, filters: IncidentFilters, paging: PageParams, principal: Principal | None = None
) -> Page[IncidentSummary]:
    """Return one page of the incidents the caller may see matching the filters, newest first."""
    rows, total = await repository.list_incidents(
        session,
        filters,
        await scope_units(session, filters.unit),
        paging.limit,
        paging.offset,
        visibility(principal),
    )
    counts = await repository.task_counts(session, [row.id for row in rows])
    units = await repository.units_of(session, [row.id for row in rows])
    return Page(
        items=[_summary(row, counts.get(row.id, (0, 0)), units.get(row.id, ())) for row in rows],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
    )


async def open_incidents_for_unit(
    session: AsyncSession, unit_code: str, limit: int = GEOJSON_MAX_FEATURES
) -> list[IncidentSummary]:
    """Return the running incidents affecting a unit or any unit inside it, newest first (unit drill-down)."""
    units = await scope_units(session, unit_code) or [unit_code]
    rows = await repository.active_in_units(session, units, limit)
    ids = [row.id for row in rows]
    counts = await repository.task_counts(session, ids)
    affected = await repository.units_of(session, ids)
    return [_summary(row, counts.get(row.id, (0, 0)), affected.get(row.id, ())) for row in rows]


async def agency_tasks(
    session: AsyncSession, principal: Principal, *, open_only: bool = True, limit: int = 200
) -> list[TaskRead]:
    """Return the tasks of the caller's agency (every agency's for an administrator), most urgent first."""
    if not principal.is_admin:
        _require(principal, SCOPE_TASK)
        if principal.agency_id is None:
            return []
    agency_id = None if principal.is_admin and principal.agency_id is None else principal.agency_id
    rows = await repository.tasks_for_agency(session, agency_id, open_only=open_only, limit=limit)
    return [_task_read(task, incident) for task, incident in rows]


async def kpis(session: AsyncSession, unit_code: str | None = None, principal: Principal | None = None) -> IncidentKpis:
    """Return the incident figures for the dashboard (of what the caller may see), optionally inside one unit."""
    units = await scope_units(session, unit_code)
    seen = visibility(principal)
    return IncidentKpis(
        open_incidents=await repository.count_active(session, units, visibility=seen),
        critical_open=await repository.count_active(session, units, critical_only=True, visibility=seen),
        open_tasks=await repository.count_open_tasks(session, units, visibility=seen),
        overdue_tasks=await repository.count_open_tasks(session, units, overdue_only=True, visibility=seen),
    )


async def count_active_at(
    session: AsyncSession, unit_code: str | None, at: datetime, principal: Principal | None = None
) -> int:
    """Count the incidents that were open at a past moment (for the KPI trend)."""
    return await repository.count_active(
        session, await scope_units(session, unit_code), at=at, visibility=visibility(principal)
    )


async def geojson(
    session: AsyncSession, unit_code: str | None = None, lang: str = "vi", principal: Principal | None = None
) -> dict[str, Any]:
    """Return the active incidents with a location (that the caller may see) as a GeoJSON FeatureCollection."""
    rows = await repository.active_located(
        session, await scope_units(session, unit_code), GEOJSON_MAX_FEATURES, visibility(principal)
    )
    counts = await repository.task_counts(session, [row.id for row in rows])
    return {
        "type": "FeatureCollection",
        "features": [_feature(row, counts.get(row.id, (0, 0)), lang) for row in rows],
    }


TYPE_LABELS: dict[str, tuple[str, str]] = {
    IncidentType.FLOODING: ("Ngập lụt", "Flooding"),
    IncidentType.FIRE: ("Cháy, nổ", "Fire"),
    IncidentType.POLLUTION_SPILL: ("Sự cố ô nhiễm", "Pollution spill"),
    IncidentType.MASS_GATHERING: ("Tụ tập đông người", "Mass gathering"),
    IncidentType.TRAFFIC_ACCIDENT: ("Tai nạn giao thông", "Traffic accident"),
    IncidentType.OTHER: ("Sự cố khác", "Other incident"),
}


def type_label(incident_type: str, lang: str) -> str:
    """Return an incident type's name in a language."""
    vi, en = TYPE_LABELS.get(incident_type, (incident_type, incident_type))
    return en if lang == "en" else vi


def _feature(incident: Incident, counts: tuple[int, int], lang: str) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": code_of(incident.id),
        "geometry": {"type": "Point", "coordinates": [incident.lon, incident.lat]},
        "properties": {
            "name": f"{code_of(incident.id)} · {incident.title}",
            "code": code_of(incident.id),
            "type": incident.incident_type,
            "type_label": type_label(incident.incident_type, lang),
            "severity": incident.severity,
            "status": incident.status,
            "unit_code": incident.unit_code,
            "open_tasks": counts[0],
            "overdue_tasks": counts[1],
            "url": f"{LIST_PATH}/{incident.id}",
        },
    }


def may_read(principal: Principal | None) -> bool:
    """Tell whether a caller may see incidents."""
    return principal is not None and principal.has(SCOPE_READ)


def active_statuses() -> Iterable[str]:
    """Return the statuses of incidents still being handled."""
    return [status.value for status in ACTIVE_INCIDENT_STATUSES]


# Alarms (the alarm module's facade)


async def _alarm(session: AsyncSession, alarm_id: int) -> alarm.AlarmRead:
    try:
        return await alarm.get_alarm(session, alarm_id)
    except alarm.AlarmNotFound as exc:
        raise LinkedRecordNotFound(LinkKind.ALARM.value, alarm_id) from exc


def _alarm_text(found: alarm.AlarmRead) -> str:
    return f"#{found.alarm_id} · {found.title}"


async def _alarm_label(session: AsyncSession, alarm_id: int) -> str:
    return _alarm_text(await _alarm(session, alarm_id))


async def create_from_alarm(
    session: AsyncSession, data: FromAlarmCreate, principal: Principal, now: datetime | None = None
) -> IncidentRead:
    """Open an incident from an alarm (title, severity, place from it); a handled alarm returns its incident."""
    _require(principal, SCOPE_COMMAND)
    found = await _alarm(session, data.alarm_id)
    existing = await repository.incidents_linking(session, LinkKind.ALARM.value, found.alarm_id)
    if existing:
        return await get_incident(session, existing[0].id)
    incident = await _open(
        session,
        principal,
        now or utc_now(),
        title=data.title or found.title,
        description=f"{found.title} ({found.source_kind}: {found.source_ref})",
        incident_type=data.incident_type,
        severity=ALARM_SEVERITY.get(found.severity, Severity.MINOR),
        origin=Origin.ALARM,
        lat=found.lat,
        lon=found.lon,
        unit_code=found.unit_code or await _locate(session, found.lat, found.lon, None),
        link=(LinkKind.ALARM, found.alarm_id, _alarm_text(found)),
    )
    return await get_incident(session, incident.id)


async def note_alarm_cleared(session: AsyncSession, alarm_id: int, title: str, when: datetime) -> int:
    """Write into the log of every running incident linked to an alarm that the alarm cleared; return how many."""
    incidents = await repository.incidents_linking(session, LinkKind.ALARM.value, alarm_id)
    for incident in incidents:
        await _log(session, incident, LogKind.SYSTEM, f"Cảnh báo #{alarm_id} đã hết: {title}.", when)
    return len(incidents)
