"""Incident pages and API as people use them: permissions, forms, the agency inbox, reports, KPIs, demo seed."""

from __future__ import annotations

import io
from typing import Any

import httpx
from docx import Document
from openpyxl import load_workbook

from ioc.core.http import PageParams
from ioc.core.module import PictureContext, SeedContext
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.core.time import utc_now
from ioc.modules.incident import service
from ioc.modules.incident.constants import IncidentType, TaskStatus
from ioc.modules.incident.schemas import IncidentCreate, IncidentFilters, TaskCreate, TaskStatusUpdate

from .conftest import COMMUNE_AGENCY, CONSTRUCTION, INSIDE, PAST_MORNING, TAN_NINH, People, RaiseAlarm

LoginAs = Any


async def _incident_with_tasks(runtime: Runtime, people: People) -> tuple[int, int, int]:
    """Open a flood with a finished late task for the commune and an open task for construction."""
    async with runtime.db.transaction() as session:
        incident = await service.create_incident(
            session,
            IncidentCreate(
                title="Ngập sâu đường Cách Mạng Tháng Tám",
                incident_type=IncidentType.FLOODING,
                lat=INSIDE[0],
                lon=INSIDE[1],
            ),
            people.commander,
            now=PAST_MORNING,
        )
        late = await service.assign_task(
            session,
            runtime,
            incident.id,
            TaskCreate(agency_code=COMMUNE_AGENCY, title="Di dời hộ dân vùng trũng", due_hours=1),
            people.commander,
            now=PAST_MORNING,
        )
        await service.update_task(
            session,
            runtime,
            late.id,
            TaskStatusUpdate(status=TaskStatus.DONE, result="Đã di dời 12 hộ"),
            people.commune_staff,
        )
        other = await service.assign_task(
            session,
            runtime,
            incident.id,
            TaskCreate(agency_code=CONSTRUCTION, title="Bơm tiêu úng", due_hours=4),
            people.commander,
        )
    return incident.id, late.id, other.id


async def test_commander_pages_in_vietnamese_and_english(runtime: Runtime, people: People, login_as: LoginAs) -> None:
    incident_id, _late, _other = await _incident_with_tasks(runtime, people)
    http: httpx.AsyncClient = await login_as(Role.HOTLINE_OPERATOR)
    listing = await http.get("/incidents")
    assert listing.status_code == 200
    assert "<h1>Sự cố</h1>" in listing.text
    assert "Ngập sâu đường Cách Mạng Tháng Tám" in listing.text
    page = await http.get(f"/incidents/{incident_id}")
    assert page.status_code == 200
    assert "Nhật ký chỉ huy" in page.text
    assert "Di dời hộ dân vùng trũng" in page.text
    assert "Trễ hạn" in page.text  # finished after its one office hour
    assert "Quy trình ứng phó: Ngập lụt" in page.text
    english = await http.get(f"/incidents/{incident_id}", params={"lang": "en"})
    assert "Command log" in english.text
    assert "Response procedure: Flooding" in english.text
    assert (await http.get("/incidents/new")).status_code == 200
    assert (await http.get("/incidents/999999")).status_code == 404


async def test_workspace_forms_assign_write_and_refuse_bad_input(
    runtime: Runtime, people: People, login_as: LoginAs
) -> None:
    incident_id, _late, _other = await _incident_with_tasks(runtime, people)
    http: httpx.AsyncClient = await login_as(Role.LEADER)
    assigned = await http.post(
        f"/incidents/{incident_id}/task",
        data={"agency_code": "80-CA", "title": "Phân luồng giao thông", "due_hours": "2"},
    )
    assert assigned.status_code == 303
    logged = await http.post(f"/incidents/{incident_id}/log", data={"kind": "decision", "text": "Cấm đường tạm thời."})
    assert logged.status_code == 303
    bad = await http.post(
        f"/incidents/{incident_id}/task", data={"agency_code": "80-CA", "title": "Quá dài", "due_hours": "999"}
    )
    assert bad.status_code == 422
    assert "Dữ liệu không hợp lệ" in bad.text
    unknown = await http.post(
        f"/incidents/{incident_id}/task", data={"agency_code": "KHONG-CO", "title": "Việc gì đó", "due_hours": "1"}
    )
    assert unknown.status_code == 422
    close = await http.post(f"/incidents/{incident_id}/close", data={"summary": "Kết thúc khi còn việc dang dở."})
    assert close.status_code == 409
    detail = (await http.get(f"/api/v1/incidents/{incident_id}")).json()
    assert [t["agency_code"] for t in detail["tasks"]] == [COMMUNE_AGENCY, CONSTRUCTION, "80-CA"]
    assert detail["log"][-1]["kind"] == "decision"
    assert detail["log"][-1]["text"] == "Cấm đường tạm thời."


