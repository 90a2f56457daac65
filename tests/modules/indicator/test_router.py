"""HTTP: dataValueSets in and out, the Excel round trip, approval, analytics, permissions and pages."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook

from ioc.core.jobs import JobRunner
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.modules.indicator.periods import PeriodType, period_containing
from ioc.modules.indicator.tasks import JOBS

from .conftest import COMMUNE, OTHER_COMMUNE, World

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def last_month() -> str:
    """The month before this one: open for entry, due within days."""
    from ioc.core.time import local_today

    return period_containing(PeriodType.MONTHLY, local_today()).previous().iso


async def test_agency_fills_the_template_fixes_an_error_submits_and_the_head_approves(
    login_as: Any, world: World
) -> None:
    staff = await login_as(Role.AGENCY_STAFF, agency_id=world.commune_agency)
    head = await login_as(Role.AGENCY_HEAD, agency_id=world.commune_agency)
    month = last_month()
    response = await staff.get(
        "/api/v1/indicator/data-sets/TTHC_MONTHLY/template.xlsx", params={"period": month, "orgUnit": COMMUNE}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["Nhap lieu"]
    cells = {(sheet.cell(r, 1).value, sheet.cell(r, 3).value): r for r in range(4, sheet.max_row + 1)}
    fill: dict[tuple[str, str], int | str] = {
        ("TTHC_RECEIVED", "CARRIED_OVER"): 10,
        ("TTHC_RECEIVED", "ONLINE"): "1.200",  # Vietnamese thousands
        ("TTHC_RECEIVED", "IN_PERSON"): 300,
        ("TTHC_RESOLVED", "EARLY"): 1000,
        ("TTHC_RESOLVED", "ON_TIME"): 400,
        ("TTHC_IN_PROGRESS", "WITHIN"): 110,
        ("TTHC_WITHDRAWN", "default"): "hai",  # the deliberate error
    }
    for key, value in fill.items():
        sheet.cell(cells[key], 6, value)
    bad_row = cells[("TTHC_WITHDRAWN", "default")]

    def upload(workbook: Any) -> bytes:
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue()

    refused = await staff.post("/api/v1/indicator/excel", files={"file": ("bc.xlsx", upload(book), XLSX)})
    assert refused.status_code == 422
    conflict = refused.json()["detail"]["conflicts"]
    assert [(c["row"], c["cell"], c["error"]) for c in conflict] == [(bad_row, f"F{bad_row}", "invalid_value")]
    assert f"ô F{bad_row}" in conflict[0]["message"]
    sheet.cell(bad_row, 6, 0)
    stored = await staff.post("/api/v1/indicator/excel", files={"file": ("bc.xlsx", upload(book), XLSX)})
    assert stored.status_code == 200, stored.text
    assert stored.json()["imported"] == 7
    assert stored.json()["violations"] == []

    not_a_template = await staff.post("/api/v1/indicator/excel", files={"file": ("x.xlsx", b"PK\x03\x04junk", XLSX)})
    assert not_a_template.status_code == 422
    assert not_a_template.json()["error"] == "indicator_not_a_template"

    path = f"/api/v1/indicator/reports/TTHC_MONTHLY/{month}/{COMMUNE}"
    assert (await head.post(f"{path}/accept")).status_code == 403
    assert (await staff.post(f"{path}/submit")).json()["status"] == "submitted"
    assert (await staff.post(f"{path}/approve")).status_code == 403
    assert (await head.post(f"{path}/approve")).json()["status"] == "approved"
    locked = await staff.post(
        "/api/v1/data-value-sets",
        json={
            "dataSet": "TTHC_MONTHLY",
            "period": month,
            "orgUnit": COMMUNE,
            "dataValues": [{"dataElement": "TTHC_WITHDRAWN", "value": "3"}],
        },
    )
    assert locked.status_code == 422
    assert locked.json()["detail"]["conflicts"][0]["error"] == "report_locked"

    exported = await head.get(
        "/api/v1/data-value-sets",
        params={"dataSet": "TTHC_MONTHLY", "period": month, "orgUnit": "80", "children": "true"},
    )
    values = {(v["dataElement"], v["categoryOptionCombo"]): v["value"] for v in exported.json()["dataValues"]}
    assert values[("TTHC_RECEIVED", "ONLINE")] == "1200"
    assert len(values) == 7
    history = await head.get(
        "/api/v1/indicator/history",
        params={"dataElement": "TTHC_RECEIVED", "period": month, "orgUnit": COMMUNE, "categoryOptionCombo": "ONLINE"},
    )
    assert [(h["old_value"], h["new_value"], h["source"]) for h in history.json()] == [(None, "1200", "excel")]

    page = await staff.get("/indicators/entry", params={"ds": "TTHC_MONTHLY", "pe": month, "ou": COMMUNE})
    assert page.status_code == 200
    assert 'value="1200"' in page.text


async def test_json_csv_analytics_permissions_and_pages(login_as: Any, client: Any, world: World) -> None:
    finance = await login_as(Role.AGENCY_STAFF, agency_id=world.finance_agency)
    leader = await login_as(Role.LEADER)
    month = last_month()
    body = {
        "period": month,
        "orgUnit": "80",
        "dataValues": [{"dataElement": "SE_EXPORT", "value": "2100.5"}, {"dataElement": "SE_CPI", "value": "abc"}],
    }
    assert (await client.post("/api/v1/data-value-sets", json=body)).status_code == 401
    assert (await leader.post("/api/v1/data-value-sets", json=body)).status_code == 403
    dry = await finance.post("/api/v1/data-value-sets", params={"dryRun": "true"}, json=body)
    assert dry.status_code == 200
    assert dry.json()["status"] == "ERROR"
    partial = await finance.post("/api/v1/data-value-sets", params={"importStrategy": "store_valid"}, json=body)
    assert partial.json()["imported"] == 1
    assert [(c["row"], c["field"]) for c in partial.json()["conflicts"]] == [(2, "value")]
    csv_body = (
        "dataelement,period,orgunit,catoptcombo,attroptcombo,value\n"
        f"SE_RETAIL,{month},80,,,13500\nSE_RETAIL,2025Q1,80,,,1\n"
    )
    csv_result = await finance.post(
        "/api/v1/data-value-sets",
        params={"importStrategy": "store_valid"},
        content=csv_body,
        headers={"Content-Type": "text/csv"},
    )
    assert csv_result.json()["imported"] == 1
    assert csv_result.json()["conflicts"][0]["cell"] == "B3"
    assert (await finance.post("/api/v1/data-value-sets", content=b"{not json")).status_code == 400

    answer = await leader.get(
        "/api/v1/analytics", params={"dimension": ["dx:SE_EXPORT;SE_RETAIL", f"pe:{month}", "ou:80"]}
    )
    assert answer.status_code == 200
    assert answer.json()["rows"] == [["SE_EXPORT", month, "80", "2100.50"], ["SE_RETAIL", month, "80", "13500.00"]]
    excel = await leader.get(
        "/api/v1/analytics", params={"dimension": ["dx:SE_EXPORT", f"pe:{month}", "ou:80"], "format": "xlsx"}
    )
    assert excel.headers["content-type"] == XLSX
    assert (
        await leader.get("/api/v1/analytics", params={"dimension": ["dx:SE_EXPORT", "pe:x", "ou:80"]})
    ).status_code == 422
    assert (await client.get("/api/v1/analytics", params={"dimension": ["dx:SE_EXPORT"]})).status_code == 401

    for path in (
        "/indicators",
        "/indicators/overview/kinh_te_xa_hoi",
        "/indicators/overview/tthc",
        "/indicators/reconciliation",
    ):
        page = await leader.get(path)
        assert page.status_code == 200, path
    overview = await leader.get("/indicators/overview/kinh_te_xa_hoi")
    assert "data-mapping-unverified" in overview.text
    assert (await leader.get("/indicators/overview/no_such_pack")).status_code == 404
    assert (await client.get("/indicators")).status_code in (401, 403, 303)
    mapping = await leader.get("/api/v1/indicator/unit-mapping")
    assert len(mapping.json()) > 250
    assert not any(m["verified"] for m in mapping.json())


async def test_background_import_then_figures_carry_completeness_and_trace_to_reports(
    login_as: Any, runtime: Runtime, world: World
) -> None:
    admin = await login_as(Role.ADMIN)
    staff = await login_as(Role.AGENCY_STAFF, agency_id=world.commune_agency)
    head = await login_as(Role.AGENCY_HEAD, username="chu_tich_tn", agency_id=world.commune_agency)
    other = await login_as(Role.AGENCY_STAFF, agency_id=world.other_agency)
    month = last_month()
    balanced = {
        ("TTHC_RECEIVED", "CARRIED_OVER"): 10,
        ("TTHC_RECEIVED", "ONLINE"): 30,
        ("TTHC_RECEIVED", "IN_PERSON"): 20,
        ("TTHC_RESOLVED", "ON_TIME"): 50,
        ("TTHC_IN_PROGRESS", "WITHIN"): 10,
    }
    body = {
        "dataSet": "TTHC_MONTHLY",
        "period": month,
        "dataValues": [
            {"dataElement": de, "categoryOptionCombo": coc, "orgUnit": unit, "value": str(value + extra)}
            # The other commune received 5 more than it accounts for: the balance rule fails there.
            for unit, extra_coc in ((COMMUNE, None), (OTHER_COMMUNE, "IN_PERSON"))
            for (de, coc), value in balanced.items()
            for extra in [5 if coc == extra_coc else 0]
        ],
    }
    queued = await admin.post("/api/v1/data-value-sets", params={"async": "true"}, json=body)
    assert queued.status_code == 202, queued.text
    location = queued.headers["location"]
    assert (queued.json()["status"], queued.json()["total"]) == ("queued", 10)
    assert (await other.get(location)).status_code == 404  # someone else's import
    runner = JobRunner(runtime, {spec.name: spec for spec in JOBS})
    assert await runner.run_due() == 1
    done = (await admin.get(location)).json()
    assert (done["status"], done["processed"], done["percent"], done["summary"]["imported"]) == ("done", 10, 100, 10)
    page = await admin.get(done["page"])
    assert page.status_code == 200
    assert "<progress" in page.text
    assert 'data-status="done"' in page.text

    path = f"/api/v1/indicator/reports/TTHC_MONTHLY/{month}/{COMMUNE}"
    assert (await staff.post(f"{path}/submit")).status_code == 200
    assert (await head.post(f"{path}/approve")).status_code == 200
    answer = await admin.get(
        "/api/v1/analytics",
        params={"dimension": ["dx:TTHC_RECEIVED", f"pe:{month}", "ou:80;" + COMMUNE], "includeMetadata": "true"},
    )
    assert answer.status_code == 200, answer.text
    rows, cells = answer.json()["rows"], answer.json()["meta"]["cells"]
    assert [r[2] for r in rows] == ["80", COMMUNE]
    province, commune = cells
    # Two commune committees report TTHC_MONTHLY in the test province; one has submitted.
    assert (province["completeness"], province["validation"]) == (50.0, "violations")
    assert province["data_sets"][0]["rules"] == ["TTHC_BALANCE"]
    assert province["data_sets"][0]["expected"] == 2
    assert province["data_sets"][0]["actual"] == 1
    assert (commune["completeness"], commune["validation"], commune["violations"]) == (100.0, "ok", 0)
    plain = await admin.get("/api/v1/analytics", params={"dimension": ["dx:TTHC_RECEIVED", f"pe:{month}", "ou:80"]})
    assert "cells" not in plain.json()["meta"]

    trace = await admin.get("/api/v1/indicator/trace", params={"dx": "TTHC_ONTIME_RATE", "pe": month, "ou": "80"})
    assert trace.status_code == 200, trace.text
    reports = {r["org_unit"]: r for r in trace.json()["reports"]}
    assert set(reports) == {COMMUNE, OTHER_COMMUNE}
    assert (reports[COMMUNE]["status"], reports[COMMUNE]["approved_by"]) == ("approved", "chu_tich_tn")
    assert reports[COMMUNE]["values"] == 1
    assert reports[OTHER_COMMUNE]["status"] == "open"
    assert (await admin.get("/api/v1/indicator/trace", params={"dx": "X", "pe": month, "ou": "80"})).status_code == 422
    trace_page = await admin.get("/indicators/trace", params={"dx": "TTHC_RECEIVED", "pe": month, "ou": "80"})
    assert trace_page.status_code == 200
    assert f'data-unit="{COMMUNE}"' in trace_page.text
    overview = await admin.get("/indicators/overview/tthc")
    assert "/indicators/trace?" in overview.text
