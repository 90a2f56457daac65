"""Durable timers: deadlines flagged and escalated, unrated reports closed, old rate-limit records purged."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from ioc.core.http import PageParams
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.core.time import utc_now
from ioc.modules import notification
from ioc.modules.citizen_report import service
from ioc.modules.citizen_report.constants import CLOSE_JOB, DEADLINE_JOB, ReportStatus
from ioc.modules.citizen_report.models import RateHit, Report, TimelineEntry
from ioc.modules.citizen_report.photos import MediaStore
from ioc.modules.citizen_report.schemas import AssignInput, ResolveInput

from .conftest import COMMUNE_AGENCY, Submit, agency_id, events_named, move_jobs_to_the_past, pending_jobs, principal


async def _report(runtime: Runtime, report_id: int) -> Report:
    async with runtime.db.session() as session:
        report = await session.get(Report, report_id)
        assert report is not None
        return report


async def _staff_timeline(runtime: Runtime, report_id: int) -> list[tuple[str, bool]]:
    async with runtime.db.session() as session:
        rows = await session.execute(
            select(TimelineEntry.action, TimelineEntry.public)
            .where(TimelineEntry.report_id == report_id)
            .order_by(TimelineEntry.id)
        )
        return [(action, public) for action, public in rows]


async def _deliveries(runtime: Runtime, report_id: int) -> list[str]:
    async with runtime.db.session() as session:
        page = await notification.list_deliveries(
            session,
            notification.DeliveryFilters(correlation=f"citizen_report:{report_id}"),
            PageParams(limit=50, offset=0),
            reveal_recipients=True,
        )
    return [d.recipient for d in page.items]


async def _give_agency_an_email(runtime: Runtime, code: str, email: str) -> None:
    # org_unit has no API to edit agency contacts yet (see its README); administrators set them in the database.
    async with runtime.db.transaction() as session:
        await session.execute(
            text("UPDATE org_unit_agency SET email = :email WHERE code = :code"), {"email": email, "code": code}
        )


async def _assigned_at(runtime: Runtime, submit: Submit, moment: datetime) -> int:
    operator = principal(runtime, Role.HOTLINE_OPERATOR)
    result = await submit(now=moment)
    async with runtime.db.transaction() as session:
        await service.accept(session, runtime, result.id, operator, now=moment + timedelta(minutes=30))
        await service.assign(session, runtime, result.id, operator, AssignInput(), now=moment + timedelta(hours=1))
    return result.id


async def test_an_approaching_deadline_is_flagged_and_the_agency_warned(runtime: Runtime, submit: Submit) -> None:
    await _give_agency_an_email(runtime, COMMUNE_AGENCY, "ubnd.tanninh@example.vn")
    report_id = await _assigned_at(runtime, submit, utc_now())
    approaching = [
        j for j in await pending_jobs(runtime, DEADLINE_JOB) if j.dedupe_key and j.dedupe_key.endswith("approaching")
    ]
    assert len(approaching) == 1
    await move_jobs_to_the_past(runtime, DEADLINE_JOB, utc_now() - timedelta(minutes=1))
    await runtime.drain()
    report = await _report(runtime, report_id)
    assert report.approaching is True
    assert report.overdue is False
    (event,) = await events_named(runtime, "citizen_report.deadline_approaching")
    assert event["phase"] == "resolution"
    assert event["agency_code"] == COMMUNE_AGENCY
    assert ("deadline_approaching", False) in await _staff_timeline(runtime, report_id)
    assert "ubnd.tanninh@example.vn" in await _deliveries(runtime, report_id)


async def test_a_missed_deadline_is_flagged_overdue_once(runtime: Runtime, submit: Submit) -> None:
    await _give_agency_an_email(runtime, COMMUNE_AGENCY, "ubnd.tanninh@example.vn")
    report_id = await _assigned_at(runtime, submit, utc_now() - timedelta(days=30))
    await runtime.drain()
    report = await _report(runtime, report_id)
    assert report.overdue is True
    assert report.approaching is False
    assert await events_named(runtime, "citizen_report.deadline_approaching") == []  # already past: straight to overdue
    (event,) = await events_named(runtime, "citizen_report.overdue")
    assert event["due_at"] == report.resolve_due_at.isoformat().replace("+00:00", "Z")  # type: ignore[union-attr]
    assert [a for a, _ in await _staff_timeline(runtime, report_id)].count("overdue") == 1
    assert (await _deliveries(runtime, report_id)).count("ubnd.tanninh@example.vn") == 2  # assignment + overdue
    async with runtime.db.session() as session:
        assert (await service.kpis(session, runtime)).overdue == 1


async def test_an_agency_without_e_mail_is_skipped_with_a_log_line(
    runtime: Runtime, submit: Submit, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="ioc.modules.citizen_report.service"):
        report_id = await _assigned_at(runtime, submit, utc_now() - timedelta(days=30))
        await runtime.drain()
    assert (await _report(runtime, report_id)).overdue is True
    assert await _deliveries(runtime, report_id) == []
    assert any("no e-mail" in record.getMessage() for record in caplog.records)


async def test_a_timer_for_a_deadline_that_moved_does_nothing(runtime: Runtime, submit: Submit) -> None:
    report_id = await _assigned_at(runtime, submit, utc_now())
    async with runtime.db.transaction() as session:
        flagged = await service.check_deadline(
            session,
            runtime,
            {"report_id": report_id, "kind": "overdue", "due_at": datetime(2020, 1, 1, tzinfo=UTC).isoformat()},
        )
    assert flagged is None
    assert (await _report(runtime, report_id)).overdue is False


async def test_a_resolved_report_nobody_rates_is_closed_when_the_window_ends(runtime: Runtime, submit: Submit) -> None:
    start = utc_now() - timedelta(days=10)
    report_id = await _assigned_at(runtime, submit, start)
    staff = principal(runtime, Role.AGENCY_STAFF, await agency_id(runtime, COMMUNE_AGENCY))
    async with runtime.db.transaction() as session:
        await service.resolve(
            session,
            runtime,
            report_id,
            staff,
            ResolveInput(result="Đã thu gom."),
            store=MediaStore.under(runtime.settings.data_dir),
            now=start + timedelta(hours=3),
        )
    (job,) = await pending_jobs(runtime, CLOSE_JOB)
    assert job.run_at < utc_now()  # 7 days after the resolution, 10 days ago
    await runtime.drain()
    report = await _report(runtime, report_id)
    assert report.status == ReportStatus.CLOSED
    assert report.closed_at is not None
    assert len(await events_named(runtime, "citizen_report.closed")) == 1
    assert await pending_jobs(runtime, DEADLINE_JOB) == []


async def test_old_rate_limit_records_are_purged(runtime: Runtime, submit: Submit) -> None:
    async with runtime.db.transaction() as session:
        session.add(RateHit(client_key="a" * 64, at=utc_now() - timedelta(hours=2)))
        session.add(RateHit(client_key="a" * 64, at=utc_now()))
    async with runtime.db.transaction() as session:
        assert await service.purge_rate_hits(session) == 1
    async with runtime.db.session() as session:
        assert len((await session.scalars(select(RateHit))).all()) == 1
