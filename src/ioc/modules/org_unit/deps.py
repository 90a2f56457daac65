"""Request dependencies of the org_unit routes: filters read from the query string."""

from __future__ import annotations

from datetime import date

from fastapi import Query

from .constants import AgencyKind, UnitLevel
from .schemas import AgencyFilters, OrgUnitFilters


def unit_filters(
    code: str | None = Query(None, max_length=20, description="Mã đơn vị / unit code"),
    level: UnitLevel | None = Query(None, description="Cấp / level"),
    parent: str | None = Query(None, max_length=20, description="Mã đơn vị cấp trên / parent code"),
    valid_on: date | None = Query(
        None, description="Có hiệu lực vào ngày (mặc định hôm nay) / in force on (default today)"
    ),
    q: str | None = Query(None, max_length=100, description="Tìm theo tên, không phân biệt dấu / name search"),
) -> OrgUnitFilters:
    """Read the unit list filters."""
    return OrgUnitFilters(code=code or None, level=level, parent=parent or None, valid_on=valid_on, q=q or None)


def agency_filters(
    kind: AgencyKind | None = Query(None, description="Loại cơ quan / kind"),
    unit: str | None = Query(None, max_length=20, description="Phụ trách đơn vị / responsible for unit code"),
    q: str | None = Query(None, max_length=100, description="Tìm theo tên / name search"),
    include_inactive: bool = Query(False, description="Gồm cả cơ quan ngừng hoạt động / include inactive"),
) -> AgencyFilters:
    """Read the agency list filters."""
    return AgencyFilters(kind=kind, unit=unit or None, q=q or None, include_inactive=include_inactive)
