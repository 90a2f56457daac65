"""The telemetry pages in a real headless Chromium: devices, one station, and dead letters from a bad message."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.async_api import Page, ViewportSize, expect
from tests.browser.conftest import BrowserLogin, PageGuard
from tests.browser.page_checks import check_page, horizontal_overflow, save_screenshot, switch_language

pytestmark = pytest.mark.browser

PHONE = ViewportSize(width=375, height=740)
STATION = "KK-TANNINH"

# shell.js adds the CSRF header to fetch calls made from a logged-in page.
POST_JSON = """
async ([url, body, headers]) => {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.text() };
}
"""


async def post(page: Page, url: str, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """POST from the page as the logged-in user would."""
    answer: dict[str, Any] = await page.evaluate(POST_JSON, [url, body, headers or {}])
    return answer


async def test_telemetry_devices_list_shows_the_demo_stations_and_opens_one(
    page: Page, browser_login: BrowserLogin
) -> None:
    await browser_login(page)
    await page.goto("/telemetry/devices")
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await expect(page.get_by_text(STATION)).to_be_visible()
    await check_page(page, "vi")
    await save_screenshot(page, "telemetry-devices-vi")
    await page.get_by_role("link", name=STATION).first.click()
    await page.wait_for_url(f"**/telemetry/devices/{STATION}")
    await expect(page.get_by_text("PM2.5").first).to_be_visible()
    await check_page(page, "vi")
    await switch_language(page, "en")
    await check_page(page, "en")
    await save_screenshot(page, "telemetry-device-en")
    await page.set_viewport_size(PHONE)
    assert await horizontal_overflow(page) <= 1


async def test_telemetry_malformed_message_shows_up_in_dead_letters_with_its_reason(
    page: Page, browser_login: BrowserLogin, page_guard: PageGuard
) -> None:
    # The refusal of the malformed message is the point of the test; the browser logs the 422.
    page_guard.allow_console("status of 422")
    await browser_login(page)
    await page.goto("/telemetry/devices")
    issued = await post(page, f"/api/v1/telemetry/devices/{STATION}/token", {})
    assert issued["status"] == 200, issued
    token = json.loads(issued["body"])["token"]
    refused = await post(page, "/api/v1/telemetry", "{not json", {"X-Device-Token": token})
    assert refused["status"] == 422, refused
    await page.goto("/telemetry/dead-letters")
    await expect(page.locator("table tbody tr").first).to_be_visible()
    await expect(page.get_by_text(STATION).first).to_be_visible()
    await expect(page.get_by_text("{not json").first).to_be_attached()
    await check_page(page, "vi")
    await save_screenshot(page, "telemetry-dead-letters-vi")
