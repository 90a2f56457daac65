"""The environment station pages in a real headless Chromium: the map, a station updated live, the public page."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from playwright.async_api import Page, ViewportSize, expect
from tests.browser.conftest import BrowserLogin, LiveServer
from tests.browser.page_checks import check_page, horizontal_overflow, map_ready, save_screenshot

from ioc.core.settings import Settings

pytestmark = pytest.mark.browser

PHONE = ViewportSize(width=375, height=740)
EPISODE = "KK-PHUOCDONG"
MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883
# The broker is shared: this module's server listens on its own topic prefix.
TOPIC_PREFIX = f"ioc-bt-{uuid.uuid4().hex[:10]}/telemetry"


@pytest.fixture
async def live_server(chromium_path: str, settings: Settings) -> AsyncIterator[LiveServer]:
    """The real application with MQTT ingestion on, as in the issue's `mosquitto_pub` check."""
    update = {
        "run_background": True,
        "mqtt_url": f"mqtt://{MQTT_HOST}:{MQTT_PORT}?client_id={TOPIC_PREFIX.split('/')[0]}",
        "mqtt_topic_prefix": TOPIC_PREFIX,
    }
    server = LiveServer(settings.model_copy(update=update))
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


def publish(topic: str, payload: str) -> None:
    """Publish one QoS 1 message and wait for the broker's acknowledgement (what `mosquitto_pub -q 1` does)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{TOPIC_PREFIX.split('/')[0]}-pub")
    client.connect(MQTT_HOST, MQTT_PORT)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1).wait_for_publish(timeout=5)
    finally:
        client.loop_stop()
        client.disconnect()


async def test_environment_station_map_and_a_station_shows_a_new_reading_within_a_second(
    page: Page, browser_login: BrowserLogin
) -> None:
    await browser_login(page)
    await page.goto("/environment/stations")
    await map_ready(page, "#env-map")
    await expect(page.locator("#env-map")).to_have_attribute("data-feature-count", "15")
    await expect(page.locator(f'#env-stations tr[data-station="{EPISODE}"]')).to_be_visible()
    await check_page(page, "vi")
    await save_screenshot(page, "environment-stations-vi")

    await page.get_by_role("link", name="Trạm không khí KCN Phước Đông").click()
    await page.wait_for_url(f"**/environment/stations/{EPISODE}")
    await expect(page.locator('[data-chart="index"]')).to_have_attribute("data-chart-state", "ready")
    await expect(page.locator("#env-exceedances")).to_contain_text("PM2.5")
    # The seed evaluated three days: the finished ones have a daily VN_AQI, and this station also a US AQI.
    await expect(page.locator('#env-daily tr[data-standard="VN_AQI"]').first).to_be_visible()
    await expect(page.locator("#env-daily")).to_contain_text("US_AQI")
    await expect(page.locator("html")).to_have_attribute("data-live", "online")
    # No reload may happen: a marker set on this window must survive the update.
    await page.evaluate("window.envNoReload = true")
    started = time.monotonic()
    message = json.dumps({"ts": int(time.time() * 1000), "values": {"pm25": 432.1}})
    await asyncio.to_thread(publish, f"{TOPIC_PREFIX}/{EPISODE}", message)
    cell = page.locator('#env-latest tr[data-parameter="PM2.5"] [data-value]')
    await expect(cell).to_contain_text("432,1", timeout=3000)
    # MQTT → ingestion → outbox → live stream → the page's fetch of the newest readings, without a reload: the
    # target is a second (printed); the test fails past three, which a busy CI machine never reaches unless it broke.
    shown = time.monotonic() - started
    print(f"\nreading published over MQTT shown on the station page after {shown * 1000:.0f} ms (target 1000 ms)")
    assert shown < 3.0
    assert await page.evaluate("window.envNoReload === true")
    await check_page(page, "vi")
    await save_screenshot(page, "environment-station-vi")


async def test_environment_public_air_quality_page_on_a_phone(page: Page) -> None:
    await page.set_viewport_size(PHONE)
    await page.goto("/moi-truong/khong-khi")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Chất lượng không khí hiện tại")
    await map_ready(page, "#env-map")
    items = page.locator("#env-air [data-station]")
    await expect(items).to_have_count(8)
    badge = page.locator(f'#env-air [data-station="{EPISODE}"] > [data-index-badge]')
    await expect(badge).to_have_text(re.compile(r"^\d+$"))
    await expect(page.locator(f'#env-air [data-station="{EPISODE}"] [data-air-day] [data-index-badge]')).to_have_text(
        re.compile(r"^\d+$")
    )
    await expect(page.locator(f'#env-air [data-station="{EPISODE}"] [data-air-us]')).to_contain_text("US AQI")
    await check_page(page, "vi")
    assert await horizontal_overflow(page) <= 1
    await save_screenshot(page, "environment-air-public-vi")
