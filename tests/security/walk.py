"""Walk every route of the app: list them, fill their path parameters with real records, classify answers."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.routing import iter_route_contexts
from PIL import Image

from .conftest import AGENCY_A, MARK_EMAIL, MARK_NAME, MARK_PHONE, World
from .records import FINGERPRINT

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
        "report_a": ("o-ga-mat-duong", f"Ổ gà lớn giữa đường trước chợ {FINGERPRINT}, nguy hiểm cho xe máy.", "80-SXD"),
        # Agency A's report that the walk never touches: kept as seeded for the row-level test with valid bodies.
        "report_kept": ("o-ga-mat-duong", "Nắp cống bị vỡ trên vỉa hè, người đi bộ dễ sụp chân.", "80-SXD"),
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
    """Return a real record for every path parameter: agency A's (seeded), else the demo data's."""
    admin = world.clients["admin"]
    ids = world.ids
    template = await admin.get("/api/v1/notifications/templates")
    first_template = template.json()[0] if template.status_code == 200 and template.json() else {}
    data_set, period, org_unit = ids["indicator_report"]
    layers = (await world.clients["anonymous"].get("/api/v1/dashboard/layers")).json()["layers"]
    values = {
        "year": 2026,
        "day": "2026-12-31",
        "entry_id": await _first(admin, "/api/v1/audit", "id"),
        "user_id": world.users["staff_a"]["id"],
        "key_id": ids["key_id"],
        "delivery_id": await _first(admin, "/api/v1/notifications/deliveries", "id"),
        "template": first_template,
        # A chart and a map layer anonymous callers may see (the public picture).
        "chart": await _first(world.clients["anonymous"], "/api/v1/dashboard/charts", "key"),
        "layer": layers[0]["key"] if layers else None,
        "tracking_code": ids["report_a_tracking"],
        "photo_id": ids["report_a_photo"],
        "report_id": ids["report_a"],
        "fmt": "json",
        "service_code": "o-ga-mat-duong",
        "service_request_id": ids["report_a_tracking"],
        "device": ids["device"],
        "datastream_id": await _first(admin, "/api/v1/telemetry/datastreams", "id"),
        "dead_letter_id": ids["dead_letter_id"],
        "station": await _first(admin, "/api/v1/environment/stations", "code"),
        "alarm_id": ids["alarm_id"],
        "rule_id": await _first(admin, "/api/v1/alarm-rules", "id"),
        "silence_id": ids["silence_id"],
        "policy_id": await _first(admin, "/api/v1/alarm-policies", "id"),
        "import_id": ids["import_id"],
        "incident_id": ids["incident_id"],
        "task_id": ids["task_id"],
        "item_id": ids["item_id"],
        "warning_id": ids["warning_id"],
        # CAP identifiers are given on publication: the demo's published warning (the draft has none yet).
        "identifier": await _first(world.clients["anonymous"], "/api/v1/warnings/current", "identifier"),
        "published_warning_id": await _first(world.clients["anonymous"], "/api/v1/warnings/current", "id"),
        "wall": "main",  # the wall every installation has (dashboard DEFAULT_WALL)
        "data_set": data_set,
        "period": period,
        "org_unit": org_unit,
        "indicator_agency": AGENCY_A,
    }
    missing = sorted(name for name, value in values.items() if value is None)
    assert missing == [], f"no record found for {missing}"
    return values


def fill(route: Route, values: dict[str, Any], ids: dict[str, Any]) -> str:
    """Return the route's URL with every path parameter replaced by a real value."""
    path = route.path
    template = values.get("template") or {}

    def value(name: str) -> str:
        if name == "code":
            if path.startswith(("/api/v1/org-units", "/org-units", "/dashboard/units", "/api/v1/dashboard/units")):
                return "80"
            if path.startswith("/api/v1/agencies"):
                return AGENCY_A
            if path.startswith("/api/v1/citizen-report-categories"):
                return "o-ga-mat-duong"
            if "telemetry" in path:
                return str(values["device"])
            if "environment" in path:
                return str(values["station"])
            if path.startswith("/lang"):
                return "en"
            if "data-sets" in path:
                return str(values["data_set"])
            if path.startswith(("/indicators/admin/", "/api/v1/indicator/metadata/")):
                return str(values["data_set"])
        if name == "token":
            if path.startswith("/open311"):
                return str(ids["open311_token"])
            return str(ids["unsubscribe_token" if "/huy/" in path else "confirm_token"])
        if name == "key" and path.startswith("/api/v1/dashboard/"):
            return str(values["chart" if "/charts/" in path else "layer"])
        if name in ("key", "channel", "lang"):
            return str(template[name])
        if name == "warning_id" and path.startswith("/canh-bao/{"):
            return str(values["published_warning_id"])  # the public pages show published warnings only
        if name == "action":
            return "acknowledge" if path.startswith("/alarms") else "log" if "incident" in path else "submit"
        if name == "fmt" and "after-action" in path:
            return "pdf"
        if name == "kind":
            return "data-sets"
        if name == "pack":
            return "kinh_te_xa_hoi"
        if name == "new_code":
            return "25459"
        if name == "rest":
            return "khong-co"  # Open311's catch-all: any unknown path, answered in Open311's error format
        return str(values[name])

    url = PARAM.sub(lambda m: value(m.group(1)), path)
    if path.startswith("/api/v1/indicator/reports/"):
        url += f"?agency={values['indicator_agency']}"
    return url
