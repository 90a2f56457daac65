"""Events the warning module publishes; ids, codes and CAP values only, never subscribers' data."""

from __future__ import annotations

from typing import ClassVar

from ioc.core.events import Audience, DomainEvent


class WarningEvent(DomainEvent):
    """Fields every warning event carries (abstract: no event name)."""

    warning_id: int
    state: str
    msg_type: str
    severity: str
    urgency: str
    unit_codes: list[str]


class WarningDrafted(WarningEvent):
    """An author created or edited a draft (possibly proposed from an alarm)."""

    event_name: ClassVar[str] = "warning.drafted"

    alarm_id: int | None = None


class WarningSubmitted(WarningEvent):
    """An author sent a warning for approval."""

    event_name: ClassVar[str] = "warning.submitted"


class WarningRejected(WarningEvent):
    """An approver returned a warning to its author."""

    event_name: ClassVar[str] = "warning.rejected"


class WarningPublished(WarningEvent):
    """A second person approved a warning and it went out (an Alert, an Update or a Cancel)."""

    event_name: ClassVar[str] = "warning.published"
    audience: ClassVar[Audience] = "public"

    identifier: str
    headline_vi: str
    headline_en: str
    references_identifier: str | None = None


class WarningExpired(WarningEvent):
    """A published warning reached its expiry time: it left the public page, the map and the Atom feed."""

    event_name: ClassVar[str] = "warning.expired"
    audience: ClassVar[Audience] = "public"

    identifier: str
