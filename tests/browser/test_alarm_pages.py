"""The alarm pages in a real headless Chromium: a new critical alarm appears live, is acknowledged and opened."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.async_api import Page, expect
from tests.browser.conftest import BrowserLogin, PageGuard
from tests.browser.page_checks import check_page, save_screenshot, switch_language

from ioc.core.runtime import Runtime
from ioc.core.settings import Settings
from ioc.core.time import utc_now
from ioc.modules.telemetry import InboundMessage, IngestSource, ingest_messages

pytestmark = pytest.mark.browser

STATION = "KK-TANNINH"
RULE_NAME = "Bụi PM2.5 trên 400 tại trạm Tân Ninh (kiểm thử)"
OPEN_AT_LEAST = "(n) => Number(document.querySelector('[data-alarm-open]').textContent) >= n"
POST_JSON = """
async ([url, body]) => {
  const response = await fetch(url, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.text() };
}
"""


async def _post(page: Page, url: str, body: Any) -> dict[str, Any]:
    answer: dict[str, Any] = await page.evaluate(POST_JSON, [url, body])
    return answer


async def test_new_critical_alarm_appears_live_and_is_acknowledged(
    page: Page, browser_login: BrowserLogin, settings: Settings
) -> None:
    await browser_login(page)
    await page.goto("/alarms")
    # The demo rules are enabled as in production and may raise alarms of their own while the test runs:
    # everything below is about this test's rule and relative to what the console showed before.
    open_before = int(await page.locator("[data-alarm-open]").inner_text() or 0)
    created = await _post(
        page,
        "/api/v1/alarm-rules",
        {
            "name": RULE_NAME,
            "kind": "threshold",
            "severity": "critical",
            "scope_kind": "device",
            "scope_ref": STATION,
            "parameter": "pm25",
            "operator": ">",
            "threshold": 400,
            "enabled": True,
        },
    )
    assert created["status"] == 201, created["body"]
    row = page.locator('[data-alarm-rows] tr[data-severity="critical"]', has_text=RULE_NAME)
    await expect(row).to_have_count(0)
    # A station reading crossing the threshold, ingested as the MQTT bridge would; the page is not reloaded.
    writer = Runtime(settings.model_copy(update={"run_background": False}))
    try:
        payload = json.dumps({"ts": utc_now().isoformat(), "values": {"pm25": 520.0}})
        await ingest_messages(writer, [InboundMessage(payload=payload, source=IngestSource.MQTT, device_code=STATION)])
    finally:
        await writer.stop()
    await expect(row).to_have_count(1, timeout=10_000)
    await page.wait_for_function(OPEN_AT_LEAST, arg=open_before + 1)
    await check_page(page, "vi")
    await save_screenshot(page, "alarm-console-vi")
    await row.get_by_role("button", name="Xác nhận").click()
    await expect(row).to_contain_text("Đã xác nhận")
    await row.get_by_role("link").click()
    await expect(page.locator("[data-alarm-status]")).to_have_text("Đã xác nhận")
    await expect(page.locator('.alarm-history li[data-action="acknowledged"]')).to_have_count(1)
    await check_page(page, "vi")
    await switch_language(page, "en")
    await check_page(page, "en")
    await save_screenshot(page, "alarm-detail-en")


async def test_rule_editor_shows_validation_messages_and_the_24_hour_test(
    page: Page, browser_login: BrowserLogin, page_guard: PageGuard
) -> None:
    # The refused rule is the point of the test; the browser logs the 422 of the form post.
    page_guard.allow_console(r"status of 422 .*/alarm-rules/save")
    await browser_login(page)
    await page.goto("/alarm-rules/new")
    await check_page(page, "vi")
    await page.locator('input[name="name"]').fill("PM2.5 cao kéo dài")
    await page.locator('select[name="scope_kind"]').select_option("device")
    await page.locator('input[name="scope_ref"]').fill(STATION)
    await page.locator('input[name="parameter"]').fill("pm25")
    await page.locator('select[name="operator"]').select_option(">")
    await page.locator('input[name="threshold"]').fill("50")
    await page.locator('input[name="clear_threshold"]').fill("80")
    await page.get_by_role("button", name="Lưu quy tắc").click()
    await expect(page.locator(".error-summary")).to_contain_text("Ngưỡng hết cảnh báo (80)")
    await expect(page.locator('[data-field="clear_threshold"] .error')).to_be_visible()
    await page.locator('input[name="clear_threshold"]').fill("45")
    await page.locator("[data-rule-test-button]").click()
    await expect(page.locator("[data-rule-test]")).to_contain_text("Trong 24 giờ qua quy tắc sẽ phát cảnh báo")
    await check_page(page, "vi")
    await save_screenshot(page, "alarm-rule-editor-vi")
    await page.get_by_role("button", name="Lưu quy tắc").click()
    await page.wait_for_url("**/alarm-rules?**")
    await expect(page.get_by_role("link", name="PM2.5 cao kéo dài")).to_be_visible()
