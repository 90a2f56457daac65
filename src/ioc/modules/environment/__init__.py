"""Environmental monitoring: stations on telemetry datastreams, air and water quality indices (VN_AQI, US AQI,
VN_WQI), QCVN limit checks and exceedances, data-quality flags. Other modules use only what is re-exported here.
"""

from __future__ import annotations

from .constants import (
    AqiPeriod,
    AqiStandard,
    Averaging,
    Confidence,
    LimitKind,
    LimitPeriod,
    Pollutant,
    QualityFlagKind,
    Regulation,
    StationKind,
    WaterClass,
)
from .events import ExceedanceCleared, ExceedanceDetected, IndexComputed
from .exceptions import CalculationRejected, InsufficientData, Problem
from .indices import AqiResult, Category, WqiResult, nowcast, us_aqi, vn_aqi, vn_wqi
from .limits import Limit, LimitCheck, LimitReport, check_air, check_surface_water, classify_surface_water, compare
from .quality import QualityFlag, Reading, assess, flat_lines, gaps, out_of_range, spikes
from .schemas import (
    AqiCalculateRequest,
    AqiCalculation,
    LimitCheckRequest,
    LimitCheckResult,
    StationRead,
    WqiCalculateRequest,
    WqiCalculation,
)
from .service import calculate_aqi, calculate_wqi, check_limits
from .stations import list_stations, station_by_code

__all__ = [
    "AqiCalculateRequest",
    "AqiCalculation",
    "AqiPeriod",
    "AqiResult",
    "AqiStandard",
    "Averaging",
    "CalculationRejected",
    "Category",
    "Confidence",
    "ExceedanceCleared",
    "ExceedanceDetected",
    "IndexComputed",
    "InsufficientData",
    "Limit",
    "LimitCheck",
    "LimitCheckRequest",
    "LimitCheckResult",
    "LimitKind",
    "LimitPeriod",
    "LimitReport",
    "Pollutant",
    "Problem",
    "QualityFlag",
    "QualityFlagKind",
    "Reading",
    "Regulation",
    "StationKind",
    "StationRead",
    "WaterClass",
    "WqiCalculateRequest",
    "WqiCalculation",
    "WqiResult",
    "assess",
    "calculate_aqi",
    "calculate_wqi",
    "check_air",
    "check_limits",
    "check_surface_water",
    "classify_surface_water",
    "compare",
    "flat_lines",
    "gaps",
    "list_stations",
    "nowcast",
    "out_of_range",
    "spikes",
    "station_by_code",
    "us_aqi",
    "vn_aqi",
    "vn_wqi",
]
