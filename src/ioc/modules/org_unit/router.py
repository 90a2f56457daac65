"""HTTP layer of administrative units and agencies: public read API, admin import, and public pages."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.errors import ValidationFailed
from ioc.core.http import Page, PageParams, db_session, page_params
from ioc.core.security import Principal, require_scope
from ioc.core.templating import render
from ioc.core.time import local_today

from . import service
from .constants import (
    AGENCY_API_PREFIX,
    API_PREFIX,
    DEFAULT_CODE_PROPERTY,
    MAX_IMPORT_BYTES,
    PAGE_PATH,
    PAGE_SIZE,
    SCOPE_WRITE,
    GeometrySource,
    ImportKind,
    UnitLevel,
)
from .deps import agency_filters, unit_filters
from .exceptions import PointOutsideProvince, UnitNotFound
from .schemas import (
    AgencyFilters,
    AgencyRead,
    GeoJsonFeature,
    GeoJsonFeatureCollection,
    ImportReport,
    OrgUnitFilters,
    OrgUnitLocated,
    OrgUnitRead,
)

api_router = APIRouter(tags=["org_unit"])
page_router = APIRouter(include_in_schema=False)

CODE_PATH = Path(..., max_length=20, description="Mã đơn vị / unit code")
VALID_ON = Query(None, description="Có hiệu lực vào ngày / in force on (YYYY-MM-DD)")
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Không tìm thấy / not found"}}
_INVALID: dict[int | str, dict[str, Any]] = {422: {"description": "Tham số không hợp lệ / invalid parameters"}}


class GeoJSONResponse(JSONResponse):
    """JSON served with the GeoJSON media type (RFC 7946)."""

    media_type = "application/geo+json"


@api_router.get(
    API_PREFIX,
    response_model=Page[OrgUnitRead],
    summary="Danh sách đơn vị hành chính / administrative units",
    responses=_INVALID,
)
async def list_org_units(
    filters: OrgUnitFilters = Depends(unit_filters),
    paging: PageParams = Depends(page_params),
    session: AsyncSession = Depends(db_session),
) -> Page[OrgUnitRead]:
    """List the units in force on a date (default today), without geometry."""
    return await service.list_units(session, filters, paging)


@api_router.get(
    f"{API_PREFIX}.geojson",
    response_model=GeoJsonFeatureCollection,
    response_model_exclude_none=True,
    response_class=GeoJSONResponse,
    summary="Ranh giới đơn vị hành chính (GeoJSON) / unit boundaries",
    responses=_INVALID,
)
async def org_units_geojson(
    level: UnitLevel | None = Query(None, description="Cấp / level"),
    parent: str | None = Query(None, max_length=20, description="Mã đơn vị cấp trên / parent code"),
    code: str | None = Query(None, max_length=20, description="Mã đơn vị / unit code"),
    valid_on: date | None = VALID_ON,
    session: AsyncSession = Depends(db_session),
) -> GeoJsonFeatureCollection:
    """Return the boundaries of the units in force as a FeatureCollection (`schematic: true` when generated)."""
    return await service.units_geojson(session, on=valid_on, level=level, parent=parent or None, code=code or None)


@api_router.get(
    f"{API_PREFIX}/locate",
    response_model=OrgUnitLocated,
    summary="Tìm đơn vị hành chính chứa một điểm / unit containing a point",
    responses={**_INVALID, 404: {"description": "Điểm nằm ngoài tỉnh / point outside the province"}},
)
async def locate_org_unit(
    lat: float = Query(..., ge=-90, le=90, description="Vĩ độ WGS 84 / latitude"),
    lon: float = Query(..., ge=-180, le=180, description="Kinh độ WGS 84 / longitude"),
    valid_on: date | None = VALID_ON,
    session: AsyncSession = Depends(db_session),
) -> OrgUnitLocated:
    """Return the deepest unit whose boundary holds the point, with its ancestors."""
    located = await service.locate(session, lat, lon, valid_on)
    if located is None:
        raise PointOutsideProvince(lat, lon)
    return located


@api_router.post(
    f"{API_PREFIX}/import",
    response_model=ImportReport,
    summary="Nhập đơn vị hoặc ranh giới / import units or boundaries",
    responses={
        401: {"description": "Cần đăng nhập / login required"},
        403: {"description": f"Thiếu quyền {SCOPE_WRITE} / scope {SCOPE_WRITE} missing"},
        422: {"description": "Tệp có lỗi; không ghi gì / the file has errors; nothing written"},
    },
)
async def import_org_units(
    file: UploadFile = File(..., description="CSV (units) hoặc GeoJSON (boundaries)"),
    kind: ImportKind = Form(..., description="units | boundaries"),
    code_property: str = Form(DEFAULT_CODE_PROPERTY, max_length=80, description="thuộc tính chứa mã / code property"),
    geometry_source: GeometrySource = Form(GeometrySource.OFFICIAL, description="nguồn ranh giới / boundary source"),
    source_epsg: int | None = Form(None, ge=1, description="EPSG gốc trước khi chuyển WGS 84 / original EPSG"),
    _principal: Principal = Depends(require_scope(SCOPE_WRITE)),
    session: AsyncSession = Depends(db_session),
) -> ImportReport:
    """Import a units CSV or a boundaries GeoJSON; a faulty file is rejected whole with every fault listed."""
    data = await file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationFailed(
            f"Tệp lớn hơn {MAX_IMPORT_BYTES // (1024 * 1024)} MB.",
            f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.",
        )
    if kind is ImportKind.UNITS:
        report = await service.import_units_csv(session, data)
    else:
        report = await service.import_boundaries_geojson(
            session, data, code_property=code_property, source=geometry_source, source_epsg=source_epsg
        )
    await session.commit()
    return report


@api_router.get(
    f"{API_PREFIX}/{{code}}",
    response_model=OrgUnitRead,
    summary="Một đơn vị hành chính / one unit",
    responses=_NOT_FOUND,
)
async def read_org_unit(
    code: str = CODE_PATH, valid_on: date | None = VALID_ON, session: AsyncSession = Depends(db_session)
) -> OrgUnitRead:
    """Return the unit version in force on `valid_on` (default today's, else the newest one)."""
    return await service.require_unit(session, code, valid_on)


@api_router.get(
    f"{API_PREFIX}/{{code}}/geometry",
    response_model=GeoJsonFeature,
    response_class=GeoJSONResponse,
    summary="Ranh giới một đơn vị (GeoJSON Feature) / one unit's boundary",
    responses=_NOT_FOUND,
)
async def read_org_unit_geometry(
    code: str = CODE_PATH, valid_on: date | None = VALID_ON, session: AsyncSession = Depends(db_session)
) -> GeoJsonFeature:
    """Return a unit's boundary as a GeoJSON Feature."""
    return await service.unit_geometry(session, code, valid_on)


@api_router.get(
    AGENCY_API_PREFIX,
    response_model=Page[AgencyRead],
    summary="Danh sách cơ quan / agencies",
    responses=_INVALID,
)
async def list_agencies(
    filters: AgencyFilters = Depends(agency_filters),
    paging: PageParams = Depends(page_params),
    session: AsyncSession = Depends(db_session),
) -> Page[AgencyRead]:
    """List agencies, optionally only those responsible for a unit."""
    return await service.list_agencies(session, filters, paging)


@api_router.get(
    f"{AGENCY_API_PREFIX}/{{code}}",
    response_model=AgencyRead,
    summary="Một cơ quan / one agency",
    responses=_NOT_FOUND,
)
async def read_agency(code: str = Path(..., max_length=40), session: AsyncSession = Depends(db_session)) -> AgencyRead:
    """Return one agency with the units it covers."""
    return await service.get_agency(session, code)


# Pages


@page_router.get(PAGE_PATH)
async def org_units_page(
    request: Request,
    level: str = "",
    q: str = Query("", max_length=100),
    offset: int = Query(0, ge=0),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Show the units in force today with a map of the commune boundaries."""
    chosen_level = UnitLevel(level) if level in {member.value for member in UnitLevel} else None
    filters = OrgUnitFilters(level=chosen_level, q=q.strip() or None)
    page = await service.list_units(session, filters, PageParams(limit=PAGE_SIZE, offset=offset))
    # The table names each parent; a filtered page may not contain the parent itself.
    parents: dict[str, OrgUnitRead] = {}
    for parent_code in sorted({unit.parent_code for unit in page.items if unit.parent_code}):
        parent = await service.get_unit(session, parent_code)
        if parent is not None:
            parents[parent_code] = parent

    def page_url(new_offset: int) -> str:
        params = {k: v for k, v in {"level": level, "q": q, "offset": str(new_offset)}.items() if v}
        return f"{PAGE_PATH}?{urlencode(params)}"

    return render(
        request,
        "org_unit/list.html",
        {
            "page": page,
            "form": {"level": chosen_level.value if chosen_level else "", "q": q},
            "levels": list(UnitLevel),
            "prev_url": page_url(max(offset - PAGE_SIZE, 0)) if offset > 0 else None,
            "next_url": page_url(offset + PAGE_SIZE) if offset + PAGE_SIZE < page.total else None,
            "today": local_today(),
            "schematic": await service.has_schematic_boundaries(session),
            "parents": parents,
        },
    )


@page_router.get(f"{PAGE_PATH}/{{code}}")
async def org_unit_page(
    request: Request,
    code: str = Path(..., max_length=20),
    valid_on: date | None = None,
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Show one unit: its place in the hierarchy, the units under it and the agencies responsible for it."""
    try:
        unit = await service.require_unit(session, code, valid_on)
    except UnitNotFound:
        return render(request, "org_unit/detail.html", {"unit": None, "code": code}, status_code=404)
    # Show an ended (or future) version as it was on a day it was in force.
    day = valid_on or min(max(local_today(), unit.valid_from), unit.valid_to or date.max)
    return render(
        request,
        "org_unit/detail.html",
        {
            "unit": unit,
            "code": code,
            "day": day,
            "ancestors": await service.ancestors(session, code, day),
            "children": await service.children(session, code, day),
            "agencies": await service.agencies_for_unit(session, code, day),
        },
    )
