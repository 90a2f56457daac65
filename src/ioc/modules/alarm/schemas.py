"""Schemas of the alarm module: alarms, their history, rules, silences and routing policies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .constants import COMMENT_MAX, Operator, RuleKind, ScopeKind, Severity


class AlarmRead(BaseModel):
    """An alarm as other modules and the console see it."""

    model_config = ConfigDict(from_attributes=True)

    alarm_id: int
    rule_id: int | None
    severity: str
    title: str
    source_kind: str
    source_ref: str
    unit_code: str | None = None
    agency_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    status: str
    value: float | None = None
    first_seen_at: datetime
    last_seen_at: datetime
    count: int
    acknowledged_by: int | None = None
    acknowledged_at: datetime | None = None
    cleared_by: int | None = None
    cleared_at: datetime | None = None
    assignee_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    suppressed: bool = False
    escalation_level: int = 0
    details: dict[str, Any] = Field(default_factory=dict)


class HistoryRead(BaseModel):
    """One entry of an alarm's history."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    action: str
    actor_id: int | None
    actor_name: str
    note: str
    data: dict[str, Any]


class AlarmDetail(AlarmRead):
    """An alarm with its full history."""

    assignee_name: str | None = None
    history: list[HistoryRead] = Field(default_factory=list)


class AlarmKpis(BaseModel):
    """Open alarms by severity, for the dashboard."""

    open_total: int
    unacknowledged: int
    by_severity: dict[str, int]


class CommentCreate(BaseModel):
    """A comment on an alarm."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=COMMENT_MAX)


class AssignRequest(BaseModel):
    """Who takes charge of an alarm (None: nobody)."""

    model_config = ConfigDict(extra="forbid")

    assignee_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class ActionNote(BaseModel):
    """An optional note with an acknowledgement or a manual clear."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=COMMENT_MAX)


class RuleWrite(BaseModel):
    """A rule as staff write it; the kind-specific parameters are checked by the service with precise messages."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=3, max_length=200)
    description: str = Field(default="", max_length=2000)
    kind: RuleKind
    severity: Severity = Severity.MAJOR
    scope_kind: ScopeKind
    scope_ref: str | None = Field(default=None, max_length=80)
    agency_code: str | None = Field(default=None, max_length=40)
    enabled: bool = False
    # threshold / rate / index: operator and threshold; threshold also clear_threshold (hysteresis).
    operator: Operator | None = None
    threshold: float | None = None
    clear_threshold: float | None = None
    pending_minutes: float = Field(default=0, ge=0, le=7 * 24 * 60)
    # no_data: minutes without an observation.
    minutes: float | None = Field(default=None, gt=0, le=7 * 24 * 60)
    # index: which index (VN_AQI, VN_WQI...) and period (hour, day).
    standard: str | None = Field(default=None, max_length=40)
    period: str | None = Field(default=None, max_length=16)
    # exceedance: optional parameter filter (PM2.5, BOD5...).
    parameter: str | None = Field(default=None, max_length=40)
    # report_count: at least `count` reports within `radius_m` metres in `window_minutes`.
    count: int | None = Field(default=None, ge=1, le=10_000)
    radius_m: float | None = Field(default=None, gt=0, le=100_000)
    window_minutes: float | None = Field(default=None, gt=0, le=7 * 24 * 60)
    # An optional boolean expression over `value` (and `prev`), e.g. "value > 3 and value < 50".
    expression: str | None = Field(default=None, max_length=500)


class RuleRead(BaseModel):
    """A stored rule."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    kind: str
    severity: str
    scope_kind: str
    scope_ref: str | None
    agency_code: str | None
    unit_code: str | None
    params: dict[str, Any]
    datastream_ids: list[int]
    enabled: bool
    created_at: datetime
    updated_at: datetime


class RuleTestResult(BaseModel):
    """What a rule would have done over a past window."""

    fired: int
    cleared: int
    evaluated_points: int
    events: list[dict[str, Any]]
    message_vi: str
    message_en: str


class SilenceWrite(BaseModel):
    """A silence or maintenance window."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(default="silence", pattern=r"^(silence|maintenance)$")
    rule_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    source_ref: str | None = Field(default=None, max_length=80)
    unit_code: str | None = Field(default=None, max_length=20)
    starts_at: datetime
    ends_at: datetime
    reason: str = Field(default="", max_length=500)


class SilenceRead(BaseModel):
    """A stored silence."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    rule_id: int | None
    source_ref: str | None
    unit_code: str | None
    starts_at: datetime
    ends_at: datetime
    reason: str


class Target(BaseModel):
    """A notification target: a channel and a recipient."""

    model_config = ConfigDict(extra="forbid")

    channel: str = Field(pattern=r"^(email|sms|webhook)$")
    recipient: str = Field(min_length=3, max_length=300)


class PolicyWrite(BaseModel):
    """A routing policy."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=3, max_length=200)
    min_severity: Severity = Severity.WARNING
    unit_code: str | None = Field(default=None, max_length=20)
    agency_code: str | None = Field(default=None, max_length=40)
    targets: list[Target] = Field(min_length=1, max_length=50)
    escalation_targets: list[Target] = Field(default_factory=list, max_length=50)
    repeat_minutes: int = Field(default=240, ge=1, le=7 * 24 * 60)
    escalate_after_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)
    enabled: bool = True


class PolicyRead(BaseModel):
    """A stored routing policy."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    min_severity: str
    unit_code: str | None
    agency_code: str | None
    targets: list[dict[str, str]]
    escalation_targets: list[dict[str, str]]
    repeat_minutes: int
    escalate_after_minutes: int | None
    enabled: bool
