"""The live demo activity: one step submits a realistic report, located, routed and announced like a real one."""

from __future__ import annotations

import random

from sqlalchemy import select

from ioc.core.runtime import Runtime
from ioc.modules import org_unit
from ioc.modules.citizen_report import service
from ioc.modules.citizen_report.demo_activity import DemoReporter
from ioc.modules.citizen_report.models import Report
from ioc.modules.citizen_report.seed import DEMO_CATEGORIES

from .conftest import events_named


async def test_a_demo_step_submits_a_routed_report_inside_a_commune(runtime: Runtime, units: None) -> None:
    flooding = next(d for d in DEMO_CATEGORIES if d.data.code == "ngap-nuoc")
    async with runtime.db.transaction() as session:
        await service.create_category(session, flooding.data)
    reporter = DemoReporter(rng=random.Random(7))

    result = await reporter.step(runtime)

    assert result is not None
    async with runtime.db.session() as session:
        report = await session.scalar(select(Report).where(Report.id == result.id))
        assert report is not None
        located = await org_unit.locate_point(session, report.lat, report.lon)
    assert located is not None
    assert located.code == report.unit_code
    # Flooding goes to the People's Committee of the commune holding the point.
    assert report.suggested_agency_code == f"UBND-{report.unit_code}"
    assert report.description in {s.format(street=report.address.split(",")[0]) for s in flooding.sentences}
    assert report.status == "received"
    assert report.accept_due_at is not None
    assert report.source in {"web", "hotline"}
    assert reporter.last_flood == (report.lat, report.lon)
    [submitted] = await events_named(runtime, "citizen_report.submitted")
    assert submitted["tracking_code"] == result.tracking_code


async def test_a_demo_step_does_nothing_without_a_demo_category(runtime: Runtime, units: None) -> None:
    assert await DemoReporter(rng=random.Random(7)).step(runtime) is None
