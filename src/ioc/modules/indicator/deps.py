"""Dependencies of the indicator routes: scope checks."""

from __future__ import annotations

from ioc.core.security import require_scope

from .constants import SCOPE_ACCEPT, SCOPE_ADMIN, SCOPE_APPROVE, SCOPE_ENTER, SCOPE_READ

require_enter = require_scope(SCOPE_ENTER)
require_approve = require_scope(SCOPE_APPROVE)
require_accept = require_scope(SCOPE_ACCEPT)
require_read = require_scope(SCOPE_READ)
require_admin = require_scope(SCOPE_ADMIN)
