"""Station endpoints, reports and pages: who may see what, and the files open."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import httpx
from openpyxl import load_workbook

from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.core.time import local_today, utc_now
from ioc.modules.environment.evaluation import evaluate_station, hour_of

from .conftest import StationFactory, send

BASE = "/api/v1/environment/stations"


async def polluted_station(runtime: Runtime, make_station: StationFactory) -> int:
    """A station with three hours of heavy PM2.5 and an SO2 exceedance, evaluated."""
    station = await make_station("KK-01")
    hour = hour_of(utc_now())
    await send(runtime, "KK-01", [(hour - timedelta(hours=h), {"pm25": 120.0, "so2": 400.0}) for h in (2, 1, 0)])
    async with runtime.db.transaction() as session:
        await evaluate_station(session, station.id)
    return station.id


async def test_staff_read_stations_citizens_see_the_public_layer_only(
    runtime: Runtime, make_station: StationFactory, client: httpx.AsyncClient, login_as: Any
) -> None:
    await polluted_station(runtime, make_station)
    assert (await client.get(BASE)).status_code == 401
    assert (await client.get(f"{BASE}/KK-01/latest")).status_code == 401
    public = await client.get(f"{BASE}.geojson")
    assert public.status_code == 200
    [feature] = public.json()["features"]
    assert feature["properties"]["index"] == 179
    assert feature["properties"]["colour"] == "#FF0000"
    assert "url" not in feature["properties"]  # no link to the staff page for citizens
    air = (await client.get("/api/v1/environment/air-quality")).json()
    assert [(s["code"], s["value"], s["category"]) for s in air] == [("KK-01", 179, "bad")]
    page = await client.get("/moi-truong/khong-khi")
    assert page.status_code == 200
    assert "KK-01" in page.text

    staff = await login_as(Role.AGENCY_STAFF)
    [station] = (await staff.get(BASE)).json()
    assert station["open_exceedances"] == 1
    assert set(station["datastreams"]) >= {"PM2.5", "SO2"}
    latest = {row["parameter"]: row["value"] for row in (await staff.get(f"{BASE}/KK-01/latest")).json()}
    assert latest["PM2.5"] == 120.0
    [staff_feature] = (await staff.get(f"{BASE}.geojson")).json()["features"]
    assert staff_feature["properties"]["url"] == "/environment/stations/KK-01"
    chart = (await staff.get(f"{BASE}/KK-01/chart", params={"hours": 6})).json()
    assert len(chart["times"]) == 6
    assert chart["index"]["values"][-1] == 179
    [exceedance] = (await staff.get(f"{BASE}/KK-01/exceedances")).json()
    assert exceedance["parameter"] == "SO2"
    assert exceedance["ended_at"] is None
    assert (await staff.get(f"{BASE}/NOPE")).status_code == 404
    for path in ("/environment/stations", "/environment/stations/KK-01"):
        response = await staff.get(path)
        assert response.status_code == 200, path
        assert "KK-01" in response.text
    english = await staff.get("/environment/stations/KK-01", params={"lang": "en"})
    assert "Newest readings" in english.text
    assert "Bad" in english.text  # the category name follows the language
    assert (
        await staff.post(BASE, json={"code": "X", "name": "X", "kind": "air", "device_code": "KK-01"})
    ).status_code == 403


async def test_reports_open_as_excel_and_pdf(runtime: Runtime, make_station: StationFactory, login_as: Any) -> None:
    await polluted_station(runtime, make_station)
    staff = await login_as(Role.AGENCY_STAFF)
    today = local_today()
    daily = await staff.get(f"{BASE}/KK-01/reports/daily", params={"day": today.isoformat()})
    assert daily.status_code == 200
    book = load_workbook(io.BytesIO(daily.content))
    rows = list(book["So lieu"].iter_rows(values_only=True))
    assert any(row[1] == 179 for row in rows)  # the hourly index column
    assert [r[0] for r in book["Vuot nguong"].iter_rows(min_row=2, values_only=True)] == ["SO2"]
    pdf = await staff.get(f"{BASE}/KK-01/reports/daily", params={"day": today.isoformat(), "format": "pdf"})
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    month = f"{today:%Y-%m}"
    monthly = await staff.get(f"{BASE}/KK-01/reports/monthly", params={"month": month})
    assert monthly.status_code == 200
    assert load_workbook(io.BytesIO(monthly.content))["So lieu"].max_row > 28
    monthly_pdf = await staff.get(f"{BASE}/KK-01/reports/monthly", params={"month": month, "format": "pdf"})
    assert monthly_pdf.content.startswith(b"%PDF")
    future = today + timedelta(days=2)
    assert (await staff.get(f"{BASE}/KK-01/reports/daily", params={"day": future.isoformat()})).status_code == 400
    assert (await staff.get(f"{BASE}/KK-01/reports/monthly", params={"month": "2026-13"})).status_code in (400, 422)


async def test_an_admin_registers_a_station_on_a_device(
    runtime: Runtime, make_station: StationFactory, login_as: Any
) -> None:
    await make_station("KK-01")
    admin = await login_as(Role.ADMIN)
    body = {"code": "KK-02", "name": "Trạm thứ hai", "kind": "air", "device_code": "KK-01"}
    created = await admin.post(BASE, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["datastreams"].keys() >= {"PM2.5", "PM10"}
    assert (await admin.post(BASE, json=body)).status_code == 409
    missing = await admin.post(BASE, json={**body, "code": "KK-03", "device_code": "NOPE"})
    assert missing.status_code == 404
    water = await admin.post(BASE, json={**body, "code": "NM-03", "kind": "surface_water"})
    assert water.status_code == 422  # an air device has no water datastream
