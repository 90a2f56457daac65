"""The environment station pages in a real headless Chromium: the map, a station updated live, the public page."""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.async_api import Page, ViewportSize, expect
from tests.browser.conftest import BrowserLogin
from tests.browser.page_checks import check_page, horizontal_overflow, map_ready, save_screenshot
from tests.browser.test_telemetry_pages import post

pytestmark = pytest.mark.browser

PHONE = ViewportSize(width=375, height=740)
EPISODE = "KK-PHUOCDONG"


async def test_environment_station_map_and_a_station_shows_a_new_reading_within_a_second(
    page: Page, browser_login: BrowserLogin
) -> None:
    await browser_login(page)
    await page.goto("/environment/stations")
    await map_ready(page, "#env-map")
    await expect(page.locator("#env-map")).to_have_attribute("data-feature-count", "14")
    await expect(page.locator(f'#env-stations tr[data-station="{EPISODE}"]')).to_be_visible()
    await check_page(page, "vi")
    await save_screenshot(page, "environment-stations-vi")

    await page.get_by_role("link", name="Trạm không khí KCN Phước Đông").click()
    await page.wait_for_url(f"**/environment/stations/{EPISODE}")
    await expect(page.locator('[data-chart="index"]')).to_have_attribute("data-chart-state", "ready")
    await expect(page.locator("#env-exceedances")).to_contain_text("PM2.5")
    await expect(page.locator("html")).to_have_attribute("data-live", "online")
    issued = await post(page, f"/api/v1/telemetry/devices/{EPISODE}/token", {})
    assert issued["status"] == 200, issued
    token = json.loads(issued["body"])["token"]
    started = time.monotonic()
    sent = await post(
        page,
        "/api/v1/telemetry",
        {"ts": int(time.time() * 1000), "values": {"pm25": 432.1}},
        {"X-Device-Token": token},
    )
    assert sent["status"] in (200, 202), sent
    cell = page.locator('#env-latest tr[data-parameter="PM2.5"] [data-value]')
    await expect(cell).to_contain_text("432,1", timeout=3000)
    # Ingestion → outbox → live stream → the page's fetch of the newest readings: within a second here.
    assert time.monotonic() - started < 1.5
    await check_page(page, "vi")
    await save_screenshot(page, "environment-station-vi")


async def test_environment_public_air_quality_page_on_a_phone(page: Page) -> None:
    await page.set_viewport_size(PHONE)
    await page.goto("/moi-truong/khong-khi")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Chất lượng không khí hiện tại")
    await map_ready(page, "#env-map")
    items = page.locator("#env-air [data-station]")
    await expect(items).to_have_count(8)
    badge = page.locator(f'#env-air [data-station="{EPISODE}"] [data-index-badge]')
    await expect(badge).to_have_text(re.compile(r"^\d+$"))
    await check_page(page, "vi")
    assert await horizontal_overflow(page) <= 1
    await save_screenshot(page, "environment-air-public-vi")
