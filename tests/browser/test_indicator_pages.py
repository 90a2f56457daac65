"""Statistics pages in a real headless Chromium: the Excel round trip with a row error, submission, the head's
approval, the reconciliation report and the leaders' overview moving with the new figure."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from playwright.async_api import FilePayload, Page, expect
from tests.browser.conftest import BrowserLogin, PageGuard
from tests.browser.page_checks import check_page, save_screenshot

from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.core.settings import Settings
from ioc.core.time import local_today
from ioc.modules import org_unit
from ioc.modules.indicator.periods import PeriodType, period_containing

pytestmark = pytest.mark.browser

LATE_COMMUNE = "27727"  # left unsubmitted for last month by the demo seed
OUTLIER_COMMUNE = "25459"  # planted outlier in the demo seed


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Enable the module (and what it needs) whatever the suite runs with."""
    wanted = [m for m in ("org_unit", "indicator") if m not in settings.modules]
    return settings.model_copy(update={"modules": [*settings.modules, *wanted]})


async def test_agency_fixes_a_template_error_submits_head_approves_and_leader_sees_it(
    page: Page, browser_login: BrowserLogin, runtime: Runtime, page_guard: PageGuard
) -> None:
    page_guard.allow_console(r"status of 422 .*/api/v1/indicator/excel")  # the refused upload, on purpose
    month = period_containing(PeriodType.MONTHLY, local_today()).previous().iso
    async with runtime.db.session() as session:
        agency = (await org_unit.get_agency(session, f"UBND-{LATE_COMMUNE}")).id

    # The leader's overview and reconciliation before: a planted outlier and a late commune.
    await browser_login(page, role=Role.LEADER)
    await page.goto(f"/indicators/reconciliation?pe={month}")
    await check_page(page, "vi")
    await expect(page.locator(f'tr[data-kind="outlier"][data-unit="{OUTLIER_COMMUNE}"]').first).to_be_visible()
    late = page.locator(f'tr[data-kind="late"][data-unit="{LATE_COMMUNE}"]').filter(has_text="TTHC_MONTHLY")
    await expect(late).to_have_count(1)
    await page.goto("/indicators/overview/tthc")
    await check_page(page, "vi")
    await expect(page.locator("[data-mapping-unverified]")).to_be_visible()
    received = page.locator('[data-indicator="TTHC_RECEIVED_YTD"] [data-value]')
    before = int(re.sub(r"\D", "", await received.inner_text()))
    await save_screenshot(page, "indicator-overview-vi")

    # The commune's officer downloads the template, fills it with a mistake, uploads it and sees the row.
    await page.context.clear_cookies()
    await browser_login(page, role=Role.AGENCY_STAFF, agency_id=agency)
    await page.goto(f"/indicators/entry?ds=TTHC_MONTHLY&pe={month}&ou={LATE_COMMUNE}")
    await check_page(page, "vi")
    online = page.locator("#v-TTHC_RECEIVED-ONLINE")
    await online.fill("12,5")  # not a whole number of dossiers
    await expect(online).to_have_attribute("aria-invalid", "true")
    download = await page.request.get(
        f"/api/v1/indicator/data-sets/TTHC_MONTHLY/template.xlsx?period={month}&orgUnit={LATE_COMMUNE}"
    )
    book = load_workbook(io.BytesIO(await download.body()))
    sheet = book["Nhap lieu"]
    rows = {(sheet.cell(r, 1).value, sheet.cell(r, 3).value): r for r in range(4, sheet.max_row + 1)}
    online_row, within_row = rows[("TTHC_RECEIVED", "ONLINE")], rows[("TTHC_IN_PROGRESS", "WITHIN")]
    sheet.cell(online_row, 6, int(str(sheet.cell(online_row, 6).value)) + 500)
    sheet.cell(within_row, 6, "năm trăm")  # the deliberate error
    bad = io.BytesIO()
    book.save(bad)
    await page.locator("[data-upload]").set_input_files(
        files=[FilePayload(name="bao-cao.xlsx", mimeType="application/octet-stream", buffer=bad.getvalue())]
    )
    await expect(page.locator("[data-errors] li")).to_have_count(1)
    await expect(page.locator("[data-errors] li")).to_contain_text(f"Dòng {within_row}, ô F{within_row}")
    sheet.cell(
        within_row,
        6,
        int(str(load_workbook(io.BytesIO(await download.body()))["Nhap lieu"].cell(within_row, 6).value)) + 500,
    )
    good = io.BytesIO()
    book.save(good)
    async with page.expect_navigation():
        await page.locator("[data-upload]").set_input_files(
            files=[FilePayload(name="bao-cao.xlsx", mimeType="application/octet-stream", buffer=good.getvalue())]
        )
    async with page.expect_navigation():
        await page.get_by_role("button", name="Gửi báo cáo").click()
    await expect(page.locator(".lead")).to_contain_text("Đã gửi")

    # The head of the commune committee approves.
    await page.context.clear_cookies()
    await browser_login(page, role=Role.AGENCY_HEAD, agency_id=agency)
    await page.goto(f"/indicators/entry?ds=TTHC_MONTHLY&pe={month}&ou={LATE_COMMUNE}")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Duyệt").click()
    await expect(page.locator(".lead")).to_contain_text("Lãnh đạo cơ quan đã duyệt")

    # The leader sees the indicator move.
    await page.context.clear_cookies()
    await browser_login(page, role=Role.LEADER)
    await page.goto("/indicators/overview/tthc")
    after = int(re.sub(r"\D", "", await received.inner_text()))
    assert after == before + 500

    # A pivot figure leads to the reports behind it: the commune's report, approved by its head.
    async with page.expect_navigation():
        await page.locator("[data-pivot] tbody tr").first.locator("a[data-trace]").last.click()
    await expect(page.locator("h1")).to_have_text("Nguồn số liệu")
    await expect(page.locator(f'[data-trace-table] tr[data-unit="{LATE_COMMUNE}"]')).to_have_attribute(
        "data-status", "approved"
    )
    await check_page(page, "vi")


