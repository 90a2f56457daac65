"""The shell over HTTP: language switch, security headers, error pages, home page and API docs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import Depends

from ioc.app import create_app
from ioc.core.jobs import JobStatus
from ioc.core.models import Job, OutboxEvent
from ioc.core.runtime import Runtime
from ioc.core.security import Principal, Role, require_principal
from ioc.core.settings import Settings
from ioc.core.time import utc_now
from ioc.web.shell import STATUSES_WITH_TEXT

LoginFactory = Callable[..., Awaitable[httpx.AsyncClient]]
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


class PageParser(HTMLParser):
    """Collects what the tests look at: scripts, the html element, links and marked elements."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.html_attrs: dict[str, str | None] = {}
        self.links: list[dict[str, str | None]] = []
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Record one start tag."""
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag == "script":
            self.scripts.append(attributes)
        elif tag == "html":
            self.html_attrs = attributes
        elif tag == "a":
            self.links.append(attributes)

    def having(self, attribute: str) -> list[dict[str, str | None]]:
        """Return the attributes of every element that carries `attribute`."""
        return [attrs for _tag, attrs in self.elements if attribute in attrs]


def parse(html: str) -> PageParser:
    """Parse a page."""
    parser = PageParser()
    parser.feed(html)
    return parser


def csp_directives(header: str) -> dict[str, list[str]]:
    """Split a Content-Security-Policy header into its directives."""
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


# ---------- language switch ----------


async def test_language_switch_sets_the_cookie_and_goes_back(client: httpx.AsyncClient) -> None:
    response = await client.get("/lang/en", params={"next": "/docs?x=1"})
    assert response.status_code == 303
    assert response.headers["location"] == "/docs?x=1"
    assert "ioc_lang=en" in response.headers["set-cookie"]
    assert "samesite=lax" in response.headers["set-cookie"].lower()

    page = await client.get("/", headers=BROWSER)
    assert parse(page.text).html_attrs["lang"] == "en"
    assert "Welcome to the Intelligent Operations Center" in page.text

    await client.get("/lang/vi", params={"next": "/"})
    page = await client.get("/", headers=BROWSER)
    assert parse(page.text).html_attrs["lang"] == "vi"
    assert "Chào mừng đến Trung tâm giám sát, điều hành đô thị thông minh" in page.text


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/path",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "evil.example",
        "javascript:alert(1)",
        "/ok\r\nSet-Cookie: x=1",
    ],
)
async def test_language_switch_never_redirects_off_site(client: httpx.AsyncClient, target: str) -> None:
    response = await client.get("/lang/en", params={"next": target})
    assert response.status_code == 303
    assert response.headers["location"] == "/"


async def test_unknown_language_is_not_found_and_sets_no_cookie(client: httpx.AsyncClient) -> None:
    response = await client.get("/lang/fr", params={"next": "/"})
    assert response.status_code == 404
    assert "set-cookie" not in response.headers


async def test_page_links_switch_language_back_to_the_same_page(client: httpx.AsyncClient) -> None:
    page = parse((await client.get("/docs?tab=1&lang=vi", headers=BROWSER)).text)
    hrefs = [link["href"] for link in page.links if (link["href"] or "").startswith("/lang/")]
    assert "/lang/en?next=/docs" in hrefs

    home = parse((await client.get("/?q=a%20b&lang=vi", headers=BROWSER)).text)
    switch = {link["hreflang"]: urlsplit(link["href"] or "") for link in home.links if link.get("hreflang")}
    assert {code: url.path for code, url in switch.items()} == {"vi": "/lang/vi", "en": "/lang/en"}
    # The current query is kept, the lang parameter is dropped so that the new choice wins.
    for url in switch.values():
        assert parse_qs(url.query)["next"] == ["/?q=a+b"]


# ---------- security headers and scripts ----------


@pytest.mark.parametrize("path", ["/", "/docs", "/no-such-page", "/api/v1/no-such-thing", "/healthz"])
async def test_every_response_carries_the_security_headers(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers=BROWSER)
    csp = csp_directives(response.headers["content-security-policy"])
    assert csp["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/", "/?mode=wall", "/docs", "/no-such-page"])
async def test_pages_have_no_inline_scripts(client: httpx.AsyncClient, path: str) -> None:
    page = parse((await client.get(path, headers=BROWSER)).text)
    assert page.scripts, "every page loads its scripts from /static"
    for script in page.scripts:
        if script.get("type") == "application/json":
            continue  # data, not code: the CSP does not apply to it
        assert (script.get("src") or "").startswith("/static/"), script


# ---------- error pages ----------


async def test_browsers_get_an_html_404_in_their_language(client: httpx.AsyncClient) -> None:
    vi = await client.get("/no-such-page", headers=BROWSER)
    assert vi.status_code == 404
    assert vi.headers["content-type"].startswith("text/html")
    assert "Không tìm thấy trang" in vi.text
    assert 'data-error-status="404"' in vi.text

    en = await client.get("/no-such-page", headers={**BROWSER, "Accept-Language": "en"})
    assert en.status_code == 404
    assert "Page not found" in en.text


async def test_api_calls_keep_json_errors(client: httpx.AsyncClient) -> None:
    api = await client.get("/api/v1/no-such-thing", headers=BROWSER)
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/json")

    scripted = await client.get("/no-such-page", headers={"Accept": "application/json"})
    assert scripted.status_code == 404
    assert scripted.headers["content-type"].startswith("application/json")

    unauthenticated = await client.get("/api/v1/live", headers=BROWSER)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"] == "unauthorized"


@pytest.fixture
async def app_with_test_routes(settings: Settings) -> AsyncIterator[Any]:
    """The real application plus a page that fails and a page that needs a login."""
    application = create_app(settings)

    @application.get("/test-failure")
    async def failure() -> None:
        raise RuntimeError("boom: a secret detail that must not leak")

    @application.get("/test-private")
    async def private(_principal: Principal = Depends(require_principal)) -> dict[str, str]:
        return {"ok": "yes"}

    async with application.router.lifespan_context(application):
        yield application


async def test_browsers_get_an_html_500_without_internals(app_with_test_routes: Any) -> None:
    transport = httpx.ASGITransport(app=app_with_test_routes, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        page = await http.get("/test-failure", headers=BROWSER)
        api = await http.get("/test-failure", headers={"Accept": "application/json"})
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "Lỗi hệ thống" in page.text
    assert "secret detail" not in page.text
    assert api.status_code == 500
    assert api.json()["error"] == "internal_error"


async def test_a_page_needing_login_sends_browsers_to_the_login_form(app_with_test_routes: Any) -> None:
    transport = httpx.ASGITransport(app=app_with_test_routes)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        page = await http.get("/test-private?tab=2", headers=BROWSER)
        api = await http.get("/test-private", headers={"Accept": "application/json"})
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Ftest-private%3Ftab%3D2"
    assert api.status_code == 401


# ---------- home page ----------


async def test_home_page_welcomes_visitors_with_login_and_public_links(client: httpx.AsyncClient) -> None:
    response = await client.get("/", headers=BROWSER)
    assert response.status_code == 200
    page = parse(response.text)
    hrefs = {link["href"] for link in page.links}
    assert "/login?next=%2F" in hrefs
    assert "/docs" in hrefs
    assert not page.having("data-system-status"), "visitors do not see the system status"
    assert not page.having("data-map"), "visitors do not see the internal map"
    assert page.having("data-live-url")[0]["data-live-url"] == "/api/v1/live/public"


async def test_home_page_shows_staff_their_functions_map_and_system_status(
    client: httpx.AsyncClient, runtime: Runtime, login_as: LoginFactory
) -> None:
    now = utc_now()
    async with runtime.db.transaction() as session:
        session.add_all(
            [
                OutboxEvent(event_id="e-recent", name="x.happened", payload={}, occurred_at=now - timedelta(hours=2)),
                OutboxEvent(
                    event_id="e-old",
                    name="x.happened",
                    payload={},
                    occurred_at=now - timedelta(days=3),
                    published_at=now - timedelta(days=3),
                ),
                Job(name="x.do", payload={}, run_at=now, status=JobStatus.DEAD, last_error="failed"),
                Job(name="x.do", payload={}, run_at=now + timedelta(hours=1), status=JobStatus.PENDING),
                Job(name="x.do", payload={}, run_at=now + timedelta(hours=1), status=JobStatus.PENDING),
            ]
        )
    staff = await login_as(Role.ADMIN, display_name="Nguyễn Thị Lan")
    response = await staff.get("/", headers=BROWSER)
    assert response.status_code == 200
    assert "Xin chào, Nguyễn Thị Lan" in response.text
    page = parse(response.text)

    stats = {attrs["data-stat"]: attrs for attrs in page.having("data-stat")}
    assert set(stats) == {"events_last_24h", "events_unpublished", "jobs_pending", "jobs_dead"}
    figures = _stat_values(response.text)
    assert figures == {"events_last_24h": "1", "events_unpublished": "1", "jobs_pending": "2", "jobs_dead": "1"}
    assert "Cần chú ý" in response.text

    maps = page.having("data-map")
    assert maps[0]["data-geojson-url"] == "/api/v1/org-units.geojson?level=commune"
    nav_paths = {entry.path for entry in runtime.navigation(None, "vi")}
    assert nav_paths, "the enabled modules contribute navigation entries"
    hrefs = {link["href"] for link in page.links}
    assert nav_paths <= hrefs
    assert page.having("data-live-url")[0]["data-live-url"] == "/api/v1/live"


def _stat_values(html: str) -> dict[str, str]:
    """Read the figure of every data-stat block."""

    class StatParser(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.current: str | None = None
            self.in_value = False
            self.values: dict[str, str] = {}

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            attributes = dict(attrs)
            if attributes.get("data-stat"):
                self.current = attributes["data-stat"]
            self.in_value = self.current is not None and "stat-value" in (attributes.get("class") or "")

        def handle_data(self, data: str) -> None:
            if self.in_value and self.current and data.strip():
                self.values[self.current] = data.strip()
                self.in_value = False

    parser = StatParser()
    parser.feed(html)
    return parser.values


async def test_desk_page_marks_the_current_navigation_entry(client: httpx.AsyncClient) -> None:
    page = parse((await client.get("/", headers=BROWSER)).text)
    current = [attrs for attrs in page.having("aria-current") if attrs.get("aria-current") == "page"]
    assert [attrs["href"] for attrs in current] == ["/"]


async def test_wall_mode_uses_the_dark_wall_layout(client: httpx.AsyncClient) -> None:
    desk = parse((await client.get("/", headers=BROWSER)).text)
    wall = parse((await client.get("/?mode=wall", headers=BROWSER)).text)
    assert desk.html_attrs["class"] == "theme-desk"
    assert wall.html_attrs["class"] == "theme-wall"
    assert wall.having("data-wall-clock")
    assert not wall.having("data-sidenav"), "the wall has no navigation to operate"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_role_section_and_error_status_has_words(runtime: Runtime, lang: str) -> None:
    catalog = runtime.translator.catalogs[lang]
    keys = [f"shell.role.{role.value}" for role in Role]
    keys += [f"shell.nav.section.{section}" for section in ("desk", "public", "admin")]
    for status in sorted(STATUSES_WITH_TEXT):
        keys += [f"shell.error.{status}.title", f"shell.error.{status}.text"]
    assert [key for key in keys if not catalog.get(key)] == []


# ---------- API docs ----------


async def test_api_docs_load_swagger_ui_from_local_assets(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs", headers=BROWSER)
    assert response.status_code == 200
    page = parse(response.text)
    sources = [script["src"] for script in page.scripts]
    assert sources == ["/static/vendor/swagger-ui/swagger-ui-bundle.js", "/static/js/api-docs.js"]
    assert page.having("data-openapi-url")[0]["data-openapi-url"] == "/openapi.json"
    styles = [attrs["href"] for tag, attrs in page.elements if tag == "link" and attrs.get("rel") == "stylesheet"]
    assert "/static/vendor/swagger-ui/swagger-ui.css" in styles
    assert all((href or "").startswith("/static/") for href in styles)
