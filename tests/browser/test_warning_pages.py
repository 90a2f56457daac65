"""Public warnings in a real headless Chromium: write with a drawn area, approve as a second person, see it public."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, ViewportSize, expect
from tests.browser.conftest import BrowserLogin
from tests.browser.page_checks import check_page, horizontal_overflow, map_ready, switch_language

from ioc.core.security import Role

pytestmark = pytest.mark.browser

DESK = ViewportSize(width=1280, height=900)
PHONE = ViewportSize(width=375, height=740)


async def test_warning_is_written_with_a_drawn_area_approved_by_another_person_and_shown_publicly(
    page: Page, browser_login: BrowserLogin
) -> None:
    await page.set_viewport_size(DESK)
    await browser_login(page, role=Role.AGENCY_STAFF)
    await page.goto("/canh-bao/quan-ly/moi")
    await check_page(page, "vi")
    await page.get_by_label("Mức độ").select_option("Severe")
    await page.get_by_label("Sự kiện (tiếng Việt)").fill("Ngập lụt")
    await page.get_by_label("Sự kiện (tiếng Anh)").fill("Flood")
    await page.get_by_label("Tiêu đề (tiếng Việt)").fill("Nước sông Vàm Cỏ Đông lên nhanh")
    await page.get_by_label("Tiêu đề (tiếng Anh)").fill("Vam Co Dong river rising fast")
    await page.get_by_label("Mô tả (tiếng Việt)").fill("Mực nước vượt báo động 2.")
    await page.get_by_label("Mô tả (tiếng Anh)").fill("The water level is above alarm level 2.")
    await page.get_by_label("Hết hiệu lực").fill("2099-01-01T08:00")
    await page.get_by_label("Lọc theo tên").fill("tan ninh")
    await page.get_by_label("Phường Tân Ninh").check()
    await map_ready(page, "#warning-draw-map")
    await page.get_by_role("button", name="Bắt đầu vẽ").click()
    await page.locator("#warning-draw-map").scroll_into_view_if_needed()
    box = await page.locator("#warning-draw-map").bounding_box()
    assert box is not None
    for dx, dy in ((0.45, 0.45), (0.55, 0.45), (0.5, 0.55)):
        await page.mouse.click(box["x"] + box["width"] * dx, box["y"] + box["height"] * dy)
    await page.get_by_role("button", name="Kết thúc vùng").click()
    polygons = await page.get_by_label("Vùng vẽ (GeoJSON)").input_value()
    assert '"type":"Polygon"' in polygons
    async with page.expect_navigation():
        await page.get_by_role("button", name="Lưu và gửi duyệt").click()
    await expect(page.locator(".page-header [data-state]")).to_have_attribute("data-state", "pending_approval")
    await expect(page.locator("[data-own-warning]")).to_be_visible()
    detail_url = page.url

    await page.context.clear_cookies()
    await browser_login(page, role=Role.AGENCY_HEAD)
    await page.goto("/canh-bao/quan-ly")
    await expect(page.locator("[data-approval-queue] [data-warning-id]")).to_have_count(1)
    await page.goto(detail_url)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Duyệt và phát hành").click()
    await expect(page.locator(".page-header [data-state]")).to_have_attribute("data-state", "published")
    await expect(page.locator("[data-delivery-report]")).to_be_visible()

    await page.context.clear_cookies()
    await page.set_viewport_size(PHONE)
    await page.goto("/canh-bao")
    await check_page(page, "vi")
    await expect(page.locator("[data-warning-list] h2")).to_contain_text(["Nước sông Vàm Cỏ Đông lên nhanh"])
    await map_ready(page, "#warning-map")
    # The drawn area and Phường Tân Ninh, beside the demo's flood warning over three wards (its expired one is gone).
    await expect(page.locator("#warning-map")).to_have_attribute("data-feature-count", "5")
    assert await horizontal_overflow(page) <= 0
    await switch_language(page, "en")
    await check_page(page, "en")
    await expect(page.locator("[data-warning-list] h2")).to_contain_text(["Vam Co Dong river rising fast"])
    await page.goto("/canh-bao/dang-ky")
    await check_page(page, "en")
    assert await horizontal_overflow(page) <= 0
