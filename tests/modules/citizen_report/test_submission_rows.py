"""A submission writes its rows with prepared statements: the same rows, audit entry included, as the ORM would."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from ioc.core.audit import snapshot
from ioc.core.events import record_event
from ioc.core.jobs import schedule_job
from ioc.core.models import AuditEntry, Job, OutboxEvent
from ioc.core.runtime import Runtime
from ioc.core.security import Principal, PrincipalKind, Role
from ioc.modules.citizen_report import service
from ioc.modules.citizen_report.constants import DEADLINE_JOB, SCOPE_SUBMIT, ReportStatus
from ioc.modules.citizen_report.events import ReportSubmitted
from ioc.modules.citizen_report.models import Photo, RateHit, Report, TimelineEntry
from ioc.modules.citizen_report.photos import MediaStore, PhotoUpload
from ioc.modules.citizen_report.schemas import ReportCreate, SubmitResult

from .conftest import INSIDE, NEAR, Categories, Submit, jpeg_bytes, principal

APP = Principal(
    kind=PrincipalKind.API_KEY, id=None, name="app-1022", role=Role.CITIZEN, scopes=frozenset({SCOPE_SUBMIT})
)
MONDAY_10 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 10:00 in the province
SUBMITTED = select(OutboxEvent).where(OutboxEvent.name == ReportSubmitted.event_name)


async def _submit_as_app(
    runtime: Runtime, *, point: tuple[float, float] = INSIDE, uploads: list[PhotoUpload] | None = None
) -> SubmitResult:
    """Submit as a citizens' app does through the API: the key is the audited actor, with the request's meta."""
    data = ReportCreate(
        category_code="rac-thai",
        description="Rác thải đổ trộm bên lề đường, bốc mùi nhiều ngày.",
        attributes={"volume": "large"},
        lat=point[0],
        lon=point[1],
        source="app",
        reporter_name="Trần Thị B",
        reporter_phone="0912345678",
        reporter_email="b@example.vn",
    )
    async with runtime.db.transaction() as session:
        session.sync_session.info["actor"] = APP
        session.sync_session.info["request_meta"] = {"request_id": "req-42", "ip": "203.0.113.7"}
        return await service.submit(
            session,
            runtime,
            data,
            principal=APP,
            uploads=uploads or [],
            client_ip="203.0.113.7",
            store=MediaStore.under(runtime.settings.data_dir),
            now=MONDAY_10,
        )


async def _audit_of(runtime: Runtime, entity_type: str) -> list[AuditEntry]:
    async with runtime.db.session() as session:
        stmt = select(AuditEntry).where(AuditEntry.entity_type == entity_type).order_by(AuditEntry.id)
        return list((await session.scalars(stmt)).all())


async def test_the_report_is_audited_as_a_flush_would_audit_it(runtime: Runtime, categories: Categories) -> None:
    result = await _submit_as_app(runtime)
    (entry,) = await _audit_of(runtime, Report.__tablename__)
    async with runtime.db.session() as session:
        stored = await session.get(Report, result.id)
        assert stored is not None
        expected = snapshot(stored)
    assert (entry.action, entry.entity_id, entry.before) == ("create", str(result.id), None)
    assert (entry.actor_kind, entry.actor_name, entry.actor_id) == ("api_key", "app-1022", None)
    assert (entry.request_id, entry.ip) == ("req-42", "203.0.113.7")
    assert entry.after == expected
    # Personal data and the rating token stay out of the audit log.
    for private in ("reporter_name", "reporter_phone", "reporter_email", "rating_token_hash"):
        assert entry.after[private] == "***"
    assert entry.after["tracking_code"] == result.tracking_code


async def test_an_anonymous_submission_has_no_actor_and_no_audit_entry(runtime: Runtime, submit: Submit) -> None:
    await submit()
    assert await _audit_of(runtime, Report.__tablename__) == []


async def test_every_row_of_a_submission_is_written_in_its_transaction(
    runtime: Runtime, categories: Categories
) -> None:
    result = await _submit_as_app(runtime)
    async with runtime.db.session() as session:
        report = await session.get(Report, result.id)
        assert report is not None
        (step,) = (await session.scalars(select(TimelineEntry).where(TimelineEntry.report_id == report.id))).all()
        jobs = (await session.scalars(select(Job).where(Job.name == DEADLINE_JOB).order_by(Job.id))).all()
        (event,) = (
            await session.scalars(select(OutboxEvent).where(OutboxEvent.name == ReportSubmitted.event_name))
        ).all()
        hits = (await session.scalars(select(RateHit))).all()
    assert report.tracking_code == result.tracking_code
    assert (report.status, report.phase, report.reporter_email) == (ReportStatus.RECEIVED, "intake", "b@example.vn")
    assert report.attributes == {"volume": "large"}
    assert (step.action, step.to_status, step.actor_kind, step.public) == ("submitted", "received", "citizen", True)
    assert [job.dedupe_key for job in jobs] == [
        f"{DEADLINE_JOB}:{report.id}:approaching",
        f"{DEADLINE_JOB}:{report.id}:overdue",
    ]
    assert jobs[1].run_at == report.accept_due_at
    assert event.payload["report_id"] == report.id
    assert event.payload["tracking_code"] == report.tracking_code
    assert "reporter_email" not in event.payload
    assert len(hits) == 1


async def test_timer_and_event_rows_match_what_the_kernel_writes(runtime: Runtime, categories: Categories) -> None:
    """The rows written next to the report carry every value `schedule_job` and `record_event` would give them."""
    await _submit_as_app(runtime)
    async with runtime.db.transaction() as session:
        mine = (await session.scalars(select(Job).where(Job.name == DEADLINE_JOB).order_by(Job.id))).all()
        (mine_event,) = (await session.scalars(SUBMITTED)).all()
        await schedule_job(session, DEADLINE_JOB, mine[0].payload, run_at=mine[0].run_at, dedupe_key="kernel-made")
        again = ReportSubmitted.model_validate(mine_event.payload | {"event_id": "0" * 32})
        record_event(session, again)
    async with runtime.db.session() as session:
        kernel_job = await session.scalar(select(Job).where(Job.dedupe_key == "kernel-made"))
        kernel_event = await session.scalar(select(OutboxEvent).where(OutboxEvent.event_id == "0" * 32))
    assert kernel_job is not None
    assert kernel_event is not None
    columns = [c.key for c in Job.__table__.columns if c.key not in {"id", "dedupe_key", "created_at"}]
    assert {c: getattr(mine[0], c) for c in columns} == {c: getattr(kernel_job, c) for c in columns}
    columns = [c.key for c in OutboxEvent.__table__.columns if c.key not in {"id", "event_id", "payload"}]
    assert {c: getattr(mine_event, c) for c in columns} == {c: getattr(kernel_event, c) for c in columns}
    assert mine_event.payload | {"event_id": "0" * 32} == kernel_event.payload


async def test_photos_still_go_through_the_unit_of_work_and_are_audited(
    runtime: Runtime, categories: Categories
) -> None:
    result = await _submit_as_app(runtime, uploads=[PhotoUpload("rac.jpg", jpeg_bytes())])
    (photo_entry,) = await _audit_of(runtime, Photo.__tablename__)
    (report_entry,) = await _audit_of(runtime, Report.__tablename__)
    assert photo_entry.after["report_id"] == result.id
    assert report_entry.id < photo_entry.id  # the report first, as when both were flushed


async def test_the_limit_and_the_suggestions_come_from_one_query(runtime: Runtime, categories: Categories) -> None:
    """The public's submissions read rate records and nearby reports together; both answers stay right."""
    first = await _submit_as_app(runtime)
    async with runtime.db.transaction() as session:
        operator = principal(runtime, Role.HOTLINE_OPERATOR)
        await service.accept(session, runtime, first.id, operator)
    second = await _submit_as_app(runtime, point=NEAR)
    (candidate,) = second.possible_duplicates
    assert candidate.tracking_code == first.tracking_code
    async with runtime.db.session() as session:
        assert len((await session.scalars(select(RateHit))).all()) == 2
