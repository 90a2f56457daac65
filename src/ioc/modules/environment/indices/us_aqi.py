"""US EPA AQI with the 2024 PM2.5 revision (EPA-454/B-24-002, May 2024, Table 6) and the PM NowCast.

Units are the EPA's: µg/m³ for PM2.5 and PM10, ppm for O3 and CO, ppb for SO2 and NO2. Concentrations are
truncated (never rounded) to the table's precision before the band lookup; the AQI is rounded half-up
(reference §2.2). The merged 301–500 rows of PM10, CO, SO2, NO2 and O3 (1 h) are marked [M] in the reference
(§2.1, §8 item 3): not confirmed against the TAD itself.

Choices (docs/modules/environment.md): above the top of a table the sub-index is held at 500 and the result
is marked "Beyond the AQI"; a 1-hour SO2 above 304 ppb with a 24-hour mean below 305 ppb counts as 200; the
hourly O3 uses the latest 8-hour mean (the EPA's regression-based O3 NowCast is not implemented).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from ..constants import AqiPeriod, AqiStandard, Averaging, Confidence, Pollutant
from ..exceptions import InsufficientData, Problem
from .common import (
    AqiResult,
    BreakpointTable,
    Category,
    DerivationPlan,
    InputKey,
    Number,
    Statistic,
    category_for,
    dec,
    gapped_bands,
    input_name,
    pick_dominant,
    round_half_up,
    truncate,
)

TAD = "EPA-454/B-24-002 (2024), Table 6"
UG = "µg/m³"
PPM = "ppm"
PPB = "ppb"

# EPA-454/B-24-002 Table 6 (PM2.5 rows valid from 6 May 2024). Rows: (C_lo, C_hi, I_lo, I_hi).
PM25_24H = BreakpointTable(
    "PM2.5 (24h)",
    UG,
    gapped_bands(
        (
            ("0.0", "9.0", 0, 50),
            ("9.1", "35.4", 51, 100),
            ("35.5", "55.4", 101, 150),
            ("55.5", "125.4", 151, 200),
            ("125.5", "225.4", 201, 300),
            ("225.5", "325.4", 301, 500),
        )
    ),
    TAD,
)
# The 301–500 row (425–604) joins the old 301–400 lower and 401–500 upper ends: [M].
PM10_24H = BreakpointTable(
    "PM10 (24h)",
    UG,
    gapped_bands(
        (
            (0, 54, 0, 50),
            (55, 154, 51, 100),
            (155, 254, 101, 150),
            (255, 354, 151, 200),
            (355, 424, 201, 300),
            (425, 604, 301, 500),
        )
    ),
    TAD,
    Confidence.MEDIUM,
)
# 8-hour O3 defines no AQI above 300 (Table 6 footnote): higher values use the 1-hour table.
O3_8H = BreakpointTable(
    "O3 (8h)",
    PPM,
    gapped_bands(
        (
            ("0.000", "0.054", 0, 50),
            ("0.055", "0.070", 51, 100),
            ("0.071", "0.085", 101, 150),
            ("0.086", "0.105", 151, 200),
            ("0.106", "0.200", 201, 300),
        )
    ),
    TAD,
)
# 1-hour O3 starts at AQI 101; the merged 301–500 row (0.405–0.604) is [M].
O3_1H = BreakpointTable(
    "O3 (1h)",
    PPM,
    gapped_bands(
        (
            ("0.125", "0.164", 101, 150),
            ("0.165", "0.204", 151, 200),
            ("0.205", "0.404", 201, 300),
            ("0.405", "0.604", 301, 500),
        )
    ),
    TAD,
    Confidence.MEDIUM,
)
CO_8H = BreakpointTable(
    "CO (8h)",
    PPM,
    gapped_bands(
        (
            ("0.0", "4.4", 0, 50),
            ("4.5", "9.4", 51, 100),
            ("9.5", "12.4", 101, 150),
            ("12.5", "15.4", 151, 200),
            ("15.5", "30.4", 201, 300),
            ("30.5", "50.4", 301, 500),
        )
    ),
    TAD,
    Confidence.MEDIUM,
)
# 1-hour SO2 defines AQI up to 200 only; from 305 ppb the 24-hour table applies (footnote, [M]).
SO2_1H = BreakpointTable(
    "SO2 (1h)",
    PPB,
    gapped_bands(((0, 35, 0, 50), (36, 75, 51, 100), (76, 185, 101, 150), (186, 304, 151, 200))),
    TAD,
)
SO2_24H = BreakpointTable(
    "SO2 (24h)",
    PPB,
    gapped_bands(((305, 604, 201, 300), (605, 1004, 301, 500))),
    TAD,
    Confidence.MEDIUM,
)
NO2_1H = BreakpointTable(
    "NO2 (1h)",
    PPB,
    gapped_bands(
        (
            (0, 53, 0, 50),
            (54, 100, 51, 100),
            (101, 360, 101, 150),
            (361, 649, 151, 200),
            (650, 1249, 201, 300),
            (1250, 2049, 301, 500),
        )
    ),
    TAD,
    Confidence.MEDIUM,
)

TABLES: Mapping[InputKey, BreakpointTable] = {
    (Pollutant.PM25, Averaging.NOWCAST): PM25_24H,
    (Pollutant.PM25, Averaging.H24): PM25_24H,
    (Pollutant.PM10, Averaging.NOWCAST): PM10_24H,
    (Pollutant.PM10, Averaging.H24): PM10_24H,
    (Pollutant.O3, Averaging.H8): O3_8H,
    (Pollutant.O3, Averaging.H1): O3_1H,
    (Pollutant.CO, Averaging.H8): CO_8H,
    (Pollutant.SO2, Averaging.H1): SO2_1H,
    (Pollutant.SO2, Averaging.H24): SO2_24H,
    (Pollutant.NO2, Averaging.H1): NO2_1H,
}

# Truncation steps (EPA-454/B-24-002 §IV; AirNow "The AQI Equation (2024)"): O3 0.001 ppm, PM2.5 0.1 µg/m³,
# PM10 1 µg/m³, CO 0.1 ppm, SO2 and NO2 1 ppb.
TRUNCATION: Mapping[Pollutant, Decimal] = {
    Pollutant.PM25: Decimal("0.1"),
    Pollutant.PM10: Decimal(1),
    Pollutant.O3: Decimal("0.001"),
    Pollutant.CO: Decimal("0.1"),
    Pollutant.SO2: Decimal(1),
    Pollutant.NO2: Decimal(1),
}

UNITS: Mapping[Pollutant, str] = {
    Pollutant.PM25: UG,
    Pollutant.PM10: UG,
    Pollutant.O3: PPM,
    Pollutant.CO: PPM,
    Pollutant.SO2: PPB,
    Pollutant.NO2: PPB,
}

ALLOWED_INPUTS: Mapping[AqiPeriod, tuple[InputKey, ...]] = {
    AqiPeriod.HOUR: (
        (Pollutant.PM25, Averaging.NOWCAST),
        (Pollutant.PM10, Averaging.NOWCAST),
        (Pollutant.O3, Averaging.H8),
        (Pollutant.O3, Averaging.H1),
        (Pollutant.NO2, Averaging.H1),
        (Pollutant.SO2, Averaging.H1),
        (Pollutant.CO, Averaging.H8),
    ),
    AqiPeriod.DAY: (
        (Pollutant.PM25, Averaging.H24),
        (Pollutant.PM10, Averaging.H24),
        (Pollutant.O3, Averaging.H8),
        (Pollutant.O3, Averaging.H1),
        (Pollutant.NO2, Averaging.H1),
        (Pollutant.SO2, Averaging.H1),
        (Pollutant.SO2, Averaging.H24),
        (Pollutant.CO, Averaging.H8),
    ),
}

DERIVATION: Mapping[AqiPeriod, DerivationPlan] = {
    AqiPeriod.HOUR: {
        Pollutant.PM25: ((Averaging.NOWCAST, Statistic.NOWCAST),),
        Pollutant.PM10: ((Averaging.NOWCAST, Statistic.NOWCAST),),
        Pollutant.O3: ((Averaging.H8, Statistic.LAST_8H_MEAN), (Averaging.H1, Statistic.LATEST)),
        Pollutant.NO2: ((Averaging.H1, Statistic.LATEST),),
        Pollutant.SO2: ((Averaging.H1, Statistic.LATEST),),
        Pollutant.CO: ((Averaging.H8, Statistic.LAST_8H_MEAN),),
    },
    AqiPeriod.DAY: {
        Pollutant.PM25: ((Averaging.H24, Statistic.DAY_MEAN),),
        Pollutant.PM10: ((Averaging.H24, Statistic.DAY_MEAN),),
        Pollutant.O3: ((Averaging.H8, Statistic.DAY_MAX_8H), (Averaging.H1, Statistic.DAY_MAX_1H)),
        Pollutant.NO2: ((Averaging.H1, Statistic.DAY_MAX_1H),),
        Pollutant.SO2: ((Averaging.H1, Statistic.DAY_MAX_1H), (Averaging.H24, Statistic.DAY_MEAN)),
        Pollutant.CO: ((Averaging.H8, Statistic.DAY_MAX_8H),),
    },
}

NOWCAST_SOURCE = ("EPA-454/B-24-002, tr. 16", "EPA-454/B-24-002 p. 16")

DOMINANT_ORDER = (Pollutant.PM25, Pollutant.PM10, Pollutant.O3, Pollutant.NO2, Pollutant.SO2, Pollutant.CO)

# 1-hour SO2 above this has no AQI of its own (Table 6 footnote): AQI ≥ 200 comes from the 24-hour mean.
SO2_1H_TOP = Decimal(304)
SO2_CAPPED_INDEX = Decimal(200)
_HANDED_OVER = ((Pollutant.O3, Averaging.H8), (Pollutant.SO2, Averaging.H1))

# Names and colours of EPA-454/B-24-002 Table 1 (RGB as published, identical to the VN_AQI palette); the health
# statements are AirNow's ("AQI Basics"). The Vietnamese texts are the project's translation.
CATEGORIES: tuple[Category, ...] = (
    Category(
        code="good",
        low=0,
        high=50,
        name_vi="Tốt",
        name_en="Good",
        colour_vi="Xanh lá",
        colour_en="Green",
        hex="#00E400",
        meaning_vi="Chất lượng không khí đạt yêu cầu, ô nhiễm không khí gây ít hoặc không gây rủi ro.",
        meaning_en="Air quality is satisfactory, and air pollution poses little or no risk.",
    ),
    Category(
        code="moderate",
        low=51,
        high=100,
        name_vi="Trung bình",
        name_en="Moderate",
        colour_vi="Vàng",
        colour_en="Yellow",
        hex="#FFFF00",
        meaning_vi=(
            "Chất lượng không khí chấp nhận được. Tuy nhiên có thể có rủi ro với một số người, nhất là người đặc biệt "
            "nhạy cảm với ô nhiễm không khí."
        ),
        meaning_en=(
            "Air quality is acceptable. However, there may be a risk for some people, particularly those who are "
            "unusually sensitive to air pollution."
        ),
    ),
    Category(
        code="unhealthy_for_sensitive_groups",
        low=101,
        high=150,
        name_vi="Không tốt cho nhóm nhạy cảm",
        name_en="Unhealthy for Sensitive Groups",
        colour_vi="Da cam",
        colour_en="Orange",
        hex="#FF7E00",
        meaning_vi="Người thuộc nhóm nhạy cảm có thể bị ảnh hưởng sức khỏe. Công chúng ít có khả năng bị ảnh hưởng.",
        meaning_en=(
            "Members of sensitive groups may experience health effects. The general public is less likely to be "
            "affected."
        ),
    ),
    Category(
        code="unhealthy",
        low=151,
        high=200,
        name_vi="Không tốt cho sức khỏe",
        name_en="Unhealthy",
        colour_vi="Đỏ",
        colour_en="Red",
        hex="#FF0000",
        meaning_vi=(
            "Một số người trong công chúng có thể bị ảnh hưởng sức khỏe; người thuộc nhóm nhạy cảm có thể bị ảnh "
            "hưởng nghiêm trọng hơn."
        ),
        meaning_en=(
            "Some members of the general public may experience health effects; members of sensitive groups may "
            "experience more serious health effects."
        ),
    ),
    Category(
        code="very_unhealthy",
        low=201,
        high=300,
        name_vi="Rất không tốt cho sức khỏe",
        name_en="Very Unhealthy",
        colour_vi="Tím",
        colour_en="Purple",
        hex="#8F3F97",
        meaning_vi="Cảnh báo sức khỏe: nguy cơ bị ảnh hưởng sức khỏe tăng lên với mọi người.",
        meaning_en="Health alert: The risk of health effects is increased for everyone.",
    ),
    Category(
        code="hazardous",
        low=301,
        high=500,
        name_vi="Nguy hại",
        name_en="Hazardous",
        colour_vi="Nâu",
        colour_en="Maroon",
        hex="#7E0023",
        meaning_vi="Cảnh báo sức khỏe khẩn cấp: mọi người đều có nhiều khả năng bị ảnh hưởng.",
        meaning_en="Health warning of emergency conditions: everyone is more likely to be affected.",
    ),
)


def category(aqi: int) -> Category:
    """Return the Table 1 category of a US AQI value (above 500: Hazardous, reported as beyond the AQI)."""
    return category_for(CATEGORIES, aqi)


def truncated(pollutant: Pollutant, concentration: Number) -> Decimal:
    """Truncate a concentration to the precision of its Table 6 column."""
    value = dec(concentration)
    if value < 0:
        raise ValueError("a concentration cannot be negative")
    return truncate(value, TRUNCATION[pollutant])


def sub_index(key: InputKey, concentration: Number) -> Decimal | None:
    """Return the unrounded sub-index of a concentration (truncated first); None where Table 6 is blank."""
    return TABLES[key].sub_index(truncated(key[0], concentration))


def _note(field: str, rule: str, vi: str, en: str) -> Problem:
    return Problem(field, rule, vi, en)


def _beyond_note(key: InputKey, table: BreakpointTable) -> Problem:
    name = input_name(key)
    return _note(
        f"values.{name}",
        "beyond_scale",
        f"{name} vượt mức cao nhất của bảng ({table.top} {table.unit}): ngoài thang AQI (Beyond the AQI), "
        f"chỉ số được giữ ở 500.",
        f"{name} is above the top of the table ({table.top} {table.unit}): Beyond the AQI; the sub-index is held "
        f"at 500.",
    )


def _o3_index(values: Mapping[InputKey, Decimal], notes: list[Problem]) -> Decimal | None:
    parts: list[Decimal] = []
    eight = values.get((Pollutant.O3, Averaging.H8))
    one = values.get((Pollutant.O3, Averaging.H1))
    if eight is not None:
        if eight > O3_8H.top:
            notes.append(
                _note(
                    "values.O3_8h",
                    "o3_8h_above_0_200",
                    "O3 trung bình 8 giờ trên 0,200 ppm: bảng 8 giờ không định nghĩa AQI trên 300, dùng O3 1 giờ "
                    f"({TAD}, chú thích).",
                    f"8-hour O3 above 0.200 ppm: the 8-hour table defines no AQI above 300, the 1-hour O3 is used "
                    f"({TAD}, footnote).",
                )
            )
        else:
            parts.append(_checked(O3_8H.sub_index(eight)))
    if one is not None and one >= O3_1H.floor:
        parts.append(_checked(O3_1H.sub_index(one)))
    if not parts:
        if one is not None:
            notes.append(
                _note(
                    "values.O3_1h",
                    "o3_1h_below_0_125",
                    "O3 1 giờ dưới 0,125 ppm không có AQI riêng (ô trống của bảng); cần O3 trung bình 8 giờ.",
                    "1-hour O3 below 0.125 ppm has no AQI of its own (blank cells of the table); the 8-hour O3 "
                    "mean is needed.",
                )
            )
        return None
    # Areas may compute the 1-hour O3 index where it is more precautionary; the larger one is reported.
    return max(parts)


def _so2_index(values: Mapping[InputKey, Decimal], notes: list[Problem]) -> Decimal | None:
    one = values.get((Pollutant.SO2, Averaging.H1))
    day = values.get((Pollutant.SO2, Averaging.H24))
    if day is not None and day >= SO2_24H.floor:
        return _checked(SO2_24H.sub_index(day))
    if one is not None and one <= SO2_1H_TOP:
        return _checked(SO2_1H.sub_index(one))
    if one is not None and day is not None:
        # 1-hour SO2 proves AQI ≥ 200 but the 24-hour mean, which alone may give more, stays below 305 ppb.
        notes.append(
            _note(
                "values.SO2_1h",
                "so2_1h_capped_at_200",
                "SO2 1 giờ trên 304 ppb nhưng SO2 24 giờ dưới 305 ppb: chỉ số SO2 được tính là 200 (lựa chọn của "
                "dự án, xem tài liệu module).",
                "1-hour SO2 above 304 ppb but 24-hour SO2 below 305 ppb: the SO2 sub-index is taken as 200 (the "
                "project's choice, see the module documentation).",
            )
        )
        return SO2_CAPPED_INDEX
    if one is not None:
        notes.append(
            _note(
                "values.SO2_1h",
                "so2_needs_24h",
                f"SO2 1 giờ trên 304 ppb: AQI từ 200 trở lên phải tính bằng SO2 trung bình 24 giờ (SO2_24h) ({TAD}).",
                f"1-hour SO2 above 304 ppb: an AQI of 200 or more must be computed from the 24-hour SO2 mean "
                f"(SO2_24h) ({TAD}).",
            )
        )
        return None
    if day is not None:
        notes.append(
            _note(
                "values.SO2_24h",
                "so2_24h_below_305",
                "SO2 24 giờ dưới 305 ppb không có AQI riêng; AQI dưới 200 tính bằng SO2 1 giờ (SO2_1h).",
                "24-hour SO2 below 305 ppb has no AQI of its own; an AQI below 200 comes from 1-hour SO2 (SO2_1h).",
            )
        )
    return None


def _checked(value: Decimal | None) -> Decimal:
    # Truncated concentrations always fall in a band of a gap-free (at the table's precision) column.
    if value is None:
        raise ValueError("a truncated concentration fell between two bands")
    return value


def calculate(values: Mapping[InputKey, Number], period: AqiPeriod, notes: tuple[Problem, ...] = ()) -> AqiResult:
    """Compute the US AQI (NowCast for PM in the hourly period) from concentrations in the EPA's units.

    Raises InsufficientData when no pollutant yields a sub-index.
    """
    allowed = ALLOWED_INPUTS[period]
    unknown = [input_name(k) for k in values if k not in allowed]
    if unknown:
        raise ValueError(f"inputs not used by the {period} US AQI: {unknown}")
    concentrations = {key: truncated(key[0], v) for key, v in values.items()}
    collected = list(notes)
    beyond = False
    for key, concentration in concentrations.items():
        # Above the 8-hour O3 and 1-hour SO2 tables other columns take over; that is not "beyond the AQI".
        if TABLES[key].is_beyond(concentration) and key not in _HANDED_OVER:
            beyond = True
            collected.append(_beyond_note(key, TABLES[key]))
    raw: dict[Pollutant, Decimal] = {}
    for pollutant in (Pollutant.PM25, Pollutant.PM10, Pollutant.CO, Pollutant.NO2):
        for key, concentration in concentrations.items():
            if key[0] is pollutant:
                raw[pollutant] = _checked(TABLES[key].sub_index(concentration))
    o3 = _o3_index(concentrations, collected)
    if o3 is not None:
        raw[Pollutant.O3] = o3
    so2 = _so2_index(concentrations, collected)
    if so2 is not None:
        raw[Pollutant.SO2] = so2
    if not raw:
        raise InsufficientData(
            [
                *collected,
                _note(
                    "values",
                    "no_pollutant",
                    "Không có thông số nào đủ dữ liệu để tính AQI.",
                    "No pollutant has enough data to compute an AQI.",
                ),
            ]
        )
    rounded = {p: round_half_up(v) for p, v in raw.items()}
    aqi = max(rounded.values())
    return AqiResult(
        standard=AqiStandard.US_AQI,
        period=period,
        aqi=aqi,
        category=category(aqi),
        dominant=pick_dominant(DOMINANT_ORDER, rounded),
        sub_indices={p: rounded[p] for p in DOMINANT_ORDER if p in rounded},
        inputs_used={input_name(k): v for k, v in concentrations.items()},
        notes=tuple(collected),
        beyond_scale=beyond,
    )
