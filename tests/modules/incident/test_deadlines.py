"""Round-the-clock deadlines for emergencies beside office-hour ones."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from ioc.core.models import Job
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.modules.incident import service
from ioc.modules.incident.constants import IncidentType, Severity
from ioc.modules.incident.schemas import IncidentCreate, TaskCreate, TaskReassign

from .conftest import COMMUNE_AGENCY, CONSTRUCTION, INSIDE, People, events_named

LoginAs = Callable[..., Awaitable[httpx.AsyncClient]]
# Friday 6 March 2026, 23:00 in Tây Ninh (UTC+7): the offices opened again on Monday 9 March at 07:30.
FRIDAY_NIGHT = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
MONDAY_OPENING = datetime(2026, 3, 9, 0, 30, tzinfo=UTC)


async def _timer_run_at(runtime: Runtime, task_id: int) -> datetime:
    async with runtime.db.session() as session:
        job = (await session.scalars(select(Job).where(Job.dedupe_key == f"incident.task_overdue:{task_id}"))).one()
        return job.run_at.replace(tzinfo=UTC) if job.run_at.tzinfo is None else job.run_at


async def test_a_night_fire_task_is_due_within_hours_while_an_office_task_waits_for_monday(
    runtime: Runtime, people: People, login_as: LoginAs
) -> None:
    async with runtime.db.transaction() as session:
        fire = await service.create_incident(
            session,
            IncidentCreate(
                title="Cháy kho hàng",
                incident_type=IncidentType.FIRE,
                severity=Severity.CRITICAL,
                lat=INSIDE[0],
                lon=INSIDE[1],
            ),
            people.commander,
            now=FRIDAY_NIGHT,
        )
        urgent = await service.assign_task(
            session,
            runtime,
            fire.id,
            TaskCreate(agency_code=COMMUNE_AGENCY, title="Sơ tán dân quanh kho", due_hours=1.5, round_the_clock=True),
            people.commander,
            now=FRIDAY_NIGHT,
        )
        office = await service.assign_task(
            session,
            runtime,
            fire.id,
            TaskCreate(agency_code=CONSTRUCTION, title="Đánh giá kết cấu kho", due_hours=2),
            people.commander,
            now=FRIDAY_NIGHT,
        )
    assert urgent.due_at == FRIDAY_NIGHT + timedelta(hours=1, minutes=30)  # 00:30 Saturday, local time
    assert office.due_at == MONDAY_OPENING + timedelta(hours=2)  # 09:30 Monday, local time
    assert await _timer_run_at(runtime, urgent.id) == urgent.due_at
    async with runtime.db.session() as session:
        log = [entry.text for entry in (await service.get_incident(session, fire.id)).log]
    assert any("(hạn 00:30 07/03/2026, tính liên tục 24/7)" in line for line in log), log
    assert any("(hạn 09:30 09/03/2026)" in line for line in log), log
    # The command extends the office task by three clock hours from Saturday 08:00; its timer follows.
    saturday = FRIDAY_NIGHT + timedelta(hours=9)
    async with runtime.db.transaction() as session:
        extended = await service.reassign_task(
            session, runtime, office.id, TaskReassign(due_hours=3, round_the_clock=True), people.commander, now=saturday
        )
    assert extended.due_at == saturday + timedelta(hours=3)
    assert await _timer_run_at(runtime, office.id) == extended.due_at
    async with runtime.db.session() as session:
        last = (await service.get_incident(session, fire.id)).log[-1].text
    assert last == (
        f'Gia hạn nhiệm vụ "Đánh giá kết cấu kho" của {office.agency_name}. '
        "Hạn mới: 11:00 07/03/2026, tính liên tục 24/7."
    )
    await runtime.jobs.run_due()
    assert sorted(e["task_id"] for e in await events_named(runtime, "incident.task_overdue")) == sorted(
        [urgent.id, office.id]
    )

    # The workspace proposes round the clock for a critical fire, and the form's tick is honoured.
    leader = await login_as(Role.LEADER)
    page = await leader.get(f"/incidents/{fire.id}")
    assert 'name="round_the_clock"' in page.text
    assert 'id="f-task-clock" name="round_the_clock" value="on" checked' in page.text
    before = datetime.now(UTC)
    posted = await leader.post(
        f"/incidents/{fire.id}/task",
        data={
            "agency_code": COMMUNE_AGENCY,
            "title": "Canh gác hiện trường",
            "due_hours": "2",
            "round_the_clock": "on",
        },
    )
    assert posted.status_code == 303, posted.text
    async with runtime.db.session() as session:
        guard = (await service.get_incident(session, fire.id)).tasks[-1]
    assert before + timedelta(hours=2) <= guard.due_at <= datetime.now(UTC) + timedelta(hours=2)
