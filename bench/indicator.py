"""Shared statistics database: a pivot over many stored values, and a validated import of 100,000 values.

Measures, on a fresh database of the chosen engine:
- a pivot (10 data elements × 13 periods × the province and its 96 communes, totals included) over N stored
  values (default 200,000; `--values 10000000` for the full size): p95 of 20 runs — target < 1 s on
  PostgreSQL at 10 million; raw figure: the engine summing the same values straight from the value table;
- importing a 100,000-value dataValueSets file through the service (checks, rules, history, rollups) —
  target < 30 s (`--import-values N` to change the size).
Run: `python -m bench indicator [--values N] [--import-values N]` (BENCH_DATABASE=postgresql for PostgreSQL).
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date

from sqlalchemy import insert, text

from ioc.core.db import Base
from ioc.core.runtime import Runtime
from ioc.core.security import SYSTEM
from ioc.core.settings import Environment, Settings
from ioc.modules.indicator import analytics, models, repository, service
from ioc.modules.indicator.constants import ChangeSource, ImportStrategy
from ioc.modules.indicator.periods import PeriodType, period_containing
from ioc.modules.indicator.schemas import ValueRow

from .common import Figure, fresh_database

ELEMENTS = 50
OPTIONS = 20  # sex × 10 age groups
COMMUNES = 96
PIVOT_RUNS = 20
AGENCY_ID = 1
FIRST_MONTH = date(2015, 1, 1)


def _arg(name: str, default: int) -> int:
    if name in sys.argv:
        return int(sys.argv[sys.argv.index(name) + 1].replace("_", ""))
    return default


def _pack() -> dict[str, object]:
    ages = [{"code": f"A{i}", "name": f"Nhóm tuổi {i}", "name_en": f"Age group {i}"} for i in range(OPTIONS // 2)]
    sexes = [{"code": "M", "name": "Nam", "name_en": "Male"}, {"code": "F", "name": "Nữ", "name_en": "Female"}]
    codes = [f"B{i:02d}" for i in range(ELEMENTS)]
    return {
        "code": "bench",
        "combos": [
            {
                "code": "bench_sex_age",
                "name": "Giới × tuổi",
                "name_en": "Sex × age",
                "categories": [
                    {"code": "sex", "name": "Giới", "name_en": "Sex", "options": sexes},
                    {"code": "age", "name": "Tuổi", "name_en": "Age", "options": ages},
                ],
            }
        ],
        "data_elements": [
            {
                "code": c,
                "name": c,
                "name_en": c,
                "value_type": "number",
                "aggregation_type": "sum",
                "combo": "bench_sex_age",
            }
            for c in codes
        ],
        "data_sets": [
            {
                "code": "BENCH",
                "name": "Bench",
                "name_en": "Bench",
                "period_type": "monthly",
                "timely_days": 5,
                "elements": codes,
            }
        ],
    }


async def _setup(runtime: Runtime) -> repository.Catalog:
    async with runtime.db.engine.begin() as conn:
        tables = [t for t in Base.metadata.sorted_tables if t.name.startswith("indicator_")]
        await conn.run_sync(lambda sync: Base.metadata.create_all(sync, tables=tables))
    async with runtime.db.transaction() as session:
        units = [service.UnitSource("80", "Tỉnh", "province", None, date(2000, 1, 1), None)]
        units += [
            service.UnitSource(f"{27000 + i}", f"Xã {i}", "commune", "80", date(2000, 1, 1), None)
            for i in range(COMMUNES)
        ]
        await service.sync_units(session, units)
        await service.load_pack(session, _pack())
        catalog = await repository.load_catalog(session)
        ds = catalog.data_sets["BENCH"]
        await repository.add_sources(
            session,
            ds.id,
            [(u.id, AGENCY_ID, "BENCH-AGENCY") for v in catalog.units.values() for u in v if u.level == "commune"],
        )
        return await repository.load_catalog(session)


async def _store(runtime: Runtime, catalog: repository.Catalog, total: int) -> int:
    """Store `total` values in bulk (month after month), then build the rollups as writes would."""
    cocs = catalog.cocs_of_combo[catalog.elements["B00"].combo_id]
    communes = [u.id for v in catalog.units.values() for u in v if u.level == "commune"]
    per_month = ELEMENTS * len(cocs) * len(communes)
    months = max(1, -(-total // per_month))
    month = period_containing(PeriodType.MONTHLY, FIRST_MONTH)
    stored = 0
    for _ in range(months):
        async with runtime.db.transaction() as session:
            ids = await repository.ensure_periods(session, [month])
            pid = ids[month.iso]
            rows: list[dict[str, object]] = []
            for element in (catalog.elements[f"B{i:02d}"] for i in range(ELEMENTS)):
                for coc in cocs:
                    for unit in communes:
                        if stored + len(rows) >= total:
                            break
                        rows.append(
                            {
                                "data_element_id": element.id,
                                "period_id": pid,
                                "unit_id": unit,
                                "coc_id": coc,
                                "agency_id": AGENCY_ID,
                                "value_num": float((unit * 7 + coc * 3 + element.id) % 97),
                                "stored_by": "bench",
                            }
                        )
            for start in range(0, len(rows), 5000):
                await session.execute(insert(models.DataValue), rows[start : start + 5000])
            await repository.refresh_rollup(session, {(pid, e.id) for e in catalog.elements.values()})
            stored += len(rows)
        month = month.next()
    return stored


async def _pivot(runtime: Runtime, catalog: repository.Catalog) -> tuple[float, float, int]:
    """Return p95 seconds of the pivot, p95 of the raw engine sum, and the rows answered."""
    year = period_containing(PeriodType.YEARLY, FIRST_MONTH)
    months = [period_containing(PeriodType.MONTHLY, FIRST_MONTH).shift(i).iso for i in range(12)]
    dims = [
        "dx:" + ";".join(f"B{i:02d}" for i in range(10)),
        "pe:" + ";".join([*months, year.iso]),
        "ou:80;LEVEL-commune",
    ]
    timings, raw_timings, rows = [], [], 0
    for _ in range(PIVOT_RUNS):
        started = time.perf_counter()
        async with runtime.db.session() as session:
            query = analytics.parse_query(catalog, [], dims, [])
            result = await analytics.run(session, catalog, query)
        timings.append(time.perf_counter() - started)
        rows = result.height
        started = time.perf_counter()
        async with runtime.db.engine.connect() as conn:
            await conn.execute(
                text(
                    "SELECT data_element_id, period_id, unit_id, SUM(value_num) FROM indicator_data_value "
                    "WHERE data_element_id IN (SELECT id FROM indicator_data_element WHERE code < 'B10') "
                    "GROUP BY data_element_id, period_id, unit_id"
                )
            )
        raw_timings.append(time.perf_counter() - started)

    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20)[-1]

    return p95(timings), p95(raw_timings), rows


async def _import(runtime: Runtime, catalog: repository.Catalog, count: int) -> float:
    """Import `count` values through the service (checks, rules, history, rollups) into new months."""
    codes = sorted(u.code for v in catalog.units.values() for u in v if u.level == "commune")
    cocs = [catalog.coc_codes[c] for c in catalog.cocs_of_combo[catalog.elements["B00"].combo_id]]
    month = period_containing(PeriodType.MONTHLY, date(2024, 1, 1))
    rows: list[ValueRow] = []
    while len(rows) < count:
        for element in range(ELEMENTS):
            for coc in cocs:
                for code in codes:
                    rows.append(
                        ValueRow(
                            data_element=f"B{element:02d}",
                            period=month.iso,
                            org_unit=code,
                            coc=coc,
                            value=str(1 + len(rows) % 113),
                        )
                    )
        month = month.next()
    rows = rows[:count]
    started = time.perf_counter()
    async with runtime.db.transaction() as session:
        summary = await service.import_rows(
            session,
            catalog,
            rows,
            SYSTEM,
            strategy=ImportStrategy.ALL_OR_NOTHING,
            source=ChangeSource.JSON,
            check_calendar=False,
        )
    elapsed = time.perf_counter() - started
    assert summary.imported == count, summary.conflicts[:3]
    return elapsed


async def run() -> list[Figure]:
    """Run the indicator benchmark and return its figures."""
    values = _arg("--values", 200_000)
    import_values = _arg("--import-values", 100_000)
    async with fresh_database() as url:
        runtime = Runtime(
            Settings(
                env=Environment.TEST,
                database_url=url,
                modules=["identity", "org_unit", "notification", "indicator"],
                run_background=False,
                log_json=False,
            )
        )
        try:
            catalog = await _setup(runtime)
            started = time.perf_counter()
            stored = await _store(runtime, catalog, values)
            store_seconds = time.perf_counter() - started
            pivot, raw, rows = await _pivot(runtime, catalog)
            imported = await _import(runtime, catalog, import_values)
        finally:
            await runtime.db.dispose()
    return [
        Figure(f"indicator bulk store + rollup ({stored:,} values)", stored / store_seconds, "values/s"),
        Figure(
            f"indicator pivot p95 ({stored:,} values, {rows} cells)",
            pivot * 1000,
            "ms",
            "< 1,000 ms at 10 M (PostgreSQL)",
            raw * 1000,
        ),
        Figure(f"indicator import with validation ({import_values:,} values)", imported, "s", "< 30 s"),
    ]
