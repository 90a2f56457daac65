"""The JSON API: login, lockout, throttling, sessions, users and API keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from ioc.app import create_app
from ioc.core.audit import REDACTED
from ioc.core.models import AuditEntry
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.core.settings import Settings
from ioc.core.time import utc_now
from ioc.modules.identity.constants import IP_MAX_FAILURES, SESSION_COOKIE

from .conftest import Changer, Login, OpenClient


def _set_cookie_headers(response: httpx.Response) -> list[str]:
    return [value for key, value in response.headers.multi_items() if key.lower() == "set-cookie"]


class TestLogin:
    async def test_login_returns_the_user_and_a_csrf_token(
        self, client: httpx.AsyncClient, make_user: Any, login: Login
    ) -> None:
        user = await make_user(Role.AGENCY_STAFF, email="a@example.vn", agency_id=7, unit_codes=["25747"])
        response = await login(client, user["username"], user["password"])
        assert response.status_code == 200
        body = response.json()
        assert body["user"]["username"] == user["username"]
        assert body["user"]["agency_id"] == 7
        assert body["user"]["unit_codes"] == ["25747"]
        assert len(body["csrf_token"]) >= 32
        assert "password" not in body["user"]
        assert "password_hash" not in body["user"]

    async def test_session_cookie_is_http_only_and_same_site_lax(
        self, client: httpx.AsyncClient, make_user: Any, login: Login
    ) -> None:
        user = await make_user(Role.LEADER)
        response = await login(client, user["username"], user["password"])
        cookie = next(h for h in _set_cookie_headers(response) if h.startswith(f"{SESSION_COOKIE}="))
        flags = [part.strip().lower() for part in cookie.split(";")]
        assert "httponly" in flags
        assert "samesite=lax" in flags
        assert "secure" not in flags
        assert "path=/" in flags

    async def test_session_cookie_is_secure_behind_tls(self, settings: Settings, make_user: Any) -> None:
        user = await make_user(Role.LEADER)
        app = create_app(settings.model_copy(update={"behind_tls": True}))
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as http,
        ):
            response = await http.post(
                "/api/v1/auth/login", json={"username": user["username"], "password": user["password"]}
            )
        cookie = next(h for h in _set_cookie_headers(response) if h.startswith(f"{SESSION_COOKIE}="))
        assert "secure" in [part.strip().lower() for part in cookie.split(";")]

    async def test_username_is_not_case_sensitive(
        self, client: httpx.AsyncClient, make_user: Any, login: Login
    ) -> None:
        user = await make_user(Role.LEADER, username="lanhdao.tinh")
        assert (await login(client, "LanhDao.Tinh", user["password"])).status_code == 200

    async def test_wrong_password_and_unknown_user_get_the_same_answer(
        self, client: httpx.AsyncClient, make_user: Any, login: Login
    ) -> None:
        user = await make_user(Role.AGENCY_STAFF)
        wrong_password = await login(client, user["username"], "not-the-password")
        unknown_user = await login(client, "nobody-here", "whatever-password")
        assert wrong_password.status_code == unknown_user.status_code == 401
        assert wrong_password.json() == unknown_user.json()
        assert wrong_password.json()["message"] == "Tên đăng nhập hoặc mật khẩu không đúng."
        assert SESSION_COOKIE not in client.cookies

    async def test_error_message_follows_the_callers_language(self, client: httpx.AsyncClient, make_user: Any) -> None:
        response = await client.post(
            "/api/v1/auth/login",
            json={"username": "nobody-here", "password": "whatever"},
            headers={"Accept-Language": "en-US,en;q=0.9"},
        )
        assert response.json()["message"] == "Wrong username or password."

    async def test_deactivated_account_cannot_log_in(
        self, client: httpx.AsyncClient, make_user: Any, login: Login, change_user: Changer
    ) -> None:
        user = await make_user(Role.AGENCY_STAFF)
        await change_user(user["id"], is_active=False)
        response = await login(client, user["username"], user["password"])
        assert response.status_code == 403
        assert response.json()["error"] == "account_disabled"


class TestLockout:
    async def test_account_locks_after_the_configured_failures(
        self, client: httpx.AsyncClient, make_user: Any, login: Login, settings: Settings
    ) -> None:
        user = await make_user(Role.HOTLINE_OPERATOR)
        for _ in range(settings.login_max_failures - 1):
            assert (await login(client, user["username"], "wrong-password")).status_code == 401
        locking = await login(client, user["username"], "wrong-password")
        assert locking.status_code == 429
        assert locking.json()["error"] == "account_locked"
        assert "thử lại sau" in locking.json()["message"]
        assert locking.json()["detail"]["retry_after_seconds"] > (settings.login_lockout_minutes - 1) * 60
        # While locked, even the right password is refused.
        right = await login(client, user["username"], user["password"])
        assert right.status_code == 429
        english = await client.post(
            "/api/v1/auth/login",
            json={"username": user["username"], "password": user["password"]},
            headers={"Accept-Language": "en"},
        )
        assert "try again after" in english.json()["message"]

    async def test_account_unlocks_when_the_lock_period_is_over(
        self, client: httpx.AsyncClient, make_user: Any, login: Login, settings: Settings, change_user: Changer
    ) -> None:
        user = await make_user(Role.HOTLINE_OPERATOR)
        for _ in range(settings.login_max_failures):
            await login(client, user["username"], "wrong-password")
        assert (await login(client, user["username"], user["password"])).status_code == 429
        await change_user(user["id"], locked_until=utc_now() - timedelta(seconds=1))
        response = await login(client, user["username"], user["password"])
        assert response.status_code == 200
        # The count starts again: one more failure does not lock the account.
        await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": response.json()["csrf_token"]})
        assert (await login(client, user["username"], "wrong-password")).status_code == 401

    async def test_a_successful_login_resets_the_failure_count(
        self, client: httpx.AsyncClient, make_user: Any, login: Login, settings: Settings
    ) -> None:
        user = await make_user(Role.HOTLINE_OPERATOR)
        for _ in range(settings.login_max_failures - 1):
            await login(client, user["username"], "wrong-password")
        assert (await login(client, user["username"], user["password"])).status_code == 200
        client.cookies.clear()
        for _ in range(settings.login_max_failures - 1):
            assert (await login(client, user["username"], "wrong-password")).status_code == 401

    async def test_many_failures_from_one_address_are_throttled(
        self, client: httpx.AsyncClient, make_user: Any, login: Login
    ) -> None:
        user = await make_user(Role.CITIZEN)
        for number in range(IP_MAX_FAILURES):
            assert (await login(client, f"guess-{number}", "wrong-password")).status_code == 401
        response = await login(client, user["username"], user["password"])
        assert response.status_code == 429
        assert response.json()["error"] == "login_throttled"
        assert "địa chỉ này" in response.json()["message"]


class TestSessions:
    async def test_each_login_starts_a_new_session(
        self, client: httpx.AsyncClient, make_user: Any, login: Login, open_client: OpenClient
    ) -> None:
        user = await make_user(Role.LEADER)
        first = await login(client, user["username"], user["password"])
        old_token = client.cookies[SESSION_COOKIE]
        second = await login(client, user["username"], user["password"])
        new_token = client.cookies[SESSION_COOKIE]
        assert new_token != old_token
        assert second.json()["csrf_token"] != first.json()["csrf_token"]
        stale = await open_client(cookies={SESSION_COOKIE: old_token}).get("/api/v1/auth/me")
        assert stale.status_code == 401
        assert (await client.get("/api/v1/auth/me")).status_code == 200

    async def test_login_does_not_adopt_a_session_id_planted_by_someone_else(
        self, make_user: Any, login: Login, open_client: OpenClient
    ) -> None:
        user = await make_user(Role.LEADER)
        planted = "planted-by-an-attacker"
        victim = open_client(cookies={SESSION_COOKIE: planted})
        response = await login(victim, user["username"], user["password"])
        issued = next(v for k, v in response.headers.multi_items() if k.lower() == "set-cookie")
        assert issued.startswith(f"{SESSION_COOKIE}=")
        assert planted not in issued
        attacker = open_client(cookies={SESSION_COOKIE: planted})
        assert (await attacker.get("/api/v1/auth/me")).status_code == 401

    async def test_logout_ends_the_session(
        self, client: httpx.AsyncClient, make_user: Any, login: Login, open_client: OpenClient
    ) -> None:
        user = await make_user(Role.LEADER)
        response = await login(client, user["username"], user["password"])
        token = client.cookies[SESSION_COOKIE]
        logout = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": response.json()["csrf_token"]})
        assert logout.status_code == 204
        assert SESSION_COOKIE not in client.cookies
        assert (await open_client(cookies={SESSION_COOKIE: token}).get("/api/v1/auth/me")).status_code == 401

    async def test_expired_session_is_rejected(
        self, client: httpx.AsyncClient, make_user: Any, login: Login, change_sessions: Changer
    ) -> None:
        user = await make_user(Role.LEADER)
        await login(client, user["username"], user["password"])
        await change_sessions(user["id"], expires_at=utc_now() - timedelta(seconds=1))
        assert (await client.get("/api/v1/auth/me")).status_code == 401

    async def test_session_never_outlives_the_maximum_age(
        self, client: httpx.AsyncClient, make_user: Any, login: Login, change_sessions: Changer, settings: Settings
    ) -> None:
        user = await make_user(Role.LEADER)
        await login(client, user["username"], user["password"])
        long_ago = utc_now() - timedelta(hours=settings.session_max_age_hours, minutes=1)
        await change_sessions(user["id"], created_at=long_ago, expires_at=utc_now() + timedelta(hours=1))
        assert (await client.get("/api/v1/auth/me")).status_code == 401

    async def test_activity_slides_the_expiry(
        self, runtime: Runtime, client: httpx.AsyncClient, make_user: Any, login: Login, change_sessions: Changer
    ) -> None:
        from ioc.modules.identity.models import WebSession

        user = await make_user(Role.LEADER)
        await login(client, user["username"], user["password"])
        soon = utc_now() + timedelta(minutes=5)
        await change_sessions(user["id"], expires_at=soon, last_seen_at=utc_now() - timedelta(minutes=30))
        assert (await client.get("/api/v1/auth/me")).status_code == 200
        async with runtime.db.session() as session:
            expires_at = await session.scalar(select(WebSession.expires_at).where(WebSession.user_id == user["id"]))
        assert expires_at is not None
        assert expires_at > soon + timedelta(minutes=30)

    async def test_me_shows_role_scopes_and_area(self, login_as: Any) -> None:
        http = await login_as(Role.AGENCY_STAFF, agency_id=12, unit_codes=["25747", "25750"])
        body = (await http.get("/api/v1/auth/me")).json()
        assert body["kind"] == "user"
        assert "identity:self" in body["scopes"]
        assert "identity:admin" not in body["scopes"]
        assert body["user"]["agency_id"] == 12
        assert body["user"]["unit_codes"] == ["25747", "25750"]

    async def test_users_change_their_own_password(
        self, client: httpx.AsyncClient, login_as: Any, make_user: Any, login: Login
    ) -> None:
        user = await make_user(Role.CITIZEN)
        response = await login(client, user["username"], user["password"])
        csrf = {"X-CSRF-Token": response.json()["csrf_token"]}
        short = await client.post(
            "/api/v1/auth/password", json={"current_password": user["password"], "new_password": "short"}, headers=csrf
        )
        assert short.status_code == 422
        assert "ít nhất 8 ký tự" in short.json()["message"]
        changed = await client.post(
            "/api/v1/auth/password",
            json={"current_password": user["password"], "new_password": "Mat-khau-moi-456"},
            headers=csrf,
        )
        assert changed.status_code == 204
        client.cookies.clear()
        assert (await login(client, user["username"], user["password"])).status_code == 401
        assert (await login(client, user["username"], "Mat-khau-moi-456")).status_code == 200


class TestUsers:
    async def test_anonymous_callers_must_log_in(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/v1/users")).status_code == 401
        assert (await client.get("/api/v1/auth/me")).status_code == 401

    async def test_agency_staff_cannot_list_or_create_users(self, login_as: Any) -> None:
        http = await login_as(Role.AGENCY_STAFF)
        assert (await http.get("/api/v1/users")).status_code == 403
        created = await http.post(
            "/api/v1/users", json={"username": "khac", "password": "Mat-khau-123!", "role": "admin"}
        )
        assert created.status_code == 403

    async def test_admin_lists_users_with_contact_details_and_filters(self, login_as: Any, make_user: Any) -> None:
        http = await login_as(Role.ADMIN)
        await make_user(Role.AGENCY_STAFF, username="chuyenvien.a", email="cva@tayninh.gov.vn", agency_id=3)
        await make_user(Role.AGENCY_STAFF, username="chuyenvien.b", agency_id=4)
        page = (await http.get("/api/v1/users", params={"role": "agency_staff"})).json()
        assert page["total"] == 2
        assert [u["username"] for u in page["items"]] == ["chuyenvien.a", "chuyenvien.b"]
        assert page["items"][0]["email"] == "cva@tayninh.gov.vn"
        by_agency = (await http.get("/api/v1/users", params={"agency_id": 4})).json()
        assert [u["username"] for u in by_agency["items"]] == ["chuyenvien.b"]
        searched = (await http.get("/api/v1/users", params={"q": "VIEN.A"})).json()
        assert [u["username"] for u in searched["items"]] == ["chuyenvien.a"]

    async def test_creating_a_user_is_audited_with_the_admin_and_no_password_hash(
        self, runtime: Runtime, login_as: Any
    ) -> None:
        http = await login_as(Role.ADMIN, username="quantri.audit")
        admin_id = (await http.get("/api/v1/auth/me")).json()["user"]["id"]
        response = await http.post(
            "/api/v1/users",
            json={
                "username": "canbo.moi",
                "password": "Mat-khau-123!",
                "role": "agency_staff",
                "display_name": "Cán bộ mới",
                "agency_id": 5,
                "unit_codes": ["25747"],
            },
        )
        assert response.status_code == 201, response.text
        new_id = response.json()["id"]
        async with runtime.db.session() as session:
            entry = (
                await session.scalars(
                    select(AuditEntry).where(
                        AuditEntry.entity_type == "identity_user",
                        AuditEntry.entity_id == str(new_id),
                        AuditEntry.action == "create",
                    )
                )
            ).one()
        assert entry.actor_id == admin_id
        assert entry.actor_name == "quantri.audit"
        assert entry.after is not None
        assert entry.after["password_hash"] == REDACTED
        assert entry.after["username"] == "canbo.moi"
        assert "argon2" not in str(entry.after)

    async def test_duplicate_username_is_a_conflict(self, login_as: Any, make_user: Any) -> None:
        http = await login_as(Role.ADMIN)
        await make_user(Role.CITIZEN, username="trung.ten")
        response = await http.post(
            "/api/v1/users", json={"username": "Trung.Ten", "password": "Mat-khau-123!", "role": "citizen"}
        )
        assert response.status_code == 409
        assert "trung.ten" in response.json()["message"]

    async def test_short_password_is_refused_with_a_clear_message(self, login_as: Any) -> None:
        http = await login_as(Role.ADMIN)
        response = await http.post(
            "/api/v1/users", json={"username": "mat.khau.ngan", "password": "1234567", "role": "citizen"}
        )
        assert response.status_code == 422
        assert response.json()["message"] == "Mật khẩu phải có ít nhất 8 ký tự."

    async def test_unknown_role_is_refused(self, login_as: Any) -> None:
        http = await login_as(Role.ADMIN)
        response = await http.post(
            "/api/v1/users", json={"username": "vai.tro.la", "password": "Mat-khau-123!", "role": "emperor"}
        )
        assert response.status_code == 422

    async def test_users_see_their_own_profile_but_not_others(self, login_as: Any, make_user: Any) -> None:
        http = await login_as(Role.AGENCY_STAFF, email="toi@tayninh.gov.vn", phone="0276 3822 111")
        me = (await http.get("/api/v1/auth/me")).json()["user"]
        other = await make_user(Role.AGENCY_STAFF, email="ban@tayninh.gov.vn")
        own = await http.get(f"/api/v1/users/{me['id']}")
        assert own.status_code == 200
        assert own.json()["email"] == "toi@tayninh.gov.vn"
        assert own.json()["phone"] == "0276 3822 111"
        assert (await http.get(f"/api/v1/users/{other['id']}")).status_code == 403

    async def test_admin_changes_role_agency_and_area(self, login_as: Any, make_user: Any) -> None:
        http = await login_as(Role.ADMIN)
        user = await make_user(Role.AGENCY_STAFF, agency_id=1)
        response = await http.patch(
            f"/api/v1/users/{user['id']}", json={"role": "agency_head", "agency_id": 2, "unit_codes": ["25750"]}
        )
        assert response.status_code == 200
        assert response.json()["role"] == "agency_head"
        assert response.json()["agency_id"] == 2
        assert response.json()["unit_codes"] == ["25750"]
        cleared = await http.patch(f"/api/v1/users/{user['id']}", json={"agency_id": None})
        assert cleared.json()["agency_id"] is None
        assert cleared.json()["role"] == "agency_head"

    async def test_deactivating_a_user_ends_their_sessions(
        self, app: Any, login_as: Any, make_user: Any, login: Login
    ) -> None:
        admin = await login_as(Role.ADMIN)
        user = await make_user(Role.AGENCY_STAFF)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            await login(http, user["username"], user["password"])
            assert (await http.get("/api/v1/auth/me")).status_code == 200
            response = await admin.patch(f"/api/v1/users/{user['id']}", json={"is_active": False})
            assert response.json()["is_active"] is False
            assert (await http.get("/api/v1/auth/me")).status_code == 401

    async def test_password_reset_unlocks_the_account(
        self, client: httpx.AsyncClient, login_as: Any, make_user: Any, login: Login, settings: Settings
    ) -> None:
        admin = await login_as(Role.ADMIN)
        user = await make_user(Role.AGENCY_STAFF)
        for _ in range(settings.login_max_failures):
            await login(client, user["username"], "wrong-password")
        reset = await admin.patch(f"/api/v1/users/{user['id']}", json={"password": "Mat-khau-moi-789"})
        assert reset.status_code == 200
        assert reset.json()["locked_until"] is None
        assert (await login(client, user["username"], "Mat-khau-moi-789")).status_code == 200

    async def test_the_last_administrator_cannot_be_demoted(self, login_as: Any) -> None:
        http = await login_as(Role.ADMIN)
        me = (await http.get("/api/v1/auth/me")).json()["user"]
        demote = await http.patch(f"/api/v1/users/{me['id']}", json={"role": "leader"})
        assert demote.status_code == 409
        assert demote.json()["error"] == "last_administrator"
        deactivate = await http.patch(f"/api/v1/users/{me['id']}", json={"is_active": False})
        assert deactivate.status_code == 409

    async def test_unknown_user_is_not_found(self, login_as: Any) -> None:
        http = await login_as(Role.ADMIN)
        assert (await http.get("/api/v1/users/999999")).status_code == 404
        assert (await http.patch("/api/v1/users/999999", json={"display_name": "x"})).status_code == 404


class TestApiKeys:
    async def test_key_secret_is_shown_once_and_works_as_bearer(self, client: httpx.AsyncClient, login_as: Any) -> None:
        http = await login_as(Role.AGENCY_STAFF, username="tram.quan.trac")
        created = await http.post("/api/v1/api-keys", json={"name": "Trạm quan trắc"})
        assert created.status_code == 201
        secret = created.json()["secret"]
        assert secret.startswith(created.json()["prefix"])
        listed = (await http.get("/api/v1/api-keys")).json()
        assert [k["name"] for k in listed] == ["Trạm quan trắc"]
        assert "secret" not in listed[0]
        me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.status_code == 200
        assert me.json()["kind"] == "api_key"
        assert me.json()["user"]["username"] == "tram.quan.trac"
        assert listed[0]["last_used_at"] is None
        assert (await http.get("/api/v1/api-keys")).json()[0]["last_used_at"] is not None

    async def test_revoked_key_is_refused(self, client: httpx.AsyncClient, login_as: Any) -> None:
        http = await login_as(Role.AGENCY_STAFF)
        created = (await http.post("/api/v1/api-keys", json={"name": "tạm"})).json()
        bearer = {"Authorization": f"Bearer {created['secret']}"}
        assert (await client.get("/api/v1/auth/me", headers=bearer)).status_code == 200
        revoked = await http.delete(f"/api/v1/api-keys/{created['id']}")
        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] is not None
        refused = await client.get("/api/v1/auth/me", headers=bearer)
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_api_key"

    async def test_unknown_and_expired_keys_are_refused(
        self, client: httpx.AsyncClient, login_as: Any, runtime: Runtime
    ) -> None:
        from sqlalchemy import update

        from ioc.modules.identity.models import ApiKey

        http = await login_as(Role.AGENCY_STAFF)
        assert (await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer ioc_x_y"})).status_code == 401
        created = (await http.post("/api/v1/api-keys", json={"name": "ngắn hạn"})).json()
        async with runtime.db.transaction() as session:
            await session.execute(
                update(ApiKey).where(ApiKey.id == created["id"]).values(expires_at=utc_now() - timedelta(seconds=1))
            )
        expired = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {created['secret']}"})
        assert expired.status_code == 401

    async def test_key_scopes_narrow_what_the_user_may_do(self, client: httpx.AsyncClient, login_as: Any) -> None:
        http = await login_as(Role.ADMIN)
        narrow = (await http.post("/api/v1/api-keys", json={"name": "chỉ đọc", "scopes": ["identity:self"]})).json()
        full = (await http.post("/api/v1/api-keys", json={"name": "đầy đủ"})).json()
        assert (
            await client.get("/api/v1/users", headers={"Authorization": f"Bearer {narrow['secret']}"})
        ).status_code == 403
        assert (
            await client.get("/api/v1/users", headers={"Authorization": f"Bearer {full['secret']}"})
        ).status_code == 200

    async def test_a_key_cannot_hold_scopes_its_user_lacks(self, login_as: Any) -> None:
        http = await login_as(Role.AGENCY_STAFF)
        response = await http.post("/api/v1/api-keys", json={"name": "tham", "scopes": ["identity:admin"]})
        assert response.status_code == 422
        unknown = await http.post("/api/v1/api-keys", json={"name": "la", "scopes": ["no:such"]})
        assert unknown.status_code == 422

    async def test_bearer_requests_need_no_csrf_token(self, client: httpx.AsyncClient, login_as: Any) -> None:
        http = await login_as(Role.ADMIN)
        key = (await http.post("/api/v1/api-keys", json={"name": "tích hợp"})).json()
        response = await client.post(
            "/api/v1/users",
            json={"username": "tu.dong", "password": "Mat-khau-123!", "role": "citizen"},
            headers={"Authorization": f"Bearer {key['secret']}"},
        )
        assert response.status_code == 201

    async def test_a_key_cannot_create_more_keys(self, client: httpx.AsyncClient, login_as: Any) -> None:
        http = await login_as(Role.AGENCY_STAFF)
        key = (await http.post("/api/v1/api-keys", json={"name": "một"})).json()
        response = await client.post(
            "/api/v1/api-keys", json={"name": "hai"}, headers={"Authorization": f"Bearer {key['secret']}"}
        )
        assert response.status_code == 403

    async def test_users_manage_only_their_own_keys_and_admins_all(self, login_as: Any) -> None:
        first = await login_as(Role.AGENCY_STAFF)
        second = await login_as(Role.AGENCY_STAFF)
        admin = await login_as(Role.ADMIN)
        key = (await first.post("/api/v1/api-keys", json={"name": "của tôi"})).json()
        assert (await second.get("/api/v1/api-keys")).json() == []
        assert (await second.get("/api/v1/api-keys", params={"user_id": key["user_id"]})).status_code == 403
        assert (await second.delete(f"/api/v1/api-keys/{key['id']}")).status_code == 404
        for_other = await second.post("/api/v1/api-keys", json={"name": "hộ", "user_id": key["user_id"]})
        assert for_other.status_code == 403
        assert [k["id"] for k in (await admin.get("/api/v1/api-keys")).json()] == [key["id"]]
        assert (await admin.delete(f"/api/v1/api-keys/{key['id']}")).status_code == 200
        made_by_admin = await admin.post("/api/v1/api-keys", json={"name": "cấp hộ", "user_id": key["user_id"]})
        assert made_by_admin.status_code == 201
        assert made_by_admin.json()["user_id"] == key["user_id"]
