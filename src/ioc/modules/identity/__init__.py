"""Identity: users, roles and scopes, web sessions, API keys, login pages and the request authenticator."""

from __future__ import annotations

from .constants import DEMO_PASSWORD
from .exceptions import (
    AccountDisabled,
    AccountLocked,
    CsrfFailed,
    InvalidApiKey,
    InvalidCredentials,
    LastAdministrator,
    LoginRefused,
    LoginThrottled,
    UsernameTaken,
    WeakPassword,
)
from .schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    StaffEntry,
    UserCreate,
    UserFilters,
    UserRead,
    UserSummary,
    UserUpdate,
)
from .service import (
    authenticate_password,
    create_user,
    get_user,
    get_user_by_username,
    get_user_summaries,
    list_users,
    search_staff,
    update_user,
)

__all__ = [
    "DEMO_PASSWORD",
    "AccountDisabled",
    "AccountLocked",
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyRead",
    "CsrfFailed",
    "InvalidApiKey",
    "InvalidCredentials",
    "LastAdministrator",
    "LoginRefused",
    "LoginThrottled",
    "StaffEntry",
    "UserCreate",
    "UserFilters",
    "UserRead",
    "UserSummary",
    "UserUpdate",
    "UsernameTaken",
    "WeakPassword",
    "authenticate_password",
    "create_user",
    "get_user",
    "get_user_by_username",
    "get_user_summaries",
    "list_users",
    "search_staff",
    "update_user",
]
