"""Manifest of the notification module."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from ioc.core.jobs import JobSpec
from ioc.core.module import Manifest, NavEntry, Scope
from ioc.core.security import Role

from .cli import notification_group
from .constants import DELIVER_JOB, SCOPE_ADMIN
from .router import api_router, page_router
from .tasks import deliver, seed_default_templates

manifest = Manifest(
    name="notification",
    tier=0,
    title_vi="Thông báo",
    title_en="Notifications",
    api_router=api_router,
    page_router=page_router,
    jobs=(JobSpec(name=DELIVER_JOB, handler=deliver, timeout=timedelta(minutes=5)),),
    scopes=(
        Scope(
            name=SCOPE_ADMIN,
            description_vi="Quản trị thông báo: xem nhật ký gửi, sửa mẫu tin, gửi lại, gửi thử",
            description_en="Administer notifications: delivery log, templates, retries, test messages",
            roles=(Role.ADMIN,),
        ),
    ),
    nav=(
        NavEntry(
            path="/admin/notifications",
            label_vi="Nhật ký thông báo",
            label_en="Notification log",
            scope=SCOPE_ADMIN,
            icon="✉",
            order=80,
            section="admin",
        ),
    ),
    on_startup=seed_default_templates,
    commands=(notification_group,),
    package_dir=Path(__file__).parent,
)
