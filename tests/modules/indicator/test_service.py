"""Imports, checks, approval, outliers, completeness and reconciliation on a real database."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from ioc.core.models import OutboxEvent
from ioc.core.runtime import Runtime
from ioc.modules.indicator import repository, service
from ioc.modules.indicator.constants import ChangeSource, ImportStrategy, OutlierMethod
from ioc.modules.indicator.exceptions import (
    ImportRefused,
    InvalidReportTransition,
    NotReportingAgency,
    ValidationBlocksSubmit,
)
from ioc.modules.indicator.models import ValueHistory
from ioc.modules.indicator.periods import parse_period
from ioc.modules.indicator.schemas import ValueRow

from .conftest import COMMUNE, OTHER_COMMUNE, World

TODAY = date(2026, 11, 26)
MONTH = "202610"


def tthc(unit: str, period: str, online: int = 30, late: int = 2, row0: int = 1) -> list[ValueRow]:
    """A balanced month of dossier statistics for one commune (received 60 = resolved 50 + in progress 10)."""
    cells = [
        ("TTHC_RECEIVED", "CARRIED_OVER", 10),
        ("TTHC_RECEIVED", "ONLINE", online),
        ("TTHC_RECEIVED", "IN_PERSON", 50 - online),
        ("TTHC_RESOLVED", "EARLY", 20),
        ("TTHC_RESOLVED", "ON_TIME", 28),
        ("TTHC_RESOLVED", "LATE", late),
        ("TTHC_IN_PROGRESS", "WITHIN", 10 + (2 - late)),
    ]
    return [
        ValueRow(data_element=de, period=period, org_unit=unit, coc=coc, value=str(v), row=row0 + i)
        for i, (de, coc, v) in enumerate(cells)
    ]


async def run_import(runtime: Runtime, rows: list[ValueRow], actor, strategy=ImportStrategy.ALL_OR_NOTHING, **kw):  # type: ignore[no-untyped-def]
    async with runtime.db.transaction() as session:
        catalog = await repository.load_catalog(session)
        return await service.import_rows(
            session, catalog, rows, actor, strategy=strategy, source=ChangeSource.JSON, today=TODAY, **kw
        )


async def test_a_clean_month_is_stored_with_history_and_no_violation(runtime: Runtime, world: World) -> None:
    summary = await run_import(runtime, tthc(COMMUNE, MONTH), world.staff)
    assert (summary.status, summary.imported, summary.refused, summary.violations) == ("SUCCESS", 7, 0, [])
    again = await run_import(
        runtime,
        [
            *tthc(COMMUNE, MONTH)[:-1],
            ValueRow(
                data_element="TTHC_IN_PROGRESS", period=MONTH, org_unit=COMMUNE, coc="WITHIN", value="1.000", row=9
            ),
        ],
        world.staff,
        vietnamese_numbers=True,
    )
    assert (again.ignored, again.updated) == (6, 1)
    assert [v.rule for v in again.violations] == ["TTHC_BALANCE"]
    async with runtime.db.session() as session:
        history = (await session.execute(ValueHistory.__table__.select().order_by(ValueHistory.id))).all()
    changed = [h for h in history if h.old_value is not None]
    assert [(h.old_value, h.new_value, h.changed_by) for h in changed] == [("10", "1000", "can_bo")]
    assert len(history) == 8


async def test_bad_rows_are_reported_precisely_and_nothing_is_stored_by_default(runtime: Runtime, world: World) -> None:
    rows = [
        *tthc(COMMUNE, MONTH),
        ValueRow(data_element="NO_SUCH", period=MONTH, org_unit=COMMUNE, value="1", row=20),
        ValueRow(data_element="TTHC_WITHDRAWN", period="2026Q3", org_unit=COMMUNE, value="1", row=21),
        ValueRow(data_element="TTHC_WITHDRAWN", period=MONTH, org_unit=COMMUNE, value="1,5", row=22, cell="F22"),
        ValueRow(data_element="TTHC_WITHDRAWN", period=MONTH, org_unit="99999", value="1", row=23),
        ValueRow(data_element="TTHC_WITHDRAWN", period=MONTH, org_unit=OTHER_COMMUNE, value="1", row=24),
        ValueRow(data_element="TTHC_RECEIVED", period=MONTH, org_unit=COMMUNE, coc="FAX", value="1", row=25),
        ValueRow(data_element="TTHC_WITHDRAWN", period="202507", org_unit=COMMUNE, value="1", row=26),
    ]
    with pytest.raises(ImportRefused) as refused:
        await run_import(runtime, rows, world.staff, vietnamese_numbers=True)
    errors = {c["row"]: c["error"] for c in refused.value.detail["conflicts"]}
    assert errors == {
        20: "unknown_data_element",
        21: "period_type_mismatch",
        22: "invalid_value",
        23: "unknown_org_unit",
        24: "not_your_agency",
        25: "unknown_category_option_combo",
        26: "period_closed",
    }
    cell = next(c for c in refused.value.detail["conflicts"] if c["row"] == 22)
    assert cell["cell"] == "F22"
    assert "phải là số nguyên" in cell["message"]
    async with runtime.db.session() as session:
        assert await repository.values_for(session, [1, 2, 3, 4], [1, 2, 3], [1, 2, 3, 4, 5]) == []
    partial = await run_import(runtime, rows, world.staff, strategy=ImportStrategy.STORE_VALID, vietnamese_numbers=True)
    assert (partial.status, partial.imported, partial.refused) == ("WARNING", 7, 7)


async def test_approval_workflow_locks_entry_until_unlocked(runtime: Runtime, world: World) -> None:
    unbalanced = tthc(COMMUNE, MONTH)
    unbalanced[0].value = "99"
    await run_import(runtime, unbalanced, world.staff)
    async with runtime.db.transaction() as session:
        catalog = await repository.load_catalog(session)
        key = service.report_key(catalog, "TTHC_MONTHLY", MONTH, COMMUNE, None, world.staff)
        with pytest.raises(ValidationBlocksSubmit) as blocked:
            await service.transition(session, catalog, key, "submit", world.staff)
    assert blocked.value.detail["violations"][0]["rule"] == "TTHC_BALANCE"
    await run_import(runtime, tthc(COMMUNE, MONTH), world.staff)
    async with runtime.db.transaction() as session:
        catalog = await repository.load_catalog(session)
        key = service.report_key(catalog, "TTHC_MONTHLY", MONTH, COMMUNE, None, world.staff)
        submitted = await service.transition(session, catalog, key, "submit", world.staff)
        assert submitted.status == "submitted"
        with pytest.raises(NotReportingAgency):
            await service.transition(session, catalog, key, "approve", world.other_staff)
        assert (await service.transition(session, catalog, key, "approve", world.head)).status == "approved"
        with pytest.raises(InvalidReportTransition):
            await service.transition(session, catalog, key, "approve", world.head)
    locked = await run_import(
        runtime, tthc(COMMUNE, MONTH, online=31), world.staff, strategy=ImportStrategy.STORE_VALID
    )
    assert {c.error for c in locked.conflicts} == {"report_locked"}
    async with runtime.db.transaction() as session:
        catalog = await repository.load_catalog(session)
        key = service.report_key(catalog, "TTHC_MONTHLY", MONTH, COMMUNE, None, world.staff)
        assert (await service.transition(session, catalog, key, "accept", world.leader)).status == "accepted"
        opened = await service.transition(session, catalog, key, "unlock", world.leader, "Sai số liệu trực tuyến")
        assert (opened.status, opened.unlock_reason) == ("open", "Sai số liệu trực tuyến")
    changed = await run_import(runtime, tthc(COMMUNE, MONTH, online=31), world.staff)
    assert changed.updated == 2
    async with runtime.db.session() as session:
        events = (
            await session.scalars(
                select(OutboxEvent).where(OutboxEvent.name.like("indicator.%")).order_by(OutboxEvent.id)
            )
        ).all()
    assert [e.name for e in events] == [
        "indicator.import_completed",
        "indicator.import_completed",
        "indicator.report_submitted",
        "indicator.report_approved",
        "indicator.report_accepted",
        "indicator.report_unlocked",
        "indicator.import_completed",
    ]
    unlocked = events[5].payload
    assert (unlocked["data_set"], unlocked["period"], unlocked["org_unit"], unlocked["agency"]) == (
        "TTHC_MONTHLY",
        MONTH,
        COMMUNE,
        f"UBND-{COMMUNE}",
    )
    assert (unlocked["from_status"], unlocked["status"]) == ("accepted", "open")
    # Codes only: neither the people who acted nor the reason typed for the unlock.
    assert "lanh_dao" not in str(unlocked)
    assert "Sai số liệu" not in str(unlocked)
    assert (events[-1].payload["updated"], events[-1].payload["data_sets"]) == (2, ["TTHC_MONTHLY"])
    async with runtime.db.session() as session:
        catalog = await repository.load_catalog(session)
        report = await service.reconciliation(session, catalog, MONTH, f"UBND-{COMMUNE}", today=TODAY)
    assert sum(1 for i in report.items if i.kind == "changed_after_approval") == 2


async def test_outlier_late_agency_and_rates_show_in_reconciliation(runtime: Runtime, world: World) -> None:
    months = [parse_period(MONTH).shift(-i).iso for i in range(11, -1, -1)]
    rows: list[ValueRow] = []
    for index, month in enumerate(months):
        online = 300 if month == MONTH else 28 + index % 4
        rows.extend(tthc(COMMUNE, month, online=online if online < 50 else 30))
        if month == MONTH:
            rows[-6].value = str(online)  # the planted outlier (online intake ten times the usual)
            rows[-1].value = str(int(rows[-1].value) + online - 30)
    summary = await run_import(runtime, rows, world.admin, check_calendar=False)
    assert summary.refused == 0
    assert summary.violations == []
    async with runtime.db.transaction() as session:
        catalog = await repository.load_catalog(session)
        key = service.report_key(catalog, "TTHC_MONTHLY", MONTH, COMMUNE, None, world.staff)
        await service.transition(session, catalog, key, "submit", world.staff)
    async with runtime.db.session() as session:
        catalog = await repository.load_catalog(session)
        ds = catalog.data_sets["TTHC_MONTHLY"]
        units = [catalog.current_unit(COMMUNE).id]  # type: ignore[union-attr]
        z = await service.outliers(session, catalog, ds, parse_period(MONTH), units)
        modified = await service.outliers(session, catalog, ds, parse_period(MONTH), units, OutlierMethod.MOD_Z_SCORE)
        rates = await service.completeness(session, catalog, ds, parse_period(MONTH), today=TODAY)
        report = await service.reconciliation(session, catalog, MONTH, None, today=TODAY)
    # The planted value and the in-progress count that balances it stand out; nothing else does.
    assert [(o.category_option_combo, o.value) for o in z] == [("WITHIN", 280.0), ("ONLINE", 300.0)]
    assert ("ONLINE", 300.0) in [(o.category_option_combo, o.value) for o in modified]
    # Submitted today, three weeks after the 5-day deadline of October: received but not on time.
    assert (rates[0].expected, rates[0].actual, rates[0].on_time) == (2, 1, 0)
    assert rates[0].reporting_rate == 50.0
    assert f"UBND-{OTHER_COMMUNE}" in rates[0].late
    kinds = {(i.kind, i.org_unit) for i in report.items}
    assert ("outlier", COMMUNE) in kinds
    assert ("late", OTHER_COMMUNE) in kinds
    assert all(i.link.startswith("/indicators/entry?ds=") for i in report.items)


def test_vietnamese_numbers_are_read_the_vietnamese_way() -> None:
    assert service.parse_number("1.234.567,5", vietnamese=True) == 1234567.5
    assert service.parse_number("1234,5", vietnamese=True) == 1234.5
    assert service.parse_number("1.234", vietnamese=True) == 1234
    assert service.parse_number("1.5", vietnamese=True) == 1.5
    assert service.parse_number("12.5") == 12.5
    with pytest.raises(ValueError, match="1,5"):
        service.parse_number("1,5")
    with pytest.raises(ValueError, match="nan"):
        service.parse_number("nan")
