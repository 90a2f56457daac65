"""Follow-ups of incidents in a real headless Chromium: the alarm's page leads to its incident, who is informed."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect
from tests.browser.conftest import BrowserLogin
from tests.browser.page_checks import check_page, switch_language
from tests.conftest import UserFactory

from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.core.time import utc_now
from ioc.modules.alarm.service import Firing, fire

pytestmark = pytest.mark.browser

TITLE = "Mực nước kênh Tây Ninh vượt báo động 2"


async def _raise_alarm(runtime: Runtime) -> int:
    async with runtime.db.transaction() as session:
        alarm = await fire(
            session,
            None,
            Firing(
                rule_id=None,
                severity="major",
                title=TITLE,
                source_kind="datastream",
                source_ref="muc-nuoc-kenh-tay-ninh-theo-doi",
                at=utc_now(),
                unit_code="25459",
                lat=11.61507,
                lon=105.86238,
            ),
        )
        assert alarm is not None
        return alarm.id


async def test_alarm_page_leads_to_its_incident_where_the_command_changes_who_is_informed(
    page: Page, browser_login: BrowserLogin, runtime: Runtime, make_user: UserFactory
) -> None:
    alarm_id = await _raise_alarm(runtime)
    await make_user(Role.AGENCY_STAFF, display_name="Cán bộ Hồ Xuân Hương")
    await browser_login(page, role=Role.HOTLINE_OPERATOR)
    await page.goto(f"/alarms/{alarm_id}")
    section = page.locator("#alarm-incidents")
    await expect(section.locator("[data-alarm-incidents]")).to_have_attribute("data-alarm-incidents", "0")
    await check_page(page, "vi")
    await section.get_by_role("link", name="Mở sự cố từ cảnh báo này").click()
    alarm_form = page.locator("#form-from-alarm")
    await expect(alarm_form.get_by_label("Số cảnh báo")).to_have_value(str(alarm_id))
    await alarm_form.get_by_label("Loại sự cố").select_option("flooding")
    await alarm_form.get_by_role("button", name="Mở sự cố").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    workspace = page.url

    # Back on the alarm's page: the incident is there, and the button goes to it instead of opening another.
    await page.goto(f"/alarms/{alarm_id}")
    await expect(section.locator("[data-alarm-incident]")).to_have_count(1)
    await expect(section.locator("[data-alarm-incident]")).to_contain_text(TITLE)
    await expect(section.locator("[data-open-incident]")).to_have_count(0)
    await check_page(page, "vi")
    await section.get_by_role("link", name="Đến sự cố").click()
    await expect(page).to_have_url(workspace)

    # A task for the ward, then the people kept informed change from its row, with the user picker.
    form = page.locator("#form-task")
    await form.get_by_label("Cơ quan").select_option("UBND-25459")
    await form.get_by_label("Nhiệm vụ").fill("Cắm biển cảnh báo ngập")
    await form.get_by_label("Thời hạn (giờ)").fill("2")
    await form.get_by_role("button", name="Giao nhiệm vụ").click()
    row = page.locator("#incident-task-table tbody tr").first
    await expect(row).to_contain_text("Cắm biển cảnh báo ngập")
    task_id = await row.get_attribute("data-task")
    await row.locator("[data-informed] summary").click()
    informed = page.locator(f"#form-informed-{task_id}")
    picker = informed.locator("[data-user-picker]")
    await expect(picker).to_have_attribute("data-picker-ready", "true")
    await picker.get_by_role("combobox").fill("Xuân Hương")
    await expect(picker.get_by_role("option")).to_have_text(["Cán bộ Hồ Xuân Hương"])
    await picker.get_by_role("combobox").press("ArrowDown")
    await picker.get_by_role("combobox").press("Enter")
    await expect(picker.locator("[data-user-chosen] li")).to_contain_text("Cán bộ Hồ Xuân Hương")
    await informed.get_by_role("button", name="Lưu danh sách báo tin").click()
    await expect(page.locator(f'tr[data-task="{task_id}"] [data-task-notify]')).to_contain_text("Cán bộ Hồ Xuân Hương")
    await expect(page.locator("#incident-log li").first).to_contain_text("Cập nhật người được báo tin")
    await check_page(page, "vi")
    await switch_language(page, "en")
    await expect(page.locator(f'tr[data-task="{task_id}"] [data-informed] summary')).to_have_text(
        "Change who is kept informed"
    )
    await check_page(page, "en")
