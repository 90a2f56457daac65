"""VN_AQI against Decision 1459/QĐ-TCMT: the guide's worked examples (§2.3 and the 8-hour O3 table of
§2.2.2.a), its erratum, and the rules where the decision is silent."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from ioc.modules.environment import AqiPeriod, Averaging, InsufficientData, Pollutant
from ioc.modules.environment.indices import nowcast, vn_aqi
from ioc.modules.environment.indices.common import rolling_8h_means, round_half_up, summarise_day

PM25, PM10, O3, NO2, SO2, CO = (
    Pollutant.PM25,
    Pollutant.PM10,
    Pollutant.O3,
    Pollutant.NO2,
    Pollutant.SO2,
    Pollutant.CO,
)
NOWCAST, H1, H8, H24 = Averaging.NOWCAST, Averaging.H1, Averaging.H8, Averaging.H24

# Decision 1459/QĐ-TCMT §2.3.a: PM2.5 hourly means from 09:00 to 20:00 (20:00 is the current hour).
GUIDE_PM25 = [26.9, 24.7, 20.5, 23.5, 19.5, 16.5, 19.0, 16.5, 20.3, 22.4, 19.6, 20.6]

# Decision 1459/QĐ-TCMT §2.2.2.a: O3 hourly means from 18:00 of the day before to 00:00 (31 values), and the
# 24 printed 8-hour means (01:00 … 00:00).
GUIDE_O3_HOURLY = [
    "15.7", "14.2", "17.7", "18.9", "19.3", "15.7", "19.7",
    "22.6", "27.1", "29.0", "31.9", "25.3", "34.7", "35.2", "41.6", "45.7", "49.2", "55.8", "69.6", "78.3",
    "91.5", "97.7", "81.2", "71.8", "43.5", "34.3", "21.5", "20.5", "19.4", "20.4", "21.3",
]  # fmt: skip
GUIDE_O3_8H = [
    "18.0", "19.4", "21.2", "23.0", "23.8", "25.8", "28.2", "30.9", "33.8", "36.6", "39.9", "44.7",
    "51.3", "58.4", "66.2", "71.1", "74.4", "73.7", "71.0", "65.0", "57.8", "48.7", "39.1", "31.6",
]  # fmt: skip


def _d(values: list[float]) -> list[Decimal | None]:
    return [Decimal(str(v)) for v in values]


def test_guide_nowcast_example_gives_20_3() -> None:
    """Decision 1459/QĐ-TCMT §2.3.a: "w* = Cmin / Cmax = 16,5 / 26,9 = 0,61 … Nowcast = 20,3 (µg/m3)"."""
    result = nowcast(_d(GUIDE_PM25))
    assert result is not None
    assert result.weight.quantize(Decimal("0.01")) == Decimal("0.61")
    assert result.value.quantize(Decimal("0.1"), ROUND_HALF_UP) == Decimal("20.3")
    assert result.hours_used == 12


def test_guide_hourly_example_sub_indices() -> None:
    """Decision 1459/QĐ-TCMT §2.3.b: "AQI(O3) = (50 − 0)/(160 − 0) × (136,1 − 0) + 0 = 43" and
    "AQI(PM2.5) = (50 − 0)/(25 − 0) × (20,3 − 0) + 0 = 41"."""
    assert round_half_up(vn_aqi.sub_index(vn_aqi.O3_1H, 136.1)) == 43
    assert round_half_up(vn_aqi.sub_index(vn_aqi.PM25, 20.3)) == 41


def test_guide_hourly_no2_erratum_is_not_copied() -> None:
    """Decision 1459/QĐ-TCMT §2.3.b prints "AQI(NO2) = (100 − 50)/(200 − 100) × (118,7 − 100) + 50 = 60" and
    "AQI^h = 60". Công thức 1 gives 59.35 for that input, which rounds to 59: the printed value is an erratum
    (reference §1.8), so the formula is implemented as written and the hourly index of the example is 59."""
    assert vn_aqi.sub_index(vn_aqi.NO2, 118.7) == Decimal("59.35")
    result = vn_aqi.calculate({(PM25, NOWCAST): 20.3, (O3, H1): 136.1, (NO2, H1): 118.7}, AqiPeriod.HOUR)
    assert dict(result.sub_indices) == {PM25: 41, O3: 43, NO2: 59}
    assert result.aqi == 59
    assert result.dominant is NO2
    assert result.category.code == "moderate"


def test_guide_hourly_example_from_the_raw_pm25_series() -> None:
    """Decision 1459/QĐ-TCMT §2.3.a–b end to end: the NowCast of the printed PM2.5 hours gives AQI(PM2.5) = 41."""
    value = nowcast(_d(GUIDE_PM25))
    assert value is not None
    result = vn_aqi.calculate({(PM25, NOWCAST): value.value, (O3, H1): 136.1}, AqiPeriod.HOUR)
    assert result.sub_indices[PM25] == 41
    assert result.aqi == 43


def test_guide_daily_example_gives_110() -> None:
    """Decision 1459/QĐ-TCMT §2.3.c: "AQI(O3 8h) = 45; AQI(O3 1h) = 36; AQI(NO2) = 65; AQI(PM2.5) = 110 …
    Như vậy giá trị AQI^d = 110" for O3 8h 89,3, O3 1h 114,6, NO2 130,8 and PM2.5 24h 55,7 µg/m³."""
    assert round_half_up(vn_aqi.sub_index(vn_aqi.O3_8H, 89.3)) == 45
    assert round_half_up(vn_aqi.sub_index(vn_aqi.O3_1H, 114.6)) == 36
    assert round_half_up(vn_aqi.sub_index(vn_aqi.NO2, 130.8)) == 65
    assert round_half_up(vn_aqi.sub_index(vn_aqi.PM25, 55.7)) == 110
    result = vn_aqi.calculate({(O3, H8): 89.3, (O3, H1): 114.6, (NO2, H1): 130.8, (PM25, H24): 55.7}, AqiPeriod.DAY)
    assert result.aqi == 110
    assert dict(result.sub_indices) == {PM25: 110, O3: 45, NO2: 65}
    assert result.dominant is PM25
    assert result.category.name_vi == "Kém"


