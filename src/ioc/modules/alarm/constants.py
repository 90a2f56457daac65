"""Closed sets and fixed values of the alarm module."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Final

MODULE_NAME: Final = "alarm"
TITLE_VI: Final = "Cảnh báo vận hành"
TITLE_EN: Final = "Operational alarms"

SCOPE_READ: Final = "alarm:read"
SCOPE_OPERATE: Final = "alarm:operate"
SCOPE_RULES: Final = "alarm:rules"

API_PREFIX: Final = "/alarms"
RULES_API_PREFIX: Final = "/alarm-rules"
CONSOLE_PATH: Final = "/alarms"
RULES_PATH: Final = "/alarm-rules"
SILENCES_PATH: Final = "/alarm-silences"
POLICIES_PATH: Final = "/alarm-policies"

NO_DATA_JOB: Final = "alarm.no_data_check"
NOTIFY_JOB: Final = "alarm.notify_check"
NO_DATA_EVERY: Final = timedelta(minutes=1)
NOTIFY_EVERY: Final = timedelta(minutes=1)

# Flapping: an alarm that was raised and cleared this many times within the window is held active
# (not cleared again) until the condition stays clear for a whole window.
FLAP_COUNT: Final = 4
FLAP_WINDOW: Final = timedelta(minutes=30)

TEST_WINDOW: Final = timedelta(hours=24)
CONSOLE_PAGE_SIZE: Final = 200
MAX_RULE_WINDOW: Final = timedelta(days=7)
COMMENT_MAX: Final = 2000
MAX_SILENCE_HOURS: Final = 24 * 7
# A new window in the form starts now and lasts this long unless the operator says otherwise.
DEFAULT_WINDOW_HOURS: Final = 4
TARGET_CHANNELS: Final = ("email", "sms", "webhook")


class Severity(StrEnum):
    """Alarm severity, as in ThingsBoard (reference environment-and-alerts.md §7.1)."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"
    INDETERMINATE = "indeterminate"


# Order for sorting and for "at least this severe" routing filters; lower is more severe.
SEVERITY_RANK: Final = {
    Severity.CRITICAL: 0,
    Severity.MAJOR: 1,
    Severity.MINOR: 2,
    Severity.WARNING: 3,
    Severity.INDETERMINATE: 4,
}


class AlarmStatus(StrEnum):
    """Where an alarm is in its lifecycle: active → acknowledged → cleared."""

    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"


OPEN_STATUSES: Final = (AlarmStatus.ACTIVE, AlarmStatus.ACKNOWLEDGED)


class RuleKind(StrEnum):
    """What a rule watches."""

    THRESHOLD = "threshold"  # a datastream value against a threshold, with hysteresis and pending period
    RATE = "rate"  # change per hour of a datastream value
    NO_DATA = "no_data"  # no observation for N minutes
    INDEX = "index"  # an environmental index (VN_AQI, VN_WQI...) at or above a value for a period
    EXCEEDANCE = "exceedance"  # a QCVN exceedance reported by the environment module
    REPORT_COUNT = "report_count"  # at least N citizen reports of a category within R metres in a window
    REPORT_OVERDUE = "report_overdue"  # a citizen report went past its deadline


class ScopeKind(StrEnum):
    """What a rule applies to."""

    DATASTREAM = "datastream"
    DEVICE = "device"
    STATION = "station"
    CATEGORY = "category"
    UNIT = "unit"
    PROVINCE = "province"


class SourceKind(StrEnum):
    """What an alarm is about."""

    DATASTREAM = "datastream"
    STATION = "station"
    REPORT = "report"
    AREA = "area"


class Operator(StrEnum):
    """Comparison of a value against a threshold."""

    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="


class HistoryAction(StrEnum):
    """An entry of an alarm's history."""

    RAISED = "raised"
    REPEATED = "repeated"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"
    COMMENTED = "commented"
    ASSIGNED = "assigned"
    ESCALATED = "escalated"
    NOTIFIED = "notified"
    NOTIFY_FAILED = "notify_failed"
    SUPPRESSED = "suppressed"
    FLAPPING = "flapping"
