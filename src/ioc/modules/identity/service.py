"""Business rules of accounts, logins, sessions and API keys; no HTTP and no commit (callers commit)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core import audit
from ioc.core.errors import Forbidden, NotFound, ValidationFailed
from ioc.core.security import Principal, PrincipalKind, Role
from ioc.core.time import ensure_utc, utc_now

from . import credentials, repository
from .constants import (
    AGENCY_BOUND_ROLES,
    IP_MAX_FAILURES,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    SCOPE_ADMIN,
    SESSION_IDLE_TIMEOUT,
    STAFF_ROLES,
    TOUCH_INTERVAL,
    USERNAME_PATTERN,
)
from .exceptions import (
    AccountDisabled,
    AccountLocked,
    InvalidApiKey,
    InvalidCredentials,
    LastAdministrator,
    LoginRefused,
    LoginThrottled,
    UsernameTaken,
    WeakPassword,
)
from .models import ApiKey, User, WebSession
from .schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    StaffEntry,
    UserFilters,
    UserRead,
    UserSummary,
    UserUpdate,
)

if TYPE_CHECKING:
    from ioc.core.runtime import Runtime

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_PATTERN = re.compile(r"^\+?[0-9 .()-]{8,20}$")
UNIT_CODE_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,20}$")
USERNAME_RE = re.compile(USERNAME_PATTERN)
MAX_UNIT_CODES = 500
ANONYMOUS = Principal(kind=PrincipalKind.USER, id=None, name="anonymous", role=Role.CITIZEN)


@dataclass(frozen=True)
class LoginResult:
    """A successful login: the user, the cookie value (shown once) and the session's CSRF token."""

    user: UserRead
    token: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class ResolvedSession:
    """A live web session: who it belongs to and its CSRF token."""

    principal: Principal
    csrf_token: str


def _hasher(runtime: Runtime) -> PasswordHasher:
    return credentials.hasher_for(runtime.settings.env)


# --- validation -----------------------------------------------------------------------------------


def normalise_username(username: str) -> str:
    """Return the stored form of a username (trimmed, lower case)."""
    return username.strip().lower()


def _check_username(username: str) -> None:
    if not USERNAME_RE.match(username):
        raise ValidationFailed(
            "Tên đăng nhập gồm 3–80 ký tự: chữ thường không dấu, số, dấu chấm, gạch dưới hoặc gạch ngang, "
            "bắt đầu bằng chữ hoặc số.",
            "A username has 3–80 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit.",
            field="username",
        )


