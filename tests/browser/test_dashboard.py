"""The operations picture in a real headless Chromium: live updates, the wall and its layout editor.

With UPDATE_DOC_SCREENSHOTS=1 they also refresh the README's screenshots in docs/img (desk and wall, from
the demo data).
"""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.async_api import Page, ViewportSize, expect
from tests.browser.conftest import SCREENSHOTS, BrowserLogin, LiveServer
from tests.browser.page_checks import check_page, map_ready, switch_language
from tests.support.machine import load_per_core, too_busy_to_time

from ioc.core.security import Role

pytestmark = pytest.mark.browser

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
WALL_VIEWPORT = ViewportSize(width=1600, height=900)
DESK_SHOT_VIEWPORT = ViewportSize(width=1440, height=1080)
FIRST_LOAD_BUDGET_MS = 1500
# The target above is printed and held by `bench dashboard`; the test fails only past twice the target, so that a
# CI machine running the two engines' suites side by side does not fail it while a real regression still does.
FIRST_LOAD_CEILING_MS = 2 * FIRST_LOAD_BUDGET_MS
LIVE_BUDGET_MS = 2000
MAX_SCREENSHOT_BYTES = 300_000
TAN_NINH = (11.61507, 105.86238)


SLOWEST_REQUESTS = """
() => performance.getEntriesByType("resource")
  .sort((a, b) => b.responseEnd - a.responseEnd).slice(0, 6)
  .map((e) => `${e.name.replace(location.origin, "")} ${Math.round(e.startTime)} ms +${Math.round(e.duration)} ms`)
"""


# The centre of a commune's shape that a click would really reach (not under the layer switcher).
COMMUNE_POINT = """
() => {
  for (const path of document.querySelectorAll("[data-dash-map] .leaflet-overlay-pane path")) {
    const box = path.getBoundingClientRect();
    const x = box.left + box.width / 2;
    const y = box.top + box.height / 2;
    if (box.width > 8 && document.elementFromPoint(x, y) === path) {
      return [x, y];
    }
  }
  return null;
}
"""


async def save_doc_screenshot(page: Page, name: str) -> None:
    """Save a viewport screenshot for the README as a small palette PNG (under 300 KB).

    It goes to docs/img only with UPDATE_DOC_SCREENSHOTS=1, so that a test run leaves the tree clean.
    """
    raw = await page.screenshot(full_page=False)
    image = Image.open(io.BytesIO(raw)).convert("RGB").quantize(colors=128)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    assert len(buffer.getvalue()) < MAX_SCREENSHOT_BYTES, f"{name} is too large"
    folder = DOCS_IMG if os.environ.get("UPDATE_DOC_SCREENSHOTS") == "1" else SCREENSHOTS
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(buffer.getvalue())


async def first_load_ms(page: Page) -> int:
    """Return when every piece of the picture had drawn its first data, in ms after navigation started."""
    await expect(page.locator("html")).to_have_attribute("data-dashboard-ready", "true")
    return int(await page.locator("html").get_attribute("data-dashboard-ready-ms") or 0)


async def test_dashboard_shows_a_report_submitted_through_the_api_within_two_seconds(
    page: Page, browser_login: BrowserLogin, live_server: LiveServer
) -> None:
    await browser_login(page, role=Role.LEADER)
    await page.goto("/dashboard")
    load_ms = await first_load_ms(page)
    print(f"\ndashboard first load on the demo data: {load_ms} ms; slowest requests (start, duration):")
    for line in await page.evaluate(SLOWEST_REQUESTS):
        print(f"  {line}")
    if load_ms >= FIRST_LOAD_BUDGET_MS:
        # A one-off stall of a shared 2-core machine is not the page's speed: the next load must be within budget.
        await page.reload()
        load_ms = await first_load_ms(page)
        print(f"dashboard load again: {load_ms} ms")
    print(f"dashboard first load: {load_ms} ms (target {FIRST_LOAD_BUDGET_MS} ms), load {load_per_core():.1f} per core")
    if not too_busy_to_time():
        assert load_ms < FIRST_LOAD_CEILING_MS
    await map_ready(page, "[data-dash-map]")
    await expect(page.locator("[data-dash-map]")).to_have_attribute("data-dash-state", "ready")
    await expect(page.locator("html")).to_have_attribute("data-live", "online")
    await check_page(page, "vi")

    async with httpx.AsyncClient(base_url=live_server.url) as api:
        response = await api.post(
            "/api/v1/citizen-reports",
            json={
                "category_code": "den-chieu-sang",
                "description": "Đèn đường trước chợ tắt từ tối qua, rất tối và nguy hiểm.",
                "lat": TAN_NINH[0],
                "lon": TAN_NINH[1],
            },
        )
    sent = time.monotonic()
    assert response.status_code == 201, response.text
    tracking = response.json()["tracking_code"]
    item = page.locator(".dash-feed-item", has_text=tracking)
    await expect(item).to_be_visible(timeout=LIVE_BUDGET_MS)
    print(f"report {tracking} shown {int((time.monotonic() - sent) * 1000)} ms after the API answered")
    assert await page.evaluate("document.querySelectorAll('.dash-feed-item').length") <= 50
    await page.set_viewport_size(DESK_SHOT_VIEWPORT)
    await page.wait_for_timeout(1500)  # the debounced refresh of tiles and layers settles before the picture
    await save_doc_screenshot(page, "dashboard-desk.png")

    # The modules' charts below the map: the reports chart counts the report just sent, and the range picker
    # redraws every chart for the new range.
    reports_chart = page.locator('[data-dash-charts] .dash-chart[data-chart-key="citizen_report.received_resolved"]')
    await reports_chart.scroll_into_view_if_needed()
    await expect(reports_chart.locator(".dash-chart-box")).to_have_attribute("data-chart-state", "ready")
    await expect(page.locator('[data-dash-charts] .dash-chart[data-chart-key="environment.aqi"]')).to_have_count(1)
    async with page.expect_response(lambda r: "/dashboard/charts/data" in r.url and "range=24h" in r.url) as answer:
        await page.locator("[data-dash-range]").select_option("24h")
    drawn = {chart["key"]: chart for chart in await (await answer.value).json()}
    received = drawn["citizen_report.received_resolved"]
    assert (received["bucket_seconds"], len(received["times"]), received["error"]) == (3600, 24, None)
    assert (received["series"][0]["values"][-1] or 0) >= 1
    await expect(reports_chart.locator(".dash-chart-box")).to_have_attribute("data-chart-state", "ready")
    await expect(reports_chart.locator("figcaption a")).to_have_attribute("href", "/phan-anh/thong-ke")
    await check_page(page, "vi")


