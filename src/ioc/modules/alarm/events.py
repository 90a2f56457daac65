"""Events the alarm module publishes: one per lifecycle transition, with ids, codes and a position only.

Alarm events are for staff (the operations room, incident and warning modules); they carry no personal data
but can reveal operational weaknesses, so none of them is public.
"""

from __future__ import annotations

from typing import ClassVar

from ioc.core.events import Audience, DomainEvent


class AlarmEvent(DomainEvent):
    """Fields every alarm event carries (abstract: no event name)."""

    audience: ClassVar[Audience] = "staff"

    alarm_id: int
    rule_id: int | None
    severity: str
    title: str
    source_kind: str
    source_ref: str
    unit_code: str | None = None
    lat: float | None = None
    lon: float | None = None


class AlarmRaised(AlarmEvent):
    """A rule fired for a source that had no open alarm of that rule: a new alarm is active."""

    event_name: ClassVar[str] = "alarm.raised"


class AlarmRepeated(AlarmEvent):
    """A rule fired again for a source whose alarm is still open: its count and last-seen time grew."""

    event_name: ClassVar[str] = "alarm.repeated"

    count: int


class AlarmAcknowledged(AlarmEvent):
    """An operator acknowledged an alarm (it may still be active)."""

    event_name: ClassVar[str] = "alarm.acknowledged"

    acknowledged_by: int | None = None


class AlarmCleared(AlarmEvent):
    """An alarm was cleared: its clear condition held, or an operator cleared it."""

    event_name: ClassVar[str] = "alarm.cleared"

    cleared_by: int | None = None


class AlarmEscalated(AlarmEvent):
    """An alarm was not acknowledged in time and was escalated to the next level of its routing policy."""

    event_name: ClassVar[str] = "alarm.escalated"

    level: int
