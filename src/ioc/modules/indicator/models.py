"""Tables of the indicator module: metadata (elements, combos, data sets, rules, indicators), values and reports.

Data values are written in bulk (imports of 100,000 values) and carry their own history table
(`indicator_value_history`: who, when, old, new), so they opt out of the row-by-row audit log.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ioc.core.db import Base, JsonType, UTCDateTime
from ioc.core.time import utc_now


class ReportingUnit(Base):
    """A unit data is reported for: a copy of an org_unit version, or a pre-2025 unit kept for history."""

    __tablename__ = "indicator_unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(30))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("indicator_unit.id"), nullable=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)

    __table_args__ = (UniqueConstraint("code", "valid_from"),)


class UnitAncestor(Base):
    """Closure of the unit tree: every (unit, ancestor-or-self) pair, so totals up the tree are one join."""

    __tablename__ = "indicator_unit_ancestor"
    __audited__ = False

    unit_id: Mapped[int] = mapped_column(ForeignKey("indicator_unit.id", ondelete="CASCADE"), primary_key=True)
    ancestor_id: Mapped[int] = mapped_column(
        ForeignKey("indicator_unit.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    depth: Mapped[int] = mapped_column(Integer, default=0)


class UnitMapping(Base):
    """One row of the old→new unit mapping of the 2025 reform, with the share of the old unit it carries."""

    __tablename__ = "indicator_unit_mapping"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    old_unit_id: Mapped[int] = mapped_column(ForeignKey("indicator_unit.id", ondelete="CASCADE"), index=True)
    new_unit_id: Mapped[int] = mapped_column(ForeignKey("indicator_unit.id", ondelete="CASCADE"), index=True)
    merge_type: Mapped[str] = mapped_column(String(10))  # full | partial
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (UniqueConstraint("old_unit_id", "new_unit_id"),)


class Period(Base):
    """A period used by stored values, with its first and last day so that SQL can roll periods up."""

    __tablename__ = "indicator_period"
    __audited__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    iso: Mapped[str] = mapped_column(String(20), unique=True)
    period_type: Mapped[str] = mapped_column(String(20))
    start_date: Mapped[date] = mapped_column(Date, index=True)
    end_date: Mapped[date] = mapped_column(Date, index=True)


class CategoryCombo(Base):
    """A disaggregation (e.g. sex × age group); its option combos are the cells."""

    __tablename__ = "indicator_category_combo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    # [{"code": "sex", "name": "Giới tính", "name_en": "Sex", "options": [{"code": "F", ...}]}]
    categories: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)


class CategoryOptionCombo(Base):
    """One cell of a disaggregation, e.g. female × 0–14, with a stable code."""

    __tablename__ = "indicator_category_option_combo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    combo_id: Mapped[int] = mapped_column(ForeignKey("indicator_category_combo.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("combo_id", "code"),)


class DataElement(Base):
    """What is counted or measured: value type, aggregation, disaggregation and whether zeros are stored."""

    __tablename__ = "indicator_data_element"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    pack: Mapped[str] = mapped_column(String(40), index=True, default="")
    value_type: Mapped[str] = mapped_column(String(30))
    aggregation_type: Mapped[str] = mapped_column(String(20))
    zero_is_significant: Mapped[bool] = mapped_column(Boolean, default=False)
    combo_id: Mapped[int] = mapped_column(ForeignKey("indicator_category_combo.id"))
    unit_label: Mapped[str] = mapped_column(String(40), default="")


class DataSet(Base):
    """A form: its elements, frequency, timeliness threshold and the open/lock rules."""

    __tablename__ = "indicator_data_set"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    pack: Mapped[str] = mapped_column(String(40), index=True, default="")
    period_type: Mapped[str] = mapped_column(String(20))
    # Days after the period's end for a report to count as on time (does not lock; statistics.md §2.6).
    timely_days: Mapped[int] = mapped_column(Integer, default=5)
    # Days after the period's end when entry closes; 0 = never (DHIS2 "expiry days").
    expiry_days: Mapped[int] = mapped_column(Integer, default=0)
    open_future_periods: Mapped[int] = mapped_column(Integer, default=0)
    # The first period entry is allowed for (the set's open date).
    open_from: Mapped[date | None] = mapped_column(Date, nullable=True)


class DataSetElement(Base):
    """A data element on a data set's form, in order."""

    __tablename__ = "indicator_data_set_element"

    data_set_id: Mapped[int] = mapped_column(ForeignKey("indicator_data_set.id", ondelete="CASCADE"), primary_key=True)
    data_element_id: Mapped[int] = mapped_column(
        ForeignKey("indicator_data_element.id", ondelete="CASCADE"), primary_key=True
    )
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    section: Mapped[str] = mapped_column(String(200), default="")


