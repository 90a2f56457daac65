"""The alarm's page shows the incidents opened from it (the incident module's fragment and list filter)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.modules.incident import service
from ioc.modules.incident.constants import IncidentType, TaskStatus
from ioc.modules.incident.schemas import CloseInput, FromAlarmCreate, TaskCreate, TaskStatusUpdate

from .conftest import COMMUNE_AGENCY, People, RaiseAlarm

LoginAs = Callable[..., Awaitable[httpx.AsyncClient]]


async def test_the_alarm_page_leads_to_its_incident_instead_of_opening_another(
    runtime: Runtime, people: People, login_as: LoginAs, raise_alarm: RaiseAlarm
) -> None:
    alarm_id = await raise_alarm(severity="critical", title="Mực nước rạch Tây Ninh vượt báo động 3")
    other_alarm = await raise_alarm(source_ref="tram-khac", title="Mất tín hiệu trạm")
    leader = await login_as(Role.LEADER)
    ward = await login_as(Role.AGENCY_STAFF, agency_id=people.commune_agency_id)
    fragment = f"/incidents/of-alarm/{alarm_id}"

    page = await leader.get(f"/alarms/{alarm_id}")
    assert page.status_code == 200
    assert f'hx-get="{fragment}"' in page.text
    assert "Sự cố từ cảnh báo này" in page.text
    before = await leader.get(fragment)
    assert before.status_code == 200
    assert "Chưa có sự cố nào được mở từ cảnh báo này." in before.text
    assert f'href="/incidents/new?alarm={alarm_id}" data-open-incident>Mở sự cố từ cảnh báo này<' in before.text

    async with runtime.db.transaction() as session:
        incident = await service.create_from_alarm(
            session, FromAlarmCreate(alarm_id=alarm_id, incident_type=IncidentType.FLOODING), people.commander
        )
    after = await leader.get(fragment)
    assert (
        f'<a href="/incidents/{incident.id}">{incident.code}</a> · Mực nước rạch Tây Ninh vượt báo động 3' in after.text
    )
    assert f'href="/incidents/{incident.id}" data-go-incident>Đến sự cố {incident.code}<' in after.text
    assert "data-open-incident" not in after.text  # opening "from" the alarm again would land on it anyway
    assert 'data-incident-status="open"' in after.text
    english = await leader.get(fragment, params={"lang": "en"})
    assert f"Go to incident {incident.code}" in english.text
    # The list API answers the same question for other clients.
    linked = (await leader.get("/api/v1/incidents", params={"alarm_id": alarm_id})).json()
    assert [item["id"] for item in linked["items"]] == [incident.id]
    assert (await leader.get("/api/v1/incidents", params={"alarm_id": other_alarm})).json()["items"] == []
    assert (await leader.get("/api/v1/incidents", params={"alarm_id": 0})).status_code == 422

    # Agency staff see it only once their agency takes part, and are never offered to open one.
    assert 'data-alarm-incidents="0"' in (await ward.get(fragment)).text
    assert "data-open-incident" not in (await ward.get(fragment)).text
    async with runtime.db.transaction() as session:
        await service.assign_task(
            session,
            runtime,
            incident.id,
            TaskCreate(agency_code=COMMUNE_AGENCY, title="Cắm biển cảnh báo ngập", due_hours=2),
            people.commander,
        )
    assert f'data-alarm-incident="{incident.id}"' in (await ward.get(fragment)).text
    assert f'hx-get="{fragment}"' in (await ward.get(f"/alarms/{alarm_id}")).text
    citizen = await login_as(Role.CITIZEN)
    assert (await citizen.get(fragment)).status_code == 403

    # Once the incident is closed the alarm may start a new one; the closed one stays listed.
    async with runtime.db.transaction() as session:
        task_id = (await service.get_incident(session, incident.id)).tasks[0].id
        await service.update_task(
            session, runtime, task_id, TaskStatusUpdate(status=TaskStatus.CANCELLED), people.commander
        )
        await service.close_incident(session, incident.id, CloseInput(summary="Nước đã rút hết."), people.commander)
    closed = await leader.get(fragment)
    assert 'data-incident-status="closed"' in closed.text
    assert "data-go-incident" not in closed.text
    assert f'href="/incidents/new?alarm={alarm_id}" data-open-incident>Mở sự cố mới từ cảnh báo này<' in closed.text
