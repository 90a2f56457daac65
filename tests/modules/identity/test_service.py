"""Account rules of the service, as other modules and commands use them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from ioc.core.errors import ValidationFailed
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.modules import identity
from ioc.modules.identity.models import User


async def test_usernames_are_stored_in_lower_case(runtime: Runtime) -> None:
    async with runtime.db.transaction() as session:
        user = await identity.create_user(
            session, runtime, username="  NguyenVanA ", password="Mat-khau-123!", role=Role.CITIZEN
        )
    assert user.username == "nguyenvana"
    assert user.display_name == "nguyenvana"


@pytest.mark.parametrize("username", ["ab", "có-dấu", "a b", "-dau-gach", "x" * 81])
async def test_malformed_usernames_are_refused(runtime: Runtime, username: str) -> None:
    async with runtime.db.transaction() as session:
        with pytest.raises(ValidationFailed, match="username"):
            await identity.create_user(session, runtime, username=username, password="Mat-khau-123!", role="citizen")


async def test_short_passwords_are_refused(runtime: Runtime) -> None:
    async with runtime.db.transaction() as session:
        with pytest.raises(identity.WeakPassword) as caught:
            await identity.create_user(session, runtime, username="ngan", password="1234567", role=Role.CITIZEN)
    assert caught.value.message_vi == "Mật khẩu phải có ít nhất 8 ký tự."
    assert caught.value.message_en == "The password must have at least 8 characters."


async def test_bad_contact_details_and_unknown_scopes_are_refused(runtime: Runtime) -> None:
    async with runtime.db.transaction() as session:
        with pytest.raises(ValidationFailed, match="email"):
            await identity.create_user(
                session, runtime, username="u1x", password="Mat-khau-123!", role=Role.CITIZEN, email="not-an-email"
            )
        with pytest.raises(ValidationFailed, match="phone"):
            await identity.create_user(
                session, runtime, username="u2x", password="Mat-khau-123!", role=Role.CITIZEN, phone="call me"
            )
        with pytest.raises(ValidationFailed, match="scope"):
            await identity.create_user(
                session,
                runtime,
                username="u3x",
                password="Mat-khau-123!",
                role=Role.CITIZEN,
                extra_scopes=["everything:all"],
            )


async def test_the_password_is_stored_as_an_argon2id_hash(runtime: Runtime, make_user: Any) -> None:
    user = await make_user(Role.CITIZEN, password="Mat-khau-rat-bi-mat")
    async with runtime.db.session() as session:
        stored = await session.scalar(select(User.password_hash).where(User.id == user["id"]))
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert "Mat-khau-rat-bi-mat" not in stored


async def test_authenticate_password_checks_the_password(runtime: Runtime, make_user: Any) -> None:
    user = await make_user(Role.LEADER)
    async with runtime.db.transaction() as session:
        right = await identity.authenticate_password(session, runtime, user["username"], user["password"])
        wrong = await identity.authenticate_password(session, runtime, user["username"], "not-it-at-all")
    assert right is not None
    assert right.id == user["id"]
    assert wrong is None


async def test_extra_scopes_add_to_the_role(login_as: Any) -> None:
    http: httpx.AsyncClient = await login_as(Role.AGENCY_STAFF, extra_scopes=["identity:admin"])
    assert (await http.get("/api/v1/users")).status_code == 200


async def test_summaries_leave_out_contact_details(runtime: Runtime, make_user: Any) -> None:
    user = await make_user(Role.AGENCY_HEAD, email="lanhdao@tayninh.gov.vn", phone="0909123456", agency_id=9)
    async with runtime.db.session() as session:
        summaries = await identity.get_user_summaries(session, [user["id"], 424242])
        full = await identity.get_user(session, user["id"])
    assert set(summaries) == {user["id"]}
    assert summaries[user["id"]].agency_id == 9
    assert "email" not in summaries[user["id"]].model_dump()
    assert full is not None
    assert full.email == "lanhdao@tayninh.gov.vn"
