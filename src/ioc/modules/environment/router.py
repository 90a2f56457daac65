"""HTTP layer of the environment module: calculators, stations, exceedances, reports and their pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.http import db_session
from ioc.core.i18n import request_language
from ioc.core.security import Principal, optional_principal
from ioc.core.templating import render
from ioc.core.time import local_today

from . import evaluation, reports, service, stations, views
from .constants import (
    API_PREFIX,
    CALCULATOR_PAGE_PATH,
    MAX_EVALUATED_HOURS,
    MODULE_NAME,
    PUBLIC_AIR_PAGE_PATH,
    PUBLIC_INDEX_PAGE_PATH,
    STATIONS_PAGE_PATH,
    AqiPeriod,
    AqiStandard,
    Averaging,
    Pollutant,
    ReportFormat,
    StationKind,
)
from .deps import require_calculate, require_manage, require_read
from .indices import us_aqi, vn_aqi, vn_wqi
from .indices.common import Category, input_name
from .schemas import (
    AqiCalculateRequest,
    AqiCalculation,
    ExceedanceRead,
    LimitCheckRequest,
    LimitCheckResult,
    ParameterLatest,
    PublicStation,
    StationCreate,
    StationRead,
    WqiCalculateRequest,
    WqiCalculation,
)
from .views import public_station

api_router = APIRouter(prefix=API_PREFIX, tags=[MODULE_NAME])
page_router = APIRouter(include_in_schema=False)

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Cần đăng nhập / login required"},
    403: {"description": "Thiếu quyền environment:calculate / the environment:calculate scope is missing"},
    422: {
        "description": (
            "Dữ liệu không dùng được: detail.problems nêu từng lỗi và quy tắc / unusable input: detail.problems "
            "names each fault and the rule it breaks"
        )
    },
}


@api_router.post(
    "/aqi/calculate",
    response_model=AqiCalculation,
    responses=ERRORS,
    summary="Tính VN_AQI / US AQI (giờ hoặc ngày) / compute VN_AQI or US AQI (hourly or daily)",
)
async def calculate_aqi(
    body: AqiCalculateRequest, _principal: Principal = Depends(require_calculate)
) -> AqiCalculation:
    """Compute an air quality index from hourly series and/or averaged concentrations in the standard's units."""
    return service.calculate_aqi(body)


@api_router.post(
    "/wqi/calculate",
    response_model=WqiCalculation,
    responses=ERRORS,
    summary="Tính VN_WQI (QĐ 1460/QĐ-TCMT) / compute VN_WQI",
)
async def calculate_wqi(
    body: WqiCalculateRequest, _principal: Principal = Depends(require_calculate)
) -> WqiCalculation:
    """Compute the Vietnam Water Quality Index of one water sample."""
    return service.calculate_wqi(body)


@api_router.post(
    "/limits/check",
    response_model=LimitCheckResult,
    responses=ERRORS,
    summary="So với QCVN 05:2023 / QCVN 08:2023 / check values against QCVN 05:2023 or QCVN 08:2023",
)
async def check_limits(body: LimitCheckRequest, _principal: Principal = Depends(require_calculate)) -> LimitCheckResult:
    """List the exceedances of air (by averaging period) or surface-water (by level) values."""
    return service.check_limits(body)


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def text_colour(hex_colour: str) -> str:
    """Return black or white, whichever contrasts more with a background colour (WCAG relative luminance)."""
    background = _luminance(hex_colour)
    on_black = (background + 0.05) / 0.05
    on_white = 1.05 / (background + 0.05)
    return "#000000" if on_black >= on_white else "#FFFFFF"


def _swatches(categories: tuple[Category, ...]) -> list[dict[str, Any]]:
    return [{"category": c, "text": text_colour(c.hex)} for c in categories]


@page_router.get(PUBLIC_INDEX_PAGE_PATH)
async def public_index_page(request: Request) -> Response:
    """Explain the air and water quality categories, their colours and the health advice (public)."""
    return render(
        request,
        f"{MODULE_NAME}/aqi_public.html",
        {
            "vn_categories": _swatches(vn_aqi.CATEGORIES),
            "us_categories": _swatches(us_aqi.CATEGORIES),
            "wqi_categories": _swatches(vn_wqi.CATEGORIES),
        },
    )


EXAMPLES = {
    "vn_hour": {
        "standard": "VN_AQI",
        "period": "hour",
        "hourly": {"PM2.5": [26.9, 24.7, 20.5, 23.5, 19.5, 16.5, 19.0, 16.5, 20.3, 22.4, 19.6, 20.6]},
        "values": {"O3_1h": 136.1, "NO2_1h": 118.7},
    },
    "vn_day": {
        "standard": "VN_AQI",
        "period": "day",
        "hourly": {},
        "values": {"O3_8h": 89.3, "O3_1h": 114.6, "NO2_1h": 130.8, "PM2.5_24h": 55.7},
    },
}


