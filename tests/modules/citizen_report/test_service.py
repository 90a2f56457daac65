"""The rules of citizen reports, through the service: intake, routing, deadlines and the whole workflow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from ioc.core.errors import Forbidden
from ioc.core.http import PageParams
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.core.time import PROVINCE_TZ, to_local
from ioc.modules import notification
from ioc.modules.citizen_report import service
from ioc.modules.citizen_report.constants import CLOSE_JOB, DEADLINE_JOB, ReportStatus
from ioc.modules.citizen_report.exceptions import (
    AlreadyRated,
    CategoryCodeTaken,
    CategoryInUse,
    ExtensionNotPending,
    InvalidAttribute,
    InvalidRatingToken,
    InvalidTransition,
    NotAssignedAgency,
    OutsideProvince,
    PhotoRequired,
    UnknownAgency,
    UnknownCategory,
)
from ioc.modules.citizen_report.models import Follower, Report, TimelineEntry
from ioc.modules.citizen_report.photos import MediaStore, PhotoUpload
from ioc.modules.citizen_report.schemas import (
    AssignInput,
    CategoryCreate,
    CategoryUpdate,
    ExtensionDecision,
    ExtensionInput,
    LinkInput,
    MergeInput,
    RatingInput,
    RejectInput,
    ResolveInput,
    ReturnInput,
)

from .conftest import (
    COMMUNE_AGENCY,
    FAR_IN_OTHER_COMMUNE,
    INSIDE,
    NEAR,
    OUTSIDE,
    ROAD_AGENCY,
    TAN_NINH,
    Categories,
    Submit,
    agency_id,
    events_named,
    jpeg_bytes,
    pending_jobs,
    principal,
)

T = TypeVar("T")


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """Return a province-time moment as UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=PROVINCE_TZ).astimezone(UTC)


