"""Events the indicator module publishes: report workflow steps and finished imports, with codes and counts only.

No event carries a person's name or the reason typed for a return or unlock (free text may name people);
the report's history is read through the API by those allowed to.
"""

from __future__ import annotations

from typing import ClassVar

from ioc.core.events import DomainEvent


class ReportEvent(DomainEvent):
    """Fields every report event carries (abstract: no event name)."""

    report_id: int
    data_set: str
    period: str
    org_unit: str
    agency: str
    status: str
    from_status: str


class ReportSubmitted(ReportEvent):
    """An agency submitted a report; `on_time` says whether it came before the deadline."""

    event_name: ClassVar[str] = "indicator.report_submitted"

    on_time: bool


class ReportApproved(ReportEvent):
    """The agency's head approved a submitted report."""

    event_name: ClassVar[str] = "indicator.report_approved"


class ReportReturned(ReportEvent):
    """The agency's head returned a submitted report for correction."""

    event_name: ClassVar[str] = "indicator.report_returned"


class ReportAccepted(ReportEvent):
    """The province accepted (and locked) an approved report."""

    event_name: ClassVar[str] = "indicator.report_accepted"


class ReportUnlocked(ReportEvent):
    """The province reopened a report for changes."""

    event_name: ClassVar[str] = "indicator.report_unlocked"


class ImportCompleted(DomainEvent):
    """Values were stored by an import (API, CSV, Excel, entry form or a background job)."""

    event_name: ClassVar[str] = "indicator.import_completed"

    import_id: int | None = None
    source: str
    status: str
    data_sets: list[str]
    periods: list[str]
    total: int
    imported: int
    updated: int
    deleted: int
    refused: int
