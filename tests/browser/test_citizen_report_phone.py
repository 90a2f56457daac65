"""Citizen reports in a real headless Chromium: report from a phone with a photo, handle it at the desk, rate it."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import Page, ViewportSize, expect
from tests.browser.conftest import BrowserLogin
from tests.browser.page_checks import check_page

from ioc.core.runtime import Runtime
from ioc.core.security import Principal, PrincipalKind, Role
from ioc.core.settings import Settings
from ioc.modules import org_unit
from ioc.modules.citizen_report import Source
from ioc.modules.citizen_report import service as report_service
from ioc.modules.citizen_report.photos import MediaStore
from ioc.modules.citizen_report.schemas import ReportCreate

pytestmark = pytest.mark.browser

PHONE = ViewportSize(width=375, height=740)
DESK = ViewportSize(width=1280, height=900)
TAN_NINH = (11.61507, 105.86238)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Enable the module (and what it needs) whatever the suite runs with."""
    wanted = [m for m in ("org_unit", "notification", "citizen_report") if m not in settings.modules]
    return settings.model_copy(update={"modules": [*settings.modules, *wanted]})


def photo_with_gps(path: Path, lat: float, lon: float) -> Path:
    """Write a JPEG whose EXIF GPS says where it was taken, as a phone camera does."""

    def dms(value: float) -> tuple[float, float, float]:
        degrees = int(value)
        minutes = int((value - degrees) * 60)
        return (float(degrees), float(minutes), round(((value - degrees) * 60 - minutes) * 60, 4))

    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: dms(lat), 3: "E", 4: dms(lon)})
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), "#8a7f6b").save(buffer, format="JPEG", exif=exif)
    path.write_bytes(buffer.getvalue())
    return path