async def act(runtime: Runtime, work: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    """Run a service function in its own committed transaction."""
    async with runtime.db.transaction() as session:
        return await work(session, runtime, *args, **kwargs)


async def load(runtime: Runtime, report_id: int) -> Report:
    """Read a report row."""
    async with runtime.db.session() as session:
        report = await session.get(Report, report_id)
        assert report is not None
        return report


async def actions(runtime: Runtime, report_id: int) -> list[str]:
    """Return a report's timeline actions in order."""
    async with runtime.db.session() as session:
        rows = await session.scalars(
            select(TimelineEntry.action).where(TimelineEntry.report_id == report_id).order_by(TimelineEntry.id)
        )
        return list(rows)


def photo() -> list[PhotoUpload]:
    """One real photo."""
    return [PhotoUpload("proof.jpg", jpeg_bytes())]


class Staff:
    """Principals of every role, the agency ones attached to the commune committee of Tân Ninh."""

    def __init__(self, runtime: Runtime, commune_agency: int, other_agency: int) -> None:
        self.operator = principal(runtime, Role.HOTLINE_OPERATOR, name="op")
        self.agency = principal(runtime, Role.AGENCY_STAFF, commune_agency, name="cv")
        self.head = principal(runtime, Role.AGENCY_HEAD, commune_agency, name="ld")
        self.other_agency = principal(runtime, Role.AGENCY_STAFF, other_agency, name="cv2")
        self.other_head = principal(runtime, Role.AGENCY_HEAD, other_agency, name="ld2")
        self.citizen = principal(runtime, Role.CITIZEN, name="dan")
        self.leader = principal(runtime, Role.LEADER, name="lanhdao")
        self.admin = principal(runtime, Role.ADMIN, name="admin")


@pytest.fixture
async def staff(runtime: Runtime, categories: Categories) -> Staff:
    """Principals of every role."""
    return Staff(runtime, await agency_id(runtime, COMMUNE_AGENCY), await agency_id(runtime, ROAD_AGENCY))


async def assigned(runtime: Runtime, submit: Submit, staff: Staff, **fields: Any) -> int:
    """Submit a waste report, accept it and assign it to the commune; return its id."""
    result = await submit(**fields)
    await act(runtime, service.accept, result.id, staff.operator)
    await act(runtime, service.assign, result.id, staff.operator, AssignInput())
    return result.id


async def resolved(runtime: Runtime, submit: Submit, staff: Staff, **fields: Any) -> tuple[int, str, str]:
    """Take a report to resolved; return (id, tracking code, rating token)."""
    result = await submit(**fields)
    await act(runtime, service.accept, result.id, staff.operator)
    await act(runtime, service.assign, result.id, staff.operator, AssignInput())
    store = MediaStore.under(runtime.settings.data_dir)
    await act(
        runtime, service.resolve, result.id, staff.agency, ResolveInput(result="Đã thu gom toàn bộ rác."), store=store
    )
    return result.id, result.tracking_code, result.rating_token


class TestCategories:
    async def test_a_category_naming_an_unknown_agency_is_refused(
        self, runtime: Runtime, categories: Categories
    ) -> None:
        data = CategoryCreate(code="den", name="Đèn chiếu sáng hỏng", default_agency_code="80-KHONG-CO")
        with pytest.raises(UnknownAgency):
            await act(runtime, lambda s, r: service.create_category(s, data))

    async def test_category_codes_are_unique(self, runtime: Runtime, categories: Categories) -> None:
        with pytest.raises(CategoryCodeTaken):
            await act(runtime, lambda s, r: service.create_category(s, CategoryCreate(code="o-ga", name="Trùng")))

    def test_a_list_question_needs_options(self) -> None:
        with pytest.raises(ValidationError):
            CategoryCreate(
                code="x", name="X", attributes=[{"code": "kind", "datatype": "singlevaluelist", "required": True}]
            )

    async def test_a_used_category_cannot_be_deleted_but_can_be_deactivated(
        self, runtime: Runtime, submit: Submit
    ) -> None:
        await submit()
        with pytest.raises(CategoryInUse):
            await act(runtime, lambda s, r: service.delete_category(s, "rac-thai"))
        async with runtime.db.session() as session:
            current = await service.get_category(session, "rac-thai")
        update = CategoryUpdate(
            **current.model_dump(exclude={"id", "code", "created_at", "updated_at"}) | {"active": False}
        )
        await act(runtime, lambda s, r: service.update_category(s, "rac-thai", update))
        async with runtime.db.session() as session:
            assert [c.code for c in await service.list_categories(session)] == ["o-ga"]
        with pytest.raises(UnknownCategory):
            await submit()

    async def test_an_unused_category_can_be_deleted(self, runtime: Runtime, categories: Categories) -> None:
        await act(runtime, lambda s, r: service.delete_category(s, "o-ga"))
        async with runtime.db.session() as session:
            assert [c.code for c in await service.list_categories(session, include_inactive=True)] == ["rac-thai"]


class TestRouting:
    async def test_fixed_agency_commune_default_and_override(
        self, runtime: Runtime, submit: Submit, staff: Staff
    ) -> None:
        road = await submit("o-ga", source="hotline", as_principal=staff.operator)
        assert road.suggested_agency_code == ROAD_AGENCY
        waste_here = await submit("rac-thai", INSIDE)
        waste_there = await submit("rac-thai", FAR_IN_OTHER_COMMUNE)
        assert waste_here.suggested_agency_code == COMMUNE_AGENCY
        assert waste_there.suggested_agency_code == "UBND-25480"
        async with runtime.db.transaction() as session:
            await service.create_category(
                session,
                CategoryCreate(
                    code="o-nhiem",
                    name="Ô nhiễm môi trường",
                    default_agency_code="80-SNNMT",
                    agency_overrides={TAN_NINH: COMMUNE_AGENCY},
                ),
            )
        overridden = await submit("o-nhiem", INSIDE, attributes={})
        default = await submit("o-nhiem", FAR_IN_OTHER_COMMUNE, attributes={})
        assert overridden.suggested_agency_code == COMMUNE_AGENCY
        assert default.suggested_agency_code == "80-SNNMT"

    async def test_an_override_for_an_unknown_unit_is_refused(self, runtime: Runtime, categories: Categories) -> None:
        data = CategoryCreate(code="cx", name="Cây xanh", agency_overrides={"99999": ROAD_AGENCY})
        with pytest.raises(Exception, match="99999"):
            await act(runtime, lambda s, r: service.create_category(s, data))


class TestIntake:
    async def test_a_point_outside_the_province_is_refused_in_both_languages(self, submit: Submit) -> None:
        with pytest.raises(OutsideProvince) as caught:
            await submit(point=OUTSIDE)
        assert caught.value.status_code == 422
        assert "ngoài địa bàn tỉnh" in caught.value.message_vi
        assert "outside the province" in caught.value.message_en

    async def test_an_unknown_category_is_refused(self, submit: Submit) -> None:
        with pytest.raises(UnknownCategory):
            await submit("khong-co")

    async def test_a_photo_is_required_online_but_not_from_the_hotline(self, submit: Submit, staff: Staff) -> None:
        with pytest.raises(PhotoRequired):
            await submit("o-ga")
        by_phone = await submit("o-ga", source="hotline", as_principal=staff.operator)
        assert by_phone.status == ReportStatus.RECEIVED

    async def test_only_operators_record_hotline_calls(self, submit: Submit, staff: Staff) -> None:
        with pytest.raises(Forbidden):
            await submit(source="hotline", as_principal=staff.citizen)
        with pytest.raises(Forbidden):
            await submit(source="hotline")

    async def test_answers_are_checked_against_the_category_questions(self, runtime: Runtime, submit: Submit) -> None:
        with pytest.raises(InvalidAttribute, match="volume"):
            await submit(attributes={})
        with pytest.raises(InvalidAttribute):
            await submit(attributes={"volume": "enormous"})
        with pytest.raises(InvalidAttribute):
            await submit(attributes={"volume": "small", "colour": "green"})
        with pytest.raises(InvalidAttribute):
            await submit(attributes={"volume": "small", "since": "last week"})
        ok = await submit(attributes={"volume": "small", "since": "2026-11-20T08:00:00+07:00"})
        report = await load(runtime, ok.id)
        assert report.attributes == {"volume": "small", "since": "2026-11-20T08:00:00+07:00"}

    async def test_tracking_codes_are_sequential_per_year_in_province_time(self, submit: Submit) -> None:
        late_2025 = await submit(now=local(2025, 12, 31, 23, 0))
        early_2026 = await submit(now=local(2026, 1, 1, 0, 30))
        next_2026 = await submit(now=local(2026, 1, 1, 9, 0))
        assert late_2025.tracking_code == "PA-2025-000001"
        assert early_2026.tracking_code == "PA-2026-000001"
        assert next_2026.tracking_code == "PA-2026-000002"

    async def test_submission_is_on_the_timeline_and_announced_without_personal_data(
        self, runtime: Runtime, submit: Submit
    ) -> None:
        result = await submit(
            reporter_name="Nguyễn Văn Ba", reporter_phone="0912 345 678", reporter_email="ba@example.vn"
        )
        assert await actions(runtime, result.id) == ["submitted"]
        (event,) = await events_named(runtime, "citizen_report.submitted")
        assert event["tracking_code"] == result.tracking_code
        assert event["unit_code"] == TAN_NINH
        assert event["category_code"] == "rac-thai"
        assert event["source"] == "web"
        text = str(event)
        for secret in ("Nguyễn", "0912", "ba@example.vn", "Rác thải đổ trộm"):
            assert secret not in text

    async def test_the_reporter_is_told_by_e_mail(self, runtime: Runtime, submit: Submit) -> None:
        result = await submit(reporter_email="ba@example.vn")
        async with runtime.db.session() as session:
            page = await notification.list_deliveries(
                session,
                notification.DeliveryFilters(correlation=f"citizen_report:{result.id}"),
                PageParams(limit=10, offset=0),
                reveal_recipients=True,
            )
        assert [d.recipient for d in page.items] == ["ba@example.vn"]


class TestDeadlines:
    async def test_the_acceptance_deadline_skips_the_weekend(self, submit: Submit) -> None:
        result = await submit(now=local(2026, 8, 28, 15, 0))  # Friday, 4 working hours
        assert result.accept_due_at is not None
        assert to_local(result.accept_due_at) == datetime(2026, 8, 31, 9, 30, tzinfo=PROVINCE_TZ)

    async def test_working_hours_skip_the_national_day_holidays(self, submit: Submit) -> None:
        result = await submit(now=local(2026, 8, 31, 16, 0))  # Monday; 1–2 September are holidays
        assert result.accept_due_at is not None
        assert to_local(result.accept_due_at) == datetime(2026, 9, 3, 10, 30, tzinfo=PROVINCE_TZ)

    async def test_the_resolution_deadline_counts_working_days(
        self, runtime: Runtime, submit: Submit, staff: Staff
    ) -> None:
        result = await submit(now=local(2026, 8, 31, 9, 0))
        await act(runtime, service.accept, result.id, staff.operator, now=local(2026, 8, 31, 9, 30))
        await act(runtime, service.assign, result.id, staff.operator, AssignInput(), now=local(2026, 8, 31, 10, 0))
        report = await load(runtime, result.id)
        # 3 working days from Monday 10:00: Tue 1 and Wed 2 September are off, so Thu, Fri, Mon.
        assert report.resolve_due_at is not None
        assert to_local(report.resolve_due_at) == datetime(2026, 9, 7, 10, 0, tzinfo=PROVINCE_TZ)
        assert report.phase == "resolution"
        assert report.due_at == report.resolve_due_at

    async def test_two_timers_are_set_per_deadline_and_replaced_when_it_moves(
        self, runtime: Runtime, submit: Submit, staff: Staff
    ) -> None:
        result = await submit(now=local(2026, 8, 28, 15, 0))
        timers = {job.dedupe_key: job for job in await pending_jobs(runtime, DEADLINE_JOB)}
        approaching = timers[f"{DEADLINE_JOB}:{result.id}:approaching"]
        overdue = timers[f"{DEADLINE_JOB}:{result.id}:overdue"]
        # 80% of 4 working hours = 3 h 12 min: Friday 15:00–17:00, then Monday 07:30 + 1 h 12 min.
        assert to_local(approaching.run_at) == datetime(2026, 8, 31, 8, 42, tzinfo=PROVINCE_TZ)
        assert overdue.run_at == result.accept_due_at
        await act(runtime, service.accept, result.id, staff.operator)
        await act(runtime, service.assign, result.id, staff.operator, AssignInput())
        report = await load(runtime, result.id)
        timers = {job.dedupe_key: job for job in await pending_jobs(runtime, DEADLINE_JOB)}
        assert timers[f"{DEADLINE_JOB}:{result.id}:overdue"].run_at == report.resolve_due_at
        assert len(timers) == 2


class TestWorkflow:
    async def test_a_report_goes_from_submission_to_closure(
        self, runtime: Runtime, submit: Submit, staff: Staff
    ) -> None:
        report_id, code, token = await resolved(runtime, submit, staff)
        report = await load(runtime, report_id)
        assert report.status == ReportStatus.RESOLVED
        assert report.resolved_on_time is True
        assert report.due_at is None
        closed = await act(runtime, service.rate, code, RatingInput(token=token, rating="satisfied"))
        assert closed.status == ReportStatus.CLOSED
        assert await actions(runtime, report_id) == [
            "submitted", "accepted", "assigned", "resolved", "rated", "closed",
        ]  # fmt: skip
        for name in ("accepted", "assigned", "resolved", "rated", "closed"):
            assert len(await events_named(runtime, f"citizen_report.{name}")) == 1, name
        assert await pending_jobs(runtime, DEADLINE_JOB) == []
        assert await pending_jobs(runtime, CLOSE_JOB) == []

    async def test_the_agency_starts_then_resolves_with_a_proof_photo(
        self, runtime: Runtime, submit: Submit, staff: Staff
    ) -> None:
        result = await submit("o-ga", source="hotline", as_principal=staff.operator)
        await act(runtime, service.accept, result.id, staff.operator)
        road = principal(runtime, Role.AGENCY_STAFF, await agency_id(runtime, ROAD_AGENCY))
        await act(runtime, service.assign, result.id, staff.operator, AssignInput())
        await act(runtime, service.start, result.id, road)
        store = MediaStore.under(runtime.settings.data_dir)
        with pytest.raises(PhotoRequired):
            await act(runtime, service.resolve, result.id, road, ResolveInput(result="Đã vá ổ gà."), store=store)
        await act(
            runtime, service.resolve, result.id, road, ResolveInput(result="Đã vá ổ gà."), uploads=photo(), store=store
        )
        async with runtime.db.session() as session:
            read = await service.get_report(session, result.id, staff.leader)
        assert [p.kind for p in read.photos] == ["proof"]
        assert read.status == "resolved"
        assert read.result_text == "Đã vá ổ gà."

    async def test_actions_out_of_order_are_refused(self, runtime: Runtime, submit: Submit, staff: Staff) -> None:
        result = await submit()
        with pytest.raises(InvalidTransition) as caught:
            await act(runtime, service.assign, result.id, staff.operator, AssignInput())
        assert caught.value.status_code == 409
        assert "Mới tiếp nhận" in caught.value.message_vi

    async def test_only_the_assigned_agency_handles_the_report(
        self, runtime: Runtime, submit: Submit, staff: Staff
    ) -> None:
        report_id = await assigned(runtime, submit, staff)
        with pytest.raises(NotAssignedAgency):
            await act(runtime, service.start, report_id, staff.other_agency)
        with pytest.raises(Forbidden):
            await act(runtime, service.start, report_id, staff.operator)
        with pytest.raises(Forbidden):
            await act(runtime, service.accept, report_id, staff.agency)
        started = await act(runtime, service.start, report_id, staff.agency)
        assert started.status == ReportStatus.IN_PROGRESS

    async def test_a_rejected_report_keeps_its_public_reason_and_no_timers(
        self, runtime: Runtime, submit: Submit, staff: Staff
    ) -> None:
        result = await submit()
        await act(runtime, service.reject, result.id, staff.operator, RejectInput(reason="spam", note="Quảng cáo"))
        report = await load(runtime, result.id)
        assert report.status == ReportStatus.REJECTED
        assert report.reject_reason == "spam"
        assert await pending_jobs(runtime, DEADLINE_JOB) == []
        async with runtime.db.session() as session:
            public = await service.track(session, result.tracking_code)
        assert public.published is False
        assert public.description is None
        assert public.reject_reason_label == "Tin rác, không có nội dung phản ánh"
        (event,) = await events_named(runtime, "citizen_report.rejected")
        assert event["reason"] == "spam"

    async def test_an_agency_returns_a_report_and_the_operator_reassigns_it(
        self, runtime: Runtime, submit: Submit, staff: Staff
    ) -> None:
        report_id = await assigned(runtime, submit, staff)
        returned = await act(
            runtime,
            service.return_report,
            report_id,
            staff.agency,
            ReturnInput(reason="Tuyến đường do Sở Xây dựng quản lý.", suggested_agency_code=ROAD_AGENCY),
        )
        assert returned.status == ReportStatus.RETURNED
        assert returned.agency_code is None
        assert returned.phase == "intake"
        assert returned.suggested_agency_code == ROAD_AGENCY
        (event,) = await events_named(runtime, "citizen_report.returned")
        assert event["returned_by_agency_code"] == COMMUNE_AGENCY
        again = await act(runtime, service.assign, report_id, staff.operator, AssignInput())
        assert again.agency_code == ROAD_AGENCY
        assert again.status == ReportStatus.ASSIGNED

    async def test_an_extension_is_asked_by_staff_and_granted_by_the_agency_head(
        self, runtime: Runtime, submit: Submit, staff: Staff
    ) -> None:
        report_id = await assigned(runtime, submit, staff)
        before = (await load(runtime, report_id)).resolve_due_at
        assert before is not None
        await act(
            runtime, service.request_extension, report_id, staff.agency, ExtensionInput(days=2, reason="Chờ xe ép rác.")
        )
        with pytest.raises(ExtensionNotPending):
            await act(
                runtime, service.request_extension, report_id, staff.agency, ExtensionInput(days=1, reason="Lần nữa")
            )
        with pytest.raises(Forbidden):
            await act(runtime, service.approve_extension, report_id, staff.agency, ExtensionDecision())
        with pytest.raises(NotAssignedAgency):
            await act(runtime, service.approve_extension, report_id, staff.other_head, ExtensionDecision())
        granted = await act(runtime, service.approve_extension, report_id, staff.head, ExtensionDecision())
        assert granted.resolve_due_at == runtime.calendar.add_working_days(before, 2)
        assert granted.due_at == granted.resolve_due_at
        assert not granted.extension_pending
        assert granted.extension_count == 1
        (event,) = await events_named(runtime, "citizen_report.extension_approved")
        assert event["days"] == 2

    async def test_a_declined_extension_leaves_the_deadline(
        self, runtime: Runtime, submit: Submit, staff: Staff
    ) -> None:
        report_id = await assigned(runtime, submit, staff)
        before = (await load(runtime, report_id)).resolve_due_at
        await act(
            runtime,
            service.request_extension,
            report_id,
            staff.agency,
            ExtensionInput(days=3, reason="Thiếu nhân lực."),
        )
        declined = await act(runtime, service.decline_extension, report_id, staff.head, ExtensionDecision(note="Không"))
        assert declined.resolve_due_at == before
        assert not declined.extension_pending
        with pytest.raises(ExtensionNotPending):
            await act(runtime, service.decline_extension, report_id, staff.head, ExtensionDecision())


class TestRating:
    async def test_a_wrong_token_is_refused(self, runtime: Runtime, submit: Submit, staff: Staff) -> None:
        _id, code, _token = await resolved(runtime, submit, staff)
        with pytest.raises(InvalidRatingToken):
            await act(runtime, service.rate, code, RatingInput(token="wrong-token-123", rating="satisfied"))

    async def test_a_result_is_rated_once(self, runtime: Runtime, submit: Submit, staff: Staff) -> None:
        _id, code, token = await resolved(runtime, submit, staff)
        await act(runtime, service.rate, code, RatingInput(token=token, rating="satisfied"))
        with pytest.raises(AlreadyRated):
            await act(runtime, service.rate, code, RatingInput(token=token, rating="not_satisfied"))

    async def test_not_satisfied_within_the_window_reopens_with_a_new_deadline(
        self, runtime: Runtime, submit: Submit, staff: Staff
    ) -> None:
        report_id, code, token = await resolved(runtime, submit, staff)
        reopened = await act(
            runtime, service.rate, code, RatingInput(token=token, rating="not_satisfied", comment="Vẫn còn rác")
        )
        assert reopened.status == ReportStatus.REOPENED
        assert reopened.reopen_count == 1
        assert reopened.phase == "resolution"
        assert reopened.due_at is not None
        assert reopened.resolved_at is None
        assert reopened.rating == "not_satisfied"
        assert await pending_jobs(runtime, CLOSE_JOB) == []
        with pytest.raises(InvalidTransition):
            await act(runtime, service.rate, code, RatingInput(token=token, rating="satisfied"))
        store = MediaStore.under(runtime.settings.data_dir)
        await act(runtime, service.start, report_id, staff.agency)
        await act(
            runtime, service.resolve, report_id, staff.agency, ResolveInput(result="Đã dọn lần hai."), store=store
        )
        closed = await act(runtime, service.rate, code, RatingInput(token=token, rating="satisfied"))
        assert closed.status == ReportStatus.CLOSED
        assert closed.rating == "satisfied"
        assert len(await events_named(runtime, "citizen_report.reopened")) == 1

    async def test_not_satisfied_after_the_window_closes_instead(
        self, runtime: Runtime, submit: Submit, staff: Staff
    ) -> None:
        _id, code, token = await resolved(runtime, submit, staff)
        late = datetime.now(UTC) + timedelta(days=8)
        result = await act(runtime, service.rate, code, RatingInput(token=token, rating="not_satisfied"), now=late)
        assert result.status == ReportStatus.CLOSED

    async def test_rating_before_resolution_is_refused(self, runtime: Runtime, submit: Submit) -> None:
        result = await submit()
        with pytest.raises(InvalidTransition):
            await act(
                runtime, service.rate, result.tracking_code, RatingInput(token=result.rating_token, rating="satisfied")
            )


class TestDuplicates:
    async def test_open_reports_of_the_same_category_within_250_m_are_suggested(
        self, runtime: Runtime, submit: Submit, staff: Staff
    ) -> None:
        first = await submit(point=INSIDE)
        second = await submit(point=NEAR)
        assert second.possible_duplicates == []  # the first one is not public yet
        await act(runtime, service.accept, first.id, staff.operator)
        third = await submit(point=NEAR)
        (candidate,) = third.possible_duplicates
        assert candidate.tracking_code == first.tracking_code
        assert candidate.id is None
        assert 95 < candidate.distance_m < 105
        async with runtime.db.session() as session:
            for_staff = await service.duplicates_of(session, third.id)
            elsewhere = await service.nearby(session, "rac-thai", *FAR_IN_OTHER_COMMUNE, None)
            other_category = await service.nearby(session, "o-ga", *INSIDE, staff.leader)
        assert {c.tracking_code for c in for_staff} == {first.tracking_code, second.tracking_code}
        assert elsewhere == []
        assert other_category == []

    async def test_merging_makes_the_reporter_a_follower_who_gets_updates(
        self, runtime: Runtime, submit: Submit, staff: Staff
    ) -> None:
        target_id = await assigned(runtime, submit, staff)
        duplicate = await submit(point=NEAR, reporter_email="tu@example.vn")
        merged = await act(runtime, service.merge, duplicate.id, staff.operator, MergeInput(into_report_id=target_id))
        assert merged.status == ReportStatus.MERGED
        assert merged.merged_into_id == target_id
        async with runtime.db.session() as session:
            followers = (await session.scalars(select(Follower).where(Follower.report_id == target_id))).all()
            public = await service.track(session, duplicate.tracking_code)
        assert [f.email for f in followers] == ["tu@example.vn"]
        target_code = (await load(runtime, target_id)).tracking_code
        assert public.merged_into == target_code
        store = MediaStore.under(runtime.settings.data_dir)
        await act(runtime, service.resolve, target_id, staff.agency, ResolveInput(result="Đã xử lý."), store=store)
        async with runtime.db.session() as session:
            page = await notification.list_deliveries(
                session,
                notification.DeliveryFilters(correlation=f"citizen_report:{target_id}"),
                PageParams(limit=10, offset=0),
                reveal_recipients=True,
            )
        assert "tu@example.vn" in [d.recipient for d in page.items]
        with pytest.raises(InvalidTransition):
            await act(runtime, service.merge, duplicate.id, staff.operator, MergeInput(into_report_id=target_id))

    async def test_linking_is_symmetric_and_idempotent(self, runtime: Runtime, submit: Submit, staff: Staff) -> None:
        one = await submit()
        two = await submit(point=FAR_IN_OTHER_COMMUNE)
        await act(runtime, service.link, one.id, staff.operator, LinkInput(other_report_id=two.id))
        await act(runtime, service.link, two.id, staff.operator, LinkInput(other_report_id=one.id))
        async with runtime.db.session() as session:
            first = await service.get_report(session, one.id, staff.leader)
            second = await service.get_report(session, two.id, staff.leader)
        assert first.linked_report_ids == [two.id]
        assert second.linked_report_ids == [one.id]
        assert len(await events_named(runtime, "citizen_report.linked")) == 1


class TestPersonalData:
    async def test_contact_details_are_shown_to_the_hotline_and_the_assigned_agency_only(
        self, runtime: Runtime, submit: Submit, staff: Staff
    ) -> None:
        report_id = await assigned(runtime, submit, staff, reporter_name="Trần Thị Tư", reporter_phone="0908123456")
        async with runtime.db.session() as session:
            seen = {
                name: (await service.get_report(session, report_id, who)).reporter
                for name, who in vars(staff).items()
                if who.has("citizen_report:read")
            }
        assert seen["operator"] is not None
        assert seen["operator"].name == "Trần Thị Tư"
        assert seen["admin"] is not None
        assert seen["agency"] is not None
        assert seen["agency"].phone == "0908123456"
        assert seen["other_agency"] is None
        assert seen["leader"] is None
        assert seen["other_head"] is None

    async def test_an_anonymous_reporter_is_hidden_from_the_agency(
        self, runtime: Runtime, submit: Submit, staff: Staff
    ) -> None:
        report_id = await assigned(runtime, submit, staff, reporter_phone="0908123456", anonymous=True)
        async with runtime.db.session() as session:
            assert (await service.get_report(session, report_id, staff.agency)).reporter is None
            assert (await service.get_report(session, report_id, staff.operator)).reporter is not None

    async def test_no_event_of_a_whole_workflow_carries_personal_data(
        self, runtime: Runtime, submit: Submit, staff: Staff
    ) -> None:
        _id, code, token = await resolved(
            runtime,
            submit,
            staff,
            reporter_name="Lê Văn Năm",
            reporter_phone="0987654321",
            reporter_email="nam@example.vn",
        )
        await act(
            runtime, service.rate, code, RatingInput(token=token, rating="not_satisfied", comment="Số nhà 12 vẫn bẩn")
        )
        for name in ("submitted", "accepted", "assigned", "resolved", "rated", "reopened"):
            for payload in await events_named(runtime, f"citizen_report.{name}"):
                text = str(payload)
                for secret in ("Lê Văn", "0987654321", "nam@example.vn", "Số nhà 12", token):
                    assert secret not in text, (name, secret)
