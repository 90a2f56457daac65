"""Administrative units (versioned, any depth), agencies and their areas; point-in-unit lookup.

Other modules use only what is re-exported here.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.http import PageParams

from . import service as _service
from .constants import AgencyKind, GeometrySource, UnitLevel
from .events import BoundariesImported, UnitsImported
from .exceptions import AgencyNotFound, GeometryNotFound, OrgUnitImportFailed, PointOutsideProvince, UnitNotFound
from .schemas import AgencyFilters, AgencyRead, OrgUnitLocated, OrgUnitRead
from .service import (
    agencies_for_point,
    agencies_for_unit,
    ancestors,
    children,
    get_agency,
    get_unit,
    locate,
    locate_point,
    unit_geometry,
    units_geojson,
    units_valid_on,
    units_within,
)

_AGENCY_PAGE = 500


async def list_agencies(
    session: AsyncSession,
    *,
    kind: AgencyKind | None = None,
    unit: str | None = None,
    include_inactive: bool = False,
) -> list[AgencyRead]:
    """Return every agency, by name; `unit` keeps those responsible for it (directly or through a unit above)."""
    filters = AgencyFilters(kind=kind, unit=unit, include_inactive=include_inactive)
    found: list[AgencyRead] = []
    while True:
        page = await _service.list_agencies(session, filters, PageParams(limit=_AGENCY_PAGE, offset=len(found)))
        found.extend(page.items)
        if not page.items or len(found) >= page.total:
            return found


__all__ = [
    "AgencyKind",
    "AgencyNotFound",
    "AgencyRead",
    "BoundariesImported",
    "GeometryNotFound",
    "GeometrySource",
    "OrgUnitImportFailed",
    "OrgUnitLocated",
    "OrgUnitRead",
    "PointOutsideProvince",
    "UnitLevel",
    "UnitNotFound",
    "UnitsImported",
    "agencies_for_point",
    "agencies_for_unit",
    "ancestors",
    "children",
    "get_agency",
    "get_unit",
    "list_agencies",
    "locate",
    "locate_point",
    "unit_geometry",
    "units_geojson",
    "units_valid_on",
    "units_within",
]