async def test_leader_builds_a_pivot_with_chart_and_export_and_admin_edits_metadata(
    page: Page, browser_login: BrowserLogin, page_guard: PageGuard
) -> None:
    # From the overview, the leader opens the builder with the pack's indicators and draws the last year.
    await browser_login(page, role=Role.LEADER)
    await page.goto("/indicators/overview/tthc")
    async with page.expect_navigation():
        await page.locator("[data-pivot-link]").click()
    await expect(page.locator("[data-pivot-table]")).to_be_visible()
    await expect(page.locator("#ind-pivot-chart")).to_have_attribute("data-chart-state", "ready")
    await expect(page.locator("#ind-pivot-chart canvas")).to_have_count(1)
    await check_page(page, "vi")
    await page.locator("#f-dx").select_option(["TTHC_RECEIVED"])
    await page.locator("#f-ou").select_option(["80", "25459"])
    await page.locator("#f-split").check()
    async with page.expect_navigation():
        await page.get_by_role("button", name="Xem").click()
    await expect(page.locator('[data-pivot-table] tr[data-total][data-dx="TTHC_RECEIVED.ONLINE"]')).to_have_count(1)
    href = await page.locator('[data-export="xlsx"]').get_attribute("href")
    exported = await page.request.get(str(href))
    assert exported.headers["content-disposition"] == 'attachment; filename="bang-tong-hop.xlsx"'
    assert load_workbook(io.BytesIO(await exported.body()))["Bang tong hop"].cell(1, 2).value == "Dữ liệu / Data"
    await save_screenshot(page, "indicator-pivot-vi")

    # The administrator's element form checks fields as they are typed, in Vietnamese, before the server does.
    await page.context.clear_cookies()
    await browser_login(page, role=Role.ADMIN)
    await page.goto("/indicators/admin/elements/new")
    await check_page(page, "vi")
    code = page.locator("#f-code")
    await code.fill("1 sai")
    await code.blur()
    await expect(page.locator("#f-code-inline-error")).to_contain_text("Mã bắt đầu bằng chữ")
    await code.fill("HE_DEMO_NEW")
    await page.locator("#f-name").fill("Lượt khám thử nghiệm")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Lưu").click()
    await expect(page.locator('[data-saved="HE_DEMO_NEW"]')).to_be_visible()
