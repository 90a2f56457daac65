"""Tables of the alarm module: rules, their evaluation state, alarms, history, silences and routing policies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ioc.core.db import Base, JsonType, UTCDateTime
from ioc.core.models import BigIntId
from ioc.core.time import utc_now


class AlarmRule(Base):
    """A rule written by agency staff: what to watch, where, and when an alarm is raised and cleared."""

    __tablename__ = "alarm_rule"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(24))
    severity: Mapped[str] = mapped_column(String(16))
    scope_kind: Mapped[str] = mapped_column(String(16))
    scope_ref: Mapped[str | None] = mapped_column(String(80), nullable=True)
    # The kind's parameters (operator, threshold, clear threshold, pending seconds, window...), validated on save.
    params: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    # Datastream ids the rule watches, resolved from its scope on save: the in-memory index is built from it.
    datastream_ids: Mapped[list[int]] = mapped_column(JsonType, default=list)
    unit_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # The agency that owns the rule: routing policies may select alarms by it.
    agency_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class RuleState(Base):
    """Evaluation state of one rule for one source: pending since, last value, whether it is firing."""

    __tablename__ = "alarm_rule_state"
    __audited__ = False

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alarm_rule.id", ondelete="CASCADE"))
    source_ref: Mapped[str] = mapped_column(String(80))
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    firing: Mapped[bool] = mapped_column(Boolean, default=False)
    last_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (UniqueConstraint("rule_id", "source_ref"),)


class Alarm(Base):
    """One alarm: at most one open per (rule, source); repeats raise its count and last-seen time."""

    __tablename__ = "alarm_alarm"
    __audited__ = True

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    rule_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    source_kind: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str] = mapped_column(String(80))
    # "rule:source_kind:source_ref" while open, NULL once cleared: the unique index keeps one open alarm.
    open_key: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
    severity: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="active")
    unit_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    agency_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    count: Mapped[int] = mapped_column(Integer, default=1)
    acknowledged_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cleared_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    assignee_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Raise/clear cycles of this (rule, source) inside the flapping window, carried to the next alarm.
    flaps: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_alarm_alarm_status_severity", "status", "severity"),
        Index("ix_alarm_alarm_rule_source", "rule_id", "source_kind", "source_ref"),
    )


class AlarmHistory(Base):
    """One entry of an alarm's history: who did what and when."""

    __tablename__ = "alarm_history"
    __audited__ = False

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarm_alarm.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    action: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)


class Silence(Base):
    """A silence or maintenance window: matching alarms are still recorded but not notified."""

    __tablename__ = "alarm_silence"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), default="silence")  # silence | maintenance
    rule_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source_ref: Mapped[str | None] = mapped_column(String(80), nullable=True)
    unit_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class RoutingPolicy(Base):
    """Who is notified of which alarms, how often it is repeated, and whom to escalate to."""

    __tablename__ = "alarm_routing_policy"
    __audited__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    min_severity: Mapped[str] = mapped_column(String(16), default="warning")
    unit_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    agency_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # [{"channel": "email", "recipient": "..."}]: the first level; escalation_targets is the next one.
    targets: Mapped[list[dict[str, str]]] = mapped_column(JsonType, default=list)
    escalation_targets: Mapped[list[dict[str, str]]] = mapped_column(JsonType, default=list)
    repeat_minutes: Mapped[int] = mapped_column(Integer, default=240)
    escalate_after_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class ReportPoint(Base):
    """Where and when a citizen report was submitted: what "N reports within R metres in T" rules count."""

    __tablename__ = "alarm_report_point"
    __audited__ = False

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(Integer, unique=True)
    category_code: Mapped[str] = mapped_column(String(40))
    unit_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
