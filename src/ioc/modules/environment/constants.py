"""Names, paths, scopes and closed sets of the `environment` module."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

MODULE_NAME: Final = "environment"
TITLE_VI: Final = "Quan trắc môi trường"
TITLE_EN: Final = "Environmental monitoring"

API_PREFIX: Final = "/environment"
CALCULATOR_PAGE_PATH: Final = "/environment/calculator"
PUBLIC_INDEX_PAGE_PATH: Final = "/moi-truong/chi-so"

SCOPE_CALCULATE: Final = "environment:calculate"

# Upper bound on an hourly series in a calculator request: a week of hours is far more than any rule needs.
MAX_SERIES_LENGTH: Final = 168


class AqiStandard(StrEnum):
    """The air quality indices the calculator knows."""

    VN_AQI = "VN_AQI"
    US_AQI = "US_AQI"


class AqiPeriod(StrEnum):
    """Hourly (real-time, NowCast for particles) or daily index."""

    HOUR = "hour"
    DAY = "day"


class Pollutant(StrEnum):
    """Air pollutants of both indices, spelt as the issue and the standards spell them."""

    PM25 = "PM2.5"
    PM10 = "PM10"
    O3 = "O3"
    NO2 = "NO2"
    SO2 = "SO2"
    CO = "CO"


class Averaging(StrEnum):
    """How a concentration was averaged; the suffix of a calculator input key (`PM2.5_24h`)."""

    NOWCAST = "nowcast"
    H1 = "1h"
    H8 = "8h"
    H24 = "24h"


class Confidence(StrEnum):
    """How sure the project's reference is of a table (H official, M several secondary sources, L one source)."""

    HIGH = "H"
    MEDIUM = "M"
    LOW = "L"


class Regulation(StrEnum):
    """Regulations the limit checks apply."""

    QCVN_05_2023 = "QCVN_05_2023"
    QCVN_08_2023 = "QCVN_08_2023"
    QCVN_40_2011 = "QCVN_40_2011"


class DischargeColumn(StrEnum):
    """Columns of QCVN 40:2011/BTNMT Bảng 1: A for discharges into water used for domestic supply, B otherwise."""

    A = "A"
    B = "B"


class LimitPeriod(StrEnum):
    """Averaging periods of QCVN 05:2023 (Bảng 1 and Bảng 2)."""

    H1 = "1h"
    H8 = "8h"
    H24 = "24h"
    YEAR = "year"


class LimitKind(StrEnum):
    """Whether a limit is a maximum, a minimum (dissolved oxygen) or a range (pH)."""

    MAX = "max"
    MIN = "min"
    RANGE = "range"


class WaterClass(StrEnum):
    """Surface-water quality levels of QCVN 08:2023/BTNMT Bảng 2 (A best, D worst)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


class QualityFlagKind(StrEnum):
    """Data-quality problems found in a series of readings."""

    FLAT_LINE = "flat_line"
    SPIKE = "spike"
    OUT_OF_RANGE = "out_of_range"
    GAP = "gap"


# --- stations linked to telemetry -------------------------------------------------------------------------------

SCOPE_READ: Final = "environment:read"
SCOPE_MANAGE: Final = "environment:manage"

STATIONS_PAGE_PATH: Final = "/environment/stations"
PUBLIC_AIR_PAGE_PATH: Final = "/moi-truong/khong-khi"

RECOMPUTE_JOB: Final = "environment.recompute_station"
# Readings of a station arriving within one window are evaluated once, at the window's end: ingestion runs at
# thousands of messages a second, the index changes at most hourly.
RECOMPUTE_WINDOW_SECONDS: Final = 10
# A batch reaching far into the past (a backfill, the demo history) re-evaluates at most this many hours.
MAX_EVALUATED_HOURS: Final = 7 * 24
# NowCast needs 12 hours, the 24-hour means 24: the hours read before the first evaluated one.
LOOKBACK_HOURS: Final = 24
REPORT_MAX_DAYS: Final = 31


class StationKind(StrEnum):
    """What a monitoring station measures."""

    AIR = "air"
    SURFACE_WATER = "surface_water"
    WASTEWATER = "wastewater"


# Telemetry datastream keys of the demo and of common loggers → the parameter names the index and limit tables use.
AIR_PARAMETERS: Final = {"pm25": "PM2.5", "pm10": "PM10", "co": "CO", "no2": "NO2", "so2": "SO2", "o3": "O3"}
WATER_PARAMETERS: Final = {
    "ph": "pH",
    "do": "DO",
    "bod5": "BOD5",
    "cod": "COD",
    "tss": "TSS",
    "nh4": "N-NH4",
    "temp": "temperature",
    "water_temp": "temperature",
    "tn": "TN",
    "tp": "TP",
    "color": "colour",
    "colour": "colour",
    "coliform": "Coliform",
}


STATION_EDIT_PATH: Final = "/environment/stations/{code}/edit"
STATION_NEW_PATH: Final = "/environment/stations/new"


class ReportFormat(StrEnum):
    """File formats of the station reports."""

    XLSX = "xlsx"
    PDF = "pdf"
