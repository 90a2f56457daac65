"""Dependencies of the `environment` routes: authenticators with the module's scopes."""

from __future__ import annotations

from ioc.core.security import require_scope

from .constants import SCOPE_CALCULATE, SCOPE_MANAGE, SCOPE_READ

# 401 without credentials, 403 without the scope; session cookies and API keys (identity) both work.
require_calculate = require_scope(SCOPE_CALCULATE)
require_read = require_scope(SCOPE_READ)
require_manage = require_scope(SCOPE_MANAGE)
