"""The audit log page in a real headless Chromium: a change made through the API shows up with actor, time and diff."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, ViewportSize, expect
from tests.browser.conftest import BrowserLogin
from tests.browser.page_checks import check_page, horizontal_overflow, save_screenshot, switch_language

pytestmark = pytest.mark.browser

PROVINCE_TIME = ZoneInfo("Asia/Ho_Chi_Minh")
PHONE = ViewportSize(width=375, height=740)

CREATE_USER = """
async (body) => {
  const response = await fetch("/api/v1/users", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}
"""


async def create_user_from_the_page(page: Page, **fields: Any) -> dict[str, Any]:
    """Create a user through the API from the logged-in page (shell.js adds the CSRF header to fetch)."""
    answer: dict[str, Any] = await page.evaluate(CREATE_USER, fields)
    assert answer["status"] == 201, answer
    created: dict[str, Any] = answer["body"]
    return created


def local_minutes_around(moment: datetime) -> set[str]:
    """Return the dd/mm/yyyy HH:MM texts of the province's clock a minute either side of `moment`."""
    local = moment.astimezone(PROVINCE_TIME)
    return {(local + timedelta(minutes=step)).strftime("%d/%m/%Y %H:%M") for step in (-1, 0, 1)}


async def test_audit_page_shows_a_new_user_with_actor_local_time_and_diff(
    page: Page, browser_login: BrowserLogin
) -> None:
    admin = await browser_login(page, display_name="Trần Thu Hà")
    await page.goto("/admin/audit")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Nhật ký thao tác")
    created_at = datetime.now(PROVINCE_TIME)
    user = await create_user_from_the_page(
        page,
        username="nguyenthimai",
        password="Mat-khau-An-toan-2025!",
        role="agency_staff",
        display_name="Nguyễn Thị Mai",
    )

    # Narrow the log with the form, as an administrator looking for one account would.
    await page.get_by_label("Loại đối tượng").fill("identity_user")
    await page.get_by_label("Mã đối tượng").fill(str(user["id"]))
    await page.get_by_label("Hành động").select_option("create")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Lọc").click()
    rows = page.locator("#audit-log .data-table > tbody > tr")
    await expect(rows).to_have_count(1)
    entry = rows.first
    await expect(entry.locator("td").nth(1)).to_contain_text(admin["username"])
    await expect(entry.locator("td").nth(1)).to_contain_text("(người dùng)")
    await expect(entry.locator(".badge")).to_have_text("Tạo mới")
    await expect(entry).to_contain_text(f"identity_user #{user['id']}")
    shown_time = await entry.locator("time").inner_text()
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", shown_time), shown_time
    assert shown_time in local_minutes_around(created_at), f"{shown_time} is not the province's local time"

    diff = entry.locator("details.audit-diff")
    await expect(diff.locator("table")).to_be_hidden()
    await diff.locator("summary").click()
    await expect(diff.locator("table")).to_be_visible()
    username_row = diff.locator("tbody tr", has=page.locator("th", has_text=re.compile(r"^username$")))
    await expect(username_row.locator("td").nth(0)).to_have_text("—")
    await expect(username_row.locator("ins")).to_have_text("nguyenthimai")
    await expect(diff.locator("tbody tr", has=page.locator("th", has_text="display_name")).locator("ins")).to_have_text(
        "Nguyễn Thị Mai"
    )
    # Times inside the diff are on the province's clock too, not the stored UTC.
    created_cell = diff.locator("tbody tr", has=page.locator("th", has_text=re.compile(r"^created_at$"))).locator("ins")
    await expect(created_cell).to_have_text(re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}$"))
    assert (await created_cell.inner_text())[:-3] in local_minutes_around(created_at)
    # The password hash is a secret column: it is redacted in the log.
    await expect(diff).not_to_contain_text("argon2")
    await check_page(page, "vi")
    await save_screenshot(page, "audit-new-user-vi")

    await switch_language(page, "en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    await expect(entry.locator(".badge")).to_have_text("Created")
    await expect(entry.locator("td").nth(1)).to_contain_text("(user)")
    await expect(entry.locator("summary")).to_have_text(re.compile(r"^Show before/after \(\d+ fields\)$"))
    await entry.locator("summary").click()
    await expect(entry.locator("details table thead")).to_contain_text("Before")
    await check_page(page, "en")
    await save_screenshot(page, "audit-new-user-en")


async def test_audit_page_names_logins_and_fits_a_phone(page: Page, browser_login: BrowserLogin) -> None:
    admin = await browser_login(page)
    await page.goto("/admin/audit")
    # The actor link filters the log by that person.
    login_row = page.locator("#audit-log .data-table > tbody > tr", has=page.locator(".badge", has_text="Đăng nhập"))
    await expect(login_row.first).to_contain_text(admin["username"])
    async with page.expect_navigation():
        await login_row.first.get_by_role("link", name=admin["username"]).click()
    await expect(page.get_by_label("Người thực hiện (tên hoặc mã)")).to_have_value(admin["username"])
    actors = page.locator("#audit-log .data-table > tbody > tr > td:nth-child(2) > a")
    for name in await actors.all_inner_texts():
        assert name == admin["username"]
    await check_page(page, "vi")

    await page.set_viewport_size(PHONE)
    assert await horizontal_overflow(page) == 0, "the log scrolls inside its frame, not the page"
    await save_screenshot(page, "audit-phone-vi")
