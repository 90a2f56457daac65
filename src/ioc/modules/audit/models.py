"""The audit log table is owned by the kernel, which writes it on every audited flush.

The module only reads it; `AuditEntry` is re-exported here so that the repository imports its table
from the usual place.
"""

from __future__ import annotations

from ioc.core.models import AuditEntry

__all__ = ["AuditEntry"]
