"""Manifest of the `scaffoldtest_69907dd64257463ea` module: what the kernel plugs in when the module is enabled."""

from __future__ import annotations

from pathlib import Path

from ioc.core.module import Manifest, NavEntry, Scope
from ioc.core.security import Role

from .constants import MODULE_NAME, PAGE_PATH, SCOPE_READ, TITLE_EN, TITLE_VI
from .router import api_router, page_router

manifest = Manifest(
    name=MODULE_NAME,
    # 0 foundations, 1 producers, 2 analysis, 3 reactors, 4 views: a module depends only on lower tiers.
    tier=1,
    title_vi=TITLE_VI,
    title_en=TITLE_EN,
    # Every module imported here, e.g. ("identity", "org_unit"); import them from their package root only.
    depends_on=(),
    api_router=api_router,
    page_router=page_router,
    scopes=(
        Scope(
            name=SCOPE_READ,
            description_vi=f"Xem dữ liệu của module {TITLE_VI}",
            description_en=f"Read the data of the {TITLE_EN} module",
            roles=(Role.AGENCY_STAFF, Role.AGENCY_HEAD, Role.LEADER, Role.ADMIN),
        ),
    ),
    nav=(NavEntry(path=PAGE_PATH, label_vi=TITLE_VI, label_en=TITLE_EN),),
    package_dir=Path(__file__).parent,
)
