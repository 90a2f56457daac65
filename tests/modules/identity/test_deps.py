"""The authenticator every request goes through: CSRF rules for cookie sessions, bearer keys."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi import Request

from ioc.core.security import Role
from ioc.modules.identity.constants import CSRF_HEADER

from .conftest import Login


async def _form_echo(request: Request) -> dict[str, Any]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


class TestCsrf:
    async def test_cookie_post_without_the_token_is_forbidden(self, login_as: Any) -> None:
        http = await login_as(Role.ADMIN)
        token = http.headers.pop(CSRF_HEADER)
        body = {"username": "khong.token", "password": "Mat-khau-123!", "role": "citizen"}
        refused = await http.post("/api/v1/users", json=body)
        assert refused.status_code == 403
        assert refused.json()["error"] == "csrf_failed"
        assert "CSRF" in refused.json()["message"]
        accepted = await http.post("/api/v1/users", json=body, headers={CSRF_HEADER: token})
        assert accepted.status_code == 201

    async def test_a_wrong_token_is_forbidden_for_every_unsafe_method(self, login_as: Any, make_user: Any) -> None:
        http = await login_as(Role.ADMIN)
        user = await make_user(Role.CITIZEN)
        http.headers[CSRF_HEADER] = "not-the-token"
        assert (await http.patch(f"/api/v1/users/{user['id']}", json={"display_name": "X"})).status_code == 403
        assert (await http.delete("/api/v1/api-keys/1")).status_code == 403
        assert (await http.post("/api/v1/auth/logout")).status_code == 403
        # Reading needs no token.
        assert (await http.get(f"/api/v1/users/{user['id']}")).status_code == 200

    async def test_html_forms_may_send_the_token_as_a_field(self, app: Any, login_as: Any) -> None:
        app.add_api_route("/_test/echo-form", _form_echo, methods=["POST"])
        http = await login_as(Role.AGENCY_STAFF)
        token = http.headers.pop(CSRF_HEADER)
        assert (await http.post("/_test/echo-form", data={"note": "x"})).status_code == 403
        accepted = await http.post("/_test/echo-form", data={"csrf_token": token, "note": "Tây Ninh"})
        assert accepted.status_code == 200
        # The route still reads the whole form after the check has read it.
        assert accepted.json() == {"csrf_token": token, "note": "Tây Ninh"}
        multipart = await http.post(
            "/_test/echo-form",
            data={"csrf_token": token, "note": "ảnh"},
            files={"photo": ("a.txt", b"hello", "text/plain")},
        )
        assert multipart.status_code == 200
        assert multipart.json() == {"csrf_token": token, "note": "ảnh"}

    async def test_logging_in_again_needs_no_token_of_the_old_session(self, login_as: Any, make_user: Any) -> None:
        http = await login_as(Role.LEADER)
        http.headers.pop(CSRF_HEADER)
        other = await make_user(Role.LEADER)
        response = await http.post(
            "/api/v1/auth/login", json={"username": other["username"], "password": other["password"]}
        )
        assert response.status_code == 200
        assert (await http.get("/api/v1/auth/me")).json()["user"]["username"] == other["username"]

    async def test_anonymous_posts_need_no_token(self, client: httpx.AsyncClient) -> None:
        assert (await client.post("/api/v1/auth/logout")).status_code == 204

    async def test_pages_carry_the_session_token_in_a_meta_tag(
        self, client: httpx.AsyncClient, make_user: Any, login: Login
    ) -> None:
        user = await make_user(Role.LEADER)
        token = (await login(client, user["username"], user["password"])).json()["csrf_token"]
        page = await client.get("/")
        match = re.search(r'<meta name="csrf-token" content="([^"]*)"', page.text)
        assert match is not None
        assert match.group(1) == token


class TestBearer:
    async def test_a_malformed_authorization_header_is_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer "})
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_api_key"

    async def test_a_key_of_a_deactivated_user_stops_working(
        self, client: httpx.AsyncClient, login_as: Any, make_user: Any
    ) -> None:
        admin = await login_as(Role.ADMIN)
        staff = await make_user(Role.AGENCY_STAFF)
        key = (await admin.post("/api/v1/api-keys", json={"name": "trạm", "user_id": staff["id"]})).json()
        bearer = {"Authorization": f"Bearer {key['secret']}"}
        assert (await client.get("/api/v1/auth/me", headers=bearer)).status_code == 200
        await admin.patch(f"/api/v1/users/{staff['id']}", json={"is_active": False})
        assert (await client.get("/api/v1/auth/me", headers=bearer)).status_code == 401

    async def test_a_key_follows_its_users_role_changes(
        self, client: httpx.AsyncClient, login_as: Any, make_user: Any
    ) -> None:
        admin = await login_as(Role.ADMIN)
        staff = await make_user(Role.AGENCY_STAFF)
        key = (await admin.post("/api/v1/api-keys", json={"name": "trạm", "user_id": staff["id"]})).json()
        bearer = {"Authorization": f"Bearer {key['secret']}"}
        assert (await client.get("/api/v1/users", headers=bearer)).status_code == 403
        await admin.patch(f"/api/v1/users/{staff['id']}", json={"role": "admin"})
        assert (await client.get("/api/v1/users", headers=bearer)).status_code == 200
