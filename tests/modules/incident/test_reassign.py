"""Reassigning a task (another person of the agency, or another agency) and events that reach every involved unit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from ioc.core.http import PageParams
from ioc.core.models import Job
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.modules import audit
from ioc.modules.dashboard import repository as dashboard_repository
from ioc.modules.incident import service
from ioc.modules.incident.constants import IncidentType, TaskStatus
from ioc.modules.incident.schemas import IncidentCreate, TaskCreate, TaskReassign, TaskStatusUpdate

from .conftest import (
    COMMUNE_AGENCY,
    CONSTRUCTION,
    INSIDE,
    PAST_MORNING,
    TAN_NINH,
    People,
    events_named,
    mail_subjects,
)

BINH_MINH = "25480"
LoginAs = Callable[..., Awaitable[httpx.AsyncClient]]
MakeUser = Callable[..., Awaitable[dict[str, Any]]]


async def _timer(runtime: Runtime, task_id: int) -> Job | None:
    async with runtime.db.session() as session:
        return (await session.scalars(select(Job).where(Job.dedupe_key == f"incident.task_overdue:{task_id}"))).first()


async def test_agency_head_gives_a_task_to_another_of_its_people_audited_logged_and_mailed(
    runtime: Runtime, people: People, login_as: LoginAs, make_user: MakeUser
) -> None:
    first = await make_user(
        Role.AGENCY_STAFF,
        display_name="Cán bộ Trần Văn An",
        email="an.tanninh@tayninh.gov.vn",
        agency_id=people.commune_agency_id,
    )
    second = await make_user(
        Role.AGENCY_STAFF,
        display_name="Cán bộ Lê Thị Bình",
        email="binh.tanninh@tayninh.gov.vn",
        agency_id=people.commune_agency_id,
    )
    outsider = await make_user(Role.AGENCY_STAFF, display_name="Kỹ sư Sở", agency_id=people.construction_agency_id)
    async with runtime.db.transaction() as session:
        flood = await service.create_incident(
            session,
            IncidentCreate(title="Ngập hai phường", lat=INSIDE[0], lon=INSIDE[1], unit_codes=[BINH_MINH]),
            people.commander,
        )
        task = await service.assign_task(
            session,
            runtime,
            flood.id,
            TaskCreate(agency_code=COMMUNE_AGENCY, title="Sơ tán hộ dân", due_hours=4, assignee_id=first["id"]),
            people.commander,
        )
    timer_before = await _timer(runtime, task.id)
    assert timer_before is not None

    head = await login_as(Role.AGENCY_HEAD, username="truong_phuong", agency_id=people.commune_agency_id)
    staff = await login_as(Role.AGENCY_STAFF, agency_id=people.commune_agency_id)
    other_head = await login_as(Role.AGENCY_HEAD, agency_id=people.construction_agency_id)
    url = f"/api/v1/incident-tasks/{task.id}/reassign"
    # Staff who are not the head, and the head of another agency, may not; nor may a head move it elsewhere.
    assert (await staff.post(url, json={"assignee_id": second["id"]})).status_code == 403
    refused = await other_head.post(url, json={"assignee_id": second["id"]})
    assert (refused.status_code, refused.json()["error"]) == (403, "incident_not_agency_head")
    assert (await head.post(url, json={"agency_code": CONSTRUCTION})).status_code == 403
    assert (await head.post(url, json={"assignee_id": second["id"], "due_hours": 8})).status_code == 403
    wrong = await head.post(url, json={"assignee_id": outsider["id"]})
    assert (wrong.status_code, wrong.json()["error"]) == (422, "incident_unknown_person")
    assert (await head.post(url, json={})).json()["error"] == "incident_nothing_to_reassign"

    done = await head.post(url, json={"assignee_id": second["id"], "reason": "Anh An đi công tác"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["assignee"]["name"], body["agency_code"], body["status"]) == (
        "Cán bộ Lê Thị Bình",
        COMMUNE_AGENCY,
        "assigned",
    )
    # The deadline and its timer are untouched.
    assert datetime.fromisoformat(body["due_at"].replace("Z", "+00:00")) == task.due_at
    timer_after = await _timer(runtime, task.id)
    assert timer_after is not None
    assert (timer_after.id, timer_after.run_at, timer_after.status) == (
        timer_before.id,
        timer_before.run_at,
        timer_before.status,
    )
    async with runtime.db.session() as session:
        detail = await service.get_incident(session, flood.id)
        entries = await audit.list_entries(
            session,
            audit.AuditFilters(entity_type="incident_task", entity_id=str(task.id), action="update"),
            PageParams(limit=10, offset=0),
        )
    assert detail.log[-1].text == (
        f'Giao lại nhiệm vụ "Sơ tán hộ dân" của {task.agency_name}: '
        "Cán bộ Trần Văn An → Cán bộ Lê Thị Bình. Lý do: Anh An đi công tác"
    )
    assert (detail.log[-1].kind.value, detail.log[-1].task_id) == ("order", task.id)
    assert [(e.actor_name, (e.after or {}).get("assignee_id")) for e in entries.items] == [
        ("truong_phuong", second["id"])
    ]
    subjects = await mail_subjects(runtime, flood.id)
    assert any("Nhiệm vụ được giao:" in s for s in subjects["binh.tanninh@tayninh.gov.vn"]), subjects
    assert any("Nhiệm vụ đã chuyển:" in s for s in subjects["an.tanninh@tayninh.gov.vn"]), subjects
    (event,) = await events_named(runtime, "incident.task_reassigned")
    assert (event["assignee_id"], event["from_assignee_id"], event["from_agency_code"]) == (
        second["id"],
        first["id"],
        COMMUNE_AGENCY,
    )
    assert (event["unit_codes"], event["agency_codes"]) == ([TAN_NINH, BINH_MINH], [COMMUNE_AGENCY])
    # Asking again for the same person records nothing more.
    again = await head.post(url, json={"assignee_id": second["id"]})
    assert again.status_code == 200
    assert len(await events_named(runtime, "incident.task_reassigned")) == 1

    # The head's inbox shows the person and offers the picker of its own agency; its form reassigns back.
    inbox = await head.get("/incident-tasks")
    assert f'id="form-reassign-{task.id}"' in inbox.text
    assert f'data-agency-id="{people.commune_agency_id}"' in inbox.text
    assert "Cán bộ Lê Thị Bình" in inbox.text
    back = await head.post(f"/incident-tasks/{task.id}", data={"action": "reassign", "assignee_id": str(first["id"])})
    assert back.status_code == 303, back.text
    staff_inbox = await staff.get("/incident-tasks")
    assert f'id="form-reassign-{task.id}"' not in staff_inbox.text
    assert "Cán bộ Trần Văn An" in staff_inbox.text
    # Another agency's head is refused before its (empty) form is read.
    assert (await other_head.post(f"/incident-tasks/{task.id}", data={})).status_code == 403


async def test_command_moves_an_overdue_task_to_another_agency_with_a_new_deadline_that_escalates_there(
    runtime: Runtime, people: People, login_as: LoginAs, make_user: MakeUser
) -> None:
    engineer = await make_user(
        Role.AGENCY_STAFF,
        display_name="Kỹ sư Phạm Minh",
        email="minh.sxd@tayninh.gov.vn",
        agency_id=people.construction_agency_id,
    )
    await make_user(Role.AGENCY_HEAD, email="giamdoc.sxd@tayninh.gov.vn", agency_id=people.construction_agency_id)
    async with runtime.db.transaction() as session:
        flood = await service.create_incident(
            session,
            IncidentCreate(title="Sạt lở bờ kè", incident_type=IncidentType.FLOODING, lat=INSIDE[0], lon=INSIDE[1]),
            people.commander,
            now=PAST_MORNING,
        )
        task = await service.assign_task(
            session,
            runtime,
            flood.id,
            TaskCreate(agency_code=COMMUNE_AGENCY, title="Gia cố bờ kè", due_hours=1),
            people.commander,
            now=PAST_MORNING,
        )
        await service.update_task(
            session, runtime, task.id, TaskStatusUpdate(status=TaskStatus.IN_PROGRESS), people.commune_staff
        )
    await runtime.jobs.run_due()  # the one-hour deadline passed long ago: escalated to the ward
    assert len(await events_named(runtime, "incident.task_overdue")) == 1
    # A day later the command moves it to the Department of Construction, with two office hours from then.
    async with runtime.db.transaction() as session:
        moved = await service.reassign_task(
            session,
            runtime,
            task.id,
            TaskReassign(agency_code=CONSTRUCTION, assignee_id=engineer["id"], due_hours=2, reason="Vượt khả năng"),
            people.commander,
            now=PAST_MORNING + timedelta(days=1),
        )
    assert (moved.agency_code, moved.status, moved.started_at, moved.overdue) == (
        CONSTRUCTION,
        TaskStatus.ASSIGNED,
        None,
        False,
    )
    assert moved.due_at == PAST_MORNING + timedelta(days=1, hours=2)
    timer = await _timer(runtime, task.id)
    assert timer is not None
    assert timer.payload["due_at"] == moved.due_at.isoformat()
    (event,) = await events_named(runtime, "incident.task_reassigned")
    assert (event["agency_code"], event["from_agency_code"]) == (CONSTRUCTION, COMMUNE_AGENCY)
    assert set(event["agency_codes"]) == {CONSTRUCTION, COMMUNE_AGENCY}
    # The new deadline has passed too: the new timer escalates, now to the construction department.
    await runtime.jobs.run_due()
    overdue = await events_named(runtime, "incident.task_overdue")
    assert [e["agency_code"] for e in overdue] == [COMMUNE_AGENCY, CONSTRUCTION]
    subjects = await mail_subjects(runtime, flood.id)
    assert any("Nhiệm vụ được giao:" in s for s in subjects["minh.sxd@tayninh.gov.vn"]), subjects
    assert any("quá hạn" in s for s in subjects["giamdoc.sxd@tayninh.gov.vn"]), subjects
    async with runtime.db.session() as session:
        detail = await service.get_incident(session, flood.id)
    moved_line = next(e for e in detail.log if e.text.startswith("Chuyển nhiệm vụ"))
    assert moved_line.agency_code == CONSTRUCTION
    assert f"sang {moved.agency_name} — người thực hiện: Kỹ sư Phạm Minh." in moved_line.text
    assert "Hạn mới: 11:00 05/03/2026" in moved_line.text
    assert "Lý do: Vượt khả năng" in moved_line.text

    # The workspace offers the form on every open task, and a finished task cannot be reassigned.
    leader = await login_as(Role.LEADER)
    page = await leader.get(f"/incidents/{flood.id}")
    assert f'id="form-reassign-{task.id}"' in page.text
    async with runtime.db.transaction() as session:
        await service.update_task(
            session,
            runtime,
            task.id,
            TaskStatusUpdate(status=TaskStatus.DONE, result="Đã gia cố"),
            people.construction_staff,
        )
    late = await leader.post(
        f"/incidents/{flood.id}/reassign", data={"task_id": str(task.id), "agency_code": COMMUNE_AGENCY}
    )
    assert late.status_code == 409
    assert "không giao lại được" in late.text


async def test_incident_events_name_every_affected_unit_and_agency_so_each_units_feed_shows_them(
    runtime: Runtime, people: People, login_as: LoginAs
) -> None:
    async with runtime.db.transaction() as session:
        flood = await service.create_incident(
            session,
            IncidentCreate(title="Ngập hai phường", lat=INSIDE[0], lon=INSIDE[1], unit_codes=[BINH_MINH]),
            people.commander,
        )
        for code in (COMMUNE_AGENCY, CONSTRUCTION):
            await service.assign_task(
                session, runtime, flood.id, TaskCreate(agency_code=code, title="Ứng phó", due_hours=4), people.commander
            )
    (opened,) = await events_named(runtime, "incident.opened")
    assert (opened["unit_code"], opened["unit_codes"], opened["agency_codes"]) == (TAN_NINH, [TAN_NINH, BINH_MINH], [])
    assigned = await events_named(runtime, "incident.task_assigned")
    assert [e["agency_codes"] for e in assigned] == [[COMMUNE_AGENCY], [COMMUNE_AGENCY, CONSTRUCTION]]
    assert all(e["unit_codes"] == [TAN_NINH, BINH_MINH] for e in assigned)
    # The dashboard's feed of the second ward finds the incident although its own unit is the first ward.
    async with runtime.db.session() as session:
        in_binh_minh = await dashboard_repository.recent_events(session, ["incident.opened"], 10, BINH_MINH)
        elsewhere = await dashboard_repository.recent_events(session, ["incident.opened"], 10, "25567")
    assert [row.payload["incident_id"] for row in in_binh_minh] == [flood.id]
    assert elsewhere == []
