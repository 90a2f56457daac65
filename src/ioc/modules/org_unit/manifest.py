"""Manifest of the org_unit module: administrative units, agencies, areas and point-in-unit lookup."""

from __future__ import annotations

from pathlib import Path

from ioc.core.module import Manifest, NavEntry, Scope
from ioc.core.security import Role

from .commands import org_unit_group
from .constants import PAGE_PATH, SCOPE_WRITE
from .router import api_router, page_router
from .seed import seed_demo

manifest = Manifest(
    name="org_unit",
    tier=0,
    title_vi="Đơn vị hành chính",
    title_en="Administrative units",
    api_router=api_router,
    page_router=page_router,
    scopes=(
        Scope(
            SCOPE_WRITE,
            "Nhập, sửa đơn vị hành chính, ranh giới và cơ quan",
            "Import and edit administrative units, boundaries and agencies",
            roles=(Role.ADMIN,),
        ),
    ),
    nav=(
        NavEntry(
            path=PAGE_PATH,
            label_vi="Đơn vị hành chính",
            label_en="Administrative units",
            scope=None,
            icon="🗺",
            order=80,
            section="desk",
        ),
    ),
    seed=seed_demo,
    commands=(org_unit_group,),
    package_dir=Path(__file__).parent,
)
