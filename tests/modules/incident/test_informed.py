"""Who is kept informed of a task can change after it is given: the command or the head of the task's agency."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from ioc.core.http import PageParams
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.modules import audit, identity
from ioc.modules.incident import service
from ioc.modules.incident.constants import MAX_NOTIFY_USERS, TaskStatus
from ioc.modules.incident.schemas import IncidentCreate, TaskCreate, TaskStatusUpdate

from .conftest import COMMUNE_AGENCY, INSIDE, People, mail_subjects

LoginAs = Callable[..., Awaitable[httpx.AsyncClient]]
MakeUser = Callable[..., Awaitable[dict[str, Any]]]
INFORMED_MAIL = "Được báo tin về nhiệm vụ:"


async def _task(runtime: Runtime, people: People, notify: list[int]) -> tuple[int, int]:
    async with runtime.db.transaction() as session:
        incident = await service.create_incident(
            session, IncidentCreate(title="Sạt lở bờ kênh", lat=INSIDE[0], lon=INSIDE[1]), people.commander
        )
        task = await service.assign_task(
            session,
            runtime,
            incident.id,
            TaskCreate(agency_code=COMMUNE_AGENCY, title="Cắm biển cảnh báo", due_hours=4, notify_user_ids=notify),
            people.commander,
        )
    return incident.id, task.id


async def test_the_agency_head_changes_who_is_informed_audited_logged_and_mailed_once(
    runtime: Runtime, people: People, login_as: LoginAs, make_user: MakeUser
) -> None:
    an = await make_user(
        Role.AGENCY_STAFF,
        display_name="Cán bộ Trần Văn An",
        email="an@tayninh.gov.vn",
        agency_id=people.commune_agency_id,
    )
    binh = await make_user(Role.AGENCY_STAFF, display_name="Cán bộ Lê Thị Bình", email="binh@tayninh.gov.vn")
    chi = await make_user(Role.HOTLINE_OPERATOR, display_name="Trực ban Chi", email="chi@tayninh.gov.vn")
    incident_id, task_id = await _task(runtime, people, [an["id"]])
    head = await login_as(Role.AGENCY_HEAD, username="truong_phuong", agency_id=people.commune_agency_id)
    staff = await login_as(Role.AGENCY_STAFF, agency_id=people.commune_agency_id)
    other_head = await login_as(Role.AGENCY_HEAD, agency_id=people.construction_agency_id)
    url = f"/api/v1/incident-tasks/{task_id}/informed"

    for refused in (staff, other_head):
        answer = await refused.put(url, json={"user_ids": [binh["id"]]})
        assert (answer.status_code, answer.json()["error"]) == (403, "incident_informed_not_allowed")
    changed = await head.put(url, json={"user_ids": [binh["id"], chi["id"], binh["id"]]})
    assert changed.status_code == 200, changed.text
    assert [p["name"] for p in changed.json()["notify"]] == ["Cán bộ Lê Thị Bình", "Trực ban Chi"]

    async with runtime.db.session() as session:
        incident = await service.get_incident(session, incident_id)
        entries = await audit.list_entries(
            session,
            audit.AuditFilters(entity_type="incident_task", entity_id=str(task_id), action="update"),
            PageParams(limit=10, offset=0),
        )
    line = incident.log[-1]
    assert (line.kind.value, line.task_id, line.author_name) == ("order", task_id, "truong_phuong")
    assert line.text == (
        f'Cập nhật người được báo tin về nhiệm vụ "Cắm biển cảnh báo" của {incident.tasks[0].agency_name}: '
        "thêm Cán bộ Lê Thị Bình, Trực ban Chi; bỏ Cán bộ Trần Văn An."
    )
    [entry] = entries.items
    assert entry.actor_name == "truong_phuong"
    assert [p["id"] for p in (entry.before or {})["notify_users"]] == [an["id"]]
    assert [p["id"] for p in (entry.after or {})["notify_users"]] == [binh["id"], chi["id"]]
    mail = await mail_subjects(runtime, incident_id)
    (to_binh,) = [s for s in mail["binh@tayninh.gov.vn"] if INFORMED_MAIL in s]
    assert to_binh.endswith(f"{INFORMED_MAIL} {incident.code}")
    assert len([s for s in mail["chi@tayninh.gov.vn"] if INFORMED_MAIL in s]) == 1
    assert not any(INFORMED_MAIL in s for s in mail.get("an@tayninh.gov.vn", []))

    # The same people again: nothing recorded, nobody mailed again.
    same = await head.put(url, json={"user_ids": [chi["id"], binh["id"]]})
    assert same.status_code == 200
    async with runtime.db.session() as session:
        assert len((await service.get_incident(session, incident_id)).log) == len(incident.log)
    to_binh = (await mail_subjects(runtime, incident_id))["binh@tayninh.gov.vn"]
    assert len([s for s in to_binh if INFORMED_MAIL in s]) == 1

    # The command may too, and may inform nobody.
    leader = await login_as(Role.LEADER)
    cleared = await leader.put(url, json={"user_ids": []})
    assert (cleared.status_code, cleared.json()["notify"]) == (200, [])


async def test_only_active_staff_and_at_most_twenty_and_only_while_the_task_is_open(
    runtime: Runtime, people: People, login_as: LoginAs, make_user: MakeUser
) -> None:
    incident_id, task_id = await _task(runtime, people, [])
    leader = await login_as(Role.LEADER)
    url = f"/api/v1/incident-tasks/{task_id}/informed"
    citizen = await make_user(Role.CITIZEN)
    gone = await make_user(Role.AGENCY_STAFF, display_name="Cán bộ đã nghỉ")
    async with runtime.db.transaction() as session:
        await identity.update_user(session, runtime, gone["id"], identity.UserUpdate(is_active=False))
    for user_id in (citizen["id"], gone["id"], 987_654):
        answer = await leader.put(url, json={"user_ids": [user_id]})
        assert (answer.status_code, answer.json()["error"]) == (422, "incident_unknown_person"), answer.text
        assert f"Người dùng số {user_id} không phải cán bộ đang hoạt động" in answer.json()["message"]
    in_english = await leader.put(url, params={"lang": "en"}, json={"user_ids": [citizen["id"]]})
    assert in_english.json()["message"] == f"User {citizen['id']} is not an active staff member."
    too_many = await leader.put(url, json={"user_ids": list(range(1, MAX_NOTIFY_USERS + 2))})
    assert (too_many.status_code, too_many.json()["error"]) == (422, "validation_failed")
    assert (await leader.put(url, json={"user_ids": ["một"]})).status_code == 422
    assert (await leader.put("/api/v1/incident-tasks/999999/informed", json={"user_ids": []})).status_code == 404
    async with runtime.db.session() as session:
        assert (await service.get_incident(session, incident_id)).tasks[0].notify == []

    async with runtime.db.transaction() as session:
        await service.update_task(
            session,
            runtime,
            task_id,
            TaskStatusUpdate(status=TaskStatus.CANCELLED, result="Trùng việc"),
            people.commander,
        )
    late = await leader.put(url, json={"user_ids": []})
    assert (late.status_code, late.json()["error"]) == (409, "incident_task_not_open")
    assert "không thay đổi người được báo tin được" in late.json()["message"]


async def test_the_workspace_task_row_changes_who_is_informed_for_the_command_and_the_head(
    runtime: Runtime, people: People, login_as: LoginAs, make_user: MakeUser
) -> None:
    an = await make_user(Role.AGENCY_STAFF, display_name="Cán bộ Trần Văn An", agency_id=people.commune_agency_id)
    incident_id, task_id = await _task(runtime, people, [])
    leader = await login_as(Role.LEADER)
    head = await login_as(Role.AGENCY_HEAD, agency_id=people.commune_agency_id)
    staff = await login_as(Role.AGENCY_STAFF, agency_id=people.commune_agency_id)
    form_id = f'id="form-informed-{task_id}"'
    assert form_id in (await leader.get(f"/incidents/{incident_id}")).text
    assert form_id in (await head.get(f"/incidents/{incident_id}")).text
    staff_page = await staff.get(f"/incidents/{incident_id}")
    assert staff_page.status_code == 200
    assert form_id not in staff_page.text

    posted = await head.post(
        f"/incidents/{incident_id}/informed", data={"task_id": str(task_id), "notify_user_ids": str(an["id"])}
    )
    assert (posted.status_code, posted.headers["location"]) == (303, f"/incidents/{incident_id}#tasks")
    page = await leader.get(f"/incidents/{incident_id}")
    assert "Cán bộ Trần Văn An" in page.text
    assert 'data-user-id="{}"'.format(an["id"]) in page.text  # the picker starts with the people chosen
    refused = await staff.post(f"/incidents/{incident_id}/informed", data={"task_id": str(task_id)})
    assert refused.status_code == 403
    assert "Chỉ lãnh đạo cơ quan được giao nhiệm vụ" in refused.text
    nothing = await leader.post(f"/incidents/{incident_id}/informed", data={})
    assert nothing.status_code == 422
    wrong = await leader.post(f"/incidents/{incident_id}/informed", data={"task_id": "999999"})
    assert wrong.status_code == 404
    async with runtime.db.session() as session:
        assert [p.name for p in (await service.get_incident(session, incident_id)).tasks[0].notify] == [
            "Cán bộ Trần Văn An"
        ]
