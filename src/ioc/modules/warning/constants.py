"""Closed sets and limits of the warning module; CAP values are the exact CAP 1.2 XSD enumerations.

Source of every CAP value: OASIS CAP 1.2 (shared reference "environment-and-alerts.md" §6.2, CAP-v1.2.xsd).
"""

from __future__ import annotations

from enum import StrEnum

MODULE_NAME = "warning"
TITLE_VI = "Cảnh báo công cộng"
TITLE_EN = "Public warnings"

SCOPE_AUTHOR = "warning:author"
SCOPE_APPROVE = "warning:approve"
SCOPE_READ = "warning:read"

API_PREFIX = "/warnings"
STAFF_PATH = "/canh-bao/quan-ly"
PUBLIC_PATH = "/canh-bao"
SUBSCRIBE_PATH = "/canh-bao/dang-ky"
CAP_ALERT_PATH = "/cap/alerts"
CAP_FEED_PATH = "/cap/feed.atom"

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
DISTRIBUTE_JOB = "warning.distribute"
EXPIRE_JOB = "warning.expire"
NOTIFY_TEMPLATE = "alert"  # shipped by the notification module (title, severity, message, link)

MAX_HEADLINE = 160  # CAP 1.2 §3.2.2: headline should stay under 160 characters
MAX_TEXT = 4000
MAX_AREAS = 120
MAX_POLYGON_POINTS = 400  # a CAP polygon for a commune boundary; simplified above this
MIN_POLYGON_PAIRS = 4  # CAP 1.2: at least four pairs, the first equal to the last
SUBSCRIPTION_UNITS_MAX = 50


class CapStatus(StrEnum):
    """CAP `status`."""

    ACTUAL = "Actual"
    EXERCISE = "Exercise"
    SYSTEM = "System"
    TEST = "Test"
    DRAFT = "Draft"


class MsgType(StrEnum):
    """CAP `msgType`; Ack and Error are not authored here."""

    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"


class Category(StrEnum):
    """CAP `category`."""

    GEO = "Geo"
    MET = "Met"
    SAFETY = "Safety"
    SECURITY = "Security"
    RESCUE = "Rescue"
    FIRE = "Fire"
    HEALTH = "Health"
    ENV = "Env"
    TRANSPORT = "Transport"
    INFRA = "Infra"
    CBRNE = "CBRNE"
    OTHER = "Other"


class ResponseType(StrEnum):
    """CAP `responseType`."""

    SHELTER = "Shelter"
    EVACUATE = "Evacuate"
    PREPARE = "Prepare"
    EXECUTE = "Execute"
    AVOID = "Avoid"
    MONITOR = "Monitor"
    ASSESS = "Assess"
    ALL_CLEAR = "AllClear"
    NONE = "None"


class Urgency(StrEnum):
    """CAP `urgency`."""

    IMMEDIATE = "Immediate"
    EXPECTED = "Expected"
    FUTURE = "Future"
    PAST = "Past"
    UNKNOWN = "Unknown"


class Severity(StrEnum):
    """CAP `severity`."""

    EXTREME = "Extreme"
    SEVERE = "Severe"
    MODERATE = "Moderate"
    MINOR = "Minor"
    UNKNOWN = "Unknown"


class Certainty(StrEnum):
    """CAP `certainty`."""

    OBSERVED = "Observed"
    LIKELY = "Likely"
    POSSIBLE = "Possible"
    UNLIKELY = "Unlikely"
    UNKNOWN = "Unknown"


class WarningState(StrEnum):
    """Where a warning is in its life; only `published` ones are public."""

    DRAFT = "draft"
    PENDING = "pending_approval"
    REJECTED = "rejected"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"  # an Update replaced it
    CANCELLED = "cancelled"  # a Cancel withdrew it
    EXPIRED = "expired"  # its expiry time passed while it was in force


EDITABLE_STATES = frozenset({WarningState.DRAFT, WarningState.REJECTED})


class AreaKind(StrEnum):
    """How a target area was chosen."""

    UNIT = "unit"
    POLYGON = "polygon"


class SubscriberChannel(StrEnum):
    """How a citizen wants to be warned (values of the notification module's channels)."""

    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"


SEVERITY_LABELS: dict[str, tuple[str, str]] = {
    Severity.EXTREME: ("Cực kỳ nghiêm trọng", "Extreme"),
    Severity.SEVERE: ("Nghiêm trọng", "Severe"),
    Severity.MODERATE: ("Trung bình", "Moderate"),
    Severity.MINOR: ("Nhẹ", "Minor"),
    Severity.UNKNOWN: ("Chưa xác định", "Unknown"),
}
STATE_LABELS: dict[str, tuple[str, str]] = {
    WarningState.DRAFT: ("Bản nháp", "Draft"),
    WarningState.PENDING: ("Chờ duyệt", "Awaiting approval"),
    WarningState.REJECTED: ("Bị trả lại", "Returned"),
    WarningState.PUBLISHED: ("Đã phát hành", "Published"),
    WarningState.SUPERSEDED: ("Đã được cập nhật", "Superseded"),
    WarningState.CANCELLED: ("Đã huỷ", "Cancelled"),
    WarningState.EXPIRED: ("Đã hết hiệu lực", "Expired"),
}


def label(table: dict[str, tuple[str, str]], value: str, lang: str) -> str:
    """Return the Vietnamese or English label of a value."""
    vi, en = table.get(value, (value, value))
    return en if lang == "en" else vi
