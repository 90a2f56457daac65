"""Agency staff see the incidents they take part in (a task, a commune of theirs, their command); the command all."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

import httpx

from ioc.core.http import PageParams
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.modules.incident import service
from ioc.modules.incident.constants import SCOPE_COMMAND
from ioc.modules.incident.schemas import IncidentCreate, IncidentFilters, TaskCreate

from .conftest import COMMUNE_AGENCY, CONSTRUCTION, INSIDE, TAN_NINH, People, principal

LoginAs = Callable[..., Awaitable[httpx.AsyncClient]]
BINH_MINH = "25480"
ELSEWHERE = "25567"


async def _three_incidents(runtime: Runtime, people: People) -> dict[str, int]:
    """A flood in Tân Ninh (the ward's task), a landslide in Bình Minh (construction's), a fire elsewhere (none)."""
    async with runtime.db.transaction() as session:
        flood = await service.create_incident(
            session, IncidentCreate(title="Ngập phường Tân Ninh", lat=INSIDE[0], lon=INSIDE[1]), people.commander
        )
        await service.assign_task(
            session,
            runtime,
            flood.id,
            TaskCreate(agency_code=COMMUNE_AGENCY, title="Sơ tán hộ dân", due_hours=4),
            people.commander,
        )
        slide = await service.create_incident(
            session, IncidentCreate(title="Sạt lở bờ kênh Bình Minh", unit_code=BINH_MINH), people.commander
        )
        await service.assign_task(
            session,
            runtime,
            slide.id,
            TaskCreate(agency_code=CONSTRUCTION, title="Kiểm tra kè", due_hours=8),
            people.commander,
        )
        fire = await service.create_incident(
            session, IncidentCreate(title="Cháy rừng tràm", unit_code=ELSEWHERE), people.commander
        )
    return {"flood": flood.id, "slide": slide.id, "fire": fire.id}


def _titles(page: httpx.Response) -> list[str]:
    assert page.status_code == 200, page.text
    return sorted(item["title"] for item in page.json()["items"])


async def test_each_agency_sees_its_incidents_in_the_list_the_detail_the_export_and_the_map(
    runtime: Runtime, people: People, login_as: LoginAs
) -> None:
    ids = await _three_incidents(runtime, people)
    ward = await login_as(Role.AGENCY_STAFF, agency_id=people.commune_agency_id)
    construction = await login_as(Role.AGENCY_STAFF, agency_id=people.construction_agency_id)
    # Bound to the commune of the landslide but of no agency given a task there.
    bound = await login_as(Role.AGENCY_HEAD, unit_codes=[BINH_MINH])
    hotline = await login_as(Role.HOTLINE_OPERATOR)
    leader = await login_as(Role.LEADER, unit_codes=[TAN_NINH])  # a leader's units narrow nothing

    everything = ["Cháy rừng tràm", "Ngập phường Tân Ninh", "Sạt lở bờ kênh Bình Minh"]
    assert _titles(await hotline.get("/api/v1/incidents")) == everything
    assert _titles(await leader.get("/api/v1/incidents")) == everything
    assert _titles(await ward.get("/api/v1/incidents")) == ["Ngập phường Tân Ninh"]
    assert _titles(await construction.get("/api/v1/incidents")) == ["Sạt lở bờ kênh Bình Minh"]
    assert _titles(await bound.get("/api/v1/incidents")) == ["Sạt lở bờ kênh Bình Minh"]
    assert (await ward.get("/api/v1/incidents")).json()["total"] == 1
    # Filters narrow what one may see, never widen it.
    assert _titles(await ward.get("/api/v1/incidents", params={"unit": BINH_MINH})) == []

    # Detail, workspace and export: someone else's incident is not found, not forbidden.
    for path in (
        f"/api/v1/incidents/{ids['slide']}",
        f"/incidents/{ids['slide']}",
        f"/api/v1/incidents/{ids['slide']}/after-action.pdf",
        f"/api/v1/incidents/{ids['fire']}/after-action.xlsx",
    ):
        hidden = await ward.get(path)
        assert hidden.status_code == 404, path
        assert "Sạt lở" not in hidden.text
        assert "Cháy rừng" not in hidden.text
    missing = await ward.get("/api/v1/incidents/987654")
    hidden = await ward.get(f"/api/v1/incidents/{ids['slide']}")
    assert hidden.json()["error"] == missing.json()["error"] == "incident_not_found"
    assert (await ward.get(f"/api/v1/incidents/{ids['flood']}")).json()["title"] == "Ngập phường Tân Ninh"
    assert (await construction.get(f"/api/v1/incidents/{ids['slide']}/after-action.pdf")).content.startswith(b"%PDF")
    assert (await construction.get(f"/api/v1/incidents/{ids['flood']}/after-action.docx")).status_code == 404
    assert (await bound.get(f"/incidents/{ids['slide']}")).status_code == 200
    assert (await hotline.get(f"/api/v1/incidents/{ids['fire']}")).status_code == 200

    # The list page, the map points and the figures follow the same rule.
    page = await ward.get("/incidents")
    assert page.status_code == 200
    assert "Ngập phường Tân Ninh" in page.text
    assert "Sạt lở bờ kênh Bình Minh" not in page.text
    assert "Cháy rừng tràm" not in page.text
    assert 'href="/incidents/new"' not in page.text  # reading is not commanding
    points = (await ward.get("/api/v1/incidents.geojson")).json()["features"]
    assert [f["properties"]["name"] for f in points] == [f"SC-{ids['flood']:05d} · Ngập phường Tân Ninh"]
    assert (await construction.get("/api/v1/incidents.geojson")).json()["features"] == []  # no location
    assert (await ward.get("/api/v1/incidents/kpis")).json()["open_incidents"] == 1
    assert (await hotline.get("/api/v1/incidents/kpis")).json()["open_incidents"] == 3


async def test_staff_see_incidents_they_command_and_the_service_follows_the_caller(
    runtime: Runtime, people: People
) -> None:
    ids = await _three_incidents(runtime, people)
    # An agency head given the command scope opens an incident: as its commander, it sees it.
    reader = principal(runtime, Role.AGENCY_HEAD, user_id=4242, agency_id=people.commune_agency_id, name="Trưởng")
    commander = replace(reader, scopes=reader.scopes | {SCOPE_COMMAND})
    async with runtime.db.transaction() as session:
        own = await service.create_incident(
            session, IncidentCreate(title="Tụ tập đông người", unit_code=ELSEWHERE), commander
        )
    paging = PageParams(limit=50, offset=0)
    async with runtime.db.session() as session:
        mine = await service.list_incidents(session, IncidentFilters(), paging, reader)
        theirs = await service.list_incidents(session, IncidentFilters(), paging, people.construction_staff)
        everyone = await service.list_incidents(session, IncidentFilters(), paging, people.commander)
        internal = await service.list_incidents(session, IncidentFilters(), paging)
        seen = await service.read_incident(session, own.id, reader)
        figures = await service.kpis(session, principal=people.construction_staff)
    assert sorted(i.id for i in mine.items) == sorted([ids["flood"], own.id])
    assert [i.id for i in theirs.items] == [ids["slide"]]
    assert everyone.total == internal.total == 4
    assert seen.commander_name == "Trưởng"
    assert (figures.open_incidents, figures.open_tasks) == (1, 1)
