"""Editing a station in a real headless Chromium: the map picker, the kind's own settings, Vietnamese errors."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect
from tests.browser.conftest import BrowserLogin, PageGuard
from tests.browser.page_checks import check_page, map_ready, save_screenshot

pytestmark = pytest.mark.browser


async def test_environment_station_form_picks_a_place_and_explains_errors_in_vietnamese(
    page: Page, browser_login: BrowserLogin, page_guard: PageGuard
) -> None:
    page_guard.allow_console(r"status of 422 .*/environment/stations/KK-TANNINH/edit")  # the refusal under test
    await browser_login(page)
    await page.goto("/environment/stations/KK-TANNINH")
    await page.locator("[data-edit-station]").click()
    await page.wait_for_url("**/environment/stations/KK-TANNINH/edit")
    await map_ready(page, "#env-picker-map")
    lat = page.get_by_label("Vĩ độ")
    before = await lat.input_value()
    await page.locator("#env-picker-map").click(position={"x": 120, "y": 90})
    await expect(lat).not_to_have_value(before)

    # Client-side: an emptied name is explained under the field as soon as it loses focus.
    name = page.get_by_label("Tên trạm (tiếng Việt)")
    await name.fill("")
    await name.blur()
    await expect(page.locator("#f-name-inline-error")).to_have_text("Vui lòng nhập trường này.")
    await name.fill("Trạm không khí phường Tân Ninh (mới)")

    # Only the chosen kind's settings are offered; the server names what is missing, in Vietnamese.
    await expect(page.get_by_label("Cột QCVN 40:2011/BTNMT")).to_be_hidden()
    await page.get_by_label("Loại trạm").select_option("wastewater")
    await expect(page.get_by_label("Cột QCVN 40:2011/BTNMT")).to_be_visible()
    await expect(page.get_by_label("Tính thêm US AQI (EPA 2024) bên cạnh VN_AQI")).to_be_hidden()
    await page.get_by_role("button", name="Lưu").click()
    await expect(page.locator("[data-error-summary]")).to_contain_text("Chọn cột A hoặc B của QCVN 40:2011/BTNMT")
    await check_page(page, "vi")
    await save_screenshot(page, "environment-station-form-vi")

    await page.get_by_label("Loại trạm").select_option("air")
    await page.get_by_label("Tên trạm (tiếng Việt)").fill("Trạm không khí phường Tân Ninh (mới)")
    await page.get_by_role("button", name="Lưu").click()
    await page.wait_for_url("**/environment/stations/KK-TANNINH")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Trạm không khí phường Tân Ninh (mới)")