def calculator_config() -> dict[str, Any]:
    """Return what the calculator page's script needs: accepted inputs and units per standard, and examples."""
    modules = service.STANDARDS
    return {
        "endpoint": f"/api/v1{API_PREFIX}/aqi/calculate",
        "inputs": {
            standard.value: {
                period.value: [input_name(key) for key in modules[standard].ALLOWED_INPUTS[period]]
                for period in AqiPeriod
            }
            for standard in AqiStandard
        },
        "units": {
            standard.value: {p.value: service.unit_of(standard, p) for p in Pollutant} for standard in AqiStandard
        },
        "examples": EXAMPLES,
    }


def _all_inputs() -> list[str]:
    keys = {
        key for module in service.STANDARDS.values() for period in AqiPeriod for key in module.ALLOWED_INPUTS[period]
    }
    pollutants, averagings = list(Pollutant), list(Averaging)
    ordered = sorted(keys, key=lambda key: (pollutants.index(key[0]), averagings.index(key[1])))
    return [input_name(key) for key in ordered]


@page_router.get(CALCULATOR_PAGE_PATH)
async def calculator_page(request: Request, _principal: Principal = Depends(require_calculate)) -> Response:
    """Show the staff AQI calculator (the form posts to the calculator endpoint from a static script)."""
    return render(
        request,
        f"{MODULE_NAME}/calculator.html",
        {
            "config": calculator_config(),
            "input_names": _all_inputs(),
            "pollutants": [p.value for p in Pollutant],
            "standards": [s.value for s in AqiStandard],
        },
    )


# --- stations ---------------------------------------------------------------------------------------------------

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Không tìm thấy trạm / no such station"}}
READ_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Cần đăng nhập / login required"},
    403: {"description": "Thiếu quyền environment:read / the environment:read scope is missing"},
    **NOT_FOUND,
}


