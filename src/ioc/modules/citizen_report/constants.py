"""Closed sets and fixed values of the citizen_report module."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Final

MODULE_NAME: Final = "citizen_report"
TITLE_VI: Final = "Phản ánh hiện trường"
TITLE_EN: Final = "Citizen field reports"

SCOPE_SUBMIT: Final = "citizen_report:submit"
SCOPE_OPERATE: Final = "citizen_report:operate"
SCOPE_HANDLE: Final = "citizen_report:handle"
SCOPE_APPROVE: Final = "citizen_report:approve"
SCOPE_ADMIN: Final = "citizen_report:admin"
SCOPE_READ: Final = "citizen_report:read"

API_PREFIX: Final = "/citizen-reports"
CATEGORY_API_PREFIX: Final = "/citizen-report-categories"
PUBLIC_FORM_PATH: Final = "/phan-anh"
INBOX_PATH: Final = "/citizen-reports"
INBOX_PAGE_SIZE: Final = 50
PUBLIC_PAGE_SIZE: Final = 20
HOTLINE_PATH: Final = "/citizen-reports/tong-dai"
BULK_ASSIGN_PATH: Final = "/citizen-reports/giao-hang-loat"
MAP_PATH: Final = "/phan-anh/ban-do"
STATS_PATH: Final = "/phan-anh/thong-ke"

TRACKING_PREFIX: Final = "PA"
TRACKING_PATTERN: Final = r"^PA-\d{4}-\d{6,}$"

DEADLINE_JOB: Final = "citizen_report.deadline_check"
CLOSE_JOB: Final = "citizen_report.close_unrated"
PURGE_JOB: Final = "citizen_report.purge_rate_hits"

# A deadline is "approaching" once this share of its working time is used up.
APPROACH_FRACTION: Final = 0.8
# Duplicate suggestions: same category, still open, within this distance (FixMyStreet uses 250 m too).
DUPLICATE_RADIUS_M: Final = 250.0
DUPLICATE_LIMIT: Final = 5
EARTH_RADIUS_M: Final = 6_371_008.8
METRES_PER_DEGREE_LAT: Final = 111_320.0
# Public coordinates are rounded to 4 decimals (about 11 m), so a pin does not point at one house.
PUBLIC_COORD_DECIMALS: Final = 4

# Submissions per client address: at most RATE_LIMIT_COUNT in RATE_LIMIT_WINDOW.
RATE_LIMIT_COUNT: Final = 5
RATE_LIMIT_WINDOW: Final = timedelta(minutes=10)

DESCRIPTION_MIN: Final = 10
DESCRIPTION_MAX: Final = 4000  # the Open311 limit
MAX_PHOTOS: Final = 5
MAX_PHOTO_BYTES: Final = 10 * 1024 * 1024
MAX_PHOTO_PIXELS: Final = 40_000_000  # 40 megapixels: any phone camera, not a decompression bomb
MAX_PHOTO_SIDE: Final = 2048
THUMB_SIDE: Final = 320
JPEG_QUALITY: Final = 85
MEDIA_FOLDER: Final = "citizen_report"

MAX_EXTENSION_DAYS: Final = 30
EXPORT_MAX_ROWS: Final = 50_000
# Map layers hold the newest points only (filters narrow them): a map of more dots is unreadable, and a layer
# must answer within 300 ms at 100,000 stored reports (the target; see bench/citizen_report.py).
GEOJSON_MAX_FEATURES: Final = 5_000
PICTURE_LAYER_MAX: Final = 5_000
# Map layers aggregated on the server: below MAP_CLUSTER_MAX_ZOOM, a view of more than MAP_CLUSTER_THRESHOLD
# reports is answered as grid cells (count and count per status), so that every report is represented. The grid
# is the dashboard's (Web Mercator, MAP_CELLS_PER_TILE cells per 256-pixel tile side): the same clusters on the
# public map and on the operations picture. A module does not import the dashboard (it sits tiers above), so the
# three numbers are repeated here; a test compares them with the dashboard's.
MAP_CLUSTER_THRESHOLD: Final = 400
MAP_CELLS_PER_TILE: Final = 8
MAP_CLUSTER_MAX_ZOOM: Final = 15
MAP_MAX_ZOOM: Final = 19
# The operations-picture layer has no zoom: beyond PICTURE_LAYER_MAX reports it answers cells of this zoom's
# grid (about 5 km), coarser ones while there are more than PICTURE_LAYER_MAX cells. The dashboard's clusters
# are then exact up to this zoom and no finer above it. Finer grids cost more than the layer's 300 ms at
# 100,000 reports (zoom 12: some 10,000 cells; zoom 14: 13,000), mostly in reading the many lone reports.
PICTURE_GRID_ZOOM: Final = 10
# The grid's rows are computed in SQL with a cubic in latitude around this one, the middle of the province
# (10.9-11.8 °N); exact to a ten-thousandth of a cell within 1° of it (see repository.MapGrid).
MAP_GRID_LATITUDE: Final = 11.35
# A view's box may span at most this many tiles of its zoom per side (a wall of screens shows about 16).
MAP_MAX_TILES_PER_SIDE: Final = 64
# Web Mercator is defined up to this latitude; a box beyond it is clamped.
MERCATOR_MAX_LAT: Final = 85.05112878
KPI_ON_TIME_DAYS: Final = 30
STATS_DEFAULT_DAYS: Final = 90
# Operations picture colours: targets in percent, and the overdue count that turns the tile red. Peers publish
# 93.77 % on time (HCMC 1022, 2025) and 92 % satisfied (Hue-S, 2025): reference/citizen-reports.md §6.4-6.5.
PICTURE_ON_TIME_TARGET: Final = 90.0
PICTURE_SATISFACTION_TARGET: Final = 90.0
PICTURE_RATE_MARGIN: Final = 15.0
PICTURE_OVERDUE_CRITICAL: Final = 10

DEFAULT_ACCEPT_HOURS: Final = 8
DEFAULT_RESOLVE_DAYS: Final = 5
DEFAULT_REOPEN_WINDOW_DAYS: Final = 7


class ReportStatus(StrEnum):
    """Where a report is in its life (Vietnamese practice: tiếp nhận → chuyển xử lý → xử lý → đánh giá)."""

    RECEIVED = "received"  # mới tiếp nhận, chờ duyệt
    ACCEPTED = "accepted"  # đã duyệt, chờ chuyển cơ quan
    REJECTED = "rejected"  # từ chối (spam, trùng, ngoài phạm vi...)
    ASSIGNED = "assigned"  # đã chuyển cơ quan xử lý
    RETURNED = "returned"  # cơ quan trả lại, chờ chuyển lại
    IN_PROGRESS = "in_progress"  # đang xử lý
    RESOLVED = "resolved"  # đã xử lý, chờ người dân đánh giá
    REOPENED = "reopened"  # người dân chưa hài lòng, xử lý lại
    CLOSED = "closed"  # hoàn thành
    MERGED = "merged"  # gộp vào phản ánh khác


STATUS_LABELS: Final[dict[ReportStatus, tuple[str, str]]] = {
    ReportStatus.RECEIVED: ("Mới tiếp nhận", "Received"),
    ReportStatus.ACCEPTED: ("Đã duyệt", "Accepted"),
    ReportStatus.REJECTED: ("Từ chối", "Rejected"),
    ReportStatus.ASSIGNED: ("Đã chuyển xử lý", "Assigned"),
    ReportStatus.RETURNED: ("Bị trả lại", "Returned"),
    ReportStatus.IN_PROGRESS: ("Đang xử lý", "In progress"),
    ReportStatus.RESOLVED: ("Đã xử lý", "Resolved"),
    ReportStatus.REOPENED: ("Xử lý lại", "Reopened"),
    ReportStatus.CLOSED: ("Hoàn thành", "Closed"),
    ReportStatus.MERGED: ("Đã gộp", "Merged"),
}

# Statuses in which someone still has to act (duplicate suggestions look at these).
OPEN_STATUSES: Final = frozenset(
    {
        ReportStatus.RECEIVED,
        ReportStatus.ACCEPTED,
        ReportStatus.ASSIGNED,
        ReportStatus.RETURNED,
        ReportStatus.IN_PROGRESS,
        ReportStatus.REOPENED,
    }
)
# Statuses in which the assigned agency is working against the resolution deadline.
AGENCY_STATUSES: Final = frozenset({ReportStatus.ASSIGNED, ReportStatus.IN_PROGRESS, ReportStatus.REOPENED})
FINAL_STATUSES: Final = frozenset({ReportStatus.REJECTED, ReportStatus.CLOSED, ReportStatus.MERGED})


class Phase(StrEnum):
    """Which deadline runs: the province's intake (accept and assign) or the agency's resolution."""

    INTAKE = "intake"
    RESOLUTION = "resolution"


class Source(StrEnum):
    """How the report came in."""

    WEB = "web"
    APP = "app"  # mobile apps, including Open311 clients
    HOTLINE = "hotline"  # a 1022 operator recorded a call


class RejectReason(StrEnum):
    """Why a report was not accepted; shown publicly."""

    SPAM = "spam"
    DUPLICATE = "duplicate"
    OUT_OF_SCOPE = "out_of_scope"
    INSUFFICIENT_INFO = "insufficient_info"
    COMPLAINT_PROCEDURE = "complaint_procedure"  # khiếu nại, tố cáo go through their own legal procedure


REJECT_REASON_LABELS: Final[dict[RejectReason, tuple[str, str]]] = {
    RejectReason.SPAM: ("Tin rác, không có nội dung phản ánh", "Spam, no actual report"),
    RejectReason.DUPLICATE: ("Trùng với phản ánh đã có", "Duplicate of an existing report"),
    RejectReason.OUT_OF_SCOPE: ("Không thuộc phạm vi tiếp nhận", "Outside the scope of the service"),
    RejectReason.INSUFFICIENT_INFO: ("Thiếu thông tin để xác minh", "Not enough information to verify"),
    RejectReason.COMPLAINT_PROCEDURE: (
        "Là khiếu nại, tố cáo: gửi theo thủ tục khiếu nại, tố cáo",
        "A complaint or denunciation: file it under the complaints procedure",
    ),
}


class Rating(StrEnum):
    """The citizen's verdict on the result."""

    SATISFIED = "satisfied"
    NOT_SATISFIED = "not_satisfied"


