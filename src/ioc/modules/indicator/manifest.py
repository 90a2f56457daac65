"""Manifest of the indicator module: the shared statistics database (tổng hợp)."""

from __future__ import annotations

from pathlib import Path

from ioc.core.module import Manifest, NavEntry, Scope
from ioc.core.security import Role

from .constants import (
    MODULE_NAME,
    PAGE_PATH,
    SCOPE_ACCEPT,
    SCOPE_ADMIN,
    SCOPE_APPROVE,
    SCOPE_ENTER,
    SCOPE_READ,
    TITLE_EN,
    TITLE_VI,
)
from .headline import CHARTS, TILES
from .picture import KPIS
from .router import api_router, page_router
from .seed import seed_demo
from .tasks import JOBS, register_templates

manifest = Manifest(
    name=MODULE_NAME,
    tier=2,
    title_vi=TITLE_VI,
    title_en=TITLE_EN,
    depends_on=("identity", "org_unit", "notification"),
    api_router=api_router,
    page_router=page_router,
    jobs=JOBS,
    kpis=(*KPIS, *TILES),
    charts=CHARTS,
    on_startup=register_templates,
    scopes=(
        Scope(
            SCOPE_ENTER,
            "Nhập, nhập tệp và gửi số liệu thống kê của cơ quan",
            "Enter, import and submit the agency's statistics",
            (Role.AGENCY_STAFF, Role.AGENCY_HEAD, Role.ADMIN),
        ),
        Scope(
            SCOPE_APPROVE,
            "Duyệt (hoặc trả lại) báo cáo thống kê của cơ quan",
            "Approve (or return) the agency's statistical reports",
            (Role.AGENCY_HEAD, Role.ADMIN),
        ),
        Scope(
            SCOPE_ACCEPT,
            "Tiếp nhận, khóa và mở khóa báo cáo thống kê cấp tỉnh",
            "Accept, lock and unlock reports for the province",
            (Role.LEADER, Role.ADMIN),
        ),
        Scope(
            SCOPE_READ,
            "Xem số liệu, đối soát và phân tích thống kê",
            "Read statistics, reconciliation and analytics",
            (Role.AGENCY_STAFF, Role.AGENCY_HEAD, Role.LEADER, Role.ADMIN),
        ),
        Scope(
            SCOPE_ADMIN,
            "Quản trị chỉ tiêu và bảng chuyển đổi đơn vị",
            "Administer indicators and unit mapping",
            (Role.ADMIN,),
        ),
    ),
    nav=(
        NavEntry(
            path=PAGE_PATH,
            label_vi="Thống kê tổng hợp",
            label_en="Statistics",
            scope=SCOPE_READ,
            icon="chart",
            order=40,
            section="desk",
        ),
    ),
    seed=seed_demo,
    package_dir=Path(__file__).parent,
)
