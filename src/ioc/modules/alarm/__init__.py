"""Operational alarms: rules without code, the alarm lifecycle, silences, routing and escalation.

Other modules use only what is re-exported here.
"""

from __future__ import annotations

from .constants import AlarmStatus, Severity, SourceKind
from .events import (
    AlarmAcknowledged,
    AlarmCleared,
    AlarmEscalated,
    AlarmEvent,
    AlarmRaised,
    AlarmRepeated,
)
from .exceptions import AlarmNotFound
from .schemas import AlarmRead
from .service import get_alarm

__all__ = [
    "AlarmAcknowledged",
    "AlarmCleared",
    "AlarmEscalated",
    "AlarmEvent",
    "AlarmNotFound",
    "AlarmRaised",
    "AlarmRead",
    "AlarmRepeated",
    "AlarmStatus",
    "Severity",
    "SourceKind",
    "get_alarm",
]
