"""Staff pages (hotline console, report detail with its actions, bulk assignment) and the public map and statistics."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import httpx

from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.modules.citizen_report import service

from .conftest import COMMUNE_AGENCY, INSIDE, NEAR, ROAD_AGENCY, Submit, agency_id, jpeg_bytes, principal

LoginAs = Callable[..., Awaitable[httpx.AsyncClient]]


async def test_the_hotline_console_records_a_call_with_the_callers_phone_kept_private(
    client: httpx.AsyncClient, runtime: Runtime, submit: Submit, login_as: LoginAs
) -> None:
    earlier = await submit()
    staff = await login_as(Role.AGENCY_STAFF)
    assert (await staff.get("/citizen-reports/tong-dai")).status_code == 403
    operator = await login_as(Role.HOTLINE_OPERATOR)
    console = await operator.get("/citizen-reports/tong-dai")
    assert console.status_code == 200
    assert "Tổng đài 1022" in console.text
    assert 'name="photos"' not in console.text
    assert "data-cr-nearby" in console.text
    call = {
        "category_code": "rac-thai",
        "attribute[volume]": "large",
        "description": "Người gọi báo rác đổ trộm trước chợ, rất nhiều.",
        "lat": str(NEAR[0]),
        "lon": str(NEAR[1]),
        "reporter_name": "Trần Văn Gọi",
        "reporter_phone": "0912345678",
    }
    # Duplicate suggestions come before saving: the form asks the nearby endpoint, staff see unaccepted ones too.
    nearby = await operator.get(
        "/api/v1/citizen-reports/nearby", params={"category": "rac-thai", "lat": NEAR[0], "lon": NEAR[1]}
    )
    assert [c["tracking_code"] for c in nearby.json()] == [earlier.tracking_code]
    saved = await operator.post("/citizen-reports/tong-dai", data=call)
    assert saved.status_code == 201, saved.text
    found = re.search(r'href="/citizen-reports/(\d+)" data-tracking-code>(PA-\d{4}-\d{6})<', saved.text)
    assert found is not None
    report_id, code = int(found.group(1)), found.group(2)
    detail = (await operator.get(f"/api/v1/citizen-reports/{report_id}")).json()
    assert detail["source"] == "hotline"
    assert detail["reporter"]["phone"] == "0912345678"
    public = (await client.get(f"/api/v1/citizen-reports/track/{code}")).text
    assert "0912345678" not in public
    assert "Trần Văn Gọi" not in public
    bad = await operator.post("/citizen-reports/tong-dai", data={**call, "lat": "", "lon": ""})
    assert bad.status_code == 422
    assert "Hãy chọn vị trí" in bad.text


async def test_the_detail_page_offers_only_the_actions_the_viewer_may_take_and_runs_them(
    runtime: Runtime, submit: Submit, login_as: LoginAs
) -> None:
    report = await submit()
    operator = await login_as(Role.HOTLINE_OPERATOR)
    page = await operator.get(f"/citizen-reports/{report.id}")
    assert page.status_code == 200
    assert 'data-cr-action="accept"' in page.text
    assert 'data-cr-action="reject"' in page.text
    assert 'data-cr-action="resolve"' not in page.text
    accepted = await operator.post(f"/citizen-reports/{report.id}", data={"action": "accept"})
    assert accepted.status_code == 303
    page = await operator.get(accepted.headers["location"])
    assert 'data-cr-action="assign"' in page.text
    assert 'data-cr-done="accept"' in page.text
    assigned = await operator.post(f"/citizen-reports/{report.id}", data={"action": "assign", "agency_code": ""})
    assert assigned.status_code == 303

    commune = await agency_id(runtime, COMMUNE_AGENCY)
    other_agency = await login_as(Role.AGENCY_STAFF, agency_id=await agency_id(runtime, ROAD_AGENCY))
    page = await other_agency.get(f"/citizen-reports/{report.id}")
    assert 'data-cr-action="resolve"' not in page.text
    refused = await other_agency.post(f"/citizen-reports/{report.id}", data={"action": "start"})
    assert refused.status_code == 403
    assert 'role="alert"' in refused.text

    staff = await login_as(Role.AGENCY_STAFF, agency_id=commune)
    page = await staff.get(f"/citizen-reports/{report.id}")
    for action in ("start", "resolve", "return", "extension"):
        assert f'data-cr-action="{action}"' in page.text
    assert 'data-cr-action="accept"' not in page.text
    too_short = await staff.post(f"/citizen-reports/{report.id}", data={"action": "resolve", "result": "ok"})
    assert too_short.status_code == 422
    assert "ít nhất 5 ký tự" in too_short.text
    asked = await staff.post(
        f"/citizen-reports/{report.id}", data={"action": "extension", "days": "3", "reason": "Chờ xe"}
    )
    assert asked.status_code == 303
    head = await login_as(Role.AGENCY_HEAD, agency_id=commune)
    page = await head.get(f"/citizen-reports/{report.id}")
    assert 'data-cr-action="extension_approve"' in page.text
    approved = await head.post(f"/citizen-reports/{report.id}", data={"action": "extension_approve", "days": "2"})
    assert approved.status_code == 303
    resolved = await staff.post(
        f"/citizen-reports/{report.id}",
        data={"action": "resolve", "result": "Đã thu gom toàn bộ rác."},
        files=[("photos", ("xong.jpg", jpeg_bytes(), "image/jpeg"))],
    )
    assert resolved.status_code == 303
    detail = (await staff.get(f"/api/v1/citizen-reports/{report.id}")).json()
    assert detail["status"] == "resolved"
    assert detail["extension_count"] == 1
    assert [p["kind"] for p in detail["photos"]] == ["proof"]
    page = await staff.get(f"/citizen-reports/{report.id}")
    assert "Đã thu gom toàn bộ rác." in page.text
    assert 'data-action="extension_approved"' in page.text


async def test_operators_merge_a_duplicate_by_its_tracking_code(
    runtime: Runtime, submit: Submit, login_as: LoginAs
) -> None:
    first = await submit()
    second = await submit(point=NEAR)
    operator = await login_as(Role.HOTLINE_OPERATOR)
    page = await operator.get(f"/citizen-reports/{second.id}")
    assert "data-cr-duplicates" in page.text
    assert f'<option value="{first.tracking_code}">' in page.text
    merged = await operator.post(
        f"/citizen-reports/{second.id}", data={"action": "merge", "other": first.tracking_code}
    )
    assert merged.status_code == 303
    unknown = await operator.post(f"/citizen-reports/{first.id}", data={"action": "link", "other": "PA-2020-999999"})
    assert unknown.status_code == 404
    async with runtime.db.session() as session:
        assert (await service.get_report(session, second.id, principal(runtime, Role.ADMIN))).status == "merged"


async def test_bulk_assignment_moves_the_selected_accepted_reports_and_counts_the_rest(
    runtime: Runtime, submit: Submit, login_as: LoginAs
) -> None:
    first, second, waiting = await submit(), await submit(), await submit()
    operator_principal = principal(runtime, Role.HOTLINE_OPERATOR)
    async with runtime.db.transaction() as session:
        for report in (first, second):
            await service.accept(session, runtime, report.id, operator_principal)
    operator = await login_as(Role.HOTLINE_OPERATOR)
    inbox = await operator.get("/citizen-reports")
    assert 'form="cr-bulk"' in inbox.text
    assert f'<option value="{ROAD_AGENCY}">' in inbox.text
    done = await operator.post(
        "/citizen-reports/giao-hang-loat",
        data={
            "ids": [str(first.id), str(second.id), str(waiting.id)],
            "agency_code": ROAD_AGENCY,
            "back": "/citizen-reports?status=accepted",
        },
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/citizen-reports?status=accepted&giao=2&loi=1"
    assigned = (await operator.get("/api/v1/citizen-reports", params={"agency": ROAD_AGENCY})).json()
    assert {r["tracking_code"] for r in assigned["items"]} == {first.tracking_code, second.tracking_code}
    staff = await login_as(Role.AGENCY_STAFF)
    assert (await staff.post("/citizen-reports/giao-hang-loat", data={"ids": [str(waiting.id)]})).status_code == 403


async def test_the_public_map_and_statistics_pages_show_accepted_reports_only(
    client: httpx.AsyncClient, runtime: Runtime, submit: Submit
) -> None:
    shown = await submit(reporter_name="Nguyễn Thị Riêng", reporter_phone="0987654321")
    hidden = await submit(point=INSIDE)
    async with runtime.db.transaction() as session:
        await service.accept(session, runtime, shown.id, principal(runtime, Role.HOTLINE_OPERATOR))
    page = await client.get("/phan-anh/ban-do")
    assert page.status_code == 200
    assert shown.tracking_code in page.text
    assert hidden.tracking_code not in page.text
    assert "0987654321" not in page.text
    # The layer follows the view (public_map.js adds bbox and zoom); the map component itself loads nothing.
    assert 'data-cr-layer-url="/api/v1/citizen-reports.geojson?"' in page.text
    assert 'data-geojson-url=""' in page.text
    stats = await client.get("/phan-anh/thong-ke")
    assert stats.status_code == 200
    assert re.search(r'id="cr-stats-total".*?data-received>1<', stats.text, re.S)
    assert "Theo cơ quan xử lý" in stats.text
    english = await client.get(
        "/phan-anh/thong-ke", params={"lang": "en", "date_from": "2030-01-02", "date_to": "2030-01-01"}
    )
    assert english.status_code == 422
    assert "Per agency" in english.text
