"""Events the incident module publishes; all are for staff (they name agencies and places, never citizens)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from ioc.core.events import DomainEvent


class IncidentEvent(DomainEvent):
    """Fields every incident event carries, so that live pages and dashboards need no extra query."""

    incident_id: int
    code: str
    status: str
    severity: str
    incident_type: str
    unit_code: str | None = None
    # Every unit the incident affects (its own first) and every agency given a task in it, so that a feed
    # or live stream filtered by unit or agency reaches all of them, not only the incident's own unit.
    unit_codes: list[str] = Field(default_factory=list)
    agency_codes: list[str] = Field(default_factory=list)


class IncidentOpened(IncidentEvent):
    """An incident was opened (from an alarm, a citizen report or by hand)."""

    event_name: ClassVar[str] = "incident.opened"

    origin: str


class IncidentUpdated(IncidentEvent):
    """An incident's severity, status or linked records changed."""

    event_name: ClassVar[str] = "incident.updated"

    change: str


class IncidentClosed(IncidentEvent):
    """An incident was closed with its summary."""

    event_name: ClassVar[str] = "incident.closed"


class TaskEvent(IncidentEvent):
    """Fields of every task event."""

    task_id: int
    agency_code: str
    task_status: str
    due_at: datetime


class TaskAssigned(TaskEvent):
    """A task was given to an agency."""

    event_name: ClassVar[str] = "incident.task_assigned"


class TaskUpdated(TaskEvent):
    """A task's status changed (started, done, cancelled)."""

    event_name: ClassVar[str] = "incident.task_updated"

    from_status: str


class TaskReassigned(TaskEvent):
    """A task was given to another person of its agency, or (by the command) to another agency."""

    event_name: ClassVar[str] = "incident.task_reassigned"

    from_agency_code: str
    assignee_id: int | None = None
    from_assignee_id: int | None = None


class TaskOverdue(TaskEvent):
    """A task passed its deadline unfinished; it was escalated to the agency head and the commander."""

    event_name: ClassVar[str] = "incident.task_overdue"


class TaskEscalated(TaskEvent):
    """A task stayed unfinished well past its deadline; it was escalated further (level 2: the province's leaders)."""

    event_name: ClassVar[str] = "incident.task_escalated"

    level: int


class LogAppended(IncidentEvent):
    """A line was added to an incident's command log."""

    event_name: ClassVar[str] = "incident.log_appended"

    entry_id: int
    kind: str


class ChecklistTicked(IncidentEvent):
    """A step of an incident's procedure was ticked or unticked."""

    event_name: ClassVar[str] = "incident.checklist_ticked"

    item_id: int
    done: bool
