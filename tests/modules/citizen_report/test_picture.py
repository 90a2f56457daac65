"""Operations picture contributions, statistics computed in SQL, message templates and the demo staff accounts."""

from __future__ import annotations

from datetime import timedelta

from ioc.core.http import PageParams
from ioc.core.module import PictureContext
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.core.time import utc_now
from ioc.modules import notification
from ioc.modules.citizen_report import service
from ioc.modules.citizen_report.constants import Rating
from ioc.modules.citizen_report.photos import MediaStore
from ioc.modules.citizen_report.schemas import AssignInput, RatingInput, ReportFilters, ResolveInput

from .conftest import COMMUNE_AGENCY, FAR_IN_OTHER_COMMUNE, TAN_NINH, Submit, principal


async def _resolve(runtime: Runtime, report_id: int, hours: float | None = None) -> None:
    """Accept, assign and resolve a report, `hours` after it was submitted (default: now)."""
    operator = principal(runtime, Role.HOTLINE_OPERATOR)
    admin = principal(runtime, Role.ADMIN)
    async with runtime.db.transaction() as session:
        report = await service.get_report(session, report_id, admin)
        created = report.created_at
        soon = None if hours is None else created + timedelta(minutes=5)
        await service.accept(session, runtime, report_id, operator, now=soon)
        await service.assign(session, runtime, report_id, operator, AssignInput(), now=soon)
        await service.resolve(
            session, runtime, report_id, admin, ResolveInput(result="Đã xử lý xong."),
            store=MediaStore.under(runtime.settings.data_dir),
            now=None if hours is None else created + timedelta(hours=hours),
        )  # fmt: skip


async def test_kpi_tiles_and_the_map_layer_follow_the_unit_drill_down(runtime: Runtime, submit: Submit) -> None:
    here = await submit()
    there = await submit(point=FAR_IN_OTHER_COMMUNE)
    unseen = await submit()
    now = utc_now() - timedelta(days=1)
    await submit(now=now)  # yesterday: the trend of the "received today" tile
    await _resolve(runtime, here.id)
    async with runtime.db.transaction() as session:
        await service.accept(session, runtime, there.id, principal(runtime, Role.HOTLINE_OPERATOR))
    rating = RatingInput(token=here.rating_token, rating=Rating.SATISFIED)
    async with runtime.db.transaction() as session:
        await service.rate(session, runtime, here.tracking_code, rating)
    manifest = runtime.module("citizen_report")
    assert manifest is not None
    tiles = {tile.key: tile for tile in manifest.kpis}
    (layer,) = manifest.map_layers
    async with runtime.db.session() as session:
        province = PictureContext(session=session, principal=None, now=utc_now())
        commune = PictureContext(session=session, principal=None, now=utc_now(), unit_code=TAN_NINH)
        received = await tiles["citizen_report.received_today"].compute(province)
        assert (received.value, received.previous) == (3, 1)
        assert (await tiles["citizen_report.received_today"].compute(commune)).value == 2
        on_time = await tiles["citizen_report.on_time_rate"].compute(province)
        assert (on_time.value, on_time.unit, on_time.status) == (100.0, "%", "good")
        assert (await tiles["citizen_report.satisfaction"].compute(commune)).value == 100.0
        overdue = await tiles["citizen_report.overdue"].compute(province)
        # Yesterday's report may be past its intake deadline, depending on working hours: same figure as the inbox.
        late = await service.list_reports(
            session, ReportFilters(overdue=True), PageParams(limit=1, offset=0), principal(runtime, Role.ADMIN)
        )
        assert (overdue.value, overdue.higher_is_better) == (late.total, False)
        assert overdue.status == ("normal" if late.total == 0 else "warning")
        everywhere = await layer.features(province)
        local = await layer.features(commune)
    codes = {f["properties"]["code"] for f in everywhere["features"]}
    assert codes == {here.tracking_code, there.tracking_code}  # never the unaccepted ones
    assert unseen.tracking_code not in codes
    assert [f["properties"]["code"] for f in local["features"]] == [here.tracking_code]
    assert set(local["features"][0]["properties"]) == {"id", "code", "status", "category"}


async def test_statistics_give_the_median_time_to_resolve_per_group(runtime: Runtime, submit: Submit) -> None:
    hours = (2, 30, 6)
    # Submitted long enough ago that each result is published in the past.
    earlier = utc_now() - timedelta(hours=max(hours) + 1)
    reports = [
        await submit(now=earlier),
        await submit(now=earlier),
        await submit(point=FAR_IN_OTHER_COMMUNE, now=earlier),
    ]
    for report, spent in zip(reports, hours, strict=True):
        await _resolve(runtime, report.id, spent)
    await submit()  # received, not accepted: not in the public figures
    async with runtime.db.session() as session:
        figures = await service.stats(session)
    assert figures.total.received == 3
    assert figures.total.resolved == 3
    assert figures.total.median_hours_to_resolve == 6.0
    by_unit = {row.key: row for row in figures.by_unit}
    assert by_unit[TAN_NINH].median_hours_to_resolve == 16.0  # the mean of the two middle values, 2 and 30
    assert by_unit[TAN_NINH].received == 2
    assert figures.by_agency[0].key == COMMUNE_AGENCY


async def test_reporters_get_the_modules_own_messages_in_their_language(runtime: Runtime, submit: Submit) -> None:
    result = await submit(reporter_email="nguoidan@example.vn")
    await _resolve(runtime, result.id)
    async with runtime.db.session() as session:
        page = await notification.list_deliveries(
            session,
            notification.DeliveryFilters(correlation=f"citizen_report:{result.id}"),
            PageParams(limit=20, offset=0),
            reveal_recipients=True,
        )
    sent = {d.template_key: d for d in page.items if d.recipient == "nguoidan@example.vn"}
    assert set(sent) == {
        "citizen_report.submitted",
        "citizen_report.accepted",
        "citizen_report.assigned",
        "citizen_report.resolved",
    }
    assert all(d.status != notification.DeliveryStatus.DEAD for d in sent.values())
    assert sent["citizen_report.submitted"].subject == f"[Phản ánh {result.tracking_code}] Mới tiếp nhận"
    assert "UBND phường Tân Ninh" in sent["citizen_report.assigned"].body
    assert "Đã xử lý xong." in sent["citizen_report.resolved"].body
    assert f"/phan-anh/{result.tracking_code}" in sent["citizen_report.resolved"].body
