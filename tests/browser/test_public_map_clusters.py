"""The public map of reports in a real headless Chromium: clusters with counts when zoomed out, points in a street."""

from __future__ import annotations

import math
import random
import re
from datetime import timedelta

import pytest
from playwright.async_api import Locator, Page, expect
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine
from tests.browser.page_checks import check_page

from ioc.core.settings import Settings
from ioc.core.time import utc_now
from ioc.modules.citizen_report.models import Category, Report

pytestmark = pytest.mark.browser

EXTRA_REPORTS = 600
# A busy corner of Tây Ninh city: a third of the extra reports stand within 200 m of it.
CORNER = (11.3125, 106.0982)
SECRET_NAME = "Lê Thị Riêng Tư"
ZOOM = "document.querySelector('#cr-public-map').iocMap.getZoom()"


@pytest.fixture
async def settings(settings: Settings) -> Settings:
    """Add 600 accepted reports to the copied demo database, more than a view shows as points."""
    wanted = [m for m in ("org_unit", "notification", "citizen_report") if m not in settings.modules]
    settings = settings.model_copy(update={"modules": [*settings.modules, *wanted]})
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.begin() as conn:
            category_id, category_code = (await conn.execute(select(Category.id, Category.code).limit(1))).one()
            rng = random.Random(1022)
            now = utc_now()
            rows = []
            for number in range(EXTRA_REPORTS):
                if number % 3 == 0:
                    lat, lon = CORNER[0] + rng.uniform(-0.002, 0.002), CORNER[1] + rng.uniform(-0.002, 0.002)
                else:
                    lat, lon = rng.uniform(10.95, 11.75), rng.uniform(105.85, 106.55)
                rows.append(
                    {
                        "tracking_code": f"PA-2099-{number:06d}",
                        "category_id": category_id,
                        "category_code": category_code,
                        "description": "Đèn đường hỏng",
                        "attributes": {},
                        "lat": lat,
                        "lon": lon,
                        "unit_code": "25459",
                        "address": "",
                        "source": "app",
                        "lang": "vi",
                        "status": ("accepted", "in_progress", "closed")[number % 3],
                        "accepted_at": now - timedelta(hours=2),
                        "reporter_name": SECRET_NAME,
                        "rating_token_hash": f"{number:064d}",
                        "created_at": now - timedelta(hours=3, minutes=number),
                        "updated_at": now - timedelta(hours=2),
                    }
                )
            await conn.execute(insert(Report), rows)
    finally:
        await engine.dispose()
    return settings


async def _inner_cluster(area: Locator) -> Locator:
    """Return the cluster nearest the middle of the map (the answer also holds clusters just outside the view)."""
    frame = await area.bounding_box()
    assert frame is not None
    middle = (frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 2)
    best, distance = None, math.inf
    for cluster in await area.locator(".cr-cluster").all():
        box = await cluster.bounding_box()
        if box is not None:
            away = math.dist(middle, (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2))
            if away < distance:
                best, distance = cluster, away
    assert best is not None
    return best


async def test_public_map_shows_every_report_as_clusters_then_points(page: Page) -> None:
    public = await page.request.get("/api/v1/citizen-reports/public?limit=1")
    total = (await public.json())["total"]
    assert total >= EXTRA_REPORTS

    await page.goto("/phan-anh/ban-do")
    await check_page(page, "vi")
    area = page.locator("#cr-public-map")
    # The first answer (every report) is fitted, then the view fitted asks again with its box.
    await expect(area).to_have_attribute("data-cr-bbox", re.compile(r"^[\d.,-]+$"))
    await expect(area).to_have_attribute("data-cr-layer-state", "ready")
    # Zoomed out on the province: clusters with their counts, and together they stand for every public report.
    await expect(area.locator(".cr-cluster").first).to_be_visible()
    first_answer = await area.get_attribute("data-cr-count")
    assert first_answer == str(total)
    assert int(await area.get_attribute("data-cr-clusters") or "0") > 0
    assert SECRET_NAME not in await page.content()

    # A click on a cluster zooms in.
    zoom_before = await page.evaluate(ZOOM)
    # (A cluster well inside the map, clear of the controls; forced: markers may overlap one another, and
    # Leaflet ignores a click event merely dispatched.)
    await (await _inner_cluster(area)).click(force=True)
    # The answer for the new view arrives once the map has settled (a move during the zoom's animation is lost).
    await expect(area).to_have_attribute("data-cr-zoom", str(math.floor(zoom_before + 2 + 0.5)))

    # In a street of the busy corner: the reports themselves, each linking to its public page.
    await page.evaluate(f"document.querySelector('#cr-public-map').iocMap.setView([{CORNER[0]}, {CORNER[1]}], 17)")
    await expect(area).to_have_attribute("data-cr-zoom", "17")
    await expect(area).to_have_attribute("data-cr-layer-state", "ready")
    await expect(area).to_have_attribute("data-cr-clusters", "0")
    assert int(await area.get_attribute("data-cr-points") or "0") >= EXTRA_REPORTS // 3 // 2
    await area.locator("path.leaflet-interactive").last.click(force=True)
    link = page.locator(".leaflet-popup-content a")
    await expect(link).to_have_attribute("href", re.compile(r"^/phan-anh/PA-\d{4}-\d+$"))
