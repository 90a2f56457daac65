"""Shared statistics database (tổng hợp): data elements, data sets, imports, checks, approval and analytics.

Other modules use only what is re-exported here.
"""

from __future__ import annotations

from .constants import AggregationType, ReportStatus, ValueType
from .events import (
    ImportCompleted,
    ReportAccepted,
    ReportApproved,
    ReportReturned,
    ReportSubmitted,
    ReportUnlocked,
)
from .exceptions import DataSetNotFound, PackNotFound
from .periods import Period, PeriodType, parse_period
from .schemas import AnalyticsResponse, CompletenessRow, ReportRead

__all__ = [
    "AggregationType",
    "AnalyticsResponse",
    "CompletenessRow",
    "DataSetNotFound",
    "ImportCompleted",
    "PackNotFound",
    "Period",
    "PeriodType",
    "ReportAccepted",
    "ReportApproved",
    "ReportRead",
    "ReportReturned",
    "ReportStatus",
    "ReportSubmitted",
    "ReportUnlocked",
    "ValueType",
    "parse_period",
]
