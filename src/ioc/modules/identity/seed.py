"""Demo accounts: one per role, all with the published demo password (never in production)."""

from __future__ import annotations

from ioc.core.module import SeedContext
from ioc.core.security import Role
from ioc.core.settings import Environment

from . import service
from .constants import DEMO_PASSWORD

DEMO_USERS: tuple[tuple[str, Role, str], ...] = (
    ("admin", Role.ADMIN, "Quản trị hệ thống (demo)"),
    ("tongdai1022", Role.HOTLINE_OPERATOR, "Điện thoại viên tổng đài 1022 (demo)"),
    ("chuyenvien", Role.AGENCY_STAFF, "Chuyên viên cơ quan (demo)"),
    ("lanhdaocoquan", Role.AGENCY_HEAD, "Lãnh đạo cơ quan (demo)"),
    ("lanhdaotinh", Role.LEADER, "Lãnh đạo UBND tỉnh (demo)"),
    ("nguoidan", Role.CITIZEN, "Người dân (demo)"),
)


async def seed_demo(ctx: SeedContext) -> None:
    """Create the demo accounts that do not exist yet; existing accounts are left as they are."""
    if ctx.runtime.settings.env is Environment.PRODUCTION:
        ctx.say(
            "Không tạo tài khoản demo ở môi trường production vì mật khẩu demo được công bố công khai; "
            "hãy tạo tài khoản bằng `ioc user create`. / Demo accounts are not created in production because "
            "their password is public; create accounts with `ioc user create`."
        )
        return
    created: list[str] = []
    for username, role, display_name in DEMO_USERS:
        if await service.get_user_by_username(ctx.session, username) is not None:
            continue
        await service.create_user(
            ctx.session, ctx.runtime, username=username, password=DEMO_PASSWORD, role=role, display_name=display_name
        )
        created.append(username)
    ctx.say(f"Tài khoản quản trị demo / demo admin login: admin / {DEMO_PASSWORD}")
    others = ", ".join(f"{username} ({role.value})" for username, role, _ in DEMO_USERS[1:])
    ctx.say(f"Tài khoản demo khác, cùng mật khẩu / other demo logins, same password: {others}")
    if created:
        ctx.say(f"Đã tạo / created: {', '.join(created)}")
