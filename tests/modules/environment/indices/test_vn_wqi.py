"""VN_WQI (Decision 1460/QĐ-TCMT) as reconstructed in the reference (§3, [M]; minimum data [L]).

No official worked example is available (reference §3), so the values are computed by hand from the
reference's tables and formulas; the pitfalls of §3.7 each have a test.
"""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from ioc.modules.environment import CalculationRejected, InsufficientData
from ioc.modules.environment.indices import vn_wqi


@pytest.mark.parametrize(
    ("parameter", "value", "expected"),
    [
        ("BOD5", "4", "100"),
        ("BOD5", "5", "87.5"),  # (100 − 75)/(6 − 4) × (6 − 5) + 75
        ("BOD5", "15", "50"),
        ("BOD5", "50", "10"),
        ("BOD5", "80", "10"),
        ("COD", "30", "50"),
        ("P-PO4", "0.4", "37.5"),
        ("Cu", "2.5", "10"),
    ],
)
def test_general_breakpoint_reading(parameter: str, value: str, expected: str) -> None:
    """Reference §3.3: C ≤ BP1 → 100, C ≥ BP5 → 10, Công thức 1 in between (q = 100, 75, 50, 25, 10)."""
    assert vn_wqi.breakpoint_sub_index(parameter, value) == Decimal(expected)


@pytest.mark.parametrize(
    ("parameter", "value", "expected"),
    [
        ("N-NH4", "0.29", "100"),
        ("N-NH4", "0.3", "75"),  # a deliberate step 100 → 75 at the repeated BP1 = BP2
        ("N-NH4", "0.45", "62.5"),
        ("Cd", "0.005", "75"),
        ("Pb", "0.019", "100"),
        ("Hg", "0.001", "75"),
    ],
)
def test_repeated_first_breakpoint(parameter: str, value: str, expected: str) -> None:
    """Reference §3.3 [M]: with BP1 = BP2 (N-NH4, Cd, Pb, Hg), C < BP1 → 100 and interpolation starts at q = 75.
    The "QĐ 1460" JavaScript calculator that ignores this shifts these parameters by one q-step (§3.7)."""
    assert vn_wqi.breakpoint_sub_index(parameter, value) == Decimal(expected)


@pytest.mark.parametrize(
    ("parameter", "value", "expected"),
    [
        ("N-NO3", "10", "50"),  # not 52: the typo of one public implementation (§3.7)
        ("N-NO3", "15", "25"),
        ("N-NO3", "15.01", "10"),
        ("Coliform", "10000", "25"),
        ("Coliform", "10001", "10"),
        ("E.coli", "200", "25"),
        ("As", "0.1", "25"),
        ("As", "0.11", "10"),
    ],
)
def test_repeated_last_breakpoint(parameter: str, value: str, expected: str) -> None:
    """Reference §3.3 [M]: with BP4 = BP5 (N-NO3, Coliform, E.coli, As) interpolation reaches 25 at BP4; above → 10."""
    assert vn_wqi.breakpoint_sub_index(parameter, value) == Decimal(expected)


def test_nitrite_is_all_or_nothing() -> None:
    """Reference §3.3: N-NO2 ≤ 0.05 mg/L → 100, otherwise 10."""
    assert vn_wqi.breakpoint_sub_index("N-NO2", "0.05") == 100
    assert vn_wqi.breakpoint_sub_index("N-NO2", "0.051") == 10


@pytest.mark.parametrize(
    ("ph", "expected"),
    [("5.4", "10"), ("5.5", "50"), ("5.75", "75"), ("6", "100"), ("8.5", "100"), ("8.75", "75"), ("9", "50"),
     ("9.1", "10")],
)  # fmt: skip
def test_ph_sub_index(ph: str, expected: str) -> None:
    """Reference §3.4: < 5.5 → 10; 5.5–6 rising 50 → 100; 6–8.5 → 100; 8.5–9 falling 100 → 50; > 9 → 10."""
    assert vn_wqi.ph_sub_index(ph) == Decimal(expected)


@pytest.mark.parametrize(
    ("percent", "expected"),
    [("19.9", "10"), ("20", "25"), ("35", "37.5"), ("88", "100"), ("100", "100"), ("112", "100"), ("137.5", "62.5"),
     ("200", "25"), ("200.1", "10")],
)  # fmt: skip
def test_dissolved_oxygen_sub_index(percent: str, expected: str) -> None:
    """Reference §3.4: rising 20 → 88 %, 100 up to 112 %, falling to 200 %; outside 20…200 → 10 (Decision 879/2011
    used 1 there, reference §3.7)."""
    assert vn_wqi.do_sub_index(percent) == Decimal(expected)


def test_do_saturation_polynomial() -> None:
    """DO_sat = 14.652 − 0.41022·T + 0.0079910·T² − 0.000077774·T³: at 25 °C, 8.17565625 mg/L."""
    assert vn_wqi.do_saturation(25) == Decimal("8.17565625")
    assert vn_wqi.do_percent("8.17565625", 25) == 100


def test_pesticides_pass_or_fail() -> None:
    """Reference §3.4: group II scores 100 at or under the limit, 10 above it."""
    assert vn_wqi.pesticide_sub_index("Aldrin", "0.1") == 100
    assert vn_wqi.pesticide_sub_index("Aldrin", "0.11") == 10


SAMPLE = {"pH": 7, "As": 0.01, "Cd": 0.005, "BOD5": 5, "COD": 10, "N-NH4": 0.3, "Coliform": 5000}