async def test_citizen_report_submitted_from_a_phone_with_a_photo_is_tracked(page: Page, tmp_path: Path) -> None:
    await page.set_viewport_size(PHONE)
    await page.goto("/phan-anh")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Phản ánh hiện trường")
    await expect(page.locator("#cr-map")).to_have_attribute("data-map-state", "ready")

    await page.get_by_label("Lĩnh vực").select_option("rac-thai")
    question = page.locator('[data-cr-questions="rac-thai"]')
    await expect(question).to_be_visible()
    await expect(page.locator('[data-cr-questions="den-chieu-sang"]')).to_be_hidden()
    await question.get_by_label("Khối lượng rác").select_option("nhieu")
    await page.get_by_label("Mô tả sự việc").fill("Đống rác lớn trên vỉa hè trước chợ, bốc mùi suốt ba ngày nay.")

    # The map pins a tapped place; the photo's own GPS is then offered and taken instead.
    suggestion = page.get_by_role("button", name="Dùng vị trí trong ảnh")
    await expect(suggestion).to_be_hidden()
    await page.locator("#cr-map").click()
    await expect(page.get_by_label("Vĩ độ")).not_to_have_value("")
    await page.get_by_label("Vĩ độ").fill("")
    await page.get_by_label("Kinh độ").fill("")
    await page.locator("#f-photos").set_input_files(photo_with_gps(tmp_path / "rac.jpg", *TAN_NINH))
    await expect(suggestion).to_be_visible()
    await suggestion.click()
    await expect(suggestion).to_be_hidden()
    await expect(page.get_by_label("Vĩ độ")).to_have_value(re.compile(r"^11\.615"))

    await page.get_by_role("button", name="Gửi phản ánh").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Đã gửi phản ánh")
    code = (await page.locator("[data-tracking-code]").inner_text()).strip()
    assert re.fullmatch(r"PA-\d{4}-\d{6}", code)
    await expect(page.locator("[data-rating-code]")).not_to_be_empty()

    await page.get_by_role("link", name="Xem trang theo dõi").click()
    await expect(page).to_have_url(re.compile(rf"/phan-anh/{code}$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(code)
    await expect(page.locator("[data-status]")).to_have_text("Mới tiếp nhận")
    await expect(page.locator("[data-timeline] li")).to_have_count(1)
    overflow: int = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


async def leave_signed_out(page: Page) -> None:
    """Sign out the way a person does: leave the page (its live stream with it), then drop the session."""
    await page.goto("about:blank")
    await page.context.clear_cookies()


async def test_citizen_report_inbox_lists_the_demo_reports_for_staff(
    page: Page, browser_login: BrowserLogin, runtime: Runtime
) -> None:
    await browser_login(page, role=Role.HOTLINE_OPERATOR)
    await page.goto("/citizen-reports")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Hộp phản ánh")
    rows = page.locator("#cr-inbox tbody tr")
    await expect(rows.first).to_be_visible()

    # A call recorded meanwhile by another operator (here from another process) appears without reloading.
    await expect(page.locator("html")).to_have_attribute("data-live", "online")
    report = ReportCreate(
        category_code="rac-thai",
        description="Rác thải sinh hoạt tràn ra lòng đường trước cổng chợ.",
        lat=TAN_NINH[0],
        lon=TAN_NINH[1],
        attributes={"khoi_luong": "nhieu"},
        source=Source.HOTLINE,
    )
    operator = Principal(
        kind=PrincipalKind.USER,
        id=None,
        name="Tổng đài viên",
        role=Role.HOTLINE_OPERATOR,
        scopes=runtime.scopes_for_role(Role.HOTLINE_OPERATOR),
    )
    async with runtime.db.transaction() as session:
        result = await report_service.submit(
            session,
            runtime,
            report,
            principal=operator,
            client_ip="203.0.113.7",
            store=MediaStore.under(runtime.settings.data_dir),
        )
    await expect(page.get_by_role("link", name=result.tracking_code)).to_be_visible(timeout=15_000)
    await page.get_by_label("Chỉ phản ánh quá hạn").check()
    await page.get_by_role("button", name="Lọc").click()
    await expect(page).to_have_url(re.compile(r"overdue=true"))
    await expect(page.locator('[data-export="csv"]')).to_have_attribute("href", re.compile(r"overdue=true"))


async def test_citizen_report_goes_from_a_phone_to_the_agency_and_back_to_the_citizen(
    page: Page, tmp_path: Path, browser_login: BrowserLogin, runtime: Runtime
) -> None:
    await page.goto("/phan-anh/thong-ke")
    await check_page(page, "vi")
    resolved_before = int(await page.locator("#cr-stats-total [data-resolved]").inner_text())

    # A citizen reports from a phone, with a photo.
    await page.set_viewport_size(PHONE)
    await page.goto("/phan-anh")
    await page.get_by_label("Lĩnh vực").select_option("rac-thai")
    await page.locator('[data-cr-questions="rac-thai"]').get_by_label("Khối lượng rác").select_option("nhieu")
    await page.get_by_label("Mô tả sự việc").fill("Rác xây dựng đổ trộm chắn nửa lòng đường cạnh trường học.")
    await page.get_by_label("Vĩ độ").fill(str(TAN_NINH[0]))
    await page.get_by_label("Kinh độ").fill(str(TAN_NINH[1]))
    await page.locator("#f-photos").set_input_files(photo_with_gps(tmp_path / "rac.jpg", *TAN_NINH))
    await page.get_by_role("button", name="Gửi phản ánh").click()
    code = (await page.locator("[data-tracking-code]").inner_text()).strip()
    token = (await page.locator("[data-rating-code]").inner_text()).strip()

    # The hotline operator accepts it and sends it to the routed agency (the ward's People's Committee).
    await page.set_viewport_size(DESK)
    await browser_login(page, role=Role.HOTLINE_OPERATOR)
    await page.goto(f"/citizen-reports?q={code}")
    await page.get_by_role("link", name=code).click()
    await check_page(page, "vi")
    await page.locator('[data-cr-action="accept"] button').click()
    await expect(page.locator("[data-status]")).to_have_text("Đã duyệt")
    await page.locator('[data-cr-action="assign"] button').click()
    await expect(page.locator("[data-status]")).to_have_text("Đã chuyển xử lý")

    # The ward's officer finds it in the agency's own inbox and resolves it with a proof photo.
    async with runtime.db.session() as session:
        ward = (await org_unit.get_agency(session, "UBND-25459")).id
    await leave_signed_out(page)
    await browser_login(page, role=Role.AGENCY_STAFF, agency_id=ward)
    await page.goto("/citizen-reports?mine=true")
    await page.get_by_role("link", name=code).click()
    await page.get_by_label("Kết quả xử lý (công khai)").fill("Đã thu dọn toàn bộ rác, thông đường.")
    await page.locator("#f-resolve-photos").set_input_files(photo_with_gps(tmp_path / "xong.jpg", *TAN_NINH))
    # The proof photo is checked and resized on the server: on a machine busy with other work that can take a while.
    async with page.expect_navigation(timeout=60_000):
        await page.locator('[data-cr-action="resolve"] button').click()
    await expect(page.locator("[data-status]")).to_have_text("Đã xử lý")
    await expect(page.locator(".cr-photos img")).to_have_count(2)

    # The citizen rates it from the tracking page; the public list and statistics show it.
    await leave_signed_out(page)
    await page.set_viewport_size(PHONE)
    await page.goto(f"/phan-anh/{code}")
    await expect(page.locator("[data-result]")).to_have_text("Đã thu dọn toàn bộ rác, thông đường.")
    await page.get_by_label("Mã đánh giá").fill(token)
    await page.get_by_label("Hài lòng", exact=True).check()
    await page.get_by_role("button", name="Gửi đánh giá").click()
    await expect(page.locator("[data-status]")).to_have_text("Hoàn thành")
    await page.goto("/phan-anh/ban-do")
    await check_page(page, "vi")
    await expect(page.locator("#cr-public-map")).to_have_attribute("data-map-state", "ready")
    await page.goto("/phan-anh/thong-ke")
    await expect(page.locator("#cr-stats-total [data-resolved]")).to_have_text(str(resolved_before + 1))
