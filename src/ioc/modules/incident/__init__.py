"""Incidents: opened from alarms, citizen reports or by hand; tasks for agencies, escalation, command log.

Other modules use only what is re-exported here.
"""

from __future__ import annotations

from .constants import IncidentStatus, IncidentType, Severity, TaskStatus
from .events import (
    ChecklistTicked,
    IncidentClosed,
    IncidentEvent,
    IncidentOpened,
    IncidentUpdated,
    LogAppended,
    TaskAssigned,
    TaskEscalated,
    TaskEvent,
    TaskOverdue,
    TaskReassigned,
    TaskUpdated,
)
from .exceptions import IncidentNotFound, TaskNotFound
from .schemas import IncidentKpis, IncidentRead, IncidentSummary, TaskRead
from .service import geojson, get_incident, kpis, open_incidents_for_unit

__all__ = [
    "ChecklistTicked",
    "IncidentClosed",
    "IncidentEvent",
    "IncidentKpis",
    "IncidentNotFound",
    "IncidentOpened",
    "IncidentRead",
    "IncidentStatus",
    "IncidentSummary",
    "IncidentType",
    "IncidentUpdated",
    "LogAppended",
    "Severity",
    "TaskAssigned",
    "TaskEscalated",
    "TaskEvent",
    "TaskNotFound",
    "TaskOverdue",
    "TaskRead",
    "TaskReassigned",
    "TaskStatus",
    "TaskUpdated",
    "geojson",
    "get_incident",
    "kpis",
    "open_incidents_for_unit",
]
