"""Closed sets and fixed values of the org_unit module."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path


class UnitLevel(StrEnum):
    """The administrative level of a unit; the hierarchy itself may be deeper (parent links)."""

    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"


class AgencyKind(StrEnum):
    """What sort of body an agency is."""

    DEPARTMENT = "department"
    COMMUNE_COMMITTEE = "commune_committee"
    POLICE = "police"
    UTILITY = "utility"
    OTHER = "other"


class GeometrySource(StrEnum):
    """Where a boundary comes from; only `official` may be used for legal purposes."""

    OFFICIAL = "official"  # the administrative boundary record (hồ sơ địa giới hành chính)
    REFERENCE = "reference"  # third-party data, good for overview maps, not authoritative
    SCHEMATIC = "schematic"  # generated cells for demos; not a boundary at all


class ImportKind(StrEnum):
    """What an import file holds."""

    UNITS = "units"
    BOUNDARIES = "boundaries"


SCOPE_WRITE = "org_unit:write"

API_PREFIX = "/org-units"
AGENCY_API_PREFIX = "/agencies"
PAGE_PATH = "/org-units"
PAGE_SIZE = 100

DEFAULT_CODE_PROPERTY = "code"
MAX_IMPORT_BYTES = 50 * 1024 * 1024
# WGS 84 longitude/latitude limits; anything beyond is projected data that was not converted.
MAX_LONGITUDE = 180.0
MAX_LATITUDE = 90.0

# The 2025 reform (two-tier local government) took effect on this day.
REFORM_2025 = date(2025, 7, 1)

DEMO_DIR = Path(__file__).parent / "demo"
DEMO_COMMUNES_CSV = DEMO_DIR / "tay-ninh-2025-communes.csv"
DEMO_PROVINCE_GEOJSON = DEMO_DIR / "tay-ninh-province-2025.geojson"
DEMO_SCHEMATIC_GEOJSON = DEMO_DIR / "tay-ninh-communes-schematic.geojson"
