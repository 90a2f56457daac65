"""Industrial wastewater discharge limits: QCVN 40:2011/BTNMT Bảng 1, columns A and B, with Kq and Kf.

The project's reference has no wastewater table: the values below are transcribed from QCVN 40:2011/BTNMT
(Circular 47/2011/TT-BTNMT) and carry confidence L until they are checked against the signed text. The
maximum allowed value is Cmax = C × Kq × Kf (mục 2.1.2), except for temperature, colour, pH, coliform and
radioactivity, where Cmax = C (mục 2.1.3). QCVN 40:2025/BTNMT replaces it; its tables are not implemented.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from .constants import Confidence, DischargeColumn, LimitKind, Regulation
from .exceptions import CalculationRejected, Problem
from .indices.common import Number, dec
from .limits import Limit, LimitCheck, LimitReport, compare

QCVN_40 = "QCVN 40:2011/BTNMT"
CITATION = f"{QCVN_40}, Bảng 1"
MG_L = "mg/L"

# Ranges a person may enter for the coefficients: Kq 0.6 (small lake) … 1.3 (sea), Bảng 2 and 3; Kf 0.9 … 1.2, Bảng 4.
KQ_RANGE = (Decimal("0.6"), Decimal("1.3"))
KF_RANGE = (Decimal("0.9"), Decimal("1.2"))

# (parameter, name_vi, name_en, unit, column A, column B, scaled by Kq × Kf)
_ROWS: tuple[tuple[str, str, str, str, str, str, bool], ...] = (
    ("temperature", "Nhiệt độ", "Temperature", "°C", "40", "40", False),
    ("colour", "Màu", "Colour", "Pt/Co", "50", "150", False),
    ("BOD5", "BOD5 (20 °C)", "BOD5 (20 °C)", MG_L, "30", "50", True),
    ("COD", "COD", "COD", MG_L, "75", "150", True),
    ("TSS", "Chất rắn lơ lửng", "Total suspended solids", MG_L, "50", "100", True),
    ("As", "Asen", "Arsenic", MG_L, "0.05", "0.1", True),
    ("Hg", "Thủy ngân", "Mercury", MG_L, "0.005", "0.01", True),
    ("Pb", "Chì", "Lead", MG_L, "0.1", "0.5", True),
    ("Cd", "Cadimi", "Cadmium", MG_L, "0.05", "0.1", True),
    ("Cr6+", "Crom (VI)", "Chromium (VI)", MG_L, "0.05", "0.1", True),
    ("Cr3+", "Crom (III)", "Chromium (III)", MG_L, "0.2", "1", True),
    ("Cu", "Đồng", "Copper", MG_L, "2", "2", True),
    ("Zn", "Kẽm", "Zinc", MG_L, "3", "3", True),
    ("Ni", "Niken", "Nickel", MG_L, "0.2", "0.5", True),
    ("Mn", "Mangan", "Manganese", MG_L, "0.5", "1", True),
    ("Fe", "Sắt", "Iron", MG_L, "1", "5", True),
    ("CN", "Tổng xianua", "Total cyanide", MG_L, "0.07", "0.1", True),
    ("phenol", "Tổng phenol", "Total phenols", MG_L, "0.1", "0.5", True),
    ("oil", "Tổng dầu mỡ khoáng", "Total mineral oil and grease", MG_L, "5", "10", True),
    ("S2-", "Sunfua", "Sulphide", MG_L, "0.2", "0.5", True),
    ("F-", "Florua", "Fluoride", MG_L, "5", "10", True),
    ("N-NH4", "Amoni (tính theo N)", "Ammonium (as N)", MG_L, "5", "10", True),
    ("TN", "Tổng nitơ", "Total nitrogen", MG_L, "20", "40", True),
    ("TP", "Tổng phốt pho (tính theo P)", "Total phosphorus (as P)", MG_L, "4", "6", True),
    ("Cl-", "Clorua", "Chloride", MG_L, "500", "1000", True),
    ("Cl2", "Clo dư", "Residual chlorine", MG_L, "1", "2", True),
    ("OCP", "Tổng hóa chất BVTV clo hữu cơ", "Total organochlorine pesticides", MG_L, "0.05", "0.1", True),
    ("OPP", "Tổng hóa chất BVTV phốt pho hữu cơ", "Total organophosphorus pesticides", MG_L, "0.3", "1", True),
    ("PCB", "Tổng PCB", "Total PCBs", MG_L, "0.003", "0.01", True),
    ("Coliform", "Coliform", "Coliform", "vi khuẩn/100 mL", "3000", "5000", False),
    ("alpha", "Tổng hoạt độ phóng xạ α", "Gross alpha activity", "Bq/L", "0.1", "0.1", False),
    ("beta", "Tổng hoạt độ phóng xạ β", "Gross beta activity", "Bq/L", "1.0", "1.0", False),
)
SCALED = frozenset(row[0] for row in _ROWS if row[6])
# pH: column A 6–9, column B 5.5–9 (a range, never scaled).
PH_RANGE = {DischargeColumn.A: (Decimal(6), Decimal(9)), DischargeColumn.B: (Decimal("5.5"), Decimal(9))}
PARAMETERS = ("pH", *(row[0] for row in _ROWS))


def _limit(parameter: str, vi: str, en: str, unit: str, value: Decimal, high: Decimal | None = None) -> Limit:
    return Limit(
        regulation=Regulation.QCVN_40_2011,
        parameter=parameter,
        name_vi=vi,
        name_en=en,
        kind=LimitKind.RANGE if high is not None else LimitKind.MAX,
        value=value,
        unit=unit,
        citation=CITATION,
        # Not in the project's reference (only QCVN 05 and 08 are): confirm against the signed text.
        confidence=Confidence.LOW,
        high=high,
    )


def limits_for(column: DischargeColumn, kq: Number = 1, kf: Number = 1) -> dict[str, Limit]:
    """Return the maximum allowed values Cmax of one column for a discharge's Kq and Kf, by parameter."""
    factor = dec(kq) * dec(kf)
    low, high = PH_RANGE[column]
    found = {"pH": _limit("pH", "pH", "pH", "", low, high)}
    for parameter, vi, en, unit, a, b, scaled in _ROWS:
        base = dec(a if column is DischargeColumn.A else b)
        found[parameter] = _limit(parameter, vi, en, unit, base * factor if scaled else base)
    return found


