"""Identity pages in a real headless Chromium: login, lockout, logout, keyboard use, phone width, /admin/users."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, ViewportSize, expect
from tests.browser.conftest import BrowserLogin, PageGuard
from tests.browser.page_checks import check_page, horizontal_overflow, save_screenshot, switch_language
from tests.conftest import UserFactory

from ioc.core.security import Role

pytestmark = pytest.mark.browser

PHONE = ViewportSize(width=375, height=740)
MIN_TOUCH_TARGET_PX = 44
LOGIN_MAX_FAILURES = 5  # Settings.login_max_failures, unchanged in the tests


async def submit_login(page: Page, username: str, password: str) -> None:
    """Fill the login form and send it with the button, waiting for the answer page."""
    await page.locator("#login-username").fill(username)
    await page.locator("#login-password").fill(password)
    async with page.expect_navigation():
        await page.get_by_role("button", name=re.compile(r"^(Đăng nhập|Log in)$")).click()


async def test_identity_login_refusal_is_explained_in_each_language_and_success_goes_to_next(
    page: Page, make_user: UserFactory, page_guard: PageGuard
) -> None:
    page_guard.allow_console(r"status of 401")
    user = await make_user(Role.ADMIN, display_name="Phạm Quốc Bảo")
    await page.goto("/login?next=%2Fadmin%2Fusers")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Đăng nhập hệ thống")
    await check_page(page, "vi")

    await submit_login(page, user["username"], "sai-mat-khau")
    alert = page.get_by_role("alert")
    await expect(alert).to_have_text("Tên đăng nhập hoặc mật khẩu không đúng.")
    await expect(page.locator("#login-username")).to_have_value(user["username"])
    await expect(page.locator("#login-password")).to_have_value("")
    await expect(page.locator("#login-password")).to_be_focused()
    await check_page(page, "vi")
    await save_screenshot(page, "identity-login-error-vi")

    await switch_language(page, "en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Log in to the system")
    await submit_login(page, user["username"], "still-wrong")
    await expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    await check_page(page, "en")
    await save_screenshot(page, "identity-login-error-en")

    await submit_login(page, user["username"], user["password"])
    await expect(page).to_have_url(re.compile(r"/admin/users$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    await expect(page.locator("[data-user-name]")).to_have_text("Phạm Quốc Bảo")


async def test_identity_lockout_after_repeated_failures(
    page: Page, make_user: UserFactory, page_guard: PageGuard
) -> None:
    page_guard.allow_console(r"status of (401|429)")
    user = await make_user(Role.AGENCY_STAFF)
    await page.goto("/login")
    for _ in range(LOGIN_MAX_FAILURES - 1):
        await submit_login(page, user["username"], "sai-mat-khau")
        await expect(page.get_by_role("alert")).to_have_text("Tên đăng nhập hoặc mật khẩu không đúng.")
    await submit_login(page, user["username"], "sai-mat-khau")
    locked = re.compile(
        r"^Tài khoản tạm khoá do đăng nhập sai nhiều lần; vui lòng thử lại sau \d{2}:\d{2} ngày \d{2}/\d{2}/\d{4}"
    )
    await expect(page.get_by_role("alert")).to_have_text(locked)

    # Even the right password waits for the lock to end.
    await submit_login(page, user["username"], user["password"])
    await expect(page.get_by_role("alert")).to_have_text(locked)
    await expect(page).to_have_url(re.compile(r"/login"))
    await check_page(page, "vi")
    await save_screenshot(page, "identity-login-locked-vi")


async def test_identity_keyboard_only_login_from_a_protected_page_then_logout(
    page: Page, make_user: UserFactory
) -> None:
    user = await make_user(Role.ADMIN)
    await page.goto("/admin/users?role=leader")
    await expect(page).to_have_url(re.compile(r"/login\?next=/admin/users%3Frole%3Dleader$"))

    username = page.locator("#login-username")
    await expect(username).to_be_focused()
    await page.keyboard.type(user["username"])
    await page.keyboard.press("Tab")
    await expect(page.locator("#login-password")).to_be_focused()
    await page.keyboard.type(user["password"])
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/admin/users\?role=leader$"))
    await expect(page.locator("#users-role")).to_have_value("leader")

    logout = page.get_by_role("button", name="Đăng xuất")
    await logout.focus()
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/login$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Đăng nhập hệ thống")
    await expect(page.locator("[data-user-name]")).to_have_count(0)
    # The session is gone: the protected page asks for a login again.
    await page.goto("/admin/users")
    await expect(page).to_have_url(re.compile(r"/login\?next=/admin/users$"))


async def test_identity_login_card_is_usable_on_a_phone(page: Page, make_user: UserFactory) -> None:
    user = await make_user(Role.LEADER)
    await page.set_viewport_size(PHONE)
    await page.goto("/login?next=%2Forg-units")
    assert await horizontal_overflow(page) == 0
    card = await page.locator(".login").bounding_box()
    assert card is not None
    assert card["x"] >= 0
    assert card["x"] + card["width"] <= PHONE["width"]
    for control in ("#login-username", "#login-password", '.login [type="submit"]'):
        box = await page.locator(control).bounding_box()
        assert box is not None
        assert box["height"] >= MIN_TOUCH_TARGET_PX, f"{control} is a comfortable touch target"
        assert box["x"] + box["width"] <= PHONE["width"], f"{control} fits the screen"
    await check_page(page, "vi")
    await save_screenshot(page, "identity-login-phone")

    await submit_login(page, user["username"], user["password"])
    await expect(page).to_have_url(re.compile(r"/org-units$"))


async def test_identity_admin_sees_and_filters_the_user_list(page: Page, browser_login: BrowserLogin) -> None:
    await browser_login(page, display_name="Quản trị Tây Ninh")
    await page.goto("/admin/users")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Người dùng")
    table = page.locator("#users-list table")
    # The demo accounts, one per role, are listed with their role and status.
    staff = table.locator("tbody tr", has_text="chuyenvien")
    await expect(staff).to_contain_text("Chuyên viên cơ quan")
    await expect(staff.locator("[data-user-status]")).to_have_text("Hoạt động")
    await expect(table.locator("tbody tr")).to_have_count(7)
    await check_page(page, "vi")
    await save_screenshot(page, "identity-admin-users-vi")

    await page.locator("#users-role").select_option("agency_staff")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Lọc").click()
    await expect(table.locator("tbody tr")).to_have_count(1)
    await expect(table.locator("tbody th")).to_have_text("chuyenvien")

    await switch_language(page, "en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    await expect(table.locator("tbody tr")).to_contain_text("Agency staff")
    await expect(page.locator("#users-role")).to_have_value("agency_staff")
    await check_page(page, "en")
    await save_screenshot(page, "identity-admin-users-en")

    await page.set_viewport_size(PHONE)
    assert await horizontal_overflow(page) == 0, "the table scrolls inside its frame, not the page"


async def test_identity_staff_get_the_forbidden_page(
    page: Page, browser_login: BrowserLogin, page_guard: PageGuard
) -> None:
    page_guard.allow_console(r"status of 403")
    await browser_login(page, role=Role.AGENCY_STAFF)
    await expect(page.locator('#sidenav a[href="/admin/users"]')).to_have_count(0)
    response = await page.goto("/admin/users")
    assert response is not None
    assert response.status == 403
    await expect(page.get_by_role("heading", level=1)).to_have_text("Không có quyền truy cập")
    await expect(page.locator(".error-page")).to_contain_text("Tài khoản của bạn không được phép quản lý người dùng.")
    await expect(page.locator("table")).to_have_count(0)
    await check_page(page, "vi")
    await save_screenshot(page, "identity-admin-users-forbidden-vi")
