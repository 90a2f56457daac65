"""Manifest of the org_unit module: administrative units, agencies, areas and point-in-unit lookup."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from ioc.core.module import Manifest, NavEntry, Scope
from ioc.core.security import Role

from .commands import org_unit_group
from .constants import PAGE_PATH, SCOPE_WRITE
from .models import Agency
from .router import api_router, page_router
from .seed import seed_demo

if TYPE_CHECKING:
    from ioc.core.runtime import Runtime


async def scope_live_stream(runtime: Runtime) -> None:
    """Let the staff live stream match an agency's staff to the agency codes events carry."""

    async def agency_code(agency_id: int) -> str | None:
        async with runtime.db.session() as session:
            code: str | None = await session.scalar(select(Agency.code).where(Agency.id == agency_id))
            return code

    runtime.live.set_agency_resolver(agency_code)


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
    on_startup=scope_live_stream,
    commands=(org_unit_group,),
    package_dir=Path(__file__).parent,
)
