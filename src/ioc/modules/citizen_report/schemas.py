"""Schemas of the citizen_report module: categories, reports (staff and public views), actions, statistics."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .constants import (
    DEFAULT_ACCEPT_HOURS,
    DEFAULT_REOPEN_WINDOW_DAYS,
    DEFAULT_RESOLVE_DAYS,
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    MAX_EXTENSION_DAYS,
    AttributeType,
    Rating,
    RejectReason,
    ReportStatus,
    Source,
)

EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 .\-]{6,18}[0-9]$")
CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"


# Categories


class AttributeValue(BaseModel):
    """One option of a list attribute (Open311 `values`)."""

    key: str = Field(min_length=1, max_length=80)
    name: str = Field(min_length=1, max_length=200)


class AttributeDefinition(BaseModel):
    """A question asked for a category (an Open311 service definition attribute)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    datatype: AttributeType
    required: bool = False
    variable: bool = True
    description: str = Field(default="", max_length=500, description="câu hỏi / the question")
    datatype_description: str | None = Field(default=None, max_length=200)
    order: int | None = Field(default=None, ge=1)
    values: list[AttributeValue] = Field(default_factory=list)

    @model_validator(mode="after")
    def _lists_have_values(self) -> AttributeDefinition:
        is_list = self.datatype in (AttributeType.SINGLEVALUELIST, AttributeType.MULTIVALUELIST)
        if is_list and not self.values:
            raise ValueError(f"attribute {self.code}: a list attribute needs values")
        if len({v.key for v in self.values}) != len(self.values):
            raise ValueError(f"attribute {self.code}: value keys must be unique")
        return self


class CategoryBase(BaseModel):
    """Fields shared by category input and output."""

    name: str = Field(min_length=1, max_length=200, examples=["Ổ gà, hư hỏng mặt đường"])
    name_en: str = Field(default="", max_length=200, examples=["Potholes and damaged roads"])
    description: str = Field(default="", max_length=2000)
    group: str = Field(default="", max_length=100, examples=["Hạ tầng giao thông"])
    keywords: list[str] = Field(default_factory=list, max_length=30)
    default_agency_code: str | None = Field(
        default=None,
        max_length=40,
        description="cơ quan xử lý mặc định; trống: UBND xã/phường nơi xảy ra / default agency; empty: the commune",
    )
    agency_overrides: dict[str, str] = Field(
        default_factory=dict, description="mã đơn vị → mã cơ quan / unit code → agency code"
    )
    attributes: list[AttributeDefinition] = Field(default_factory=list, max_length=30)
    accept_hours: float = Field(default=DEFAULT_ACCEPT_HOURS, gt=0, le=24 * 20, description="giờ làm việc / hours")
    resolve_days: int = Field(default=DEFAULT_RESOLVE_DAYS, ge=1, le=90, description="ngày làm việc / working days")
    reopen_window_days: int = Field(default=DEFAULT_REOPEN_WINDOW_DAYS, ge=1, le=90, description="ngày / days")
    photo_required: bool = False
    active: bool = True
    sort_order: int = Field(default=100, ge=0, le=10_000)

    @field_validator("attributes")
    @classmethod
    def _unique_attribute_codes(cls, value: list[AttributeDefinition]) -> list[AttributeDefinition]:
        codes = [a.code for a in value]
        if len(set(codes)) != len(codes):
            raise ValueError("attribute codes must be unique")
        orders = [a.order for a in value if a.order is not None]
        if len(set(orders)) != len(orders):
            raise ValueError("attribute orders must be unique")
        return value

    @field_validator("keywords")
    @classmethod
    def _clean_keywords(cls, value: list[str]) -> list[str]:
        return [k.strip()[:60] for k in value if k.strip()]