def test_formula_3_with_group_v() -> None:
    """Công thức 3: WQI = (WQI_I/100)·(WQI_II/100)·(WQI_III/100)·[WQI_IV·WQI_V]^(1/2), groups II–III geometric.
    pH 7 → 100; As 0.01 → 100 and Cd 0.005 → 75 give WQI_III = √(100·75) = 86.60; BOD5 5 → 87.5, COD 10 → 100,
    N-NH4 0.3 → 75 give WQI_IV = 87.5; Coliform 5000 → 75 = WQI_V. WQI = 0.8660 × √(87.5 × 75) = 70.16 → 70."""
    result = vn_wqi.calculate(SAMPLE)
    expected = math.sqrt(100 * 75) / 100 * math.sqrt(87.5 * 75)
    assert result.formula == "3"
    assert result.wqi == round(expected) == 70
    assert result.groups["II"] is None
    assert result.groups["IV"] == Decimal("87.5")
    assert result.category.code == "medium"


def test_formula_4_without_group_v() -> None:
    """Công thức 4 (no group V): WQI = 0.8660 × 87.5 = 75.78 → 76."""
    sample = {k: v for k, v in SAMPLE.items() if k != "Coliform"}
    result = vn_wqi.calculate(sample)
    assert result.formula == "4"
    assert result.wqi == 76
    assert result.category.code == "good"


def test_weighted_formula_5_is_opt_in() -> None:
    """Open item (reference §3.5 [M]): when the weighted Công thức 5 applies is not confirmed, so it is used only
    on request: WQI = 0.8660 × (87.5² × 75)^(1/3) = 72.01 → 72."""
    result = vn_wqi.calculate(SAMPLE, weighted=True)
    assert result.formula == "5"
    assert result.wqi == round(math.sqrt(7500) / 100 * (87.5**2 * 75) ** (1 / 3)) == 72
    without_v = vn_wqi.calculate({k: v for k, v in SAMPLE.items() if k != "Coliform"}, weighted=True)
    assert without_v.formula == "4"
    assert [n.rule for n in without_v.notes] == ["weighted_needs_group_v"]


def test_dissolved_oxygen_in_mg_l_needs_the_temperature() -> None:
    with pytest.raises(CalculationRejected) as caught:
        vn_wqi.calculate({**SAMPLE, "DO": 6})
    assert [p.rule for p in caught.value.problems] == ["do_needs_temperature"]
    result = vn_wqi.calculate({**SAMPLE, "DO": "8.17565625", "temperature": 25})
    assert result.sub_indices["DO"] == 100
    assert result.inputs_used["DO_percent"] == 100


def test_heptachlor_and_its_epoxide_are_summed() -> None:
    """Reference §3.7: one implementation ignores Heptachlor / Heptachlorepoxide given separately; they share
    one limit (0.2 µg/L), so 0.15 + 0.10 = 0.25 fails it."""
    result = vn_wqi.calculate({**SAMPLE, "Heptachlor": 0.15, "Heptachlorepoxide": 0.10})
    assert result.sub_indices["Heptachlor"] == 10
    assert result.groups["II"] == 10


def test_minimum_data_rule_is_pinned() -> None:
    """Open item (reference §3.5 [L]): at least 3 of the 5 groups, and group IV with at least 3 parameters."""
    with pytest.raises(InsufficientData) as caught:
        vn_wqi.calculate({"pH": 7, "BOD5": 5, "COD": 10, "N-NH4": 0.3})
    assert [p.rule for p in caught.value.problems] == ["three_groups_minimum"]
    with pytest.raises(InsufficientData) as caught:
        vn_wqi.calculate({"pH": 7, "As": 0.01, "BOD5": 5, "COD": 10, "Coliform": 100})
    assert [p.rule for p in caught.value.problems] == ["group_iv_minimum"]
    assert "[L]" in caught.value.message_vi


def test_names_are_forgiving_but_unknown_ones_are_refused() -> None:
    result = vn_wqi.calculate({"ph": 7, "as": 0.01, "bod5": 5, "cod": 10, "NH4": 0.3, "coliform": 5000})
    assert set(result.sub_indices) == {"pH", "As", "BOD5", "COD", "N-NH4", "Coliform"}
    with pytest.raises(CalculationRejected) as caught:
        vn_wqi.calculate({**SAMPLE, "turbidity": 5, "N-NH4 ": 0.2})
    assert [p.rule for p in caught.value.problems] == ["unknown_parameter", "given_twice"]


def test_impossible_values_are_refused() -> None:
    with pytest.raises(CalculationRejected) as caught:
        vn_wqi.calculate({**SAMPLE, "pH": 15, "BOD5": -1})
    assert {p.rule for p in caught.value.problems} == {"out_of_range", "negative"}


@pytest.mark.parametrize(
    ("wqi", "code", "hex_colour"),
    [(100, "very_good", "#3333FF"), (91, "very_good", "#3333FF"), (90, "good", "#00E400"), (75, "medium", "#FFFF00"),
     (50, "bad", "#FF7E00"), (25, "poor", "#FF0000"), (10, "poor", "#FF0000"), (9, "very_heavily_polluted", "#7E0023")],
)  # fmt: skip
def test_categories(wqi: int, code: str, hex_colour: str) -> None:
    """Reference §3.6 [H]: 91–100 blue (51;51;255), 76–90 green, 51–75 yellow, 26–50 orange, 10–25 red, < 10 maroon."""
    category = vn_wqi.category(wqi)
    assert (category.code, category.hex) == (code, hex_colour)
