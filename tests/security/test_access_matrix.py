"""Access-control matrix: every route, eight callers, an explicit table of who may read and write what.

The walk sends each route once per caller (reads as GET, writes with an empty JSON body, or a valid one where
the check is on the record itself, so that a caller allowed to write gets a validation answer instead of
changing data), with every path parameter filled with a real record: agency A's, made by the fixture through
the modules' own services and APIs (the citizen report with the reporter's unique name, phone and e-mail, an
incident and its task, an alarm and a silence, a warning draft, a statistics import, an API key, a dead
letter...), else the demo data's (devices, stations, rules, users). For each route and caller the table says:

- allowed: served, never 401/403, and never 404 (the record is real), unless an earlier caller consumed it;
- refused: 401/403/404 or the login form, and the answer never carries the record (its FINGERPRINT);
- public form: served, but without the reporter's personal data (e.g. agency B's staff reading A's report).

Refused callers go first on each route and reads before writes, so that every refusal is tested against the
record as it was seeded; deletions and other writes that end a record go last. Nobody may ever get a 5xx.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from .conftest import MARK_EMAIL, PERSONAL_MARKERS, Who, World, log_in
from .records import FINGERPRINT, seed_agency_a
from .walk import PARAM, SESSION_ENDERS, STREAMS, Route, app_routes, fill, plant_reports, resolve_params

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
# Row level: the planted report, the task, the statistics report and import are agency A's: B may not act on them.
AGENCY_A = frozenset({SA, HEAD, ADM})
SELF_OR_ADMIN = frozenset({SA, ADM})  # the user and API key parameters are staff A's own
# Device ingestion needs a device token; the login form needs its own signed token (tested apart).
NOBODY: frozenset[str] = frozenset()
NOT_WALKED = "not walked"  # streams and log-outs: checked by test_streams_and_log_out_are_guarded
REQUEST_TIMEOUT = 30  # seconds; a route that hangs (a lock, a stream) fails the walk instead of stalling CI

# Callers who may see the planted reporter's personal data somewhere (operators, agency A, administrator).
SEES_PERSONAL_DATA = frozenset({HOT, SA, HEAD, ADM})
ALLOWED, REFUSED, PUBLIC_FORM = "allowed", "refused", "public form"


@dataclass(frozen=True)
class Rows:
    """A record with a public form: `full` callers get all of it, `public` callers its public form, others nothing."""

    full: frozenset[str]
    public: frozenset[str]


# Agency A's report: operators and agency A see the reporter; agency B's staff and the leader see the rest.
REPORT_A = Rows(full=SEES_PERSONAL_DATA, public=frozenset({SB, LEAD}))

EXPECTED: dict[str, frozenset[str] | Rows | str] = {
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
    "DELETE /api/v1/api-keys/{key_id}": SELF_OR_ADMIN,  # staff A's own key
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
    "GET /api/v1/citizen-reports/{report_id}": REPORT_A,
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
    "GET /api/v1/data-value-sets/imports/{import_id}": AGENCY_A,
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
    "PUT /api/v1/incident-tasks/{task_id}/informed": COMMAND | {HEAD},  # as reassigning
    "POST /api/v1/incident-tasks/{task_id}/reassign": COMMAND | {HEAD},  # the command, or the task agency's head
    "POST /api/v1/incident-tasks/{task_id}/reports": AGENCY_A,
    "POST /api/v1/incident-tasks/{task_id}/status": AGENCY_A,
    "GET /api/v1/incidents": COMMAND | AGENCIES,  # agencies: the incidents they take part in (row level)
    "POST /api/v1/incidents": COMMAND,
    "GET /api/v1/incidents.geojson": COMMAND | AGENCIES,
    "POST /api/v1/incidents/from-alarm": COMMAND,
    "POST /api/v1/incidents/from-report": COMMAND,
    "GET /api/v1/incidents/kpis": COMMAND | AGENCIES,
    "GET /api/v1/incidents/{incident_id}": COMMAND | AGENCY_A,  # the incident holds agency A's task
    "PATCH /api/v1/incidents/{incident_id}": COMMAND,
    "GET /api/v1/incidents/{incident_id}/after-action.{fmt}": COMMAND | AGENCY_A,
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
    "POST /api/v1/indicator/reports/{data_set}/{period}/{org_unit}/{action}": AGENCY_A,
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
    "POST /incident-tasks/{task_id}": AGENCY_A,
    "GET /incidents": COMMAND | AGENCIES,
    "GET /incidents/new": COMMAND,
    "POST /incidents/new": COMMAND,
    "GET /incidents/of-alarm/{alarm_id}": COMMAND | AGENCIES,
    "GET /incidents/{incident_id}": COMMAND | AGENCY_A,
    "POST /incidents/{incident_id}/informed": COMMAND | {HEAD},
    "POST /incidents/{incident_id}/{action}": COMMAND,
    "GET /indicators": STATISTICS,
    "GET /indicators/admin": ADMIN,
    "GET /indicators/admin/{kind}": ADMIN,
    "POST /indicators/admin/{kind}": ADMIN,
    "GET /indicators/admin/{kind}/new": ADMIN,
    "GET /indicators/admin/{kind}/{code}": ADMIN,
    "GET /indicators/entry": STATISTICS,
    "GET /indicators/imports/{import_id}": AGENCY_A,
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


# Valid bodies where the route checks the record itself (its agency) after validating the input: with an empty
# body a refused caller would get 422 and the walk would prove nothing about the record.
BODIES: dict[str, dict[str, Any]] = {
    "POST /api/v1/citizen-reports/{report_id}/extension": {"days": 3, "reason": "Chờ vật tư để sửa mặt đường."},
    "POST /api/v1/citizen-reports/{report_id}/resolve": {"result": "Đã vá xong ổ gà, mặt đường phẳng."},
    "POST /api/v1/citizen-reports/{report_id}/return": {"reason": "Không thuộc thẩm quyền của cơ quan."},
    "POST /api/v1/incident-tasks/{task_id}/reports": {"text": "Đã đặt rào chắn quanh cống."},
    "POST /api/v1/incident-tasks/{task_id}/status": {"status": "in_progress"},
    "PUT /api/v1/calendar/days/{day}": {"kind": "holiday", "name": "Ngày nghỉ bù kiểm thử"},  # then deleted
}
# Writes after which the record is gone or closed for good: walked after every other route.
ENDINGS = ("/delete", "/end", "/close", "/huy/{token}", "/resolve", "/return")
LOGIN_REDIRECTS = (301, 302, 303, 307, 308)


def access(rule: frozenset[str] | Rows) -> dict[str, str]:
    """Return what each of the eight callers gets under a rule of the table."""
    if isinstance(rule, Rows):
        return {who: ALLOWED if who in rule.full else PUBLIC_FORM if who in rule.public else REFUSED for who in Who.ALL}
    return {who: ALLOWED if who in rule else REFUSED for who in Who.ALL}


READ, WRITE, ENDING = 0, 1, 2


def _walk_order(route: Route) -> tuple[int, str, str]:
    """Reads first, then writes, then the writes that end a record."""
    ending = route.method == "DELETE" or route.path.endswith(ENDINGS)
    return (ENDING if ending else READ if route.method == "GET" else WRITE, route.path, route.method)


def _to_login(response: httpx.Response) -> bool:
    location: str = response.headers.get("location", "")
    return response.status_code in LOGIN_REDIRECTS and location.split("?")[0].endswith("/login")


def _served(response: httpx.Response) -> bool:
    return response.status_code < 400 and not _to_login(response)


def judge(key: str, who: str, expected: str, response: httpx.Response, consumed: bool, reads: bool) -> str | None:
    """Return what is wrong with one answer, or None (`reads`: the caller may read the record elsewhere)."""
    status = response.status_code
    if status >= 500:
        return f"{key} as {who}: {status} {response.text[:200]}"
    on_record = "{" in key
    if expected == REFUSED:
        if _served(response):
            return f"{key} as {who}: served {status} but the table refuses it"
        # On a record, a refusal must be about the record, not the input (422 would prove nothing about it).
        if on_record and status not in (401, 403, 404) and not _to_login(response):
            return f"{key} as {who}: {status} but the table refuses the record ({response.text[:120]})"
        if on_record and not reads and FINGERPRINT in response.text:
            return f"{key} as {who}: refused with {status} but the answer shows the record"
        return None
    if consumed:
        return None  # an earlier caller ended or moved the record (e.g. returned it): any 4xx may follow
    if status in (401, 403) or _to_login(response):
        return f"{key} as {who}: refused with {status} but the table allows it"
    if on_record and status == 404:
        return f"{key} as {who}: 404 on a real record the table allows ({response.text[:120]})"
    if expected == PUBLIC_FORM and not _served(response):
        return f"{key} as {who}: {status} instead of the public form ({response.text[:120]})"
    return None


def record_readers(route: Route) -> frozenset[str]:
    """Return who may read the record a route acts on: the audience of its page or API read (its longest prefix)."""
    best, found = "", frozenset[str]()
    for key, rule in EXPECTED.items():
        method, _, path = key.partition(" ")
        if method != "GET" or path == route.path or not isinstance(rule, frozenset | Rows):
            continue
        if "{" in path and route.path.startswith(path + "/") and len(path) > len(best):
            best, found = path, frozenset(who for who, seen in access(rule).items() if seen != REFUSED)
    return found


@dataclass
class Walk:
    """The answers of the walk, by route and caller, with what the table expected and what went wrong."""

    answers: dict[str, dict[str, httpx.Response]]
    problems: list[str]


@pytest.fixture(scope="package")
async def walked(world: World) -> Walk:
    """Seed agency A's records, then send every route once per caller, refused callers first."""
    await plant_reports(world)
    world.ids["device"] = (await world.clients[ADM].get("/api/v1/telemetry/devices")).json()["items"][0]["code"]
    await seed_agency_a(world)
    values = await resolve_params(world)
    started = time.perf_counter()
    answers: dict[str, dict[str, httpx.Response]] = {}
    problems: list[str] = []
    ended: set[str] = set()  # parameters whose record a write ended (deleted, closed): later 404s are expected
    for route in sorted(app_routes(world.app), key=_walk_order):
        rule = EXPECTED.get(route.key)
        if route.path in STREAMS or route.path in SESSION_ENDERS or not isinstance(rule, frozenset | Rows):
            continue
        url = fill(route, values, world.ids)
        expected = access(rule)
        answers[route.key] = {}
        record = set(PARAM.findall(route.path))
        consumed = bool(record & ended)
        readers = record_readers(route)
        order = sorted(Who.ALL, key=lambda who: (expected[who] != REFUSED, expected[who] == ALLOWED))
        for who in order:
            body: dict[str, Any] | None = None if route.method == "GET" else BODIES.get(route.key, {})
            try:
                response = await asyncio.wait_for(
                    world.clients[who].request(route.method, url, json=body), timeout=REQUEST_TIMEOUT
                )
            except TimeoutError as exc:
                raise AssertionError(f"{route.key} as {who} did not answer within {REQUEST_TIMEOUT} s") from exc
            answers[route.key][who] = response
            problem = judge(route.key, who, expected[who], response, consumed, who in readers)
            if problem:
                problems.append(problem)
            if route.method != "GET" and _served(response):
                consumed = True
                if _walk_order(route)[0] == ENDING:
                    ended.update(record)
    world.ids["walk_seconds"] = time.perf_counter() - started
    world.ids["walk_requests"] = sum(len(row) for row in answers.values())
    return Walk(answers, problems)


