"""Scope checks of the warning routes."""

from __future__ import annotations

from ioc.core.security import require_scope

from .constants import SCOPE_APPROVE, SCOPE_AUTHOR, SCOPE_READ

require_author = require_scope(SCOPE_AUTHOR)
require_approve = require_scope(SCOPE_APPROVE)
require_read = require_scope(SCOPE_READ)