class DataSetSource(Base):
    """Who reports a data set for which unit: the expected reports behind completeness."""

    __tablename__ = "indicator_data_set_source"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    data_set_id: Mapped[int] = mapped_column(ForeignKey("indicator_data_set.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("indicator_unit.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(Integer, index=True)  # org_unit agency id
    agency_code: Mapped[str] = mapped_column(String(40))

    __table_args__ = (UniqueConstraint("data_set_id", "unit_id", "agency_id"),)


class DataValue(Base):
    """One figure: element × period × unit × disaggregation × reporting agency."""

    __tablename__ = "indicator_data_value"
    __audited__ = False  # history kept in indicator_value_history, written in the same transaction

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    data_element_id: Mapped[int] = mapped_column(ForeignKey("indicator_data_element.id"))
    period_id: Mapped[int] = mapped_column(ForeignKey("indicator_period.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("indicator_unit.id"))
    coc_id: Mapped[int] = mapped_column(ForeignKey("indicator_category_option_combo.id"))
    agency_id: Mapped[int] = mapped_column(Integer)
    value_num: Mapped[float | None] = mapped_column(Float, nullable=True)
    value_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    comment: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    follow_up: Mapped[bool] = mapped_column(Boolean, default=False)
    stored_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    __table_args__ = (
        UniqueConstraint("data_element_id", "period_id", "unit_id", "coc_id", "agency_id"),
        Index("ix_indicator_data_value_period_de", "period_id", "data_element_id"),
        Index("ix_indicator_data_value_unit", "unit_id", "period_id"),
    )


class ValueHistory(Base):
    """Every change of a value: who, when, old and new, and through which channel."""

    __tablename__ = "indicator_value_history"
    __audited__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    value_id: Mapped[int] = mapped_column(ForeignKey("indicator_data_value.id", ondelete="CASCADE"), index=True)
    old_value: Mapped[str | None] = mapped_column(Text, nullable=True)
    new_value: Mapped[str | None] = mapped_column(Text, nullable=True)
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    source: Mapped[str] = mapped_column(String(10))
    after_approval: Mapped[bool] = mapped_column(Boolean, default=False)


class Rollup(Base):
    """Sums kept current on every write: element × disaggregation × stored period × unit-or-ancestor.

    Analytics reads these instead of scanning raw values, so a pivot costs O(cells), not O(values),
    without a nightly batch job.
    """

    __tablename__ = "indicator_rollup"
    __audited__ = False

    data_element_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    coc_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the ancestor (or the unit itself)
    total: Mapped[float] = mapped_column(Float, default=0.0)
    count: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_indicator_rollup_unit_period", "unit_id", "period_id"),)


class Report(Base):
    """One expected report (data set × period × unit × agency): completion, approval and lock state."""

    __tablename__ = "indicator_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    data_set_id: Mapped[int] = mapped_column(ForeignKey("indicator_data_set.id", ondelete="CASCADE"))
    period_id: Mapped[int] = mapped_column(ForeignKey("indicator_period.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("indicator_unit.id"))
    agency_id: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    submitted_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    accepted_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    unlock_reason: Mapped[str | None] = mapped_column(String(1000), nullable=True)

    __table_args__ = (UniqueConstraint("data_set_id", "period_id", "unit_id", "agency_id"),)


class ValidationRule(Base):
    """`left ⟨operator⟩ right`, with a missing-value strategy per side and an importance."""

    __tablename__ = "indicator_validation_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    data_set_id: Mapped[int] = mapped_column(ForeignKey("indicator_data_set.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    instruction: Mapped[str] = mapped_column(String(1000), default="")
    instruction_en: Mapped[str] = mapped_column(String(1000), default="")
    left: Mapped[str] = mapped_column(String(1000))
    operator: Mapped[str] = mapped_column(String(40))
    right: Mapped[str] = mapped_column(String(1000))
    left_missing: Mapped[str] = mapped_column(String(40), default="skip_if_any_value_missing")
    right_missing: Mapped[str] = mapped_column(String(40), default="skip_if_any_value_missing")
    importance: Mapped[str] = mapped_column(String(10), default="medium")


class MinMax(Base):
    """Stored bounds of one element × unit × disaggregation (DHIS2 min–max)."""

    __tablename__ = "indicator_min_max"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    data_element_id: Mapped[int] = mapped_column(ForeignKey("indicator_data_element.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("indicator_unit.id", ondelete="CASCADE"))
    coc_id: Mapped[int] = mapped_column(ForeignKey("indicator_category_option_combo.id", ondelete="CASCADE"))
    min_value: Mapped[float] = mapped_column(Float)
    max_value: Mapped[float] = mapped_column(Float)

    __table_args__ = (UniqueConstraint("data_element_id", "unit_id", "coc_id"),)


class Indicator(Base):
    """A computed figure: numerator ÷ denominator × factor; never entered."""

    __tablename__ = "indicator_indicator"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    pack: Mapped[str] = mapped_column(String(40), index=True, default="")
    numerator: Mapped[str] = mapped_column(String(2000))
    denominator: Mapped[str] = mapped_column(String(2000), default="1")
    factor: Mapped[float] = mapped_column(Float, default=1.0)
    decimals: Mapped[int] = mapped_column(Integer, default=1)
    unit_label: Mapped[str] = mapped_column(String(40), default="")
    higher_is_better: Mapped[bool] = mapped_column(Boolean, default=True)


class ImportRecord(Base):
    """A background import: who started it, how far it got, and its summary (conflicts kept for the row report)."""

    __tablename__ = "indicator_import"
    # The record itself says who imported what and when, and the values keep their own history; auditing it
    # row by row would copy up to 100,000 pending rows into the audit log.
    __audited__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    source: Mapped[str] = mapped_column(String(20))
    strategy: Mapped[str] = mapped_column(String(20))
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    # The parsed rows waiting to be written; emptied when the import finishes.
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)
    error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by_role: Mapped[str] = mapped_column(String(30))
    agency_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class NoticeSent(Base):
    """A deadline reminder or late notice already sent to an agency for a data set and period (sent once)."""

    __tablename__ = "indicator_notice"
    __audited__ = False  # written by the daily job, not by a person

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    data_set_id: Mapped[int] = mapped_column(ForeignKey("indicator_data_set.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(20))
    agency_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    __table_args__ = (UniqueConstraint("data_set_id", "period", "agency_id", "kind"),)
