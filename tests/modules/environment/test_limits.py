"""Limit checks against QCVN 05:2023/BTNMT (air) and QCVN 08:2023/BTNMT (surface water)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ioc.modules.environment import (
    CalculationRejected,
    Confidence,
    LimitPeriod,
    WaterClass,
    check_air,
    check_surface_water,
    classify_surface_water,
)
from ioc.modules.environment.limits import AIR_TABLE_1, AIR_TABLE_2, WATER_TABLE_1, WATER_TABLE_2

BEFORE_2026 = date(2025, 6, 1)
FROM_2026 = date(2026, 1, 1)


@pytest.mark.parametrize(
    ("parameter", "period", "limit"),
    [
        ("SO2", LimitPeriod.H1, 350),
        ("SO2", LimitPeriod.H24, 125),
        ("SO2", LimitPeriod.YEAR, 50),
        ("CO", LimitPeriod.H1, 30000),
        ("CO", LimitPeriod.H8, 10000),
        ("NO2", LimitPeriod.H1, 200),
        ("NO2", LimitPeriod.H24, 100),
        ("NO2", LimitPeriod.YEAR, 40),
        ("O3", LimitPeriod.H1, 200),
        ("O3", LimitPeriod.H8, 120),
        ("TSP", LimitPeriod.H1, 300),
        ("TSP", LimitPeriod.H24, 200),
        ("TSP", LimitPeriod.YEAR, 100),
        ("PM10", LimitPeriod.H24, 100),
        ("PM10", LimitPeriod.YEAR, 50),
        ("PM2.5", LimitPeriod.YEAR, 25),
    ],
)
def test_air_table_1(parameter: str, period: LimitPeriod, limit: int) -> None:
    """QCVN 05:2023/BTNMT Bảng 1 (µg/Nm³): a value at the limit complies, just above it exceeds."""
    at_limit = check_air({parameter: limit}, period, BEFORE_2026)
    assert at_limit.exceedances == []
    above = check_air({parameter: limit * 1.01}, period, BEFORE_2026)
    (check,) = above.exceedances
    assert check.limit.parameter == parameter
    assert check.bound == limit
    assert check.ratio == Decimal("1.010")
    assert check.limit.citation == "QCVN 05:2023/BTNMT, Bảng 1"
    assert check.limit.confidence is Confidence.HIGH


def test_equal_to_the_limit_complies() -> None:
    """Open item (reference §8 item 5): the regulations name maximum values ("giá trị giới hạn tối đa"); the
    project reads "exceeds" as strictly above a maximum (strictly below a minimum)."""
    assert check_air({"NO2": 200}, LimitPeriod.H1, BEFORE_2026).exceedances == []
    assert check_surface_water({"DO": 6.0}, WaterClass.A).exceedances == []
    assert len(check_surface_water({"DO": 5.99}, WaterClass.A).exceedances) == 1


def test_pm25_24h_limit_changes_on_1_january_2026() -> None:
    """Bảng 1 note (*): PM2.5 24 h is 50 µg/Nm³, and 45 from 1 January 2026, selected by the measurement date."""
    assert check_air({"PM2.5": 47}, LimitPeriod.H24, date(2025, 12, 31)).exceedances == []
    (check,) = check_air({"PM2.5": 47}, LimitPeriod.H24, FROM_2026).exceedances
    assert check.bound == 45
    assert check.ratio == Decimal("1.044")


def test_pm10_24h_limit_is_the_2023_one() -> None:
    """QCVN 05:2023 lowered the PM10 24-hour limit from 150 (QCVN 05:2013) to 100 µg/Nm³."""
    assert len(check_air({"PM10": 120}, LimitPeriod.H24, FROM_2026).exceedances) == 1


def test_keys_may_carry_their_own_period() -> None:
    report = check_air({"NO2_1h": 210, "NO2_24h": 90, "vinyl_chloride": 30}, LimitPeriod.H24, FROM_2026)
    assert [(c.limit.parameter, c.limit.period, c.exceeded) for c in report.checks] == [
        ("NO2", LimitPeriod.H1, True),
        ("NO2", LimitPeriod.H24, False),
        ("vinyl_chloride", LimitPeriod.H24, True),
    ]


def test_a_period_without_a_limit_is_reported_not_refused() -> None:
    report = check_air({"PM10": 500}, LimitPeriod.H1, FROM_2026)
    assert report.checks == []
    (note,) = report.not_checked
    assert note.rule == "no_limit_for_period"
    assert "24h" in note.message_en
    assert "year" in note.message_en


def test_toxic_substances_of_table_2() -> None:
    """QCVN 05:2023 Bảng 2, e.g. H2S 1 h 42 µg/Nm³; benzidine is "KPH" (not detectable): any amount exceeds."""
    (h2s,) = check_air({"H2S": 50}, LimitPeriod.H1, FROM_2026).exceedances
    assert h2s.limit.citation == "QCVN 05:2023/BTNMT, Bảng 2"
    assert h2s.limit.confidence is Confidence.MEDIUM
    (benzidine,) = check_air({"benzidine": 0.001}, LimitPeriod.H1, FROM_2026).exceedances
    assert benzidine.ratio is None
    assert check_air({"benzidine": 0}, LimitPeriod.H1, FROM_2026).exceedances == []


def test_air_tables_are_complete() -> None:
    """Bảng 1 has 7 parameters; Bảng 2 lists 37 substances."""
    assert len({limit.parameter for limit in AIR_TABLE_1}) == 7
    assert len({limit.parameter for limit in AIR_TABLE_2}) == 37


def test_air_input_problems_are_named() -> None:
    with pytest.raises(CalculationRejected) as caught:
        check_air({"PM1": 5, "NO2": 10, "SO2_1h": -1}, None, date(2023, 1, 1))
    assert [p.rule for p in caught.value.problems] == [
        "before_in_force",
        "unknown_parameter",
        "period_missing",
        "negative",
    ]


def test_water_table_1_applies_to_every_level() -> None:
    """QCVN 08:2023 Bảng 1 (human health), e.g. ammonium 0.3 mg/L, arsenic 0.01 mg/L, aldrin 0.1 µg/L."""
    report = check_surface_water({"N-NH4": 0.42, "As": 0.01, "Aldrin": 0.2}, None)
    assert [(c.limit.parameter, c.exceeded) for c in report.checks] == [
        ("N-NH4", True),
        ("As", False),
        ("Aldrin", True),
    ]
    assert report.checks[2].limit.unit == "µg/L"
    assert len(WATER_TABLE_1) == 36


def test_water_table_2_is_low_confidence_and_marks_inferred_cells() -> None:
    """Reference §5.2 [L]: Bảng 2 comes from one scrambled rendering; the hidden cells TSS B ≤ 100 and TOC C ≤ 8
    are inferred from their neighbours and say so."""
    assert all(limit.confidence is Confidence.LOW for limit in WATER_TABLE_2)
    inferred = {(limit.parameter, limit.water_class) for limit in WATER_TABLE_2 if limit.inferred}
    assert inferred == {("TSS", WaterClass.B), ("TOC", WaterClass.C)}


def test_water_level_b() -> None:
    report = check_surface_water({"BOD5": 7.2, "COD": 15, "DO": 4.5, "pH": 8.6, "TN": 1.2}, WaterClass.B)
    exceeded = {c.limit.parameter: c for c in report.exceedances}
    assert set(exceeded) == {"BOD5", "DO", "pH"}
    assert exceeded["DO"].bound == 5
    assert exceeded["pH"].bound == Decimal("8.5")
    assert exceeded["BOD5"].limit.citation == "QCVN 08:2023/BTNMT, Bảng 2"
    assert report.classes == {
        "BOD5": WaterClass.C,
        "COD": WaterClass.B,
        "DO": WaterClass.C,
        "pH": WaterClass.D,
        "TN": WaterClass.B,
    }


def test_water_levels_without_a_level_chosen() -> None:
    report = check_surface_water({"BOD5": 3, "N-NH4": 0.1}, None)
    assert [c.limit.parameter for c in report.checks] == ["N-NH4"]
    assert [n.rule for n in report.not_checked] == ["water_class_missing"]
    assert report.classes == {"BOD5": WaterClass.A}


def test_tss_above_100_cannot_be_classed_by_a_sensor() -> None:
    """Bảng 2 splits C and D for TSS > 100 mg/L by floating trash, an observation."""
    assert classify_surface_water({"TSS": 150}) == {"TSS": None}
    report = check_surface_water({"TSS": 150}, WaterClass.C)
    assert report.checks == []
    assert [n.rule for n in report.not_checked] == ["no_numeric_limit"]


def test_level_d_is_not_a_target() -> None:
    with pytest.raises(CalculationRejected) as caught:
        check_surface_water({"BOD5": 3}, WaterClass.D)
    assert caught.value.problems[0].rule == "class_d_is_not_a_target"
