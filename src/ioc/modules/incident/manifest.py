"""Manifest of the incident module: incidents, tasks for agencies, escalation, command log and procedures."""

from __future__ import annotations

from pathlib import Path

from ioc.core.events import Subscription
from ioc.core.module import FeedEntry, Manifest, NavEntry, Scope
from ioc.core.security import Role
from ioc.modules.alarm import AlarmCleared

from .constants import (
    LIST_PATH,
    MODULE_NAME,
    SCOPE_COMMAND,
    SCOPE_READ,
    SCOPE_TASK,
    TASK_INBOX_PATH,
    TITLE_EN,
    TITLE_VI,
)
from .handlers import on_alarm_cleared
from .picture import KPIS, MAP_LAYERS
from .router import api_router, page_router
from .seed import seed_demo
from .tasks import JOBS

COMMAND_ROLES = (Role.HOTLINE_OPERATOR, Role.LEADER, Role.ADMIN)
# Agency staff and heads read the incidents they take part in (row level: service.visibility), the command all.
READ_ROLES = (*COMMAND_ROLES, Role.AGENCY_STAFF, Role.AGENCY_HEAD)

manifest = Manifest(
    name=MODULE_NAME,
    tier=3,
    title_vi=TITLE_VI,
    title_en=TITLE_EN,
    depends_on=("identity", "org_unit", "notification", "citizen_report", "alarm"),
    api_router=api_router,
    page_router=page_router,
    subscriptions=(Subscription(AlarmCleared, on_alarm_cleared, "incident.on_alarm_cleared"),),
    jobs=JOBS,
    scopes=(
        Scope(
            SCOPE_READ,
            "Xem sự cố, nhiệm vụ và nhật ký chỉ huy (cơ quan: sự cố mình tham gia hoặc trên địa bàn mình)",
            "Read incidents, tasks and command logs (agencies: those they take part in or in their communes)",
            READ_ROLES,
        ),
        Scope(
            SCOPE_COMMAND,
            "Mở sự cố, giao nhiệm vụ, ghi nhật ký chỉ huy, kết thúc sự cố",
            "Open incidents, assign tasks, write the command log, close incidents",
            COMMAND_ROLES,
        ),
        Scope(
            SCOPE_TASK,
            "Thực hiện và báo cáo nhiệm vụ được giao cho cơ quan",
            "Carry out and report on the tasks given to one's agency",
            (Role.AGENCY_STAFF, Role.AGENCY_HEAD, Role.ADMIN),
        ),
    ),
    nav=(
        NavEntry(
            path=LIST_PATH,
            label_vi="Sự cố",
            label_en="Incidents",
            scope=SCOPE_READ,
            icon="alert",
            order=30,
            section="desk",
        ),
        NavEntry(
            path=TASK_INBOX_PATH,
            label_vi="Nhiệm vụ của cơ quan",
            label_en="Agency tasks",
            scope=SCOPE_TASK,
            icon="list",
            order=31,
            section="desk",
        ),
    ),
    seed=seed_demo,
    kpis=KPIS,
    map_layers=MAP_LAYERS,
    feed=(
        FeedEntry("incident.opened", severity_field="severity", link=f"{LIST_PATH}/{{incident_id}}"),
        FeedEntry("incident.task_overdue", critical=True, link=f"{LIST_PATH}/{{incident_id}}"),
        FeedEntry("incident.task_escalated", critical=True, link=f"{LIST_PATH}/{{incident_id}}"),
        FeedEntry("incident.closed", link=f"{LIST_PATH}/{{incident_id}}"),
    ),
    package_dir=Path(__file__).parent,
)