def check_password_policy(password: str) -> None:
    """Refuse passwords shorter than the minimum (or absurdly long)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(
            f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự.",
            f"The password must have at least {MIN_PASSWORD_LENGTH} characters.",
            field="password",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(
            f"Mật khẩu không được dài quá {MAX_PASSWORD_LENGTH} ký tự.",
            f"The password must not be longer than {MAX_PASSWORD_LENGTH} characters.",
            field="password",
        )


def _clean_email(email: str | None) -> str | None:
    if email is None or not email.strip():
        return None
    email = email.strip()
    if not EMAIL_PATTERN.match(email):
        raise ValidationFailed(f"Địa chỉ email không hợp lệ: {email}", f"Invalid email address: {email}", field="email")
    return email


def _clean_phone(phone: str | None) -> str | None:
    if phone is None or not phone.strip():
        return None
    phone = phone.strip()
    if not PHONE_PATTERN.match(phone):
        raise ValidationFailed(f"Số điện thoại không hợp lệ: {phone}", f"Invalid phone number: {phone}", field="phone")
    return phone


def _clean_unit_codes(codes: Sequence[str]) -> list[str]:
    cleaned = sorted({code.strip() for code in codes if code.strip()})
    bad = [code for code in cleaned if not UNIT_CODE_PATTERN.match(code)]
    if bad or len(cleaned) > MAX_UNIT_CODES:
        raise ValidationFailed(
            "Mã đơn vị hành chính không hợp lệ.", "Invalid administrative unit code(s).", field="unit_codes", codes=bad
        )
    return cleaned


def _clean_scopes(runtime: Runtime, scopes: Sequence[str], field: str = "extra_scopes") -> list[str]:
    known = {scope.name for scope in runtime.scopes}
    cleaned = sorted(set(scopes))
    unknown = [scope for scope in cleaned if scope not in known]
    if unknown:
        raise ValidationFailed(
            f"Quyền không tồn tại: {', '.join(unknown)}", f"Unknown scope(s): {', '.join(unknown)}", field=field
        )
    return cleaned


def parse_role(value: Role | str) -> Role:
    """Return the role named `value`, or raise a ValidationFailed listing the roles."""
    try:
        return Role(value)
    except ValueError:
        roles = ", ".join(role.value for role in Role)
        raise ValidationFailed(
            f"Vai trò không hợp lệ: {value} (chọn một trong: {roles})",
            f"Invalid role: {value} (choose one of: {roles})",
            field="role",
        ) from None


# --- users ------------------------------------------------------------------------------------------


def to_read(user: User) -> UserRead:
    """Return the read schema of a user."""
    return UserRead.model_validate(user)


async def create_user(
    session: AsyncSession,
    runtime: Runtime,
    *,
    username: str,
    password: str,
    role: Role | str,
    display_name: str = "",
    email: str | None = None,
    phone: str | None = None,
    agency_id: int | None = None,
    unit_codes: Sequence[str] = (),
    extra_scopes: Sequence[str] = (),
) -> UserRead:
    """Create an account after checking the username, password policy, role, contacts and scopes."""
    username = normalise_username(username)
    _check_username(username)
    check_password_policy(password)
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        email=_clean_email(email),
        phone=_clean_phone(phone),
        role=parse_role(role).value,
        agency_id=agency_id,
        unit_codes=_clean_unit_codes(unit_codes),
        extra_scopes=_clean_scopes(runtime, extra_scopes),
        is_active=True,
        failed_logins=0,
        created_at=utc_now(),
    )
    if await repository.get_user_by_username(session, username) is not None:
        raise UsernameTaken(username)
    user.password_hash = await credentials.hash_password(_hasher(runtime), password)
    repository.add(session, user)
    try:
        # A savepoint, so that losing a race on the unique username leaves the caller's transaction usable.
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise UsernameTaken(username) from None
    return to_read(user)


async def get_user(session: AsyncSession, user_id: int) -> UserRead | None:
    """Return a user by id, or None."""
    user = await repository.get_user(session, user_id)
    return to_read(user) if user else None


async def get_user_by_username(session: AsyncSession, username: str) -> UserRead | None:
    """Return a user by username, or None."""
    user = await repository.get_user_by_username(session, normalise_username(username))
    return to_read(user) if user else None


async def get_user_summaries(session: AsyncSession, user_ids: Sequence[int]) -> dict[int, UserSummary]:
    """Return name, role and agency of several users, by id (for showing who did what)."""
    return {user.id: UserSummary.model_validate(user) for user in await repository.get_users(session, user_ids)}


async def search_staff(
    session: AsyncSession, principal: Principal, q: str = "", agency_id: int | None = None, limit: int = 20
) -> list[StaffEntry]:
    """Find colleagues by name or username for a picker; agency staff and heads see only their own agency."""
    if principal.role.value not in STAFF_ROLES:
        raise Forbidden("Chỉ cán bộ mới tra cứu được danh bạ cán bộ.", "Only staff may search the staff directory.")
    if principal.role.value in AGENCY_BOUND_ROLES and principal.agency_id is not None:
        if agency_id is not None and agency_id != principal.agency_id:
            raise Forbidden(
                "Bạn chỉ tra cứu được cán bộ của cơ quan mình.", "You may only search the staff of your own agency."
            )
        agency_id = principal.agency_id
    rows = await repository.search_staff(session, q, sorted(STAFF_ROLES), agency_id, limit)
    return [StaffEntry(id=u.id, display_name=u.display_name or u.username, agency_id=u.agency_id) for u in rows]


async def list_users(
    session: AsyncSession, filters: UserFilters, limit: int = 50, offset: int = 0
) -> tuple[list[UserRead], int]:
    """Return one page of users and the total matching the filters."""
    rows, total = await repository.list_users(session, filters, limit, offset)
    return [to_read(user) for user in rows], total


async def _refuse_losing_last_admin(session: AsyncSession, user: User, changes: UserUpdate) -> None:
    if user.role != Role.ADMIN.value or not user.is_active:
        return
    demoted = changes.role is not None and changes.role is not Role.ADMIN
    deactivated = "is_active" in changes.model_fields_set and changes.is_active is False
    if (demoted or deactivated) and await repository.count_active_admins(session) <= 1:
        raise LastAdministrator()


async def update_user(session: AsyncSession, runtime: Runtime, user_id: int, changes: UserUpdate) -> UserRead:
    """Apply an administrator's changes; a password reset or deactivation ends the user's sessions."""
    user = await repository.get_user(session, user_id)
    if user is None:
        raise NotFound("Không tìm thấy người dùng.", "User not found.", user_id=user_id)
    sent = changes.model_fields_set
    await _refuse_losing_last_admin(session, user, changes)
    if "display_name" in sent:
        user.display_name = (changes.display_name or "").strip() or user.username
    if "email" in sent:
        user.email = _clean_email(changes.email)
    if "phone" in sent:
        user.phone = _clean_phone(changes.phone)
    if "role" in sent and changes.role is not None:
        user.role = changes.role.value
    if "agency_id" in sent:
        user.agency_id = changes.agency_id
    if "unit_codes" in sent:
        user.unit_codes = _clean_unit_codes(changes.unit_codes or [])
    if "extra_scopes" in sent:
        user.extra_scopes = _clean_scopes(runtime, changes.extra_scopes or [])
    end_sessions = False
    if "is_active" in sent and changes.is_active is not None:
        end_sessions = user.is_active and not changes.is_active
        user.is_active = changes.is_active
    if "password" in sent and changes.password is not None:
        check_password_policy(changes.password)
        user.password_hash = await credentials.hash_password(_hasher(runtime), changes.password)
        # A reset is how an administrator helps a locked-out user back in.
        user.failed_logins = 0
        user.locked_until = None
        end_sessions = True
    await session.flush()
    if end_sessions:
        await repository.delete_user_sessions(session, user.id)
    return to_read(user)


# --- principals -------------------------------------------------------------------------------------


def scopes_of(runtime: Runtime, user: User) -> frozenset[str]:
    """Return the scopes a user holds: those of the role plus the extra grants."""
    return runtime.scopes_for_role(Role(user.role)) | frozenset(user.extra_scopes or ())


def principal_for(
    runtime: Runtime,
    user: User,
    kind: PrincipalKind = PrincipalKind.USER,
    *,
    session_id: str | None = None,
    key_scopes: Sequence[str] | None = None,
) -> Principal:
    """Build the principal of a user (narrowed to an API key's scopes when it has some)."""
    scopes = scopes_of(runtime, user)
    if key_scopes is not None:
        scopes &= frozenset(key_scopes)
    return Principal(
        kind=kind,
        id=user.id,
        name=user.username,
        role=Role(user.role),
        scopes=scopes,
        display_name=user.display_name,
        agency_id=user.agency_id,
        unit_codes=frozenset(user.unit_codes or ()),
        session_id=session_id,
    )


# --- logins -------------------------------------------------------------------------------------------


def _lockout(runtime: Runtime) -> timedelta:
    return timedelta(minutes=runtime.settings.login_lockout_minutes)


async def _refuse_throttled_address(session: AsyncSession, runtime: Runtime, ip: str | None, now: datetime) -> None:
    if not ip:
        return
    throttle = await repository.get_throttle(session, ip)
    if throttle is None or throttle.failures < IP_MAX_FAILURES:
        return
    until = throttle.window_started_at + _lockout(runtime)
    if until > now:
        raise LoginThrottled(until)


async def _count_failure(session: AsyncSession, runtime: Runtime, ip: str | None, now: datetime) -> None:
    if ip:
        await repository.count_ip_failure(session, ip, now, now - _lockout(runtime))


async def check_credentials(
    session: AsyncSession, runtime: Runtime, username: str, password: str, *, ip: str | None = None
) -> User:
    """Return the user whose password this is, or raise a LoginRefused error after counting the failure.

    The failure counters are changed in the session; the caller commits them even when this raises.
    """
    now = utc_now()
    await _refuse_throttled_address(session, runtime, ip, now)
    user = await repository.get_user_by_username(session, normalise_username(username))
    if user is None:
        await credentials.spend_verify_time(_hasher(runtime), password)
        await _count_failure(session, runtime, ip, now)
        raise InvalidCredentials()
    if user.locked_until is not None:
        if user.locked_until > now:
            await _count_failure(session, runtime, ip, now)
            raise AccountLocked(user.locked_until)
        # The lock is over: the count starts again.
        user.locked_until = None
        user.failed_logins = 0
    if not await credentials.verify_password(_hasher(runtime), user.password_hash, password):
        await _count_failure(session, runtime, ip, now)
        user.failed_logins = (user.failed_logins or 0) + 1
        # Whoever typed the wrong password is not known to be the account's owner.
        audit.record(session, ANONYMOUS, "login_failed", User.__tablename__, str(user.id), after={"ip": ip})
        if user.failed_logins >= runtime.settings.login_max_failures:
            user.locked_until = now + _lockout(runtime)
            audit.record(
                session,
                ANONYMOUS,
                "account_locked",
                User.__tablename__,
                str(user.id),
                after={"until": user.locked_until, "ip": ip},
            )
            raise AccountLocked(user.locked_until)
        raise InvalidCredentials()
    if not user.is_active:
        raise AccountDisabled()
    if credentials.needs_rehash(_hasher(runtime), user.password_hash):
        user.password_hash = await credentials.hash_password(_hasher(runtime), password)
    return user


async def authenticate_password(
    session: AsyncSession, runtime: Runtime, username: str, password: str, *, ip: str | None = None
) -> UserRead | None:
    """Return the user if the password is right and the account usable, else None (failures are counted)."""
    try:
        return to_read(await check_credentials(session, runtime, username, password, ip=ip))
    except LoginRefused:
        return None


def _session_expiry(runtime: Runtime, created_at: datetime, now: datetime) -> datetime:
    absolute = created_at + timedelta(hours=runtime.settings.session_max_age_hours)
    return min(now + SESSION_IDLE_TIMEOUT, absolute)


async def log_in(
    session: AsyncSession,
    runtime: Runtime,
    *,
    username: str,
    password: str,
    ip: str | None = None,
    user_agent: str | None = None,
    replaces_token: str | None = None,
) -> LoginResult:
    """Check the password and open a new web session (never reusing the one presented: no fixation)."""
    user = await check_credentials(session, runtime, username, password, ip=ip)
    now = utc_now()
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if replaces_token:
        await repository.delete_session(session, credentials.digest(replaces_token))
    await repository.purge_expired_sessions(session, now)
    token = credentials.new_token()
    csrf_token = credentials.new_token()
    web_session = WebSession(
        id=credentials.digest(token),
        user_id=user.id,
        csrf_token=csrf_token,
        created_at=now,
        expires_at=_session_expiry(runtime, now, now),
        last_seen_at=now,
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
    )
    repository.add(session, web_session)
    audit.record(session, principal_for(runtime, user), "login", User.__tablename__, str(user.id), after={"ip": ip})
    await session.flush()
    return LoginResult(user=to_read(user), token=token, csrf_token=csrf_token, expires_at=web_session.expires_at)


async def log_out(session: AsyncSession, principal: Principal) -> None:
    """End the caller's web session."""
    if principal.session_id is None:
        return
    await repository.delete_session(session, principal.session_id)
    audit.record(session, principal, "logout", User.__tablename__, str(principal.id))


async def resolve_session(session: AsyncSession, runtime: Runtime, token: str) -> ResolvedSession | None:
    """Return the principal of a session cookie, sliding its expiry; None if unknown, expired or disabled."""
    session_id = credentials.digest(token)
    found = await repository.get_session_with_user(session, session_id)
    if found is None:
        return None
    web_session, user = found
    now = utc_now()
    absolute = web_session.created_at + timedelta(hours=runtime.settings.session_max_age_hours)
    if web_session.expires_at <= now or absolute <= now:
        await repository.delete_session(session, session_id)
        return None
    if not user.is_active:
        return None
    if now - web_session.last_seen_at >= TOUCH_INTERVAL:
        await repository.touch_session(session, session_id, now, _session_expiry(runtime, web_session.created_at, now))
    return ResolvedSession(
        principal=principal_for(runtime, user, session_id=session_id), csrf_token=web_session.csrf_token
    )


async def change_password(
    session: AsyncSession, runtime: Runtime, principal: Principal, current_password: str, new_password: str
) -> None:
    """Let users change their own password; their other sessions end."""
    if principal.kind is not PrincipalKind.USER or principal.id is None:
        raise Forbidden(
            "Chỉ có thể đổi mật khẩu khi đăng nhập bằng mật khẩu.", "Change your password from a logged-in session."
        )
    user = await repository.get_user(session, principal.id)
    if user is None:
        raise NotFound("Không tìm thấy người dùng.", "User not found.")
    if not await credentials.verify_password(_hasher(runtime), user.password_hash, current_password):
        raise ValidationFailed(
            "Mật khẩu hiện tại không đúng.", "The current password is wrong.", field="current_password"
        )
    check_password_policy(new_password)
    user.password_hash = await credentials.hash_password(_hasher(runtime), new_password)
    await session.flush()
    await repository.delete_user_sessions(session, user.id, keep=principal.session_id)


# --- API keys ---------------------------------------------------------------------------------------


async def resolve_api_key(session: AsyncSession, runtime: Runtime, secret: str) -> Principal:
    """Return the principal an API key acts as, or raise InvalidApiKey."""
    found = await repository.get_api_key_with_user(session, credentials.digest(secret))
    if found is None:
        raise InvalidApiKey()
    key, user = found
    now = utc_now()
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now) or not user.is_active:
        raise InvalidApiKey()
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_INTERVAL:
        await repository.touch_api_key(session, key.id, now)
    return principal_for(runtime, user, PrincipalKind.API_KEY, key_scopes=key.scopes)


