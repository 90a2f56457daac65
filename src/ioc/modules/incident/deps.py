"""Dependencies of the incident routes: authenticators with the module's scopes, and list filters."""

from __future__ import annotations

from fastapi import Query

from ioc.core.security import require_scope

from .constants import SCOPE_COMMAND, SCOPE_READ, SCOPE_TASK, IncidentStatus, IncidentType, Severity
from .schemas import MAX_ID, IncidentFilters

require_read = require_scope(SCOPE_READ)
require_command = require_scope(SCOPE_COMMAND)
require_task = require_scope(SCOPE_TASK)


def incident_filters(
    status: IncidentStatus | None = Query(None, description="trạng thái / status"),
    active: bool | None = Query(None, description="chỉ sự cố đang xử lý / only running incidents"),
    incident_type: IncidentType | None = Query(None, alias="type", description="loại sự cố / incident type"),
    severity: Severity | None = Query(None, description="mức độ / severity"),
    unit: str | None = Query(None, max_length=20, description="mã đơn vị hành chính / unit code"),
    q: str | None = Query(None, max_length=100, description="tìm theo tiêu đề, địa chỉ / title or address"),
    alarm_id: int | None = Query(None, ge=1, le=MAX_ID, description="có liên kết cảnh báo này / links this alarm"),
    report_id: int | None = Query(
        None, ge=1, le=MAX_ID, description="có liên kết phản ánh này / links this citizen report"
    ),
) -> IncidentFilters:
    """Read the incident list filters from the query string."""
    return IncidentFilters(
        status=status,
        active=active,
        incident_type=incident_type,
        severity=severity,
        unit=unit or None,
        q=q or None,
        alarm_id=alarm_id,
        report_id=report_id,
    )
