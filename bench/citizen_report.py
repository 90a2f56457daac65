"""Citizen reports: submissions per second through the service, and the public map layer at 100,000 reports.

Measures, on a fresh database of the chosen engine:
- reports submitted without a photo per second by 8 concurrent callers, each report in its own transaction
  through `service.submit` (rate limit, locating the commune, routing, duplicates, numbering, deadline
  timers, timeline, event, audit entry) with a citizens' app key from many addresses, against the raw engine
  inserting one row per transaction into a bare table, also 8 at a time;
- the operations-picture map layer (`citizen_report.reports`, compact GeoJSON) and the public
  `citizen-reports.geojson` layer over N stored reports (default 100,000; `--reports N` to change),
  median of several calls, against the raw engine selecting the same columns.
Run: `python -m bench citizen_report --reports 20000` (BENCH_DATABASE=postgresql for PostgreSQL).
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

from sqlalchemy import insert, text

from ioc.core.module import PictureContext, SeedContext
from ioc.core.runtime import Runtime
from ioc.core.security import Principal, PrincipalKind, Role
from ioc.core.settings import Environment, Settings
from ioc.core.time import utc_now
from ioc.modules.citizen_report import service
from ioc.modules.citizen_report.constants import GEOJSON_MAX_FEATURES, PICTURE_LAYER_MAX, SCOPE_SUBMIT
from ioc.modules.citizen_report.models import Report
from ioc.modules.citizen_report.photos import MediaStore
from ioc.modules.citizen_report.schemas import CategoryCreate, ReportCreate, ReportFilters

from .common import Figure, engine_choice, fresh_database

DEFAULT_REPORTS = 100_000
SUBMISSIONS = 600
# Submissions come from many phones at once: the server handles several requests concurrently.
CONCURRENCY = 8
WARM_UP = 30
LAYER_CALLS = 5
BATCH = 5_000
DAYS = 90
# Points inside Tây Ninh demo communes (org_unit seed schematic cells).
PLACES = (("25459", 11.61507, 105.86238), ("25480", 11.579215, 105.95258972))
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
        modules=["audit", "identity", "org_unit", "notification", "citizen_report"],
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


async def _submissions_per_second(runtime: Runtime) -> float:
    """Submit reports one transaction each, as a citizens' app would: its key is rate limited per address,
    and every report comes from another phone (address), so the limit is checked and recorded each time."""
    caller = Principal(
        kind=PrincipalKind.API_KEY, id=None, name="bench-app", role=Role.CITIZEN, scopes=frozenset({SCOPE_SUBMIT})
    )
    store = MediaStore.under(runtime.settings.data_dir)
    rng = random.Random(1022)

    async def one(number: int) -> None:
        _unit, lat, lon = PLACES[number % len(PLACES)]
        data = ReportCreate(
            category_code=f"lv-{number % CATEGORIES}",
            description=f"Phản ánh thử số {number}: đèn đường hỏng trước nhà văn hoá.",
            lat=lat + rng.uniform(-0.001, 0.001),
            lon=lon + rng.uniform(-0.001, 0.001),
            source="app",
        )
        async with runtime.db.transaction() as session:
            # As `db_session` does for a request: the caller is the actor of the audit entry of the new report.
            session.sync_session.info["actor"] = caller
            phone = f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"
            await service.submit(session, runtime, data, principal=caller, client_ip=phone, store=store)

    for number in range(WARM_UP):
        await one(number)
    return await _concurrently(one, WARM_UP, SUBMISSIONS)


async def _concurrently(call: Callable[[int], Awaitable[None]], first: int, count: int) -> float:
    """Run call(first) .. call(first + count - 1) from CONCURRENCY workers, as a server does; return calls/s."""
    numbers = iter(range(first, first + count))

    async def worker() -> None:
        for number in numbers:
            await call(number)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return count / (time.perf_counter() - started)


async def _raw_inserts_per_second(runtime: Runtime) -> float:
    async with runtime.db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE bench_cr_raw (id INTEGER PRIMARY KEY, code VARCHAR(24), body TEXT)"))

    async def one(number: int) -> None:
        async with runtime.db.engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO bench_cr_raw (id, code, body) VALUES (:id, :code, :body)"),
                {"id": number, "code": f"PA-2026-{number:06d}", "body": "Phản ánh thử"},
            )

    return await _concurrently(one, 0, SUBMISSIONS)


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
                submissions = await _submissions_per_second(runtime)
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
                raw_picture_ms, _ = await _median_ms(raw_select(picture_rows))
                raw_public_ms, _ = await _median_ms(raw_select(public_rows))
                picture_ms, picture_features = await _median_ms(picture)
                public_ms, public_features = await _median_ms(public)
            finally:
                await runtime.stop()
    return [
        Figure(
            "reports submitted without photo (service, 8 callers)",
            submissions,
            "reports/s",
            ">= 300/s",
            raw=raw_inserts,
        ),
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
    ]
