"""HTTP layer of the environment module: the AQI, WQI and limit calculators, the index page and the calculator page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ioc.core.security import Principal
from ioc.core.templating import render

from . import service
from .constants import (
    API_PREFIX,
    CALCULATOR_PAGE_PATH,
    MODULE_NAME,
    PUBLIC_INDEX_PAGE_PATH,
    AqiPeriod,
    AqiStandard,
    Averaging,
    Pollutant,
)
from .deps import require_calculate
from .indices import us_aqi, vn_aqi, vn_wqi
from .indices.common import Category, input_name
from .schemas import (
    AqiCalculateRequest,
    AqiCalculation,
    LimitCheckRequest,
    LimitCheckResult,
    WqiCalculateRequest,
    WqiCalculation,
)

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