def coefficient_problems(kq: Number | None, kf: Number | None) -> list[Problem]:
    """Return what is wrong with a discharge's coefficients (outside the regulation's tables)."""
    problems: list[Problem] = []
    for name, value, (low, high) in (("kq", kq, KQ_RANGE), ("kf", kf, KF_RANGE)):
        if value is not None and not low <= dec(value) <= high:
            problems.append(
                Problem(
                    name,
                    "coefficient_range",
                    f"Hệ số {name.capitalize()} phải trong khoảng {low}–{high} ({QCVN_40}, mục 2.1.2).",
                    f"Coefficient {name.capitalize()} must be between {low} and {high} ({QCVN_40} §2.1.2).",
                )
            )
    return problems


def check_wastewater(
    values: Mapping[str, Number], column: DischargeColumn | None, kq: Number | None = None, kf: Number | None = None
) -> LimitReport:
    """Check wastewater values against QCVN 40:2011 Bảng 1 (column A or B, Cmax = C × Kq × Kf).

    Raises CalculationRejected for a missing column, coefficients out of range, unknown or negative values.
    """
    problems = coefficient_problems(kq, kf)
    if column is None:
        problems.append(
            Problem(
                "column",
                "column_missing",
                f"Chọn cột A hoặc B của {QCVN_40} (A: xả vào nguồn nước dùng cho cấp nước sinh hoạt).",
                f"Choose column A or B of {QCVN_40} (A: discharges into water used for domestic supply).",
            )
        )
        raise CalculationRejected(problems)
    table = limits_for(column, 1 if kq is None else kq, 1 if kf is None else kf)
    by_name = {name.casefold(): name for name in table}
    checks: list[LimitCheck] = []
    for key, raw in values.items():
        value = dec(raw)
        name = by_name.get(key.strip().casefold())
        if name is None:
            problems.append(
                Problem(
                    f"values.{key}",
                    "unknown_parameter",
                    f"{QCVN_40} không quy định thông số {key!r}; các thông số có: {', '.join(table)}.",
                    f"{QCVN_40} sets no limit for {key!r}; known parameters: {', '.join(table)}.",
                )
            )
        elif value < 0 and name != "temperature":
            problems.append(Problem(f"values.{key}", "negative", f"{key} không thể âm.", f"{key} cannot be negative."))
        else:
            checks.append(compare(table[name], value))
    if problems:
        raise CalculationRejected(problems)
    return LimitReport(Regulation.QCVN_40_2011, checks)