def test_guide_eight_hour_o3_table() -> None:
    """Decision 1459/QĐ-TCMT §2.2.2.a: the 24 eight-hour means of the O3 example and "Giá trị trung bình 8 giờ
    lớn nhất trong ngày là: 74,4".

    Two printed means (03:00: 21,2 and 12:00: 44,7) differ by 0.1 from the mean of the printed hourly values
    (21.25 and 44.6375): the guide averaged unrounded hourly data. Each mean is therefore checked to within
    0.1, the maximum exactly.
    """
    hourly = [Decimal(v) for v in GUIDE_O3_HOURLY]
    means = rolling_8h_means(hourly)
    assert len(means) == 24
    for computed, printed in zip(means, GUIDE_O3_8H, strict=True):
        assert computed is not None
        assert abs(computed - Decimal(printed)) <= Decimal("0.1")
    day = summarise_day(hourly)
    assert day.max_8h is not None
    assert day.max_8h.quantize(Decimal("0.1"), ROUND_HALF_UP) == Decimal("74.4")
    assert day.max_1h == Decimal("97.7")


def test_ties_round_half_up() -> None:
    """The decision says only "làm tròn thành số nguyên"; half-up matches its example (reference §1.7).
    NO2 101 µg/m³ gives exactly 50.5: half-up 51 (banker's rounding would give 50)."""
    assert vn_aqi.sub_index(vn_aqi.NO2, 101) == Decimal("50.5")
    assert round_half_up(vn_aqi.sub_index(vn_aqi.NO2, 101)) == 51


def test_exact_decimals_avoid_the_binary_float_trap() -> None:
    """Reference §1.7: binary floats turn an exact x.5 into x.4999… O3 (8h) 100.6 µg/m³ is exactly 51.5 (→ 52),
    which float arithmetic computes as 51.499999999999986 (→ 51)."""
    assert (100 - 50) / (120 - 100) * (100.6 - 100) + 50 < 51.5
    assert vn_aqi.sub_index(vn_aqi.O3_8H, 100.6) == Decimal("51.5")
    result = vn_aqi.calculate({(PM25, H24): 10, (O3, H8): 100.6}, AqiPeriod.DAY)
    assert result.sub_indices[O3] == 52


def test_co_is_in_micrograms() -> None:
    """Bảng 2 is in µg/m³ for every column, CO included (reference §1.8 c): 10 000 µg/m³ of CO is index 50."""
    assert vn_aqi.sub_index(vn_aqi.CO, 10_000) == 50
    assert vn_aqi.sub_index(vn_aqi.CO, 10) == Decimal("0.05")


@pytest.mark.parametrize(
    ("table", "concentration", "index"),
    [
        (vn_aqi.PM25, 500, 500),
        (vn_aqi.PM25, 350, 400),
        (vn_aqi.PM25, 250, 300),
        (vn_aqi.PM10, 420, 300),
        (vn_aqi.O3_1H, 1200, 500),
        (vn_aqi.SO2, 2630, 500),
        (vn_aqi.NO2, 3850, 500),
        (vn_aqi.CO, 150_000, 500),
    ],
)
def test_eight_levels_reach_500(table: object, concentration: int, index: int) -> None:
    """Bảng 2 has eight levels with I = 200 → 300 → 400 → 500 (not the US six bands, reference §1.8 a)."""
    assert vn_aqi.sub_index(table, concentration) == index  # type: ignore[arg-type]


