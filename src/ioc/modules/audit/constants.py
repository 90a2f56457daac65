"""Names and limits of the audit module."""

from __future__ import annotations

from typing import Final

SCOPE_READ: Final = "audit:read"
PAGE_PATH: Final = "/admin/audit"
PAGE_SIZE: Final = 50
# Column widths of ioc.core.models.AuditEntry, so that filters longer than any stored value are refused early.
MAX_ACTOR_LENGTH: Final = 120
MAX_ENTITY_TYPE_LENGTH: Final = 80
MAX_ENTITY_ID_LENGTH: Final = 80
MAX_ACTION_LENGTH: Final = 20
# actor_id is a 32-bit INTEGER column; larger numbers can only be names.
MAX_ACTOR_ID: Final = 2**31 - 1
