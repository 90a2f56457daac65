"""Creating and editing stations: who may, the Vietnamese inline validation, the audit trail, the pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ioc.core.models import AuditEntry
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.modules.telemetry.schemas import DatastreamCreate, DeviceCreate
from ioc.modules.telemetry.service import create_device

from .conftest import StationFactory

BASE = "/api/v1/environment/stations"


async def test_station_edits_are_for_managers_validated_in_vietnamese_and_audited(
    runtime: Runtime, make_station: StationFactory, login_as: Any
) -> None:
    station = await make_station("KK-ED")
    staff = await login_as(Role.AGENCY_STAFF)
    body = {"name": "Trạm mới", "name_en": "New station", "kind": "air", "lat": 11.1, "lon": 106.2, "us_aqi": True}
    assert (await staff.put(f"{BASE}/KK-ED", json=body)).status_code == 403
    # Any staff member may check wastewater values against QCVN 40:2011 (column B, Cmax = 150 × 0.9 for COD).
    checked = await staff.post(
        "/api/v1/environment/limits/check",
        json={"regulation": "QCVN_40_2011", "column": "B", "kq": 0.9, "values": {"COD": 160, "pH": 8}},
    )
    assert checked.status_code == 200, checked.text
    [over] = checked.json()["exceedances"]
    assert (over["parameter"], over["limit"], over["confidence"], over["regulation"]) == (
        "COD",
        135.0,
        "L",
        "QCVN 40:2011/BTNMT",
    )
    mixed = await staff.post(
        "/api/v1/environment/limits/check", json={"regulation": "QCVN_05_2023", "column": "A", "values": {"SO2": 1}}
    )
    assert [p["rule"] for p in mixed.json()["detail"]["problems"]] == ["not_for_this_regulation"]
    # Environment staff hold the scope as an extra grant.
    manager = await login_as(Role.AGENCY_STAFF, extra_scopes=["environment:manage"])

    bad = await manager.put(
        f"{BASE}/KK-ED",
        json={**body, "name": " ", "lat": 95, "discharge_column": "A", "datastreams": {"PM2.5": 999999, "pH": 1}},
        headers={"Accept-Language": "vi"},
    )
    assert bad.status_code == 422
    problems = {p["field"]: p["message_vi"] for p in bad.json()["detail"]["problems"]}
    assert problems["name"] == "Nhập tên trạm."
    assert problems["lat"] == "Vĩ độ phải từ -90 đến 90."
    assert "chỉ dùng cho trạm nước thải" in problems["discharge_column"]
    assert set(problems) == {"name", "lat", "discharge_column"}  # datastreams are checked once the rest is right

    streams = (await manager.put(f"{BASE}/KK-ED", json={**body, "datastreams": {"PM2.5": 10**12, "pH": 1}})).json()
    fields = {p["field"] for p in streams["detail"]["problems"]}
    assert fields == {"datastreams.PM2.5", "datastreams.pH"}

    pm25 = station.datastreams["PM2.5"]
    saved = await manager.put(f"{BASE}/KK-ED", json={**body, "datastreams": {"PM2.5": pm25}})
    assert saved.status_code == 200, saved.text
    result = saved.json()
    assert (result["name"], result["name_en"], result["lat"], result["us_aqi"]) == (
        "Trạm mới",
        "New station",
        11.1,
        True,
    )
    assert result["datastreams"] == {"PM2.5": pm25}
    async with runtime.db.session() as session:
        entries = list(
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.entity_type.in_(["environment_station", "environment_station_stream"])
                )
            )
        )
    actions = {(e.entity_type, e.action) for e in entries}
    assert ("environment_station", "update") in actions
    assert ("environment_station_stream", "delete") in actions  # the five unlinked gases
    update = next(e for e in entries if e.entity_type == "environment_station" and e.action == "update")
    assert update.after["name"] == "Trạm mới"
    assert update.before["name"] == "Trạm KK-ED"


async def test_station_form_pages_register_and_edit_a_wastewater_discharge(runtime: Runtime, login_as: Any) -> None:
    async with runtime.db.transaction() as session:
        await create_device(
            session,
            DeviceCreate(
                code="NT-01",
                name="Cửa xả KCN",
                lat=11.08,
                lon=106.29,
                datastreams=[DatastreamCreate(key=k, observed_property=k) for k in ("cod", "ph", "tss")],
            ),
        )
    admin = await login_as(Role.ADMIN)
    token = admin.headers["X-CSRF-Token"]
    page = await admin.get("/environment/stations/new")
    assert page.status_code == 200
    assert "data-map-picker" in page.text
    assert "QCVN 40:2011/BTNMT" in page.text

    form = {"csrf_token": token, "code": "NT-KCN-01", "device_code": "NT-01", "name": "Cửa xả KCN Phước Đông"}
    refused = await admin.post("/environment/stations/new", data={**form, "kind": "wastewater", "kq": "hai"})
    assert refused.status_code == 422
    assert "Nhập một số" in refused.text  # beside the Kq field, in Vietnamese
    refused = await admin.post("/environment/stations/new", data={**form, "kind": "wastewater", "kq": "0,9"})
    assert refused.status_code == 422
    assert "Chọn cột A hoặc B của QCVN 40:2011/BTNMT" in refused.text

    created = await admin.post(
        "/environment/stations/new",
        data={**form, "kind": "wastewater", "discharge_column": "B", "kq": "0,9", "lat": "11.081", "lon": "106.291"},
    )
    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/environment/stations/NT-KCN-01"
    station = (await admin.get(f"{BASE}/NT-KCN-01")).json()
    assert (station["kind"], station["discharge_column"], station["kq"], station["lat"]) == (
        "wastewater",
        "B",
        0.9,
        11.081,
    )
    assert set(station["datastreams"]) == {"COD", "pH", "TSS"}

    edit = await admin.get("/environment/stations/NT-KCN-01/edit")
    assert edit.status_code == 200
    assert "Cửa xả KCN Phước Đông" in edit.text
    cod = station["datastreams"]["COD"]
    saved = await admin.post(
        "/environment/stations/NT-KCN-01/edit",
        data={
            "csrf_token": token,
            "name": "Cửa xả KCN Phước Đông",
            "name_en": "Phuoc Dong IP outfall",
            "kind": "wastewater",
            "discharge_column": "A",
            "lat": "11.081",
            "lon": "106.291",
            "ds-water-COD": str(cod),
            "is_active": "on",
        },
    )
    assert saved.status_code == 303, saved.text
    station = (await admin.get(f"{BASE}/NT-KCN-01")).json()
    assert (station["name_en"], station["discharge_column"], station["kq"], station["datastreams"]) == (
        "Phuoc Dong IP outfall",
        "A",
        None,
        {"COD": cod},
    )
    shown = await admin.get("/environment/stations/NT-KCN-01")
    assert "QCVN 40:2011 cột A" in shown.text
    assert "/environment/stations/NT-KCN-01/edit" in shown.text
    staff = await login_as(Role.AGENCY_STAFF)
    assert (await staff.get("/environment/stations/NT-KCN-01/edit")).status_code == 403
    assert "/edit" not in (await staff.get("/environment/stations/NT-KCN-01")).text