async def test_agency_staff_see_and_update_only_their_agency_tasks(
    runtime: Runtime, people: People, login_as: LoginAs
) -> None:
    _incident_id, late, other = await _incident_with_tasks(runtime, people)
    staff: httpx.AsyncClient = await login_as(Role.AGENCY_STAFF, agency_id=people.construction_agency_id)
    inbox = await staff.get("/incident-tasks")
    assert inbox.status_code == 200
    assert "Bơm tiêu úng" in inbox.text
    assert "Di dời hộ dân vùng trũng" not in inbox.text
    # The incident list shows the agency the incidents it has a task in (see test_incident_visibility).
    listed = await staff.get("/incidents")
    assert listed.status_code == 200
    assert "Ngập sâu đường Cách Mạng Tháng Tám" in listed.text
    assert (
        await staff.post(f"/api/v1/incident-tasks/{late}/status", json={"status": "in_progress"})
    ).status_code == 403
    refused = await staff.post(f"/incident-tasks/{late}", data={"status": "done", "result": "Không phải việc của tôi"})
    assert refused.status_code == 403
    started = await staff.post(f"/incident-tasks/{other}", data={"status": "in_progress"})
    assert started.status_code == 303
    reported = await staff.post(f"/incident-tasks/{other}", data={"action": "report", "text": "Đã điều 3 máy bơm."})
    assert reported.status_code == 303
    mine = (await staff.get("/api/v1/incident-tasks")).json()
    assert [(t["id"], t["status"]) for t in mine] == [(other, "in_progress")]
    operator: httpx.AsyncClient = await login_as(Role.HOTLINE_OPERATOR)
    assert (await operator.get("/incident-tasks")).status_code == 403
    cancel = await staff.post(f"/api/v1/incident-tasks/{other}/status", json={"status": "cancelled"})
    assert cancel.status_code == 403


