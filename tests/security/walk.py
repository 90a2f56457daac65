"""Walk every route of the app: list them, fill their path parameters with real records, classify answers."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.routing import iter_route_contexts
from PIL import Image

from .conftest import MARK_EMAIL, MARK_NAME, MARK_PHONE, World

# Event streams never end; they are checked apart (tests/security/test_access_matrix.py).
STREAMS = frozenset({"/api/v1/live", "/api/v1/live/public"})
# Logging out ends the walking client's own session; checked apart too.
SESSION_ENDERS = frozenset({"/api/v1/auth/logout", "/logout"})
PARAM = re.compile(r"{(\w+)(?::\w+)?}")


@dataclass(frozen=True)
class Route:
    """One method of one route."""

    method: str
    path: str

    @property
    def key(self) -> str:
        """Return `METHOD path` as written in the expectation table."""
        return f"{self.method} {self.path}"


def app_routes(app: Any) -> list[Route]:
    """Return every (method, path) the app answers, HEAD aside; static files and the API docs are not routes."""
    found: list[Route] = []
    for context in iter_route_contexts(app.routes):
        methods = context.methods or set()
        path = context.path
        if path is None:
            continue
        for method in sorted(methods - {"HEAD"}):
            found.append(Route(method, path))
    return sorted(set(found), key=lambda r: (r.path, r.method))


def jpeg(width: int = 64, height: int = 48) -> bytes:
    """Return a small real JPEG."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "#6a7b8c").save(buffer, format="JPEG", quality=70)
    return buffer.getvalue()


async def plant_reports(world: World) -> None:
    """Submit two reports carrying the personal markers (one routed to agency A, one to B) and assign them."""
    anonymous, hotline = world.clients["anonymous"], world.clients["hotline_operator"]
    planted = {
        "report_a": ("o-ga-mat-duong", "Ổ gà lớn giữa đường trước chợ, rất nguy hiểm cho xe máy.", "80-SXD"),
        "report_b": ("o-nhiem-moi-truong", "Khói đen bốc lên từ bãi đốt rác cạnh khu dân cư mỗi tối.", "80-SNNMT"),
    }
    for name, (category, description, agency) in planted.items():
        response = await anonymous.post(
            "/api/v1/citizen-reports",
            data={
                "category_code": category,
                "description": description,
                "lat": "11.61507",
                "lon": "105.86238",
                "address": "Đường 30/4, Phường Tân Ninh",
                "reporter_name": MARK_NAME,
                "reporter_phone": MARK_PHONE,
                "reporter_email": MARK_EMAIL,
            },
            files={"photo": ("hien-truong.jpg", jpeg(), "image/jpeg")},
        )
        assert response.status_code in (200, 201), response.text
        tracking = response.json()["tracking_code"]
        found = await hotline.get("/api/v1/citizen-reports", params={"q": tracking})
        assert found.status_code == 200, found.text
        report_id = next(item["id"] for item in found.json()["items"] if item["tracking_code"] == tracking)
        for action, body in (("accept", {}), ("assign", {"agency_code": agency})):
            done = await hotline.post(f"/api/v1/citizen-reports/{report_id}/{action}", json=body)
            assert done.status_code == 200, done.text
        world.ids[name] = report_id
        world.ids[f"{name}_tracking"] = tracking
        detail = await hotline.get(f"/api/v1/citizen-reports/{report_id}")
        world.ids[f"{name}_photo"] = detail.json()["photos"][0]["id"]


async def _first(http: httpx.AsyncClient, url: str, key: str, **params: Any) -> Any:
    response = await http.get(url, params=params)
    if response.status_code != 200:
        return None
    body = response.json()
    items: Any = body.get("items", body.get("features", [])) if isinstance(body, dict) else body
    for item in items or []:
        value = item.get(key) if isinstance(item, dict) else None
        if value is None and isinstance(item, dict):
            value = (item.get("properties") or {}).get(key)
        if value is not None:
            return value
    return None


async def resolve_params(world: World) -> dict[str, Any]:
    """Find a real record for every path parameter, through the administrator's API."""
    admin = world.clients["admin"]
    ids = world.ids
    template = await admin.get("/api/v1/notifications/templates")
    first_template = template.json()[0] if template.status_code == 200 and template.json() else {}
    indicator_report = await _first(admin, "/api/v1/indicator/completeness", "data_set")
    values = {
        "year": 2026,
        "day": "2026-12-31",
        "entry_id": await _first(admin, "/api/v1/audit", "id"),
        "user_id": world.users["staff_a"]["id"],
        "key_id": 999999,
        "delivery_id": await _first(admin, "/api/v1/notifications/deliveries", "id"),
        "template": first_template,
        "tracking_code": ids["report_a_tracking"],
        "photo_id": ids["report_a_photo"],
        "report_id": ids["report_a"],
        "fmt": "json",
        "service_code": "o-ga-mat-duong",
        "token": "khong-ton-tai",
        "service_request_id": ids["report_a_tracking"],
        "rest": "khong-co",
        "device": await _first(admin, "/api/v1/telemetry/devices", "code"),
        "datastream_id": await _first(admin, "/api/v1/telemetry/datastreams", "id"),
        "dead_letter_id": await _first(admin, "/api/v1/telemetry/dead-letters", "id"),
        "station": await _first(admin, "/api/v1/environment/stations", "code"),
        "alarm_id": await _first(admin, "/api/v1/alarms", "id"),
        "rule_id": await _first(admin, "/api/v1/alarm-rules", "id"),
        "silence_id": await _first(admin, "/api/v1/alarm-silences", "id"),
        "policy_id": await _first(admin, "/api/v1/alarm-policies", "id"),
        "import_id": await _first(admin, "/api/v1/data-value-sets", "import_id"),
        "data_set": await _first(admin, "/api/v1/indicator/data-sets", "code"),
        "indicator_report": indicator_report,
        "incident_id": await _first(admin, "/api/v1/incidents", "id"),
        "task_id": await _first(admin, "/api/v1/incident-tasks", "id"),
        "warning_id": await _first(admin, "/api/v1/warnings", "id"),
        "identifier": await _first(admin, "/api/v1/warnings", "identifier"),
        "wall": await _first(admin, "/api/v1/dashboard/walls", "wall"),
    }
    return values


def fill(route: Route, values: dict[str, Any]) -> str:
    """Return the route's URL with every path parameter replaced by a real value."""
    path = route.path
    template = values.get("template") or {}

    def value(name: str) -> str:
        if name == "code":
            if path.startswith(("/api/v1/org-units", "/org-units", "/dashboard/units")):
                return "80"
            if path.startswith("/api/v1/agencies"):
                return "80-SXD"
            if path.startswith("/api/v1/citizen-report-categories"):
                return "o-ga-mat-duong"
            if "telemetry" in path:
                return str(values["device"] or "khong-co")
            if "environment" in path:
                return str(values["station"] or "khong-co")
            if path.startswith("/lang"):
                return "en"
            if "data-sets" in path:
                return str(values["data_set"] or "khong-co")
        if name in ("key", "channel", "lang"):
            return str(template.get(name, "khong-co"))
        if name == "action":
            return "acknowledge" if path.startswith("/alarms") else "log" if "incident" in path else "submit"
        if name == "pack":
            return "tthc"
        if name == "new_code":
            return "25459"
        if name == "item_id":
            return "1"
        if name in ("data_set", "period", "org_unit"):
            return {"data_set": "TTHC_MONTHLY", "period": "2026-10", "org_unit": "25459"}[name]
        found = values.get(name)
        return str(found) if found is not None else "999999"

    return PARAM.sub(lambda m: value(m.group(1)), path)
