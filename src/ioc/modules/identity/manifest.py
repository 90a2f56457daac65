"""Manifest of the identity module: users, sessions, API keys, login pages and the authenticator."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ioc.core.jobs import JobSpec
from ioc.core.module import Manifest, NavEntry, Scope
from ioc.core.security import Role

from .commands import user_group
from .constants import PURGE_EVERY, PURGE_JOB, SCOPE_ADMIN, SCOPE_SELF
from .deps import build_authenticator
from .router import api_router, page_router
from .seed import seed_demo
from .tasks import purge_expired

if TYPE_CHECKING:
    from ioc.core.runtime import Runtime


async def install_authenticator(runtime: Runtime) -> None:
    """Make session cookies and API keys the way requests authenticate."""
    runtime.authenticator = build_authenticator(runtime)


manifest = Manifest(
    name="identity",
    tier=0,
    title_vi="Người dùng và phân quyền",
    title_en="Users and access",
    depends_on=(),
    api_router=api_router,
    page_router=page_router,
    jobs=(JobSpec(name=PURGE_JOB, handler=purge_expired, every=PURGE_EVERY),),
    scopes=(
        Scope(
            SCOPE_ADMIN,
            "Quản trị người dùng, vai trò và khoá API",
            "Manage users, roles and API keys",
            roles=(Role.ADMIN,),
        ),
        Scope(
            SCOPE_SELF,
            "Xem hồ sơ, đổi mật khẩu và quản lý khoá API của chính mình",
            "See one's own profile, change one's password and manage one's API keys",
            roles=tuple(Role),
        ),
    ),
    nav=(
        NavEntry(
            path="/admin/users",
            label_vi="Người dùng",
            label_en="Users",
            scope=SCOPE_ADMIN,
            section="admin",
            icon="👤",
            order=900,
        ),
    ),
    seed=seed_demo,
    on_startup=install_authenticator,
    commands=(user_group,),
    package_dir=Path(__file__).parent,
)
