"""Checks shared by the foundation modules' browser tests: accessibility smoke test, language and screenshots."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect
from tests.browser.conftest import SCREENSHOTS

# A translation key that reached the page untranslated looks like "audit.filter.actor".
_MODULES = (
    "shell|identity|org_unit|audit|notification|telemetry|"
    "environment|citizen_report|incident|warning|alarm|indicator|dashboard"
)
RAW_KEY = re.compile(rf"\b(?:{_MODULES})\.[a-z_]+(?:\.[a-z_0-9]+)*\b")

_UNLABELLED_CONTROLS = """
() => [...document.querySelectorAll("input, select, textarea")]
  .filter((el) => el.type !== "hidden" && !(el.labels && el.labels.length)
    && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby"))
  .map((el) => el.outerHTML.slice(0, 160))
"""
_IMAGES_WITHOUT_ALT = """
() => [...document.querySelectorAll("img:not([alt])")].map((el) => el.outerHTML.slice(0, 160))
"""


async def check_page(page: Page, lang: str) -> None:
    """Assert the accessibility basics: page language, one h1, labelled controls, alt texts, no raw keys.

    A raw key is a translation key that reached the page untranslated ("audit.filter.actor"); text inside
    <code> is skipped because identifiers such as a notification's template key are shown there on purpose.
    """
    await expect(page.locator("html")).to_have_attribute("lang", lang)
    await expect(page.locator("h1")).to_have_count(1)
    unlabelled: list[str] = await page.evaluate(_UNLABELLED_CONTROLS)
    assert unlabelled == [], f"form controls without a label: {unlabelled}"
    without_alt: list[str] = await page.evaluate(_IMAGES_WITHOUT_ALT)
    assert without_alt == [], f"images without alt text: {without_alt}"
    text = await page.locator("body").inner_text()
    # Identifiers shown on purpose (a template key, a correlation) are marked up as <code>.
    for identifier in await page.locator("code").all_inner_texts():
        text = text.replace(identifier, "")
    raw = sorted(set(RAW_KEY.findall(text)))
    assert raw == [], f"untranslated keys on the page: {raw}"


async def horizontal_overflow(page: Page) -> int:
    """Return by how many pixels the page is wider than the viewport."""
    overflow: int = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return overflow


async def save_screenshot(page: Page, name: str) -> None:
    """Save a full-page screenshot as test-artifacts/screenshots/<name>.png (name starts with the module)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


async def switch_language(page: Page, lang: str) -> None:
    """Switch the interface language with the top bar's VI/EN links, as a user does."""
    await page.locator(f'.lang-switch a[href^="/lang/{lang}"]').click()
    await expect(page.locator("html")).to_have_attribute("lang", lang)


_MAP_AT_REST = """
(map) => {
  const pane = map.querySelector(".leaflet-map-pane");
  const layer = map.querySelector(".leaflet-overlay-pane svg");
  const scale = layer ? new DOMMatrixReadOnly(getComputedStyle(layer).transform).a : 1;
  return Boolean(pane) && !pane.classList.contains("leaflet-zoom-anim") && Math.abs(scale - 1) < 1e-6;
}
"""
MAP_SETTLE_TRIES = 50
MAP_SETTLE_STEP_MS = 100


async def map_ready(page: Page, selector: str) -> None:
    """Wait until a map component has drawn its layer and finished zooming to it (for steady screenshots)."""
    element = page.locator(selector)
    await expect(element).to_have_attribute("data-map-state", "ready")
    # "ready" is announced before the zoom to the layer ends; a screenshot taken then shows a stretched layer.
    # (wait_for_function would need eval, which the Content-Security-Policy forbids, so poll instead.)
    for _ in range(MAP_SETTLE_TRIES):
        if await element.evaluate(_MAP_AT_REST):
            return
        await page.wait_for_timeout(MAP_SETTLE_STEP_MS)
    raise AssertionError(f"the map {selector} is still zooming after {MAP_SETTLE_TRIES * MAP_SETTLE_STEP_MS} ms")
