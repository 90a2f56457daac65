"""The environment pages in a real headless Chromium: the staff AQI calculator and the public index page."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, ViewportSize, expect
from tests.browser.conftest import BrowserLogin, PageGuard

from ioc.core.security import Role

pytestmark = pytest.mark.browser

PHONE = ViewportSize(width=360, height=740)


async def test_environment_calculator_reproduces_the_daily_worked_example(
    page: Page, browser_login: BrowserLogin
) -> None:
    """Decision 1459/QĐ-TCMT §2.3.c through the form: O3 8h 89,3; O3 1h 114,6; NO2 130,8; PM2.5 24h 55,7 → 110."""
    await browser_login(page, role=Role.AGENCY_STAFF)
    await page.goto("/environment/calculator")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Tính chỉ số chất lượng không khí")
    await page.get_by_label("Thời đoạn").select_option("day")
    # Only the inputs of the daily VN_AQI are offered, with their unit.
    await expect(page.locator('[data-input="PM2.5_nowcast"]')).to_be_hidden()
    await expect(page.locator('label[for]:has([data-unit-for="PM2.5"])').first).to_contain_text("µg/m³")
    await page.locator('[data-input="O3_8h"]').fill("89.3")
    await page.locator('[data-input="O3_1h"]').fill("114.6")
    await page.locator('[data-input="NO2_1h"]').fill("130.8")
    await page.locator('[data-input="PM2.5_24h"]').fill("55.7")
    await page.get_by_role("button", name="Tính chỉ số").click()
    result = page.locator("[data-result]")
    await expect(result.locator("[data-aqi-value]")).to_have_text("110")
    await expect(result.locator(".aqi-badge")).to_have_attribute("data-category", "poor")
    await expect(result).to_contain_text("Kém")
    await expect(result).to_contain_text("PM2.5")
    await expect(result.locator(".aqi-badge")).to_have_css("background-color", "rgb(255, 126, 0)")


async def test_environment_calculator_hourly_example_and_an_error(
    page: Page, browser_login: BrowserLogin, page_guard: PageGuard
) -> None:
    """The hourly example button fills the guide's PM2.5 hours (§2.3.a–b): the index is 59, not the printed 60.
    Then a series with the two latest hours missing is refused with the NowCast rule, in Vietnamese."""
    page_guard.allow_console(r"status of 422")  # the refusal below is the answer under test
    await browser_login(page, role=Role.HOTLINE_OPERATOR)
    await page.goto("/environment/calculator")
    await page.get_by_role("button", name="Ví dụ QĐ 1459: AQI giờ").click()
    await expect(page.locator('[data-series="PM2.5"]')).to_have_value(
        "26.9, 24.7, 20.5, 23.5, 19.5, 16.5, 19, 16.5, 20.3, 22.4, 19.6, 20.6"
    )
    await page.get_by_role("button", name="Tính chỉ số").click()
    await expect(page.locator("[data-aqi-value]")).to_have_text("59")
    await expect(page.locator("[data-result]")).to_contain_text("NO2")

    await page.locator('[data-series="PM2.5"]').fill("26.9, 24.7, 20.5, null, ,")
    await page.locator('[data-input="O3_1h"]').fill("")
    await page.locator('[data-input="NO2_1h"]').fill("")
    await page.get_by_role("button", name="Tính chỉ số").click()
    error = page.locator("[data-result-error]")
    await expect(error).to_be_visible()
    await expect(error).to_contain_text("2 trong 3 giờ gần nhất")
    await expect(error).to_contain_text("PM10, PM2,5")
    await expect(page.locator("[data-result]")).to_be_hidden()


async def test_environment_calculator_in_english_for_us_aqi(page: Page, browser_login: BrowserLogin) -> None:
    await browser_login(page, role=Role.LEADER)
    await page.goto("/environment/calculator?lang=en")
    await page.get_by_label("Index").select_option("US_AQI")
    await page.get_by_label("Period").select_option("day")
    await expect(page.locator('label:has([data-unit-for="O3"])').first).to_contain_text("ppm")
    await page.locator('[data-input="O3_8h"]').fill("0.07853")
    await page.locator('[data-input="PM2.5_24h"]').fill("35.9")
    await page.get_by_role("button", name="Compute").click()
    await expect(page.locator("[data-aqi-value]")).to_have_text("126")
    await expect(page.locator("[data-result]")).to_contain_text("Unhealthy for Sensitive Groups")


async def test_environment_public_index_page_on_a_phone(page: Page, page_guard: PageGuard) -> None:
    await page.set_viewport_size(PHONE)
    await page.goto("/moi-truong/chi-so")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Chỉ số chất lượng không khí")
    levels = page.locator(".aqi-scale .aqi-level")
    await expect(levels).to_have_count(6)
    await expect(levels.nth(5).locator(".aqi-swatch")).to_have_css("background-color", "rgb(126, 0, 35)")
    await expect(levels.nth(5).locator(".aqi-swatch")).to_have_css("color", "rgb(255, 255, 255)")
    overflow: int = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    await page.goto("/moi-truong/chi-so?lang=en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Air quality index")
