"""Limit checks: QCVN 05:2023/BTNMT (ambient air, by averaging period) and QCVN 08:2023/BTNMT (surface water).

A limit is exceeded when a value is above a maximum, below a minimum or outside a range; a value equal to
the limit complies ("giá trị giới hạn tối đa" is the highest value allowed). The regulations state no
operator explicitly (reference §8 item 5); this reading is the project's choice, pinned by a test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .constants import Confidence, LimitKind, LimitPeriod, Regulation, WaterClass
from .exceptions import CalculationRejected, Problem
from .indices.common import Number, dec

QCVN_05 = "QCVN 05:2023/BTNMT"
QCVN_08 = "QCVN 08:2023/BTNMT"
# Both issued by Circular 01/2023/TT-BTNMT, in force from 12 Sep 2023 (reference §4, §5).
IN_FORCE_FROM = date(2023, 9, 12)
# QCVN 05:2023 Bảng 1 note (*): the PM2.5 24-hour limit drops from 50 to 45 µg/Nm³ on 1 Jan 2026.
PM25_24H_CHANGE = date(2026, 1, 1)

AIR_UNIT = "µg/Nm³"
MG_L = "mg/L"
UG_L = "µg/L"
MPN = "MPN/100 mL"


@dataclass(frozen=True)
class Limit:
    """One cell of a regulation's table: what is limited, how, in which unit, and where it is written."""

    regulation: Regulation
    parameter: str
    name_vi: str
    name_en: str
    kind: LimitKind
    value: Decimal
    unit: str
    citation: str
    confidence: Confidence
    period: LimitPeriod | None = None
    water_class: WaterClass | None = None
    high: Decimal | None = None  # upper end of a range (pH)
    valid_from: date | None = None
    valid_until: date | None = None  # first day it no longer applies
    inferred: bool = False  # the cell is hidden in the only source and inferred from its neighbours

    def applies_on(self, day: date) -> bool:
        """Tell whether this limit is in force on a day."""
        return (self.valid_from is None or day >= self.valid_from) and (
            self.valid_until is None or day < self.valid_until
        )


@dataclass(frozen=True)
class LimitCheck:
    """A value compared with a limit: whether it exceeds it and by how much (value / limit)."""

    limit: Limit
    value: Decimal
    exceeded: bool
    ratio: Decimal | None  # None when the limit is zero ("KPH": not detectable)
    bound: Decimal  # the limit value compared with (for a range: the nearer end)


@dataclass(frozen=True)
class LimitReport:
    """Everything one check request found."""

    regulation: Regulation
    checks: list[LimitCheck]
    not_checked: list[Problem] = field(default_factory=list)
    classes: dict[str, WaterClass | None] = field(default_factory=dict)

    @property
    def exceedances(self) -> list[LimitCheck]:
        """Return the checks whose value breaks its limit."""
        return [check for check in self.checks if check.exceeded]


