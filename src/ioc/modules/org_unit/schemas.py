"""Read, create and filter schemas of administrative units and agencies, and the GeoJSON shapes served."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .constants import AgencyKind, GeometrySource, ImportKind, UnitLevel


class OrgUnitRead(BaseModel):
    """One version of an administrative unit, without its (heavy) geometry."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str = Field(examples=["27727"])
    name: str = Field(examples=["Xã Hưng Điền"])
    name_en: str | None = Field(default=None, examples=["Hưng Điền Commune"])
    level: UnitLevel
    unit_type: str = Field(examples=["xã"], description="xã, phường, đặc khu, tỉnh, thành phố, huyện…")
    parent_code: str | None = None
    valid_from: date
    valid_to: date | None = Field(default=None, description="ngày cuối còn hiệu lực / last valid day (inclusive)")
    has_geometry: bool = False
    bbox: list[float] | None = Field(default=None, description="[min_lon, min_lat, max_lon, max_lat] (WGS 84)")
    geometry_source: GeometrySource | None = None
    source_epsg: int | None = None

    @property
    def schematic(self) -> bool:
        """Tell whether the unit's boundary is a generated schematic, not a real boundary."""
        return self.geometry_source is GeometrySource.SCHEMATIC


class OrgUnitLocated(OrgUnitRead):
    """The deepest unit containing a point, with its ancestors from the top of the hierarchy down."""

    ancestors: list[OrgUnitRead] = Field(default_factory=list)


class OrgUnitCreate(BaseModel):
    """One unit version as read from an import file (parent given by code)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=20, pattern=r"^[0-9A-Za-z._-]+$")
    name: str = Field(min_length=1, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    level: UnitLevel
    unit_type: str = Field(default="", max_length=40)
    parent_code: str | None = Field(default=None, max_length=20)
    valid_from: date
    valid_to: date | None = None

    @model_validator(mode="after")
    def _check(self) -> OrgUnitCreate:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        if self.parent_code == self.code:
            raise ValueError("a unit cannot be its own parent")
        return self


class OrgUnitFilters(BaseModel):
    """Filters of the unit list."""

    code: str | None = Field(default=None, max_length=20)
    level: UnitLevel | None = None
    parent: str | None = Field(default=None, max_length=20, description="mã đơn vị cấp trên / parent code")
    valid_on: date | None = Field(default=None, description="mặc định hôm nay / default today")
    q: str | None = Field(default=None, max_length=100, description="tìm theo tên, không dấu / name search")


class AgencyRead(BaseModel):
    """A public body and the units it is responsible for."""

    id: int
    code: str = Field(examples=["80-SXD"])
    name: str = Field(examples=["Sở Xây dựng"])
    name_en: str | None = Field(default=None, examples=["Department of Construction"])
    kind: AgencyKind
    parent_code: str | None = None
    email: str | None = Field(default=None, description="hộp thư công vụ / office mailbox")
    phone: str | None = Field(default=None, description="điện thoại cơ quan / office phone")
    is_active: bool
    unit_codes: list[str] = Field(default_factory=list, description="địa bàn phụ trách / units covered")


class AgencyCreate(BaseModel):
    """An agency to create or update (by code); `unit_codes` replaces its areas."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z._-]+$")
    name: str = Field(min_length=1, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    kind: AgencyKind
    parent_code: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    is_active: bool = True
    unit_codes: list[str] = Field(default_factory=list)


class AgencyFilters(BaseModel):
    """Filters of the agency list."""

    kind: AgencyKind | None = None
    unit: str | None = Field(
        default=None, max_length=20, description="phụ trách đơn vị này (kể cả cấp trên) / responsible for this unit"
    )
    q: str | None = Field(default=None, max_length=100)
    include_inactive: bool = False


class GeoJsonFeature(BaseModel):
    """A GeoJSON Feature (RFC 7946, WGS 84)."""

    type: Literal["Feature"] = "Feature"
    id: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    geometry: dict[str, Any] | None = None


class GeoJsonFeatureCollection(BaseModel):
    """A GeoJSON FeatureCollection; `note` warns when boundaries are schematic."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    note: str | None = None
    features: list[GeoJsonFeature] = Field(default_factory=list)


class ImportReport(BaseModel):
    """What an import changed."""

    kind: ImportKind
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    codes: list[str] = Field(default_factory=list, description="mã đơn vị đã tạo/cập nhật / codes written")


class ImportProblem(BaseModel):
    """One fault of an import file; `row` is the spreadsheet row (header = 1), `feature` the 0-based index."""

    row: int | None = None
    feature: int | None = None
    column: str | None = None
    message_vi: str
    message_en: str
