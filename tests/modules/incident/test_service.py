"""Incident rules at the service level: opening from an alarm, tasks, overdue escalation, the log, closing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from ioc.core.errors import Forbidden
from ioc.core.http import PageParams
from ioc.core.jobs import JobStatus
from ioc.core.models import Job
from ioc.core.runtime import Runtime
from ioc.core.time import ensure_utc
from ioc.modules import notification
from ioc.modules.alarm.service import clear_open
from ioc.modules.citizen_report import service as cr_service
from ioc.modules.citizen_report.photos import MediaStore
from ioc.modules.citizen_report.schemas import CategoryCreate, ReportCreate
from ioc.modules.incident import service
from ioc.modules.incident.constants import OVERDUE_JOB, IncidentType, LinkKind, LogKind, Severity, TaskStatus
from ioc.modules.incident.exceptions import (
    CommandLogImmutable,
    IncidentAlreadyClosed,
    InvalidTaskTransition,
    LinkedRecordNotFound,
    NotTaskAgency,
    OpenTasksRemain,
    ResultRequired,
)
from ioc.modules.incident.models import CommandLogEntry
from ioc.modules.incident.schemas import (
    CloseInput,
    FromAlarmCreate,
    FromReportCreate,
    IncidentCreate,
    LinkCreate,
    LogCreate,
    TaskCreate,
    TaskStatusUpdate,
)

from .conftest import COMMUNE_AGENCY, CONSTRUCTION, INSIDE, PAST_MORNING, TAN_NINH, People, RaiseAlarm, events_named


async def _from_alarm(runtime: Runtime, people: People, alarm_id: int) -> int:
    async with runtime.db.transaction() as session:
        incident = await service.create_from_alarm(
            session, FromAlarmCreate(alarm_id=alarm_id, incident_type=IncidentType.FLOODING), people.commander
        )
    return incident.id


async def _assign(runtime: Runtime, people: People, incident_id: int, agency: str, hours: float, **kw: object) -> int:
    async with runtime.db.transaction() as session:
        task = await service.assign_task(
            session,
            runtime,
            incident_id,
            TaskCreate(agency_code=agency, title=f"Nhiệm vụ cho {agency}", due_hours=hours),
            people.commander,
            **kw,  # type: ignore[arg-type]
        )
    return task.id


async def test_incident_from_alarm_two_agencies_one_overdue_is_escalated(
    runtime: Runtime, people: People, raise_alarm: RaiseAlarm
) -> None:
    alarm_id = await raise_alarm(severity="critical")
    incident_id = await _from_alarm(runtime, people, alarm_id)
    # Opening the same alarm again lands on the same incident.
    assert await _from_alarm(runtime, people, alarm_id) == incident_id
    assert len(await events_named(runtime, "incident.opened")) == 1

    async with runtime.db.session() as session:
        opened = await service.get_incident(session, incident_id)
    assert (opened.severity, opened.unit_code, opened.origin.value) == (Severity.CRITICAL, TAN_NINH, "alarm")
    assert (opened.lat, opened.lon) == INSIDE
    assert [(link.kind, link.ref_id) for link in opened.links] == [(LinkKind.ALARM, alarm_id)]
    assert len(opened.checklist) == len(service.sop_steps()["flooding"]) == 8
    assert opened.commander_name == "Trực ban"

    # The commune committee got its task on a past morning: 2 office hours, long gone. Construction's is due later.
    late_task = await _assign(runtime, people, incident_id, COMMUNE_AGENCY, 2, now=PAST_MORNING)
    fresh_task = await _assign(runtime, people, incident_id, CONSTRUCTION, 8)
    async with runtime.db.session() as session:
        jobs = {job.dedupe_key: job for job in await session.scalars(select(Job).where(Job.name == OVERDUE_JOB))}
    assert set(jobs) == {f"{OVERDUE_JOB}:{late_task}", f"{OVERDUE_JOB}:{fresh_task}"}
    # 09:00 local + 2 office hours = 11:00 local on the same Wednesday.
    assert ensure_utc(jobs[f"{OVERDUE_JOB}:{late_task}"].run_at) == PAST_MORNING + timedelta(hours=2)

    await runtime.jobs.run_due()

    async with runtime.db.session() as session:
        incident = await service.get_incident(session, incident_id)
        deliveries = await notification.list_deliveries(
            session,
            notification.DeliveryFilters(correlation=f"incident:{incident_id}"),
            PageParams(limit=50, offset=0),
            reveal_recipients=True,
        )
    tasks = {task.id: task for task in incident.tasks}
    assert tasks[late_task].overdue
    assert tasks[late_task].escalated_at is not None
    assert not tasks[fresh_task].overdue
    assert tasks[fresh_task].escalated_at is None
    assert incident.overdue_tasks == 1
    assert incident.status.value == "responding"
    escalation = [e for e in incident.log if e.kind is LogKind.SYSTEM and "quá hạn" in e.text]
    assert len(escalation) == 1
    assert escalation[0].task_id == late_task
    overdue_events = await events_named(runtime, "incident.task_overdue")
    assert [e["task_id"] for e in overdue_events] == [late_task]
    # The agency head and the commander are told by e-mail.
    recipients = {d.recipient for d in deliveries.items}
    assert {"chutich.tanninh@tayninh.gov.vn", "trucban@tayninh.gov.vn"} <= recipients

    # Running the timers again changes nothing: the escalation happens once.
    async with runtime.db.transaction() as session:
        again = await service.check_overdue(
            session, runtime, {"task_id": late_task, "due_at": (PAST_MORNING + timedelta(hours=2)).isoformat()}
        )
    assert again is False
    async with runtime.db.session() as session:
        figures = await service.kpis(session)
        in_other_unit = await service.kpis(session, "25480")
    assert (figures.open_incidents, figures.critical_open, figures.open_tasks, figures.overdue_tasks) == (1, 1, 2, 1)
    assert (in_other_unit.open_incidents, in_other_unit.overdue_tasks) == (0, 0)


async def test_agency_works_its_own_task_only_and_finishing_stops_the_timer(runtime: Runtime, people: People) -> None:
    async with runtime.db.transaction() as session:
        incident = await service.create_incident(
            session,
            IncidentCreate(title="Cháy kho phế liệu", incident_type=IncidentType.FIRE, severity=Severity.MAJOR),
            people.commander,
        )
    task_id = await _assign(runtime, people, incident.id, COMMUNE_AGENCY, 4)

    async with runtime.db.transaction() as session:
        with pytest.raises(Forbidden, match="incident:command"):
            await service.create_incident(session, IncidentCreate(title="Thử"), people.commune_staff)
        with pytest.raises(NotTaskAgency):
            await service.update_task(
                session, runtime, task_id, TaskStatusUpdate(status=TaskStatus.IN_PROGRESS), people.construction_staff
            )
        with pytest.raises(ResultRequired):
            await service.update_task(
                session, runtime, task_id, TaskStatusUpdate(status=TaskStatus.DONE), people.commune_staff
            )
    async with runtime.db.transaction() as session:
        mine = await service.agency_tasks(session, people.commune_staff)
        theirs = await service.agency_tasks(session, people.construction_staff)
        assert [t.id for t in mine] == [task_id]
        assert theirs == []
        done = await service.update_task(
            session,
            runtime,
            task_id,
            TaskStatusUpdate(status=TaskStatus.DONE, result="Đã dập tắt đám cháy, không có thương vong."),
            people.commune_staff,
        )
    assert done.on_time is True
    assert done.completed_at is not None
    async with runtime.db.session() as session:
        job = await session.scalar(select(Job).where(Job.name == OVERDUE_JOB))
        incident_now = await service.get_incident(session, incident.id)
    assert job is not None
    assert job.status == JobStatus.CANCELLED
    assert incident_now.log[-1].kind is LogKind.REPORT
    assert incident_now.log[-1].agency_code == COMMUNE_AGENCY
    async with runtime.db.transaction() as session:
        with pytest.raises(InvalidTaskTransition):
            await service.update_task(
                session, runtime, task_id, TaskStatusUpdate(status=TaskStatus.IN_PROGRESS), people.commune_staff
            )


async def test_command_log_cannot_be_changed_or_deleted(runtime: Runtime, people: People) -> None:
    async with runtime.db.transaction() as session:
        incident = await service.create_incident(session, IncidentCreate(title="Tụ tập đông người"), people.commander)
        await service.append_log(
            session, incident.id, LogCreate(kind=LogKind.ORDER, text="Công an phường có mặt ngay."), people.commander
        )
    async with runtime.db.session() as session:
        entry = await session.scalar(select(CommandLogEntry).where(CommandLogEntry.kind == "order"))
        assert entry is not None
        assert entry.author_name == "Trực ban"
        entry.text = "Sửa lại lịch sử"
        with pytest.raises(CommandLogImmutable):
            await session.flush()
        await session.rollback()
    async with runtime.db.session() as session:
        with pytest.raises(CommandLogImmutable):
            await session.execute(update(CommandLogEntry).values(text="x"))
        entry = await session.scalar(select(CommandLogEntry).where(CommandLogEntry.kind == "order"))
        assert entry is not None
        await session.delete(entry)
        with pytest.raises(CommandLogImmutable):
            await session.flush()


async def test_closing_needs_finished_tasks_then_nothing_changes(runtime: Runtime, people: People) -> None:
    async with runtime.db.transaction() as session:
        incident = await service.create_incident(
            session,
            IncidentCreate(title="Ngập đường", incident_type=IncidentType.FLOODING, lat=INSIDE[0], lon=INSIDE[1]),
            people.commander,
        )
        assert incident.unit_code == TAN_NINH
        step = incident.checklist[0]
        ticked = await service.tick(session, incident.id, step.id, True, people.commander)
        assert ticked.done_at is not None
        assert ticked.done_by == "Trực ban"
    task_id = await _assign(runtime, people, incident.id, CONSTRUCTION, 2)
    summary = CloseInput(summary="Nước đã rút, giao thông trở lại bình thường.")
    async with runtime.db.transaction() as session:
        with pytest.raises(OpenTasksRemain):
            await service.close_incident(session, incident.id, summary, people.commander)
    async with runtime.db.transaction() as session:
        await service.update_task(
            session,
            runtime,
            task_id,
            TaskStatusUpdate(status=TaskStatus.CANCELLED, result="Không cần nữa"),
            people.commander,
        )
        closed = await service.close_incident(session, incident.id, summary, people.commander)
    assert closed.status.value == "closed"
    assert closed.closing_summary == summary.summary
    async with runtime.db.transaction() as session:
        with pytest.raises(IncidentAlreadyClosed):
            await service.append_log(session, incident.id, LogCreate(text="Muộn"), people.commander)
    assert [e["incident_id"] for e in await events_named(runtime, "incident.closed")] == [incident.id]


async def test_citizen_reports_open_and_join_incidents_and_a_cleared_alarm_is_logged(
    runtime: Runtime, people: People, raise_alarm: RaiseAlarm
) -> None:
    alarm_id = await raise_alarm(source_ref="tram-quan-trac-1")
    incident_id = await _from_alarm(runtime, people, alarm_id)
    async with runtime.db.transaction() as session:
        await cr_service.create_category(
            session, CategoryCreate(code="ngap", name="Ngập úng", name_en="Flooding", accept_hours=4, resolve_days=2)
        )
        submitted = await cr_service.submit(
            session,
            runtime,
            ReportCreate(
                category_code="ngap",
                description="Nước ngập tới đầu gối trước chợ, xe máy chết máy hàng loạt.",
                lat=INSIDE[0],
                lon=INSIDE[1],
            ),
            principal=None,
            store=MediaStore.under(runtime.settings.data_dir),
        )
    report_id = submitted.id
    async with runtime.db.transaction() as session:
        joined = await service.add_link(
            session, incident_id, LinkCreate(kind=LinkKind.CITIZEN_REPORT, ref_id=report_id), people.commander
        )
        from_report = await service.create_from_report(
            session, FromReportCreate(report_id=report_id, incident_type=IncidentType.FLOODING), people.commander
        )
    assert [link.kind for link in joined.links] == [LinkKind.ALARM, LinkKind.CITIZEN_REPORT]
    # The report already belongs to a running incident: opening "from" it lands there.
    assert from_report.id == incident_id
    async with runtime.db.transaction() as session:
        with pytest.raises(LinkedRecordNotFound):
            await service.add_link(
                session, incident_id, LinkCreate(kind=LinkKind.CITIZEN_REPORT, ref_id=999_999), people.commander
            )
    async with runtime.db.transaction() as session:
        assert await clear_open(session, None, "datastream", "tram-quan-trac-1") is not None
    await runtime.dispatcher.dispatch_pending()
    await runtime.jobs.run_due()
    async with runtime.db.session() as session:
        incident = await service.get_incident(session, incident_id)
    assert f"Cảnh báo #{alarm_id} đã hết" in incident.log[-1].text
