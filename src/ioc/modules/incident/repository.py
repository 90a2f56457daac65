"""Every query of the incident module; the service calls these and builds no SQL."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, delete, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from .constants import ACTIVE_INCIDENT_STATUSES, OPEN_TASK_STATUSES, Severity
from .models import ChecklistItem, CommandLogEntry, Incident, IncidentLink, IncidentTask, IncidentUnit
from .schemas import IncidentFilters

_OPEN_TASK_VALUES = [s.value for s in OPEN_TASK_STATUSES]
_ACTIVE_VALUES = [s.value for s in ACTIVE_INCIDENT_STATUSES]


def add(session: AsyncSession, *rows: Any) -> None:
    """Add new rows to the session."""
    session.add_all(rows)


async def flush(session: AsyncSession) -> None:
    """Send pending rows to the database so that they get their ids."""
    await session.flush()


async def get_incident(session: AsyncSession, incident_id: int, *, for_update: bool = False) -> Incident | None:
    """Return an incident by id (locked for the transaction when asked)."""
    stmt = select(Incident).where(Incident.id == incident_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).first()


def _in_units(unit_codes: Collection[str]) -> ColumnElement[bool]:
    """Match incidents whose own unit or one of whose affected units is among the codes."""
    codes = list(unit_codes)
    affected = select(IncidentUnit.incident_id).where(IncidentUnit.unit_code.in_(codes))
    return or_(Incident.unit_code.in_(codes), Incident.id.in_(affected))


@dataclass(frozen=True)
class Visibility:
    """The incidents a caller without a province-wide role may see: its agency's, its communes', its own."""

    agency_id: int | None
    unit_codes: frozenset[str]
    user_id: int | None


def _visible(visibility: Visibility | None) -> list[ColumnElement[bool]]:
    """Return the condition limiting incidents to what a caller may see (none: every incident)."""
    if visibility is None:
        return []
    conditions: list[ColumnElement[bool]] = []
    if visibility.agency_id is not None:
        tasked = select(IncidentTask.incident_id).where(IncidentTask.agency_id == visibility.agency_id)
        conditions.append(Incident.id.in_(tasked))
    if visibility.unit_codes:
        conditions.append(_in_units(visibility.unit_codes))
    if visibility.user_id is not None:
        conditions.append(Incident.commander_id == visibility.user_id)
    return [or_(*conditions) if conditions else false()]


async def is_visible(session: AsyncSession, incident_id: int, visibility: Visibility | None) -> bool:
    """Tell whether an incident exists and the caller may see it."""
    stmt = select(Incident.id).where(Incident.id == incident_id, *_visible(visibility))
    return (await session.scalar(stmt)) is not None


def _linking(kind: str, ref_id: int) -> ColumnElement[bool]:
    linked = select(IncidentLink.incident_id).where(IncidentLink.kind == kind, IncidentLink.ref_id == ref_id)
    return Incident.id.in_(linked)


async def units_of(session: AsyncSession, incident_ids: Sequence[int]) -> dict[int, list[str]]:
    """Return the affected units of incidents, in the order they were added."""
    if not incident_ids:
        return {}
    rows = await session.execute(
        select(IncidentUnit.incident_id, IncidentUnit.unit_code)
        .where(IncidentUnit.incident_id.in_(list(incident_ids)))
        .order_by(IncidentUnit.id)
    )
    found: dict[int, list[str]] = {}
    for incident_id, code in rows:
        found.setdefault(int(incident_id), []).append(str(code))
    return found


async def agency_codes_of(session: AsyncSession, incident_id: int) -> list[str]:
    """Return the codes of the agencies given a task in an incident, in the order they were first given one."""
    rows = await session.execute(
        select(IncidentTask.agency_code, func.min(IncidentTask.id))
        .where(IncidentTask.incident_id == incident_id)
        .group_by(IncidentTask.agency_code)
        .order_by(func.min(IncidentTask.id))
    )
    return [str(code) for code, _first in rows]


async def set_units(session: AsyncSession, incident_id: int, unit_codes: Sequence[str]) -> None:
    """Replace the affected units of an incident."""
    await session.execute(delete(IncidentUnit).where(IncidentUnit.incident_id == incident_id))
    session.add_all(IncidentUnit(incident_id=incident_id, unit_code=code) for code in dict.fromkeys(unit_codes))
    await session.flush()


def _filtered(
    stmt: Select[Any], filters: IncidentFilters, unit_codes: Collection[str] | None, visibility: Visibility | None
) -> Select[Any]:
    stmt = stmt.where(*_visible(visibility))
    if filters.alarm_id is not None:
        stmt = stmt.where(_linking("alarm", filters.alarm_id))
    if filters.report_id is not None:
        stmt = stmt.where(_linking("citizen_report", filters.report_id))
    if filters.status is not None:
        stmt = stmt.where(Incident.status == filters.status.value)
    if filters.active:
        stmt = stmt.where(Incident.status.in_(_ACTIVE_VALUES))
    if filters.incident_type is not None:
        stmt = stmt.where(Incident.incident_type == filters.incident_type.value)
    if filters.severity is not None:
        stmt = stmt.where(Incident.severity == filters.severity.value)
    if unit_codes is not None:
        stmt = stmt.where(_in_units(unit_codes))
    if filters.q:
        pattern = f"%{filters.q.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(Incident.title).like(pattern), func.lower(Incident.address).like(pattern)))
    return stmt


async def list_incidents(
    session: AsyncSession,
    filters: IncidentFilters,
    unit_codes: Collection[str] | None,
    limit: int,
    offset: int,
    visibility: Visibility | None = None,
) -> tuple[list[Incident], int]:
    """Return one page of incidents, newest first, and the total matching."""
    total = await session.scalar(_filtered(select(func.count(Incident.id)), filters, unit_codes, visibility))
    rows = await session.scalars(
        _filtered(select(Incident), filters, unit_codes, visibility)
        .order_by(Incident.opened_at.desc(), Incident.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), int(total or 0)


async def task_counts(session: AsyncSession, incident_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Return (open tasks, overdue open tasks) per incident."""
    if not incident_ids:
        return {}
    rows = await session.execute(
        select(
            IncidentTask.incident_id,
            func.count(IncidentTask.id),
            func.sum(case((IncidentTask.overdue.is_(True), 1), else_=0)),
        )
        .where(IncidentTask.incident_id.in_(list(incident_ids)), IncidentTask.status.in_(_OPEN_TASK_VALUES))
        .group_by(IncidentTask.incident_id)
    )
    return {int(r[0]): (int(r[1]), int(r[2] or 0)) for r in rows}


