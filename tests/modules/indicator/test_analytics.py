"""Analytics: totals up the unit tree, periods rolled up, indicators with year to date and offsets, unit history."""

from __future__ import annotations

import random
from datetime import date

import pytest

from ioc.core.errors import IocError
from ioc.core.runtime import Runtime
from ioc.modules.indicator import analytics, repository, seed, service
from ioc.modules.indicator.constants import ChangeSource, ImportStrategy
from ioc.modules.indicator.schemas import ValueRow

from .conftest import COMMUNE, OTHER_COMMUNE, World

# Two old communes merged (fully) into Phường Tân Ninh 25459 in 2025, per the old→new reference table.
OLD_INTO_COMMUNE = ("25459", "25462")


def row(de: str, pe: str, ou: str, value: float, coc: str | None = None) -> ValueRow:
    """One value."""
    return ValueRow(data_element=de, period=pe, org_unit=ou, coc=coc, value=value)


async def query(
    runtime: Runtime, dimensions: list[str], filters: list[str] | None = None, remap: bool = False
) -> dict[tuple[str, str, str], float]:
    async with runtime.db.session() as session:
        catalog = await repository.load_catalog(session)
        parsed = analytics.parse_query(catalog, await repository.indicators(session), dimensions, filters or [], remap)
        result = await analytics.run(session, catalog, parsed)
    assert [h.name for h in result.headers] == ["dx", "pe", "ou", "value"]
    return {(r[0], r[1], r[2]): float(r[3]) for r in result.rows}


async def test_pivot_aggregates_units_periods_and_indicators(runtime: Runtime, world: World) -> None:
    rows = []
    for unit, base in ((COMMUNE, 10), (OTHER_COMMUNE, 20)):
        for month, extra in (("202507", 0), ("202508", 1), ("202509", 2)):
            rows += [
                row("TTHC_RECEIVED", month, unit, base + extra, "ONLINE"),
                row("TTHC_RECEIVED", month, unit, 10, "IN_PERSON"),
                row("TTHC_RESOLVED", month, unit, 6, "EARLY"),
                row("TTHC_RESOLVED", month, unit, 2, "ON_TIME"),
                row("TTHC_RESOLVED", month, unit, 2, "LATE"),
            ]
    for old in OLD_INTO_COMMUNE:
        rows.append(row("TTHC_RECEIVED", "202506", old, 7, "ONLINE"))
    rows += [row("SE_BUDGET_REVENUE", m, "80", v) for m, v in (("202601", 100), ("202602", 200), ("202603", 300))]
    rows += [
        row("SE_BUDGET_REVENUE_PLAN", "2026", "80", 1200),
        row("SE_CPI", "202601", "80", 103),
        row("SE_CPI", "202602", "80", 105),
    ]
    async with runtime.db.transaction() as session:
        catalog = await repository.load_catalog(session)
        await service.assign_old_unit_reporters(session, catalog, "TTHC_MONTHLY")
        catalog = await repository.load_catalog(session)
        summary = await service.import_rows(
            session,
            catalog,
            rows,
            world.admin,
            strategy=ImportStrategy.ALL_OR_NOTHING,
            source=ChangeSource.JSON,
            check_calendar=False,
        )
    assert summary.refused == 0, summary.conflicts

    cells = await query(
        runtime, ["dx:TTHC_RECEIVED;TTHC_RECEIVED.ONLINE;TTHC_ONTIME_RATE", "pe:202507;2025Q3", f"ou:80;{COMMUNE}"]
    )
    assert cells[("TTHC_RECEIVED", "202507", "80")] == 50  # 10+10 and 20+10, summed up to the province
    assert cells[("TTHC_RECEIVED.ONLINE", "2025Q3", COMMUNE)] == 33  # 10+11+12 rolled up to the quarter
    assert cells[("TTHC_ONTIME_RATE", "2025Q3", "80")] == 80.0  # (6+2)/10 × 100

    se = await query(
        runtime, ["dx:SE_BUDGET_YTD;SE_BUDGET_VS_PLAN;SE_CPI;TTHC_RECEIVED_GROWTH", "pe:202603;2026Q1", "ou:80"]
    )
    assert se[("SE_BUDGET_YTD", "202603", "80")] == 600
    assert se[("SE_BUDGET_VS_PLAN", "202603", "80")] == 50.0  # 600 of the 1,200 plan; the plan stands for its year
    assert se[("SE_CPI", "2026Q1", "80")] == 104.0  # an index averages, it does not add up

    growth = await query(runtime, ["dx:TTHC_RECEIVED_GROWTH", "pe:202508", "ou:80"])
    assert growth[("TTHC_RECEIVED_GROWTH", "202508", "80")] == pytest.approx(52 / 50 * 100, abs=0.1)

    old_figures = await query(runtime, ["dx:TTHC_RECEIVED", "pe:202506", f"ou:OLD-{OLD_INTO_COMMUNE[0]};{COMMUNE}"])
    assert old_figures == {("TTHC_RECEIVED", "202506", OLD_INTO_COMMUNE[0]): 7}
    remapped = await query(runtime, ["dx:TTHC_RECEIVED", "pe:202506", f"ou:{COMMUNE};80"], remap=True)
    assert remapped == {("TTHC_RECEIVED", "202506", COMMUNE): 14, ("TTHC_RECEIVED", "202506", "80"): 14}

    filtered = await query(runtime, ["dx:TTHC_RECEIVED", f"ou:{COMMUNE};{OTHER_COMMUNE}"], ["pe:202507;202508"])
    assert filtered[("TTHC_RECEIVED", "202507+202508", COMMUNE)] == 41

    for bad in (
        ["dx:NOPE", "pe:202507", "ou:80"],
        ["dx:TTHC_RECEIVED", "pe:2025-07", "ou:80"],
        ["dx:TTHC_RECEIVED", "ou:80"],
        ["co:x"],
    ):
        with pytest.raises(IocError):
            await query(runtime, bad)


async def test_education_demo_years_are_valid_and_give_plausible_rates(runtime: Runtime, world: World) -> None:
    years = seed.school_years(date(2026, 11, 26))
    assert [y.iso for y in years] == ["2025Sep", "2026Sep"]
    rows = seed.education_rows(years, random.Random(seed.SEED))
    async with runtime.db.transaction() as session:
        catalog = await repository.load_catalog(session)
        summary = await service.import_rows(
            session,
            catalog,
            rows,
            world.admin,
            strategy=ImportStrategy.ALL_OR_NOTHING,
            source=ChangeSource.SEED,
            check_calendar=False,
        )
    assert (summary.imported, summary.refused, summary.violations) == (len(rows), 0, [])
    assert len(rows) == 2 * (3 * 8 + 2)  # per year: 3 levels × (schools, classes, students, teachers) × 2, + exam
    figures = await query(
        runtime,
        [
            "dx:ED_GRADUATION_RATE;ED_STUDENTS_PER_CLASS;ED_STUDENTS_PER_TEACHER;ED_STUDENTS.PRIMARY_FEMALE",
            "pe:2025Sep;2026Sep",
            "ou:80",
        ],
    )
    for year in ("2025Sep", "2026Sep"):
        assert 98.5 <= figures[("ED_GRADUATION_RATE", year, "80")] <= 99.6
        assert 30 <= figures[("ED_STUDENTS_PER_CLASS", year, "80")] <= 40
        assert 15 <= figures[("ED_STUDENTS_PER_TEACHER", year, "80")] <= 25
        assert 110_000 <= figures[("ED_STUDENTS.PRIMARY_FEMALE", year, "80")] <= 130_000
