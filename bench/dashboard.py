"""The operations picture: map layers and KPI tiles over 100,000 citizen reports and 500 monitoring stations.

Measures, through the whole application in-process (middleware, login session, routing, JSON), as an
administrator at the desk:
- `GET /api/v1/dashboard/layers/citizen_report.reports?zoom=8` and `.../layers/environment.stations?zoom=8`
  (the province seen whole: points clustered on a grid), p50 and p95 — target < 300 ms; raw figure: the
  engine answering the layer's own query;
- `GET /api/v1/dashboard/kpis` (every tile of the enabled modules), p50 and p95 — target < 1.5 s for the
  first load; raw figure: the engine counting the reports and the stations;
- the desk's first load: the page, then the KPIs, the layer catalogue, the feed and every default layer at
  once, as the browser asks for them — target < 1.5 s; raw figure: the raw layer and count queries in turn;
- `GET /api/v1/dashboard/charts/data?range=30d` (every chart: the modules' and the event counts).
Each figure is measured twice: warm (the picture's 15-second cache answers, as for a second screen or a
reload) and cold (the cache cleared before each call, as for the first viewer after something happened).
N reports (default 100,000, `--reports N`; spread over the 96 communes' schematic cells) and M stations
(default 500, `--stations M`) are stored in bulk; PostgreSQL is analysed afterwards.
Run: `python -m bench dashboard --reports 20000 --stations 100` (BENCH_DATABASE=postgresql for PostgreSQL).
"""

from __future__ import annotations

import asyncio
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

from ioc.app import create_app
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.core.settings import Environment, Settings
from ioc.core.time import utc_now
from ioc.modules import identity, org_unit
from ioc.modules.citizen_report.constants import PICTURE_LAYER_MAX
from ioc.modules.citizen_report.models import Report
from ioc.modules.dashboard import cache as picture_cache
from ioc.modules.environment.models import Station

from .citizen_report import STATUSES, _seed_units_and_categories
from .common import Figure, engine_choice, fresh_database

DEFAULT_REPORTS = 100_000
DEFAULT_STATIONS = 500
CALLS = 20
BATCH = 5_000
DAYS = 90
ZOOM = 8  # the whole province on a wall or a desk screen
MODULES = [
    "audit",
    "identity",
    "org_unit",
    "notification",
    "citizen_report",
    "telemetry",
    "environment",
    "indicator",
    "alarm",
    "dashboard",
]
# The box of the new Tây Ninh (former Tây Ninh and Long An), for station positions.
LAT_RANGE = (10.40, 11.75)
LON_RANGE = (105.80, 106.70)
AQI_COLOURS = ((50, "good", "#00e400"), (100, "moderate", "#ffff00"), (150, "poor", "#ff7e00"), (200, "bad", "#ff0000"))
PASSWORD = "Bench-mat-khau-2026!"  # noqa: S105 - the password of a throwaway database


def _option(name: str, default: int) -> int:
    args = sys.argv[1:]
    if name in args:
        return int(args[args.index(name) + 1])
    return default


def _settings(url: str, data_dir: str) -> Settings:
    return Settings(
        env=Environment.TEST,
        secret_key="bench-secret-key-0123456789",  # noqa: S106 - the key of a throwaway database
        database_url=url,
        data_dir=data_dir,
        modules=MODULES,
        run_background=False,
        log_json=False,
        log_level="WARNING",
    )


