"""HTTP layer of the environment module: calculators, stations, exceedances, reports and their pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.errors import IocError
from ioc.core.http import db_session
from ioc.core.i18n import request_language
from ioc.core.security import Principal, optional_principal
from ioc.core.templating import render
from ioc.core.time import local_today, utc_now
from ioc.modules import telemetry

from . import evaluation, reports, service, stations, views
from .constants import (
    AIR_PARAMETERS,
    API_PREFIX,
    CALCULATOR_PAGE_PATH,
    MAX_EVALUATED_HOURS,
    MODULE_NAME,
    PUBLIC_AIR_PAGE_PATH,
    PUBLIC_INDEX_PAGE_PATH,
    SCOPE_MANAGE,
    STATION_EDIT_PATH,
    STATION_NEW_PATH,
    STATIONS_PAGE_PATH,
    WATER_PARAMETERS,
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
    StationUpdate,
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


@api_router.put(
    "/stations/{code}",
    response_model=StationRead,
    responses={**READ_ERRORS, 422: {"description": "Dữ liệu không hợp lệ, nêu từng trường / invalid, per field"}},
    summary="Sửa trạm quan trắc / edit a monitoring station",
)
async def update_station(
    code: str,
    body: StationUpdate,
    _principal: Principal = Depends(require_manage),
    session: AsyncSession = Depends(db_session),
) -> StationRead:
    """Change a station's names, kind, place, limits, indices and datastreams (audited); it is evaluated again."""
    updated = await stations.update_station(session, code, body, utc_now())
    await evaluation.schedule_now(session, updated.id)
    await session.commit()
    return updated


