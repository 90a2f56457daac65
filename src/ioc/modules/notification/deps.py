"""Dependencies of the notification routes."""

from __future__ import annotations

from ioc.core.security import require_scope

from .constants import SCOPE_ADMIN

require_notification_admin = require_scope(SCOPE_ADMIN)
