"""Operations endpoints, error rendering and the live stream of the assembled application."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url
from tests.conftest import LoginFactory

from ioc.app import create_app
from ioc.core.security import Role
from ioc.core.settings import Settings

from ..support.tcp_proxy import TcpProxy


async def test_health_and_readiness_answer(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json()["status"] == "ok"
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"


async def test_metrics_are_in_prometheus_text_format(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    response = await client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert {"ioc_http_requests", "ioc_outbox_pending", "ioc_jobs_pending", "ioc_jobs_dead"} <= names


async def test_openapi_document_lists_the_api(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/live" in spec["paths"]


async def test_live_stream_requires_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/live")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


async def test_pages_ask_whether_their_staff_stream_would_be_accepted_without_a_401(
    client: httpx.AsyncClient, login_as: LoginFactory
) -> None:
    anonymous = await client.get("/api/v1/live/access")
    assert (anonymous.status_code, anonymous.json()) == (200, {"staff": False})
    staff = await login_as(Role.HOTLINE_OPERATOR)
    assert (await staff.get("/api/v1/live/access")).json() == {"staff": True}
    citizen = await login_as(Role.CITIZEN)
    assert (await citizen.get("/api/v1/live/access")).json() == {"staff": False}


async def test_errors_speak_the_callers_language(client: httpx.AsyncClient) -> None:
    vi = await client.get("/api/v1/live")
    en = await client.get("/api/v1/live", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert vi.json()["message"] == "Cần đăng nhập."
    assert en.json()["message"] == "Login required."


async def test_unreachable_database_gives_503_and_recovers(settings: Settings, is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("the embedded SQLite database cannot become unreachable")
    url = make_url(settings.database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_app(settings.model_copy(update={"database_url": proxied}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            assert (await http.get("/readyz")).status_code == 200
            await proxy.cut()
            await app.state.runtime.db.engine.dispose()
            ready = await http.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"].startswith("unavailable")
            # A bearer token makes the request touch the database to look the key up.
            api = await http.get("/api/v1/auth/me", headers={"Authorization": "Bearer ioc_0123_abcdef"})
            assert api.status_code == 503
            assert "Cơ sở dữ liệu" in api.json()["message"]
            await proxy.start()
            assert (await http.get("/readyz")).status_code == 200
            await proxy.cut()
