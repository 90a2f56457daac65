"""Manifest of the citizen_report module: citizens' field reports (phản ánh hiện trường, hotline 1022)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from ioc.core.module import ChartSource, FeedEntry, KpiTile, Manifest, MapLayer, NavEntry, Scope
from ioc.core.security import Role

from . import service
from .charts import received_and_resolved
from .constants import (
    HOTLINE_PATH,
    INBOX_PATH,
    MAP_PATH,
    MODULE_NAME,
    PUBLIC_FORM_PATH,
    SCOPE_ADMIN,
    SCOPE_APPROVE,
    SCOPE_HANDLE,
    SCOPE_OPERATE,
    SCOPE_READ,
    SCOPE_SUBMIT,
    STATS_PATH,
    TITLE_EN,
    TITLE_VI,
)
from .demo_activity import demo_activity
from .open311 import router as open311_router
from .router import api_router, page_router
from .seed import seed_demo
from .tasks import JOBS, start

# Open311 GeoReport v2 lives at its own path (/open311/v2/), outside /api/v1, beside the pages.
# Open311 first: apps poll it far more often than people open pages, and routes are matched in order.
root_router = APIRouter()
root_router.include_router(open311_router)
root_router.include_router(page_router)

STAFF = (Role.HOTLINE_OPERATOR, Role.AGENCY_STAFF, Role.AGENCY_HEAD, Role.LEADER, Role.ADMIN)

manifest = Manifest(
    name=MODULE_NAME,
    tier=1,
    title_vi=TITLE_VI,
    title_en=TITLE_EN,
    depends_on=("identity", "org_unit", "notification"),
    api_router=api_router,
    page_router=root_router,
    jobs=JOBS,
    on_startup=start,
    scopes=(
        Scope(SCOPE_SUBMIT, "Gửi phản ánh", "Submit citizen reports", (Role.CITIZEN, *STAFF)),
        Scope(
            SCOPE_OPERATE,
            "Tiếp nhận, duyệt, từ chối, chuyển xử lý, gộp phản ánh",
            "Accept, reject, assign and merge citizen reports",
            (Role.HOTLINE_OPERATOR, Role.ADMIN),
        ),
        Scope(
            SCOPE_HANDLE,
            "Xử lý phản ánh được giao cho cơ quan",
            "Handle the reports assigned to one's agency",
            (Role.AGENCY_STAFF, Role.AGENCY_HEAD, Role.ADMIN),
        ),
        Scope(
            SCOPE_APPROVE,
            "Duyệt gia hạn xử lý phản ánh",
            "Approve deadline extensions of citizen reports",
            (Role.AGENCY_HEAD, Role.ADMIN),
        ),
        Scope(SCOPE_ADMIN, "Quản trị lĩnh vực phản ánh", "Administer report categories", (Role.ADMIN,)),
        Scope(SCOPE_READ, "Xem hộp phản ánh và thống kê", "Read the report inbox and figures", STAFF),
    ),
    nav=(
        NavEntry(
            path=PUBLIC_FORM_PATH,
            label_vi="Phản ánh hiện trường",
            label_en="Report a problem",
            icon="megaphone",
            order=10,
            section="public",
        ),
        NavEntry(
            path=MAP_PATH,
            label_vi="Bản đồ phản ánh",
            label_en="Reports map",
            icon="map",
            order=11,
            section="public",
        ),
        NavEntry(
            path=STATS_PATH,
            label_vi="Thống kê phản ánh",
            label_en="Report statistics",
            icon="chart",
            order=12,
            section="public",
        ),
        NavEntry(
            path=HOTLINE_PATH,
            label_vi="Tổng đài 1022",
            label_en="1022 hotline",
            scope=SCOPE_OPERATE,
            icon="phone",
            order=19,
            section="desk",
        ),
        NavEntry(
            path=INBOX_PATH,
            label_vi="Hộp phản ánh",
            label_en="Report inbox",
            scope=SCOPE_READ,
            icon="clipboard",
            order=20,
            section="desk",
        ),
    ),
    seed=seed_demo,
    demo_activity=demo_activity,
    kpis=(
        KpiTile(
            key="citizen_report.received_today",
            label_vi="Phản ánh nhận hôm nay",
            label_en="Reports received today",
            compute=service.picture_received_today,
            link=INBOX_PATH,
            order=10,
        ),
        KpiTile(
            key="citizen_report.overdue",
            label_vi="Phản ánh quá hạn",
            label_en="Overdue reports",
            compute=service.picture_overdue,
            link=f"{INBOX_PATH}?overdue=true",
            order=11,
        ),
        KpiTile(
            key="citizen_report.on_time_rate",
            label_vi="Tỷ lệ xử lý đúng hạn (30 ngày)",
            label_en="Resolved on time (30 days)",
            compute=service.picture_on_time,
            link=STATS_PATH,
            order=12,
        ),
        KpiTile(
            key="citizen_report.satisfaction",
            label_vi="Tỷ lệ hài lòng (30 ngày)",
            label_en="Satisfaction (30 days)",
            compute=service.picture_satisfaction,
            link=STATS_PATH,
            order=13,
        ),
    ),
    map_layers=(
        MapLayer(
            key="citizen_report.reports",
            label_vi="Phản ánh hiện trường",
            label_en="Citizen reports",
            features=service.picture_layer,
            order=20,
            # The public tracking page: the layer is public, so its card must not lead to a staff page.
            link=f"{PUBLIC_FORM_PATH}/{{code}}",
        ),
    ),
    charts=(
        ChartSource(
            key="citizen_report.received_resolved",
            label_vi="Phản ánh tiếp nhận và đã giải quyết",
            label_en="Reports received and resolved",
            plot=received_and_resolved,
            link=STATS_PATH,
            order=10,
        ),
    ),
    # The live feed of the operations picture: new reports, and those that went overdue or were reopened.
    feed=(
        FeedEntry("citizen_report.submitted", link=f"{INBOX_PATH}?q={{tracking_code}}"),
        FeedEntry("citizen_report.overdue", critical=True, link=f"{INBOX_PATH}?q={{tracking_code}}"),
        FeedEntry("citizen_report.reopened", link=f"{INBOX_PATH}?q={{tracking_code}}"),
    ),
    package_dir=Path(__file__).parent,
)
