"""US EPA AQI (EPA-454/B-24-002, Table 6, 2024 PM2.5 rows) with truncation, NowCast and the blank cells.

The reference keeps the EPA's own worked examples out (they are acceptance vectors kept elsewhere); the values
here are computed by hand from Table 6 and the AQI equation, each shown in its test.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from ioc.modules.environment import AqiPeriod, Averaging, Confidence, InsufficientData, Pollutant
from ioc.modules.environment.indices import us_aqi
from ioc.modules.environment.indices.common import round_half_up

PM25, PM10, O3, NO2, SO2, CO = (
    Pollutant.PM25,
    Pollutant.PM10,
    Pollutant.O3,
    Pollutant.NO2,
    Pollutant.SO2,
    Pollutant.CO,
)
NOWCAST, H1, H8, H24 = Averaging.NOWCAST, Averaging.H1, Averaging.H8, Averaging.H24


def _aqi(key: tuple[Pollutant, Averaging], value: float | int | str) -> int:
    index = us_aqi.sub_index(key, value)
    assert index is not None
    return round_half_up(index)


def test_daily_index_with_three_pollutants() -> None:
    """Table 6 by hand: O3 8h 0.07853 ppm → truncated 0.078 → (150 − 101)/(0.085 − 0.071) × 0.007 + 101 = 125.5
    → 126; PM2.5 35.9 → 49/19.9 × 0.4 + 101 = 101.98 → 102; CO 8.4 ppm → 49/4.9 × 3.9 + 51 = 90. The AQI is the
    largest, O3 is the critical pollutant."""
    result = us_aqi.calculate({(O3, H8): 0.07853, (PM25, H24): 35.9, (CO, H8): 8.4}, AqiPeriod.DAY)
    assert dict(result.sub_indices) == {PM25: 102, O3: 126, CO: 90}
    assert result.aqi == 126
    assert result.dominant is O3
    assert result.category.name_en == "Unhealthy for Sensitive Groups"
    assert result.inputs_used["O3_8h"] == Decimal("0.078")


@pytest.mark.parametrize(
    ("concentration", "index"),
    [
        ("0.0", 0),
        ("9.0", 50),  # Good now ends at 9.0 (12.0 before May 2024)
        ("9.1", 51),
        ("12.0", 56),  # was 50 under the 2012 table: 49/26.3 × 2.9 + 51 = 56.40
        ("35.4", 100),
        ("35.5", 101),
        ("55.4", 150),
        ("55.5", 151),
        ("125.4", 200),  # Unhealthy now ends at 125.4 (150.4 before)
        ("125.5", 201),
        ("225.4", 300),
        ("225.5", 301),  # one Hazardous band 225.5–325.4
        ("325.4", 500),
    ],
)
def test_pm25_2024_breakpoints(concentration: str, index: int) -> None:
    """EPA-454/B-24-002 Table 6, PM2.5 rows valid from 6 May 2024 (reference §2.1, changes listed in §2.1)."""
    assert _aqi((PM25, H24), concentration) == index


def test_concentrations_are_truncated_not_rounded() -> None:
    """Reference §2.2: PM2.5 to 0.1 µg/m³, PM10 to 1 µg/m³, O3 to 0.001 ppm, CO to 0.1 ppm, SO2/NO2 to 1 ppb."""
    assert _aqi((PM25, H24), "35.49") == 100  # 35.4, not 35.5
    assert _aqi((PM25, H24), "9.09") == 50
    assert _aqi((PM10, H24), "54.9") == 50
    assert _aqi((O3, H8), "0.0549") == 50
    assert _aqi((CO, H8), "4.49") == 50
    assert _aqi((NO2, H1), "53.9") == 50
    assert _aqi((SO2, H1), "35.99") == 50


def test_hourly_pm_uses_the_truncated_nowcast() -> None:
    """AirNow: "The Nowcast values are then truncated to 1 ug/m3 for PM10 or 0.1 ug/m3 for PM2.5"."""
    result = us_aqi.calculate({(PM25, NOWCAST): "35.46", (PM10, NOWCAST): "154.9"}, AqiPeriod.HOUR)
    assert result.inputs_used == {"PM2.5_nowcast": Decimal("35.4"), "PM10_nowcast": Decimal(154)}
    assert dict(result.sub_indices) == {PM25: 100, PM10: 100}


def test_ozone_reports_the_larger_of_8h_and_1h() -> None:
    """Table 6 note: areas may compute the 1-hour O3 index where it is more precautionary; the larger is reported.
    O3 8h 0.060 → 49/0.015 × 0.005 + 51 = 67.3; O3 1h 0.130 → 49/0.039 × 0.005 + 101 = 107.3."""
    result = us_aqi.calculate({(PM25, H24): 5, (O3, H8): 0.060, (O3, H1): 0.130}, AqiPeriod.DAY)
    assert result.sub_indices[O3] == 107


def test_one_hour_ozone_below_0_125_has_no_index() -> None:
    """The 1-hour O3 column starts at AQI 101 (0.125 ppm); below it the cell is blank."""
    assert us_aqi.sub_index((O3, H1), "0.124") is None
    with pytest.raises(InsufficientData) as caught:
        us_aqi.calculate({(O3, H1): 0.100}, AqiPeriod.DAY)
    assert [p.rule for p in caught.value.problems] == ["o3_1h_below_0_125", "no_pollutant"]


def test_eight_hour_ozone_above_0_200_hands_over_to_1_hour() -> None:
    """8-hour O3 defines no AQI above 300: O3 8h 0.250 is set aside and O3 1h 0.300 ppm gives
    99/0.199 × 0.095 + 201 = 248.3 → 248."""
    result = us_aqi.calculate({(O3, H8): 0.250, (O3, H1): 0.300}, AqiPeriod.DAY)
    assert result.aqi == 248
    assert result.beyond_scale is False
    assert "o3_8h_above_0_200" in [n.rule for n in result.notes]


def test_so2_above_304_ppb_needs_the_24_hour_mean() -> None:
    """Table 6 footnote: 1-hour SO2 defines AQI up to 200; from 305 ppb the 24-hour table applies
    (305–604 → 201–300): SO2 24h 400 ppb → 99/299 × 95 + 201 = 232.5 → 232 (truncated 400 → 232.45)."""
    assert _aqi((SO2, H1), 200) == 157
    with pytest.raises(InsufficientData) as caught:
        us_aqi.calculate({(SO2, H1): 400}, AqiPeriod.HOUR)
    assert caught.value.problems[0].rule == "so2_needs_24h"
    result = us_aqi.calculate({(SO2, H1): 400, (SO2, H24): 400}, AqiPeriod.DAY)
    assert result.aqi == 232


def test_so2_1h_above_304_with_a_low_24h_mean_counts_as_200() -> None:
    """Open item (reference §2.1 ¹, §8 item 3): 1-hour SO2 above 304 ppb proves AQI ≥ 200 while the 24-hour table
    starts at 305 ppb. The project reports 200 for SO2 then, and says so in a note."""
    result = us_aqi.calculate({(SO2, H1): 400, (SO2, H24): 200}, AqiPeriod.DAY)
    assert result.aqi == 200
    assert [n.rule for n in result.notes] == ["so2_1h_capped_at_200"]


@pytest.mark.parametrize(
    ("key", "concentration", "index"),
    [
        ((PM10, H24), 500, 384),  # 199/179 × (500 − 425) + 301 = 384.4
        ((CO, H8), "40.0", 396),  # 199/19.9 × (40.0 − 30.5) + 301 = 396
        ((NO2, H1), 1500, 363),  # 199/799 × (1500 − 1250) + 301 = 363.3
        ((O3, H1), "0.500", 396),  # 199/0.199 × (0.500 − 0.405) + 301 = 396
        ((SO2, H24), 800, 398),  # 199/399 × (800 − 605) + 301 = 398.3
    ],
)
def test_merged_301_500_rows_are_pinned(key: tuple[Pollutant, Averaging], concentration: int | str, index: int) -> None:
    """Open item (reference §2.1 [M], §8 item 3): the single 301–500 rows of PM10, CO, NO2, O3 (1 h) and 24-hour
    SO2 join the old 301–400 lower and 401–500 upper ends; until TAD Table 6 is checked these values are pinned."""
    assert us_aqi.TABLES[key].confidence is Confidence.MEDIUM
    assert _aqi(key, concentration) == index


def test_beyond_the_aqi_is_held_at_500() -> None:
    """ "AQI values above 500 are considered Beyond the AQI": the value is held at 500 and flagged."""
    result = us_aqi.calculate({(PM25, H24): 400}, AqiPeriod.DAY)
    assert result.aqi == 500
    assert result.beyond_scale is True
    assert result.category.code == "hazardous"


def test_units_are_the_epa_ones() -> None:
    assert us_aqi.UNITS == {PM25: "µg/m³", PM10: "µg/m³", O3: "ppm", CO: "ppm", SO2: "ppb", NO2: "ppb"}


@pytest.mark.parametrize(
    ("aqi", "name_en", "hex_colour"),
    [
        (50, "Good", "#00E400"),
        (100, "Moderate", "#FFFF00"),
        (150, "Unhealthy for Sensitive Groups", "#FF7E00"),
        (200, "Unhealthy", "#FF0000"),
        (300, "Very Unhealthy", "#8F3F97"),
        (301, "Hazardous", "#7E0023"),
    ],
)
def test_categories(aqi: int, name_en: str, hex_colour: str) -> None:
    """EPA-454/B-24-002 Table 1 names and colours (RGB identical to the VN_AQI palette, reference §2.1)."""
    category = us_aqi.category(aqi)
    assert (category.name_en, category.hex) == (name_en, hex_colour)
    assert category.name_vi
    assert category.meaning_vi
    assert category.meaning_en
