"""Manifest of the telemetry module: devices, datastreams, observations, ingestion, rollups, simulator."""

from __future__ import annotations

from pathlib import Path

from ioc.core.module import Manifest, NavEntry, Scope
from ioc.core.security import Role

from .commands import demo_activity, simulate_command, telemetry_group
from .constants import PAGE_DEAD_LETTERS, PAGE_DEVICES, SCOPE_ADMIN, SCOPE_READ, TITLE_EN, TITLE_VI
from .mqtt import start_ingestion, stop_ingestion
from .router import api_router, page_router
from .seed import seed_demo
from .tasks import JOBS

STAFF = (Role.HOTLINE_OPERATOR, Role.AGENCY_STAFF, Role.AGENCY_HEAD, Role.LEADER, Role.ADMIN)

manifest = Manifest(
    name="telemetry",
    tier=1,
    title_vi=TITLE_VI,
    title_en=TITLE_EN,
    depends_on=("org_unit",),
    api_router=api_router,
    page_router=page_router,
    jobs=JOBS,
    scopes=(
        Scope(
            SCOPE_READ,
            "Xem thiết bị quan trắc, số liệu và bản tin lỗi",
            "See sensor devices, their readings and dead letters",
            roles=STAFF,
        ),
        Scope(
            SCOPE_ADMIN,
            "Khai báo thiết bị, luồng dữ liệu và cấp mã thiết bị",
            "Register devices and datastreams and issue device tokens",
            roles=(Role.ADMIN,),
        ),
    ),
    nav=(
        NavEntry(
            path=PAGE_DEVICES,
            label_vi="Thiết bị quan trắc",
            label_en="Sensor devices",
            scope=SCOPE_READ,
            icon="activity",
            order=60,
            section="desk",
        ),
        NavEntry(
            path=PAGE_DEAD_LETTERS,
            label_vi="Bản tin lỗi",
            label_en="Dead letters",
            scope=SCOPE_READ,
            icon="alert",
            order=61,
            section="desk",
        ),
    ),
    seed=seed_demo,
    on_startup=start_ingestion,
    on_shutdown=stop_ingestion,
    demo_activity=demo_activity,
    commands=(simulate_command, telemetry_group),
    package_dir=Path(__file__).parent,
)
