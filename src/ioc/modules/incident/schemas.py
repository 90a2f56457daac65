"""Schemas of the incident module: IncidentRead / IncidentCreate / TaskCreate / IncidentFilters and friends."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator, model_validator

from .constants import (
    MAX_NOTIFY_USERS,
    MAX_TASK_HOURS,
    MAX_UNITS,
    IncidentStatus,
    IncidentType,
    LinkKind,
    LogKind,
    Origin,
    Severity,
    TaskStatus,
)

TEXT_MAX = 4000
MAX_ID = 2**31 - 1  # user ids are 32-bit integers in the database


def _unit_list(value: Any) -> Any:
    """Accept unit codes as a list or as one comma- or space-separated string (the forms' text field)."""
    if isinstance(value, str):
        return [code for code in value.replace(",", " ").split() if code]
    return value


class IncidentCreate(BaseModel):
    """An incident opened by hand; the location is optional, the unit is found from it."""

    title: str = Field(min_length=3, max_length=200)
    description: str = Field(default="", max_length=TEXT_MAX)
    incident_type: IncidentType = IncidentType.OTHER
    severity: Severity = Severity.MINOR
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    unit_code: str | None = Field(default=None, max_length=20)
    unit_codes: list[str] = Field(
        default_factory=list, max_length=MAX_UNITS, description="các đơn vị bị ảnh hưởng / other affected units"
    )
    address: str = Field(default="", max_length=300)

    @field_validator("unit_codes", mode="before")
    @classmethod
    def _split_units(cls, value: Any) -> Any:
        return _unit_list(value)

    @model_validator(mode="after")
    def _both_coordinates(self) -> IncidentCreate:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat và lon phải đi cùng nhau / give both lat and lon, or neither")
        return self


class FromAlarmCreate(BaseModel):
    """Open an incident from an alarm; title and location come from the alarm."""

    alarm_id: int = Field(ge=1)
    incident_type: IncidentType = IncidentType.OTHER
    title: str | None = Field(default=None, max_length=200)


class FromReportCreate(BaseModel):
    """Open an incident from a citizen report; location and unit come from the report."""

    report_id: int = Field(ge=1)
    incident_type: IncidentType = IncidentType.OTHER
    severity: Severity = Severity.MINOR
    title: str | None = Field(default=None, max_length=200)


class IncidentUpdate(BaseModel):
    """What the command may change while an incident runs."""

    severity: Severity | None = None
    status: IncidentStatus | None = Field(default=None, description="open | responding (closing has its own route)")
    title: str | None = Field(default=None, min_length=3, max_length=200)
    unit_codes: list[str] | None = Field(
        default=None, max_length=MAX_UNITS, description="thay danh sách đơn vị bị ảnh hưởng / replace affected units"
    )

    @field_validator("unit_codes", mode="before")
    @classmethod
    def _split_units(cls, value: Any) -> Any:
        return _unit_list(value)

    @model_validator(mode="after")
    def _not_closing(self) -> IncidentUpdate:
        if self.status is IncidentStatus.CLOSED:
            raise ValueError("kết thúc sự cố bằng tóm tắt (/close) / close an incident with its summary (/close)")
        return self


class LinkCreate(BaseModel):
    """Link an alarm or a citizen report to an incident."""

    kind: LinkKind
    ref_id: int = Field(ge=1)


class TaskCreate(BaseModel):
    """A task for an agency; the deadline is `due_hours` of office time from now (working calendar)."""

    agency_code: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=3, max_length=200)
    instructions: str = Field(default="", max_length=TEXT_MAX)
    due_hours: float = Field(
        gt=0, le=MAX_TASK_HOURS, description="giờ làm việc, hoặc giờ liên tục khi round_the_clock / office hours"
    )
    round_the_clock: bool = Field(
        default=False,
        description="hạn tính liên tục cả đêm và ngày nghỉ (khẩn cấp) / clock hours, nights and holidays included",
    )
    assignee_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="cán bộ của cơ quan thực hiện / the agency's person"
    )
    notify_user_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list, max_length=MAX_NOTIFY_USERS, description="cán bộ được báo tin / colleagues kept informed"
    )


class TaskReassign(BaseModel):
    """Give an open task to another person of its agency, or (the command only) to another agency."""

    assignee_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="người thực hiện mới / the new person of the agency"
    )
    agency_code: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description="chuyển sang cơ quan khác (chỉ huy) / move to another agency (the command only)",
    )
    due_hours: float | None = Field(
        default=None,
        gt=0,
        le=MAX_TASK_HOURS,
        description="hạn mới, giờ làm việc từ bây giờ (chỉ huy); bỏ trống giữ hạn cũ / new deadline (the command)",
    )
    round_the_clock: bool = Field(
        default=False, description="hạn mới tính liên tục (khẩn cấp) / the new deadline in clock hours"
    )
    reason: str = Field(default="", max_length=500, description="lý do / why")


