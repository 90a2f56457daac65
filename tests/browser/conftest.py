"""Browser tests: a real ioc server on 127.0.0.1 and a guarded headless Chromium page.

Every page opened through these fixtures fails its test on a console error, an uncaught page error or a
request to any host other than the test server, and leaves a full-page screenshot in
test-artifacts/screenshots/<test-name>.png (also when the test fails). See docs/ui.md.

Chromium comes from the system (the `chromium` on PATH, or CHROMIUM_PATH); Playwright never downloads a
browser here. Without it the tests are skipped locally and fail in CI (CI=true).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Route,
    ViewportSize,
    async_playwright,
    expect,
)
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from tests.conftest import TEST_SECRET, _create_pg_database, _create_schema, _drop_pg_database

from ioc.app import create_app
from ioc.core.commands import cli_actor, seed_demo
from ioc.core.runtime import Runtime
from ioc.core.security import Role, current_actor
from ioc.core.settings import Environment, Settings

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
VENDOR_STAMP = ROOT / "src" / "ioc" / "web" / "static" / "vendor" / "versions.json"
IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESK_VIEWPORT = ViewportSize(width=1366, height=860)
SERVER_START_TIMEOUT = 30.0
DEFAULT_TIMEOUT_MS = 15_000
# Assertions wait as long as actions do: a machine busy with other work can take more than the 5-s default.
expect.set_options(timeout=DEFAULT_TIMEOUT_MS)


def _skip_or_fail(message: str) -> None:
    if IN_CI:
        pytest.fail(message + " (CI=true: browser tests must run)")
    pytest.skip(message)


def chromium_executable() -> str | None:
    """Return the system Chromium: CHROMIUM_PATH, else `chromium` or `chromium-browser` on PATH."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if Path(configured).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


# ---------- the server ----------


async def seed_demo_data(settings: Settings) -> list[str]:
    """Load every enabled module's demo data, as `ioc demo seed` does, and deliver the resulting events."""
    runtime = Runtime(settings.model_copy(update={"run_background": False}))
    token = current_actor.set(cli_actor())
    try:
        await runtime.load_calendar()
        for manifest in runtime.modules:
            if manifest.on_startup is not None:
                await manifest.on_startup(runtime)
        messages = await seed_demo(runtime)
    finally:
        current_actor.reset(token)
        await runtime.db.dispose()
    return messages


class LiveServer:
    """The real application served by uvicorn in a background thread on 127.0.0.1 and a free port."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.host, self.port = self.socket.getsockname()[:2]
        self.url = f"http://{self.host}:{self.port}"
        config = uvicorn.Config(
            create_app(settings),
            log_config=None,
            lifespan="on",
            timeout_graceful_shutdown=2,
            ws="none",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._serve, name=f"ioc-test-server-{self.port}", daemon=True)
        self.error: BaseException | None = None

    def _serve(self) -> None:
        try:
            self.server.run(sockets=[self.socket])
        except BaseException as exc:  # reported by start() and stop()
            self.error = exc

    def start(self) -> None:
        """Start serving and wait until the server accepts requests."""
        self.thread.start()
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the test server did not start: {self.error!r}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Ask the server to finish and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.socket.close()
        if self.thread.is_alive():
            raise RuntimeError("the test server did not stop")

    def is_own(self, url: str) -> bool:
        """Tell whether a request URL goes to this server (data: and blob: URLs stay in the page)."""
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return True
        return parts.scheme in ("http", "https") and parts.hostname == self.host and parts.port == self.port


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Return the system Chromium, or skip (fail in CI) when there is none or the assets are not built."""
    path = chromium_executable()
    if path is None:
        _skip_or_fail("Chromium is not installed (set CHROMIUM_PATH or put `chromium` on PATH)")
        raise AssertionError("unreachable")
    if not VENDOR_STAMP.is_file():
        pytest.fail("front-end assets are not built: run `python scripts/build_assets.py`")
    return path