async def links_of(session: AsyncSession, incident_id: int) -> list[IncidentLink]:
    """Return an incident's links, oldest first."""
    rows = await session.scalars(
        select(IncidentLink).where(IncidentLink.incident_id == incident_id).order_by(IncidentLink.id)
    )
    return list(rows)


async def tasks_of(session: AsyncSession, incident_id: int) -> list[IncidentTask]:
    """Return an incident's tasks in the order they were given."""
    rows = await session.scalars(
        select(IncidentTask).where(IncidentTask.incident_id == incident_id).order_by(IncidentTask.id)
    )
    return list(rows)


async def log_of(session: AsyncSession, incident_id: int) -> list[CommandLogEntry]:
    """Return an incident's command log in chronological order."""
    rows = await session.scalars(
        select(CommandLogEntry)
        .where(CommandLogEntry.incident_id == incident_id)
        .order_by(CommandLogEntry.at, CommandLogEntry.id)
    )
    return list(rows)


async def checklist_of(session: AsyncSession, incident_id: int) -> list[ChecklistItem]:
    """Return an incident's procedure steps in order."""
    rows = await session.scalars(
        select(ChecklistItem).where(ChecklistItem.incident_id == incident_id).order_by(ChecklistItem.position)
    )
    return list(rows)


async def get_checklist_item(session: AsyncSession, incident_id: int, item_id: int) -> ChecklistItem | None:
    """Return one step of an incident's checklist."""
    stmt = select(ChecklistItem).where(ChecklistItem.id == item_id, ChecklistItem.incident_id == incident_id)
    return (await session.scalars(stmt)).first()


async def get_task(session: AsyncSession, task_id: int, *, for_update: bool = False) -> IncidentTask | None:
    """Return a task by id."""
    stmt = select(IncidentTask).where(IncidentTask.id == task_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).first()


