"""Names and limits of the identity module."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

SESSION_COOKIE: Final = "ioc_session"
LOGIN_CSRF_COOKIE: Final = "ioc_login_csrf"
CSRF_HEADER: Final = "X-CSRF-Token"
CSRF_FORM_FIELD: Final = "csrf_token"

# A session expires after this much inactivity, and never later than settings.session_max_age_hours after login.
SESSION_IDLE_TIMEOUT: Final = timedelta(hours=2)
# last_seen_at / last_used_at are written at most this often, so that reads do not turn into writes.
TOUCH_INTERVAL: Final = timedelta(minutes=1)
# The signed token of the login form is accepted for this long.
LOGIN_FORM_MAX_AGE_SECONDS: Final = 2 * 3600

MIN_PASSWORD_LENGTH: Final = 8
MAX_PASSWORD_LENGTH: Final = 256
USERNAME_PATTERN: Final = r"^[a-z0-9][a-z0-9._-]{2,79}$"

# Failed logins from one address within settings.login_lockout_minutes before the address must wait.
IP_MAX_FAILURES: Final = 20

API_KEY_PREFIX: Final = "ioc"
UNSAFE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Logging in starts a new session, so the old session's CSRF token is not asked for there.
CSRF_EXEMPT_PATHS: Final = frozenset({"/login", "/api/v1/auth/login"})

# Roles that may look colleagues up in the staff directory (the user picker); citizens may not.
STAFF_ROLES: Final = frozenset({"hotline_operator", "agency_staff", "agency_head", "leader", "admin"})
# Agency roles see only the people of their own agency; the others may search every agency.
AGENCY_BOUND_ROLES: Final = frozenset({"agency_staff", "agency_head"})
STAFF_SEARCH_LIMIT: Final = 20

SCOPE_ADMIN: Final = "identity:admin"
SCOPE_SELF: Final = "identity:self"

PURGE_JOB: Final = "identity.purge_expired"
PURGE_EVERY: Final = timedelta(hours=1)

DEMO_PASSWORD: Final = "TayNinh@2026"  # noqa: S105 - published demo password, refused in production