def _can_manage_for(principal: Principal, user_id: int) -> bool:
    return principal.id == user_id or principal.has(SCOPE_ADMIN)


async def create_api_key(
    session: AsyncSession, runtime: Runtime, principal: Principal, data: ApiKeyCreate
) -> ApiKeyCreated:
    """Create a key for the caller (or, for administrators, for another user); the secret is returned once."""
    if principal.kind is not PrincipalKind.USER or principal.id is None:
        raise Forbidden(
            "Khoá API không thể tạo khoá API khác; hãy đăng nhập để tạo khoá.",
            "An API key cannot create API keys; log in to create one.",
        )
    owner_id = data.user_id if data.user_id is not None else principal.id
    if not _can_manage_for(principal, owner_id):
        raise Forbidden("Bạn chỉ có thể tạo khoá API cho chính mình.", "You can only create API keys for yourself.")
    owner = await repository.get_user(session, owner_id)
    if owner is None or not owner.is_active:
        raise ValidationFailed(
            "Người dùng không tồn tại hoặc đã bị vô hiệu hoá.",
            "The user does not exist or is deactivated.",
            field="user_id",
        )
    scopes: list[str] | None = None
    if data.scopes is not None:
        if not data.scopes:
            raise ValidationFailed("Hãy chọn ít nhất một quyền.", "Choose at least one scope.", field="scopes")
        scopes = _clean_scopes(runtime, data.scopes, field="scopes")
        beyond = sorted(set(scopes) - scopes_of(runtime, owner))
        if beyond:
            raise ValidationFailed(
                f"Khoá không thể có quyền mà người dùng không có: {', '.join(beyond)}",
                f"A key cannot hold scopes its user lacks: {', '.join(beyond)}",
                field="scopes",
            )
    now = utc_now()
    expires_at = ensure_utc(data.expires_at) if data.expires_at is not None else None
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed(
            "Thời điểm hết hạn phải ở tương lai.", "The expiry must be in the future.", field="expires_at"
        )
    prefix, secret = credentials.new_api_key()
    key = ApiKey(
        name=data.name.strip() or prefix,
        prefix=prefix,
        secret_hash=credentials.digest(secret),
        user_id=owner.id,
        scopes=scopes,
        created_at=now,
        expires_at=expires_at,
    )
    repository.add(session, key)
    await session.flush()
    return ApiKeyCreated(**ApiKeyRead.model_validate(key).model_dump(), secret=secret)


