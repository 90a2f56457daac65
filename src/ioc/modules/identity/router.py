"""HTTP routes: the JSON API under /api/v1 and the login and user-administration pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.errors import Forbidden, NotFound
from ioc.core.http import Page, PageParams, db_session, page_params, served_over_tls
from ioc.core.i18n import request_language
from ioc.core.security import Principal, PrincipalKind, Role, optional_principal, require_principal, require_scope
from ioc.core.templating import render
from ioc.core.time import utc_now

from . import credentials, service
from .constants import (
    LOGIN_CSRF_COOKIE,
    LOGIN_FORM_MAX_AGE_SECONDS,
    SCOPE_ADMIN,
    SCOPE_SELF,
    SESSION_COOKIE,
    STAFF_SEARCH_LIMIT,
)
from .exceptions import LoginRefused
from .schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    LoginRequest,
    LoginResponse,
    MeRead,
    PasswordChange,
    StaffEntry,
    UserCreate,
    UserFilters,
    UserRead,
    UserUpdate,
)

if TYPE_CHECKING:
    from ioc.core.runtime import Runtime

api_router = APIRouter(tags=["identity"])
page_router = APIRouter(include_in_schema=False)

ADMIN_PAGE_SIZE = 50

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Chưa đăng nhập / not authenticated"},
    403: {"description": "Không có quyền hoặc thiếu mã CSRF / forbidden or CSRF token missing"},
}
LOGIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Sai tên đăng nhập hoặc mật khẩu / wrong username or password"},
    403: {"description": "Tài khoản bị vô hiệu hoá / account deactivated"},
    429: {"description": "Tạm khoá do đăng nhập sai nhiều lần / locked after too many failures"},
}


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _set_session_cookie(response: Response, request: Request, token: str) -> None:
    runtime = _runtime(request)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=runtime.settings.session_max_age_hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=served_over_tls(request),
    )


def _clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=served_over_tls(request))


def safe_next(target: str | None) -> str:
    """Return `target` if it is a path on this site, else "/" (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    # Browsers drop tabs and newlines and read a backslash as "/": "/<tab>/evil.example" would leave the site.
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


async def _log_in(request: Request, session: AsyncSession, username: str, password: str) -> service.LoginResult:
    try:
        result = await service.log_in(
            session,
            _runtime(request),
            username=username,
            password=password,
            ip=_ip(request),
            user_agent=request.headers.get("user-agent"),
            replaces_token=request.cookies.get(SESSION_COOKIE),
        )
    except LoginRefused:
        # Keep the failure counters and the lock even though the login is refused.
        await session.commit()
        raise
    await session.commit()
    return result


# --- JSON API -----------------------------------------------------------------------------------------


@api_router.post("/auth/login", response_model=LoginResponse, responses=LOGIN_ERRORS, summary="Đăng nhập / log in")
async def login(
    body: LoginRequest, request: Request, response: Response, session: AsyncSession = Depends(db_session)
) -> LoginResponse:
    """Log in with username and password: sets the session cookie and returns the CSRF token."""
    result = await _log_in(request, session, body.username, body.password)
    _set_session_cookie(response, request, result.token)
    return LoginResponse(user=result.user, csrf_token=result.csrf_token, expires_at=result.expires_at)


@api_router.post(
    "/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS, summary="Đăng xuất / log out"
)
async def logout(
    request: Request,
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """End the current session and clear the cookie."""
    if principal is not None:
        await service.log_out(session, principal)
        await session.commit()
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    _clear_session_cookie(response, request)
    return response


@api_router.get("/auth/me", response_model=MeRead, responses=ERRORS, summary="Tôi là ai / who am I")
async def me(
    request: Request,
    principal: Principal = Depends(require_scope(SCOPE_SELF)),
    session: AsyncSession = Depends(db_session),
) -> MeRead:
    """Return the caller, how they authenticated and their effective scopes."""
    user = await service.get_user(session, principal.id) if principal.id is not None else None
    if user is None:
        raise NotFound("Không tìm thấy người dùng.", "User not found.")
    return MeRead(
        user=user,
        kind=principal.kind,
        scopes=sorted(principal.scopes),
        csrf_token=getattr(request.state, "csrf_token", None) if principal.session_id else None,
    )


@api_router.post(
    "/auth/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ERRORS,
    summary="Đổi mật khẩu / change my password",
)
async def change_password(
    body: PasswordChange,
    request: Request,
    principal: Principal = Depends(require_scope(SCOPE_SELF)),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Change the caller's password; their other sessions are ended."""
    await service.change_password(session, _runtime(request), principal, body.current_password, body.new_password)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@api_router.get("/users", response_model=Page[UserRead], responses=ERRORS, summary="Danh sách người dùng / users")
async def list_users(
    filters: Annotated[UserFilters, Query()],
    paging: PageParams = Depends(page_params),
    _principal: Principal = Depends(require_scope(SCOPE_ADMIN)),
    session: AsyncSession = Depends(db_session),
) -> Page[UserRead]:
    """List users (administrators)."""
    items, total = await service.list_users(session, filters, paging.limit, paging.offset)
    return Page[UserRead](items=items, total=total, limit=paging.limit, offset=paging.offset)


@api_router.get(
    "/staff", response_model=list[StaffEntry], responses=ERRORS, summary="Tìm cán bộ / search the staff directory"
)
async def search_staff(
    q: str = Query("", max_length=80, description="họ tên hoặc tên đăng nhập / name or username"),
    agency_id: int | None = Query(None, ge=1, le=2**31 - 1),
    limit: int = Query(STAFF_SEARCH_LIMIT, ge=1, le=50),
    principal: Principal = Depends(require_principal),
    session: AsyncSession = Depends(db_session),
) -> list[StaffEntry]:
    """Find colleagues for a picker (id, name, agency only); agency staff see only their own agency."""
    return await service.search_staff(session, principal, q, agency_id, limit)


@api_router.post(
    "/users",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    responses={**ERRORS, 409: {"description": "Tên đăng nhập đã có / username taken"}},
    summary="Tạo người dùng / create a user",
)
async def create_user(
    body: UserCreate,
    request: Request,
    _principal: Principal = Depends(require_scope(SCOPE_ADMIN)),
    session: AsyncSession = Depends(db_session),
) -> UserRead:
    """Create a user (administrators)."""
    user = await service.create_user(session, _runtime(request), **body.model_dump())
    await session.commit()
    return user


@api_router.get("/users/{user_id}", response_model=UserRead, responses={**ERRORS, 404: {"description": "not found"}})
async def get_user(
    user_id: int,
    principal: Principal = Depends(require_principal),
    session: AsyncSession = Depends(db_session),
) -> UserRead:
    """Return a user: administrators see anyone, other users only themselves."""
    if not (principal.has(SCOPE_ADMIN) or (principal.has(SCOPE_SELF) and principal.id == user_id)):
        raise Forbidden(
            "Bạn chỉ xem được hồ sơ của chính mình.", "You can only see your own profile.", scope=SCOPE_ADMIN
        )
    user = await service.get_user(session, user_id)
    if user is None:
        raise NotFound("Không tìm thấy người dùng.", "User not found.", user_id=user_id)
    return user


@api_router.patch(
    "/users/{user_id}",
    response_model=UserRead,
    responses={**ERRORS, 404: {"description": "not found"}, 409: {"description": "last administrator"}},
    summary="Sửa người dùng / update a user",
)
async def update_user(
    user_id: int,
    body: UserUpdate,
    request: Request,
    _principal: Principal = Depends(require_scope(SCOPE_ADMIN)),
    session: AsyncSession = Depends(db_session),
) -> UserRead:
    """Change a user's role, agency, units, status or password (administrators)."""
    user = await service.update_user(session, _runtime(request), user_id, body)
    await session.commit()
    return user


@api_router.post(
    "/api-keys",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
    summary="Tạo khoá API / create an API key",
)
async def create_api_key(
    body: ApiKeyCreate,
    request: Request,
    principal: Principal = Depends(require_scope(SCOPE_SELF)),
    session: AsyncSession = Depends(db_session),
) -> ApiKeyCreated:
    """Create an API key; the secret is in this answer only."""
    key = await service.create_api_key(session, _runtime(request), principal, body)
    await session.commit()
    return key


@api_router.get("/api-keys", response_model=list[ApiKeyRead], responses=ERRORS, summary="Khoá API / API keys")
async def list_api_keys(
    user_id: int | None = Query(None, description="chỉ quản trị / administrators only"),
    principal: Principal = Depends(require_scope(SCOPE_SELF)),
    session: AsyncSession = Depends(db_session),
) -> list[ApiKeyRead]:
    """List the caller's API keys (administrators: everyone's)."""
    return await service.list_api_keys(session, principal, user_id)


@api_router.delete(
    "/api-keys/{key_id}",
    response_model=ApiKeyRead,
    responses={**ERRORS, 404: {"description": "not found"}},
    summary="Thu hồi khoá API / revoke an API key",
)
async def revoke_api_key(
    key_id: int,
    principal: Principal = Depends(require_scope(SCOPE_SELF)),
    session: AsyncSession = Depends(db_session),
) -> ApiKeyRead:
    """Revoke an API key; it stops working at once."""
    key = await service.revoke_api_key(session, principal, key_id)
    await session.commit()
    return key


# --- pages --------------------------------------------------------------------------------------------


def _login_page(
    request: Request, *, next_path: str, username: str = "", error: str | None = None, status_code: int = 200
) -> Response:
    runtime = _runtime(request)
    secret = runtime.settings.secret_key
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not credentials.login_form_token_valid(secret, token):
        token = credentials.new_login_form_token(secret)
    request.state.csrf_token = token
    response = render(
        request,
        "identity/login.html",
        {"next": safe_next(next_path), "username": username, "error": error},
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=LOGIN_FORM_MAX_AGE_SECONDS,
        path="/login",
        httponly=True,
        samesite="lax",
        secure=served_over_tls(request),
    )
    return response


def _t(request: Request, key: str) -> str:
    runtime = _runtime(request)
    return runtime.translator(key, request_language(request, runtime.settings.default_language))


@page_router.get("/login")
async def login_page(
    request: Request, next: str = "/", principal: Principal | None = Depends(optional_principal)
) -> Response:
    """Show the login form (or go on to `next` if already logged in)."""
    if principal is not None and principal.kind is PrincipalKind.USER:
        return RedirectResponse(safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    return _login_page(request, next_path=next)


@page_router.post("/login")
async def login_form(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Log in from the HTML form; on success go to `next` if it is a path on this site."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    runtime = _runtime(request)
    if not (
        credentials.login_form_token_valid(runtime.settings.secret_key, cookie)
        and credentials.tokens_match(csrf_token, cookie or "")
    ):
        return _login_page(
            request,
            next_path=next,
            username=username,
            error=_t(request, "identity.login.form_expired"),
            status_code=status.HTTP_403_FORBIDDEN,
        )
    if not username.strip() or not password:
        return _login_page(
            request,
            next_path=next,
            username=username,
            error=_t(request, "identity.login.missing"),
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    try:
        result = await _log_in(request, session, username, password)
    except LoginRefused as exc:
        lang = request_language(request, runtime.settings.default_language)
        return _login_page(
            request, next_path=next, username=username, error=exc.message(lang), status_code=exc.status_code
        )
    response = RedirectResponse(safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    _set_session_cookie(response, request, result.token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@page_router.post("/logout")
async def logout_form(
    request: Request,
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Log out from a page (the form carries the CSRF token) and go to the login page."""
    if principal is not None:
        await service.log_out(session, principal)
        await session.commit()
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    _clear_session_cookie(response, request)
    return response


def _login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=status.HTTP_303_SEE_OTHER)


@page_router.get("/admin/users")
async def admin_users_page(
    request: Request,
    q: str = "",
    role: str = "",
    offset: str = "0",
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """List users for administrators; anonymous browsers are sent to the login page."""
    if principal is None:
        return _login_redirect(request)
    if not principal.has(SCOPE_ADMIN):
        raise Forbidden(
            "Tài khoản của bạn không được phép quản lý người dùng.",
            "Your account is not allowed to manage users.",
            scope=SCOPE_ADMIN,
        )
    lang = request_language(request, _runtime(request).settings.default_language)
    chosen_role = role if role in {r.value for r in Role} else ""
    skip = int(offset) if offset.isdigit() else 0
    filters = UserFilters(q=q.strip()[:80] or None, role=Role(chosen_role) if chosen_role else None)
    users, total = await service.list_users(session, filters, ADMIN_PAGE_SIZE, skip)
    return render(
        request,
        "identity/admin_users.html",
        {
            "page": Page[UserRead](items=users, total=total, limit=ADMIN_PAGE_SIZE, offset=skip),
            "q": q.strip()[:80],
            "role": chosen_role,
            "role_options": [(r.value, _runtime(request).translator(f"identity.role.{r.value}", lang)) for r in Role],
            "now": utc_now(),
        },
    )
