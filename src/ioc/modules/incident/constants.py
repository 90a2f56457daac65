"""Names and constants of the `incident` module; closed sets of values become StrEnums here."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

MODULE_NAME: Final = "incident"
TITLE_VI: Final = "Sự cố và điều hành"
TITLE_EN: Final = "Incidents and operations"

LIST_PATH: Final = "/incidents"
TASK_INBOX_PATH: Final = "/incident-tasks"
API_PREFIX: Final = "/incidents"
TASK_API_PREFIX: Final = "/incident-tasks"

SCOPE_READ: Final = "incident:read"
SCOPE_COMMAND: Final = "incident:command"
SCOPE_TASK: Final = "incident:task"

OVERDUE_JOB: Final = "incident.task_overdue"
# The overdue timer escalates in levels: 1 at the deadline (the agency's heads and the commander), 2 a while later
# (the province's leaders). The level travels in the timer's payload; level 2 has its own dedupe key.
ESCALATION_AGENCY: Final = 1
ESCALATION_LEADERS: Final = 2
# A task still open after half of its own duration past the deadline goes to the province's leaders, but never
# sooner than 2 hours (a report the leaders can act on) nor later than one working day (8 office hours), counted
# as the task's deadline was (office hours, or clock hours for round-the-clock tasks).
LEADER_ESCALATION_SHARE: Final = 0.5
LEADER_ESCALATION_MIN_HOURS: Final = 2.0
LEADER_ESCALATION_MAX_HOURS: Final = 8.0
MAX_LEADERS_TOLD: Final = 50  # province leaders e-mailed about one task
NOTIFY_TEMPLATE: Final = "alert"  # the notification module's generic alert template

PAGE_SIZE: Final = 50
GEOJSON_MAX_FEATURES: Final = 2000
# A task's deadline is given in office hours (WorkingCalendar); a week of office time is the upper bound.
MAX_TASK_HOURS: Final = 40.0
DEFAULT_TASK_HOURS: Final = 4.0
CODE_PREFIX: Final = "SC"
MAX_UNITS: Final = 50  # units one incident may affect
MAX_NOTIFY_USERS: Final = 20  # colleagues kept informed of one task


class IncidentType(StrEnum):
    """What kind of incident it is; each type has its standard operating procedure (sop.json)."""

    FLOODING = "flooding"
    FIRE = "fire"
    POLLUTION_SPILL = "pollution_spill"
    MASS_GATHERING = "mass_gathering"
    TRAFFIC_ACCIDENT = "traffic_accident"
    OTHER = "other"


class Severity(StrEnum):
    """How serious an incident is (the alarm module's scale without its `warning`/`indeterminate`)."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"


class IncidentStatus(StrEnum):
    """Where an incident is in its life."""

    OPEN = "open"
    RESPONDING = "responding"
    CLOSED = "closed"


class Origin(StrEnum):
    """How an incident was opened."""

    ALARM = "alarm"
    CITIZEN_REPORT = "citizen_report"
    MANUAL = "manual"


class LinkKind(StrEnum):
    """What a linked record is."""

    ALARM = "alarm"
    CITIZEN_REPORT = "citizen_report"


class TaskStatus(StrEnum):
    """Where a task given to an agency is."""

    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class LogKind(StrEnum):
    """What a command log entry records."""

    ORDER = "order"  # chỉ đạo
    DECISION = "decision"  # quyết định
    REPORT = "report"  # báo cáo
    SYSTEM = "system"  # recorded by the system: opened, assigned, overdue, closed…


OPEN_TASK_STATUSES: Final = frozenset({TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS})
# Incident types whose task forms propose round-the-clock deadlines (the command may untick it).
EMERGENCY_TYPES: Final = frozenset({IncidentType.FIRE, IncidentType.TRAFFIC_ACCIDENT})
ACTIVE_INCIDENT_STATUSES: Final = frozenset({IncidentStatus.OPEN, IncidentStatus.RESPONDING})
# Which moves an agency may make on its task.
TASK_TRANSITIONS: Final[dict[TaskStatus, frozenset[TaskStatus]]] = {
    TaskStatus.ASSIGNED: frozenset({TaskStatus.IN_PROGRESS, TaskStatus.DONE}),
    TaskStatus.IN_PROGRESS: frozenset({TaskStatus.DONE}),
    TaskStatus.DONE: frozenset(),
    TaskStatus.CANCELLED: frozenset(),
}
# Alarm severities (critical|major|minor|warning|indeterminate) on the incident scale.
ALARM_SEVERITY: Final[dict[str, Severity]] = {
    "critical": Severity.CRITICAL,
    "major": Severity.MAJOR,
    "minor": Severity.MINOR,
    "warning": Severity.MINOR,
    "indeterminate": Severity.MINOR,
}
