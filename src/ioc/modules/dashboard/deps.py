"""Dependencies of the `dashboard` routes: scope checks and the common query parameters."""

from __future__ import annotations

from fastapi import Query

from ioc.core.security import require_scope

from .constants import SCOPE_CONFIGURE, SCOPE_READ

# 401 without credentials, 403 without the scope.
require_read = require_scope(SCOPE_READ)
require_configure = require_scope(SCOPE_CONFIGURE)

UNIT_PATTERN = r"^[0-9A-Za-z_.-]{1,20}$"


def unit_filter(
    unit: str | None = Query(None, pattern=UNIT_PATTERN, description="mã xã/phường / unit code (drill-down)"),
) -> str | None:
    """Read the optional unit drill-down."""
    return unit or None
