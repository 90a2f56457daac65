"""Access-control matrix: every route, eight callers, an explicit table of who may read and write what.

The walk sends each route once per caller (reads as GET, writes with an empty JSON body, so that a caller
allowed to write gets a validation answer instead of changing data), with path parameters filled with real
records: the citizen reports planted by the fixture (reporter's name, phone and e-mail are unique markers),
demo devices, stations, incidents, rules and users. A caller outside a route's audience must never get a
success (2xx, or a redirect other than to the login form); a caller inside it must never be refused (401,
403); nobody may ever get a 5xx; and no response to a caller without the right to see personal data may
contain any of the reporter's markers.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from .conftest import MARK_EMAIL, PERSONAL_MARKERS, Who, World, log_in
from .walk import SESSION_ENDERS, STREAMS, app_routes, fill, plant_reports, resolve_params

ANON, CIT, HOT, SA, SB, HEAD, LEAD, ADM = Who.ALL
PUBLIC = frozenset(Who.ALL)
USERS = PUBLIC - {ANON}
STAFF = USERS - {CIT}
ADMIN = frozenset({ADM})
STATISTICS = frozenset({SA, SB, HEAD, LEAD, ADM})  # indicator:read, warning drafting
COMMAND = frozenset({HOT, LEAD, ADM})  # incident command
HEADS = frozenset({HEAD, ADM})  # alarm rules and routing, extension approval
AGENCIES = frozenset({SA, SB, HEAD, ADM})  # agency work: statistics entry, incident tasks
ALARM_OPERATORS = frozenset({HOT, SA, SB, HEAD, ADM})
REPORT_OPERATORS = frozenset({HOT, ADM})  # the hotline's intake of citizen reports
WALL_EDITORS = frozenset({LEAD, ADM})
APPROVERS = frozenset({HEAD, LEAD, ADM})  # warning approval
# Row level: the planted report is assigned to agency A, so agency B's staff may not act on it.
AGENCY_A = frozenset({SA, HEAD, ADM})
SELF_OR_ADMIN = frozenset({SA, ADM})  # the user parameter is staff A's own account
# Device ingestion needs a device token; the login form needs its own signed token (tested apart).
NOBODY: frozenset[str] = frozenset()
NOT_WALKED = "not walked"  # streams and log-outs: checked by test_streams_and_log_out_are_guarded
REQUEST_TIMEOUT = 30  # seconds; a route that hangs (a lock, a stream) fails the walk instead of stalling CI

# Callers who may see the planted reporter's personal data somewhere (operators, agency A, administrator).
SEES_PERSONAL_DATA = frozenset({HOT, SA, HEAD, ADM})

EXPECTED: dict[str, frozenset[str] | str] = {
    "GET /": PUBLIC,
    "GET /admin/audit": ADMIN,
    "GET /admin/notifications": ADMIN,
    "POST /admin/notifications/{delivery_id}/retry": ADMIN,
    "GET /admin/users": ADMIN,
    "GET /alarm-policies": HEADS,
    "POST /alarm-policies/save": HEADS,
    "GET /alarm-policies/{policy_id}": HEADS,
    "POST /alarm-policies/{policy_id}/delete": HEADS,
    "GET /alarm-rules": STAFF,
    "GET /alarm-rules/new": HEADS,
    "POST /alarm-rules/save": HEADS,
    "GET /alarm-rules/{rule_id}": HEADS,
    "GET /alarm-silences": STAFF,
    "POST /alarm-silences": ALARM_OPERATORS,
    "POST /alarm-silences/{silence_id}/end": ALARM_OPERATORS,
    "GET /alarms": STAFF,
    "GET /alarms/rows": STAFF,
    "GET /alarms/{alarm_id}": STAFF,
    "POST /alarms/{alarm_id}/{action}": ALARM_OPERATORS,
    "GET /api/v1/agencies": PUBLIC,
    "GET /api/v1/agencies/{code}": PUBLIC,
    "GET /api/v1/alarm-policies": HEADS,
    "POST /api/v1/alarm-policies": HEADS,
    "DELETE /api/v1/alarm-policies/{policy_id}": HEADS,
    "GET /api/v1/alarm-policies/{policy_id}": HEADS,
    "PUT /api/v1/alarm-policies/{policy_id}": HEADS,
    "GET /api/v1/alarm-rules": STAFF,
    "POST /api/v1/alarm-rules": HEADS,
    "POST /api/v1/alarm-rules/test": HEADS,
    "DELETE /api/v1/alarm-rules/{rule_id}": HEADS,
    "GET /api/v1/alarm-rules/{rule_id}": STAFF,
    "PUT /api/v1/alarm-rules/{rule_id}": HEADS,
    "GET /api/v1/alarm-silences": STAFF,
    "POST /api/v1/alarm-silences": ALARM_OPERATORS,
    "DELETE /api/v1/alarm-silences/{silence_id}": ALARM_OPERATORS,
    "GET /api/v1/alarms": STAFF,
    "GET /api/v1/alarms/kpis": STAFF,
    "GET /api/v1/alarms/{alarm_id}": STAFF,
    "POST /api/v1/alarms/{alarm_id}/acknowledge": ALARM_OPERATORS,
    "POST /api/v1/alarms/{alarm_id}/assign": ALARM_OPERATORS,
    "POST /api/v1/alarms/{alarm_id}/clear": ALARM_OPERATORS,
    "POST /api/v1/alarms/{alarm_id}/comments": ALARM_OPERATORS,
    "GET /api/v1/analytics": STATISTICS,
    "GET /api/v1/api-keys": USERS,
    "POST /api/v1/api-keys": USERS,
    "DELETE /api/v1/api-keys/{key_id}": USERS,
    "GET /api/v1/audit": ADMIN,
    "GET /api/v1/audit/{entry_id}": ADMIN,
    "POST /api/v1/auth/login": PUBLIC,
    "POST /api/v1/auth/logout": NOT_WALKED,
    "GET /api/v1/auth/me": USERS,
    "POST /api/v1/auth/password": USERS,
    "DELETE /api/v1/calendar/days/{day}": ADMIN,
    "PUT /api/v1/calendar/days/{day}": ADMIN,
    "GET /api/v1/calendar/{year}": PUBLIC,
    "GET /api/v1/citizen-report-categories": PUBLIC,
    "POST /api/v1/citizen-report-categories": ADMIN,
    "DELETE /api/v1/citizen-report-categories/{code}": ADMIN,
    "GET /api/v1/citizen-report-categories/{code}": PUBLIC,
    "PUT /api/v1/citizen-report-categories/{code}": ADMIN,
    "GET /api/v1/citizen-reports": STAFF,
    "POST /api/v1/citizen-reports": PUBLIC,
    "GET /api/v1/citizen-reports.geojson": PUBLIC,
    "GET /api/v1/citizen-reports/export.csv": STAFF,
    "GET /api/v1/citizen-reports/export.xlsx": STAFF,
    "GET /api/v1/citizen-reports/kpis": STAFF,
    "GET /api/v1/citizen-reports/nearby": PUBLIC,
    "POST /api/v1/citizen-reports/photo-location": PUBLIC,
    "GET /api/v1/citizen-reports/photos/{photo_id}": PUBLIC,
    "GET /api/v1/citizen-reports/photos/{photo_id}/thumb": PUBLIC,
    "GET /api/v1/citizen-reports/public": PUBLIC,
    "GET /api/v1/citizen-reports/stats": PUBLIC,
    "GET /api/v1/citizen-reports/track/{tracking_code}": PUBLIC,
    "POST /api/v1/citizen-reports/track/{tracking_code}/rating": PUBLIC,
    "GET /api/v1/citizen-reports/{report_id}": STAFF,
    "POST /api/v1/citizen-reports/{report_id}/accept": REPORT_OPERATORS,
    "POST /api/v1/citizen-reports/{report_id}/assign": REPORT_OPERATORS,
    "GET /api/v1/citizen-reports/{report_id}/duplicates": STAFF,
    "POST /api/v1/citizen-reports/{report_id}/extension": AGENCY_A,
    "POST /api/v1/citizen-reports/{report_id}/extension/approve": HEADS,
    "POST /api/v1/citizen-reports/{report_id}/extension/decline": HEADS,
    "POST /api/v1/citizen-reports/{report_id}/link": REPORT_OPERATORS,
    "POST /api/v1/citizen-reports/{report_id}/merge": REPORT_OPERATORS,
    "POST /api/v1/citizen-reports/{report_id}/reject": REPORT_OPERATORS,
    "POST /api/v1/citizen-reports/{report_id}/resolve": AGENCY_A,
    "POST /api/v1/citizen-reports/{report_id}/return": AGENCY_A,
    "POST /api/v1/citizen-reports/{report_id}/start": AGENCY_A,
    "GET /api/v1/dashboard/charts": PUBLIC,
    "GET /api/v1/dashboard/charts/data": PUBLIC,
    "GET /api/v1/dashboard/charts/{key}": PUBLIC,
    "GET /api/v1/dashboard/feed": PUBLIC,
    "GET /api/v1/dashboard/kpis": PUBLIC,
    "GET /api/v1/dashboard/layers": PUBLIC,
    "GET /api/v1/dashboard/layers/{key}": PUBLIC,
    "GET /api/v1/dashboard/units/{code}/history": PUBLIC,
    "GET /api/v1/dashboard/walls": STAFF,
    "DELETE /api/v1/dashboard/walls/{wall}/layout": WALL_EDITORS,
    "GET /api/v1/dashboard/walls/{wall}/layout": STAFF,
    "PUT /api/v1/dashboard/walls/{wall}/layout": WALL_EDITORS,
    "GET /api/v1/data-value-sets": STATISTICS,
    "POST /api/v1/data-value-sets": AGENCIES,
    "GET /api/v1/data-value-sets/imports/{import_id}": AGENCIES,
    "GET /api/v1/environment/air-quality": PUBLIC,
    "POST /api/v1/environment/aqi/calculate": STAFF,
    "POST /api/v1/environment/limits/check": STAFF,
    "GET /api/v1/environment/stations": STAFF,
    "POST /api/v1/environment/stations": ADMIN,
    "GET /api/v1/environment/stations.geojson": PUBLIC,
    "GET /api/v1/environment/stations/{code}": STAFF,
    "PUT /api/v1/environment/stations/{code}": ADMIN,
    "GET /api/v1/environment/stations/{code}/chart": STAFF,
    "GET /api/v1/environment/stations/{code}/exceedances": STAFF,
    "GET /api/v1/environment/stations/{code}/latest": STAFF,
    "GET /api/v1/environment/stations/{code}/reports/daily": STAFF,
    "GET /api/v1/environment/stations/{code}/reports/monthly": STAFF,
    "POST /api/v1/environment/wqi/calculate": STAFF,
    "GET /api/v1/incident-tasks": AGENCIES,
    "POST /api/v1/incident-tasks/{task_id}/reports": AGENCIES,
    "POST /api/v1/incident-tasks/{task_id}/status": AGENCIES,
    "GET /api/v1/incidents": COMMAND,
    "POST /api/v1/incidents": COMMAND,
    "GET /api/v1/incidents.geojson": COMMAND,
    "POST /api/v1/incidents/from-alarm": COMMAND,
    "POST /api/v1/incidents/from-report": COMMAND,
    "GET /api/v1/incidents/kpis": COMMAND,
    "GET /api/v1/incidents/{incident_id}": COMMAND,
    "PATCH /api/v1/incidents/{incident_id}": COMMAND,
    "GET /api/v1/incidents/{incident_id}/after-action.{fmt}": COMMAND,
    "POST /api/v1/incidents/{incident_id}/checklist/{item_id}": COMMAND,
    "POST /api/v1/incidents/{incident_id}/close": COMMAND,
    "POST /api/v1/incidents/{incident_id}/links": COMMAND,
    "POST /api/v1/incidents/{incident_id}/log": COMMAND,
    "POST /api/v1/incidents/{incident_id}/tasks": COMMAND,
    "GET /api/v1/indicator/completeness": STATISTICS,
    "GET /api/v1/indicator/data-sets": STATISTICS,
    "GET /api/v1/indicator/data-sets/{code}/template.xlsx": AGENCIES,
    "POST /api/v1/indicator/excel": AGENCIES,
    "GET /api/v1/indicator/history": STATISTICS,
    "GET /api/v1/indicator/metadata/{kind}": STATISTICS,
    "POST /api/v1/indicator/metadata/{kind}": ADMIN,
    "PUT /api/v1/indicator/metadata/{kind}/{code}": ADMIN,
    "GET /api/v1/indicator/outliers": STATISTICS,
    "GET /api/v1/indicator/pivot": STATISTICS,
    "GET /api/v1/indicator/reconciliation": STATISTICS,
    "GET /api/v1/indicator/reports/{data_set}/{period}/{org_unit}": STATISTICS,
    "POST /api/v1/indicator/reports/{data_set}/{period}/{org_unit}/{action}": AGENCIES,
    "GET /api/v1/indicator/trace": STATISTICS,
    "GET /api/v1/indicator/unit-mapping": STATISTICS,
    "POST /api/v1/indicator/unit-mapping/{new_code}/verify": ADMIN,
    "GET /api/v1/live": NOT_WALKED,
    "GET /api/v1/live/access": PUBLIC,
    "GET /api/v1/live/public": NOT_WALKED,
    "GET /api/v1/notifications/deliveries": ADMIN,
    "GET /api/v1/notifications/deliveries/{delivery_id}": ADMIN,
    "POST /api/v1/notifications/deliveries/{delivery_id}/retry": ADMIN,
    "GET /api/v1/notifications/templates": ADMIN,
    "GET /api/v1/notifications/templates/{key}/{channel}/{lang}": ADMIN,
    "PUT /api/v1/notifications/templates/{key}/{channel}/{lang}": ADMIN,
    "POST /api/v1/notifications/test": ADMIN,
    "GET /api/v1/org-units": PUBLIC,
    "GET /api/v1/org-units.geojson": PUBLIC,
    "POST /api/v1/org-units/import": ADMIN,
    "GET /api/v1/org-units/locate": PUBLIC,
    "GET /api/v1/org-units/{code}": PUBLIC,
    "GET /api/v1/org-units/{code}/geometry": PUBLIC,
    "GET /api/v1/staff": STAFF,
    "POST /api/v1/telemetry": NOBODY,
    "GET /api/v1/telemetry/datastreams": STAFF,
    "GET /api/v1/telemetry/datastreams/{datastream_id}": STAFF,
    "GET /api/v1/telemetry/datastreams/{datastream_id}/export": STAFF,
    "GET /api/v1/telemetry/datastreams/{datastream_id}/observations": STAFF,
    "GET /api/v1/telemetry/dead-letters": STAFF,
    "GET /api/v1/telemetry/dead-letters/{dead_letter_id}": STAFF,
    "GET /api/v1/telemetry/devices": STAFF,
    "POST /api/v1/telemetry/devices": ADMIN,
    "POST /api/v1/telemetry/devices/import": ADMIN,
    "GET /api/v1/telemetry/devices/{code}": STAFF,
    "PATCH /api/v1/telemetry/devices/{code}": ADMIN,
    "POST /api/v1/telemetry/devices/{code}/datastreams": ADMIN,
    "POST /api/v1/telemetry/devices/{code}/token": ADMIN,
    "GET /api/v1/users": ADMIN,
    "POST /api/v1/users": ADMIN,
    "GET /api/v1/users/{user_id}": SELF_OR_ADMIN,
    "PATCH /api/v1/users/{user_id}": ADMIN,
    "GET /api/v1/warnings": STAFF,
    "POST /api/v1/warnings": STATISTICS,
    "GET /api/v1/warnings/areas.geojson": PUBLIC,
    "GET /api/v1/warnings/current": PUBLIC,
    "POST /api/v1/warnings/from-alarm": STATISTICS,
    "GET /api/v1/warnings/kpis": STAFF,
    "POST /api/v1/warnings/subscriptions": PUBLIC,
    "GET /api/v1/warnings/{warning_id}": STAFF,
    "PUT /api/v1/warnings/{warning_id}": STATISTICS,
    "POST /api/v1/warnings/{warning_id}/approve": APPROVERS,
    "POST /api/v1/warnings/{warning_id}/cancel": STATISTICS,
    "GET /api/v1/warnings/{warning_id}/deliveries": STAFF,
    "POST /api/v1/warnings/{warning_id}/reject": APPROVERS,
    "POST /api/v1/warnings/{warning_id}/submit": STATISTICS,
    "POST /api/v1/warnings/{warning_id}/update": STATISTICS,
    "GET /canh-bao": PUBLIC,
    "GET /canh-bao/dang-ky": PUBLIC,
    "POST /canh-bao/dang-ky": PUBLIC,
    "GET /canh-bao/dang-ky/huy/{token}": PUBLIC,
    "POST /canh-bao/dang-ky/huy/{token}": PUBLIC,
    "GET /canh-bao/dang-ky/xac-nhan/{token}": PUBLIC,
    "POST /canh-bao/dang-ky/xac-nhan/{token}": PUBLIC,
    "GET /canh-bao/quan-ly": STAFF,
    "GET /canh-bao/quan-ly/moi": STATISTICS,
    "POST /canh-bao/quan-ly/moi": STATISTICS,
    "POST /canh-bao/quan-ly/tu-su-co": STATISTICS,
    "GET /canh-bao/quan-ly/{warning_id:int}": STAFF,
    "GET /canh-bao/quan-ly/{warning_id:int}/sua": STATISTICS,
    "POST /canh-bao/quan-ly/{warning_id:int}/sua": STATISTICS,
    "POST /canh-bao/quan-ly/{warning_id:int}/{action}": STATISTICS,  # the walk sends "submit"
    "GET /canh-bao/{warning_id:int}": PUBLIC,
    "GET /cap/alerts/{identifier}.xml": PUBLIC,
    "GET /cap/feed.atom": PUBLIC,
    "GET /citizen-reports": STAFF,
    "POST /citizen-reports/giao-hang-loat": REPORT_OPERATORS,
    "GET /citizen-reports/tong-dai": REPORT_OPERATORS,
    "POST /citizen-reports/tong-dai": REPORT_OPERATORS,
    "GET /citizen-reports/{report_id}": STAFF,
    "POST /citizen-reports/{report_id}": STAFF,
    "GET /dashboard": STAFF,
    "GET /dashboard/units/{code}": STAFF,
    "GET /dashboard/wall": STAFF,
    "GET /dashboard/wall/edit": WALL_EDITORS,
    "GET /docs": PUBLIC,
    "GET /environment/calculator": STAFF,
    "GET /environment/stations": STAFF,
    "GET /environment/stations/new": ADMIN,
    "POST /environment/stations/new": ADMIN,
    "GET /environment/stations/{code}": STAFF,
    "GET /environment/stations/{code}/edit": ADMIN,
    "POST /environment/stations/{code}/edit": ADMIN,
    "GET /healthz": PUBLIC,
    "GET /incident-tasks": AGENCIES,
    "POST /incident-tasks/{task_id}": AGENCIES,
    "GET /incidents": COMMAND,
    "GET /incidents/new": COMMAND,
    "POST /incidents/new": COMMAND,
    "GET /incidents/{incident_id}": COMMAND,
    "POST /incidents/{incident_id}/{action}": COMMAND,
    "GET /indicators": STATISTICS,
    "GET /indicators/admin": ADMIN,
    "GET /indicators/admin/{kind}": ADMIN,
    "POST /indicators/admin/{kind}": ADMIN,
    "GET /indicators/admin/{kind}/new": ADMIN,
    "GET /indicators/admin/{kind}/{code}": ADMIN,
    "GET /indicators/entry": STATISTICS,
    "GET /indicators/imports/{import_id}": AGENCIES,
    "GET /indicators/overview/{pack}": STATISTICS,
    "GET /indicators/pivot": STATISTICS,
    "GET /indicators/reconciliation": STATISTICS,
    "GET /indicators/trace": STATISTICS,
    "GET /lang/{code}": PUBLIC,
    "GET /login": PUBLIC,
    "POST /login": NOBODY,
    "POST /logout": NOT_WALKED,
    "GET /metrics": PUBLIC,
    "GET /moi-truong/chi-so": PUBLIC,
    "GET /moi-truong/khong-khi": PUBLIC,
    "GET /open311/v2": PUBLIC,
    "GET /open311/v2/": PUBLIC,
    "GET /open311/v2/discovery.{fmt}": PUBLIC,
    "GET /open311/v2/requests.{fmt}": PUBLIC,
    "POST /open311/v2/requests.{fmt}": PUBLIC,
    "GET /open311/v2/requests/{service_request_id}.{fmt}": PUBLIC,
    "GET /open311/v2/servicerequestupdates.{fmt}": PUBLIC,
    "GET /open311/v2/services.{fmt}": PUBLIC,
    "GET /open311/v2/services/{service_code}.{fmt}": PUBLIC,
    "GET /open311/v2/tokens/{token}.{fmt}": PUBLIC,
    "DELETE /open311/v2/{rest:path}": PUBLIC,
    "GET /open311/v2/{rest:path}": PUBLIC,
    "PATCH /open311/v2/{rest:path}": PUBLIC,
    "POST /open311/v2/{rest:path}": PUBLIC,
    "PUT /open311/v2/{rest:path}": PUBLIC,
    "GET /openapi.json": PUBLIC,
    "GET /org-units": PUBLIC,
    "GET /org-units/{code}": PUBLIC,
    "GET /phan-anh": PUBLIC,
    "POST /phan-anh": PUBLIC,
    "GET /phan-anh/ban-do": PUBLIC,
    "GET /phan-anh/thong-ke": PUBLIC,
    "GET /phan-anh/tra-cuu": PUBLIC,
    "GET /phan-anh/{tracking_code}": PUBLIC,
    "POST /phan-anh/{tracking_code}/danh-gia": PUBLIC,
    "GET /public": PUBLIC,
    "GET /readyz": PUBLIC,
    "GET /telemetry/dead-letters": STAFF,
    "GET /telemetry/devices": STAFF,
    "GET /telemetry/devices/{code}": STAFF,
}


def _denied_answer(response: httpx.Response) -> bool:
    """Tell whether an answer refuses the caller (or only rejects the input) without serving anything."""
    if response.status_code in (301, 302, 303, 307, 308):
        location: str = response.headers.get("location", "")
        return location.split("?")[0].endswith("/login")
    return response.status_code >= 400


def _refused(response: httpx.Response) -> bool:
    if response.status_code in (401, 403):
        return True
    return response.status_code in (302, 303, 307) and "/login" in response.headers.get("location", "")


@pytest.fixture(scope="package")
async def walked(world: World) -> dict[str, dict[str, httpx.Response]]:
    """Plant the reports, then send every route once per caller; return the answers by route and caller."""
    await plant_reports(world)
    values = await resolve_params(world)
    started = time.perf_counter()
    answers: dict[str, dict[str, httpx.Response]] = {}
    for route in app_routes(world.app):
        if route.path in STREAMS or route.path in SESSION_ENDERS:
            continue
        url = fill(route, values)
        answers[route.key] = {}
        for who in Who.ALL:
            body: dict[str, Any] | None = None if route.method == "GET" else {}
            try:
                answers[route.key][who] = await asyncio.wait_for(
                    world.clients[who].request(route.method, url, json=body), timeout=REQUEST_TIMEOUT
                )
            except TimeoutError as exc:
                raise AssertionError(f"{route.key} as {who} did not answer within {REQUEST_TIMEOUT} s") from exc
    world.ids["walk_seconds"] = time.perf_counter() - started
    world.ids["walk_requests"] = sum(len(row) for row in answers.values())
    return answers


def test_every_route_has_an_expectation(world: World) -> None:
    """A new route must be added to the table with its audience: the matrix covers every route."""
    keys = {route.key for route in app_routes(world.app)}
    assert sorted(keys - EXPECTED.keys()) == [], "routes missing from EXPECTED"
    assert sorted(EXPECTED.keys() - keys) == [], "EXPECTED lists routes the app no longer has"


def test_each_caller_gets_exactly_what_its_role_allows(
    walked: dict[str, dict[str, httpx.Response]],
) -> None:
    """Outside the audience: never served; inside: never refused; nobody: never a 5xx."""
    problems: list[str] = []
    for key, answers in walked.items():
        audience = EXPECTED.get(key)
        if not isinstance(audience, frozenset):
            continue
        for who, response in answers.items():
            status = response.status_code
            if status >= 500:
                problems.append(f"{key} as {who}: {status} {response.text[:200]}")
            elif who in audience and _refused(response):
                problems.append(f"{key} as {who}: refused with {status} but the table allows it")
            elif who not in audience and not _denied_answer(response):
                problems.append(f"{key} as {who}: served {status} but the table refuses it")
    assert problems == []


def test_personal_data_never_reaches_callers_without_the_right(
    walked: dict[str, dict[str, httpx.Response]],
) -> None:
    """Anonymous, citizen, agency B and leader answers never carry the reporter's name, phone or e-mail."""
    leaks: list[str] = []
    shown_to: set[str] = set()
    for key, answers in walked.items():
        for who, response in answers.items():
            text = response.text
            if MARK_EMAIL in text:
                shown_to.add(who)
            if who in SEES_PERSONAL_DATA:
                continue
            leaks.extend(f"{key} as {who}: {marker!r}" for marker in PERSONAL_MARKERS if marker in text)
    assert leaks == []
    # The markers are findable: the hotline sees them on the report it handles (else the search proves nothing).
    assert HOT in shown_to
    assert ADM in shown_to