class CategoryCreate(CategoryBase):
    """A new category."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=CODE_PATTERN, examples=["o-ga"])


class CategoryUpdate(CategoryBase):
    """Replacement fields of a category (the code never changes)."""

    model_config = ConfigDict(extra="forbid")


class CategoryRead(CategoryBase):
    """A category as shown to everyone (the form lists the active ones)."""

    id: int
    code: str
    created_at: datetime
    updated_at: datetime


# Reports: input


class ReportCreate(BaseModel):
    """A report as sent by the public form, an app or a hotline operator."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category_code: str = Field(min_length=1, max_length=40)
    description: str = Field(min_length=DESCRIPTION_MIN, max_length=DESCRIPTION_MAX)
    lat: float = Field(ge=-90, le=90, description="vĩ độ WGS 84 / latitude")
    lon: float = Field(ge=-180, le=180, description="kinh độ WGS 84 / longitude")
    address: str = Field(default="", max_length=300)
    attributes: dict[str, Any] = Field(default_factory=dict)
    reporter_name: str | None = Field(default=None, max_length=120)
    reporter_phone: str | None = Field(default=None, max_length=30)
    reporter_email: str | None = Field(default=None, max_length=200)
    anonymous: bool = Field(default=False, description="cơ quan xử lý không thấy thông tin người gửi")
    source: Source = Source.WEB

    @field_validator("reporter_name", "reporter_phone", "reporter_email", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("reporter_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL_PATTERN.match(value):
            raise ValueError("not an e-mail address / địa chỉ thư điện tử không hợp lệ")
        return value.lower() if value else value

    @field_validator("reporter_phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None and not PHONE_PATTERN.match(value):
            raise ValueError("not a phone number / số điện thoại không hợp lệ")
        return value

    @field_validator("description")
    @classmethod
    def _no_markup(cls, value: str) -> str:
        # Open311: free text, line breaks allowed, no HTML. Templates escape anyway; this keeps the data clean.
        if re.search(r"<\s*/?\s*[a-zA-Z][^>]*>", value):
            raise ValueError("HTML is not allowed / không dùng thẻ HTML")
        return value


class RejectInput(BaseModel):
    """Why a report is rejected."""

    model_config = ConfigDict(extra="forbid")

    reason: RejectReason
    note: str = Field(default="", max_length=2000)


class AssignInput(BaseModel):
    """Which agency handles the report (default: the one the routing rule suggested)."""

    model_config = ConfigDict(extra="forbid")

    agency_code: str | None = Field(default=None, max_length=40)
    note: str = Field(default="", max_length=2000)


class NoteInput(BaseModel):
    """An optional note with an action."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=2000)


class ReturnInput(BaseModel):
    """Why the agency is not responsible (required)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=5, max_length=2000)
    suggested_agency_code: str | None = Field(default=None, max_length=40)


class ResolveInput(BaseModel):
    """The result of the agency's work, published to the citizen."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    result: str = Field(min_length=5, max_length=DESCRIPTION_MAX)


class ExtensionInput(BaseModel):
    """More working days asked for, and why."""

    model_config = ConfigDict(extra="forbid")

    days: int = Field(ge=1, le=MAX_EXTENSION_DAYS)
    reason: str = Field(min_length=5, max_length=2000)


class ExtensionDecision(BaseModel):
    """A supervisor's decision; `days` may grant fewer days than asked."""

    model_config = ConfigDict(extra="forbid")

    days: int | None = Field(default=None, ge=1, le=MAX_EXTENSION_DAYS)
    note: str = Field(default="", max_length=2000)


class RatingInput(BaseModel):
    """The citizen's verdict, with the token given at submission."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=8, max_length=100)
    rating: Rating
    comment: str = Field(default="", max_length=2000)


class MergeInput(BaseModel):
    """The report a duplicate is merged into."""

    model_config = ConfigDict(extra="forbid")

    into_report_id: int
    note: str = Field(default="", max_length=2000)


class LinkInput(BaseModel):
    """The report to link with."""

    model_config = ConfigDict(extra="forbid")

    other_report_id: int


class ReportFilters(BaseModel):
    """Filters of the staff list, its exports and the public list."""

    status: list[ReportStatus] = Field(default_factory=list)
    category: str | None = None
    unit: str | None = None
    agency: str | None = None
    agency_id: int | None = Field(default=None, description="cơ quan của người xem (mine=true) / the caller's agency")
    overdue: bool | None = None
    source: Source | None = None
    q: str | None = Field(default=None, max_length=40, description="mã theo dõi / tracking code")
    created_from: date | None = None
    created_to: date | None = None


# Reports: output


class LocationSuggestion(BaseModel):
    """A location read from a photo's EXIF GPS, offered to the reporter before it is discarded."""

    lat: float
    lon: float


class PhotoRead(BaseModel):
    """A stored photo; URLs answer only when the caller may see the report's photos."""

    id: int
    kind: str
    width: int
    height: int
    url: str
    thumb_url: str
    created_at: datetime


class TimelineRead(BaseModel):
    """One step of the history; `actor_name` is filled for staff only."""

    at: datetime
    action: str
    action_label: str
    actor_kind: str
    actor_label: str
    actor_name: str | None = None
    agency_code: str | None = None
    from_status: str | None = None
    to_status: str | None = None
    note: str = ""
    public: bool = True


class DuplicateCandidate(BaseModel):
    """An open report of the same category nearby."""

    id: int | None = None
    tracking_code: str
    status: str
    distance_m: float
    created_at: datetime


class ReportSummary(BaseModel):
    """A row of the staff inbox."""

    id: int
    tracking_code: str
    category_code: str
    category_name: str
    status: str
    status_label: str
    source: str
    unit_code: str
    agency_code: str | None
    suggested_agency_code: str | None
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None
    phase: str | None
    approaching: bool
    overdue: bool
    extension_pending: bool
    description_excerpt: str
    address: str = ""


class ReporterContact(BaseModel):
    """The reporter's personal data; only for operators, administrators and (unless anonymous) the agency."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    anonymous: bool = False


class ReportRead(BaseModel):
    """A report as staff see it."""

    id: int
    tracking_code: str
    category_code: str
    category_name: str
    description: str
    attributes: dict[str, Any]
    lat: float
    lon: float
    unit_code: str
    address: str
    source: str
    status: str
    status_label: str
    suggested_agency_code: str | None
    agency_code: str | None
    agency_id: int | None = Field(default=None, description="mã số cơ quan trong org_unit / org_unit agency id")
    phase: str | None
    due_at: datetime | None
    accept_due_at: datetime | None
    resolve_due_at: datetime | None
    approaching: bool
    overdue: bool
    accepted_at: datetime | None
    assigned_at: datetime | None
    started_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    resolved_on_time: bool | None
    result_text: str | None
    reject_reason: str | None
    extension_pending: bool
    extension_days: int | None
    extension_reason: str | None
    extension_count: int
    reopen_count: int
    rating: str | None
    rating_comment: str | None
    rated_at: datetime | None
    merged_into_id: int | None
    linked_report_ids: list[int]
    follower_count: int
    created_at: datetime
    updated_at: datetime
    reporter: ReporterContact | None = Field(
        default=None, description="chỉ hiện với người có quyền / only for those allowed to see it"
    )
    photos: list[PhotoRead]
    timeline: list[TimelineRead]


class ReportPublic(BaseModel):
    """A report as anyone with its tracking code sees it: no personal data; details only once accepted."""

    tracking_code: str
    category_code: str
    category_name: str
    status: str
    status_label: str
    published: bool = Field(description="đã được duyệt công khai / accepted and public")
    created_at: datetime
    updated_at: datetime
    unit_code: str
    unit_name: str | None = None
    agency_code: str | None = None
    agency_name: str | None = None
    description: str | None = None
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    result_text: str | None = None
    resolved_at: datetime | None = None
    resolve_due_at: datetime | None = None
    reject_reason: str | None = None
    reject_reason_label: str | None = None
    rating: str | None = None
    can_rate: bool = False
    merged_into: str | None = None
    photos: list[PhotoRead] = Field(default_factory=list)
    timeline: list[TimelineRead] = Field(default_factory=list)


class ReportPublicSummary(BaseModel):
    """A row of the public list."""

    tracking_code: str
    category_code: str
    category_name: str
    status: str
    status_label: str
    unit_code: str
    created_at: datetime
    resolved_at: datetime | None
    lat: float
    lon: float


class SubmitResult(BaseModel):
    """What the reporter gets back: the tracking code and the secret to rate the result later."""

    id: int
    tracking_code: str
    rating_token: str = Field(description="giữ kín để đánh giá kết quả / keep it to rate the result")
    status: str
    unit_code: str
    suggested_agency_code: str | None
    accept_due_at: datetime | None
    tracking_url: str
    possible_duplicates: list[DuplicateCandidate]
    photo_location: LocationSuggestion | None = None


# Statistics


class StatsRow(BaseModel):
    """Figures of one agency, category or commune."""

    key: str
    name: str
    received: int
    resolved: int
    open: int
    overdue: int
    on_time_rate: float | None = Field(description="0–1; None khi chưa có / None when nothing resolved")
    median_hours_to_resolve: float | None
    rated: int
    satisfaction_rate: float | None


class StatsRead(BaseModel):
    """Public statistics over a period of submission dates (province time)."""

    date_from: date
    date_to: date
    total: StatsRow
    by_agency: list[StatsRow]
    by_category: list[StatsRow]
    by_unit: list[StatsRow]
    note: str


class CitizenReportKpis(BaseModel):
    """Key figures for the dashboard."""

    day: date
    received: int = Field(description="phản ánh nhận trong ngày / received that day")
    overdue: int = Field(description="đang quá hạn / currently overdue")
    on_time_rate: float | None = Field(description="tỷ lệ đúng hạn 30 ngày / on-time rate over 30 days")
    resolved_30d: int
