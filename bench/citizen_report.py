"""Citizen reports: submissions per second, through the service and served by uvicorn, and the map layers.

Measures, on a fresh database of the chosen engine:
- reports submitted without a photo per second by 8 concurrent callers, each report in its own transaction
  through `service.submit` (rate limit, locating the commune, routing, duplicates, numbering, deadline
  timers, timeline, event, audit entry) with a citizens' app key from many addresses, against the raw engine
  inserting one row per transaction into a bare table, also 8 at a time; with the CPU of this process and of
  the database server per submission;
- the same submissions served as in production: `POST /api/v1/citizen-reports` (JSON) to uvicorn with 2 worker
  processes, from 8 keep-alive connections of this process with a citizens' app API key, every report from
  another address (X-Forwarded-For, trusted from the local proxy as a reverse proxy's): submissions per
  second, p99 latency, and the CPU of the server and of the database per submission;
- the operations-picture map layer (`citizen_report.reports`, compact GeoJSON) and the public
  `citizen-reports.geojson` layer over N stored reports (default 100,000; `--reports N` to change),
  median of several calls, against the raw engine selecting the same columns; then the public layer as the
  map asks for it, with a view's box and zoom (every report represented: grid clusters in SQL, or points), for
  the whole province at zoom 9 and a city at zoom 14, against the raw engine answering the layer's own query.
Run: `python -m bench citizen_report --reports 20000` (BENCH_DATABASE=postgresql for PostgreSQL).
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import insert, text

from ioc.core.module import PictureContext, SeedContext
from ioc.core.runtime import Runtime
from ioc.core.security import Principal, PrincipalKind, Role
from ioc.core.settings import Environment, Settings
from ioc.core.time import utc_now
from ioc.modules import identity
from ioc.modules.citizen_report import repository, service
from ioc.modules.citizen_report.constants import (
    GEOJSON_MAX_FEATURES,
    MAP_CELLS_PER_TILE,
    MAP_GRID_LATITUDE,
    PICTURE_GRID_ZOOM,
    PICTURE_LAYER_MAX,
    SCOPE_SUBMIT,
)
from ioc.modules.citizen_report.models import Report
from ioc.modules.citizen_report.photos import MediaStore
from ioc.modules.citizen_report.schemas import CategoryCreate, ReportCreate, ReportFilters

from .common import (
    SERVER_WORKERS,
    DatabaseCpu,
    Figure,
    concurrently,
    engine_choice,
    fresh_database,
    p99_ms,
    served,
)

DEFAULT_REPORTS = 100_000
SUBMISSIONS = 600
# Submissions come from many phones at once: the server handles several requests concurrently.
CONCURRENCY = 8
WARM_UP = 30
# Served: enough warm-up for both workers' caches and connection pools, then a run of several seconds.
SERVED_WARM_UP = 100
SERVED_SUBMISSIONS = 1_500
SUBMIT_PATH = "/api/v1/citizen-reports"
APP_USER = "ung_dung_cong_dan"
APP_PASSWORD = "Mat-khau-do-123!"  # noqa: S105 - an account of a throwaway database
MODULES = ["audit", "identity", "org_unit", "notification", "citizen_report"]
LAYER_CALLS = 5
BATCH = 5_000
DAYS = 90
# Points inside Tây Ninh demo communes (org_unit seed schematic cells).
PLACES = (("25459", 11.61507, 105.86238), ("25480", 11.579215, 105.95258972))
# One report in SPREAD_EVERY lies anywhere in the province's box instead of near one of the PLACES.
SPREAD_EVERY = 4
PROVINCE_LATS = (10.9, 11.8)
PROVINCE_LONS = (105.8, 106.8)
# Views of the public map (bbox, zoom) as the page asks for them: the whole province, then a city's centre.
VIEWS = (
    ("whole province at zoom 9", "105.8,10.9,106.8,11.8", "9"),
    ("city view at zoom 14", "105.84,11.60,105.89,11.63", "14"),
)
STATUSES = (
    ("closed", 0.55),
    ("resolved", 0.08),
    ("in_progress", 0.12),
    ("assigned", 0.12),
    ("accepted", 0.03),
    ("received", 0.05),
    ("rejected", 0.05),
)
CATEGORIES = 8


def report_count() -> int:
    """Return `--reports N` from the command line, else 100,000."""
    args = sys.argv[1:]
    if "--reports" in args:
        return int(args[args.index("--reports") + 1])
    return DEFAULT_REPORTS


def _runtime(url: str, data_dir: str) -> Runtime:
    settings = Settings(
        env=Environment.TEST,
        secret_key="bench-secret-key-0123456789",  # noqa: S106 - the key of a throwaway database
        database_url=url,
        data_dir=data_dir,
        modules=MODULES,
        run_background=False,
        log_json=False,
        log_level="WARNING",
    )
    return Runtime(settings)


async def _seed_units_and_categories(runtime: Runtime) -> dict[str, int]:
    org_unit = runtime.module("org_unit")
    assert org_unit is not None
    assert org_unit.seed is not None
    async with runtime.db.transaction() as session:
        await org_unit.seed(SeedContext(session=session, runtime=runtime))
        for number in range(CATEGORIES):
            await service.create_category(
                session, CategoryCreate(code=f"lv-{number}", name=f"Lĩnh vực {number}", name_en=f"Category {number}")
            )
    async with runtime.db.session() as session:
        return {c.code: c.id for c in await service.list_categories(session)}


def _report(number: int, rng: random.Random) -> dict[str, Any]:
    """Return the JSON body of a report submitted by a citizens' app."""
    _unit, lat, lon = PLACES[number % len(PLACES)]
    return {
        "category_code": f"lv-{number % CATEGORIES}",
        "description": f"Phản ánh thử số {number}: đèn đường hỏng trước nhà văn hoá.",
        "lat": lat + rng.uniform(-0.001, 0.001),
        "lon": lon + rng.uniform(-0.001, 0.001),
        "source": "app",
    }