async def tasks_for_agency(
    session: AsyncSession, agency_id: int | None, *, open_only: bool, limit: int
) -> list[tuple[IncidentTask, Incident]]:
    """Return an agency's tasks (every agency's when None) with their incidents, most urgent first."""
    stmt = select(IncidentTask, Incident).join(Incident, Incident.id == IncidentTask.incident_id)
    if agency_id is not None:
        stmt = stmt.where(IncidentTask.agency_id == agency_id)
    if open_only:
        stmt = stmt.where(IncidentTask.status.in_(_OPEN_TASK_VALUES))
    stmt = stmt.order_by(IncidentTask.due_at, IncidentTask.id).limit(limit)
    return [(task, incident) for task, incident in (await session.execute(stmt)).all()]


async def incidents_linking(session: AsyncSession, kind: str, ref_id: int) -> list[Incident]:
    """Return the active incidents a record is linked to."""
    rows = await session.scalars(
        select(Incident)
        .join(IncidentLink, IncidentLink.incident_id == Incident.id)
        .where(IncidentLink.kind == kind, IncidentLink.ref_id == ref_id, Incident.status.in_(_ACTIVE_VALUES))
        .order_by(Incident.id)
    )
    return list(rows)


async def count_active(
    session: AsyncSession,
    unit_codes: Collection[str] | None,
    *,
    critical_only: bool = False,
    at: datetime | None = None,
    visibility: Visibility | None = None,
) -> int:
    """Count incidents open at a moment (now when None), optionally only critical ones."""
    stmt = select(func.count(Incident.id)).where(*_visible(visibility))
    if at is None:
        stmt = stmt.where(Incident.status.in_(_ACTIVE_VALUES))
    else:
        stmt = stmt.where(Incident.opened_at <= at, or_(Incident.closed_at.is_(None), Incident.closed_at > at))
    if critical_only:
        stmt = stmt.where(Incident.severity == Severity.CRITICAL.value)
    if unit_codes is not None:
        stmt = stmt.where(_in_units(unit_codes))
    return int(await session.scalar(stmt) or 0)


async def count_open_tasks(
    session: AsyncSession,
    unit_codes: Collection[str] | None,
    *,
    overdue_only: bool = False,
    visibility: Visibility | None = None,
) -> int:
    """Count open tasks (only overdue ones when asked), in incidents of the given units."""
    stmt = (
        select(func.count(IncidentTask.id))
        .join(Incident, Incident.id == IncidentTask.incident_id)
        .where(IncidentTask.status.in_(_OPEN_TASK_VALUES), *_visible(visibility))
    )
    if overdue_only:
        stmt = stmt.where(IncidentTask.overdue.is_(True))
    if unit_codes is not None:
        stmt = stmt.where(_in_units(unit_codes))
    return int(await session.scalar(stmt) or 0)


async def active_located(
    session: AsyncSession, unit_codes: Collection[str] | None, limit: int, visibility: Visibility | None = None
) -> list[Incident]:
    """Return active incidents that have a location."""
    stmt = select(Incident).where(
        Incident.status.in_(_ACTIVE_VALUES),
        Incident.lat.is_not(None),
        Incident.lon.is_not(None),
        *_visible(visibility),
    )
    if unit_codes is not None:
        stmt = stmt.where(_in_units(unit_codes))
    return list(await session.scalars(stmt.order_by(Incident.opened_at.desc()).limit(limit)))


async def incidents_of_record(
    session: AsyncSession, kind: str, ref_id: int, visibility: Visibility | None, limit: int
) -> list[Incident]:
    """Return the incidents (running or closed) a record is linked to, running ones first, newest first."""
    running = case((Incident.status.in_(_ACTIVE_VALUES), 0), else_=1)
    stmt = (
        select(Incident)
        .where(_linking(kind, ref_id), *_visible(visibility))
        .order_by(running, Incident.opened_at.desc(), Incident.id.desc())
        .limit(limit)
    )
    return list(await session.scalars(stmt))


async def active_in_units(session: AsyncSession, unit_codes: Collection[str], limit: int) -> list[Incident]:
    """Return the active incidents affecting any of the units, newest first."""
    stmt = select(Incident).where(Incident.status.in_(_ACTIVE_VALUES), _in_units(unit_codes))
    return list(await session.scalars(stmt.order_by(Incident.opened_at.desc(), Incident.id.desc()).limit(limit)))


async def list_incidents_count(session: AsyncSession) -> int:
    """Count every incident ever opened."""
    return int(await session.scalar(select(func.count(Incident.id))) or 0)
