"""Shared statistics database (tổng hợp): data elements, data sets, imports, checks, approval and analytics.

Other modules use only what is re-exported here.
"""

from __future__ import annotations

from .constants import AggregationType, ReportStatus, ValueType
from .exceptions import DataSetNotFound, PackNotFound
from .periods import Period, PeriodType, parse_period
from .schemas import AnalyticsResponse, CompletenessRow, ReportRead

__all__ = [
    "AggregationType",
    "AnalyticsResponse",
    "CompletenessRow",
    "DataSetNotFound",
    "PackNotFound",
    "Period",
    "PeriodType",
    "ReportRead",
    "ReportStatus",
    "ValueType",
    "parse_period",
]
