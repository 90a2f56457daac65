"""VN_WQI, the Vietnam Water Quality Index of Decision 1460/QĐ-TCMT (12 Nov 2019).

The decision's text is not publicly confirmed: its tables are reconstructed from public implementations and
the whole index is [M] in the reference (§3), the minimum-data rule [L]. The category ranges and colours are
[H] (§3.6). Every number below cites the reference section it comes from; docs/modules/environment.md lists
what still needs checking against the official PDF (§8 item 1).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from ..exceptions import CalculationRejected, InsufficientData, Problem
from .common import Category, Number, category_for, dec, round_half_up

DECISION = "QĐ 1460/QĐ-TCMT"
DECISION_EN = "Decision 1460/QĐ-TCMT"

GROUP_I = "I"
GROUP_II = "II"
GROUP_III = "III"
GROUP_IV = "IV"
GROUP_V = "V"
GROUPS = (GROUP_I, GROUP_II, GROUP_III, GROUP_IV, GROUP_V)

PH = "pH"
DO = "DO"
DO_PERCENT = "DO_percent"
TEMPERATURE = "temperature"
HEPTACHLOR = "Heptachlor"
HEPTACHLOR_EPOXIDE = "Heptachlorepoxide"

# Reference §3.2: q_i for BP1…BP5.
Q = (Decimal(100), Decimal(75), Decimal(50), Decimal(25), Decimal(10))
LOWEST = Decimal(10)  # out-of-range sub-index of 1460 (Decision 879/2011 used 1: reference §3.7)
HIGHEST = Decimal(100)

# Guide "Table 1" (groups IV–V) and "Table 2" (group III), reference §3.2 [M]: BP1…BP5, None where the table has
# "–". Units mg/L, Coliform and E.coli in MPN or CFU / 100 mL. BP1 equals the QCVN 08:2023 Bảng 1 limit.
BREAKPOINTS: Mapping[str, tuple[Decimal | None, ...]] = {
    "BOD5": (Decimal(4), Decimal(6), Decimal(15), Decimal(25), Decimal(50)),
    "COD": (Decimal(10), Decimal(15), Decimal(30), Decimal(50), Decimal(150)),
    "TOC": (Decimal(4), Decimal(6), Decimal(15), Decimal(25), Decimal(50)),
    "N-NH4": (Decimal("0.3"), Decimal("0.3"), Decimal("0.6"), Decimal("0.9"), Decimal(5)),
    "N-NO3": (Decimal(2), Decimal(5), Decimal(10), Decimal(15), Decimal(15)),
    "N-NO2": (Decimal("0.05"), None, None, None, Decimal("0.05")),
    "P-PO4": (Decimal("0.1"), Decimal("0.2"), Decimal("0.3"), Decimal("0.5"), Decimal(4)),
    "Coliform": (Decimal(2500), Decimal(5000), Decimal(7500), Decimal(10000), Decimal(10000)),
    "E.coli": (Decimal(20), Decimal(50), Decimal(100), Decimal(200), Decimal(200)),
    "As": (Decimal("0.01"), Decimal("0.02"), Decimal("0.05"), Decimal("0.1"), Decimal("0.1")),
    "Cd": (Decimal("0.005"), Decimal("0.005"), Decimal("0.008"), Decimal("0.01"), Decimal("0.1")),
    "Pb": (Decimal("0.02"), Decimal("0.02"), Decimal("0.04"), Decimal("0.05"), Decimal("0.5")),
    "Cr6+": (Decimal("0.01"), Decimal("0.02"), Decimal("0.04"), Decimal("0.05"), Decimal("0.1")),
    "Cu": (Decimal("0.1"), Decimal("0.2"), Decimal("0.5"), Decimal("1.0"), Decimal("2.0")),
    "Zn": (Decimal("0.5"), Decimal("1.0"), Decimal("1.5"), Decimal("2.0"), Decimal("3.0")),
    "Hg": (Decimal("0.001"), Decimal("0.001"), Decimal("0.0015"), Decimal("0.002"), Decimal("0.01")),
}

# Group II (reference §3.4 [M]): a pesticide at or under its limit scores 100, above it 10. Limits in µg/L,
# equal to QCVN 08 limits; Heptachlor & Heptachlorepoxide share one limit, so separate values are summed.
PESTICIDE_LIMITS: Mapping[str, Decimal] = {
    "Aldrin": Decimal("0.1"),
    "BHC": Decimal("0.02"),
    "Dieldrin": Decimal("0.1"),
    "DDTs": Decimal("1.0"),
    HEPTACHLOR: Decimal("0.2"),
}

# pH (reference §3.4 [M]): < 5.5 → 10; 5.5–6 rising 50 → 100; 6–8.5 → 100; 8.5–9 falling 100 → 50; > 9 → 10.
PH_LOW_OUT = Decimal("5.5")
PH_LOW_FULL = Decimal(6)
PH_HIGH_FULL = Decimal("8.5")
PH_HIGH_OUT = Decimal(9)
PH_EDGE_Q = Decimal(50)

# DO as % saturation (reference §3.4 [M]): q at each DO% point, rising 20 → 88, flat to 112, falling to 200;
# outside 20…200 the sub-index is 10.
DO_PERCENT_POINTS: tuple[tuple[Decimal, Decimal], ...] = (
    (Decimal(20), Decimal(25)),
    (Decimal(50), Decimal(50)),
    (Decimal(75), Decimal(75)),
    (Decimal(88), Decimal(100)),
    (Decimal(112), Decimal(100)),
    (Decimal(125), Decimal(75)),
    (Decimal(150), Decimal(50)),
    (Decimal(200), Decimal(25)),
)

# DO_sat = 14.652 − 0.41022·T + 0.0079910·T² − 0.000077774·T³ (mg/L, T in °C; reference §3.4).
DO_SAT_COEFFICIENTS = (Decimal("14.652"), Decimal("-0.41022"), Decimal("0.0079910"), Decimal("-0.000077774"))
# The polynomial is a fit for natural waters; outside 0–50 °C it is not meaningful.
TEMPERATURE_RANGE = (Decimal(0), Decimal(50))

PARAMETER_GROUPS: Mapping[str, str] = {
    PH: GROUP_I,
    **dict.fromkeys(PESTICIDE_LIMITS, GROUP_II),
    **dict.fromkeys(("As", "Cd", "Pb", "Cr6+", "Cu", "Zn", "Hg"), GROUP_III),
    **dict.fromkeys((DO, "BOD5", "COD", "TOC", "N-NH4", "N-NO3", "N-NO2", "P-PO4"), GROUP_IV),
    "Coliform": GROUP_V,
    "E.coli": GROUP_V,
}

UNITS: Mapping[str, str] = {
    PH: "",
    **dict.fromkeys(PESTICIDE_LIMITS, "µg/L"),
    **dict.fromkeys(("As", "Cd", "Pb", "Cr6+", "Cu", "Zn", "Hg"), "mg/L"),
    **dict.fromkeys((DO, "BOD5", "COD", "TOC", "N-NH4", "N-NO3", "N-NO2", "P-PO4"), "mg/L"),
    "Coliform": "MPN/100 mL",
    "E.coli": "MPN/100 mL",
    DO_PERCENT: "%",
    TEMPERATURE: "°C",
    HEPTACHLOR_EPOXIDE: "µg/L",
}
ACCEPTED_KEYS = (*PARAMETER_GROUPS, DO_PERCENT, TEMPERATURE, HEPTACHLOR_EPOXIDE)


def _squash(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum() or ch == "%")


# Spellings met in station exports, mapped to the canonical keys.
_ALIASES = {
    "nh4": "N-NH4",
    "amoni": "N-NH4",
    "no3": "N-NO3",
    "nitrat": "N-NO3",
    "no2": "N-NO2",
    "nitrit": "N-NO2",
    "po4": "P-PO4",
    "bod": "BOD5",
    "cr6": "Cr6+",
    "crvi": "Cr6+",
    "totalcoliform": "Coliform",
    "ecoli": "E.coli",
    "do%": DO_PERCENT,
    "dosaturation": DO_PERCENT,
    "temp": TEMPERATURE,
    "t": TEMPERATURE,
}
_CANONICAL = {**{_squash(key): key for key in ACCEPTED_KEYS}, **_ALIASES}


def canonical_parameter(name: str) -> str | None:
    """Return the canonical key of a parameter name (case and punctuation ignored, common aliases), or None."""
    return _CANONICAL.get(_squash(name))


# Minimum data (reference §3.5, [L], one implementation): group IV with at least 3 parameters, and at least
# 3 of the 5 groups.
MIN_GROUP_IV_PARAMETERS = 3
MIN_GROUPS = 3

# Reference §3.6 [H]: ranges, names and colours (RGB as published). The sentences on suitable use are the
# project's wording of the summary in the reference.
CATEGORIES: tuple[Category, ...] = (
    Category(
        code="very_good",
        low=91,
        high=100,
        name_vi="Rất tốt",
        name_en="Very good",
        colour_vi="Xanh nước biển",
        colour_en="Blue",
        hex="#3333FF",  # RGB 51;51;255
        meaning_vi="Sử dụng tốt cho mục đích cấp nước sinh hoạt.",
        meaning_en="Good for domestic water supply.",
    ),
    Category(
        code="good",
        low=76,
        high=90,
        name_vi="Tốt",
        name_en="Good",
        colour_vi="Xanh lá cây",
        colour_en="Green",
        hex="#00E400",  # RGB 0;228;0
        meaning_vi="Sử dụng cho mục đích cấp nước sinh hoạt nhưng cần các biện pháp xử lý phù hợp.",
        meaning_en="Usable for domestic water supply with appropriate treatment.",
    ),
    Category(
        code="medium",
        low=51,
        high=75,
        name_vi="Trung bình",
        name_en="Medium",
        colour_vi="Vàng",
        colour_en="Yellow",
        hex="#FFFF00",  # RGB 255;255;0
        meaning_vi="Sử dụng cho mục đích tưới tiêu và các mục đích tương đương khác.",
        meaning_en="Usable for irrigation and similar purposes.",
    ),
    Category(
        code="bad",
        low=26,
        high=50,
        name_vi="Xấu",
        name_en="Bad",
        colour_vi="Da cam",
        colour_en="Orange",
        hex="#FF7E00",  # RGB 255;126;0
        meaning_vi="Sử dụng cho giao thông thủy và các mục đích tương đương khác.",
        meaning_en="Usable for navigation and similar purposes.",
    ),
    Category(
        code="poor",
        low=10,
        high=25,
        name_vi="Kém",
        name_en="Poor",
        colour_vi="Đỏ",
        colour_en="Red",
        hex="#FF0000",  # RGB 255;0;0
        meaning_vi="Nước ô nhiễm nặng, cần các biện pháp xử lý.",
        meaning_en="Heavily polluted water; treatment is needed.",
    ),
    Category(
        code="very_heavily_polluted",
        low=0,
        high=9,
        name_vi="Ô nhiễm rất nặng",
        name_en="Very heavily polluted",
        colour_vi="Nâu",
        colour_en="Maroon",
        hex="#7E0023",  # RGB 126;0;35
        meaning_vi="Nước nhiễm độc, cần có biện pháp khắc phục, xử lý.",
        meaning_en="Toxic water; remediation is needed.",
    ),
)


def category(wqi: int) -> Category:
    """Return the category of a VN_WQI value."""
    return category_for(CATEGORIES, wqi)


def breakpoint_sub_index(parameter: str, concentration: Number) -> Decimal:
    """Return the sub-index of a group III–V parameter from its BP1…BP5 (reference §3.3 [M]).

    C ≤ BP1 → 100, C ≥ BP5 → 10, linear in between (Công thức 1, falling). A repeated BP1 = BP2 (N-NH4, Cd, Pb,
    Hg) scores 100 only below BP1 and 75 at it; a repeated BP4 = BP5 (N-NO3, Coliform, E.coli, As) scores 25 at
    BP4 and 10 above it; N-NO2 is 100 up to 0.05 mg/L and 10 above.
    """
    c = dec(concentration)
    bps = BREAKPOINTS[parameter]
    first, last = bps[0], bps[-1]
    if first is None or last is None:
        raise ValueError(f"{parameter}: BP1 and BP5 are always defined")
    if all(b is None for b in bps[1:-1]):
        return HIGHEST if c <= first else LOWEST
    if c < first or (c == first and bps[1] != first):
        return HIGHEST
    if c > last or (c == last and bps[3] != last):
        return LOWEST
    for i in range(4):
        lo, hi = bps[i], bps[i + 1]
        if lo is None or hi is None or lo >= hi:
            continue
        if lo <= c <= hi:
            return (Q[i] - Q[i + 1]) / (hi - lo) * (hi - c) + Q[i + 1]
    raise ValueError(f"{parameter}: no segment holds {c}")


def ph_sub_index(ph: Number) -> Decimal:
    """Return the pH sub-index (Công thức 2 on the rising side, Công thức 1 on the falling side)."""
    value = dec(ph)
    if value < PH_LOW_OUT:
        return LOWEST
    if value < PH_LOW_FULL:
        return (HIGHEST - PH_EDGE_Q) / (PH_LOW_FULL - PH_LOW_OUT) * (value - PH_LOW_OUT) + PH_EDGE_Q
    if value <= PH_HIGH_FULL:
        return HIGHEST
    if value <= PH_HIGH_OUT:
        return (HIGHEST - PH_EDGE_Q) / (PH_HIGH_OUT - PH_HIGH_FULL) * (PH_HIGH_OUT - value) + PH_EDGE_Q
    return LOWEST


def do_saturation(temperature_c: Number) -> Decimal:
    """Return the dissolved-oxygen saturation (mg/L) of fresh water at a temperature in °C."""
    t = dec(temperature_c)
    a0, a1, a2, a3 = DO_SAT_COEFFICIENTS
    return a0 + a1 * t + a2 * t**2 + a3 * t**3


def do_percent(do_mg_l: Number, temperature_c: Number) -> Decimal:
    """Return dissolved oxygen as % saturation: DO / DO_sat × 100."""
    return dec(do_mg_l) / do_saturation(temperature_c) * 100


def do_sub_index(percent: Number) -> Decimal:
    """Return the DO sub-index from % saturation (rising 20 → 88 %, 100 to 112 %, falling to 200 %)."""
    value = dec(percent)
    points = DO_PERCENT_POINTS
    if value < points[0][0] or value > points[-1][0]:
        return LOWEST
    for (x0, q0), (x1, q1) in itertools.pairwise(points):
        if x0 <= value <= x1:
            return (q1 - q0) / (x1 - x0) * (value - x0) + q0
    raise ValueError(f"DO% {value} is outside every segment")


def pesticide_sub_index(parameter: str, concentration: Number) -> Decimal:
    """Return 100 when a group II pesticide is at or under its limit, else 10."""
    return HIGHEST if dec(concentration) <= PESTICIDE_LIMITS[parameter] else LOWEST


def _root(value: Decimal, degree: int) -> Decimal:
    if value == 0:
        return Decimal(0)
    return (value.ln() / degree).exp()


def _geometric_mean(values: list[Decimal]) -> Decimal:
    product = Decimal(1)
    for value in values:
        product *= value
    return _root(product, len(values))


def _arithmetic_mean(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / len(values)


@dataclass(frozen=True)
class WqiResult:
    """A VN_WQI value with its category, group values, sub-indices and the formula applied."""

    wqi: int
    category: Category
    groups: Mapping[str, Decimal | None]
    sub_indices: Mapping[str, Decimal]
    formula: str
    inputs_used: Mapping[str, Decimal]
    notes: tuple[Problem, ...]


def _problem(field: str, rule: str, vi: str, en: str) -> Problem:
    return Problem(f"values.{field}", rule, vi, en)


def _validate(values: Mapping[str, Number]) -> dict[str, Decimal]:
    problems: list[Problem] = []
    clean: dict[str, Decimal] = {}
    for given, raw in values.items():
        name = canonical_parameter(given) or given
        if name in clean:
            problems.append(
                _problem(
                    given,
                    "given_twice",
                    f"{name} được gửi hai lần (dưới hai tên khác nhau).",
                    f"{name} is given twice (under two different names).",
                )
            )
            continue
        if name not in ACCEPTED_KEYS:
            problems.append(
                _problem(
                    name,
                    "unknown_parameter",
                    f"Thông số {name!r} không có trong VN_WQI; các thông số nhận: {', '.join(ACCEPTED_KEYS)}.",
                    f"{name!r} is not a VN_WQI parameter; accepted: {', '.join(ACCEPTED_KEYS)}.",
                )
            )
            continue
        value = dec(raw)
        if value < 0 and name != TEMPERATURE:
            problems.append(_problem(name, "negative", f"{name} không thể âm.", f"{name} cannot be negative."))
            continue
        clean[name] = value
    if PH in clean and clean[PH] > 14:
        problems.append(_problem(PH, "out_of_range", "pH phải nằm trong 0–14.", "pH must lie within 0–14."))
    if DO in clean and DO_PERCENT in clean:
        problems.append(
            _problem(
                DO,
                "conflict",
                "Gửi DO (mg/L, kèm nhiệt độ) hoặc DO_percent (% bão hòa), không gửi cả hai.",
                "Send DO (mg/L, with the temperature) or DO_percent (% saturation), not both.",
            )
        )
    if DO in clean and TEMPERATURE not in clean:
        problems.append(
            _problem(
                DO,
                "do_needs_temperature",
                f"DO tính theo % bão hòa nên cần nhiệt độ nước (temperature, °C) ({DECISION}); hoặc gửi DO_percent.",
                f"DO is scored as % saturation, which needs the water temperature (temperature, °C) ({DECISION_EN}); "
                f"or send DO_percent.",
            )
        )
    if TEMPERATURE in clean and not TEMPERATURE_RANGE[0] <= clean[TEMPERATURE] <= TEMPERATURE_RANGE[1]:
        problems.append(
            _problem(
                TEMPERATURE,
                "out_of_range",
                "Nhiệt độ nước phải trong khoảng 0–50 °C để tính DO bão hòa.",
                "The water temperature must lie within 0–50 °C to compute DO saturation.",
            )
        )
    if problems:
        raise CalculationRejected(problems)
    return clean


def calculate(values: Mapping[str, Number], *, weighted: bool = False) -> WqiResult:
    """Compute VN_WQI from one sample's measurements keyed by parameter (units as in UNITS).

    Công thức 3 when group V is present, Công thức 4 without it; `weighted` asks for Công thức 5 (which needs
    group V). Raises CalculationRejected for unknown or impossible values, InsufficientData below the minimum.
    """
    clean = _validate(values)
    used = dict(clean)
    notes: list[Problem] = []
    if HEPTACHLOR_EPOXIDE in clean:
        # QCVN 08 and 1460 limit Heptachlor & Heptachlorepoxide together: score their sum.
        clean[HEPTACHLOR] = clean.get(HEPTACHLOR, Decimal(0)) + clean.pop(HEPTACHLOR_EPOXIDE)
    sub: dict[str, Decimal] = {}
    for name, value in clean.items():
        if name == PH:
            sub[name] = ph_sub_index(value)
        elif name in PESTICIDE_LIMITS:
            sub[name] = pesticide_sub_index(name, value)
        elif name in BREAKPOINTS:
            sub[name] = breakpoint_sub_index(name, value)
    percent = clean.get(DO_PERCENT)
    if percent is None and DO in clean:
        percent = do_percent(clean[DO], clean[TEMPERATURE])
        used[DO_PERCENT] = percent
    if percent is not None:
        sub[DO] = do_sub_index(percent)
    by_group: dict[str, list[Decimal]] = {group: [] for group in GROUPS}
    for name, value in sub.items():
        by_group[PARAMETER_GROUPS[name]].append(value)
    present = [g for g in GROUPS if by_group[g]]
    problems: list[Problem] = []
    if len(by_group[GROUP_IV]) < MIN_GROUP_IV_PARAMETERS:
        problems.append(
            _problem(
                "IV",
                "group_iv_minimum",
                f"VN_WQI cần nhóm IV (DO, BOD5, COD, TOC, N-NH4, N-NO3, N-NO2, P-PO4) với ít nhất "
                f"{MIN_GROUP_IV_PARAMETERS} thông số; đã có {len(by_group[GROUP_IV])} (quy tắc dữ liệu tối thiểu, "
                f"{DECISION}, độ tin cậy thấp [L]).",
                f"VN_WQI needs group IV (DO, BOD5, COD, TOC, N-NH4, N-NO3, N-NO2, P-PO4) with at least "
                f"{MIN_GROUP_IV_PARAMETERS} parameters; got {len(by_group[GROUP_IV])} (minimum-data rule, "
                f"{DECISION_EN}, low confidence [L]).",
            )
        )
    if len(present) < MIN_GROUPS:
        problems.append(
            _problem(
                "groups",
                "three_groups_minimum",
                f"VN_WQI cần số liệu của ít nhất {MIN_GROUPS}/5 nhóm thông số; đã có {len(present)} "
                f"({', '.join(present) or 'không có'}) (quy tắc dữ liệu tối thiểu, độ tin cậy thấp [L]).",
                f"VN_WQI needs data for at least {MIN_GROUPS} of the 5 parameter groups; got {len(present)} "
                f"({', '.join(present) or 'none'}) (minimum-data rule, low confidence [L]).",
            )
        )
    if problems:
        raise InsufficientData(problems)
    groups: dict[str, Decimal | None] = {
        GROUP_I: by_group[GROUP_I][0] if by_group[GROUP_I] else None,
        GROUP_II: _geometric_mean(by_group[GROUP_II]) if by_group[GROUP_II] else None,
        GROUP_III: _geometric_mean(by_group[GROUP_III]) if by_group[GROUP_III] else None,
        GROUP_IV: _arithmetic_mean(by_group[GROUP_IV]),
        GROUP_V: _arithmetic_mean(by_group[GROUP_V]) if by_group[GROUP_V] else None,
    }
    # Missing groups I–III count as a factor of 1 (reference §3.5).
    factor = Decimal(1)
    for group in (GROUP_I, GROUP_II, GROUP_III):
        group_value = groups[group]
        if group_value is not None:
            factor *= group_value / HIGHEST
    group_iv = _arithmetic_mean(by_group[GROUP_IV])
    group_v = groups[GROUP_V]
    if group_v is None:
        formula = "4"
        core = group_iv
        if weighted:
            notes.append(
                _problem(
                    "V",
                    "weighted_needs_group_v",
                    "Công thức 5 cần nhóm V (Coliform, E.coli); đã dùng Công thức 4.",
                    "Công thức 5 needs group V (Coliform, E.coli); Công thức 4 was used.",
                )
            )
    elif weighted:
        formula = "5"
        core = _root(group_iv * group_iv * group_v, 3)
    else:
        formula = "3"
        core = (group_iv * group_v).sqrt()
    wqi = round_half_up(factor * core)
    return WqiResult(
        wqi=wqi,
        category=category(wqi),
        groups=groups,
        sub_indices=sub,
        formula=formula,
        inputs_used=used,
        notes=tuple(notes),
    )