@api_router.get(
    "/stations",
    response_model=list[StationRead],
    responses=READ_ERRORS,
    summary="Danh sách trạm quan trắc / list monitoring stations",
)
async def list_stations(
    kind: StationKind | None = Query(None, description="Loại trạm / station kind"),
    unit_code: str | None = Query(None, max_length=20, description="Mã đơn vị hành chính / unit code"),
    _principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> list[StationRead]:
    """Return the active stations with their datastreams and current index."""
    return await stations.list_stations(session, kind, unit_code or None)


@api_router.post(
    "/stations",
    response_model=StationRead,
    status_code=status.HTTP_201_CREATED,
    responses={**READ_ERRORS, 409: {"description": "Mã trạm đã dùng / code taken"}},
    summary="Khai báo trạm trên thiết bị quan trắc / register a station on a telemetry device",
)
async def create_station(
    body: StationCreate,
    _principal: Principal = Depends(require_manage),
    session: AsyncSession = Depends(db_session),
) -> StationRead:
    """Register a station; the device's datastreams are linked by key and evaluated shortly after."""
    created = await stations.create_station(session, body)
    await evaluation.schedule_now(session, created.id)
    await session.commit()
    return created


@api_router.get(
    "/stations.geojson",
    summary="Trạm quan trắc trên bản đồ (công khai) / stations as GeoJSON (public)",
)
async def stations_geojson(
    request: Request,
    kind: StationKind | None = Query(None, description="Loại trạm / station kind"),
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> JSONResponse:
    """Return every station as a point coloured by its current index (codes, names and index only)."""
    lang = request_language(request, request.app.state.runtime.settings.default_language)
    rows = await stations.list_stations(session, kind)
    # Citizens get no links to the staff station pages.
    links = principal is not None
    return JSONResponse(stations.feature_collection(rows, lang, links=links), media_type="application/geo+json")


@api_router.get(
    "/air-quality",
    response_model=list[PublicStation],
    summary="Chỉ số không khí hiện tại các trạm (công khai) / current air quality per station (public)",
)
async def public_air_quality(session: AsyncSession = Depends(db_session)) -> list[PublicStation]:
    """Return the air stations with their current VN_AQI and category (no personal data)."""
    return [public_station(s) for s in await stations.list_stations(session, StationKind.AIR)]


@api_router.get("/stations/{code}", response_model=StationRead, responses=READ_ERRORS, summary="Một trạm / a station")
async def get_station(
    code: str, _principal: Principal = Depends(require_read), session: AsyncSession = Depends(db_session)
) -> StationRead:
    """Return one station."""
    return await stations.station_by_code(session, code)


@api_router.get(
    "/stations/{code}/latest",
    response_model=list[ParameterLatest],
    responses=READ_ERRORS,
    summary="Giá trị mới nhất từng thông số / newest reading per parameter",
)
async def station_latest(
    code: str, _principal: Principal = Depends(require_read), session: AsyncSession = Depends(db_session)
) -> list[ParameterLatest]:
    """Return the newest reading of each parameter of a station, read from its datastreams."""
    return await views.latest(session, await stations.station_by_code(session, code))


@api_router.get(
    "/stations/{code}/chart",
    responses=READ_ERRORS,
    summary="Số liệu giờ và chỉ số cho biểu đồ / hourly means and index for charts",
)
async def station_chart(
    code: str,
    hours: int = Query(48, ge=1, le=MAX_EVALUATED_HOURS, description="Số giờ gần nhất / hours back"),
    _principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> dict[str, Any]:
    """Return aligned hourly series (Unix seconds) of the index and every parameter, for the station page."""
    return await views.chart(session, await stations.station_by_code(session, code), hours)


@api_router.get(
    "/stations/{code}/exceedances",
    response_model=list[ExceedanceRead],
    responses=READ_ERRORS,
    summary="Các lần vượt ngưỡng QCVN / QCVN exceedances",
)
async def station_exceedances(
    code: str,
    limit: int = Query(50, ge=1, le=500),
    _principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> list[ExceedanceRead]:
    """Return a station's exceedances, newest first (open ones have no end)."""
    return await views.exceedances(session, await stations.station_by_code(session, code), limit)


def _report_response(report: reports.StationReport, fmt: ReportFormat) -> Response:
    name = reports.filename(report, fmt.value)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt is ReportFormat.PDF:
        return Response(reports.to_pdf(report), media_type="application/pdf", headers=headers)
    return Response(reports.to_xlsx(report), media_type=reports.XLSX_MEDIA_TYPE, headers=headers)


@api_router.get(
    "/stations/{code}/reports/daily",
    responses={**READ_ERRORS, 400: {"description": "Ngày không hợp lệ / invalid day"}},
    summary="Báo cáo ngày (Excel, PDF) / daily report (Excel, PDF)",
)
async def daily_report(
    code: str,
    day: dt.date = Query(..., description="Ngày (giờ Việt Nam) / local day, YYYY-MM-DD"),
    format: ReportFormat = Query(ReportFormat.XLSX),
    _principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Download a station's daily report: hourly means, hourly and daily index, exceedances."""
    return _report_response(await reports.daily_report(session, code, day), format)


@api_router.get(
    "/stations/{code}/reports/monthly",
    responses={**READ_ERRORS, 400: {"description": "Tháng không hợp lệ / invalid month"}},
    summary="Báo cáo tháng (Excel, PDF) / monthly report (Excel, PDF)",
)
async def monthly_report(
    code: str,
    month: str = Query(..., pattern=r"^\d{4}-\d{2}$", description="Tháng / month, YYYY-MM"),
    format: ReportFormat = Query(ReportFormat.XLSX),
    _principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Download a station's monthly report: daily means and index, exceedances."""
    year, number = (int(part) for part in month.split("-"))
    return _report_response(await reports.monthly_report(session, code, year, number), format)


# --- station pages ----------------------------------------------------------------------------------------------


@page_router.get(STATIONS_PAGE_PATH)
async def stations_page(
    request: Request, _principal: Principal = Depends(require_read), session: AsyncSession = Depends(db_session)
) -> Response:
    """Show the province map of stations coloured by their current index, and the station table."""
    rows = await stations.list_stations(session)
    return render(
        request,
        f"{MODULE_NAME}/stations.html",
        {
            "stations": rows,
            "text_colour": text_colour,
            "category_name": views.category_name,
            "vn_categories": _swatches(vn_aqi.CATEGORIES),
        },
    )


@page_router.get(STATIONS_PAGE_PATH + "/{code}")
async def station_page(
    request: Request,
    code: str,
    _principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Show one station: newest readings (live), index and parameter charts, exceedances, quality, reports."""
    station = await stations.station_by_code(session, code)
    lang = request_language(request, request.app.state.runtime.settings.default_language)
    return render(
        request,
        f"{MODULE_NAME}/station.html",
        {
            "station": station,
            "latest": await views.latest(session, station),
            "exceedances": await views.exceedances(session, station, 20),
            "quality": await views.quality_flags(session, station, lang),
            "text_colour": text_colour,
            "category_name": views.category_name,
            "today": local_today(),
            "this_month": f"{local_today():%Y-%m}",
            "config": {
                "code": station.code,
                "chart": f"/api/v1{API_PREFIX}/stations/{station.code}/chart",
                "latest": f"/api/v1{API_PREFIX}/stations/{station.code}/latest",
                "datastreams": sorted(station.datastreams.values()),
                "station_id": station.id,
                "categories": {
                    "VN_AQI": {c.code: {"hex": c.hex, "vi": c.name_vi, "en": c.name_en} for c in vn_aqi.CATEGORIES},
                    "VN_WQI": {c.code: {"hex": c.hex, "vi": c.name_vi, "en": c.name_en} for c in vn_wqi.CATEGORIES},
                },
            },
        },
    )


@page_router.get(PUBLIC_AIR_PAGE_PATH)
async def public_air_page(request: Request, session: AsyncSession = Depends(db_session)) -> Response:
    """Show the current air quality of every air station (public, live)."""
    rows = [public_station(s) for s in await stations.list_stations(session, StationKind.AIR)]
    return render(
        request,
        f"{MODULE_NAME}/air_public.html",
        {
            "stations": rows,
            "text_colour": text_colour,
            "category_name": views.category_name,
            "vn_categories": _swatches(vn_aqi.CATEGORIES),
            "categories_json": {c.code: {"hex": c.hex, "vi": c.name_vi, "en": c.name_en} for c in vn_aqi.CATEGORIES},
        },
    )
