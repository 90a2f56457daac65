"""Administrative units (versioned, any depth), agencies and their areas; point-in-unit lookup.

Other modules use only what is re-exported here.
"""

from __future__ import annotations

from .constants import AgencyKind, GeometrySource, UnitLevel
from .events import BoundariesImported, UnitsImported
from .exceptions import AgencyNotFound, GeometryNotFound, OrgUnitImportFailed, PointOutsideProvince, UnitNotFound
from .schemas import AgencyRead, OrgUnitLocated, OrgUnitRead
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
    units_valid_on,
    units_within,
)

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
    "locate",
    "locate_point",
    "unit_geometry",
    "units_valid_on",
    "units_within",
]
