"""Tables of the incident module: incidents, their links, tasks for agencies, command log and checklist."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, UOWTransaction, mapped_column

from ioc.core.db import Base, JsonType, UTCDateTime
from ioc.core.time import utc_now

from .exceptions import CommandLogImmutable


class Incident(Base):
    """One incident (sự cố) from opening to its closing summary."""

    __tablename__ = "incident_incident"
    __table_args__ = (Index("ix_incident_incident_status_opened", "status", "opened_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    incident_type: Mapped[str] = mapped_column(String(30))
    severity: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    origin: Mapped[str] = mapped_column(String(20))
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit_code: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    commander_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    commander_name: Mapped[str] = mapped_column(String(120), default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closing_summary: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class IncidentUnit(Base):
    """A unit (commune, ward…) an incident affects; the incident's own unit is one of them."""

    __tablename__ = "incident_unit"
    __table_args__ = (UniqueConstraint("incident_id", "unit_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident_incident.id"), index=True)
    unit_code: Mapped[str] = mapped_column(String(20), index=True)


class IncidentLink(Base):
    """An alarm or citizen report that belongs to an incident."""

    __tablename__ = "incident_link"
    __table_args__ = (UniqueConstraint("incident_id", "kind", "ref_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident_incident.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    ref_id: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200), default="")
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    linked_by: Mapped[str] = mapped_column(String(120), default="")


class IncidentTask(Base):
    """A task given to an agency, with a deadline in working time, its status and result."""

    __tablename__ = "incident_task"
    __table_args__ = (Index("ix_incident_task_agency_status", "agency_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident_incident.id"), index=True)
    agency_id: Mapped[int] = mapped_column(Integer)
    agency_code: Mapped[str] = mapped_column(String(40))
    agency_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str] = mapped_column(Text, default="")
    # The person of the agency who carries the task out (optional), and colleagues kept informed.
    assignee_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    assignee_name: Mapped[str] = mapped_column(String(200), default="")
    # [{"id": user id, "name": display name}], names copied so that the record reads the same later.
    notify_users: Mapped[list[dict[str, object]]] = mapped_column(JsonType, default=list)
    status: Mapped[str] = mapped_column(String(20))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    assigned_by: Mapped[str] = mapped_column(String(120), default="")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    result: Mapped[str] = mapped_column(Text, default="")
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class CommandLogEntry(Base):
    """One line of an incident's command log (nhật ký chỉ huy): append-only, who and when."""

    __tablename__ = "incident_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident_incident.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    kind: Mapped[str] = mapped_column(String(20))
    author_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    author_name: Mapped[str] = mapped_column(String(120))
    agency_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    task_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    text: Mapped[str] = mapped_column(Text)


class ChecklistItem(Base):
    """A step of the incident type's standard operating procedure, ticked with who and when."""

    __tablename__ = "incident_checklist_item"
    __table_args__ = (UniqueConstraint("incident_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident_incident.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text_vi: Mapped[str] = mapped_column(String(300))
    text_en: Mapped[str] = mapped_column(String(300))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    done_by: Mapped[str] = mapped_column(String(120), default="")


def _refuse_log_changes(session: Session, _flush_context: UOWTransaction, _instances: object) -> None:
    for obj in session.deleted:
        if isinstance(obj, CommandLogEntry):
            raise CommandLogImmutable(f"delete incident_log {obj.id}")
    for obj in session.dirty:
        if isinstance(obj, CommandLogEntry) and session.is_modified(obj, include_collections=False):
            raise CommandLogImmutable(f"update incident_log {obj.id}")


def _refuse_log_statements(state: ORMExecuteState) -> None:
    # Bulk update()/delete() statements skip the flush, so they are checked where they are executed.
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) == CommandLogEntry.__tablename__:
        raise CommandLogImmutable(f"{'update' if state.is_update else 'delete'} statement on incident_log")


# On the Session class itself, so that every session of every engine refuses to rewrite the log.
event.listen(Session, "before_flush", _refuse_log_changes)
event.listen(Session, "do_orm_execute", _refuse_log_statements)
