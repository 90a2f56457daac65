"""Manifest of the warning module: public warnings with two-person approval, CAP 1.2, Atom and subscriptions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ioc.core.module import FeedEntry, KpiTile, KpiValue, Manifest, MapLayer, NavEntry, PictureContext, Scope
from ioc.core.security import Role

from . import service
from .constants import (
    MODULE_NAME,
    PUBLIC_PATH,
    SCOPE_APPROVE,
    SCOPE_AUTHOR,
    SCOPE_READ,
    STAFF_PATH,
    SUBSCRIBE_PATH,
    TITLE_EN,
    TITLE_VI,
)
from .router import api_router, page_router
from .seed import seed_demo
from .tasks import JOBS

STAFF = (Role.HOTLINE_OPERATOR, Role.AGENCY_STAFF, Role.AGENCY_HEAD, Role.LEADER, Role.ADMIN)


async def current_kpi(ctx: PictureContext) -> KpiValue:
    """Count the warnings in force; red when one of them is extreme or severe."""
    figures = await service.kpis(ctx.session, ctx.now, ctx.unit_code)
    status = "critical" if figures.extreme_or_severe else "warning" if figures.current else "good"
    return KpiValue(value=figures.current, status=status, higher_is_better=False)


async def pending_kpi(ctx: PictureContext) -> KpiValue:
    """Count the warnings waiting for a second person's approval."""
    figures = await service.kpis(ctx.session, ctx.now, ctx.unit_code)
    return KpiValue(
        value=figures.pending_approval,
        status="warning" if figures.pending_approval else "normal",
        higher_is_better=False,
    )


async def area_layer(ctx: PictureContext) -> dict[str, Any]:
    """Return the areas of the warnings in force."""
    return await service.area_features(ctx.session, ctx.now, ctx.unit_code, ctx.lang)


manifest = Manifest(
    name=MODULE_NAME,
    tier=3,
    title_vi=TITLE_VI,
    title_en=TITLE_EN,
    depends_on=("org_unit", "notification", "alarm"),
    api_router=api_router,
    page_router=page_router,
    jobs=JOBS,
    seed=seed_demo,
    scopes=(
        Scope(
            SCOPE_AUTHOR,
            "Soạn, cập nhật, huỷ cảnh báo công cộng",
            "Write, update and cancel public warnings",
            (Role.AGENCY_STAFF, Role.AGENCY_HEAD, Role.LEADER, Role.ADMIN),
        ),
        Scope(
            SCOPE_APPROVE,
            "Duyệt phát hành cảnh báo công cộng (người thứ hai)",
            "Approve public warnings for release (second person)",
            (Role.AGENCY_HEAD, Role.LEADER, Role.ADMIN),
        ),
        Scope(SCOPE_READ, "Xem cảnh báo, hàng chờ duyệt và báo cáo gửi tin", "Read warnings and reports", STAFF),
    ),
    nav=(
        NavEntry(
            path=PUBLIC_PATH,
            label_vi="Cảnh báo",
            label_en="Warnings",
            icon="alert",
            order=15,
            section="public",
        ),
        NavEntry(
            path=SUBSCRIBE_PATH,
            label_vi="Đăng ký nhận cảnh báo",
            label_en="Get warnings",
            icon="bell",
            order=16,
            section="public",
        ),
        NavEntry(
            path=STAFF_PATH,
            label_vi="Cảnh báo công cộng",
            label_en="Public warnings",
            scope=SCOPE_READ,
            icon="megaphone",
            order=30,
            section="desk",
        ),
    ),
    kpis=(
        KpiTile(
            key="warning.current",
            label_vi="Cảnh báo đang hiệu lực",
            label_en="Warnings in force",
            compute=current_kpi,
            link=PUBLIC_PATH,
            order=30,
        ),
        KpiTile(
            key="warning.pending_approval",
            label_vi="Cảnh báo chờ duyệt",
            label_en="Warnings awaiting approval",
            compute=pending_kpi,
            link=STAFF_PATH,
            scope=SCOPE_READ,
            order=31,
        ),
    ),
    map_layers=(
        MapLayer(
            key="warning.areas",
            label_vi="Vùng cảnh báo",
            label_en="Warning areas",
            features=area_layer,
            order=30,
        ),
    ),
    # CAP severities: an Extreme or Severe warning gets the wall's attention cue.
    feed=(FeedEntry("warning.published", severity_field="severity", link=f"{PUBLIC_PATH}/{{warning_id}}"),),
    package_dir=Path(__file__).parent,
)
