"""Deadline reminders and late notices through the real notification module, and background imports."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from ioc.core.errors import NotFound
from ioc.core.http import PageParams
from ioc.core.models import OutboxEvent
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.modules import notification, org_unit
from ioc.modules.identity import service as identity_service
from ioc.modules.indicator import deadlines, imports, repository, service
from ioc.modules.indicator.constants import ChangeSource, ImportState, ImportStrategy, NoticeKind
from ioc.modules.indicator.schemas import ValueRow
from ioc.modules.indicator.tasks import register_templates
from ioc.modules.org_unit import service as org_unit_service
from ioc.modules.org_unit.schemas import AgencyCreate

from .conftest import COMMUNE, OTHER_COMMUNE, World
from .test_service import MONTH, tthc


async def deliveries(runtime: Runtime, period: str, agency: str) -> list[notification.DeliveryRead]:
    """The messages sent about one data set period to one agency, oldest first."""
    async with runtime.db.session() as session:
        page = await notification.list_deliveries(
            session,
            notification.DeliveryFilters(correlation=f"indicator:TTHC_MONTHLY:{period}:{agency}"),
            PageParams(limit=50, offset=0),
            reveal_recipients=True,
        )
    return sorted(page.items, key=lambda d: d.id)


async def test_reminder_before_and_late_notice_after_the_deadline_once_each(runtime: Runtime, world: World) -> None:
    await register_templates(runtime)
    async with runtime.db.transaction() as session:
        for code, email in ((COMMUNE, "vanphong@tanninh.example.vn"), (OTHER_COMMUNE, "vp@hungdien.example.vn")):
            agency = await org_unit.get_agency(session, f"UBND-{code}")
            data = agency.model_dump(include={"code", "name", "name_en", "kind", "unit_codes"})
            await org_unit_service.upsert_agency(session, AgencyCreate(**data, email=email))
        await identity_service.create_user(
            session,
            runtime,
            username="chu.tich.tanninh",
            password="Mat-khau-dai-2026!",
            role=Role.AGENCY_HEAD,
            email="chutich@tanninh.example.vn",
            agency_id=world.commune_agency,
        )
        # The other commune submits on time: it hears nothing.
        catalog = await repository.load_catalog(session)
        key = service.report_key(catalog, "TTHC_MONTHLY", MONTH, OTHER_COMMUNE, None, world.other_staff)
        await service.transition(session, catalog, key, "submit", world.other_staff)
    ds = catalog.data_sets["TTHC_MONTHLY"]
    due = service.deadline(ds, key.period)
    assert due == date(2026, 11, 5)  # 31 October + 5 days (tthc.json timely_days)
    assert deadlines.reminder_from(runtime.calendar, due) == date(2026, 11, 2)  # 3 working days: Mon, Tue, Wed

    async def run(day: date) -> dict[str, int]:
        async with runtime.db.transaction() as session:
            return await deadlines.send_deadline_notices(session, runtime, today=day)

    await run(date(2026, 11, 1))
    assert await deliveries(runtime, MONTH, f"UBND-{COMMUNE}") == []
    await run(date(2026, 11, 2))
    await run(date(2026, 11, 4))
    reminded = await deliveries(runtime, MONTH, f"UBND-{COMMUNE}")
    assert [(d.recipient, d.template_key) for d in reminded] == [("vanphong@tanninh.example.vn", "indicator.reminder")]
    assert "05/11/2026" in reminded[0].body
    assert COMMUNE in reminded[0].body
    assert reminded[0].subject.startswith("Sắp đến hạn")
    assert await deliveries(runtime, MONTH, f"UBND-{OTHER_COMMUNE}") == []
    await run(date(2026, 11, 6))
    await run(date(2026, 11, 9))
    late = [d for d in await deliveries(runtime, MONTH, f"UBND-{COMMUNE}") if d.template_key == "indicator.late"]
    assert sorted(d.recipient for d in late) == ["chutich@tanninh.example.vn", "vanphong@tanninh.example.vn"]
    assert late[0].subject.startswith("Quá hạn")
    async with runtime.db.session() as session:
        sent = await repository.notices_sent(session, ds.id, MONTH, NoticeKind.LATE.value)
    assert sent == {world.commune_agency}


def rows_for(units: list[str]) -> list[ValueRow]:
    """Balanced months for several communes, numbered rows."""
    return [
        row.model_copy(update={"row": i + 1}) for i, row in enumerate(r for unit in units for r in tthc(unit, MONTH))
    ]


async def test_a_background_import_reports_progress_and_keeps_the_row_errors(
    runtime: Runtime, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "IMPORT_CHUNK", 3)
    bad = ValueRow(data_element="TTHC_WITHDRAWN", period=MONTH, org_unit=COMMUNE, value="hai", row=99, cell="F99")
    rows = [*rows_for([COMMUNE]), bad]
    async with runtime.db.transaction() as session:
        refused = await imports.start_import(
            session, rows, world.staff, strategy=ImportStrategy.ALL_OR_NOTHING, source=ChangeSource.CSV
        )
        stored = await imports.start_import(
            session, rows, world.staff, strategy=ImportStrategy.STORE_VALID, source=ChangeSource.CSV
        )
    assert (stored.status, stored.processed, stored.total, stored.percent) == (ImportState.QUEUED, 0, 8, 0)
    async with runtime.db.session() as session:
        await imports.run_import(session, refused.id)
        await session.commit()
        await imports.run_import(session, stored.id)
        await session.commit()
    async with runtime.db.session() as session:
        failed = await imports.get_import(session, refused.id, world.staff)
        done = await imports.get_import(session, stored.id, world.head)
        record = await repository.get_import(session, stored.id)
        assert record is not None
        assert record.rows == []
        with pytest.raises(NotFound):
            await imports.get_import(session, stored.id, world.other_staff)
    assert (failed.status, failed.summary and failed.summary.imported) == (ImportState.FAILED, 0)
    assert failed.summary is not None
    assert [(c.row, c.cell) for c in failed.summary.conflicts] == [(99, "F99")]
    assert (done.status, done.processed, done.percent) == (ImportState.DONE, 8, 100)
    assert done.summary is not None
    assert (done.summary.status, done.summary.imported, done.summary.refused) == ("WARNING", 7, 1)
    assert done.summary.conflicts[0].error == "invalid_value"
    async with runtime.db.session() as session:
        catalog = await repository.load_catalog(session)
        ids = await repository.period_ids(session, [MONTH])
        unit = catalog.current_unit(COMMUNE)
        assert unit is not None
        elements = catalog.data_sets["TTHC_MONTHLY"].element_ids
        values = await repository.values_for(session, elements, list(ids.values()), [unit.id])
        events = (
            await session.scalars(select(OutboxEvent).where(OutboxEvent.name == "indicator.import_completed"))
        ).all()
    assert len(values) == 7
    # One event for the whole background import, not one per step.
    assert [(e.payload["import_id"], e.payload["imported"], e.payload["refused"]) for e in events] == [
        (stored.id, 7, 1)
    ]
    assert events[0].payload["data_sets"] == ["TTHC_MONTHLY"]
