"""Read and input schemas of the indicator module (dataValueSets in DHIS2's JSON shape, using our codes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .constants import ImportState, ImportStrategy


class DataValueIn(BaseModel):
    """One value of a dataValueSets payload; period and unit may come from the envelope."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    data_element: str = Field(alias="dataElement", max_length=60)
    period: str | None = Field(default=None, max_length=20)
    org_unit: str | None = Field(default=None, alias="orgUnit", max_length=20)
    category_option_combo: str | None = Field(default=None, alias="categoryOptionCombo", max_length=120)
    attribute_option_combo: str | None = Field(
        default=None, alias="attributeOptionCombo", max_length=40, description="mã cơ quan báo cáo / agency code"
    )
    value: Any = None
    comment: str | None = Field(default=None, max_length=2000)
    follow_up: bool = Field(default=False, alias="followUp")


class DataValueSetIn(BaseModel):
    """A dataValueSets payload: envelope defaults and the values."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    data_set: str | None = Field(default=None, alias="dataSet", max_length=60)
    period: str | None = Field(default=None, max_length=20)
    org_unit: str | None = Field(default=None, alias="orgUnit", max_length=20)
    attribute_option_combo: str | None = Field(default=None, alias="attributeOptionCombo", max_length=40)
    data_values: list[DataValueIn] = Field(default_factory=list, alias="dataValues", max_length=500_000)


class ValueRow(BaseModel):
    """One value to store, whatever the channel, with where it came from (row, cell) for error reports."""

    data_element: str
    period: str
    org_unit: str
    coc: str | None = None
    agency: str | None = None
    value: Any = None
    comment: str | None = None
    follow_up: bool = False
    row: int | None = None
    cell: str | None = None
    columns: dict[str, str] = Field(default_factory=dict, description="spreadsheet column of each field")


class ImportConflict(BaseModel):
    """Why one value was refused."""

    row: int | None = None
    cell: str | None = None
    field: str
    value: str | None = None
    error: str
    message: str
    message_en: str


class RuleViolationRead(BaseModel):
    """One failed validation rule for a (data set, period, unit, agency)."""

    rule: str
    name: str
    importance: str
    left: float | None
    operator: str
    right: float | None
    data_set: str
    period: str
    org_unit: str
    agency: str | None = None
    instruction: str = ""


class ImportSummary(BaseModel):
    """What an import did (DHIS2-style counts) and which values it refused."""

    status: str = Field(description="SUCCESS | WARNING | ERROR")
    strategy: ImportStrategy
    dry_run: bool = False
    total: int
    imported: int = 0
    updated: int = 0
    deleted: int = 0
    ignored: int = 0
    refused: int = 0
    conflicts: list[ImportConflict] = Field(default_factory=list)
    violations: list[RuleViolationRead] = Field(default_factory=list)


class DataValueRead(BaseModel):
    """One stored value in dataValueSets shape."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    data_element: str = Field(serialization_alias="dataElement")
    period: str
    org_unit: str = Field(serialization_alias="orgUnit")
    category_option_combo: str = Field(serialization_alias="categoryOptionCombo")
    attribute_option_combo: str = Field(serialization_alias="attributeOptionCombo")
    value: str
    comment: str | None = None
    follow_up: bool = Field(default=False, serialization_alias="followUp")
    stored_by: str = Field(default="", serialization_alias="storedBy")
    last_updated: datetime = Field(serialization_alias="lastUpdated")


