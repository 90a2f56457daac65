"""Alarm silences, maintenance windows and routing policies in a real headless Chromium, in both languages."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect
from tests.browser.conftest import BrowserLogin
from tests.browser.page_checks import check_page, save_screenshot, switch_language

from ioc.core.security import Role

pytestmark = pytest.mark.browser


async def test_alarm_maintenance_window_and_routing_policy_are_written_in_the_pages(
    page: Page, browser_login: BrowserLogin
) -> None:
    await browser_login(page, role=Role.AGENCY_HEAD)
    await page.goto("/alarm-rules")
    await page.get_by_role("link", name="Tạm tắt và bảo trì").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Tạm tắt và bảo trì")
    await check_page(page, "vi")
    form = page.locator("[data-silence-form]")
    await form.get_by_label("Loại").select_option("maintenance")
    await form.get_by_label("Xã/phường").select_option("25459")
    await form.get_by_label("Lý do").fill("Thay cảm biến mực nước")
    async with page.expect_navigation():
        await form.get_by_role("button", name="Lưu").click()
    row = page.locator("[data-silences] tr[data-kind=maintenance]")
    await expect(row).to_contain_text("Thay cảm biến mực nước")
    await expect(row).to_contain_text("25459")
    async with page.expect_navigation():
        await row.get_by_role("button", name="Kết thúc sớm").click()
    await expect(page.locator("[data-silences] tr[data-silence]")).to_have_count(0)

    await page.goto("/alarm-policies")
    policy = page.locator("[data-policy-form]")
    await policy.get_by_label("Tên chính sách").fill("Trực ban phường Tân Ninh")
    await policy.get_by_label("Mức độ tối thiểu").select_option("critical")
    await policy.get_by_label("Xã/phường").select_option("25459")
    await policy.locator("#f-targets").fill("email: trucban@tayninh.gov.vn")
    await policy.get_by_label("Chuyển cấp sau (phút)").fill("15")
    await policy.get_by_label("Người nhận khi chuyển cấp").fill("lanhdao@tayninh.gov.vn")
    async with page.expect_navigation():
        await policy.get_by_role("button", name="Lưu chính sách").click()
    saved = page.locator("[data-policies] tr[data-policy]").filter(has_text="Trực ban phường Tân Ninh")
    await expect(saved).to_contain_text("sau 15 phút")
    await expect(saved).to_contain_text("lanhdao@tayninh.gov.vn")
    await check_page(page, "vi")
    await switch_language(page, "en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Routing policies")
    await check_page(page, "en")
    await save_screenshot(page, "alarm-policies-en")
