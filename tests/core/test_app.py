"""Operations endpoints, error rendering and the live stream of the assembled application."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from ioc.app import create_app
from ioc.core.settings import Settings


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


async def test_errors_speak_the_callers_language(client: httpx.AsyncClient) -> None:
    vi = await client.get("/api/v1/live")
    en = await client.get("/api/v1/live", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert vi.json()["message"] == "Cần đăng nhập."
    assert en.json()["message"] == "Login required."


async def test_unreachable_database_gives_503_with_a_clear_body(settings: Settings) -> None:
    broken = settings.model_copy(update={"database_url": "postgresql+asyncpg://nobody@127.0.0.1:9/none"})
    app = create_app(broken)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("unavailable")
        api = await http.get("/api/v1/live", headers={"Accept": "application/json"})
        assert api.status_code == 503
        assert "Cơ sở dữ liệu" in api.json()["message"]