@api_router.get(
    "/stations.geojson",
    summary="Trạm quan trắc trên bản đồ (công khai) / stations as GeoJSON (public)",
    responses={200: {"content": {"application/geo+json": {}}}},
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


# --- station editing (environment:manage) ------------------------------------------------------------------------

# Daily indices listed on a station page (two weeks, both standards).
DAILY_ROWS = 14
FORM_FIELDS = ("code", "device_code", "name", "name_en", "kind", "lat", "lon", "water_class", "discharge_column")
NUMBER_FIELDS = ("lat", "lon", "kq", "kf")
WATER_FORM_PARAMETERS = tuple(dict.fromkeys(WATER_PARAMETERS.values()))
AIR_FORM_PARAMETERS = tuple(dict.fromkeys(AIR_PARAMETERS.values()))


# The settings each kind of station reads from the form; the others stay in the form but are not used.
KIND_FIELDS = {
    StationKind.AIR: ("us_aqi",),
    StationKind.SURFACE_WATER: ("water_class",),
    StationKind.WASTEWATER: ("discharge_column", "kq", "kf"),
}


def _form_values(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Turn the station form into request fields, and the errors of values that are not even of the right type."""
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {name: form.get(name, "").strip() or None for name in FORM_FIELDS}
    values["name"] = values["name"] or ""
    for name in NUMBER_FIELDS:
        raw = form.get(name, "").strip().replace(",", ".")
        try:
            values[name] = float(raw) if raw else None
        except ValueError:
            errors[name] = {
                "vi": "Nhập một số (dùng dấu chấm hoặc dấu phẩy cho phần thập phân).",
                "en": "Enter a number (a dot or a comma before the decimals).",
            }
            values[name] = None
    values["us_aqi"] = bool(form.get("us_aqi"))
    values["is_active"] = bool(form.get("is_active"))
    for name in ("water_class", "discharge_column"):
        if values[name] not in (None, "A", "B", "C"):
            errors[name] = {"vi": "Chọn một mức trong danh sách.", "en": "Choose a level from the list."}
    groups: dict[str, dict[str, int]] = {"air": {}, "water": {}}
    for key, raw in form.items():
        group, _, parameter = key.removeprefix("ds-").partition("-")
        if not key.startswith("ds-") or group not in groups or not raw.strip():
            continue
        if raw.strip().isdigit():
            groups[group][parameter] = int(raw.strip())
        else:
            errors[key] = {"vi": "Chọn một luồng dữ liệu trong danh sách.", "en": "Choose a datastream from the list."}
    values["streams_by_group"] = groups
    try:
        kind = StationKind(values["kind"] or "")
    except ValueError:
        errors["kind"] = {"vi": "Chọn loại trạm.", "en": "Choose the kind of station."}
        return values, errors
    values["datastreams"] = groups["air" if kind is StationKind.AIR else "water"]
    for other, names in KIND_FIELDS.items():
        if other is not kind:
            for name in names:
                values[name] = False if name == "us_aqi" else None
                errors.pop(name, None)
    return values, errors


def _problem_errors(exc: IocError) -> dict[str, Any]:
    problems = exc.detail.get("problems") if isinstance(exc.detail, dict) else None
    if not problems:
        return exc.field_errors()
    errors: dict[str, Any] = {}
    for problem in problems:
        field_name = str(problem["field"])
        if field_name.startswith("datastreams."):
            field_name = "datastreams"
        errors.setdefault(field_name, {"vi": problem["message_vi"], "en": problem["message_en"]})
    return errors


async def _station_form(
    request: Request,
    session: AsyncSession,
    values: dict[str, Any],
    code: str | None,
    errors: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    streams = await telemetry.list_datastreams(session)
    devices = sorted({s.device_code for s in streams})
    known = {**AIR_PARAMETERS, **WATER_PARAMETERS}
    # Each parameter offers the datastreams whose key means it, and those with keys no table knows (a logger's
    # own names): a PM2.5 list without every COD sensor of the province keeps the form small.
    options: dict[str, list[tuple[str, str]]] = {p: [] for p in (*AIR_FORM_PARAMETERS, *WATER_FORM_PARAMETERS)}
    for stream in sorted(streams, key=lambda s: (s.device_code, s.key)):
        label = f"{stream.device_code} · {stream.key} — {stream.name}" + (
            f" ({stream.unit_symbol})" if stream.unit_symbol else ""
        )
        chosen = {p for group in _chosen_streams(values).values() for p, ds in group.items() if ds == stream.id}
        targets = {known[stream.key]} if stream.key in known else set(options)
        for parameter in (*options,):
            if parameter in targets or parameter in chosen:  # a link made by hand stays offered
                options[parameter].append((str(stream.id), label))
    return render(
        request,
        f"{MODULE_NAME}/station_form.html",
        {
            "values": values,
            "code": code,
            "errors": errors or {},
            "kinds": list(StationKind),
            "devices": devices,
            "stream_options": options,
            "air_parameters": AIR_FORM_PARAMETERS,
            "water_parameters": WATER_FORM_PARAMETERS,
        },
        status_code=status_code,
    )


def _chosen_streams(values: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Return the datastreams chosen per parameter group, from a re-shown form or from the stored station."""
    groups = values.get("streams_by_group")
    if groups:
        return dict(groups)
    return {"air" if values.get("kind") == "air" else "water": dict(values.get("datastreams") or {})}


def _values_of(station: StationRead) -> dict[str, Any]:
    values: dict[str, Any] = station.model_dump()
    values["kind"] = station.kind.value
    return values


@page_router.get(STATION_NEW_PATH)
async def new_station_page(
    request: Request, _principal: Principal = Depends(require_manage), session: AsyncSession = Depends(db_session)
) -> Response:
    """Show the form registering a station."""
    values: dict[str, Any] = {"kind": StationKind.AIR.value, "is_active": True, "datastreams": {}}
    return await _station_form(request, session, values, None)


@page_router.post(STATION_NEW_PATH)
async def create_station_page(
    request: Request, _principal: Principal = Depends(require_manage), session: AsyncSession = Depends(db_session)
) -> Response:
    """Register a station from the form; problems are shown beside their fields in the user's language."""
    form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf_token"}
    values, errors = _form_values(form)
    if errors:
        return await _station_form(request, session, values, None, errors, 422)
    data = {k: v for k, v in values.items() if k not in ("is_active", "streams_by_group")}
    if not data["datastreams"] and data["device_code"]:
        data["datastreams"] = None  # link the device's datastreams by key
    try:
        created = await stations.create_station(session, StationCreate.model_validate(data))
    except ValidationError as exc:
        return await _station_form(request, session, values, None, _validation_errors(exc), 422)
    except IocError as exc:
        await session.rollback()
        return await _station_form(request, session, values, None, _problem_errors(exc), exc.status_code)
    await evaluation.schedule_now(session, created.id)
    await session.commit()
    return RedirectResponse(f"{STATIONS_PAGE_PATH}/{created.code}", status_code=303)


@page_router.get(STATION_EDIT_PATH)
async def edit_station_page(
    request: Request,
    code: str,
    _principal: Principal = Depends(require_manage),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Show the form editing a station."""
    station = await stations.station_by_code(session, code)
    return await _station_form(request, session, _values_of(station), station.code)


@page_router.post(STATION_EDIT_PATH)
async def save_station_page(
    request: Request,
    code: str,
    _principal: Principal = Depends(require_manage),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Save a station's settings from the form (audited); problems are shown beside their fields."""
    station = await stations.station_by_code(session, code)
    form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf_token"}
    values, errors = _form_values(form)
    if errors:
        return await _station_form(request, session, values, station.code, errors, 422)
    data = {k: v for k, v in values.items() if k not in ("code", "device_code", "streams_by_group")}
    try:
        updated = await stations.update_station(session, code, StationUpdate.model_validate(data), utc_now())
    except ValidationError as exc:
        return await _station_form(request, session, values, station.code, _validation_errors(exc), 422)
    except IocError as exc:
        await session.rollback()
        return await _station_form(request, session, values, station.code, _problem_errors(exc), exc.status_code)
    await evaluation.schedule_now(session, updated.id)
    await session.commit()
    return RedirectResponse(f"{STATIONS_PAGE_PATH}/{updated.code}", status_code=303)


def _validation_errors(exc: ValidationError) -> dict[str, Any]:
    return {
        str(err["loc"][0]) if err["loc"] else "": {"vi": "Giá trị không hợp lệ.", "en": f"Invalid value: {err['msg']}"}
        for err in exc.errors()
    }


@page_router.get(STATIONS_PAGE_PATH + "/{code}")
async def station_page(
    request: Request,
    code: str,
    principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Show one station: newest readings (live), hourly and daily index, charts, exceedances, quality, reports."""
    station = await stations.station_by_code(session, code)
    lang = request_language(request, request.app.state.runtime.settings.default_language)
    return render(
        request,
        f"{MODULE_NAME}/station.html",
        {
            "station": station,
            "can_manage": principal.has(SCOPE_MANAGE),
            "daily": await views.daily_indices(session, station, DAILY_ROWS),
            "day_colour": None if station.day_index_value is None else vn_aqi.category(station.day_index_value).hex,
            "us_colour": None if station.us_index_value is None else us_aqi.category(station.us_index_value).hex,
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
                "standard": views.primary_standard(station),
                "categories": {
                    "VN_AQI": {c.code: {"hex": c.hex, "vi": c.name_vi, "en": c.name_en} for c in vn_aqi.CATEGORIES},
                    "US_AQI": {c.code: {"hex": c.hex, "vi": c.name_vi, "en": c.name_en} for c in us_aqi.CATEGORIES},
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
            "categories_json": {
                standard: {c.code: {"hex": c.hex, "vi": c.name_vi, "en": c.name_en} for c in module.CATEGORIES}
                for standard, module in (("VN_AQI", vn_aqi), ("US_AQI", us_aqi))
            },
        },
    )
