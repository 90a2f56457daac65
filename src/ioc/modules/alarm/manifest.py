"""Manifest of the alarm module: rules without code, the alarm lifecycle, silences, routing and escalation."""

from __future__ import annotations

from pathlib import Path

from ioc.core.module import ChartSource, FeedEntry, KpiTile, Manifest, MapLayer, NavEntry, Scope
from ioc.core.security import Role

from .charts import raised_by_severity
from .constants import (
    CONSOLE_PATH,
    MODULE_NAME,
    RULES_PATH,
    SCOPE_OPERATE,
    SCOPE_READ,
    SCOPE_RULES,
    TITLE_EN,
    TITLE_VI,
)
from .handlers import SUBSCRIPTIONS, start_lane, stop_lane
from .picture import alarm_features, open_critical, open_total, unacknowledged
from .router import api_router, page_router
from .seed import seed_demo
from .tasks import JOBS

STAFF = (Role.HOTLINE_OPERATOR, Role.AGENCY_STAFF, Role.AGENCY_HEAD, Role.LEADER, Role.ADMIN)

manifest = Manifest(
    name=MODULE_NAME,
    tier=2,
    title_vi=TITLE_VI,
    title_en=TITLE_EN,
    depends_on=("identity", "org_unit", "notification", "telemetry", "citizen_report", "environment"),
    api_router=api_router,
    page_router=page_router,
    subscriptions=SUBSCRIPTIONS,
    on_startup=start_lane,
    on_shutdown=stop_lane,
    jobs=JOBS,
    seed=seed_demo,
    scopes=(
        Scope(SCOPE_READ, "Xem cảnh báo vận hành", "Read operational alarms", STAFF),
        Scope(
            SCOPE_OPERATE,
            "Xác nhận, kết thúc, ghi chú, giao xử lý cảnh báo; tạm tắt cảnh báo",
            "Acknowledge, clear, comment on, assign and silence alarms",
            (Role.HOTLINE_OPERATOR, Role.AGENCY_STAFF, Role.AGENCY_HEAD, Role.ADMIN),
        ),
        Scope(
            SCOPE_RULES,
            "Soạn quy tắc cảnh báo và chính sách gửi thông báo",
            "Write alarm rules and routing policies",
            (Role.AGENCY_HEAD, Role.ADMIN),
        ),
    ),
    nav=(
        NavEntry(
            path=CONSOLE_PATH,
            label_vi="Bảng cảnh báo",
            label_en="Alarm console",
            scope=SCOPE_READ,
            icon="bell",
            order=15,
            section="desk",
        ),
        NavEntry(
            path=RULES_PATH,
            label_vi="Quy tắc cảnh báo",
            label_en="Alarm rules",
            scope=SCOPE_READ,
            icon="settings",
            order=60,
            section="admin",
        ),
    ),
    kpis=(
        KpiTile(
            key="alarm.open_critical",
            label_vi="Cảnh báo khẩn cấp đang mở",
            label_en="Open critical alarms",
            compute=open_critical,
            link=f"{CONSOLE_PATH}?severity=critical",
            scope=SCOPE_READ,
            order=10,
        ),
        KpiTile(
            key="alarm.open_total",
            label_vi="Cảnh báo đang mở",
            label_en="Open alarms",
            compute=open_total,
            link=CONSOLE_PATH,
            scope=SCOPE_READ,
            order=11,
        ),
        KpiTile(
            key="alarm.unacknowledged",
            label_vi="Cảnh báo chưa xác nhận",
            label_en="Unacknowledged alarms",
            compute=unacknowledged,
            link=CONSOLE_PATH,
            scope=SCOPE_READ,
            order=12,
        ),
    ),
    map_layers=(
        MapLayer(
            key="alarm.open",
            label_vi="Cảnh báo đang mở",
            label_en="Open alarms",
            features=alarm_features,
            scope=SCOPE_READ,
            order=5,
        ),
    ),
    charts=(
        ChartSource(
            key="alarm.per_day",
            label_vi="Cảnh báo phát sinh theo mức độ",
            label_en="Alarms raised by severity",
            plot=raised_by_severity,
            link=CONSOLE_PATH,
            scope=SCOPE_READ,
            order=30,
        ),
    ),
    feed=(
        FeedEntry("alarm.raised", severity_field="severity", link=f"{CONSOLE_PATH}/{{alarm_id}}"),
        FeedEntry("alarm.escalated", critical=True, link=f"{CONSOLE_PATH}/{{alarm_id}}"),
    ),
    package_dir=Path(__file__).parent,
)
