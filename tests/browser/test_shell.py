"""The shell in a real headless Chromium: home page, language switch, map, keyboard, docs, wall and phone."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, ViewportSize, expect
from tests.browser.conftest import BrowserLogin, LiveServer, PageGuard

pytestmark = pytest.mark.browser

COMMUNE_COUNT = 96
PHONE = ViewportSize(width=375, height=740)
SMALLEST = ViewportSize(width=360, height=740)


def relative_luminance(css_color: str) -> float:
    """Return the WCAG relative luminance of an `rgb(...)` colour."""
    red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", css_color)[:3])

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


async def horizontal_overflow(page: Page) -> int:
    """Return by how many pixels the page is wider than the viewport."""
    overflow: int = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return overflow


async def test_home_page_welcomes_a_visitor(page: Page) -> None:
    await page.goto("/")
    await expect(page.locator("html")).to_have_attribute("lang", "vi")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Chào mừng đến Trung tâm giám sát, điều hành đô thị thông minh"
    )
    await expect(page.locator(".hero").get_by_role("link", name="Đăng nhập")).to_have_attribute(
        "href", "/login?next=%2F"
    )
    await expect(page.locator("[data-map]")).to_have_count(0)
    await expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "online")


async def test_staff_log_in_and_see_functions_status_and_the_commune_map(
    page: Page, browser_login: BrowserLogin
) -> None:
    user = await browser_login(page, display_name="Trần Văn Minh")
    await expect(page).to_have_url(re.compile(r"/$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Xin chào, Trần Văn Minh")
    await expect(page.locator("[data-user-name]")).to_have_text("Trần Văn Minh")
    assert user["username"]
    await expect(page.locator("[data-system-status] [data-stat]")).to_have_count(4)
    await expect(page.locator("[data-home-functions] a").first).to_be_visible()

    commune_map = page.locator("#home-map")
    await expect(commune_map).to_have_attribute("data-map-state", "ready")
    polygons = commune_map.locator(".leaflet-overlay-pane path")
    assert await polygons.count() >= COMMUNE_COUNT
    await expect(commune_map.locator(".map-legend")).to_contain_text("Ranh giới sơ đồ (không chính thức)")

    await polygons.nth(0).click(force=True)
    popup = commune_map.locator(".leaflet-popup-content")
    await expect(popup).to_contain_text("Mã:")


async def test_language_switch_changes_the_page_language(page: Page) -> None:
    await page.goto("/public#services")
    await expect(page.locator("html")).to_have_attribute("lang", "vi")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Dịch vụ cho người dân")

    await page.get_by_role("link", name=re.compile("English")).click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page).to_have_url(re.compile(r"/public#services$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Services for citizens")

    await page.get_by_role("link", name=re.compile("Tiếng Việt")).click()
    await expect(page.locator("html")).to_have_attribute("lang", "vi")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Dịch vụ cho người dân")


async def test_keyboard_reaches_the_skip_link_and_the_navigation(page: Page) -> None:
    await page.goto("/")
    await page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    await expect(skip).to_be_focused()
    box = await skip.bounding_box()
    assert box is not None
    assert box["y"] >= 0, "the focused skip link is on screen"

    await page.keyboard.press("Enter")
    await expect(page.locator("#main")).to_be_focused()

    await page.goto("/")
    for _ in range(30):
        await page.keyboard.press("Tab")
        if await page.evaluate("Boolean(document.activeElement.closest('#sidenav'))"):
            break
    else:
        pytest.fail("Tab never reached the side navigation")
    focused = page.locator("#sidenav a:focus")
    await expect(focused).to_have_attribute("href", "/")
    outline = await focused.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline == "solid", "focus is visible"


async def test_api_docs_run_swagger_ui_from_local_assets(page: Page, live_server: LiveServer) -> None:
    scripts: list[str] = []
    page.on("request", lambda request: scripts.append(request.url) if request.resource_type == "script" else None)
    await page.goto("/docs")
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("ioc")
    await expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    assert f"{live_server.url}/static/vendor/swagger-ui/swagger-ui-bundle.js" in scripts
    assert all(url.startswith(live_server.url) for url in scripts)


async def test_wall_mode_is_dark_and_legible(page: Page, browser_login: BrowserLogin) -> None:
    await page.set_viewport_size(ViewportSize(width=1920, height=1080))
    await browser_login(page, display_name="Lê Thị Hoa")
    await page.goto("/?mode=wall")
    await expect(page.locator("html")).to_have_class("theme-wall")
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    text = await page.evaluate("getComputedStyle(document.body).color")
    assert relative_luminance(background) < 0.05, background
    assert (relative_luminance(text) + 0.05) / (relative_luminance(background) + 0.05) >= 7, "AAA contrast on the wall"
    body_size = await page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert body_size >= 20, "large type on a 1920 px wall"
    await expect(page.locator("[data-wall-clock]")).to_have_text(re.compile(r"^\d{2}:\d{2}$"))
    await expect(page.locator("#sidenav")).to_have_count(0)
    await expect(page.locator("#home-map")).to_have_attribute("data-map-state", "ready")


async def test_public_base_fits_a_phone(page: Page) -> None:
    await page.set_viewport_size(PHONE)
    await page.goto("/public")
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await expect(page.locator("#sidenav")).to_have_count(0)
    assert await horizontal_overflow(page) == 0


async def test_desk_layout_fits_the_smallest_phone_and_opens_its_menu(page: Page) -> None:
    await page.set_viewport_size(SMALLEST)
    await page.goto("/")
    assert await horizontal_overflow(page) == 0
    navigation = page.locator("#sidenav")
    await expect(navigation).to_be_hidden()
    toggle = page.locator("[data-nav-toggle]")
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    await expect(navigation).to_be_visible()
    assert await horizontal_overflow(page) == 0


async def test_unknown_page_shows_the_html_error_page(page: Page, page_guard: PageGuard) -> None:
    page_guard.allow_console(r"status of 404")
    response = await page.goto("/khong-co-trang-nay")
    assert response is not None
    assert response.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("Không tìm thấy trang")
    await expect(page.get_by_role("link", name="Về trang chủ")).to_be_visible()


async def test_the_guard_catches_console_errors_page_errors_and_other_hosts(page: Page, page_guard: PageGuard) -> None:
    await page.goto("/public")
    await page.evaluate("console.error('deliberate console error')")
    async with page.expect_event("pageerror"):
        await page.evaluate("setTimeout(() => { throw new Error('deliberate page error'); }, 0)")
    # The CSP stops scripts from reaching other hosts, and says so on the console.
    blocked = await page.evaluate("fetch('http://203.0.113.7/tiles/1.png').then(() => 'loaded', () => 'blocked')")
    assert blocked == "blocked"
    # What the CSP does not cover (navigations, pages with their own policy) is stopped by the guard.
    with pytest.raises(PlaywrightError):
        await page.goto("http://203.0.113.7/elsewhere")
    problems = "\n".join(page_guard.problems())
    assert "console error: deliberate console error" in problems
    assert "Content Security Policy" in problems
    assert "203.0.113.7/tiles/1.png" in problems
    assert "uncaught page error" in problems
    assert "deliberate page error" in problems
    assert "request to another host: GET http://203.0.113.7/elsewhere" in problems
    # Everything above was provoked on purpose; the test passes only if the guard saw all of it.
    page_guard.console_errors.clear()
    page_guard.page_errors.clear()
    page_guard.foreign_requests.clear()
