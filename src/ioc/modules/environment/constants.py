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
