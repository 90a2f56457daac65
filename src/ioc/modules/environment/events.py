"""Events the environment module publishes: station codes, index values and limit crossings, no personal data."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from ioc.core.events import Audience, DomainEvent


class StationEvent(DomainEvent):
    """Fields every station event carries (abstract: no event name)."""

    station_id: int
    station_code: str
    unit_code: str | None = None


class IndexComputed(StationEvent):
    """A station's hourly or daily index (VN_AQI, US_AQI, VN_WQI) was computed and its value changed."""

    event_name: ClassVar[str] = "environment.index_computed"
    audience: ClassVar[Audience] = "public"

    standard: str
    period: str
    value: int
    category: str
    computed_for: datetime


class ExceedanceDetected(StationEvent):
    """A parameter's average over a QCVN averaging period went above its limit; an exceedance opened."""

    event_name: ClassVar[str] = "environment.exceedance_detected"

    parameter: str
    regulation: str
    period: str
    value: float
    limit: float
    observed_at: datetime


class ExceedanceCleared(StationEvent):
    """A parameter's average went back within its limit; the open exceedance closed."""

    event_name: ClassVar[str] = "environment.exceedance_cleared"

    parameter: str
    regulation: str
    period: str
    observed_at: datetime
