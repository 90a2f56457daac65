"""Bad input at scale: Schemathesis cases for every operation of the live /openapi.json, sent as administrator.

The cases are drawn from the schema with Hypothesis (a few per operation, reproducibly), sent in-process
through the app's own event loop, and every answer is judged by Schemathesis: never a 5xx, the content type
and the body as the schema declares them.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from .conftest import World, log_in

EXAMPLES_PER_OPERATION = 2  # about 190 operations: some 370 requests, within the CI budget
# Streams never end; logging out or changing a password would end the fuzzing session itself, and editing
# users at random could deactivate the accounts the other tests of this package log in with.
SKIPPED = frozenset(
    {
        ("GET", "/api/v1/live"),
        ("GET", "/api/v1/live/public"),
        ("POST", "/api/v1/auth/logout"),
        ("POST", "/api/v1/auth/password"),
        ("PATCH", "/api/v1/users/{user_id}"),
    }
)
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]


def _draw_cases(operation: Any, count: int) -> list[Any]:
    cases: list[Any] = []

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def collect(case: Any) -> None:
        cases.append(case)

    collect()
    return cases[:count]


def _as_httpx(kwargs: dict[str, Any], client: httpx.AsyncClient) -> dict[str, Any]:
    """Turn Schemathesis' requests-style arguments into httpx ones (generated cookies join the session's)."""
    sent: dict[str, Any] = {"method": kwargs["method"], "url": kwargs["url"]}
    for key in ("params", "headers", "json"):
        if kwargs.get(key) is not None:
            sent[key] = kwargs[key]
    if kwargs.get("files") is not None:
        sent["files"] = [(name, _file_part(value)) for name, value in _pairs(kwargs["files"])]
    if kwargs.get("cookies"):
        jar = {**dict(client.cookies.items()), **kwargs["cookies"]}
        sent["headers"] = {**sent.get("headers", {}), "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
    data = kwargs.get("data")
    if isinstance(data, bytes | str):
        sent["content"] = data
    elif data is not None:
        sent["data"] = data
    return sent


def _summary(exc: BaseException) -> str:
    """Keep the lines of a Schemathesis report that say what broke (not the long schema excerpts)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " | ".join(lines[1:5])[:400]


def _pairs(files: Any) -> list[tuple[str, Any]]:
    return list(files.items()) if isinstance(files, dict) else list(files)


def _file_part(value: Any) -> Any:
    """Return a multipart part httpx can send: generated numbers and the like become their text."""
    if isinstance(value, tuple):
        name, content, *rest = value
        return (name, _file_part(content), *rest)
    if isinstance(value, bytes | str) or hasattr(value, "read"):
        return value
    return str(value).encode()


async def test_generated_requests_get_no_5xx_and_schema_conforming_answers(world: World) -> None:
    """Every operation, a few generated cases each: Schemathesis finds no server error and no schema breach."""
    admin = await log_in(world.app, world.users["admin"]["username"])
    started = time.perf_counter()
    failures: list[str] = []
    sent = 0
    try:
        document = (await admin.get("/openapi.json")).json()
        schema = schemathesis.openapi.from_dict(document)
        for result in schema.get_all_operations():
            if isinstance(result, Err):
                failures.append(f"the schema has an invalid operation: {result.err()}")
                continue
            operation = result.ok()
            if (operation.method.upper(), operation.path) in SKIPPED:
                continue
            for case in _draw_cases(operation, EXAMPLES_PER_OPERATION):
                kwargs = case.as_transport_kwargs(base_url="http://testserver")
                kwargs.setdefault("headers", {})
                kwargs["headers"].pop("X-CSRF-Token", None)
                try:
                    response = await admin.request(**_as_httpx(kwargs, admin))
                except (httpx.InvalidURL, httpx.CookieConflict, UnicodeEncodeError):
                    continue  # a header or URL httpx itself refuses to send never reaches the app
                except Exception as exc:  # the app raised instead of answering: a 500 for a real client
                    failures.append(f"{operation.method.upper()} {operation.path}: {type(exc).__name__}: {exc}")
                    continue
                await response.request.aread()  # multipart bodies are streamed; the checks read them back
                sent += 1
                try:
                    case.validate_response(response, checks=CHECKS)
                except (FailureGroup, AssertionError) as exc:
                    failures.append(f"{operation.method.upper()} {operation.path}: {_summary(exc)}")
    finally:
        await admin.aclose()
    seconds = time.perf_counter() - started
    assert not failures, "\n".join(sorted(set(failures)))
    assert sent > 200, sent
    world.ids["schemathesis"] = {"requests": sent, "seconds": round(seconds, 1)}
