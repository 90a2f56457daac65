"""Two escalation levels: the agency's heads at the deadline, the province's leaders when the task stays open."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from ioc.core.http import PageParams
from ioc.core.jobs import JobStatus
from ioc.core.models import Job
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.modules import identity, notification
from ioc.modules.incident import service
from ioc.modules.incident.constants import IncidentType, LogKind, Severity, TaskStatus
from ioc.modules.incident.schemas import IncidentCreate, TaskCreate, TaskReassign, TaskStatusUpdate

from .conftest import COMMUNE_AGENCY, INSIDE, PAST_MORNING, People, events_named

MakeUser = Callable[..., Awaitable[dict[str, Any]]]
# PAST_MORNING is Wednesday 4 March 2026, 09:00 in Tây Ninh. Four office hours (09:00–11:30, 13:00–14:30) fall
# due at 14:30; half of them, two office hours later (16:30), the task goes to the province's leaders.
DUE = datetime(2026, 3, 4, 7, 30, tzinfo=UTC)
LEADERS_TOLD_AT = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
LONG_OVERDUE = "Nhiệm vụ quá hạn kéo dài"


async def _job(runtime: Runtime, task_id: int, level: int = 1) -> Job | None:
    key = f"incident.task_overdue:{task_id}" + ("" if level == 1 else f":{level}")
    async with runtime.db.session() as session:
        return (await session.scalars(select(Job).where(Job.dedupe_key == key))).first()


async def _jobs_of(runtime: Runtime, task_id: int) -> list[Job]:
    async with runtime.db.session() as session:
        rows = await session.scalars(select(Job).where(Job.name == "incident.task_overdue").order_by(Job.id))
        return [job for job in rows if job.payload.get("task_id") == task_id]


async def _mail(runtime: Runtime, incident_id: int) -> list[tuple[str, str]]:
    async with runtime.db.session() as session:
        deliveries = await notification.list_deliveries(
            session,
            notification.DeliveryFilters(correlation=f"incident:{incident_id}"),
            PageParams(limit=200, offset=0),
            reveal_recipients=True,
        )
    return [(d.recipient, d.subject) for d in deliveries.items]


async def _flood_with_task(runtime: Runtime, people: People, **task: Any) -> tuple[int, int]:
    async with runtime.db.transaction() as session:
        incident = await service.create_incident(
            session,
            IncidentCreate(
                title="Ngập sâu khu dân cư", incident_type=IncidentType.FLOODING, lat=INSIDE[0], lon=INSIDE[1]
            ),
            people.commander,
            now=PAST_MORNING,
        )
        given = await service.assign_task(
            session,
            runtime,
            incident.id,
            TaskCreate(agency_code=COMMUNE_AGENCY, title="Sơ tán hộ dân vùng trũng", **{"due_hours": 4, **task}),
            people.commander,
            now=PAST_MORNING,
        )
    return incident.id, given.id


async def _run(runtime: Runtime, payload: dict[str, Any], now: datetime) -> bool:
    async with runtime.db.transaction() as session:
        return await service.check_overdue(session, runtime, payload, now=now)


def test_the_wait_before_the_leaders_is_half_the_task_within_two_hours_and_one_working_day() -> None:
    assert [service.leader_escalation_hours(h) for h in (0.5, 1.5, 4, 10, 16, 40)] == [2, 2, 2, 5, 8, 8]


async def test_an_open_task_goes_to_the_agency_at_its_deadline_then_to_the_province_leaders(
    runtime: Runtime, people: People, make_user: MakeUser
) -> None:
    await make_user(Role.LEADER, username="pho_chu_tich", email="pct.ubnd@tayninh.gov.vn")
    await make_user(Role.LEADER, username="chu_tich_tinh", email="ct.ubnd@tayninh.gov.vn")
    await make_user(Role.LEADER, username="lanh_dao_khong_thu")  # no e-mail: nothing to send
    retired = await make_user(Role.LEADER, username="nghi_huu", email="nghihuu@tayninh.gov.vn")
    async with runtime.db.transaction() as session:
        await identity.update_user(session, runtime, retired["id"], identity.UserUpdate(is_active=False))
    incident_id, task_id = await _flood_with_task(runtime, people)
    level_one = await _job(runtime, task_id)
    assert level_one is not None
    assert level_one.payload == {"task_id": task_id, "due_at": DUE.isoformat(), "hours": 4, "round_the_clock": False}

    # Level 1: not a second early, then at the deadline (agency head and commander by e-mail).
    assert await _run(runtime, level_one.payload, DUE - timedelta(seconds=1)) is False
    assert await _run(runtime, level_one.payload, DUE) is True
    assert [e["task_id"] for e in await events_named(runtime, "incident.task_overdue")] == [task_id]
    level_two = await _job(runtime, task_id, 2)
    assert level_two is not None
    assert level_two.status == JobStatus.PENDING
    assert level_two.run_at == LEADERS_TOLD_AT
    assert (level_two.payload["level"], level_two.payload["due_at"]) == (2, DUE.isoformat())
    first_mail = await _mail(runtime, incident_id)
    assert {to for to, subject in first_mail if "Nhiệm vụ quá hạn:" in subject} >= {
        "chutich.tanninh@tayninh.gov.vn",
        "trucban@tayninh.gov.vn",
    }
    assert not any(to.startswith(("pct.", "ct.ubnd")) for to, _subject in first_mail)  # leaders wait for level 2

    # Level 2: not before its time, then the province's leaders and the commander, once.
    assert await _run(runtime, level_two.payload, LEADERS_TOLD_AT - timedelta(minutes=1)) is False
    assert await _events_escalated(runtime) == []
    assert await _run(runtime, level_two.payload, LEADERS_TOLD_AT) is True
    (escalated,) = await _events_escalated(runtime)
    assert (escalated["task_id"], escalated["level"], escalated["agency_code"]) == (task_id, 2, COMMUNE_AGENCY)
    long_overdue = {to for to, subject in await _mail(runtime, incident_id) if LONG_OVERDUE in subject}
    assert long_overdue == {"pct.ubnd@tayninh.gov.vn", "ct.ubnd@tayninh.gov.vn", "trucban@tayninh.gov.vn"}
    async with runtime.db.session() as session:
        incident = await service.get_incident(session, incident_id)
    line = incident.log[-1]
    assert (line.kind, line.task_id, line.author_name) == (LogKind.SYSTEM, task_id, "Hệ thống")
    assert line.text == (
        f"{LONG_OVERDUE} (hạn 14:30 04/03/2026): Sơ tán hộ dân vùng trũng — {incident.tasks[0].agency_name}. "
        "Đã báo cáo lãnh đạo UBND tỉnh và chỉ huy sự cố."
    )
    assert incident.tasks[0].escalated_at == LEADERS_TOLD_AT
    # The timers themselves then change nothing: level 1 was done for this deadline, level 2 too.
    await runtime.jobs.run_due()
    assert await _run(runtime, level_two.payload, LEADERS_TOLD_AT + timedelta(hours=5)) is False
    assert len(await _events_escalated(runtime)) == 1
    assert len(await events_named(runtime, "incident.task_overdue")) == 1
    assert sum(LONG_OVERDUE in subject for _, subject in await _mail(runtime, incident_id)) == 3


async def _events_escalated(runtime: Runtime) -> list[dict[str, Any]]:
    return await events_named(runtime, "incident.task_escalated")


async def test_a_task_finished_after_level_one_never_reaches_the_leaders(
    runtime: Runtime, people: People, make_user: MakeUser
) -> None:
    await make_user(Role.LEADER, email="pct.ubnd@tayninh.gov.vn")
    incident_id, task_id = await _flood_with_task(runtime, people)
    await runtime.jobs.run_due()  # the deadline is long gone: level 1 now, level 2 scheduled
    level_two = await _job(runtime, task_id, 2)
    assert level_two is not None
    stale = dict(level_two.payload)
    async with runtime.db.transaction() as session:
        await service.update_task(
            session,
            runtime,
            task_id,
            TaskStatusUpdate(status=TaskStatus.DONE, result="Đã sơ tán 12 hộ đến trường tiểu học."),
            people.commune_staff,
        )
    # Finishing cancels the pending level-2 timer; a copy of it arriving anyway finds the task done.
    jobs = await _jobs_of(runtime, task_id)
    assert [(job.payload.get("level", 1), job.status) for job in jobs] == [
        (1, JobStatus.DONE),
        (2, JobStatus.CANCELLED),
    ]
    await runtime.jobs.run_due()
    assert await _run(runtime, stale, LEADERS_TOLD_AT + timedelta(days=1)) is False
    assert await _events_escalated(runtime) == []
    assert not any(LONG_OVERDUE in subject for _, subject in await _mail(runtime, incident_id))


async def test_a_moved_deadline_drops_level_two_and_escalates_again_from_level_one(
    runtime: Runtime, people: People, make_user: MakeUser
) -> None:
    await make_user(Role.LEADER, email="pct.ubnd@tayninh.gov.vn")
    incident_id, task_id = await _flood_with_task(runtime, people, round_the_clock=True, due_hours=1.5)
    await runtime.jobs.run_due()
    level_two = await _job(runtime, task_id, 2)
    assert level_two is not None
    # A round-the-clock task of 1.5 hours goes to the leaders two clock hours after its deadline.
    assert level_two.run_at == PAST_MORNING + timedelta(hours=1.5 + 2)
    stale = dict(level_two.payload)
    # The command gives a new deadline eight office hours from now: level 2 of the old one is dropped.
    async with runtime.db.transaction() as session:
        moved = await service.reassign_task(
            session, runtime, task_id, TaskReassign(due_hours=8, reason="Chờ xe cứu hộ"), people.commander
        )
    assert moved.overdue is False
    jobs = {(job.payload.get("level", 1), job.status) for job in await _jobs_of(runtime, task_id)}
    assert (2, JobStatus.CANCELLED) in jobs
    level_one = await _job(runtime, task_id)
    assert level_one is not None
    assert level_one.status == JobStatus.PENDING
    assert level_one.payload["due_at"] == moved.due_at.isoformat()
    assert level_one.payload["hours"] == 8
    await runtime.jobs.run_due()
    assert await _run(runtime, stale, moved.due_at + timedelta(days=2)) is False
    assert await _events_escalated(runtime) == []
    assert not any(LONG_OVERDUE in subject for _, subject in await _mail(runtime, incident_id))
    # When the new deadline passes, level 1 fires again and level 2 follows for that deadline.
    assert await _run(runtime, level_one.payload, moved.due_at) is True
    fresh = await _job(runtime, task_id, 2)
    assert fresh is not None
    assert fresh.status == JobStatus.PENDING
    assert fresh.payload["due_at"] == moved.due_at.isoformat()
    assert len(await events_named(runtime, "incident.task_overdue")) == 2


async def test_the_timers_alone_escalate_twice_and_the_feed_flags_the_second(
    runtime: Runtime, people: People, make_user: MakeUser
) -> None:
    await make_user(Role.LEADER, email="pct.ubnd@tayninh.gov.vn")
    async with runtime.db.transaction() as session:
        incident = await service.create_incident(
            session,
            IncidentCreate(title="Cháy kho", incident_type=IncidentType.FIRE, severity=Severity.MAJOR),
            people.commander,
            now=PAST_MORNING,
        )
        await service.assign_task(
            session,
            runtime,
            incident.id,
            TaskCreate(agency_code=COMMUNE_AGENCY, title="Khoanh vùng", due_hours=1),
            people.commander,
            now=PAST_MORNING,
        )
    await runtime.jobs.run_due()  # level 1
    await runtime.jobs.run_due()  # level 2, already due as well
    (escalated,) = await _events_escalated(runtime)
    assert escalated["incident_id"] == incident.id
    manifest = runtime.module("incident")
    assert manifest is not None
    assert any(entry.event == "incident.task_escalated" and entry.critical for entry in manifest.feed)
    async with runtime.db.session() as session:
        log = [entry.text for entry in (await service.get_incident(session, incident.id)).log]
    assert sum("Nhiệm vụ quá hạn (" in line for line in log) == 1
    assert sum(LONG_OVERDUE in line for line in log) == 1