@pytest.fixture(scope="session")
def template_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data folder of the seeded demo (photos); browser tests share it, uploads get random names."""
    return tmp_path_factory.mktemp("template-data")


@pytest.fixture(scope="session")
def seeded_template(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, template_data_dir: Path
) -> Iterator[str]:
    """Seed the demo data once per session into a template database that every browser test copies."""
    if database_url.startswith("postgresql"):
        name = f"ioc_tmpl_{uuid.uuid4().hex[:10]}"
        url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
        asyncio.run(_create_pg_database(_admin_url(database_url), name))
    else:
        url = f"sqlite+aiosqlite:///{(tmp_path_factory.mktemp('template') / 'template.sqlite3').as_posix()}"
    template_settings = Settings(
        env=Environment.TEST, secret_key=TEST_SECRET, database_url=url, data_dir=template_data_dir, log_json=False
    )
    asyncio.run(_create_schema(url))
    asyncio.run(seed_demo_data(template_settings))
    try:
        yield url
    finally:
        if url.startswith("postgresql"):
            asyncio.run(_drop_pg_database(_admin_url(database_url), make_url(url).database or ""))


def _admin_url(url: str) -> str:
    # CREATE DATABASE ... TEMPLATE needs the template to have no session, so work from the `test` database.
    return make_url(url).set(database="test").render_as_string(hide_password=False)


async def _copy_database(template: str, target_name: str, folder: Path) -> str:
    if template.startswith("postgresql"):
        admin = _admin_url(template)
        admin_engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
        try:
            async with admin_engine.connect() as conn:
                source = make_url(template).database
                await conn.execute(text(f'CREATE DATABASE "{target_name}" TEMPLATE "{source}"'))
                await conn.execute(text(f'ALTER DATABASE "{target_name}" SET synchronous_commit = off'))
        finally:
            await admin_engine.dispose()
        return make_url(template).set(database=target_name).render_as_string(hide_password=False)
    source_file = Path(make_url(template).database or "")
    target = folder / f"{target_name}.sqlite3"
    shutil.copyfile(source_file, target)
    return f"sqlite+aiosqlite:///{target.as_posix()}"


@pytest.fixture
async def settings(seeded_template: str, template_data_dir: Path, tmp_path: Path) -> AsyncIterator[Settings]:
    """Browser tests run on a copy of the seeded template (much faster than seeding for every test)."""
    name = f"ioc_bt_{uuid.uuid4().hex[:10]}"
    url = await _copy_database(seeded_template, name, tmp_path)
    yield Settings(
        env=Environment.TEST,
        secret_key=TEST_SECRET,
        database_url=url,
        data_dir=template_data_dir,
        run_background=False,
        log_json=False,
    )
    if url.startswith("postgresql"):
        await _drop_pg_database(_admin_url(seeded_template), name)


@pytest.fixture
async def live_server(chromium_path: str, settings: Settings) -> AsyncIterator[LiveServer]:
    """Serve the real application (background workers on) on a copy of the seeded demo database."""
    server = LiveServer(settings.model_copy(update={"run_background": True}))
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


# ---------- the browser ----------


@pytest.fixture(scope="session")
async def playwright_driver() -> AsyncIterator[Playwright]:
    """Start Playwright once per session (its driver only; the browser is the system's)."""
    async with async_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
async def browser(chromium_path: str, playwright_driver: Playwright) -> AsyncIterator[Browser]:
    """Launch the system Chromium headless, once per session."""
    instance = await playwright_driver.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
    yield instance
    await instance.close()


@dataclass
class PageGuard:
    """Records what must fail a browser test: console errors, page errors and requests to other hosts."""

    server: LiveServer
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow_console(self, pattern: str) -> None:
        """Accept console errors matching `pattern` (e.g. the 404 of a page the test opens on purpose)."""
        self.allowed.append(re.compile(pattern))

    def watch(self, page: Page) -> None:
        """Start recording a page's console and uncaught errors."""
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(f"{page.url}: {error}"))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            location = message.location.get("url", "") if message.location else ""
            self.console_errors.append(f"{message.text} ({location})")

    async def block_foreign(self, route: Route) -> None:
        """Abort a request to another host and remember it."""
        self.foreign_requests.append(f"{route.request.method} {route.request.url}")
        await route.abort("blockedbyclient")

    def problems(self) -> list[str]:
        """Return everything that makes the test fail."""
        console = [text for text in self.console_errors if not any(p.search(text) for p in self.allowed)]
        return (
            [f"console error: {text}" for text in console]
            + [f"uncaught page error: {text}" for text in self.page_errors]
            + [f"request to another host: {text}" for text in self.foreign_requests]
        )


def _screenshot_name(node_name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", node_name).strip("_")


@pytest.fixture
def page_guard(live_server: LiveServer) -> PageGuard:
    """The recorder of the current test's pages; tests may allow expected console errors with it."""
    return PageGuard(server=live_server)


@pytest.fixture
async def browser_context(
    browser: Browser, live_server: LiveServer, page_guard: PageGuard, request: pytest.FixtureRequest
) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile pointed at the test server, with the guards on and screenshots at the end."""
    context = await browser.new_context(
        base_url=live_server.url, viewport=DESK_VIEWPORT, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh"
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    await context.route(lambda url: not live_server.is_own(url), page_guard.block_foreign)
    context.on("page", page_guard.watch)
    try:
        yield context
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = _screenshot_name(request.node.name)
        for index, opened in enumerate(context.pages):
            suffix = "" if index == 0 else f"-{index + 1}"
            if not opened.is_closed():
                await opened.screenshot(path=SCREENSHOTS / f"{name}{suffix}.png", full_page=True)
        await context.close()
    problems = page_guard.problems()
    if problems:
        pytest.fail("browser problems:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
async def page(browser_context: BrowserContext) -> Page:
    """A guarded page of the test server (relative URLs work: page.goto("/"))."""
    return await browser_context.new_page()


BrowserLogin = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def browser_login(make_user: Callable[..., Awaitable[dict[str, Any]]]) -> BrowserLogin:
    """Return `login(page, role=Role.ADMIN, **fields)`: create a user and log in through the real /login form."""

    async def login(page: Page, role: Role = Role.ADMIN, **fields: Any) -> dict[str, Any]:
        user = await make_user(role, **fields)
        await page.goto("/login")
        await page.locator('input[name="username"]').fill(user["username"])
        await page.locator('input[name="password"]').fill(user["password"])
        async with page.expect_navigation():
            await page.locator('form[action^="/login"] [type="submit"]').click()
        return user

    return login