async def test_after_action_report_in_pdf_word_and_excel(runtime: Runtime, people: People, login_as: LoginAs) -> None:
    incident_id, _late, _other = await _incident_with_tasks(runtime, people)
    http: httpx.AsyncClient = await login_as(Role.LEADER)
    pdf = await http.get(f"/api/v1/incidents/{incident_id}/after-action.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    word = await http.get(f"/api/v1/incidents/{incident_id}/after-action.docx")
    assert word.status_code == 200
    document = Document(io.BytesIO(word.content))
    headings = [p.text for p in document.paragraphs if p.style is not None and p.style.name.startswith("Heading")]
    assert headings == ["Diễn biến", "Nhiệm vụ", "Nhật ký chỉ huy", "Quy trình ứng phó", "Tóm tắt kết thúc"]
    task_cells = [cell.text for row in document.tables[2].rows for cell in row.cells]
    assert "Trễ hạn" in task_cells
    excel = await http.get(f"/api/v1/incidents/{incident_id}/after-action.xlsx", params={"lang": "en"})
    workbook = load_workbook(io.BytesIO(excel.content))
    tasks = workbook["Tasks"]
    rows = list(tasks.iter_rows(values_only=True))
    assert rows[0][:5] == ("Agency", "Task", "Deadline", "Finished", "On time")
    assert [row[4] for row in rows[1:]] == ["Late", "Open"]
    assert (await http.get(f"/api/v1/incidents/{incident_id}/after-action.odt")).status_code == 422


async def test_api_opens_from_alarm_and_reports_kpis(
    runtime: Runtime, people: People, login_as: LoginAs, raise_alarm: RaiseAlarm
) -> None:
    alarm_id = await raise_alarm(severity="warning")
    http: httpx.AsyncClient = await login_as(Role.HOTLINE_OPERATOR)
    created = await http.post("/api/v1/incidents/from-alarm", json={"alarm_id": alarm_id, "incident_type": "flooding"})
    assert created.status_code == 201
    body = created.json()
    assert (body["severity"], body["origin"], body["links"][0]["ref_id"]) == ("minor", "alarm", alarm_id)
    missing = await http.post("/api/v1/incidents/from-alarm", json={"alarm_id": 987654})
    assert missing.status_code == 422
    assert missing.json()["error"] == "incident_linked_record_not_found"
    not_closing = await http.patch(f"/api/v1/incidents/{body['id']}", json={"status": "closed"})
    assert not_closing.status_code == 422
    nowhere = await http.post("/api/v1/incidents", json={"title": "Sạt lở bờ kênh", "unit_code": "99999"})
    assert nowhere.status_code == 422
    assert nowhere.json()["error"] == "incident_unknown_unit"
    kpis = (await http.get("/api/v1/incidents/kpis")).json()
    assert kpis["open_incidents"] == 1
    points = (await http.get("/api/v1/incidents.geojson")).json()
    assert [f["properties"]["code"] for f in points["features"]] == [body["code"]]
    staff: httpx.AsyncClient = await login_as(Role.AGENCY_STAFF)
    assert (await staff.post("/api/v1/incidents", json={"title": "Không được"})).status_code == 403
    assert (
        await httpx.AsyncClient(transport=http._transport, base_url="http://testserver").get("/api/v1/incidents")
    ).status_code == 401


async def test_operations_picture_tiles_layer_and_list_honour_the_unit(runtime: Runtime, people: People) -> None:
    await _incident_with_tasks(runtime, people)
    async with runtime.db.transaction() as session:
        await service.create_incident(session, IncidentCreate(title="Không rõ vị trí"), people.commander)
    manifest = runtime.module("incident")
    assert manifest is not None
    tiles = {tile.key: tile for tile in manifest.kpis}
    async with runtime.db.session() as session:
        ctx = PictureContext(session=session, principal=people.commander, now=utc_now())
        open_now = await tiles["incident.open_incidents"].compute(ctx)
        overdue = await tiles["incident.overdue_tasks"].compute(ctx)
        layer = await manifest.map_layers[0].features(ctx)
        other_unit = PictureContext(session=session, principal=None, now=utc_now(), unit_code="25480")
        elsewhere = await tiles["incident.open_incidents"].compute(other_unit)
        elsewhere_layer = await manifest.map_layers[0].features(other_unit)
        listed = await service.list_incidents(session, IncidentFilters(unit=TAN_NINH), PageParams(limit=10, offset=0))
    # The flood was opened on a past morning, so it was already open a day ago; the other one is new.
    assert (open_now.value, open_now.previous) == (2, 1)
    assert overdue.value == 0
    assert [f["properties"]["unit_code"] for f in layer["features"]] == [TAN_NINH]
    assert layer["features"][0]["geometry"]["coordinates"] == [INSIDE[1], INSIDE[0]]
    assert elsewhere.value == 0
    assert elsewhere_layer["features"] == []
    assert [i.title for i in listed.items] == ["Ngập sâu đường Cách Mạng Tháng Tám"]


async def test_demo_seed_tells_three_incidents_once(runtime: Runtime, units: None) -> None:
    manifest = runtime.module("incident")
    assert manifest is not None
    assert manifest.seed is not None
    for _ in range(2):
        async with runtime.db.transaction() as session:
            await manifest.seed(SeedContext(session=session, runtime=runtime))
    async with runtime.db.session() as session:
        figures = await service.kpis(session)
        closed = await service.list_incidents(session, IncidentFilters(status="closed"), PageParams(limit=10, offset=0))
    assert figures.open_incidents == 2
    assert figures.open_tasks == 4
    assert len(closed.items) == 1
