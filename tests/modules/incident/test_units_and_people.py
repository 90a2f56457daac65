"""Incidents over several units (list, API, unit drill-down) and tasks naming people found with the user picker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from ioc.core.http import PageParams
from ioc.core.module import PictureContext
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.core.time import utc_now
from ioc.modules import incident, notification
from ioc.modules.incident import service
from ioc.modules.incident.constants import IncidentType
from ioc.modules.incident.exceptions import UnknownPerson, UnknownUnit
from ioc.modules.incident.schemas import IncidentCreate, IncidentFilters, IncidentUpdate, TaskCreate

from .conftest import COMMUNE_AGENCY, CONSTRUCTION, INSIDE, PAST_MORNING, TAN_NINH, People

BINH_MINH = "25480"
OTHER_WARD = "25567"
LoginAs = Callable[..., Awaitable[httpx.AsyncClient]]
MakeUser = Callable[..., Awaitable[dict[str, Any]]]


async def test_an_incident_affecting_two_wards_is_listed_counted_and_drilled_down_in_each(
    runtime: Runtime, people: People, login_as: LoginAs
) -> None:
    async with runtime.db.transaction() as session:
        flood = await service.create_incident(
            session,
            IncidentCreate(
                title="Ngập lan rộng hai phường",
                incident_type=IncidentType.FLOODING,
                lat=INSIDE[0],
                lon=INSIDE[1],
                unit_codes=f"{BINH_MINH}, {TAN_NINH}",  # the form's text field
            ),
            people.commander,
        )
        with pytest.raises(UnknownUnit):
            await service.create_incident(
                session, IncidentCreate(title="Sai mã", unit_codes=["99999"]), people.commander
            )
    assert (flood.unit_code, flood.unit_codes) == (TAN_NINH, [TAN_NINH, BINH_MINH])
    manifest = runtime.module("incident")
    assert manifest is not None
    tile = next(t for t in manifest.kpis if t.key == "incident.open_incidents")
    async with runtime.db.session() as session:
        in_binh_minh = await service.list_incidents(
            session, IncidentFilters(unit=BINH_MINH), PageParams(limit=10, offset=0)
        )
        elsewhere = await service.list_incidents(
            session, IncidentFilters(unit=OTHER_WARD), PageParams(limit=10, offset=0)
        )
        drill = await incident.open_incidents_for_unit(session, BINH_MINH)
        province = await incident.open_incidents_for_unit(session, "80")
        figure = await tile.compute(PictureContext(session=session, principal=None, now=utc_now(), unit_code=BINH_MINH))
    assert [i.id for i in in_binh_minh.items] == [flood.id]
    assert elsewhere.items == []
    assert [(i.id, i.unit_codes) for i in drill] == [(flood.id, [TAN_NINH, BINH_MINH])]
    assert [i.id for i in province] == [flood.id]
    assert figure.value == 1
    # The command moves the flood on to another ward; its own ward stays.
    async with runtime.db.transaction() as session:
        moved = await service.update_incident(
            session, flood.id, IncidentUpdate(unit_codes=[OTHER_WARD]), people.commander
        )
    assert moved.unit_codes == [TAN_NINH, OTHER_WARD]
    assert moved.log[-1].text == f"Cập nhật địa bàn ảnh hưởng: {TAN_NINH}, {OTHER_WARD}."
    http = await login_as(Role.LEADER)
    listed = (await http.get("/api/v1/incidents", params={"unit": OTHER_WARD})).json()
    assert [(i["id"], i["unit_codes"]) for i in listed["items"]] == [(flood.id, [TAN_NINH, OTHER_WARD])]
    assert (await http.get("/api/v1/incidents", params={"unit": BINH_MINH})).json()["items"] == []
    page = await http.get(f"/incidents/{flood.id}")
    assert f"{TAN_NINH}, {OTHER_WARD}" in page.text


async def test_task_names_its_doer_and_people_to_inform_who_are_mailed_and_told_when_it_is_late(
    runtime: Runtime, people: People, login_as: LoginAs, make_user: MakeUser
) -> None:
    doer = await make_user(
        Role.AGENCY_STAFF,
        display_name="Cán bộ Nguyễn Văn Hùng",
        email="hung.tanninh@tayninh.gov.vn",
        agency_id=people.commune_agency_id,
    )
    outsider = await make_user(
        Role.AGENCY_STAFF, display_name="Kỹ sư Sở Xây dựng", agency_id=people.construction_agency_id
    )
    watcher = await make_user(Role.LEADER, display_name="Phó chủ tịch tỉnh", email="pct@tayninh.gov.vn")
    # The picker's search: agency staff see their own agency only; the command sees everybody.
    ward_staff = await login_as(Role.AGENCY_STAFF, agency_id=people.commune_agency_id)
    own = (await ward_staff.get("/api/v1/staff", params={"q": "cán bộ"})).json()
    assert [p["display_name"] for p in own] == ["Cán bộ Nguyễn Văn Hùng"]
    other = await ward_staff.get("/api/v1/staff", params={"q": "sở", "agency_id": people.construction_agency_id})
    assert other.status_code == 403
    citizen = await login_as(Role.CITIZEN)
    assert (await citizen.get("/api/v1/staff", params={"q": "cán"})).status_code == 403
    leader = await login_as(Role.LEADER)
    everyone = (await leader.get("/api/v1/staff", params={"q": "Kỹ sư"})).json()
    assert everyone == [
        {"id": outsider["id"], "display_name": "Kỹ sư Sở Xây dựng", "agency_id": people.construction_agency_id}
    ]

    async with runtime.db.transaction() as session:
        flood = await service.create_incident(
            session, IncidentCreate(title="Ngập khu dân cư", lat=INSIDE[0], lon=INSIDE[1]), people.commander
        )
        with pytest.raises(UnknownPerson, match="not an active staff member of UBND"):
            await service.assign_task(
                session,
                runtime,
                flood.id,
                TaskCreate(agency_code=COMMUNE_AGENCY, title="Sơ tán", due_hours=1, assignee_id=outsider["id"]),
                people.commander,
            )
        late = await service.assign_task(
            session,
            runtime,
            flood.id,
            TaskCreate(
                agency_code=COMMUNE_AGENCY,
                title="Sơ tán hộ dân vùng trũng",
                due_hours=1,
                assignee_id=doer["id"],
                notify_user_ids=[watcher["id"]],
            ),
            people.commander,
            now=PAST_MORNING,
        )
    assert late.assignee is not None
    assert late.assignee.name == "Cán bộ Nguyễn Văn Hùng"
    assert [p.name for p in late.notify] == ["Phó chủ tịch tỉnh"]
    # The workspace form posts one field per person kept informed.
    form = await leader.post(
        f"/incidents/{flood.id}/task",
        data={
            "agency_code": CONSTRUCTION,
            "title": "Bơm tiêu úng",
            "due_hours": "4",
            "assignee_id": str(outsider["id"]),
            "notify_user_ids": [str(watcher["id"]), str(doer["id"])],
        },
    )
    assert form.status_code == 303, form.text
    await runtime.jobs.run_due()  # the first task's deadline has long passed: it escalates
    async with runtime.db.session() as session:
        detail = await service.get_incident(session, flood.id)
        deliveries = await notification.list_deliveries(
            session,
            notification.DeliveryFilters(correlation=f"incident:{flood.id}"),
            PageParams(limit=100, offset=0),
            reveal_recipients=True,
        )
    pump = detail.tasks[1]
    assert (pump.assignee.name if pump.assignee else None, [p.name for p in pump.notify]) == (
        "Kỹ sư Sở Xây dựng",
        ["Phó chủ tịch tỉnh", "Cán bộ Nguyễn Văn Hùng"],
    )
    assert detail.tasks[0].overdue
    subjects: dict[str, list[str]] = {}
    for delivery in deliveries.items:
        subjects.setdefault(delivery.recipient, []).append(delivery.subject)
    for person in ("hung.tanninh@tayninh.gov.vn", "pct@tayninh.gov.vn"):
        assert any("Nhiệm vụ mới" in s for s in subjects[person]), subjects
        assert any("quá hạn" in s for s in subjects[person]), subjects
    page = await leader.get(f"/incidents/{flood.id}")
    assert "data-user-picker" in page.text
    assert "Người thực hiện: Cán bộ Nguyễn Văn Hùng" in page.text