def _phone(number: int) -> str:
    """Return the address of the phone that sends report `number` (each from another one)."""
    return f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"


async def _submissions_per_second(runtime: Runtime) -> tuple[float, float, float | None]:
    """Submit reports one transaction each, as a citizens' app would: its key is rate limited per address,
    and every report comes from another phone (address), so the limit is checked and recorded each time.

    Returns submissions per second, and the CPU milliseconds per submission of this process and of the
    database server (None on SQLite, which works inside this process).
    """
    caller = Principal(
        kind=PrincipalKind.API_KEY, id=None, name="bench-app", role=Role.CITIZEN, scopes=frozenset({SCOPE_SUBMIT})
    )
    store = MediaStore.under(runtime.settings.data_dir)
    rng = random.Random(1022)

    async def one(number: int) -> None:
        data = ReportCreate.model_validate(_report(number, rng))
        async with runtime.db.transaction() as session:
            # As `db_session` does for a request: the caller is the actor of the audit entry of the new report.
            session.sync_session.info["actor"] = caller
            await service.submit(session, runtime, data, principal=caller, client_ip=_phone(number), store=store)

    for number in range(WARM_UP):
        await one(number)
    database = DatabaseCpu(runtime.settings.resolved_database_url) if engine_choice() == "postgresql" else None
    if database is not None:
        await database.start()
    cpu = time.process_time()
    rate, _latencies = await concurrently(one, WARM_UP, SUBMISSIONS, CONCURRENCY)
    cpu_ms = (time.process_time() - cpu) * 1000 / SUBMISSIONS
    database_seconds = await database.seconds() if database is not None else None
    return rate, cpu_ms, _per_submission(database_seconds, SUBMISSIONS)


def _per_submission(seconds: float | None, count: int) -> float | None:
    return seconds * 1000 / count if seconds is not None else None


