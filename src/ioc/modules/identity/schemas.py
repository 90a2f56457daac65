"""Read, create, update and filter schemas of users, sessions and API keys."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ioc.core.security import PrincipalKind, Role


class UserSummary(BaseModel):
    """What other modules may show about any user: no contact details."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    agency_id: int | None


class StaffEntry(BaseModel):
    """A colleague as the user picker shows them: no username, role or contact details."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    display_name: str
    agency_id: int | None


class UserRead(UserSummary):
    """A user as seen by administrators and by the user themself (contact details included)."""

    unit_codes: list[str] = Field(default_factory=list)
    is_active: bool
    email: str | None = None
    phone: str | None = None
    extra_scopes: list[str] = Field(default_factory=list)
    locked_until: datetime | None = None
    last_login_at: datetime | None = None
    created_at: datetime


class UserCreate(BaseModel):
    """A new account; the password is hashed and never returned."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=80, examples=["chuyenvien.stnmt"])
    password: str = Field(min_length=1, max_length=256)
    role: Role
    display_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    agency_id: int | None = None
    unit_codes: list[str] = Field(default_factory=list)
    extra_scopes: list[str] = Field(default_factory=list)


class UserUpdate(BaseModel):
    """Fields an administrator may change; only the fields sent are changed (null clears)."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    role: Role | None = None
    agency_id: int | None = None
    unit_codes: list[str] | None = None
    extra_scopes: list[str] | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=256, description="đặt lại / reset")


class UserFilters(BaseModel):
    """Filters of the user list."""

    q: str | None = Field(default=None, max_length=80, description="tên đăng nhập hoặc họ tên / username or name")
    role: Role | None = None
    agency_id: int | None = None
    is_active: bool | None = None


class LoginRequest(BaseModel):
    """Username and password."""

    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=256)


class LoginResponse(BaseModel):
    """The logged-in user and the CSRF token to send as X-CSRF-Token on unsafe requests."""

    user: UserRead
    csrf_token: str
    expires_at: datetime


class MeRead(BaseModel):
    """The caller: user, how they authenticated, their effective scopes."""

    user: UserRead
    kind: PrincipalKind
    scopes: list[str]
    csrf_token: str | None = None


class PasswordChange(BaseModel):
    """A user changing their own password."""

    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class ApiKeyCreate(BaseModel):
    """A new API key; `scopes` narrows it, `user_id` (administrators only) makes it for someone else."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120, examples=["Trạm quan trắc sông Vàm Cỏ Đông"])
    scopes: list[str] | None = None
    expires_at: datetime | None = None
    user_id: int | None = None


class ApiKeyRead(BaseModel):
    """An API key without its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    user_id: int
    scopes: list[str] | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    """A new API key with its secret, shown this once only."""

    secret: str
