"""Audit module: read the append-only log of who changed what, and when (the kernel writes it)."""

from .constants import SCOPE_READ
from .exceptions import AuditEntryNotFound, InvalidDate, InvalidPeriod
from .schemas import AuditEntryRead, AuditFilters, FieldChange
from .service import field_changes, get_entry, list_entries

__all__ = [
    "SCOPE_READ",
    "AuditEntryNotFound",
    "AuditEntryRead",
    "AuditFilters",
    "FieldChange",
    "InvalidDate",
    "InvalidPeriod",
    "field_changes",
    "get_entry",
    "list_entries",
]
