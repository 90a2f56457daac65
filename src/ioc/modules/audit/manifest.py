"""Manifest of the audit module: the administrators' view of the kernel's append-only audit log."""

from __future__ import annotations

from pathlib import Path

from ioc.core.module import Manifest, NavEntry, Scope
from ioc.core.security import Role

from .constants import PAGE_PATH, SCOPE_READ
from .router import api_router, page_router

manifest = Manifest(
    name="audit",
    tier=0,
    title_vi="Nhật ký thao tác",
    title_en="Audit log",
    api_router=api_router,
    page_router=page_router,
    scopes=(
        Scope(
            name=SCOPE_READ,
            description_vi="Xem nhật ký thao tác (ai đã thay đổi gì, khi nào)",
            description_en="Read the audit log (who changed what, and when)",
            roles=(Role.ADMIN,),
        ),
    ),
    nav=(
        NavEntry(
            path=PAGE_PATH,
            label_vi="Nhật ký thao tác",
            label_en="Audit log",
            scope=SCOPE_READ,
            icon="🧾",
            order=900,
            section="admin",
        ),
    ),
    package_dir=Path(__file__).parent,
)
