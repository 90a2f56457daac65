"""Events the telemetry module publishes; payloads carry ids and counts, never readings in bulk."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from ioc.core.events import DomainEvent


class DeviceWentOffline(DomainEvent):
    """A device has not been heard from for longer than its offline threshold."""

    event_name: ClassVar[str] = "telemetry.device_went_offline"

    device_id: int
    device_code: str
    last_seen_at: datetime | None
    offline_after_minutes: int


class DeviceCameOnline(DomainEvent):
    """A device that was offline (or never seen) sent a message."""

    event_name: ClassVar[str] = "telemetry.device_came_online"

    device_id: int
    device_code: str
    previous_seen_at: datetime | None


class ObservationsReceived(DomainEvent):
    """A batch of readings was committed; downstream analysis reads the datastreams it names."""

    event_name: ClassVar[str] = "telemetry.observations_received"

    datastream_ids: list[int]
    count: int
    min_time: datetime
    max_time: datetime
    source: str


class DeadLetterRecorded(DomainEvent):
    """A message or some of its readings were refused and kept as a dead letter."""

    event_name: ClassVar[str] = "telemetry.dead_letter_recorded"

    dead_letter_id: int
    reason: str
    device_code: str | None
    source: str