def test_every_route_has_an_expectation(world: World) -> None:
    """A new route must be added to the table with its audience: the matrix covers every route."""
    keys = {route.key for route in app_routes(world.app)}
    assert sorted(keys - EXPECTED.keys()) == [], "routes missing from EXPECTED"
    assert sorted(EXPECTED.keys() - keys) == [], "EXPECTED lists routes the app no longer has"


def test_each_caller_gets_exactly_what_its_role_allows(walked: Walk) -> None:
    """Refused: 401/403/404 without the record; allowed: served, not even a 404; public form: served; never 5xx."""
    assert walked.problems == [], "\n".join(walked.problems)


def test_every_path_parameter_is_walked_with_a_real_record(world: World, walked: Walk) -> None:
    """Each route with a parameter answers someone with the record (no 404 for all): the ids are real."""
    dead: list[str] = []
    for key, answers in walked.answers.items():
        if "{" not in key or "{rest:path}" in key:
            continue
        if all(response.status_code == 404 for response in answers.values()):
            dead.append(key)
    assert dead == []
    assert all(isinstance(world.ids[name], int) for name in ("incident_id", "task_id", "alarm_id", "import_id"))


def test_personal_data_never_reaches_callers_without_the_right(walked: Walk) -> None:
    """Anonymous, citizen, agency B and leader answers never carry the reporter's name, phone or e-mail."""
    leaks: list[str] = []
    shown_to: set[str] = set()
    for key, answers in walked.answers.items():
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


async def test_agency_b_cannot_read_or_change_agency_a_restricted_report(world: World, walked: Walk) -> None:
    """With valid bodies too: agency B's staff and head cannot act on A's report, nor see who sent it."""
    report_id = world.ids["report_kept"]
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
