"""Administrative unit pages in a real headless Chromium: the list, its filter, the commune map and a unit's page."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Locator, Page, ViewportSize, expect
from tests.browser.conftest import BrowserLogin, PageGuard
from tests.browser.page_checks import check_page, horizontal_overflow, map_ready, save_screenshot, switch_language

pytestmark = pytest.mark.browser

COMMUNE_COUNT = 96
PHONE = ViewportSize(width=375, height=740)
SCHEMATIC_NOTICE_VI = "Ranh giới xã/phường trên bản đồ là sơ đồ minh hoạ, không phải địa giới hành chính chính thức."
SCHEMATIC_NOTICE_EN = "Commune boundaries on the map are schematic, not official administrative boundaries."


async def central_polygon(commune_map: Locator) -> Locator:
    """Return the commune polygon nearest the map's centre, whose popup has room to open inside the map."""
    index: int = await commune_map.evaluate(
        """(map) => {
          const frame = map.getBoundingClientRect();
          const cx = frame.left + frame.width / 2, cy = frame.top + frame.height / 2;
          const paths = [...map.querySelectorAll(".leaflet-overlay-pane path")];
          const distance = (path) => {
            const box = path.getBoundingClientRect();
            return Math.hypot(box.left + box.width / 2 - cx, box.top + box.height / 2 - cy);
          };
          return paths.reduce((best, path, i) => (distance(path) < distance(paths[best]) ? i : best), 0);
        }"""
    )
    return commune_map.locator(".leaflet-overlay-pane path").nth(index)


async def test_org_unit_list_shows_the_communes_and_filters_by_name_without_accents(page: Page) -> None:
    await page.goto("/org-units")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Đơn vị hành chính")
    rows = page.locator("#org-unit-list tbody tr")
    # The province and its 96 communes and wards, all on the first page.
    await expect(rows).to_have_count(COMMUNE_COUNT + 1)
    await expect(page.locator("#org-unit-list tbody")).to_contain_text("Xã Hưng Điền")
    await expect(page.locator("[data-schematic-notice]")).to_have_text(SCHEMATIC_NOTICE_VI)
    await check_page(page, "vi")
    await map_ready(page, "#org-unit-map")
    await save_screenshot(page, "org_unit-list-vi")

    await page.get_by_label("Tên (gõ có dấu hoặc không dấu)").fill("tan an")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Lọc").click()
    await expect(page).to_have_url(re.compile(r"/org-units\?level=&q=tan\+an$"))
    names = page.locator("#org-unit-list tbody [data-unit]")
    await expect(names.filter(has_text=re.compile(r"^Phường Tân An$"))).to_have_count(1)
    for name in await names.all_inner_texts():
        assert "Tân An" in name, f"{name} does not match «tan an»"
    await expect(page.locator("#org-unit-list")).not_to_contain_text("Xã Hưng Điền")
    await expect(page.get_by_label("Tên (gõ có dấu hoặc không dấu)")).to_have_value("tan an")
    await check_page(page, "vi")

    await switch_language(page, "en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Administrative units")
    await expect(page.locator("[data-schematic-notice]")).to_have_text(SCHEMATIC_NOTICE_EN)
    tan_an = page.locator("#org-unit-list tbody tr", has_text="Tân An Ward")
    await expect(tan_an).to_contain_text("Ward")
    await expect(tan_an).to_contain_text("Commune level")
    await expect(tan_an).to_contain_text("Tây Ninh Province")
    await check_page(page, "en")
    await map_ready(page, "#org-unit-map")
    await save_screenshot(page, "org_unit-list-filtered-en")

    await page.get_by_role("link", name="Clear").click()
    await expect(rows).to_have_count(COMMUNE_COUNT + 1)