def _air(
    parameter: str,
    name_vi: str,
    name_en: str,
    period: LimitPeriod,
    value: Number,
    *,
    table: int = 1,
    unit: str = AIR_UNIT,
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> Limit:
    return Limit(
        regulation=Regulation.QCVN_05_2023,
        parameter=parameter,
        name_vi=name_vi,
        name_en=name_en,
        kind=LimitKind.MAX,
        value=dec(value),
        unit=unit,
        citation=f"{QCVN_05}, Bảng {table}",
        # Bảng 1 is [H] in the reference; Bảng 2 comes from one checked transcription of the signed PDF.
        confidence=Confidence.HIGH if table == 1 else Confidence.MEDIUM,
        period=period,
        valid_from=valid_from,
        valid_until=valid_until,
    )


H1, H8, H24, YEAR = LimitPeriod.H1, LimitPeriod.H8, LimitPeriod.H24, LimitPeriod.YEAR

# QCVN 05:2023/BTNMT Bảng 1 — basic parameters, maximum values in µg/Nm³ (25 °C, 760 mmHg).
AIR_TABLE_1: tuple[Limit, ...] = (
    _air("SO2", "SO2", "SO2", H1, 350),
    _air("SO2", "SO2", "SO2", H24, 125),
    _air("SO2", "SO2", "SO2", YEAR, 50),
    _air("CO", "CO", "CO", H1, 30_000),
    _air("CO", "CO", "CO", H8, 10_000),
    _air("NO2", "NO2", "NO2", H1, 200),
    _air("NO2", "NO2", "NO2", H24, 100),
    _air("NO2", "NO2", "NO2", YEAR, 40),
    _air("O3", "O3", "O3", H1, 200),
    _air("O3", "O3", "O3", H8, 120),
    _air("TSP", "Tổng bụi lơ lửng (TSP)", "Total suspended particles (TSP)", H1, 300),
    _air("TSP", "Tổng bụi lơ lửng (TSP)", "Total suspended particles (TSP)", H24, 200),
    _air("TSP", "Tổng bụi lơ lửng (TSP)", "Total suspended particles (TSP)", YEAR, 100),
    _air("PM10", "Bụi PM10", "PM10", H24, 100),  # was 150 in QCVN 05:2013
    _air("PM10", "Bụi PM10", "PM10", YEAR, 50),
    _air("PM2.5", "Bụi PM2,5", "PM2.5", H24, 50, valid_until=PM25_24H_CHANGE),
    _air("PM2.5", "Bụi PM2,5", "PM2.5", H24, 45, valid_from=PM25_24H_CHANGE),  # note (*) of Bảng 1
    _air("PM2.5", "Bụi PM2,5", "PM2.5", YEAR, 25),
)

# QCVN 05:2023/BTNMT Bảng 2 — toxic substances, maximum values in µg/Nm³ (asbestos in fibres/m³). Benzidine's
# limit is "KPH" (không phát hiện, not detectable): any detected amount exceeds it.
_TOXIC: tuple[tuple[str, str, str, LimitPeriod, Number], ...] = (
    ("Pb", "Chì (Pb) và các hợp chất (tính theo Pb)", "Lead and compounds (as Pb)", H24, "1.5"),
    ("As", "Arsenic (As) và các hợp chất (tính theo As)", "Arsenic and compounds (as As)", H1, "0.03"),
    ("AsH3", "Arsenic trihydride (AsH3)", "Arsine (AsH3)", H1, "0.3"),
    ("HCl", "Hydrochloride (HCl)", "Hydrogen chloride (HCl)", H24, 60),
    ("HNO3", "Acid nitric (HNO3)", "Nitric acid (HNO3)", H1, 400),
    ("HNO3", "Acid nitric (HNO3)", "Nitric acid (HNO3)", H24, 150),
    ("H2SO4", "Acid sulfuric (H2SO4)", "Sulfuric acid (H2SO4)", H1, 300),
    ("H2SO4", "Acid sulfuric (H2SO4)", "Sulfuric acid (H2SO4)", H24, 50),
    ("SiO2", "Tinh thể silic oxide hô hấp (SiO2)", "Respirable crystalline silica (SiO2)", H1, 150),
    ("SiO2", "Tinh thể silic oxide hô hấp (SiO2)", "Respirable crystalline silica (SiO2)", H24, 50),
    ("Cd", "Cadmi (Cd) và các hợp chất (tính theo Cd)", "Cadmium and compounds (as Cd)", H1, "0.4"),
    ("Cd", "Cadmi (Cd) và các hợp chất (tính theo Cd)", "Cadmium and compounds (as Cd)", H8, "0.2"),
    ("Cl2", "Chlorine (Cl2)", "Chlorine (Cl2)", H1, 100),
    ("Cl2", "Chlorine (Cl2)", "Chlorine (Cl2)", H24, 30),
    ("Cr6+", "Chromi (6+) và các hợp chất", "Chromium(VI) and compounds", H1, "0.007"),
    ("Cr6+", "Chromi (6+) và các hợp chất", "Chromium(VI) and compounds", H24, "0.003"),
    ("HF", "Hydrofluoride (HF)", "Hydrogen fluoride (HF)", H1, 20),
    ("HF", "Hydrofluoride (HF)", "Hydrogen fluoride (HF)", H24, 5),
    ("HCN", "Hydro cyanide (HCN)", "Hydrogen cyanide (HCN)", H1, 10),
    ("Mn", "Mangan và hợp chất (tính theo MnO2)", "Manganese and compounds (as MnO2)", H1, 10),
    ("Mn", "Mangan và hợp chất (tính theo MnO2)", "Manganese and compounds (as MnO2)", H24, 8),
    ("Ni", "Nickel (Ni) và các hợp chất (tính theo Ni)", "Nickel and compounds (as Ni)", H24, 1),
    ("Hg", "Thủy ngân (Hg) và các hợp chất (tính theo Hg)", "Mercury and compounds (as Hg)", H24, "0.3"),
    ("NaOH", "Natri hydroxide (NaOH)", "Sodium hydroxide (NaOH)", H24, 10),
    ("acrolein", "Acrolein", "Acrolein", H1, 50),
    ("acrylonitrile", "Acrylonitrile", "Acrylonitrile", H24, 45),
    ("aniline", "Aniline", "Aniline", H1, 50),
    ("aniline", "Aniline", "Aniline", H24, 30),
    ("benzene", "Benzene", "Benzene", H1, 22),
    ("benzidine", "Benzidine", "Benzidine", H1, 0),
    ("chloroform", "Chloroform", "Chloroform", H24, 16),
    ("CxHy", "Tổng hydrocarbon (CxHy)", "Total hydrocarbons (CxHy)", H1, 5000),
    ("CxHy", "Tổng hydrocarbon (CxHy)", "Total hydrocarbons (CxHy)", H24, 1500),
    ("formaldehyde", "Formaldehyde (HCHO)", "Formaldehyde (HCHO)", H1, 20),
    ("naphthalene", "Naphthalene", "Naphthalene", H8, 500),
    ("naphthalene", "Naphthalene", "Naphthalene", H24, 120),
    ("phenol", "Phenol", "Phenol", H1, 10),
    ("C2Cl4", "Tetrachloroethylene (C2Cl4)", "Tetrachloroethylene (C2Cl4)", H24, 100),
    ("vinyl_chloride", "Vinyl chloride", "Vinyl chloride", H24, 26),
    ("NH3", "Ammonia (NH3)", "Ammonia (NH3)", H1, 200),
    ("acetaldehyde", "Acetaldehyde", "Acetaldehyde", H1, 45),
    ("propionic_acid", "Acid propionic", "Propionic acid", H8, 300),
    ("H2S", "Hydrosulfide (H2S)", "Hydrogen sulfide (H2S)", H1, 42),
    ("CH3SH", "Mercaptan (tính theo methyl mercaptan)", "Mercaptans (as methyl mercaptan)", H1, 50),
    ("CH3SH", "Mercaptan (tính theo methyl mercaptan)", "Mercaptans (as methyl mercaptan)", H24, 20),
    ("styrene", "Styrene", "Styrene", H24, 260),
    ("toluene", "Toluene", "Toluene", H1, 500),
    ("xylene", "Xylene", "Xylene", H1, 1000),
)
AIR_TABLE_2: tuple[Limit, ...] = (
    _air("asbestos", "Amiăng trắng nhóm serpentine", "Chrysotile asbestos", H24, 1, table=2, unit="sợi/m³"),
    *(_air(key, vi, en, period, value, table=2) for key, vi, en, period, value in _TOXIC),
)
AIR_LIMITS: tuple[Limit, ...] = (*AIR_TABLE_1, *AIR_TABLE_2)


def _water(parameter: str, name_vi: str, name_en: str, value: Number, unit: str = MG_L) -> Limit:
    return Limit(
        regulation=Regulation.QCVN_08_2023,
        parameter=parameter,
        name_vi=name_vi,
        name_en=name_en,
        kind=LimitKind.MAX,
        value=dec(value),
        unit=unit,
        citation=f"{QCVN_08}, Bảng 1",
        confidence=Confidence.HIGH,
    )


# QCVN 08:2023/BTNMT Bảng 1 — parameters affecting human health, maximum values, for every class of water.
# Items 1–36 of the table; items 37–40 (further pesticides) are not in the reference and not checked.
WATER_TABLE_1: tuple[Limit, ...] = (
    _water("N-NO2", "Nitrit (NO2- tính theo N)", "Nitrite (as N)", "0.05"),
    _water("N-NH4", "Amoni (NH4+ tính theo N)", "Ammonium (as N)", "0.3"),
    _water("Cl-", "Chloride (Cl-)", "Chloride", 250),
    _water("F-", "Fluoride (F-)", "Fluoride", 1),
    _water("CN-", "Cyanide (CN-)", "Cyanide", "0.01"),
    _water("As", "Arsenic (As)", "Arsenic", "0.01"),
    _water("Cd", "Cadmi (Cd)", "Cadmium", "0.005"),
    _water("Pb", "Chì (Pb)", "Lead", "0.02"),
    _water("Cr6+", "Chromi (6+) (Cr6+)", "Chromium(VI)", "0.01"),
    _water("Cr", "Tổng Chromi (Cr)", "Total chromium", "0.05"),
    _water("Cu", "Đồng (Cu)", "Copper", "0.1"),
    _water("Zn", "Kẽm (Zn)", "Zinc", "0.5"),
    _water("Ni", "Nickel (Ni)", "Nickel", "0.1"),
    _water("Mn", "Mangan (Mn)", "Manganese", "0.1"),
    _water("Hg", "Thủy ngân (Hg)", "Mercury", "0.001"),
    _water("Fe", "Sắt (Fe)", "Iron", "0.5"),
    _water("Sb", "Antimon (Sb)", "Antimony", "0.02"),
    _water("surfactants", "Chất hoạt động bề mặt anion", "Anionic surfactants", "0.1"),
    _water("phenol", "Tổng phenol", "Total phenol", "0.005"),
    _water("Aldrin", "Aldrin", "Aldrin", "0.1", UG_L),
    _water("Lindane", "Lindane", "Lindane", "0.02", UG_L),
    _water("Dieldrin", "Dieldrin", "Dieldrin", "0.1", UG_L),
    _water("DDTs", "Tổng DDT", "Total DDT", "1.0", UG_L),
    _water("Heptachlor", "Heptachlor & Heptachlorepoxide", "Heptachlor & heptachlor epoxide", "0.2", UG_L),
    _water("oil_grease", "Tổng dầu, mỡ", "Oil and grease", "5.0"),
    _water("PCBs", "Polychlorinated biphenyls (PCBs)", "Polychlorinated biphenyls (PCBs)", "0.0005"),
    _water("C2Cl4", "Tetrachloroethylene (PCE)", "Tetrachloroethylene (PCE)", "0.04"),
    _water("1,4-dioxane", "1,4-Dioxane", "1,4-Dioxane", "0.05"),
    _water("CCl4", "Carbon tetrachloride", "Carbon tetrachloride", "0.004"),
    _water("1,2-dichloroethane", "1,2-Dichloroethane", "1,2-Dichloroethane", "0.03"),
    _water("CH2Cl2", "Methylene chloride", "Dichloromethane", "0.02"),
    _water("benzene", "Benzene", "Benzene", "0.01"),
    _water("chloroform", "Chloroform", "Chloroform", "0.08"),
    _water("formaldehyde", "Formaldehyde", "Formaldehyde", "0.5"),
    _water("DEHP", "DEHP", "DEHP", "0.008"),
    _water("hexachlorobenzene", "Hexachlorobenzene", "Hexachlorobenzene", "0.04", UG_L),
)


def _class_cell(
    parameter: str,
    name_vi: str,
    name_en: str,
    water_class: WaterClass,
    kind: LimitKind,
    value: Number,
    unit: str,
    *,
    high: Number | None = None,
    inferred: bool = False,
) -> Limit:
    return Limit(
        regulation=Regulation.QCVN_08_2023,
        parameter=parameter,
        name_vi=name_vi,
        name_en=name_en,
        kind=kind,
        value=dec(value),
        unit=unit,
        citation=f"{QCVN_08}, Bảng 2",
        confidence=Confidence.LOW,
        water_class=water_class,
        high=dec(high) if high is not None else None,
        inferred=inferred,
    )


A, B, C = WaterClass.A, WaterClass.B, WaterClass.C
MAX, MIN, RANGE = LimitKind.MAX, LimitKind.MIN, LimitKind.RANGE
_TT_VI, _TT_EN = "Coliform chịu nhiệt", "Thermotolerant coliforms"

# QCVN 08:2023/BTNMT Bảng 2 — classification of rivers, streams and canals, levels A/B/C (D is anything worse
# than C). [L] in the reference (§5.2): from one scrambled rendering, to be verified cell by cell against the
# official PDF. Cells hidden in that rendering are inferred from their neighbours (inferred=True): TSS B ≤ 100
# (C reads "> 100") and TOC C ≤ 8 (D reads "> 8"). TSS has no numeric limit at level C (the C/D split is
# about floating trash, an observation), so it is checked against A and B only.
WATER_TABLE_2: tuple[Limit, ...] = (
    _class_cell("pH", "pH", "pH", A, RANGE, "6.5", "", high="8.5"),
    _class_cell("pH", "pH", "pH", B, RANGE, "6.0", "", high="8.5"),
    _class_cell("pH", "pH", "pH", C, RANGE, "6.0", "", high="8.5"),
    _class_cell("BOD5", "BOD5 (20 °C)", "BOD5 (20 °C)", A, MAX, 4, MG_L),
    _class_cell("BOD5", "BOD5 (20 °C)", "BOD5 (20 °C)", B, MAX, 6, MG_L),
    _class_cell("BOD5", "BOD5 (20 °C)", "BOD5 (20 °C)", C, MAX, 10, MG_L),
    _class_cell("COD", "COD", "COD", A, MAX, 10, MG_L),
    _class_cell("COD", "COD", "COD", B, MAX, 15, MG_L),
    _class_cell("COD", "COD", "COD", C, MAX, 20, MG_L),
    _class_cell("TOC", "Tổng cacbon hữu cơ (TOC)", "Total organic carbon (TOC)", A, MAX, 4, MG_L),
    _class_cell("TOC", "Tổng cacbon hữu cơ (TOC)", "Total organic carbon (TOC)", B, MAX, 6, MG_L),
    _class_cell("TOC", "Tổng cacbon hữu cơ (TOC)", "Total organic carbon (TOC)", C, MAX, 8, MG_L, inferred=True),
    _class_cell("TSS", "Tổng chất rắn lơ lửng (TSS)", "Total suspended solids (TSS)", A, MAX, 25, MG_L),
    _class_cell("TSS", "Tổng chất rắn lơ lửng (TSS)", "Total suspended solids (TSS)", B, MAX, 100, MG_L, inferred=True),
    _class_cell("DO", "Oxy hòa tan (DO)", "Dissolved oxygen (DO)", A, MIN, "6.0", MG_L),
    _class_cell("DO", "Oxy hòa tan (DO)", "Dissolved oxygen (DO)", B, MIN, "5.0", MG_L),
    _class_cell("DO", "Oxy hòa tan (DO)", "Dissolved oxygen (DO)", C, MIN, "4.0", MG_L),
    _class_cell("TP", "Tổng phốt pho (TP)", "Total phosphorus (TP)", A, MAX, "0.1", MG_L),
    _class_cell("TP", "Tổng phốt pho (TP)", "Total phosphorus (TP)", B, MAX, "0.3", MG_L),
    _class_cell("TP", "Tổng phốt pho (TP)", "Total phosphorus (TP)", C, MAX, "0.5", MG_L),
    _class_cell("TN", "Tổng nitơ (TN)", "Total nitrogen (TN)", A, MAX, "0.6", MG_L),
    _class_cell("TN", "Tổng nitơ (TN)", "Total nitrogen (TN)", B, MAX, "1.5", MG_L),
    _class_cell("TN", "Tổng nitơ (TN)", "Total nitrogen (TN)", C, MAX, "2.0", MG_L),
    _class_cell("Coliform", "Tổng Coliform", "Total coliforms", A, MAX, 1000, MPN),
    _class_cell("Coliform", "Tổng Coliform", "Total coliforms", B, MAX, 5000, MPN),
    _class_cell("Coliform", "Tổng Coliform", "Total coliforms", C, MAX, 7500, MPN),
    _class_cell("thermotolerant_coliform", _TT_VI, _TT_EN, A, MAX, 200, MPN),
    _class_cell("thermotolerant_coliform", _TT_VI, _TT_EN, B, MAX, 1000, MPN),
    _class_cell("thermotolerant_coliform", _TT_VI, _TT_EN, C, MAX, 1500, MPN),
)
WATER_LIMITS: tuple[Limit, ...] = (*WATER_TABLE_1, *WATER_TABLE_2)
CLASSED_PARAMETERS = tuple(dict.fromkeys(limit.parameter for limit in WATER_TABLE_2))


def compare(limit: Limit, value: Number) -> LimitCheck:
    """Compare one value with one limit (equal to a maximum or minimum complies)."""
    v = dec(value)
    if limit.kind is LimitKind.MAX:
        bound = limit.value
        exceeded = v > bound
    elif limit.kind is LimitKind.MIN:
        bound = limit.value
        exceeded = v < bound
    else:
        if limit.high is None:
            raise ValueError(f"range limit of {limit.parameter} has no upper end")
        low, high = limit.value, limit.high
        exceeded = not low <= v <= high
        bound = low if v < low or (not exceeded and v - low < high - v) else high
    ratio = (v / bound).quantize(Decimal("0.001")) if bound != 0 else None
    return LimitCheck(limit=limit, value=v, exceeded=exceeded, ratio=ratio, bound=bound)


def _lookup(limits: Sequence[Limit], parameter: str) -> str | None:
    wanted = parameter.strip().casefold()
    return next((limit.parameter for limit in limits if limit.parameter.casefold() == wanted), None)


def _unknown(parameter: str, limits: Sequence[Limit], regulation: str) -> Problem:
    known = ", ".join(dict.fromkeys(limit.parameter for limit in limits))
    return Problem(
        f"values.{parameter}",
        "unknown_parameter",
        f"{regulation} không quy định thông số {parameter!r}; các thông số có: {known}.",
        f"{regulation} sets no limit for {parameter!r}; known parameters: {known}.",
    )


def _split_period(key: str) -> tuple[str, LimitPeriod | None]:
    name, _, suffix = key.rpartition("_")
    if name and suffix in {p.value for p in LimitPeriod}:
        return name, LimitPeriod(suffix)
    return key, None


def check_air(values: Mapping[str, Number], period: LimitPeriod | None, on: date) -> LimitReport:
    """Check ambient-air concentrations (µg/Nm³) against QCVN 05:2023 Bảng 1–2 for the measurement date.

    A key may carry its own period ("NO2_1h"); otherwise `period` applies. Raises CalculationRejected for unknown
    parameters, a missing period, negative values or a date before the regulation came into force.
    """
    problems: list[Problem] = []
    if on < IN_FORCE_FROM:
        problems.append(
            Problem(
                "date",
                "before_in_force",
                f"{QCVN_05} có hiệu lực từ 12/09/2023; số liệu trước đó theo QCVN 05:2013/BTNMT (chưa hỗ trợ).",
                f"{QCVN_05} applies from 2023-09-12; earlier data fall under QCVN 05:2013/BTNMT (not supported).",
            )
        )
    checks: list[LimitCheck] = []
    not_checked: list[Problem] = []
    for key, raw in values.items():
        name, own_period = _split_period(key)
        parameter = _lookup(AIR_LIMITS, name) if own_period else None
        if parameter is None:  # no period suffix (or it belonged to the name)
            parameter, own_period = _lookup(AIR_LIMITS, key), None
        chosen = own_period or period
        if parameter is None:
            problems.append(_unknown(key, AIR_LIMITS, QCVN_05))
            continue
        if chosen is None:
            problems.append(
                Problem(
                    f"values.{key}",
                    "period_missing",
                    f"{key}: cần thời gian trung bình (period: 1h, 8h, 24h, year) hoặc hậu tố như {parameter}_24h.",
                    f"{key}: give the averaging period (period: 1h, 8h, 24h, year) or a suffix such as "
                    f"{parameter}_24h.",
                )
            )
            continue
        value = dec(raw)
        if value < 0:
            problems.append(Problem(f"values.{key}", "negative", f"{key} không thể âm.", f"{key} cannot be negative."))
            continue
        limit = next(
            (
                item
                for item in AIR_LIMITS
                if item.parameter == parameter and item.period is chosen and item.applies_on(on)
            ),
            None,
        )
        if limit is None:
            periods = sorted({item.period.value for item in AIR_LIMITS if item.parameter == parameter and item.period})
            not_checked.append(
                Problem(
                    f"values.{key}",
                    "no_limit_for_period",
                    f"{QCVN_05} không quy định giới hạn {chosen.value} cho {parameter} (có: {', '.join(periods)}).",
                    f"{QCVN_05} sets no {chosen.value} limit for {parameter} (it has: {', '.join(periods)}).",
                )
            )
            continue
        checks.append(compare(limit, value))
    if problems:
        raise CalculationRejected(problems)
    return LimitReport(Regulation.QCVN_05_2023, checks, not_checked)


def classify_surface_water(values: Mapping[str, Number]) -> dict[str, WaterClass | None]:
    """Return, for each Bảng 2 parameter given, the best level (A, B, C, else D) its value meets.

    TSS above 100 mg/L is C or D depending on floating trash, which a measurement cannot tell: None.
    """
    result: dict[str, WaterClass | None] = {}
    for key, raw in values.items():
        parameter = _lookup(WATER_TABLE_2, key)
        if parameter is None:
            continue
        cells = [limit for limit in WATER_TABLE_2 if limit.parameter == parameter]
        met = next(
            (cell.water_class for cell in cells if not compare(cell, raw).exceeded),
            None,
        )
        if met is None and parameter == "TSS":
            result[parameter] = None
        else:
            result[parameter] = met or WaterClass.D
    return result


def check_surface_water(values: Mapping[str, Number], water_class: WaterClass | None) -> LimitReport:
    """Check surface-water values against QCVN 08:2023 Bảng 1 and, when a level is given, Bảng 2 for that level.

    Raises CalculationRejected for unknown parameters, negative values or level D as a target.
    """
    problems: list[Problem] = []
    if water_class is WaterClass.D:
        problems.append(
            Problem(
                "water_class",
                "class_d_is_not_a_target",
                "Mức D là mức kém hơn mức C, không có giá trị giới hạn riêng; hãy chọn A, B hoặc C.",
                "Level D is anything worse than C and has no limits of its own; choose A, B or C.",
            )
        )
    checks: list[LimitCheck] = []
    not_checked: list[Problem] = []
    for key, raw in values.items():
        value = dec(raw)
        if value < 0:
            problems.append(Problem(f"values.{key}", "negative", f"{key} không thể âm.", f"{key} cannot be negative."))
            continue
        health = _lookup(WATER_TABLE_1, key)
        classed = _lookup(WATER_TABLE_2, key)
        if health is not None:
            limit = next(item for item in WATER_TABLE_1 if item.parameter == health)
            checks.append(compare(limit, value))
        elif classed is not None:
            cell = next(
                (item for item in WATER_TABLE_2 if item.parameter == classed and item.water_class is water_class),
                None,
            )
            if cell is not None:
                checks.append(compare(cell, value))
            elif water_class is None:
                not_checked.append(
                    Problem(
                        f"values.{key}",
                        "water_class_missing",
                        f"{classed}: chọn mức chất lượng nước (water_class A, B hoặc C) để so với Bảng 2.",
                        f"{classed}: choose a water quality level (water_class A, B or C) to compare with Bảng 2.",
                    )
                )
            else:
                not_checked.append(
                    Problem(
                        f"values.{key}",
                        "no_numeric_limit",
                        f"{classed}: Bảng 2 không có giá trị số cho mức {water_class.value} (mức C/D của TSS phân "
                        f"biệt bằng rác nổi).",
                        f"{classed}: Bảng 2 has no numeric limit at level {water_class.value} (the C/D split of TSS "
                        f"depends on floating trash).",
                    )
                )
        else:
            problems.append(_unknown(key, WATER_LIMITS, QCVN_08))
    if problems:
        raise CalculationRejected(problems)
    return LimitReport(Regulation.QCVN_08_2023, checks, not_checked, classify_surface_water(values))
