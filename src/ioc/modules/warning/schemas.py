"""Schemas of public warnings: authoring input, staff and public reads, subscriptions, delivery reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .constants import (
    MAX_AREAS,
    MAX_HEADLINE,
    MAX_TEXT,
    SUBSCRIPTION_UNITS_MAX,
    AreaKind,
    CapStatus,
    Category,
    Certainty,
    MsgType,
    ResponseType,
    Severity,
    SubscriberChannel,
    Urgency,
    WarningState,
)


def _no_markup(value: str) -> str:
    # CAP text is plain text; markup would be shown literally by other CAP clients.
    if "<" in value or ">" in value:
        raise ValueError("không được chứa thẻ HTML / must not contain markup (< or >)")
    return value.strip()


class DrawnArea(BaseModel):
    """A target area drawn on the map: a GeoJSON Polygon (WGS 84) and its name."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["Khu vực ven sông Vàm Cỏ Đông"])
    name_en: str = Field(default="", max_length=200)
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon, [lon, lat] positions")

    _check_name = field_validator("name", "name_en")(_no_markup)


class WarningInput(BaseModel):
    """What an author writes: CAP fields in Vietnamese and English, validity and target areas."""

    model_config = ConfigDict(extra="forbid")

    status: CapStatus = CapStatus.ACTUAL
    category: Category
    response_type: ResponseType | None = None
    urgency: Urgency
    severity: Severity
    certainty: Certainty
    event_vi: str = Field(min_length=1, max_length=200, examples=["Ô nhiễm không khí"])
    event_en: str = Field(min_length=1, max_length=200, examples=["Air pollution"])
    headline_vi: str = Field(min_length=1, max_length=MAX_HEADLINE)
    headline_en: str = Field(min_length=1, max_length=MAX_HEADLINE)
    description_vi: str = Field(min_length=1, max_length=MAX_TEXT)
    description_en: str = Field(min_length=1, max_length=MAX_TEXT)
    instruction_vi: str = Field(default="", max_length=MAX_TEXT)
    instruction_en: str = Field(default="", max_length=MAX_TEXT)
    effective_at: datetime | None = Field(default=None, description="mặc định: lúc phát hành / default: on publication")
    expires_at: datetime
    unit_codes: list[str] = Field(default_factory=list, max_length=MAX_AREAS, description="mã xã/phường / unit codes")
    polygons: list[DrawnArea] = Field(default_factory=list, max_length=MAX_AREAS)

    _check_text = field_validator(
        "event_vi",
        "event_en",
        "headline_vi",
        "headline_en",
        "description_vi",
        "description_en",
        "instruction_vi",
        "instruction_en",
    )(_no_markup)

    @field_validator("effective_at", "expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("thời điểm phải có múi giờ, ví dụ +07:00 / a time needs an offset, e.g. +07:00")
        return value

    @field_validator("unit_codes")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        codes = list(dict.fromkeys(code.strip() for code in value if code.strip()))
        if any(len(code) > 20 for code in codes):
            raise ValueError("mã đơn vị quá dài / unit code too long")
        return codes

    @model_validator(mode="after")
    def _check(self) -> WarningInput:
        if not self.unit_codes and not self.polygons:
            raise ValueError(
                "Cảnh báo phải có ít nhất một vùng (đơn vị hành chính hoặc vùng vẽ trên bản đồ) / "
                "a warning needs at least one area (a unit or a drawn polygon)"
            )
        if self.effective_at is not None and self.expires_at <= self.effective_at:
            raise ValueError("thời điểm hết hiệu lực phải sau thời điểm hiệu lực / expires must be after effective")
        return self


class AreaRead(BaseModel):
    """A target area as shown to people (no geometry)."""

    kind: AreaKind
    code: str | None = None
    name: str
    name_en: str = ""


class WarningPublic(BaseModel):
    """A published warning as anyone may read it."""

    id: int
    identifier: str | None
    state: WarningState
    status: CapStatus
    msg_type: MsgType
    category: Category
    response_type: ResponseType | None
    urgency: Urgency
    severity: Severity
    certainty: Certainty
    event_vi: str
    event_en: str
    headline_vi: str
    headline_en: str
    description_vi: str
    description_en: str
    instruction_vi: str
    instruction_en: str
    effective_at: datetime | None
    expires_at: datetime
    sent_at: datetime | None
    areas: list[AreaRead]
    references_identifier: str | None = None
    cap_url: str | None = None


class WarningRead(WarningPublic):
    """A warning as staff see it, with its workflow fields."""

    references_id: int | None
    alarm_id: int | None
    author: str
    author_name: str
    approver: str | None
    review_note: str
    submitted_at: datetime | None
    created_at: datetime
    updated_at: datetime
    unit_codes: list[str]


class ReviewInput(BaseModel):
    """An approver's decision note (required to return a warning)."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=2000)


class AlarmProposalInput(BaseModel):
    """Which alarm a warning is proposed from."""

    alarm_id: int = Field(ge=1)


class SubscribeInput(BaseModel):
    """A citizen's subscription: one channel, one address, the units to be warned about."""

    model_config = ConfigDict(extra="forbid")

    channel: SubscriberChannel
    address: str = Field(min_length=3, max_length=500, description="e-mail, số điện thoại hoặc URL webhook")
    unit_codes: list[str] = Field(min_length=1, max_length=SUBSCRIPTION_UNITS_MAX)
    lang: str = Field(default="vi", pattern="^(vi|en)$")


class SubscribeResult(BaseModel):
    """What the subscriber is told: no address is echoed back."""

    status: str = Field(description="pending_confirmation")
    message: str


class ChannelReport(BaseModel):
    """Delivery figures of one channel for one warning."""

    channel: str
    total: int = 0
    delivered: int = 0
    pending: int = 0
    failed: int = 0
    retried: int = 0


class DeliveryReport(BaseModel):
    """How a warning's distribution went, per channel (addresses are never shown)."""

    warning_id: int
    identifier: str | None
    channels: list[ChannelReport]
    total: int


class WarningKpis(BaseModel):
    """Figures for the operations picture."""

    current: int
    pending_approval: int
    extreme_or_severe: int
    subscribers: int
