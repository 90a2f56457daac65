"""The login, logout and user-administration pages."""

from __future__ import annotations

import re
from typing import Any

import httpx

from ioc.core.security import Role
from ioc.modules.identity.constants import LOGIN_CSRF_COOKIE, SESSION_COOKIE

from .conftest import OpenClient


def _form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None, html
    return match.group(1)


async def _submit(
    http: httpx.AsyncClient, username: str, password: str, next_path: str = "/", lang: str = "vi"
) -> httpx.Response:
    page = await http.get("/login", params={"lang": lang})
    data = {"username": username, "password": password, "csrf_token": _form_token(page.text), "next": next_path}
    return await http.post(f"/login?lang={lang}", data=data)


class TestLoginPage:
    async def test_login_page_is_in_vietnamese_by_default(self, client: httpx.AsyncClient) -> None:
        page = await client.get("/login")
        assert page.status_code == 200
        assert re.search(r'<html lang="vi"', page.text)
        assert "Đăng nhập hệ thống" in page.text
        assert re.search(r'<label for="login-username">Tên đăng nhập', page.text)
        assert re.search(r'<label for="login-password">Mật khẩu', page.text)
        assert 'id="login-username" name="username" required' in page.text
        # The form's token, the page's meta tag and the double-submit cookie agree.
        token = _form_token(page.text)
        assert f'<meta name="csrf-token" content="{token}">' in page.text
        assert client.cookies[LOGIN_CSRF_COOKIE] == token

    async def test_login_page_is_available_in_english(self, client: httpx.AsyncClient) -> None:
        page = await client.get("/login", params={"lang": "en"})
        assert re.search(r'<html lang="en"', page.text)
        assert "Log in to the system" in page.text
        assert re.search(r'<label for="login-username">Username', page.text)

    async def test_successful_login_goes_to_the_requested_page(self, client: httpx.AsyncClient, make_user: Any) -> None:
        user = await make_user(Role.ADMIN)
        response = await _submit(client, user["username"], user["password"], next_path="/admin/users?q=a")
        assert response.status_code == 303
        assert response.headers["location"] == "/admin/users?q=a"
        assert SESSION_COOKIE in client.cookies
        assert (await client.get("/api/v1/auth/me")).status_code == 200

    async def test_login_never_redirects_to_another_site(self, make_user: Any, open_client: OpenClient) -> None:
        user = await make_user(Role.ADMIN)
        for target in (
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "/\t/evil.example",
            "javascript:alert(1)",
        ):
            response = await _submit(open_client(), user["username"], user["password"], next_path=target)
            assert response.status_code == 303
            assert response.headers["location"] == "/"

    async def test_wrong_password_is_shown_inline_in_the_users_language(
        self, client: httpx.AsyncClient, make_user: Any
    ) -> None:
        user = await make_user(Role.ADMIN)
        vi = await _submit(client, user["username"], "wrong-password")
        assert vi.status_code == 401
        assert 'role="alert"' in vi.text
        assert "Tên đăng nhập hoặc mật khẩu không đúng." in vi.text
        assert f'value="{user["username"]}"' in vi.text
        en = await _submit(client, user["username"], "wrong-password", lang="en")
        assert en.status_code == 401
        assert "Wrong username or password." in en.text
        assert SESSION_COOKIE not in client.cookies

    async def test_locked_account_is_told_when_to_retry(self, client: httpx.AsyncClient, make_user: Any) -> None:
        user = await make_user(Role.ADMIN)
        for _ in range(5):
            response = await _submit(client, user["username"], "wrong-password")
        assert response.status_code == 429
        assert "Tài khoản tạm khoá" in response.text

    async def test_form_without_the_login_token_is_refused(self, client: httpx.AsyncClient, make_user: Any) -> None:
        user = await make_user(Role.ADMIN)
        response = await client.post(
            "/login", data={"username": user["username"], "password": user["password"], "csrf_token": "forged"}
        )
        assert response.status_code == 403
        assert "Biểu mẫu đăng nhập đã hết hạn" in response.text
        assert SESSION_COOKIE not in client.cookies

    async def test_logged_in_users_skip_the_login_page(self, login_as: Any) -> None:
        http = await login_as(Role.LEADER)
        response = await http.get("/login", params={"next": "/admin/users"})
        assert response.status_code == 303
        assert response.headers["location"] == "/admin/users"

    async def test_logout_form_ends_the_session(self, login_as: Any, open_client: OpenClient) -> None:
        http = await login_as(Role.LEADER)
        token = http.headers.pop("X-CSRF-Token")
        session_token = http.cookies[SESSION_COOKIE]
        response = await http.post("/logout", data={"csrf_token": token})
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
        assert (await open_client(cookies={SESSION_COOKIE: session_token}).get("/api/v1/auth/me")).status_code == 401


class TestAdminUsersPage:
    async def test_anonymous_browser_is_sent_to_login(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/admin/users", params={"role": "leader"})
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/admin/users%3Frole%3Dleader"

    async def test_admin_sees_the_user_list(self, login_as: Any, make_user: Any) -> None:
        http = await login_as(Role.ADMIN)
        await make_user(Role.HOTLINE_OPERATOR, username="tongdai.a", display_name="Trần Thị Tổng Đài")
        page = await http.get("/admin/users")
        assert page.status_code == 200
        assert 'class="data-table"' in page.text
        assert "Trần Thị Tổng Đài" in page.text
        assert "Điện thoại viên tổng đài" in page.text
        assert 'href="/admin/users"' in page.text  # the navigation entry
        filtered = await http.get("/admin/users", params={"role": "leader", "lang": "en"})
        assert "tongdai.a" not in filtered.text
        assert "No users match." in filtered.text

    async def test_other_roles_are_refused(self, login_as: Any) -> None:
        http = await login_as(Role.AGENCY_HEAD)
        page = await http.get("/admin/users", headers={"Accept": "text/html"})
        assert page.status_code == 403
        assert "không được phép quản lý người dùng" in page.text
        assert 'href="/admin/users"' not in page.text
        assert (await http.get("/admin/users")).json()["error"] == "forbidden"