async def _bulk_reports(runtime: Runtime, categories: dict[str, int], count: int) -> None:
    """Store N reports of the last 90 days spread over every commune, with the status mix of a working service."""
    async with runtime.db.session() as session:
        communes = [
            u for u in await org_unit.units_valid_on(session, level=org_unit.UnitLevel.COMMUNE) if u.bbox is not None
        ]
    rng = random.Random(80)
    now = utc_now()
    codes = sorted(categories)
    statuses = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    for start in range(0, count, BATCH):
        rows: list[dict[str, Any]] = []
        for number in range(start, min(start + BATCH, count)):
            created = now - timedelta(seconds=rng.uniform(0, DAYS * 86_400))
            status = rng.choices(statuses, weights)[0]
            commune = communes[number % len(communes)]
            min_lon, min_lat, max_lon, max_lat = (float(v) for v in commune.bbox or ())
            code = codes[number % len(codes)]
            accepted = None if status in ("received", "rejected") else created + timedelta(hours=2)
            rows.append(
                {
                    "tracking_code": f"PA-2025-{number + 1:07d}",
                    "category_id": categories[code],
                    "category_code": code,
                    "description": f"Phản ánh số {number}: rác thải, ổ gà, đèn đường hỏng gần chợ.",
                    "attributes": {},
                    "lat": round(rng.uniform(min_lat, max_lat), 6),
                    "lon": round(rng.uniform(min_lon, max_lon), 6),
                    "unit_code": commune.code,
                    "address": "",
                    "source": "app",
                    "lang": "vi",
                    "status": status,
                    "agency_code": f"UBND-{commune.code}" if accepted else None,
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


async def _bulk_stations(runtime: Runtime, count: int) -> None:
    """Store M stations (four in five air stations) with a current index, as the evaluation job leaves them."""
    rng = random.Random(500)
    now = utc_now()
    rows: list[dict[str, Any]] = []
    for number in range(count):
        air = number % 5 != 4
        value = rng.randrange(10, 200)
        _upper, category, colour = next(c for c in AQI_COLOURS if value <= c[0])
        rows.append(
            {
                "code": f"BENCH-{number:04d}",
                "name": f"Trạm {'không khí' if air else 'nước mặt'} số {number}",
                "kind": "air" if air else "surface_water",
                "lat": round(rng.uniform(*LAT_RANGE), 6),
                "lon": round(rng.uniform(*LON_RANGE), 6),
                "unit_code": None,
                "water_class": None if air else "B",
                "is_active": True,
                "index_standard": "VN_AQI" if air else "VN_WQI",
                "index_value": value,
                "index_category": category,
                "index_colour": colour,
                "index_dominant": "pm25" if air else None,
                "index_at": now.replace(minute=0, second=0, microsecond=0),
                "created_at": now,
                "updated_at": now,
            }
        )
    async with runtime.db.transaction() as session:
        await session.execute(insert(Station), rows)
    if engine_choice() == "postgresql":
        async with runtime.db.engine.connect() as conn:
            await conn.execute(text("ANALYZE"))


async def _timings(
    call: Callable[[], Awaitable[object]], forget: Callable[[], None] | None = None
) -> tuple[float, float]:
    """Return the p50 and p95 of CALLS calls in milliseconds (after one warm-up call); `forget` runs before each."""
    await call()
    durations: list[float] = []
    for _ in range(CALLS):
        if forget is not None:
            forget()  # not timed: a cold call starts from an empty picture cache
        started = time.perf_counter()
        await call()
        durations.append((time.perf_counter() - started) * 1000)
    durations.sort()
    return statistics.median(durations), durations[max(int(len(durations) * 0.95) - 1, 0)]


def _get(client: httpx.AsyncClient, path: str, **params: Any) -> Callable[[], Awaitable[httpx.Response]]:
    async def call() -> httpx.Response:
        response = await client.get(path, params=params)
        if response.status_code != 200:
            raise AssertionError(f"{path}: {response.status_code} {response.text[:300]}")
        return response

    return call


def _raw(runtime: Runtime, *statements: str) -> Callable[[], Awaitable[object]]:
    async def call() -> object:
        async with runtime.db.engine.connect() as conn:
            return [list((await conn.execute(text(sql))).all()) for sql in statements]

    return call


async def _login(runtime: Runtime, client: httpx.AsyncClient) -> None:
    async with runtime.db.transaction() as session:
        await identity.create_user(session, runtime, username="bench-admin", password=PASSWORD, role=Role.ADMIN)
    response = await client.post("/api/v1/auth/login", json={"username": "bench-admin", "password": PASSWORD})
    if response.status_code != 200:
        raise AssertionError(response.text[:300])
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]


async def run() -> list[Figure]:
    """Run the dashboard benchmark and return its figures."""
    reports = _option("--reports", DEFAULT_REPORTS)
    stations = _option("--stations", DEFAULT_STATIONS)
    base = "/api/v1/dashboard"
    with tempfile.TemporaryDirectory() as data_dir:
        async with fresh_database() as url:
            app = create_app(_settings(url, data_dir))
            runtime: Runtime = app.state.runtime
            async with app.router.lifespan_context(app):
                categories = await _seed_units_and_categories(runtime)
                await _bulk_reports(runtime, categories, reports)
                await _bulk_stations(runtime, stations)
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                    await _login(runtime, client)
                    report_layer = _get(client, f"{base}/layers/citizen_report.reports", zoom=ZOOM)
                    station_layer = _get(client, f"{base}/layers/environment.stations", zoom=ZOOM)
                    kpis = _get(client, f"{base}/kpis")
                    charts = _get(client, f"{base}/charts/data", range="30d")
                    forget = picture_cache.for_runtime(runtime).clear
                    shown = len((await report_layer()).json()["features"])
                    report_ms = await _timings(report_layer)
                    report_cold_ms = await _timings(report_layer, forget)
                    station_ms = await _timings(station_layer)
                    station_cold_ms = await _timings(station_layer, forget)
                    kpi_ms = await _timings(kpis)
                    kpi_cold_ms = await _timings(kpis, forget)
                    chart_ms = await _timings(charts)
                    chart_cold_ms = await _timings(charts, forget)
                    catalogue = (await _get(client, f"{base}/layers")()).json()
                    default_layers = [layer["key"] for layer in catalogue["layers"] if layer["default_on"]]

                    async def first_load() -> None:
                        await _get(client, "/dashboard")()
                        calls = [kpis(), _get(client, f"{base}/layers")(), _get(client, f"{base}/feed")()]
                        calls += [_get(client, f"{base}/layers/{key}", zoom=ZOOM)() for key in default_layers]
                        await asyncio.gather(*calls)

                    first_ms = await _timings(first_load)
                    first_cold_ms = await _timings(first_load, forget)

                # The raw engine answers each layer's own query, without the Python that builds and clusters features.
                since = (utc_now() - timedelta(days=30)).isoformat(sep=" ")
                report_rows = (
                    "SELECT id, tracking_code, status, category_code, lat, lon FROM citizen_report_report "
                    "WHERE accepted_at IS NOT NULL AND status <> 'rejected' AND (status IN "
                    f"('received', 'accepted', 'assigned', 'returned', 'in_progress', 'reopened') OR updated_at >= "
                    f"'{since}') ORDER BY updated_at DESC LIMIT {PICTURE_LAYER_MAX}"
                )
                station_rows = (
                    "SELECT id, code, name, kind, lat, lon, index_standard, index_value, index_category, "
                    "index_colour, index_at FROM environment_station WHERE is_active ORDER BY code"
                )
                counts = (
                    "SELECT status, count(*) FROM citizen_report_report GROUP BY status",
                    "SELECT max(index_value), count(*) FROM environment_station WHERE is_active",
                )
                raw_report_ms = await _timings(_raw(runtime, report_rows))
                raw_station_ms = await _timings(_raw(runtime, station_rows))
                raw_kpi_ms = await _timings(_raw(runtime, *counts))
                raw_first_ms = await _timings(_raw(runtime, report_rows, station_rows, *counts))
    label = f"({reports:,} reports, {stations:,} stations)"
    figures: list[Figure] = []
    desk = f"desk first load: page, kpis, feed, {len(default_layers)} layers {label}"
    for name, target, warm, cold, raw in (
        (f"layer citizen_report.reports zoom {ZOOM}, {shown:,} features {label}", "< 300 ms", report_ms,
         report_cold_ms, raw_report_ms),
        (f"layer environment.stations zoom {ZOOM} {label}", "< 300 ms", station_ms, station_cold_ms, raw_station_ms),
        (f"dashboard kpis {label}", "< 1.5 s", kpi_ms, kpi_cold_ms, raw_kpi_ms),
        (desk, "< 1.5 s", first_ms, first_cold_ms, raw_first_ms),
        (f"dashboard charts data 30d {label}", "", chart_ms, chart_cold_ms, None),
    ):  # fmt: skip
        for state, measured in (("warm", warm), ("cold", cold)):
            figures.append(Figure(f"{name}, {state}: p50", measured[0], "ms", target, raw=raw[0] if raw else None))
            figures.append(Figure(f"{name}, {state}: p95", measured[1], "ms", target, raw=raw[1] if raw else None))
    return figures
