"""Manifest of the citizen_report module: citizens' field reports (phản ánh hiện trường, hotline 1022)."""

from __future__ import annotations

from pathlib import Path

from ioc.core.module import Manifest, NavEntry, Scope
from ioc.core.security import Role

from .constants import (
    INBOX_PATH,
    MODULE_NAME,
    PUBLIC_FORM_PATH,
    SCOPE_ADMIN,
    SCOPE_APPROVE,
    SCOPE_HANDLE,
    SCOPE_OPERATE,
    SCOPE_READ,
    SCOPE_SUBMIT,
    TITLE_EN,
    TITLE_VI,
)
from .router import api_router, page_router
from .seed import seed_demo
from .tasks import JOBS

STAFF = (Role.HOTLINE_OPERATOR, Role.AGENCY_STAFF, Role.AGENCY_HEAD, Role.LEADER, Role.ADMIN)

manifest = Manifest(
    name=MODULE_NAME,
    tier=1,
    title_vi=TITLE_VI,
    title_en=TITLE_EN,
    depends_on=("org_unit", "notification"),
    api_router=api_router,
    page_router=page_router,
    jobs=JOBS,
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
    package_dir=Path(__file__).parent,
)
