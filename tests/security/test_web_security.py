"""Web security, one test per attack of issue 8: headers, CSRF, sessions, throttling, uploads, injections."""

from __future__ import annotations

import re
import struct
import uuid
import zlib
from datetime import timedelta
from typing import Any

import httpx
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select, update

from ioc.app import MAX_REQUEST_BYTES, create_app
from ioc.core.security import Role
from ioc.core.time import utc_now
from ioc.modules import identity
from ioc.modules.identity.constants import CSRF_EXEMPT_PATHS, IP_MAX_FAILURES, LOGIN_CSRF_COOKIE, SESSION_COOKIE
from ioc.modules.identity.models import WebSession

from .conftest import PASSWORD, World, anonymous_client, log_in, module_settings
from .walk import app_routes, jpeg

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
SQL_ERRORS = re.compile(r"syntax error|sqlite3?\.|asyncpg|psycopg|OperationalError|ProgrammingError|near \"", re.I)


async def _new_user(world: World, role: Role = Role.AGENCY_STAFF) -> str:
    username = f"sec.{uuid.uuid4().hex[:8]}"
    async with world.runtime.db.transaction() as session:
        await identity.create_user(session, world.runtime, username=username, password=PASSWORD, role=role)
    return username


def _client_from(world: World, address: str) -> httpx.AsyncClient:
    """A client seen by the app as coming from `address` (each throttling test has its own)."""
    transport = httpx.ASGITransport(app=world.app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def _directives(csp: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


async def test_security_headers_on_pages_apis_errors_and_files(world: World) -> None:
    """Every kind of answer forbids inline scripts and framing; plain HTTP answers carry no HSTS."""
    anonymous = world.clients["anonymous"]
    for path in ("/", "/phan-anh", "/login", "/api/v1/org-units", "/khong-co-trang-nay", "/openapi.json", "/healthz"):
        response = await anonymous.get(path, headers={"accept": "text/html"})
        csp = _directives(response.headers["content-security-policy"])
        scripts = csp.get("script-src", csp["default-src"])
        assert "'unsafe-inline'" not in scripts, path
        assert "'unsafe-eval'" not in scripts, path
        assert csp["frame-ancestors"] == ["'none'"], path
        assert csp["object-src"] == ["'none'"], path
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in response.headers, path


async def test_hsts_is_sent_when_served_over_tls(world: World, tmp_path: Any) -> None:
    """HTTPS (direct, or from a proxy the server trusts) or an https public address: HSTS; a forged header: none."""
    over_tls = anonymous_client(world.app, base_url="https://testserver")
    try:
        response = await over_tls.get("/api/v1/org-units")
        assert response.headers["strict-transport-security"].startswith("max-age=31536000")
    finally:
        await over_tls.aclose()
    # The app itself never trusts X-Forwarded-Proto: only the server's proxy-header handling may set the scheme.
    forged = await world.clients["anonymous"].get("/healthz", headers={"x-forwarded-proto": "https"})
    assert "strict-transport-security" not in forged.headers
    published = create_app(
        module_settings(world.runtime.settings.database_url, tmp_path, public_base_url="https://ioc.tayninh.gov.vn")
    )
    http = anonymous_client(published)
    try:
        assert "strict-transport-security" in (await http.get("/healthz")).headers
    finally:
        await http.aclose()


def _cookie_flags(response: httpx.Response, name: str) -> set[str]:
    """Return the lower-cased attributes of the Set-Cookie header that sets `name`."""
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.get_list('set-cookie')}")


async def _log_in_over(app: Any, base_url: str, username: str) -> tuple[httpx.Response, httpx.Response, set[str]]:
    """Log in through `base_url`; return the login answer, /auth/me with the cookie, and the login form's flags."""
    http = anonymous_client(app, base_url=base_url)
    try:
        form = await http.get("/login", headers={"accept": "text/html"})
        login = await http.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert login.status_code == 200, login.text
        return login, await http.get("/api/v1/auth/me"), _cookie_flags(form, LOGIN_CSRF_COOKIE)
    finally:
        await http.aclose()


async def test_session_cookie_is_secure_exactly_when_served_over_tls(world: World, tmp_path: Any) -> None:
    """Plain HTTP: no Secure, no HSTS; HTTPS straight to the server, or IOC_BEHIND_TLS: Secure cookies and HSTS."""
    username = await _new_user(world)
    plain, plain_me, plain_form = await _log_in_over(world.app, "http://testserver", username)
    assert "secure" not in _cookie_flags(plain, SESSION_COOKIE)
    assert {"httponly", "samesite"} <= _cookie_flags(plain, SESSION_COOKIE)
    assert "secure" not in plain_form
    assert "strict-transport-security" not in plain.headers
    assert plain_me.status_code == 200
    # TLS ends at the server itself (request.url.scheme == "https"), IOC_BEHIND_TLS not set.
    assert not world.runtime.settings.behind_tls
    direct, direct_me, direct_form = await _log_in_over(world.app, "https://testserver", username)
    assert {"secure", "httponly"} <= _cookie_flags(direct, SESSION_COOKIE)
    assert "secure" in direct_form
    assert direct.headers["strict-transport-security"].startswith("max-age=31536000")
    assert direct_me.status_code == 200  # the browser sends the Secure cookie back over HTTPS
    https = await log_in(world.app, username)
    try:
        https.base_url = httpx.URL("https://testserver")
        logout = await https.post("/api/v1/auth/logout")
        assert "secure" in _cookie_flags(logout, SESSION_COOKIE)  # the deletion matches the cookie it removes
    finally:
        await https.aclose()
    # Behind a proxy that ends TLS, set IOC_BEHIND_TLS: Secure and HSTS even though the hop to us is plain HTTP.
    proxied = create_app(module_settings(world.runtime.settings.database_url, tmp_path, behind_tls=True))
    async with proxied.router.lifespan_context(proxied):
        behind, _, behind_form = await _log_in_over(proxied, "http://testserver", username)
    assert "secure" in _cookie_flags(behind, SESSION_COOKIE)
    assert "secure" in behind_form
    assert "strict-transport-security" in behind.headers


async def test_csrf_token_is_required_on_every_unsafe_route_with_a_session(world: World) -> None:
    """Walk every POST/PUT/PATCH/DELETE route: a session cookie without the token is refused, form or JSON."""
    admin = world.clients["admin"]
    token = admin.headers["X-CSRF-Token"]
    cookie_only = anonymous_client(world.app)
    cookie_only.cookies.set(SESSION_COOKIE, admin.cookies[SESSION_COOKIE])
    refused: list[str] = []
    try:
        for route in app_routes(world.app):
            if route.method not in UNSAFE or route.path in CSRF_EXEMPT_PATHS:
                continue
            url = re.sub(r"{(\w+)(?::\w+)?}", "1", route.path)
            as_json = await cookie_only.request(route.method, url, json={})
            as_form = await cookie_only.request(
                route.method, url, data={"csrf_token": token[:-2] + "xx"}, headers={"X-CSRF-Token": ""}
            )
            for kind, response in (("json", as_json), ("form", as_form)):
                if response.status_code != 403 or "csrf" not in response.text.lower():
                    refused.append(f"{route.key} ({kind}): {response.status_code} {response.text[:100]}")
        assert refused == []
        # The right token in the form field passes the check (the route then judges the input).
        right = await cookie_only.post("/api/v1/citizen-report-categories", data={"csrf_token": token})
        assert right.status_code != 403
    finally:
        await cookie_only.aclose()


async def test_login_never_keeps_a_session_id_chosen_before_it(world: World) -> None:
    """Session fixation: a planted cookie is replaced at login, and a second login retires the first session."""
    username = await _new_user(world)
    http = anonymous_client(world.app)
    try:
        planted = "chosen-by-the-attacker-" + uuid.uuid4().hex
        http.cookies.set(SESSION_COOKIE, planted, domain="testserver.local")
        first = await http.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert first.status_code == 200
        issued = http.cookies[SESSION_COOKIE]
        assert issued != planted
        second = await http.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert second.status_code == 200
        assert http.cookies[SESSION_COOKIE] != issued
    finally:
        await http.aclose()
    for cookie, status in ((planted, 401), (issued, 401)):
        stale = anonymous_client(world.app)
        stale.cookies.set(SESSION_COOKIE, cookie)
        try:
            assert (await stale.get("/api/v1/auth/me")).status_code == status
        finally:
            await stale.aclose()


async def test_sessions_expire_when_idle_and_after_their_maximum_age(world: World) -> None:
    """A session past its idle expiry, or older than session_max_age_hours, no longer authenticates."""
    max_age = timedelta(hours=world.runtime.settings.session_max_age_hours)
    for change in ({"expires_at": utc_now() - timedelta(seconds=1)}, {"created_at": utc_now() - max_age}):
        http = await log_in(world.app, await _new_user(world))
        try:
            assert (await http.get("/api/v1/auth/me")).status_code == 200
            async with world.runtime.db.transaction() as session:
                newest = await session.scalar(select(WebSession.id).order_by(WebSession.created_at.desc()).limit(1))
                await session.execute(update(WebSession).where(WebSession.id == newest).values(**change))
            assert (await http.get("/api/v1/auth/me")).status_code == 401
        finally:
            await http.aclose()


async def test_logins_are_throttled_per_account_and_per_address(world: World) -> None:
    """Wrong passwords lock the account (even the right one is then refused); one address is slowed after 20."""
    limit = world.runtime.settings.login_max_failures
    username = await _new_user(world)
    http = _client_from(world, "198.51.100.7")
    try:
        for attempt in range(1, limit + 1):
            wrong = await http.post("/api/v1/auth/login", json={"username": username, "password": "sai-mat-khau-1"})
            # The failure that reaches the limit already answers with the lock.
            assert wrong.status_code == (429 if attempt == limit else 401), (attempt, wrong.text)
        locked = await http.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert locked.status_code == 429
        assert locked.json()["error"] == "account_locked"
    finally:
        await http.aclose()
    sprayer = _client_from(world, "198.51.100.8")
    try:
        for attempt in range(IP_MAX_FAILURES):
            guess = {"username": f"khong-co-{attempt}", "password": "Mat-khau-123!"}
            assert (await sprayer.post("/api/v1/auth/login", json=guess)).status_code == 401
        victim = await _new_user(world)
        throttled = await sprayer.post("/api/v1/auth/login", json={"username": victim, "password": PASSWORD})
        assert throttled.status_code == 429
        assert throttled.json()["error"] == "login_throttled"
    finally:
        await sprayer.aclose()
    # Another address is not affected by the first one's failures.
    other = _client_from(world, "198.51.100.9")
    try:
        assert (await other.post("/api/v1/auth/login", json={"username": victim, "password": PASSWORD})).is_success
    finally:
        await other.aclose()


def _png_bomb(side: int) -> bytes:
    """A 1-bit PNG of side×side pixels: a few kB on the wire, side² pixels once decoded."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    raw = zlib.compress(row * side, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


REPORT_FIELDS = {
    "category_code": "o-ga-mat-duong",
    "description": "Mặt đường bong tróc thành nhiều ổ gà sâu, xe máy dễ ngã.",
    "lat": "11.61507",
    "lon": "105.86238",
}


async def test_photo_upload_attacks_are_refused_or_neutralised(world: World) -> None:
    """Polyglot, fake, bomb, oversize and path-trick photos: refused with a reason, or stored re-encoded safely."""
    http = _client_from(world, "203.0.113.10")
    store_root = world.runtime.settings.data_dir.resolve()
    try:

        async def send(name: str, data: bytes, kind: str = "image/jpeg") -> httpx.Response:
            return await http.post("/api/v1/citizen-reports", data=REPORT_FIELDS, files={"photo": (name, data, kind)})

        html = b"<html><body><script>alert(document.cookie)</script></body></html>"
        fake = await send("anh.jpg", html)
        assert fake.status_code == 422, fake.text
        bomb = await send("bom.png", _png_bomb(20_000), "image/png")
        assert bomb.status_code == 422, bomb.text
        assert bomb.json()["message"]
        oversize = await send("lon.jpg", jpeg() + b"\x00" * (10 * 1024 * 1024))
        assert oversize.status_code in (413, 422), oversize.status_code
        polyglot = await send("../../../../static/x.html", jpeg() + html)
        assert polyglot.status_code in (200, 201), polyglot.text
        tracking = polyglot.json()["tracking_code"]
        report = await world.clients["hotline_operator"].get("/api/v1/citizen-reports", params={"q": tracking})
        detail = await world.clients["hotline_operator"].get(
            f"/api/v1/citizen-reports/{report.json()['items'][0]['id']}"
        )
        photo = await world.clients["hotline_operator"].get(detail.json()["photos"][0]["url"])
        assert photo.headers["content-type"] == "image/jpeg"
        assert photo.headers["x-content-type-options"] == "nosniff"
        assert photo.content.startswith(b"\xff\xd8")
        assert b"<script" not in photo.content
        stored = [p for p in store_root.rglob("*") if p.is_file()]
        assert stored
        assert all(p.resolve().is_relative_to(store_root) and ".." not in p.name for p in stored)
        assert not any("x.html" in p.name for p in stored)
    finally:
        await http.aclose()


async def test_a_body_over_the_request_limit_is_refused_while_it_arrives(world: World) -> None:
    """Anyone may post a report, so no route may buffer an unbounded body: over the limit is a 413."""
    huge = b"0" * (MAX_REQUEST_BYTES + 1)
    response = await world.clients["anonymous"].post(
        "/api/v1/citizen-reports", content=huge, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


async def test_import_attacks_are_refused_with_a_reason(world: World) -> None:
    """Imports (device CSV, statistics Excel, boundaries GeoJSON): oversize, fake and nested files are 4xx."""
    admin = world.clients["admin"]
    checks = [
        ("/api/v1/telemetry/devices/import", {}, "../../thiet-bi.csv", b"device_code,name\n" + b"x," * 3_000_000),
        ("/api/v1/telemetry/devices/import", {}, "..\\thiet-bi.csv", b"\xff\xfe\x00garbage"),
        ("/api/v1/indicator/excel", {}, "../mau.xlsx", jpeg() + b"<html>"),
        ("/api/v1/org-units/import", {"kind": "boundaries"}, "/etc/ranh-gioi.geojson", b"[" * 200_000),
        ("/api/v1/org-units/import", {"kind": "units"}, "don-vi.csv", b"code,name\n80," + b"y" * 300_000 + b"\n"),
    ]
    for url, fields, name, data in checks:
        response = await admin.post(url, data=fields, files={"file": (name, data, "application/octet-stream")})
        assert 400 <= response.status_code < 500, (url, name, response.status_code, response.text[:300])
        assert response.json()["message"], (url, name)


async def test_sql_injection_in_query_parameters_and_filters_changes_nothing(world: World) -> None:
    """Every query parameter of every GET API route, set to SQL: no 5xx, no SQL error text, no widened result."""
    admin = world.clients["admin"]
    payloads = ("' OR '1'='1' --", '1; DROP TABLE "user"; --')
    failures: list[str] = []
    for context in app_routes(world.app):
        if context.method != "GET" or not context.path.startswith("/api/v1/") or "{" in context.path:
            continue
        if context.path in ("/api/v1/live", "/api/v1/live/public"):
            continue
        names = _query_names(world.app, context.path)
        for payload in payloads:
            response = await admin.get(context.path, params=dict.fromkeys(names, payload))
            if response.status_code >= 500 or SQL_ERRORS.search(response.text):
                failures.append(f"{context.path}: {response.status_code} {response.text[:150]}")
    assert failures == []
    everything = await admin.get("/api/v1/citizen-reports")
    injected = await admin.get("/api/v1/citizen-reports", params={"q": "' OR '1'='1' --"})
    assert everything.json()["total"] > 0
    assert injected.json()["total"] == 0
    assert (await admin.get("/api/v1/users")).json()["total"] >= 8  # the user table is still there


def _query_names(app: Any, path: str) -> list[str]:
    for context in iter_route_contexts(app.routes):
        original = context.original_route
        if isinstance(original, APIRoute) and context.path == path and "GET" in (context.methods or set()):
            return [param.alias for param in original.dependant.query_params] + [
                param.alias for dep in original.dependant.dependencies for param in dep.query_params
            ]
    return []


async def test_template_syntax_in_text_fields_is_shown_not_run(world: World) -> None:
    """Jinja syntax in a citizen's text is displayed as typed on every page, never evaluated."""
    http = _client_from(world, "203.0.113.11")
    try:
        text = "Cống bị tắc {{ 70000 + 7 }} {% for x in range(3) %}lặp{% endfor %} {{ config }} kéo dài."
        sent = await http.post(
            "/api/v1/citizen-reports",
            data={**REPORT_FIELDS, "description": text},
            files={"photo": ("cong.jpg", jpeg(), "image/jpeg")},
        )
        assert sent.status_code in (200, 201), sent.text
        tracking = sent.json()["tracking_code"]
    finally:
        await http.aclose()
    hotline = world.clients["hotline_operator"]
    found = await hotline.get("/api/v1/citizen-reports", params={"q": tracking})
    report_id = found.json()["items"][0]["id"]
    assert (await hotline.post(f"/api/v1/citizen-reports/{report_id}/accept", json={})).status_code == 200
    pages = [
        await world.clients["anonymous"].get(f"/phan-anh/{tracking}"),
        await hotline.get(f"/citizen-reports/{report_id}"),
        await hotline.get("/citizen-reports", params={"q": tracking}),
    ]
    for page in pages:
        assert page.status_code == 200
        assert "{{ 70000 + 7 }}" in page.text
        assert "70007" not in page.text
        assert "lặplặplặp" not in page.text
        assert "secret_key" not in page.text
    # Administrators edit notification templates, which are Jinja: the sandbox refuses reaching Python internals.
    attack = {"subject": "x", "body": "{{ ''.__class__.__mro__[1].__subclasses__() }}"}
    saved = await world.clients["admin"].put("/api/v1/notifications/templates/alert/any/vi", json=attack)
    assert saved.status_code == 422, saved.text