async def test_dashboard_wall_layout_editor_saves_and_restores_a_layout(
    page: Page, browser_login: BrowserLogin
) -> None:
    await browser_login(page, role=Role.LEADER)
    await page.goto("/dashboard/wall/edit?wall=lobby")
    await check_page(page, "vi")
    first = page.locator('[data-editor] fieldset[data-screen="0"]')
    await first.get_by_label("Tiêu đề màn hình").fill("Toàn cảnh tỉnh")
    await first.get_by_role("button", name="+ Thêm ô").click()
    new_cell = first.locator("li.dash-editor-cell").last
    await new_cell.locator('select[data-field="kind"]').select_option("chart")
    await new_cell.locator('select[data-field="key"]').select_option("reports")
    await page.locator("[data-editor-rotate]").fill("15")
    await page.locator("[data-editor-rotate]").dispatch_event("change")
    await page.get_by_role("button", name="Lưu bố cục").click()
    await expect(page.locator("[data-editor-status]")).to_have_attribute("data-state", "saved")

    await page.reload()
    first = page.locator('[data-editor] fieldset[data-screen="0"]')
    await expect(first.get_by_label("Tiêu đề màn hình")).to_have_value("Toàn cảnh tỉnh")
    await expect(first.locator('select[data-field="kind"]').last).to_have_value("chart")
    await expect(first.locator('select[data-field="key"]').last).to_have_value("reports")
    await expect(page.locator("[data-editor-rotate]")).to_have_value("15")
    await expect(page.locator("[data-editor-source]")).to_contain_text("Đã lưu")
    # The shared components: the saved layouts table gets a filter, the wall form inline validation.
    await page.locator(".table-tools input[type=search]").fill("không-có")
    await expect(page.locator("table[data-table-enhance] tbody tr")).to_have_count(0)
    await page.locator("#f-wall").fill("Tên Sai")
    await page.get_by_role("button", name="Chọn", exact=True).click()
    await expect(page.locator("#f-wall")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#f-wall-inline-error")).to_contain_text("Chữ thường không dấu")

    await page.set_viewport_size(WALL_VIEWPORT)
    await page.goto("/dashboard/wall?wall=lobby")
    await expect(page.locator("html")).to_have_class("theme-wall")
    await expect(page.locator("[data-wall-screen-title]")).to_have_text("Toàn cảnh tỉnh")
    await expect(page.locator('.wall-screen[data-screen="0"] .dash-chart[data-chart-key="reports"]')).to_have_count(1)
    await first_load_ms(page)
    await map_ready(page, '.wall-screen[data-screen="0"] [data-map]')
    await check_page(page, "vi")
    await page.wait_for_timeout(500)
    await save_doc_screenshot(page, "dashboard-wall.png")
    # The arrow keys move to the next screen (the rotation does the same every 15 s).
    await page.keyboard.press("ArrowRight")
    await expect(page.locator("[data-wall-screens]")).to_have_attribute("data-current-screen", "1")


async def test_dashboard_drills_down_to_a_commune_in_english(page: Page, browser_login: BrowserLogin) -> None:
    await browser_login(page, role=Role.HOTLINE_OPERATOR)
    await page.goto("/dashboard")
    await switch_language(page, "en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Operations picture")
    await first_load_ms(page)
    await map_ready(page, "[data-dash-map]")
    # Hide every layer with the switcher, so that a click in the map lands on a commune.
    for checkbox in await page.locator(".dash-layer input").all():
        await checkbox.uncheck()
    await expect(page.locator("[data-dash-map] .leaflet-marker-pane > *")).to_have_count(0)
    point = await page.evaluate(COMMUNE_POINT)
    assert point is not None, "no commune can be clicked on the map"
    await page.mouse.click(point[0], point[1])
    drill = page.locator("a[data-drill]")
    await expect(drill).to_have_text("See everything happening in this unit")
    code = await drill.get_attribute("data-drill")
    await drill.click()
    await expect(page).to_have_url(re.compile(rf"/dashboard/units/{code}$"))
    await expect(page.locator("html")).to_have_attribute("data-dashboard-unit", code or "")
    await first_load_ms(page)
    # The unit's history: counts per event over the chosen range, recounted when the range changes.
    history = page.locator("[data-dash-history]")
    await expect(history.locator("[data-dash-history-rows] tr[data-event]").first).to_be_visible()
    await history.get_by_label("Time range").select_option("30d")
    await expect(history).to_have_attribute("data-range", "30d")
    await check_page(page, "en")
    await page.set_viewport_size(ViewportSize(width=375, height=740))
    assert await page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