class DataValueSetRead(BaseModel):
    """An export in dataValueSets shape."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    data_set: str | None = Field(default=None, serialization_alias="dataSet")
    data_values: list[DataValueRead] = Field(default_factory=list, serialization_alias="dataValues")


class HistoryRead(BaseModel):
    """One change of a value."""

    old_value: str | None
    new_value: str | None
    changed_by: str
    changed_at: datetime
    source: str
    after_approval: bool


class ReportRead(BaseModel):
    """The completion and approval state of one expected report."""

    data_set: str
    period: str
    org_unit: str
    agency: str
    status: str
    submitted_at: datetime | None = None
    submitted_by: str | None = None
    on_time: bool | None = None
    approved_by: str | None = None
    accepted_by: str | None = None
    unlock_reason: str | None = None
    deadline: str = Field(description="hạn nộp đúng hạn / on-time deadline (yyyy-mm-dd)")


class ReasonInput(BaseModel):
    """A reason for unlocking or returning a report."""

    reason: str = Field(min_length=3, max_length=1000)


class OutlierRead(BaseModel):
    """A value far from its own history."""

    data_element: str
    category_option_combo: str
    period: str
    org_unit: str
    agency: str
    value: float
    mean: float | None = None
    std_dev: float | None = None
    median: float | None = None
    score: float | None = None
    lower_bound: float | None = None
    upper_bound: float | None = None
    method: str


class CompletenessRow(BaseModel):
    """Reporting and on-time rates of one data set and period (optionally one agency)."""

    data_set: str
    period: str
    agency: str | None = None
    expected: int
    actual: int
    on_time: int
    reporting_rate: float | None
    on_time_rate: float | None
    late: list[str] = Field(
        default_factory=list,
        description="cơ quan (dòng tổng) hoặc đơn vị (dòng cơ quan) chưa nộp hoặc nộp muộn / late agencies or units",
    )


class ReconciliationItem(BaseModel):
    """One thing an agency must look at for a period, with a link to fix it."""

    kind: str = Field(description="violation | outlier | missing | late | changed_after_approval")
    data_set: str
    period: str
    org_unit: str
    message: str
    message_en: str
    importance: str = "medium"
    link: str


class ReconciliationReport(BaseModel):
    """The reconciliation report of one agency (or all) and one period."""

    agency: str | None
    period: str
    items: list[ReconciliationItem]
    reports: list[ReportRead]


class AnalyticsHeader(BaseModel):
    """A column of an analytics answer."""

    name: str
    column: str
    value_type: str = Field(serialization_alias="valueType")


class AnalyticsResponse(BaseModel):
    """Rows with headers, in the spirit of DHIS2's analytics API; meta names every item and notes each figure."""

    model_config = ConfigDict(serialize_by_alias=True)

    headers: list[AnalyticsHeader]
    rows: list[list[str]]
    meta: dict[str, Any]
    height: int
    width: int


class UnitMappingRead(BaseModel):
    """One old→new unit mapping row with its weight and verification state."""

    old_code: str
    old_name: str
    new_code: str
    new_name: str
    merge_type: str
    weight: float
    verified: bool


class ImportRecordRead(BaseModel):
    """A background import: progress for the page's bar, then the summary with every refused value."""

    id: int
    status: ImportState
    source: str
    strategy: ImportStrategy
    total: int
    processed: int
    percent: int
    summary: ImportSummary | None = None
    error: str | None = None
    created_by: str
    created_at: datetime
    finished_at: datetime | None = None
    page: str = Field(description="trang theo dõi tiến độ / progress page")


class TraceRow(BaseModel):
    """One report behind a figure: whose values, how many, and who submitted, approved and accepted them when."""

    data_set: str
    period: str
    org_unit: str
    unit_name: str
    agency: str
    values: int
    status: str
    submitted_at: datetime | None = None
    submitted_by: str | None = None
    on_time: bool | None = None
    approved_at: datetime | None = None
    approved_by: str | None = None
    accepted_at: datetime | None = None
    accepted_by: str | None = None
    link: str = Field(description="biểu nhập của báo cáo / the report's entry form")
    old_unit: bool = Field(False, description="đơn vị trước 01/7/2025 được quy đổi / a pre-2025 unit re-aggregated")
    weight: float | None = Field(None, description="tỷ trọng quy đổi / share of the old unit counted")
    mapped_to: list[str] = Field(default_factory=list, description="đơn vị mới nhận / new units it maps into")
    merge_type: str | None = None
    mapping_verified: bool | None = None


class TraceRead(BaseModel):
    """The submissions behind one figure (data item × period × unit)."""

    dx: str
    period: str
    org_unit: str
    remap: bool = False
    reports: list[TraceRow]
