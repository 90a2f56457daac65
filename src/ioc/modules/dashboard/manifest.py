"""Manifest of the `dashboard` module: the operations picture (desk, video wall, unit drill-down)."""

from __future__ import annotations

from pathlib import Path

from ioc.core.module import Manifest, NavEntry, Scope
from ioc.core.security import Role

from .constants import MODULE_NAME, PAGE_PATH, SCOPE_CONFIGURE, SCOPE_READ, TITLE_EN, TITLE_VI, WALL_PATH
from .router import api_router, page_router
from .tasks import JOBS

manifest = Manifest(
    name=MODULE_NAME,
    tier=4,
    title_vi=TITLE_VI,
    title_en=TITLE_EN,
    # Boundaries and the drill-down's unit come from org_unit; everything else from the manifests and the outbox.
    depends_on=("org_unit",),
    api_router=api_router,
    page_router=page_router,
    jobs=JOBS,
    scopes=(
        Scope(
            SCOPE_READ,
            "Xem bức tranh điều hành và màn hình tường",
            "Watch the operations picture and the video wall",
            (Role.HOTLINE_OPERATOR, Role.AGENCY_STAFF, Role.AGENCY_HEAD, Role.LEADER, Role.ADMIN),
        ),
        Scope(
            SCOPE_CONFIGURE,
            "Sắp xếp bố cục màn hình tường",
            "Arrange the video-wall layouts",
            (Role.LEADER, Role.ADMIN),
        ),
    ),
    nav=(
        NavEntry(PAGE_PATH, "Bức tranh điều hành", "Operations picture", scope=SCOPE_READ, icon="activity", order=1),
        NavEntry(WALL_PATH, "Màn hình tường", "Video wall", scope=SCOPE_READ, icon="layers", order=2),
    ),
    package_dir=Path(__file__).parent,
)
