"""HTTP layer of the `dashboard` module: the picture's API, the desk, wall, editor and unit pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.http import db_session
from ioc.core.i18n import request_language
from ioc.core.runtime import Runtime
from ioc.core.security import Principal, optional_principal
from ioc.core.templating import render
from ioc.modules import org_unit

from . import service
from .constants import (
    ANY_ROLE,
    API_PREFIX,
    BOUNDARY_URL,
    DEFAULT_WALL,
    FEED_DEFAULT,
    FEED_MAX,
    MAX_ZOOM,
    MODULE_NAME,
    PAGE_PATH,
    SCOPE_CONFIGURE,
    UNIT_PATH,
    WALL_EDIT_PATH,
    WALL_NAME_PATTERN,
    WALL_PATH,
    ChartRange,
)
from .deps import UNIT_PATTERN, require_configure, require_read, unit_filter
from .exceptions import RoleUnknown, UnitNotFound
from .schemas import (
    ChartData,
    ChartRead,
    FeedItem,
    KpiBoard,
    LayerCatalogue,
    UnitHistory,
    WallLayout,
    WallLayoutRead,
    WallSummary,
)

api_router = APIRouter(prefix=API_PREFIX, tags=[MODULE_NAME])
page_router = APIRouter(include_in_schema=False)

WALL_NAME = Path(..., pattern=WALL_NAME_PATTERN, description="tên màn hình tường / wall name")
ROLE_QUERY = Query(None, max_length=30, description="vai trò; bỏ trống = mọi vai trò / role; empty: every role")
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Cần đăng nhập / login required"},
    403: {"description": "Không có quyền / not allowed"},
    404: {"description": "Không tìm thấy / not found"},
    422: {"description": "Dữ liệu không hợp lệ / invalid input"},
}


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _lang(request: Request) -> str:
    return request_language(request, _runtime(request).settings.default_language)


def _role(value: str | None) -> str:
    role = (value or ANY_ROLE).strip()
    if role and role not in service.role_names():
        raise RoleUnknown(role)
    return role


@api_router.get("/kpis", response_model=KpiBoard, summary="Các ô chỉ số / KPI tiles", responses=_ERRORS)
async def read_kpis(
    request: Request,
    unit: str | None = Depends(unit_filter),
    keys: str | None = Query(None, max_length=2000, description="chỉ các ô này, phân cách dấu phẩy / only these keys"),
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> KpiBoard:
    """Compute every tile the caller may see; a failing tile carries an error instead of a value."""
    wanted = [k.strip() for k in keys.split(",") if k.strip()] if keys else None
    return await service.kpi_board(session, _runtime(request), principal, _lang(request), unit, wanted)


@api_router.get("/layers", response_model=LayerCatalogue, summary="Danh mục lớp bản đồ / map layers")
async def read_layers(
    request: Request,
    unit: str | None = Depends(unit_filter),
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> LayerCatalogue:
    """List the map layers the caller may see, with how many items each holds."""
    return await service.layer_catalogue(session, _runtime(request), principal, _lang(request), unit)


@api_router.get(
    "/layers/{key}",
    summary="Một lớp bản đồ (GeoJSON) / one map layer (GeoJSON)",
    responses={**_ERRORS, 503: {"description": "Lớp tạm thời lỗi / the layer failed"}},
)
async def read_layer(
    request: Request,
    key: str = Path(..., max_length=120, pattern=r"^[a-z0-9_.-]+$"),
    unit: str | None = Depends(unit_filter),
    zoom: int | None = Query(None, ge=0, le=MAX_ZOOM, description="mức thu phóng, để gom cụm / zoom, for clustering"),
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Return a layer's GeoJSON FeatureCollection; points are clustered on a grid at low zoom."""
    collection = await service.layer_geojson(
        session, _runtime(request), principal, key, _lang(request), unit_code=unit, zoom=zoom
    )
    return JSONResponse(collection, media_type="application/geo+json")


@api_router.get("/charts", response_model=list[ChartRead], summary="Danh mục biểu đồ / charts")
async def read_charts(request: Request, principal: Principal | None = Depends(optional_principal)) -> list[ChartRead]:
    """List the charts the caller may see: the modules' charts, event counts and the history of each KPI tile."""
    return service.chart_catalogue(principal, _lang(request), _runtime(request), with_kpis=True)


