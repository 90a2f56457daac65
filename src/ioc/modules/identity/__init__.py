"""Identity: users, roles and scopes, web sessions, API keys, login pages and the request authenticator."""

from __future__ import annotations

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
from .schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead, UserCreate, UserFilters, UserRead, UserSummary, UserUpdate
from .service import (
    authenticate_password,
    create_user,
    get_user,
    get_user_by_username,
    get_user_summaries,
    list_users,
    update_user,
)

__all__ = [
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
    "update_user",
]