async def test_org_unit_map_draws_every_commune_and_a_popup_leads_to_its_page(
    page: Page, browser_login: BrowserLogin
) -> None:
    await browser_login(page)
    await page.goto("/org-units")
    commune_map = page.locator("#org-unit-map")
    await expect(commune_map).to_have_attribute("data-map-state", "ready")
    assert int(await commune_map.get_attribute("data-feature-count") or 0) >= COMMUNE_COUNT
    polygons = commune_map.locator(".leaflet-overlay-pane path")
    assert await polygons.count() >= COMMUNE_COUNT
    await expect(commune_map.locator(".map-legend")).to_contain_text("Ranh giới sơ đồ (không chính thức)")

    await (await central_polygon(commune_map)).click(force=True)
    popup = commune_map.locator(".leaflet-popup-content")
    await expect(popup.locator(".popup-title")).to_have_text(re.compile(r"^(Xã|Phường|Đặc khu) \S"))
    await expect(popup).to_contain_text(re.compile(r"Mã: \d{5}"))
    name = await popup.locator(".popup-title").inner_text()
    link = popup.get_by_role("link", name="Xem chi tiết")
    await expect(link).to_have_attribute("href", re.compile(r"/org-units/\d{5}$"))
    await check_page(page, "vi")
    await save_screenshot(page, "org_unit-map-popup-vi")

    async with page.expect_navigation():
        await link.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(name)


async def test_org_unit_detail_shows_parent_agencies_and_the_schematic_notice(
    page: Page, browser_login: BrowserLogin
) -> None:
    await browser_login(page)
    await page.goto("/org-units/27727")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Xã Hưng Điền")
    await expect(page.locator(".breadcrumb")).to_contain_text("Đơn vị hành chính")
    parent = page.locator("[data-parent] a")
    await expect(parent).to_have_text("Tỉnh Tây Ninh")
    await expect(parent).to_have_attribute("href", "/org-units/80")
    agencies = page.locator("[data-agencies] tbody th")
    # The commune's own People's Committee comes first, then the provincial bodies that serve it.
    await expect(agencies.first).to_have_text("UBND xã Hưng Điền")
    await expect(page.locator("[data-agencies]")).to_contain_text("Sở Xây dựng")
    await expect(page.locator("[data-schematic-notice]")).to_be_visible()
    await expect(page.locator("[data-schematic-notice]")).to_have_text(SCHEMATIC_NOTICE_VI)
    await map_ready(page, "#org-unit-map")
    await expect(page.locator("#org-unit-map .leaflet-overlay-pane path")).to_have_count(1)
    await check_page(page, "vi")
    await save_screenshot(page, "org_unit-detail-vi")

    await switch_language(page, "en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Xã Hưng Điền")
    await expect(page.locator(".lead")).to_have_text("Hưng Điền Commune")
    await expect(page.get_by_role("heading", name="Responsible agencies")).to_be_visible()
    await expect(page.locator("[data-parent]")).to_contain_text("Parent")
    await expect(page.locator("[data-parent] a")).to_have_text("Tây Ninh Province")
    await expect(page.locator("[data-agencies]")).to_contain_text("Department of Construction")
    await expect(page.locator("[data-schematic-notice]")).to_have_text(SCHEMATIC_NOTICE_EN)
    await check_page(page, "en")
    await map_ready(page, "#org-unit-map")
    await save_screenshot(page, "org_unit-detail-en")

    await parent.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Tỉnh Tây Ninh")
    await expect(page.get_by_role("heading", name=f"Units under it ({COMMUNE_COUNT})")).to_be_visible()
    await expect(page.locator(".org-unit-children li")).to_have_count(COMMUNE_COUNT)
    await check_page(page, "en")
    await map_ready(page, "#org-unit-map")
    await save_screenshot(page, "org_unit-province-en")


async def test_org_unit_pages_fit_a_phone(page: Page) -> None:
    await page.set_viewport_size(PHONE)
    await page.goto("/org-units")
    await map_ready(page, "#org-unit-map")
    assert await horizontal_overflow(page) == 0, "the table scrolls inside its frame, not the page"
    await save_screenshot(page, "org_unit-list-phone")
    await page.goto("/org-units/27727")
    await map_ready(page, "#org-unit-map")
    assert await horizontal_overflow(page) == 0
    await check_page(page, "vi")
    await save_screenshot(page, "org_unit-detail-phone")


async def test_org_unit_unknown_code_shows_a_not_found_page(page: Page, page_guard: PageGuard) -> None:
    page_guard.allow_console(r"status of 404")
    response = await page.goto("/org-units/99999")
    assert response is not None
    assert response.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("Không tìm thấy đơn vị hành chính")
    await expect(page.get_by_role("alert")).to_have_text("Không tìm thấy đơn vị hành chính mã 99999.")
    await page.get_by_role("link", name="Về danh sách đơn vị hành chính").click()
    await expect(page).to_have_url(re.compile(r"/org-units$"))
    await check_page(page, "vi")
