"""The HTML pages: the public form and tracking page, and the staff inbox."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy import func, select

from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.modules.citizen_report import service
from ioc.modules.citizen_report.models import Report
from ioc.modules.citizen_report.photos import MediaStore
from ioc.modules.citizen_report.schemas import AssignInput, ResolveInput

from .conftest import COMMUNE_AGENCY, INSIDE, OUTSIDE, Categories, Submit, agency_id, jpeg_bytes, principal

LoginAs = Callable[..., Awaitable[httpx.AsyncClient]]
FORM = {
    "category_code": "rac-thai",
    "attribute[volume]": "small",
    "description": "Rác sinh hoạt đổ bừa bãi ở góc đường, bốc mùi.",
    "lat": str(INSIDE[0]),
    "lon": str(INSIDE[1]),
    "address": "Góc đường 30/4",
}


async def _count(runtime: Runtime) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Report)) or 0)


async def test_the_form_lists_the_categories_in_vietnamese_and_english(
    client: httpx.AsyncClient, categories: Categories
) -> None:
    page = await client.get("/phan-anh")
    assert page.status_code == 200
    assert "<h1>Phản ánh hiện trường</h1>" in page.text
    assert 'value="rac-thai"' in page.text
    assert "Ổ gà, hư hỏng mặt đường" in page.text
    assert 'data-cr-questions="rac-thai"' in page.text
    english = await client.get("/phan-anh", params={"lang": "en"})
    assert "<h1>Report a problem</h1>" in english.text
    assert "Potholes" in english.text


async def test_sending_the_form_with_a_photo_shows_both_codes(
    client: httpx.AsyncClient, runtime: Runtime, categories: Categories
) -> None:
    response = await client.post("/phan-anh", data=FORM, files=[("photos", ("rac.jpg", jpeg_bytes(), "image/jpeg"))])
    assert response.status_code == 201, response.text
    code = re.search(r"data-tracking-code>(PA-\d{4}-\d{6})<", response.text)
    assert code is not None
    assert "data-rating-code>" in response.text
    assert f'href="/phan-anh/{code.group(1)}"' in response.text
    assert await _count(runtime) == 1


async def test_a_form_without_a_location_or_outside_the_province_is_shown_again_with_the_reason(
    client: httpx.AsyncClient, runtime: Runtime, categories: Categories
) -> None:
    missing = await client.post("/phan-anh", data={**FORM, "lat": "", "lon": ""})
    assert missing.status_code == 422
    assert "Hãy chọn vị trí trên bản đồ" in missing.text
    assert "Rác sinh hoạt đổ bừa bãi" in missing.text  # what was typed is kept
    outside = await client.post("/phan-anh", data={**FORM, "lat": str(OUTSIDE[0]), "lon": str(OUTSIDE[1])})
    assert outside.status_code == 422
    assert "nằm ngoài địa bàn tỉnh" in outside.text
    assert await _count(runtime) == 0


async def test_the_tracking_page_lets_the_citizen_rate_once_resolved(
    client: httpx.AsyncClient, runtime: Runtime, submit: Submit
) -> None:
    result = await submit()
    page = await client.get(f"/phan-anh/{result.tracking_code}")
    assert page.status_code == 200
    assert "Mới tiếp nhận" in page.text
    assert 'id="danh-gia"' not in page.text
    operator = principal(runtime, Role.HOTLINE_OPERATOR)
    staff = principal(runtime, Role.AGENCY_STAFF, await agency_id(runtime, COMMUNE_AGENCY))
    async with runtime.db.transaction() as session:
        await service.accept(session, runtime, result.id, operator)
        await service.assign(session, runtime, result.id, operator, AssignInput())
        await service.resolve(
            session, runtime, result.id, staff, ResolveInput(result="Đã dọn sạch."),
            store=MediaStore.under(runtime.settings.data_dir),
        )  # fmt: skip
    page = await client.get(f"/phan-anh/{result.tracking_code}")
    assert 'id="danh-gia"' in page.text
    assert "Đã dọn sạch." in page.text
    wrong = await client.post(
        f"/phan-anh/{result.tracking_code}/danh-gia", data={"token": "khong-dung-ma", "rating": "satisfied"}
    )
    assert wrong.status_code == 403
    assert "Mã đánh giá không đúng" in wrong.text
    rated = await client.post(
        f"/phan-anh/{result.tracking_code}/danh-gia", data={"token": result.rating_token, "rating": "satisfied"}
    )
    assert rated.status_code == 303
    after = await client.get(rated.headers["location"])
    assert "Cảm ơn bạn đã đánh giá" in after.text
    assert "Hoàn thành" in after.text


async def test_the_lookup_goes_to_the_tracking_page(client: httpx.AsyncClient, submit: Submit) -> None:
    result = await submit()
    found = await client.get("/phan-anh/tra-cuu", params={"ma": result.tracking_code.lower()})
    assert found.status_code == 303
    assert found.headers["location"] == f"/phan-anh/{result.tracking_code}"
    bad = await client.get("/phan-anh/tra-cuu", params={"ma": "123"})
    assert bad.status_code == 303
    assert "ma_sai=1" in bad.headers["location"]
    assert (await client.get("/phan-anh/PA-2026-999999")).status_code == 404


async def test_the_inbox_is_for_staff_and_filters_by_agency(
    client: httpx.AsyncClient, runtime: Runtime, submit: Submit, login_as: LoginAs
) -> None:
    first = await submit()
    second = await submit()
    operator = principal(runtime, Role.HOTLINE_OPERATOR)
    async with runtime.db.transaction() as session:
        await service.accept(session, runtime, first.id, operator)
        await service.assign(session, runtime, first.id, operator, AssignInput())
    anonymous = await client.get("/citizen-reports", headers={"Accept": "text/html"})
    assert anonymous.status_code in (302, 303)
    assert "/login" in anonymous.headers["location"]
    staff = await login_as(Role.AGENCY_STAFF, agency_id=await agency_id(runtime, COMMUNE_AGENCY))
    inbox = await staff.get("/citizen-reports")
    assert inbox.status_code == 200
    assert first.tracking_code in inbox.text
    assert second.tracking_code in inbox.text
    mine = await staff.get("/citizen-reports", params={"mine": "true"})
    assert first.tracking_code in mine.text
    assert second.tracking_code not in mine.text
    assert "export.csv?mine=true" in mine.text
    citizen = await login_as(Role.CITIZEN)
    assert (await citizen.get("/citizen-reports")).status_code == 403
