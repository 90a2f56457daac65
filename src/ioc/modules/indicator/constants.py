"""Closed sets and fixed values of the indicator module (shared statistics database, tổng hợp)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

MODULE_NAME = "indicator"
TITLE_VI = "Cơ sở dữ liệu thống kê dùng chung"
TITLE_EN = "Shared statistics database"

SCOPE_ENTER = "indicator:enter"
SCOPE_APPROVE = "indicator:approve"
SCOPE_ACCEPT = "indicator:accept"
SCOPE_READ = "indicator:read"
SCOPE_ADMIN = "indicator:admin"

API_PREFIX = "/indicator"
PAGE_PATH = "/indicators"
DEFAULT_COMBO = "default"
# The option-combo id of the rollup rows that total all of an element's disaggregations (ids start at 1).
ALL_COCS = 0
PACKS_DIR = Path(__file__).parent / "packs"
OLD_TO_NEW_CSV = PACKS_DIR / "tay-ninh-2025-old-to-new.csv"

# A pre-2025 commune exists until the day before the two-tier reform took effect (1 July 2025).
OLD_UNIT_LEVEL = "commune_pre2025"
# The same province's figures before the reform, recomputed on the new boundaries (a comparable series).
OLD_PROVINCE_LEVEL = "province_pre2025"
OLD_LEVELS = frozenset({OLD_UNIT_LEVEL, OLD_PROVINCE_LEVEL})
MAX_IMPORT_BYTES = 50 * 1024 * 1024
MAX_TEXT_VALUE = 50_000  # DHIS2 Text value type limit (statistics.md §2.2)
# Outlier defaults from DHIS2 (statistics.md §2.9): threshold 3.0 and at most 500 results.
OUTLIER_THRESHOLD = 3.0
MOD_Z_CONSTANT = 0.6745  # Iglewicz–Hoaglin modified z-score (statistics.md §2.9, marked unverified there)
MAX_OUTLIERS = 500
MIN_HISTORY_FOR_OUTLIERS = 4
ANALYTICS_MAX_CELLS = 50_000  # DHIS2's default analytics row cap (statistics.md §2.13)
# The leaders' overview shows the reporting rates of this many finished periods per data set (a half-year of months).
OVERVIEW_RATE_PERIODS = 6
# A pivot page is read by a person: beyond this many cells (totals included) it is narrowed or exported instead.
PIVOT_MAX_CELLS = 10_000
# The pivot page draws at most this many lines: more are unreadable on one chart.
PIVOT_CHART_SERIES = 8


class ValueType(StrEnum):
    """What a data value holds (a subset of DHIS2's value types)."""

    NUMBER = "number"
    INTEGER = "integer"
    POSITIVE_INTEGER = "positive_integer"
    ZERO_OR_POSITIVE_INTEGER = "zero_or_positive_integer"
    PERCENTAGE = "percentage"
    UNIT_INTERVAL = "unit_interval"
    BOOLEAN = "boolean"
    TEXT = "text"


NUMERIC_TYPES = frozenset(
    {
        ValueType.NUMBER,
        ValueType.INTEGER,
        ValueType.POSITIVE_INTEGER,
        ValueType.ZERO_OR_POSITIVE_INTEGER,
        ValueType.PERCENTAGE,
        ValueType.UNIT_INTERVAL,
        ValueType.BOOLEAN,
    }
)


class AggregationType(StrEnum):
    """How values add up across units and over time (flows sum, stocks average; statistics.md §2.2)."""

    SUM = "sum"
    AVERAGE = "average"  # average over time of the sum over units (stocks such as staff or schools)
    AVERAGE_ALL = "average_all"  # average over units and time (rates such as CPI)
    LAST = "last"  # last period in the range, summed over units
    NONE = "none"


class ReportStatus(StrEnum):
    """Where one (data set, period, unit, agency) report stands in the approval workflow."""

    OPEN = "open"
    SUBMITTED = "submitted"
    APPROVED = "approved"  # by the agency head
    ACCEPTED = "accepted"  # by the province; locked


LOCKED_STATUSES = frozenset({ReportStatus.SUBMITTED, ReportStatus.APPROVED, ReportStatus.ACCEPTED})


class Operator(StrEnum):
    """Validation rule operators (DHIS2 API names, statistics.md §2.8)."""

    EQUAL_TO = "equal_to"
    NOT_EQUAL_TO = "not_equal_to"
    GREATER_THAN = "greater_than"
    GREATER_THAN_OR_EQUAL_TO = "greater_than_or_equal_to"
    LESS_THAN = "less_than"
    LESS_THAN_OR_EQUAL_TO = "less_than_or_equal_to"
    COMPULSORY_PAIR = "compulsory_pair"
    EXCLUSIVE_PAIR = "exclusive_pair"


class MissingValueStrategy(StrEnum):
    """What a rule does when operands are missing (statistics.md §2.8)."""

    SKIP_IF_ANY_VALUE_MISSING = "skip_if_any_value_missing"
    SKIP_IF_ALL_VALUES_MISSING = "skip_if_all_values_missing"
    NEVER_SKIP = "never_skip"


class Importance(StrEnum):
    """How serious a rule violation is."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class ImportStrategy(StrEnum):
    """What a partly bad import does: refuse everything, or store the good rows only."""

    ALL_OR_NOTHING = "all_or_nothing"
    STORE_VALID = "store_valid"


class OutlierMethod(StrEnum):
    """Outlier detection algorithms (statistics.md §2.9)."""

    Z_SCORE = "z_score"
    MOD_Z_SCORE = "mod_z_score"
    MIN_MAX = "min_max"


class ChangeSource(StrEnum):
    """Where a value change came from."""

    FORM = "form"
    JSON = "json"
    CSV = "csv"
    EXCEL = "excel"
    SEED = "seed"


# Imports above this many values run as a durable job with a progress record (smaller ones stay in the request).
ASYNC_IMPORT_VALUES = 5_000
IMPORT_CHUNK = 2_000  # values written (and progress committed) per step of a background import
IMPORT_JOB = "indicator.import"
REMINDER_JOB = "indicator.deadline_notices"
# Agencies are reminded this many working days before a data set's on-time deadline.
REMINDER_WORKING_DAYS = 3
# Late notices are sent only for deadlines passed within this many days (older gaps are on the reconciliation page).
LATE_NOTICE_WINDOW_DAYS = 31


class ImportState(StrEnum):
    """Where a background import is."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class NoticeKind(StrEnum):
    """Which deadline message an agency got for a data set and period."""

    REMINDER = "reminder"
    LATE = "late"
