"""Manifest of the `environment` module: stations on telemetry, indices, exceedances, reports, calculators, pages."""

from __future__ import annotations

from pathlib import Path

from ioc.core.module import ChartSource, FeedEntry, KpiTile, Manifest, MapLayer, NavEntry, Scope
from ioc.core.security import Role

from .charts import aqi_history
from .constants import (
    CALCULATOR_PAGE_PATH,
    MODULE_NAME,
    PUBLIC_AIR_PAGE_PATH,
    PUBLIC_INDEX_PAGE_PATH,
    SCOPE_CALCULATE,
    SCOPE_MANAGE,
    SCOPE_READ,
    STATIONS_PAGE_PATH,
    TITLE_EN,
    TITLE_VI,
)
from .picture import stations_in_exceedance, stations_layer, worst_aqi
from .router import api_router, page_router
from .seed import seed_demo
from .tasks import JOBS, SUBSCRIPTIONS

STAFF = (Role.HOTLINE_OPERATOR, Role.AGENCY_STAFF, Role.AGENCY_HEAD, Role.LEADER, Role.ADMIN)

manifest = Manifest(
    name=MODULE_NAME,
    # Tier 2 (domain analysis) on top of telemetry's readings; org_unit scopes the operations picture.
    tier=2,
    title_vi=TITLE_VI,
    title_en=TITLE_EN,
    depends_on=("org_unit", "telemetry"),
    api_router=api_router,
    page_router=page_router,
    scopes=(
        Scope(
            name=SCOPE_CALCULATE,
            description_vi="Dùng máy tính chỉ số AQI, WQI và kiểm tra giới hạn QCVN",
            description_en="Use the AQI and WQI calculators and the QCVN limit checks",
            roles=STAFF,
        ),
        Scope(
            name=SCOPE_READ,
            description_vi="Xem trạm quan trắc môi trường, chỉ số, vượt ngưỡng và báo cáo",
            description_en="See environmental monitoring stations, indices, exceedances and reports",
            roles=STAFF,
        ),
        Scope(
            name=SCOPE_MANAGE,
            description_vi="Khai báo trạm quan trắc môi trường trên thiết bị quan trắc",
            description_en="Register environmental monitoring stations on sensor devices",
            roles=(Role.ADMIN,),
        ),
    ),
    subscriptions=SUBSCRIPTIONS,
    jobs=JOBS,
    seed=seed_demo,
    nav=(
        NavEntry(
            path=STATIONS_PAGE_PATH,
            label_vi="Trạm quan trắc môi trường",
            label_en="Environmental stations",
            scope=SCOPE_READ,
            icon="leaf",
            order=59,
            section="desk",
        ),
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
        NavEntry(
            path=PUBLIC_AIR_PAGE_PATH,
            label_vi="Không khí hôm nay",
            label_en="Air quality now",
            scope=None,
            icon="leaf",
            order=59,
            section="public",
        ),
    ),
    kpis=(
        KpiTile(
            key="environment.worst_aqi",
            label_vi="VN_AQI cao nhất hiện tại",
            label_en="Highest current VN_AQI",
            compute=worst_aqi,
            link=PUBLIC_AIR_PAGE_PATH,
            order=40,
        ),
        KpiTile(
            key="environment.stations_in_exceedance",
            label_vi="Trạm đang vượt ngưỡng QCVN",
            label_en="Stations above a QCVN limit",
            compute=stations_in_exceedance,
            link=STATIONS_PAGE_PATH,
            scope=SCOPE_READ,
            order=41,
        ),
    ),
    map_layers=(
        MapLayer(
            key="environment.stations",
            label_vi="Trạm quan trắc môi trường (theo chỉ số)",
            label_en="Environmental stations (by index)",
            features=stations_layer,
            order=40,
        ),
    ),
    charts=(
        ChartSource(
            key="environment.aqi",
            label_vi="Diễn biến chất lượng không khí",
            label_en="Air quality history",
            plot=aqi_history,
            unit="VN_AQI",
            link=PUBLIC_AIR_PAGE_PATH,
            order=20,
        ),
    ),
    feed=(FeedEntry("environment.exceedance_detected", link=f"{STATIONS_PAGE_PATH}/{{station_code}}"),),
    package_dir=Path(__file__).parent,
)
