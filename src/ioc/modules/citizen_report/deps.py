"""Dependencies of the citizen_report routes: scope checks and the list filters read from the query string."""

from __future__ import annotations

from datetime import date

from fastapi import Depends, Query

from ioc.core.errors import ValidationFailed
from ioc.core.security import Principal, optional_principal, require_scope

from .constants import (
    SCOPE_ADMIN,
    SCOPE_APPROVE,
    SCOPE_HANDLE,
    SCOPE_OPERATE,
    SCOPE_READ,
    ReportStatus,
    Source,
)
from .schemas import ReportFilters

# No agency has id 0: "my agency" for a caller without one matches nothing.
NO_AGENCY = 0

require_read = require_scope(SCOPE_READ)
require_operate = require_scope(SCOPE_OPERATE)
require_handle = require_scope(SCOPE_HANDLE)
require_approve = require_scope(SCOPE_APPROVE)
require_admin = require_scope(SCOPE_ADMIN)


def parse_statuses(value: str | None) -> list[ReportStatus]:
    """Read a comma-separated list of statuses, refusing unknown ones."""
    if not value:
        return []
    statuses: list[ReportStatus] = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            statuses.append(ReportStatus(part))
        except ValueError as exc:
            allowed = ", ".join(s.value for s in ReportStatus)
            raise ValidationFailed(
                f"Trạng thái '{part}' không hợp lệ (chọn trong: {allowed}).",
                f"Unknown status '{part}' (one of: {allowed}).",
                field="status",
            ) from exc
    return statuses


def _my_agency(principal: Principal | None) -> int:
    if principal is None or principal.agency_id is None:
        return NO_AGENCY
    return principal.agency_id


def report_filters(
    status: str | None = Query(None, description="trạng thái, phân cách bằng dấu phẩy / statuses, comma-separated"),
    category: str | None = Query(None, max_length=40, description="mã lĩnh vực / category code"),
    unit: str | None = Query(None, max_length=20, description="mã xã/phường / commune code"),
    agency: str | None = Query(None, max_length=40, description="mã cơ quan xử lý / agency code"),
    overdue: bool | None = Query(None, description="đang quá hạn / past the running deadline"),
    source: Source | None = Query(None, description="kênh tiếp nhận / intake channel"),
    q: str | None = Query(None, max_length=40, description="mã theo dõi / tracking code"),
    mine: bool = Query(False, description="chỉ phản ánh của cơ quan tôi / only my agency's reports"),
    created_from: date | None = Query(None, description="gửi từ ngày / submitted from (YYYY-MM-DD)"),
    created_to: date | None = Query(None, description="gửi đến ngày / submitted until (YYYY-MM-DD)"),
    principal: Principal | None = Depends(optional_principal),
) -> ReportFilters:
    """Read the report list filters."""
    return ReportFilters(
        status=parse_statuses(status),
        category=category or None,
        unit=unit or None,
        agency=agency or None,
        overdue=overdue,
        source=source,
        q=q or None,
        agency_id=_my_agency(principal) if mine else None,
        created_from=created_from,
        created_to=created_to,
    )