async def list_api_keys(session: AsyncSession, principal: Principal, user_id: int | None = None) -> list[ApiKeyRead]:
    """Return the caller's keys; administrators see everyone's (or one user's)."""
    if principal.has(SCOPE_ADMIN):
        owner = user_id
    else:
        if user_id is not None and user_id != principal.id:
            raise Forbidden("Bạn chỉ xem được khoá API của chính mình.", "You can only see your own API keys.")
        owner = principal.id
        if owner is None:
            return []
    return [ApiKeyRead.model_validate(key) for key in await repository.list_api_keys(session, owner)]


async def revoke_api_key(session: AsyncSession, principal: Principal, key_id: int) -> ApiKeyRead:
    """Revoke a key of the caller (administrators: any key); revoking twice changes nothing."""
    key = await repository.get_api_key(session, key_id)
    if key is None or not _can_manage_for(principal, key.user_id):
        raise NotFound("Không tìm thấy khoá API.", "API key not found.", api_key_id=key_id)
    if key.revoked_at is None:
        key.revoked_at = utc_now()
        await session.flush()
    return ApiKeyRead.model_validate(key)


# --- housekeeping -------------------------------------------------------------------------------------


async def purge_expired(session: AsyncSession, runtime: Runtime) -> int:
    """Delete expired sessions and finished address counters; return how many sessions went."""
    now = utc_now()
    removed = await repository.purge_expired_sessions(session, now)
    await repository.purge_throttle(session, now - _lockout(runtime))
    return removed
