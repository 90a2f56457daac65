"""Events the notification module publishes."""

from __future__ import annotations

from typing import ClassVar

from ioc.core.events import DomainEvent


class DeliveryFailed(DomainEvent):
    """A delivery gave up for good (dead); carries no recipient or message text."""

    event_name: ClassVar[str] = "notification.delivery_failed"

    delivery_id: int
    channel: str
    template: str
    correlation: str | None = None
    attempts: int = 0
