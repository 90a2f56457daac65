"""Events the citizen_report module publishes: one per transition, with ids and codes only.

No event carries the reporter's name, phone, e-mail, the description or any free text, so that the
operations picture, alarms and the public live stream can consume them without leaking personal data.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from ioc.core.events import Audience, DomainEvent


class ReportEvent(DomainEvent):
    """Fields every report event carries (abstract: no event name)."""

    report_id: int
    tracking_code: str
    status: str
    from_status: str | None = None
    category_code: str
    unit_code: str
    agency_code: str | None = None


class ReportSubmitted(ReportEvent):
    """A citizen, an app or a hotline operator submitted a report."""

    event_name: ClassVar[str] = "citizen_report.submitted"
    audience: ClassVar[Audience] = "public"

    source: str


class ReportAccepted(ReportEvent):
    """An operator accepted a report as a genuine field report (it is published: public map, Open311)."""

    event_name: ClassVar[str] = "citizen_report.accepted"
    audience: ClassVar[Audience] = "public"


class ReportRejected(ReportEvent):
    """An operator rejected a report (spam, duplicate, out of scope...)."""

    event_name: ClassVar[str] = "citizen_report.rejected"

    reason: str


class ReportAssigned(ReportEvent):
    """A coordinator assigned a report to the responsible agency."""

    event_name: ClassVar[str] = "citizen_report.assigned"

    resolve_due_at: datetime | None = None


class ReportStarted(ReportEvent):
    """The assigned agency started working on a report."""

    event_name: ClassVar[str] = "citizen_report.started"


class ReportResolved(ReportEvent):
    """The agency resolved a report and published its result."""

    event_name: ClassVar[str] = "citizen_report.resolved"
    audience: ClassVar[Audience] = "public"

    on_time: bool | None = None


class ReportRated(ReportEvent):
    """The citizen rated the result."""

    event_name: ClassVar[str] = "citizen_report.rated"

    rating: str


class ReportReopened(ReportEvent):
    """The citizen was not satisfied within the window; the agency works on it again."""

    event_name: ClassVar[str] = "citizen_report.reopened"


class ReportClosed(ReportEvent):
    """A report was closed: rated satisfied, or the rating window passed."""

    event_name: ClassVar[str] = "citizen_report.closed"
    audience: ClassVar[Audience] = "public"


class ReportReturned(ReportEvent):
    """The agency returned a report as not its responsibility; an operator must reassign it."""

    event_name: ClassVar[str] = "citizen_report.returned"

    returned_by_agency_code: str


class ExtensionRequested(ReportEvent):
    """The agency asked for more time."""

    event_name: ClassVar[str] = "citizen_report.extension_requested"

    days: int


class ExtensionApproved(ReportEvent):
    """A supervisor granted more time; the resolution deadline moved."""

    event_name: ClassVar[str] = "citizen_report.extension_approved"

    days: int
    resolve_due_at: datetime


class ExtensionDeclined(ReportEvent):
    """A supervisor refused the extension; the deadline stays."""

    event_name: ClassVar[str] = "citizen_report.extension_declined"


class DeadlineApproaching(ReportEvent):
    """Most of the working time of a deadline is used up (see APPROACH_FRACTION)."""

    event_name: ClassVar[str] = "citizen_report.deadline_approaching"

    phase: str
    due_at: datetime


class ReportOverdue(ReportEvent):
    """A deadline passed with the report still waiting for the intake or the agency."""

    event_name: ClassVar[str] = "citizen_report.overdue"

    phase: str
    due_at: datetime


class ReportMerged(ReportEvent):
    """An operator merged a duplicate into another report; its followers now follow that one."""

    event_name: ClassVar[str] = "citizen_report.merged"

    into_report_id: int
    into_tracking_code: str


class ReportsLinked(ReportEvent):
    """An operator linked two related reports (no status change)."""

    event_name: ClassVar[str] = "citizen_report.linked"

    linked_report_id: int
    linked_tracking_code: str
