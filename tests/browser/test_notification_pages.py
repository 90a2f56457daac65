"""The notification delivery log in a real headless Chromium: a test message, its status badges and the retry button."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.async_api import Locator, Page, ViewportSize, expect
from tests.browser.conftest import BrowserLogin
from tests.browser.page_checks import check_page, horizontal_overflow, save_screenshot, switch_language

pytestmark = pytest.mark.browser

PHONE = ViewportSize(width=375, height=740)
WCAG_AA_TEXT = 4.5
STATUS_WAIT_TRIES = 50
STATUS_WAIT_STEP_MS = 200

SEND_TEST = """
async (body) => {
  const response = await fetch("/api/v1/notifications/test", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}
"""
BADGE_COLOURS = "(badge) => [getComputedStyle(badge).color, getComputedStyle(badge).backgroundColor]"


class WebhookReceiver:
    """A receiving system on 127.0.0.1 that refuses the first message (HTTP 400) and accepts the next ones."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.bodies.append(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                refused = len(receiver.bodies) == 1
                self.send_response(400 if refused else 200)
                self.end_headers()
                self.wfile.write(b"unknown subscriber" if refused else b"ok")

            def log_message(self, *args: Any) -> None:
                """Stay quiet: the test reads `bodies` instead."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/ioc"
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-receiver", daemon=True)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """Run the receiving system for one test."""
    receiver = WebhookReceiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def contrast(foreground: str, background: str) -> float:
    """Return the WCAG contrast ratio of two `rgb(...)` colours."""

    def luminance(css_color: str) -> float:
        red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", css_color)[:3])

        def linear(channel: float) -> float:
            return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4

        return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)

    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


async def wait_for_status(page: Page, row: Locator, status: str) -> None:
    """Reload the log until the delivery reaches `status` (the sender works in the background)."""
    for _ in range(STATUS_WAIT_TRIES):
        if await row.locator(f'[data-status="{status}"]').count():
            return
        await page.wait_for_timeout(STATUS_WAIT_STEP_MS)
        await page.reload()
    pytest.fail(f"the delivery never became {status}")


async def test_notification_log_shows_a_refused_webhook_and_retries_it(
    page: Page, browser_login: BrowserLogin, webhook_receiver: WebhookReceiver
) -> None:
    await browser_login(page, display_name="Võ Minh Khang")
    await page.goto("/admin/notifications")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Nhật ký gửi thông báo")
    answer: dict[str, Any] = await page.evaluate(SEND_TEST, {"channel": "webhook", "recipient": webhook_receiver.url})
    assert answer["status"] == 202, answer
    delivery_id = answer["body"]["id"]

    row = page.locator(
        "#main .data-table > tbody > tr", has=page.locator("th", has_text=re.compile(rf"^{delivery_id}$"))
    )
    await wait_for_status(page, row, "dead")
    badge = row.locator("[data-status]")
    await expect(badge).to_have_text("Thất bại")
    assert contrast(*await badge.evaluate(BADGE_COLOURS)) >= WCAG_AA_TEXT, "the badge is readable"
    await expect(row).to_contain_text("Webhook")
    await expect(row).to_contain_text(webhook_receiver.url)
    await expect(row).to_contain_text("HTTP 400: unknown subscriber")
    await expect(row.locator("[data-attempts]")).to_have_text("1")
    await row.locator("summary").click()
    await expect(row.locator(".delivery-body")).to_contain_text("Đây là tin nhắn thử nghiệm")
    await check_page(page, "vi")
    await save_screenshot(page, "notification-log-dead-vi")

    # The retry form carries the page's CSRF token, as every form posted without JavaScript must.
    retry_form = row.locator(f'form[action="/admin/notifications/{delivery_id}/retry"]')
    token = await page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token
    await expect(retry_form.locator('input[type="hidden"][name="csrf_token"]')).to_have_value(token)
    async with page.expect_navigation():
        await retry_form.get_by_role("button", name=re.compile(r"^Gửi lại")).click()
    await expect(page).to_have_url(re.compile(r"/admin/notifications$"))
    await wait_for_status(page, row, "delivered")
    await expect(row.locator("[data-status]")).to_have_text("Đã gửi")
    assert contrast(*await row.locator("[data-status]").evaluate(BADGE_COLOURS)) >= WCAG_AA_TEXT
    await expect(row.locator("form")).to_have_count(0)
    assert len(webhook_receiver.bodies) == 2, "the retry sent the message once more"
    await save_screenshot(page, "notification-log-delivered-vi")

    await switch_language(page, "en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Notification delivery log")
    await expect(row.locator("[data-status]")).to_have_text("Delivered")
    await page.get_by_label("Status").select_option("dead")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Filter").click()
    # The delivered row leaves the "dead" list; what stays (the demo alarms' e-mails, with no mail server in a
    # test) failed too, and an empty list says so in words.
    await expect(row).to_have_count(0)
    statuses = await page.locator("#main .data-table > tbody > tr [data-status]").all_inner_texts()
    assert all(status == "Dead" for status in statuses), statuses
    if not statuses:
        await expect(page.locator("[data-state=empty]")).to_contain_text("No delivery matches the filters.")
    await page.get_by_role("link", name="Clear").click()
    await expect(row.locator("[data-status]")).to_have_text("Delivered")
    await check_page(page, "en")
    await save_screenshot(page, "notification-log-en")

    await page.set_viewport_size(PHONE)
    assert await horizontal_overflow(page) == 0, "the log scrolls inside its frame, not the page"
    await save_screenshot(page, "notification-log-phone")
