"""The `ioc user` commands: create accounts and reset passwords from the shell."""

from __future__ import annotations

from collections.abc import Sequence

import click

from ioc.core.commands import fail, run_with_runtime
from ioc.core.errors import IocError
from ioc.core.runtime import Runtime
from ioc.core.security import Role

from . import service
from .schemas import UserRead, UserUpdate

ROLE_HELP = "Vai trò / role: " + ", ".join(role.value for role in Role)


def _fail_with(exc: IocError) -> None:
    fail(f"{exc.message_vi} / {exc.message_en}")


@click.group("user")
def user_group() -> None:
    """Tài khoản người dùng / user accounts."""


@user_group.command("create")
@click.option("--username", required=True, help="Tên đăng nhập / username")
@click.option(
    "--password",
    prompt="Mật khẩu / password",
    hide_input=True,
    confirmation_prompt=True,
    help="Mật khẩu (bỏ trống để được hỏi) / password (omit to be prompted)",
)
@click.option("--role", required=True, help=ROLE_HELP)
@click.option("--display-name", default="", help="Họ tên / display name")
@click.option("--email", default=None)
@click.option("--phone", default=None)
@click.option("--agency-id", type=int, default=None, help="Mã cơ quan (org_unit) / agency id")
@click.option("--unit-code", "unit_codes", multiple=True, help="Mã đơn vị hành chính (lặp lại) / unit code (repeat)")
def create_command(
    username: str,
    password: str,
    role: str,
    display_name: str,
    email: str | None,
    phone: str | None,
    agency_id: int | None,
    unit_codes: Sequence[str],
) -> None:
    """Create a user account."""
    try:
        parsed_role = service.parse_role(role)
        service.check_password_policy(password)
    except IocError as exc:
        _fail_with(exc)
        return

    async def work(runtime: Runtime) -> UserRead:
        async with runtime.db.transaction() as session:
            return await service.create_user(
                session,
                runtime,
                username=username,
                password=password,
                role=parsed_role,
                display_name=display_name,
                email=email,
                phone=phone,
                agency_id=agency_id,
                unit_codes=unit_codes,
            )

    try:
        user = run_with_runtime(work)
    except IocError as exc:
        _fail_with(exc)
        return
    click.echo(f"Đã tạo người dùng / created user #{user.id}: {user.username} ({user.role.value})")


@user_group.command("set-password")
@click.option("--username", required=True, help="Tên đăng nhập / username")
@click.option("--password", prompt="Mật khẩu mới / new password", hide_input=True, confirmation_prompt=True)
def set_password_command(username: str, password: str) -> None:
    """Reset a user's password; this also unlocks the account and ends its sessions."""
    try:
        service.check_password_policy(password)
    except IocError as exc:
        _fail_with(exc)
        return

    async def work(runtime: Runtime) -> UserRead | None:
        async with runtime.db.transaction() as session:
            user = await service.get_user_by_username(session, username)
            if user is None:
                return None
            return await service.update_user(session, runtime, user.id, UserUpdate(password=password))

    try:
        user = run_with_runtime(work)
    except IocError as exc:
        _fail_with(exc)
        return
    if user is None:
        fail(f"Không có người dùng '{username}'. / No user named '{username}'.")
        return
    click.echo(f"Đã đặt lại mật khẩu / password reset: {user.username}")
