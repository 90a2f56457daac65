"""VN_AQI, the Vietnam Air Quality Index of Decision 1459/QĐ-TCMT (12 Nov 2019), hourly and daily.

Concentrations are in µg/m³ for every parameter, CO included (Bảng 2 is in µg/m³ throughout; entering CO in
mg/m³ is a known pitfall, reference §1.8 c). Sub-indices follow Công thức 1 (Công thức 2 is the same
interpolation applied to the NowCast), are rounded half-up to integers, and the index is their maximum.

Choices where the decision is silent (see docs/modules/environment.md):
- above the level-8 breakpoint the sub-index is held at 500 and the result is marked beyond the scale;
- NowCast uses the normalised form also when w = 1/2 (reference §1.5);
- daily means and maxima need 75 % of their hours (common.py);
- ties between equal sub-indices name the first pollutant in DOMINANT_ORDER.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from ..constants import AqiPeriod, AqiStandard, Averaging, Pollutant
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
    contiguous_bands,
    dec,
    input_name,
    pick_dominant,
    round_half_up,
)

DECISION = "QĐ 1459/QĐ-TCMT"
DECISION_EN = "Decision 1459/QĐ-TCMT"
UNIT = "µg/m³"

# Bảng 2, column I_i: eight levels; the index jumps 200 → 300 → 400 → 500 over levels 5–8.
LEVELS = (0, 50, 100, 150, 200, 300, 400, 500)
_TABLE2 = "QĐ 1459/QĐ-TCMT, Bảng 2"


def _table(name: str, breakpoints: tuple[Number, ...]) -> BreakpointTable:
    return BreakpointTable(
        name=name, unit=UNIT, bands=contiguous_bands(LEVELS[: len(breakpoints)], breakpoints), citation=_TABLE2
    )


# Bảng 2 (Decision 1459/QĐ-TCMT), BP_i in µg/m³ for i = 1…8. The level-8 cells read "≥"; O3 (8h) stops at
# level 6 (400 µg/m³). Levels are contiguous: each BP_i closes one band and opens the next.
O3_1H = _table("O3 (1h)", (0, 160, 200, 300, 400, 800, 1000, 1200))
O3_8H = _table("O3 (8h)", (0, 100, 120, 170, 210, 400))
CO = _table("CO", (0, 10_000, 30_000, 45_000, 60_000, 90_000, 120_000, 150_000))
SO2 = _table("SO2", (0, 125, 350, 550, 800, 1600, 2100, 2630))
NO2 = _table("NO2", (0, 100, 200, 700, 1200, 2350, 3100, 3850))
PM10 = _table("PM10", (0, 50, 150, 250, 350, 420, 500, 600))
PM25 = _table("PM2.5", (0, 25, 50, 80, 150, 250, 350, 500))

# Mục 2.2.2.b: the 8-hour O3 sub-index is not computed when the day's maximum 8-hour mean exceeds 400 µg/m³.
O3_8H_LIMIT = Decimal(400)

TABLES: Mapping[InputKey, BreakpointTable] = {
    (Pollutant.PM25, Averaging.NOWCAST): PM25,
    (Pollutant.PM25, Averaging.H24): PM25,
    (Pollutant.PM10, Averaging.NOWCAST): PM10,
    (Pollutant.PM10, Averaging.H24): PM10,
    (Pollutant.O3, Averaging.H1): O3_1H,
    (Pollutant.O3, Averaging.H8): O3_8H,
    (Pollutant.NO2, Averaging.H1): NO2,
    (Pollutant.SO2, Averaging.H1): SO2,
    (Pollutant.CO, Averaging.H1): CO,
}

# Mục 2.2.1 (hourly): PM by NowCast, the gases by the current 1-hour mean, O3 with the O3 (1h) column.
# Mục 2.2.2 (daily): PM by the 24-hour mean (01:00 → 00:00), SO2/NO2/CO by the day's maximum 1-hour mean,
# O3 by the larger of its maximum 1-hour and maximum 8-hour sub-indices.
ALLOWED_INPUTS: Mapping[AqiPeriod, tuple[InputKey, ...]] = {
    AqiPeriod.HOUR: (
        (Pollutant.PM25, Averaging.NOWCAST),
        (Pollutant.PM10, Averaging.NOWCAST),
        (Pollutant.O3, Averaging.H1),
        (Pollutant.NO2, Averaging.H1),
        (Pollutant.SO2, Averaging.H1),
        (Pollutant.CO, Averaging.H1),
    ),
    AqiPeriod.DAY: (
        (Pollutant.PM25, Averaging.H24),
        (Pollutant.PM10, Averaging.H24),
        (Pollutant.O3, Averaging.H1),
        (Pollutant.O3, Averaging.H8),
        (Pollutant.NO2, Averaging.H1),
        (Pollutant.SO2, Averaging.H1),
        (Pollutant.CO, Averaging.H1),
    ),
}

DERIVATION: Mapping[AqiPeriod, DerivationPlan] = {
    AqiPeriod.HOUR: {
        Pollutant.PM25: ((Averaging.NOWCAST, Statistic.NOWCAST),),
        Pollutant.PM10: ((Averaging.NOWCAST, Statistic.NOWCAST),),
        Pollutant.O3: ((Averaging.H1, Statistic.LATEST),),
        Pollutant.NO2: ((Averaging.H1, Statistic.LATEST),),
        Pollutant.SO2: ((Averaging.H1, Statistic.LATEST),),
        Pollutant.CO: ((Averaging.H1, Statistic.LATEST),),
    },
    AqiPeriod.DAY: {
        Pollutant.PM25: ((Averaging.H24, Statistic.DAY_MEAN),),
        Pollutant.PM10: ((Averaging.H24, Statistic.DAY_MEAN),),
        Pollutant.O3: ((Averaging.H1, Statistic.DAY_MAX_1H), (Averaging.H8, Statistic.DAY_MAX_8H)),
        Pollutant.NO2: ((Averaging.H1, Statistic.DAY_MAX_1H),),
        Pollutant.SO2: ((Averaging.H1, Statistic.DAY_MAX_1H),),
        Pollutant.CO: ((Averaging.H1, Statistic.DAY_MAX_1H),),
    },
}

NOWCAST_SOURCE = ("QĐ 1459/QĐ-TCMT, mục 2.2.1.a", "Decision 1459/QĐ-TCMT §2.2.1.a")

DOMINANT_ORDER = (Pollutant.PM25, Pollutant.PM10, Pollutant.O3, Pollutant.NO2, Pollutant.SO2, Pollutant.CO)
PARTICLES = (Pollutant.PM25, Pollutant.PM10)

# Bảng 1 (ranges, names, colours; RGB as published), Bảng 4 (health effects) and Bảng 5 (activity advice for
# the general public and for sensitive groups) of Decision 1459/QĐ-TCMT. The Vietnamese texts are the
# decision's; the English ones are the project's translation.
CATEGORIES: tuple[Category, ...] = (
    Category(
        code="good",
        low=0,
        high=50,
        name_vi="Tốt",
        name_en="Good",
        colour_vi="Xanh",
        colour_en="Green",
        hex="#00E400",  # RGB 0;228;0
        meaning_vi="Chất lượng không khí tốt, không ảnh hưởng tới sức khỏe",
        meaning_en="Air quality is good and does not affect health.",
        advice_general_vi="Tự do thực hiện các hoạt động ngoài trời",
        advice_general_en="Outdoor activities as usual.",
        advice_sensitive_vi="Tự do thực hiện các hoạt động ngoài trời",
        advice_sensitive_en="Outdoor activities as usual.",
    ),
    Category(
        code="moderate",
        low=51,
        high=100,
        name_vi="Trung bình",
        name_en="Moderate",
        colour_vi="Vàng",
        colour_en="Yellow",
        hex="#FFFF00",  # RGB 255;255;0
        meaning_vi=(
            "Chất lượng không khí ở mức chấp nhận được. Tuy nhiên, đối với những người nhạy cảm (người già, trẻ em, "
            "người mắc các bệnh hô hấp, tim mạch…) có thể chịu những tác động nhất định tới sức khỏe."
        ),
        meaning_en=(
            "Air quality is acceptable. However, sensitive people (the elderly, children, people with respiratory "
            "or heart disease…) may feel some effects on their health."
        ),
        advice_general_vi="Tự do thực hiện các hoạt động ngoài trời",
        advice_general_en="Outdoor activities as usual.",
        advice_sensitive_vi="Nên theo dõi các triệu chứng như ho hoặc khó thở, nhưng vẫn có thể hoạt động bên ngoài.",
        advice_sensitive_en="Watch for symptoms such as coughing or shortness of breath, but outdoor activity is fine.",
    ),
    Category(
        code="poor",
        low=101,
        high=150,
        name_vi="Kém",
        name_en="Poor",
        colour_vi="Da cam",
        colour_en="Orange",
        hex="#FF7E00",  # RGB 255;126;0
        meaning_vi="Những người nhạy cảm gặp phải các vấn đề về sức khỏe, những người bình thường ít ảnh hưởng.",
        meaning_en="Sensitive people experience health problems; other people are little affected.",
        advice_general_vi=(
            "Những người thấy có triệu chứng đau mắt, ho hoặc đau họng… nên cân nhắc giảm các hoạt động ngoài trời. "
            "Đối với học sinh, có thể hoạt động bên ngoài, nhưng nên giảm bớt việc tập thể dục kéo dài."
        ),
        advice_general_en=(
            "People with sore eyes, a cough or a sore throat should consider reducing outdoor activities. "
            "Pupils may go outside but should cut down on prolonged exercise."
        ),
        advice_sensitive_vi=(
            "Nên giảm các hoạt động mạnh và giảm thời gian hoạt động ngoài trời. "
            "Những người mắc bệnh hen suyễn có thể cần sử dụng thuốc thường xuyên hơn."
        ),
        advice_sensitive_en=(
            "Reduce strenuous activities and time spent outdoors. People with asthma may need their medicine "
            "more often."
        ),
    ),
    Category(
        code="bad",
        low=151,
        high=200,
        name_vi="Xấu",
        name_en="Bad",
        colour_vi="Đỏ",
        colour_en="Red",
        hex="#FF0000",  # RGB 255;0;0
        meaning_vi=(
            "Những người bình thường bắt đầu có các ảnh hưởng tới sức khỏe, nhóm người nhạy cảm có thể gặp những vấn "
            "đề sức khỏe nghiêm trọng hơn."
        ),
        meaning_en=(
            "Everyone begins to feel effects on their health; sensitive groups may have more serious health problems."
        ),
        advice_general_vi=(
            "Mọi người nên giảm các hoạt động mạnh khi ở ngoài trời, tránh tập thể dục kéo dài và nghỉ ngơi nhiều hơn "
            "trong nhà."
        ),
        advice_general_en=(
            "Everyone should reduce strenuous outdoor activities, avoid prolonged exercise and rest more indoors."
        ),
        advice_sensitive_vi=(
            "Nên ở trong nhà và giảm hoạt động mạnh. Nếu cần thiết phải ra ngoài, hãy đeo khẩu trang đạt tiêu chuẩn."
        ),
        advice_sensitive_en="Stay indoors and reduce strenuous activity. If you must go out, wear a certified mask.",
    ),
    Category(
        code="very_bad",
        low=201,
        high=300,
        name_vi="Rất xấu",
        name_en="Very bad",
        colour_vi="Tím",
        colour_en="Purple",
        hex="#8F3F97",  # RGB 143;63;151
        meaning_vi="Cảnh báo hưởng tới sức khỏe: mọi người bị ảnh hưởng tới sức khỏe nghiêm trọng hơn.",
        meaning_en="Health warning: everyone's health is more seriously affected.",
        advice_general_vi=(
            "Mọi người hạn chế tối đa các hoạt động ngoài trời và chuyển tất cả các hoạt động vào trong nhà. "
            "Nếu cần thiết phải ra ngoài, hãy đeo khẩu trang đạt tiêu chuẩn."
        ),
        advice_general_en=(
            "Everyone should keep outdoor activities to a minimum and move all activities indoors. "
            "If you must go out, wear a certified mask."
        ),
        advice_sensitive_vi="Nên ở trong nhà và giảm hoạt động mạnh.",
        advice_sensitive_en="Stay indoors and reduce strenuous activity.",
    ),
    Category(
        code="hazardous",
        low=301,
        high=500,
        name_vi="Nguy hại",
        name_en="Hazardous",
        colour_vi="Nâu",
        colour_en="Maroon",
        hex="#7E0023",  # RGB 126;0;35
        meaning_vi=("Cảnh báo khẩn cấp về sức khỏe: Toàn bộ dân số bị ảnh hưởng tới sức khỏe tới mức nghiêm trọng."),
        meaning_en="Health emergency: the whole population's health is seriously affected.",
        # Bảng 5 merges the two cells of this row: one advice for everyone.
        advice_general_vi=(
            "Mọi người nên ở trong nhà, đóng cửa ra vào và cửa sổ. "
            "Nếu cần thiết phải ra ngoài, hãy đeo khẩu trang đạt tiêu chuẩn."
        ),
        advice_general_en=(
            "Everyone should stay indoors with doors and windows closed. If you must go out, wear a certified mask."
        ),
        advice_sensitive_vi=(
            "Mọi người nên ở trong nhà, đóng cửa ra vào và cửa sổ. "
            "Nếu cần thiết phải ra ngoài, hãy đeo khẩu trang đạt tiêu chuẩn."
        ),
        advice_sensitive_en=(
            "Everyone should stay indoors with doors and windows closed. If you must go out, wear a certified mask."
        ),
    ),
)


def category(aqi: int) -> Category:
    """Return the Bảng 1 category of a VN_AQI value."""
    return category_for(CATEGORIES, aqi)


def sub_index(table: BreakpointTable, concentration: Number) -> Decimal:
    """Apply Công thức 1 to a concentration in µg/m³; above the last breakpoint the sub-index stays at 500."""
    value = dec(concentration)
    if value < 0:
        raise ValueError("a concentration cannot be negative")
    result = table.sub_index(value)
    if result is None:  # contiguous tables starting at 0 cover every non-negative value
        raise ValueError(f"{table.name}: no band for {value}")
    return result


def _beyond_note(key: InputKey, table: BreakpointTable) -> Problem:
    name = input_name(key)
    return Problem(
        f"values.{name}",
        "beyond_scale",
        f"{name} vượt mức cao nhất của Bảng 2 ({table.top} {UNIT}); {DECISION} không quy định cách tính trên mức "
        f"này, chỉ số thành phần được giữ ở 500.",
        f"{name} is above the top of Bảng 2 ({table.top} {UNIT}); {DECISION_EN} gives no rule beyond it, so the "
        f"sub-index is held at 500.",
    )


def _o3_8h_note() -> Problem:
    return Problem(
        "values.O3_8h",
        "o3_8h_above_400",
        f"Trung bình 8 giờ lớn nhất của O3 cao hơn 400 µg/m³: không tính AQI O3 theo trung bình 8 giờ, chỉ dùng "
        f"trung bình 1 giờ lớn nhất ({DECISION}, mục 2.2.2.b).",
        f"The day's maximum 8-hour O3 mean is above 400 µg/m³: the 8-hour O3 sub-index is not computed, only the "
        f"maximum 1-hour mean is used ({DECISION_EN} §2.2.2.b).",
    )


def _pm_mandatory() -> Problem:
    return Problem(
        "values",
        "pm_mandatory",
        f"VN_AQI bắt buộc có ít nhất một trong hai thông số PM10, PM2,5 ({DECISION}, mục 2.1.b).",
        f"VN_AQI requires at least one of PM10 and PM2.5 ({DECISION_EN} §2.1.b).",
    )


def calculate(values: Mapping[InputKey, Number], period: AqiPeriod, notes: tuple[Problem, ...] = ()) -> AqiResult:
    """Compute the hourly or daily VN_AQI from concentrations already averaged as the period requires.

    `values` holds only keys of ALLOWED_INPUTS[period]; `notes` carries what was left out earlier (e.g. a
    NowCast without 2 of its 3 latest hours) so that a refusal can explain itself.
    Raises InsufficientData when neither PM2.5 nor PM10 can be used (mục 2.1.b).
    """
    allowed = ALLOWED_INPUTS[period]
    unknown = [input_name(k) for k in values if k not in allowed]
    if unknown:
        raise ValueError(f"inputs not used by the {period} VN_AQI: {unknown}")
    concentrations = {key: dec(v) for key, v in values.items()}
    collected = list(notes)
    raw: dict[Pollutant, Decimal] = {}
    used: dict[str, Decimal] = {}
    beyond = False
    for key, concentration in concentrations.items():
        pollutant, _averaging = key
        table = TABLES[key]
        used[input_name(key)] = concentration
        if key == (Pollutant.O3, Averaging.H8) and concentration > O3_8H_LIMIT:
            collected.append(_o3_8h_note())
            continue
        if table.is_beyond(concentration):
            beyond = True
            collected.append(_beyond_note(key, table))
        value = sub_index(table, concentration)
        # Daily O3: the larger of the 1-hour and 8-hour sub-indices (mục 2.2.2.b).
        raw[pollutant] = max(raw.get(pollutant, value), value)
    if not any(p in raw for p in PARTICLES):
        raise InsufficientData([*collected, _pm_mandatory()])
    rounded = {p: round_half_up(v) for p, v in raw.items()}
    aqi = max(rounded.values())
    return AqiResult(
        standard=AqiStandard.VN_AQI,
        period=period,
        aqi=aqi,
        category=category(aqi),
        dominant=pick_dominant(DOMINANT_ORDER, rounded),
        sub_indices={p: rounded[p] for p in DOMINANT_ORDER if p in rounded},
        inputs_used=used,
        notes=tuple(collected),
        beyond_scale=beyond,
    )