async def _app_key(port: int) -> str:
    """Log in as the citizens' app account and create its API key, as the app's maker would."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        login = await http.post("/api/v1/auth/login", json={"username": APP_USER, "password": APP_PASSWORD})
        if login.status_code != 200:
            raise AssertionError(login.text[:300])
        created = await http.post(
            "/api/v1/api-keys",
            json={"name": "Ứng dụng công dân"},
            headers={"X-CSRF-Token": login.json()["csrf_token"]},
        )
        if created.status_code != 201:
            raise AssertionError(created.text[:300])
        return str(created.json()["secret"])


async def _served_submissions(runtime: Runtime, first: int) -> tuple[float, float, float, float | None]:
    """Submit reports over HTTP to uvicorn with SERVER_WORKERS workers, CONCURRENCY at a time.

    Returns submissions per second, p99 in ms, and the CPU milliseconds per submission of the server and of
    the database server (None on SQLite).
    """
    async with runtime.db.transaction() as session:
        await identity.create_user(session, runtime, username=APP_USER, password=APP_PASSWORD, role=Role.CITIZEN)
    url = runtime.settings.resolved_database_url
    rng = random.Random(1023)
    async with served(url, MODULES, CONCURRENCY, {"IOC_DATA_DIR": str(runtime.settings.data_dir)}) as server:
        key = await _app_key(server.port)
        head = (
            f"POST {SUBMIT_PATH} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {key}\r\n"
            "Content-Type: application/json\r\nAccept: application/json\r\n"
        )

        async def one(number: int) -> None:
            body = json.dumps(_report(number, rng)).encode()
            request = f"{head}X-Forwarded-For: {_phone(number)}\r\nContent-Length: {len(body)}\r\n\r\n"
            status, answer = await server.send(request.encode() + body)
            if status != 201:
                raise AssertionError(f"the server answered {status}: {answer[:300]!r}")

        await concurrently(one, first, SERVED_WARM_UP, CONCURRENCY)
        database = DatabaseCpu(url) if engine_choice() == "postgresql" else None
        if database is not None:
            await database.start()
        cpu = server.cpu_seconds()
        rate, latencies = await concurrently(one, first + SERVED_WARM_UP, SERVED_SUBMISSIONS, CONCURRENCY)
        cpu_ms = (server.cpu_seconds() - cpu) * 1000 / SERVED_SUBMISSIONS
        database_seconds = await database.seconds() if database is not None else None
    return rate, p99_ms(latencies), cpu_ms, _per_submission(database_seconds, SERVED_SUBMISSIONS)


async def _raw_inserts_per_second(runtime: Runtime) -> float:
    async with runtime.db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE bench_cr_raw (id INTEGER PRIMARY KEY, code VARCHAR(24), body TEXT)"))

    async def one(number: int) -> None:
        async with runtime.db.engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO bench_cr_raw (id, code, body) VALUES (:id, :code, :body)"),
                {"id": number, "code": f"PA-2026-{number:06d}", "body": "Phản ánh thử"},
            )

    rate, _latencies = await concurrently(one, 0, SUBMISSIONS, CONCURRENCY)
    return rate


async def _bulk_reports(runtime: Runtime, categories: dict[str, int], count: int) -> None:
    """Store N reports of the last 90 days in bulk, with the status mix of a working service."""
    rng = random.Random(311)
    now = utc_now()
    codes = sorted(categories)
    statuses = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    for start in range(0, count, BATCH):
        rows: list[dict[str, Any]] = []
        for number in range(start, min(start + BATCH, count)):
            created = now - timedelta(seconds=rng.uniform(0, DAYS * 86_400))
            status = rng.choices(statuses, weights)[0]
            unit, lat, lon = PLACES[number % len(PLACES)]
            if number % SPREAD_EVERY == 0:
                # Not every report is in town: a share of them anywhere in the province (a map of cells, not one).
                lat, lon = rng.uniform(*PROVINCE_LATS), rng.uniform(*PROVINCE_LONS)
            code = codes[number % len(codes)]
            accepted = None if status in ("received", "rejected") else created + timedelta(hours=2)
            rows.append(
                {
                    "tracking_code": f"PA-2025-{number + 1:07d}",
                    "category_id": categories[code],
                    "category_code": code,
                    "description": f"Phản ánh số {number}: rác thải, ổ gà, đèn đường hỏng gần chợ.",
                    "attributes": {},
                    "lat": lat + rng.uniform(-0.01, 0.01),
                    "lon": lon + rng.uniform(-0.01, 0.01),
                    "unit_code": unit,
                    "address": "",
                    "source": "app",
                    "lang": "vi",
                    "status": status,
                    "agency_code": f"UBND-{unit}" if accepted else None,
                    "accepted_at": accepted,
                    "approaching": False,
                    "overdue": False,
                    "extension_pending": False,
                    "extension_count": 0,
                    "reopen_count": 0,
                    "follower_count": 0,
                    "anonymous": False,
                    "rating_token_hash": f"{number:064d}",
                    "created_at": created,
                    "updated_at": created + timedelta(days=rng.uniform(0, 10)),
                }
            )
        async with runtime.db.transaction() as session:
            await session.execute(insert(Report), rows)
    if engine_choice() == "postgresql":
        async with runtime.db.engine.connect() as conn:
            await conn.execute(text("ANALYZE"))


async def _aggregated_views(
    runtime: Runtime, raw_select: Callable[[str], Callable[[], Awaitable[list[Any]]]]
) -> list[tuple[str, float, float, str]]:
    """Time the public layer of each view in VIEWS, and the engine answering the same cells query."""
    dialect = runtime.db.engine.dialect
    timed: list[tuple[str, float, float, str]] = []
    for label, bbox, zoom in VIEWS:
        view = service.map_view(bbox, zoom)
        last: dict[str, Any] = {}

        async def layer(view: service.MapView = view, last: dict[str, Any] = last) -> dict[str, Any]:
            async with runtime.db.session() as session:
                last.update(await service.geojson(session, ReportFilters(), view=view))
                return last

        grid = repository.MapGrid.at(view.zoom or 0, MAP_CELLS_PER_TILE, MAP_GRID_LATITUDE)
        stmt = repository.public_cells_statement(ReportFilters(), utc_now(), grid, view.box, dialect.name)
        sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        raw_ms, _ = await _median_ms(raw_select(sql))
        ms, features = await _median_ms(layer)
        clusters = sum(1 for f in last["features"] if f["properties"].get("cluster"))
        shown = f"{last['count']:,} in view as {clusters:,} clusters and {features - clusters:,} points"
        timed.append((label, ms, raw_ms, shown))
    return timed


async def _median_ms(call: Any) -> tuple[float, int]:
    """Return the median duration of LAYER_CALLS calls in milliseconds, and the features of the last one."""
    durations: list[float] = []
    features = 0
    await call()  # warm caches and prepared statements
    for _ in range(LAYER_CALLS):
        started = time.perf_counter()
        body = await call()
        durations.append((time.perf_counter() - started) * 1000)
        features = len(body["features"]) if isinstance(body, dict) else len(body)
    return statistics.median(durations), features


async def run() -> list[Figure]:
    """Run the citizen_report benchmark and return its figures."""
    count = report_count()
    with tempfile.TemporaryDirectory() as data_dir:
        async with fresh_database() as url:
            runtime = _runtime(url, data_dir)
            try:
                categories = await _seed_units_and_categories(runtime)
                raw_inserts = await _raw_inserts_per_second(runtime)
                submissions, cpu_ms, database_ms = await _submissions_per_second(runtime)
                served_rate, served_p99, served_cpu_ms, served_database_ms = await _served_submissions(
                    runtime, WARM_UP + SUBMISSIONS
                )
                await _bulk_reports(runtime, categories, count)

                async def picture() -> dict[str, Any]:
                    async with runtime.db.session() as session:
                        ctx = PictureContext(session=session, principal=None, now=utc_now())
                        return await service.picture_layer(ctx)

                async def public() -> dict[str, Any]:
                    async with runtime.db.session() as session:
                        return await service.geojson(session, ReportFilters())

                def raw_select(sql: str) -> Callable[[], Awaitable[list[Any]]]:
                    async def call() -> list[Any]:
                        async with runtime.db.engine.connect() as conn:
                            return list((await conn.execute(text(sql))).all())

                    return call

                # The raw engine answers each layer's own query, without the Python that builds the features.
                public_rows = (
                    "SELECT tracking_code, category_code, status, unit_code, created_at, lat, lon "
                    "FROM citizen_report_report WHERE accepted_at IS NOT NULL AND status <> 'rejected' "
                    f"ORDER BY created_at DESC LIMIT {GEOJSON_MAX_FEATURES}"
                )
                since = (utc_now() - timedelta(days=30)).isoformat(sep=" ")
                picture_rows = (
                    "SELECT id, tracking_code, status, category_code, lat, lon FROM citizen_report_report "
                    "WHERE accepted_at IS NOT NULL AND status <> 'rejected' AND (status IN "
                    f"('received', 'accepted', 'assigned', 'returned', 'in_progress', 'reopened') OR updated_at >= "
                    f"'{since}') ORDER BY updated_at DESC LIMIT {PICTURE_LAYER_MAX}"
                )
                picture_grid = repository.MapGrid.at(PICTURE_GRID_ZOOM, MAP_CELLS_PER_TILE, MAP_GRID_LATITUDE)
                dialect = runtime.db.engine.dialect.name
                picture_cells = repository.picture_cells_statement(
                    utc_now() - timedelta(days=30), None, picture_grid, dialect
                )

                async def raw_picture() -> list[Any]:
                    # Beyond 5,000 reports the layer runs two queries: the newest points (to see that there are
                    # more), then the same reports per grid cell.
                    async with runtime.db.engine.connect() as conn:
                        rows = list((await conn.execute(text(picture_rows))).all())
                        return rows + list((await conn.execute(picture_cells)).all())

                raw_picture_ms, _ = await _median_ms(raw_picture)
                raw_public_ms, _ = await _median_ms(raw_select(public_rows))
                picture_ms, picture_features = await _median_ms(picture)
                public_ms, public_features = await _median_ms(public)
                views = await _aggregated_views(runtime, raw_select)
            finally:
                await runtime.stop()
    served_label = f"reports submitted without photo (uvicorn {SERVER_WORKERS} workers, 8 connections)"
    figures = [
        Figure(
            "reports submitted without photo (service, 8 callers)",
            submissions,
            "reports/s",
            ">= 300/s",
            raw=raw_inserts,
        ),
        Figure("reports submitted without photo (service): CPU of this process per report", cpu_ms, "ms"),
        Figure(served_label, served_rate, "reports/s", ">= 300/s", raw=raw_inserts),
        Figure(f"{served_label}: p99 latency", served_p99, "ms"),
        # 2 cores doing nothing else take 300 reports a second at up to 6.7 CPU ms each, database included.
        Figure(f"{served_label}: server CPU per report", served_cpu_ms, "ms", "<= 6.7 ms with the database's"),
    ]
    for label, value in (("service", database_ms), (f"uvicorn {SERVER_WORKERS} workers", served_database_ms)):
        if value is not None:
            figures.append(Figure(f"reports submitted without photo ({label}): database CPU per report", value, "ms"))
    return [
        *figures,
        Figure(
            f"map layer citizen_report.reports ({count:,} stored, {picture_features:,} shown)",
            picture_ms,
            "ms",
            "< 300 ms",
            raw=raw_picture_ms,
        ),
        Figure(
            f"public citizen-reports.geojson ({count:,} stored, {public_features:,} shown)",
            public_ms,
            "ms",
            "< 300 ms",
            raw=raw_public_ms,
        ),
        *(
            Figure(
                f"public citizen-reports.geojson, {label} ({count:,} stored, {shown})", ms, "ms", "< 300 ms", raw=raw
            )
            for label, ms, raw, shown in views
        ),
    ]
