"""Dependencies of the telemetry routes: scopes and query-string filters."""

from __future__ import annotations

from fastapi import Query

from ioc.core.security import require_scope

from .constants import SCOPE_ADMIN, SCOPE_READ, DeadLetterReason, DeviceStatus, IngestSource
from .schemas import DeadLetterFilters, DeviceFilters

# 401 without credentials, 403 without the scope.
require_read = require_scope(SCOPE_READ)
require_admin = require_scope(SCOPE_ADMIN)


def device_filters(
    q: str | None = Query(None, max_length=100, description="Mã hoặc tên / code or name"),
    status: DeviceStatus | None = Query(None, description="Trạng thái / status"),
    unit_code: str | None = Query(None, max_length=20, description="Mã xã, phường / commune code"),
) -> DeviceFilters:
    """Read the device list filters from the query string."""
    return DeviceFilters(q=q or None, status=status, unit_code=unit_code or None)


def dead_letter_filters(
    reason: DeadLetterReason | None = Query(None, description="Lý do / reason"),
    device_code: str | None = Query(None, max_length=64, alias="device", description="Mã thiết bị / device code"),
    source: IngestSource | None = Query(None, description="Nguồn / source"),
) -> DeadLetterFilters:
    """Read the dead-letter filters from the query string."""
    return DeadLetterFilters(reason=reason, device_code=device_code or None, source=source)