class TaskInformedUpdate(BaseModel):
    """The colleagues kept informed of a task, replacing the current ones (an empty list informs nobody)."""

    user_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list, max_length=MAX_NOTIFY_USERS, description="cán bộ được báo tin / colleagues kept informed"
    )


class TaskStatusUpdate(BaseModel):
    """An agency's move on its task: start it or finish it with a result."""

    status: TaskStatus
    result: str = Field(default="", max_length=TEXT_MAX)


class TaskReport(BaseModel):
    """An agency's progress report on its task, written into the command log."""

    text: str = Field(min_length=1, max_length=TEXT_MAX)


class LogCreate(BaseModel):
    """An order, decision or report written into the command log."""

    kind: LogKind = LogKind.ORDER
    text: str = Field(min_length=1, max_length=TEXT_MAX)

    @model_validator(mode="after")
    def _not_system(self) -> LogCreate:
        if self.kind is LogKind.SYSTEM:
            raise ValueError("chỉ hệ thống ghi được mục loại system / only the system writes system entries")
        return self


class CloseInput(BaseModel):
    """The closing summary of an incident."""

    summary: str = Field(min_length=10, max_length=TEXT_MAX)


class ChecklistTick(BaseModel):
    """Tick or untick a procedure step."""

    done: bool = True


class IncidentFilters(BaseModel):
    """Filters of the incident list."""

    status: IncidentStatus | None = None
    active: bool | None = Field(default=None, description="chỉ sự cố đang xử lý / only open or responding")
    incident_type: IncidentType | None = None
    severity: Severity | None = None
    unit: str | None = Field(
        default=None, max_length=20, description="ảnh hưởng đơn vị này hoặc đơn vị trực thuộc / affects this unit"
    )
    q: str | None = Field(default=None, max_length=100)
    alarm_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="có liên kết cảnh báo này / links this alarm"
    )
    report_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="có liên kết phản ánh này / links this citizen report"
    )


class LinkRead(BaseModel):
    """A linked alarm or citizen report."""

    id: int
    kind: LinkKind
    ref_id: int
    label: str
    linked_at: datetime
    linked_by: str


class TaskPerson(BaseModel):
    """A person named on a task: who carries it out, or who is kept informed."""

    id: int
    name: str


class TaskRead(BaseModel):
    """A task as the command and the agency see it."""

    id: int
    incident_id: int
    incident_code: str
    incident_title: str = ""
    agency_id: int
    agency_code: str
    agency_name: str
    title: str
    instructions: str
    assignee: TaskPerson | None = None
    notify: list[TaskPerson] = Field(default_factory=list)
    status: TaskStatus
    assigned_at: datetime
    assigned_by: str
    due_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    result: str
    overdue: bool
    escalated_at: datetime | None
    on_time: bool | None = Field(description="xong đúng hạn / finished by the deadline (None while open)")


class LogRead(BaseModel):
    """A command log entry."""

    id: int
    at: datetime
    kind: LogKind
    author_name: str
    agency_code: str | None
    task_id: int | None
    text: str


class ChecklistItemRead(BaseModel):
    """A procedure step and who ticked it when."""

    id: int
    position: int
    text_vi: str
    text_en: str
    done_at: datetime | None
    done_by: str


class IncidentSummary(BaseModel):
    """An incident in a list."""

    id: int
    code: str
    title: str
    incident_type: IncidentType
    severity: Severity
    status: IncidentStatus
    origin: Origin
    unit_code: str | None
    unit_codes: list[str] = Field(default_factory=list, description="đơn vị bị ảnh hưởng / affected units")
    lat: float | None
    lon: float | None
    opened_at: datetime
    closed_at: datetime | None
    commander_name: str
    open_tasks: int = 0
    overdue_tasks: int = 0


class IncidentRead(IncidentSummary):
    """An incident with its links, tasks, command log and checklist."""

    description: str
    address: str
    closing_summary: str
    links: list[LinkRead] = Field(default_factory=list)
    tasks: list[TaskRead] = Field(default_factory=list)
    log: list[LogRead] = Field(default_factory=list)
    checklist: list[ChecklistItemRead] = Field(default_factory=list)


class IncidentKpis(BaseModel):
    """Figures for the dashboard."""

    open_incidents: int
    critical_open: int
    open_tasks: int
    overdue_tasks: int
