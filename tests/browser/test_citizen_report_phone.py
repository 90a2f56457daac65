"""Citizen reports in a real headless Chromium on a phone-sized screen: report with a photo, then track it."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import Page, ViewportSize, expect
from tests.browser.conftest import BrowserLogin

from ioc.core.security import Role
from ioc.core.settings import Settings

pytestmark = pytest.mark.browser

PHONE = ViewportSize(width=375, height=740)
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


async def test_citizen_report_inbox_lists_the_demo_reports_for_staff(page: Page, browser_login: BrowserLogin) -> None:
    await browser_login(page, role=Role.HOTLINE_OPERATOR)
    await page.goto("/citizen-reports")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Hộp phản ánh")
    rows = page.locator("#cr-inbox tbody tr")
    await expect(rows.first).to_be_visible()
    await page.get_by_label("Chỉ phản ánh quá hạn").check()
    await page.get_by_role("button", name="Lọc").click()
    await expect(page).to_have_url(re.compile(r"overdue=true"))
    await expect(page.locator('[data-export="csv"]')).to_have_attribute("href", re.compile(r"overdue=true"))