@api_router.get(
    "/charts/data",
    response_model=list[ChartData],
    summary="Dữ liệu mọi biểu đồ / every chart's data",
    responses=_ERRORS,
)
async def read_charts_data(
    request: Request,
    range_: ChartRange = Query(ChartRange.WEEK, alias="range", description="khoảng thời gian / time range"),
    keys: str | None = Query(None, max_length=500, description="chỉ các biểu đồ này / only these charts"),
    unit: str | None = Depends(unit_filter),
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> list[ChartData]:
    """Draw every chart (or only `keys`) in one request, for pages that show several; a failing one carries an error."""
    wanted = [k.strip() for k in keys.split(",") if k.strip()] if keys else None
    return await service.charts_data(session, _runtime(request), principal, range_, _lang(request), unit, wanted)


@api_router.get("/charts/{key}", response_model=ChartData, summary="Dữ liệu biểu đồ / chart data", responses=_ERRORS)
async def read_chart(
    request: Request,
    key: str = Path(..., max_length=130, pattern=r"^[a-z0-9_.]+$"),
    range_: ChartRange = Query(ChartRange.WEEK, alias="range", description="khoảng thời gian / time range"),
    unit: str | None = Depends(unit_filter),
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> ChartData:
    """Draw one chart per hour or day in the chosen range: a module's chart, an event count or a tile's history."""
    return await service.chart_data(session, _runtime(request), principal, key, range_, _lang(request), unit)


@api_router.get(
    "/units/{code}/history",
    response_model=UnitHistory,
    summary="Diễn biến tại một đơn vị / what happened in one unit",
    responses=_ERRORS,
)
async def read_unit_history(
    request: Request,
    code: str = Path(..., pattern=UNIT_PATTERN),
    range_: ChartRange = Query(ChartRange.WEEK, alias="range", description="khoảng thời gian / time range"),
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> UnitHistory:
    """Count the services' events in a commune over the range and the one before, with the station index trend."""
    if await org_unit.get_unit(session, code) is None:
        raise UnitNotFound(code)
    # A warning issued for the district or the province touches each of its communes.
    try:
        areas = [unit.code for unit in await org_unit.ancestors(session, code)]
    except org_unit.UnitNotFound:  # a unit abolished since: its own events only
        areas = []
    return await service.unit_history(session, _runtime(request), principal, code, range_, _lang(request), areas)


@api_router.get("/feed", response_model=list[FeedItem], summary="Sự kiện gần đây / recent events")
async def read_feed(
    request: Request,
    limit: int = Query(FEED_DEFAULT, ge=1, le=FEED_MAX),
    unit: str | None = Depends(unit_filter),
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> list[FeedItem]:
    """Return the newest events of the feed the caller may see (staff events need a staff login), or a unit's."""
    return await service.recent_feed(session, _runtime(request), principal, _lang(request), limit, unit)


@api_router.get("/walls", response_model=list[WallSummary], summary="Bố cục đã lưu / saved wall layouts")
async def read_walls(
    _principal: Principal = Depends(require_read), session: AsyncSession = Depends(db_session)
) -> list[WallSummary]:
    """List the saved wall layouts."""
    return await service.list_walls(session)


@api_router.get(
    "/walls/{wall}/layout",
    response_model=WallLayoutRead,
    summary="Bố cục màn hình tường / wall layout",
    responses=_ERRORS,
)
async def read_wall_layout(
    request: Request,
    wall: str = WALL_NAME,
    role: str | None = ROLE_QUERY,
    principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> WallLayoutRead:
    """Return the layout a wall shows to a role: saved for the role, else for the wall, else the default."""
    return await service.effective_layout(session, _runtime(request), principal, wall, _role(role))


@api_router.put(
    "/walls/{wall}/layout", response_model=WallLayoutRead, summary="Lưu bố cục / save a wall layout", responses=_ERRORS
)
async def save_wall_layout(
    request: Request,
    layout: WallLayout,
    wall: str = WALL_NAME,
    role: str | None = ROLE_QUERY,
    principal: Principal = Depends(require_configure),
    session: AsyncSession = Depends(db_session),
) -> WallLayoutRead:
    """Save a wall's layout for a role (empty role: every role)."""
    saved = await service.save_layout(session, _runtime(request), principal, wall, _role(role), layout)
    await session.commit()
    return saved


@api_router.delete(
    "/walls/{wall}/layout", status_code=204, summary="Xoá bố cục đã lưu / forget a wall layout", responses=_ERRORS
)
async def delete_wall_layout(
    wall: str = WALL_NAME,
    role: str | None = ROLE_QUERY,
    _principal: Principal = Depends(require_configure),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Forget a saved layout, so that the wall falls back to the wall's or the default layout."""
    await service.reset_layout(session, wall, _role(role))
    await session.commit()
    return Response(status_code=204)


# ---------- pages ----------


def _page_config(request: Request, principal: Principal, unit: str | None, **extra: Any) -> dict[str, Any]:
    runtime = _runtime(request)
    lang = _lang(request)
    base = f"/api/v1{API_PREFIX}"
    names = service.feed_event_names(runtime)
    return {
        "kpis": f"{base}/kpis",
        "layers": f"{base}/layers",
        "charts": f"{base}/charts",
        "feed": f"{base}/feed",
        "boundaries": BOUNDARY_URL if runtime.module("org_unit") else "",
        "unit": unit or "",
        "unitPage": UNIT_PATH,
        "feedEvents": names,
        "eventLabels": {name: service.event_label(runtime, name, lang) for name in names},
        "feedEntries": service.feed_client_config(runtime),
        "staff": principal.has("live:read"),
        "chartList": [c.model_dump() for c in service.chart_catalogue(principal, lang, runtime)],
        "kpiCharts": [
            c.model_dump()
            for c in service.chart_catalogue(principal, lang, runtime, with_kpis=True)
            if c.key.startswith(service.KPI_CHART_PREFIX)
        ],
        "layerList": [
            {"key": layer.key, "label": layer.label(lang), "default_on": layer.default_on}
            for _m, layer in service.visible_layers(runtime, principal)
        ],
        **extra,
    }


@page_router.get(PAGE_PATH)
async def desk_page(request: Request, principal: Principal = Depends(require_read)) -> Response:
    """Show the operations picture for one screen: tiles, map, live feed and charts."""
    return render(
        request,
        "dashboard/desk.html",
        {
            "config": _page_config(request, principal, None),
            "unit": None,
            "can_configure": principal.has(SCOPE_CONFIGURE),
        },
    )


@page_router.get(f"{UNIT_PATH}/{{code}}")
async def unit_page(
    request: Request,
    code: str = Path(..., pattern=UNIT_PATTERN),
    principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Show everything happening in one commune across the services."""
    unit = await org_unit.get_unit(session, code)
    if unit is None:
        raise UnitNotFound(code)
    return render(
        request,
        "dashboard/desk.html",
        {
            "config": _page_config(request, principal, code, unitBoundary=f"/api/v1/org-units.geojson?code={code}"),
            "unit": unit,
            "can_configure": principal.has(SCOPE_CONFIGURE),
        },
    )


@page_router.get(WALL_PATH)
async def wall_page(
    request: Request,
    wall: str = Query(DEFAULT_WALL, pattern=WALL_NAME_PATTERN),
    principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Show a video wall: its screens in rotation, dark and legible from afar, live without reloads."""
    layout = await service.effective_layout(session, _runtime(request), principal, wall, principal.role.value)
    config = _page_config(request, principal, None, wall=wall, layout=layout.layout.model_dump(mode="json"))
    return render(request, "dashboard/wall.html", {"config": config, "wall": wall, "layout": layout})


@page_router.get(WALL_EDIT_PATH)
async def wall_editor_page(
    request: Request,
    wall: str = Query(DEFAULT_WALL, pattern=WALL_NAME_PATTERN),
    role: str | None = ROLE_QUERY,
    principal: Principal = Depends(require_configure),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Show the layout editor of a wall and role."""
    runtime = _runtime(request)
    lang = _lang(request)
    chosen = _role(role)
    layout = await service.effective_layout(session, runtime, principal, wall, chosen)
    config = {
        "wall": wall,
        "role": chosen,
        "layout": layout.layout.model_dump(mode="json"),
        "save": f"/api/v1{API_PREFIX}/walls/{wall}/layout",
        "tiles": [{"key": t.key, "label": t.label(lang)} for _m, t in service.visible_tiles(runtime, principal)],
        "charts": [c.model_dump() for c in service.chart_catalogue(principal, lang, runtime, with_kpis=True)],
    }
    return render(
        request,
        "dashboard/wall_edit.html",
        {
            "config": config,
            "wall": wall,
            "role": chosen,
            "roles": service.role_names(),
            "layout": layout,
            "walls": await service.list_walls(session),
        },
    )
