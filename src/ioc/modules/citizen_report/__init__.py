"""Citizen field reports (phản ánh hiện trường): intake, routing, deadlines, workflow and publication.

Other modules use only what is re-exported here.
"""

from __future__ import annotations

from .constants import ReportStatus, Source
from .events import (
    DeadlineApproaching,
    ExtensionApproved,
    ExtensionDeclined,
    ExtensionRequested,
    ReportAccepted,
    ReportAssigned,
    ReportClosed,
    ReportEvent,
    ReportMerged,
    ReportOverdue,
    ReportRated,
    ReportRejected,
    ReportReopened,
    ReportResolved,
    ReportReturned,
    ReportsLinked,
    ReportStarted,
    ReportSubmitted,
)
from .exceptions import CategoryNotFound, ReportNotFound
from .schemas import CategoryRead, CitizenReportKpis, ReportPublic, ReportRead, StatsRead
from .service import get_category, get_report, kpis, list_categories, stats, track

__all__ = [
    "CategoryNotFound",
    "CategoryRead",
    "CitizenReportKpis",
    "DeadlineApproaching",
    "ExtensionApproved",
    "ExtensionDeclined",
    "ExtensionRequested",
    "ReportAccepted",
    "ReportAssigned",
    "ReportClosed",
    "ReportEvent",
    "ReportMerged",
    "ReportNotFound",
    "ReportOverdue",
    "ReportPublic",
    "ReportRated",
    "ReportRead",
    "ReportRejected",
    "ReportReopened",
    "ReportResolved",
    "ReportReturned",
    "ReportStarted",
    "ReportStatus",
    "ReportSubmitted",
    "ReportsLinked",
    "Source",
    "StatsRead",
    "get_category",
    "get_report",
    "kpis",
    "list_categories",
    "stats",
    "track",
]
