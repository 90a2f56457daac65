"""Manifest of the `environment` module: index calculators, limit checks, the index page and the calculator."""

from __future__ import annotations

from pathlib import Path

from ioc.core.module import Manifest, NavEntry, Scope
from ioc.core.security import Role

from .constants import CALCULATOR_PAGE_PATH, MODULE_NAME, PUBLIC_INDEX_PAGE_PATH, SCOPE_CALCULATE, TITLE_EN, TITLE_VI
from .router import api_router, page_router

manifest = Manifest(
    name=MODULE_NAME,
    # Tier 2 (domain analysis). Stations linked to telemetry datastreams come next and will add "telemetry".
    tier=2,
    title_vi=TITLE_VI,
    title_en=TITLE_EN,
    depends_on=(),
    api_router=api_router,
    page_router=page_router,
    scopes=(
        Scope(
            name=SCOPE_CALCULATE,
            description_vi="Dùng máy tính chỉ số AQI, WQI và kiểm tra giới hạn QCVN",
            description_en="Use the AQI and WQI calculators and the QCVN limit checks",
            roles=(Role.HOTLINE_OPERATOR, Role.AGENCY_STAFF, Role.AGENCY_HEAD, Role.LEADER, Role.ADMIN),
        ),
    ),
    nav=(
        NavEntry(
            path=CALCULATOR_PAGE_PATH,
            label_vi="Tính chỉ số chất lượng không khí",
            label_en="Air quality index calculator",
            scope=SCOPE_CALCULATE,
            icon="leaf",
            order=60,
            section="desk",
        ),
        NavEntry(
            path=PUBLIC_INDEX_PAGE_PATH,
            label_vi="Chỉ số chất lượng không khí",
            label_en="Air quality index",
            scope=None,
            icon="leaf",
            order=60,
            section="public",
        ),
    ),
    package_dir=Path(__file__).parent,
)