def test_pm25_breakpoints_are_vietnamese_not_epa() -> None:
    """Reference §1.8 b: EPA breakpoints (12 / 35.4 / 55.4) labelled "1459" are wrong; Bảng 2 has 25 / 50 / 80."""
    assert vn_aqi.sub_index(vn_aqi.PM25, 25) == 50
    assert vn_aqi.sub_index(vn_aqi.PM25, 50) == 100
    assert vn_aqi.sub_index(vn_aqi.PM25, 80) == 150


def test_above_level_8_is_held_at_500_and_flagged() -> None:
    """The decision gives no rule above the "≥" level-8 breakpoint (reference §1.7); the index stays at 500 and
    the result says it is beyond the scale."""
    result = vn_aqi.calculate({(PM25, H24): 650}, AqiPeriod.DAY)
    assert result.aqi == 500
    assert result.beyond_scale is True
    assert [n.rule for n in result.notes] == ["beyond_scale"]
    assert result.category.code == "hazardous"


def test_daily_o3_takes_the_larger_of_1h_and_8h() -> None:
    """§2.2.2.b: the O3 daily sub-index is the larger of the 1-hour (O3 1h column) and 8-hour (O3 8h) ones."""
    result = vn_aqi.calculate({(PM25, H24): 5, (O3, H1): 250, (O3, H8): 110}, AqiPeriod.DAY)
    assert result.sub_indices[O3] == 125  # 1h: 125; 8h: 75
    assert result.dominant is O3


def test_daily_o3_8h_above_400_is_not_used() -> None:
    """§2.2.2.b: "Không tính toán AQI thông số O3 khi giá trị trung bình 8 giờ lớn nhất trong ngày cao hơn
    400 µg/m3" — only the 1-hour maximum counts then."""
    result = vn_aqi.calculate({(PM25, H24): 5, (O3, H1): 420, (O3, H8): 401}, AqiPeriod.DAY)
    assert result.sub_indices[O3] == 205  # from the 1-hour column only: (420 − 400) × 100 / 400 + 200
    assert "o3_8h_above_400" in [n.rule for n in result.notes]
    at_limit = vn_aqi.calculate({(PM25, H24): 5, (O3, H8): 400}, AqiPeriod.DAY)
    assert at_limit.sub_indices[O3] == 300


def test_pm_is_mandatory() -> None:
    """§2.1.b: "bắt buộc phải có tối thiểu 01 trong 02 thông số PM10, PM2.5"."""
    with pytest.raises(InsufficientData) as caught:
        vn_aqi.calculate({(O3, H1): 120, (NO2, H1): 80}, AqiPeriod.HOUR)
    assert [p.rule for p in caught.value.problems] == ["pm_mandatory"]
    assert "PM10" in caught.value.message_vi
    assert "PM2.5" in caught.value.message_en
    assert vn_aqi.calculate({(PM10, NOWCAST): 40, (CO, H1): 12_000}, AqiPeriod.HOUR).aqi == 55


def test_ties_name_the_first_pollutant_of_the_order() -> None:
    """Equal sub-indices: the dominant pollutant follows PM2.5, PM10, O3, NO2, SO2, CO (the project's choice)."""
    result = vn_aqi.calculate({(PM25, H24): 25, (SO2, H1): 125}, AqiPeriod.DAY)
    assert dict(result.sub_indices) == {PM25: 50, SO2: 50}
    assert result.dominant is PM25


@pytest.mark.parametrize(
    ("aqi", "code", "name_vi", "hex_colour"),
    [
        (0, "good", "Tốt", "#00E400"),
        (50, "good", "Tốt", "#00E400"),
        (51, "moderate", "Trung bình", "#FFFF00"),
        (101, "poor", "Kém", "#FF7E00"),
        (151, "bad", "Xấu", "#FF0000"),
        (201, "very_bad", "Rất xấu", "#8F3F97"),
        (301, "hazardous", "Nguy hại", "#7E0023"),
        (500, "hazardous", "Nguy hại", "#7E0023"),
    ],
)
def test_categories_of_bang_1(aqi: int, code: str, name_vi: str, hex_colour: str) -> None:
    """Bảng 1: ranges, names and RGB colours (0;228;0 · 255;255;0 · 255;126;0 · 255;0;0 · 143;63;151 · 126;0;35)."""
    category = vn_aqi.category(aqi)
    assert (category.code, category.name_vi, category.hex) == (code, name_vi, hex_colour)


def test_categories_carry_bilingual_health_advice() -> None:
    """Bảng 4 and 5: every category has its health effect and the advice for both groups, in both languages."""
    for category in vn_aqi.CATEGORIES:
        for text in (
            category.meaning_vi,
            category.meaning_en,
            category.advice_general_vi,
            category.advice_general_en,
            category.advice_sensitive_vi,
            category.advice_sensitive_en,
        ):
            assert text.strip()
    assert vn_aqi.CATEGORIES[2].advice_sensitive_vi.startswith("Nên giảm các hoạt động mạnh")
    assert vn_aqi.category(400).rgb == (126, 0, 35)