class PhotoKind(StrEnum):
    """What a photo shows: the problem (intake) or the fix (proof)."""

    INTAKE = "intake"
    PROOF = "proof"


class ActorKind(StrEnum):
    """Who made a timeline entry, as shown to the public (never a staff member's name)."""

    CITIZEN = "citizen"
    HOTLINE = "hotline"
    AGENCY = "agency"
    SUPERVISOR = "supervisor"
    LEADER = "leader"
    ADMIN = "admin"
    SYSTEM = "system"


ACTOR_LABELS: Final[dict[ActorKind, tuple[str, str]]] = {
    ActorKind.CITIZEN: ("Người dân", "Citizen"),
    ActorKind.HOTLINE: ("Tổng đài 1022", "1022 hotline"),
    ActorKind.AGENCY: ("Cơ quan xử lý", "Handling agency"),
    ActorKind.SUPERVISOR: ("Lãnh đạo cơ quan", "Agency head"),
    ActorKind.LEADER: ("Lãnh đạo", "Leadership"),
    ActorKind.ADMIN: ("Quản trị hệ thống", "Administrator"),
    ActorKind.SYSTEM: ("Hệ thống", "System"),
}


class Action(StrEnum):
    """What happened on a report's timeline."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ASSIGNED = "assigned"
    RETURNED = "returned"
    STARTED = "started"
    RESOLVED = "resolved"
    RATED = "rated"
    REOPENED = "reopened"
    CLOSED = "closed"
    MERGED = "merged"
    MERGED_IN = "merged_in"
    LINKED = "linked"
    EXTENSION_REQUESTED = "extension_requested"
    EXTENSION_APPROVED = "extension_approved"
    EXTENSION_DECLINED = "extension_declined"
    DEADLINE_APPROACHING = "deadline_approaching"
    OVERDUE = "overdue"


ACTION_LABELS: Final[dict[Action, tuple[str, str]]] = {
    Action.SUBMITTED: ("Gửi phản ánh", "Report submitted"),
    Action.ACCEPTED: ("Duyệt phản ánh", "Report accepted"),
    Action.REJECTED: ("Từ chối phản ánh", "Report rejected"),
    Action.ASSIGNED: ("Chuyển cơ quan xử lý", "Assigned to an agency"),
    Action.RETURNED: ("Cơ quan trả lại (không thuộc thẩm quyền)", "Returned by the agency (not its responsibility)"),
    Action.STARTED: ("Bắt đầu xử lý", "Work started"),
    Action.RESOLVED: ("Đã xử lý xong", "Resolved"),
    Action.RATED: ("Người dân đánh giá", "Citizen rated the result"),
    Action.REOPENED: ("Mở lại để xử lý tiếp", "Reopened"),
    Action.CLOSED: ("Hoàn thành", "Closed"),
    Action.MERGED: ("Gộp vào phản ánh khác", "Merged into another report"),
    Action.MERGED_IN: ("Nhận gộp phản ánh trùng", "A duplicate report was merged in"),
    Action.LINKED: ("Liên kết với phản ánh khác", "Linked to another report"),
    Action.EXTENSION_REQUESTED: ("Đề nghị gia hạn", "Extension requested"),
    Action.EXTENSION_APPROVED: ("Đồng ý gia hạn", "Extension approved"),
    Action.EXTENSION_DECLINED: ("Không đồng ý gia hạn", "Extension declined"),
    Action.DEADLINE_APPROACHING: ("Sắp đến hạn", "Deadline approaching"),
    Action.OVERDUE: ("Quá hạn", "Overdue"),
}


class AttributeType(StrEnum):
    """Open311 attribute datatypes (service definitions)."""

    STRING = "string"
    NUMBER = "number"
    DATETIME = "datetime"
    TEXT = "text"
    SINGLEVALUELIST = "singlevaluelist"
    MULTIVALUELIST = "multivaluelist"


class TimerKind(StrEnum):
    """The two deadline timers of a phase."""

    APPROACHING = "approaching"
    OVERDUE = "overdue"


class StatsGroup(StrEnum):
    """How public statistics are grouped."""

    AGENCY = "agency"
    CATEGORY = "category"
    UNIT = "unit"


def status_label(status: str, lang: str) -> str:
    """Return a status in the requested language."""
    vi, en = STATUS_LABELS[ReportStatus(status)]
    return en if lang == "en" else vi