async def test_agency_b_cannot_read_or_change_agency_a_restricted_report(
    world: World, walked: dict[str, dict[str, httpx.Response]]
) -> None:
    """With valid bodies too: agency B's staff and head cannot act on A's report, nor see who sent it."""
    report_id = world.ids["report_a"]
    staff_b, staff_a = world.clients[SB], world.clients[SA]
    before = (await staff_a.get(f"/api/v1/citizen-reports/{report_id}")).json()
    assert before["reporter"]["email"] == MARK_EMAIL  # agency A handles it and sees the contact
    seen_by_b = await staff_b.get(f"/api/v1/citizen-reports/{report_id}")
    assert seen_by_b.status_code == 200
    assert seen_by_b.json().get("reporter") is None
    attempts = {
        "start": {},
        "resolve": {"result": "Đã vá xong ổ gà, mặt đường phẳng."},
        "return": {"reason": "Không thuộc thẩm quyền của cơ quan."},
        "extension": {"days": 3, "reason": "Chờ vật tư để sửa chữa mặt đường."},
    }
    for action, body in attempts.items():
        response = await staff_b.post(f"/api/v1/citizen-reports/{report_id}/{action}", json=body)
        assert response.status_code in (403, 404), (action, response.status_code, response.text)
    after = (await staff_a.get(f"/api/v1/citizen-reports/{report_id}")).json()
    assert after["status"] == before["status"]
    assert after["extension_pending"] == before["extension_pending"]


async def test_streams_and_log_out_are_guarded(world: World) -> None:
    """Staff streams refuse anonymous and citizens; logging out needs a session and ends only that session."""
    for who, status in ((ANON, 401), (CIT, 403)):
        response = await world.clients[who].get("/api/v1/live")
        assert response.status_code == status
    first = await log_in(world.app, world.users[LEAD]["username"])
    second = await log_in(world.app, world.users[LEAD]["username"])
    try:
        assert (await first.post("/api/v1/auth/logout")).is_success
        assert (await first.get("/api/v1/auth/me")).status_code == 401
        assert (await second.get("/api/v1/auth/me")).status_code == 200
    finally:
        await first.aclose()
        await second.aclose()
    for path in sorted(SESSION_ENDERS):
        assert EXPECTED[f"POST {path}"] == NOT_WALKED
    for path in sorted(STREAMS):
        assert EXPECTED[f"GET {path}"] == NOT_WALKED
