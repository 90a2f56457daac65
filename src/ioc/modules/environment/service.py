"""The calculators behind the API: read a request, check every input against the standard, compute, answer.

No database and no HTTP here: the functions take the request schemas and return the answer schemas, raising
CalculationRejected / InsufficientData (422) with one bilingual problem per faulty input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from types import ModuleType

from ioc.core.time import local_today

from . import discharge
from .constants import AqiPeriod, AqiStandard, Averaging, Pollutant, Regulation
from .exceptions import CalculationRejected, Problem
from .indices import us_aqi, vn_aqi, vn_wqi
from .indices.common import AqiResult, Category, InputKey, dec, derive_inputs, input_name
from .limits import QCVN_05, QCVN_08, LimitCheck, LimitReport, check_air, check_surface_water
from .schemas import (
    AqiCalculateRequest,
    AqiCalculation,
    CategoryRead,
    LimitCheckRead,
    LimitCheckRequest,
    LimitCheckResult,
    NoteRead,
    WqiCalculateRequest,
    WqiCalculation,
)

STANDARDS: Mapping[AqiStandard, ModuleType] = {AqiStandard.VN_AQI: vn_aqi, AqiStandard.US_AQI: us_aqi}
PERIOD_VI = {AqiPeriod.HOUR: "giờ", AqiPeriod.DAY: "ngày"}
PERIOD_EN = {AqiPeriod.HOUR: "hourly", AqiPeriod.DAY: "daily"}
# A value more than ten times the top of its breakpoint table is not a concentration but a unit mistake
# (ppb sent as ppm, µg/m³ as ppm…).
PLAUSIBLE_FACTOR = 10
DISPLAY_STEP = Decimal("0.0001")
REGULATION_NAMES = {
    Regulation.QCVN_05_2023: QCVN_05,
    Regulation.QCVN_08_2023: QCVN_08,
    Regulation.QCVN_40_2011: discharge.QCVN_40,
}


def _squash(name: str) -> str:
    return "".join(ch for ch in name.upper() if ch.isalnum())


_POLLUTANTS = {_squash(p.value): p for p in Pollutant}


def parse_pollutant(name: str) -> Pollutant | None:
    """Return the pollutant a name means ("PM2.5", "pm25", "PM2,5" → PM2.5), or None."""
    return _POLLUTANTS.get(_squash(name))


def _normalise_unit(unit: str) -> str:
    text = unit.strip().lower().replace("μ", "u").replace("µ", "u").replace("³", "3").replace("^", "")
    return text.replace(" ", "")


def unit_of(standard: AqiStandard, pollutant: Pollutant) -> str:
    """Return the unit a standard's tables use for a pollutant."""
    return vn_aqi.UNIT if standard is AqiStandard.VN_AQI else us_aqi.UNITS[pollutant]


def _tables_of(standard: AqiStandard, pollutant: Pollutant) -> list[Decimal]:
    module = STANDARDS[standard]
    return [table.top for key, table in module.TABLES.items() if key[0] is pollutant]


def _allowed(standard: AqiStandard, period: AqiPeriod) -> tuple[InputKey, ...]:
    allowed: tuple[InputKey, ...] = STANDARDS[standard].ALLOWED_INPUTS[period]
    return allowed


def _allowed_names(standard: AqiStandard, period: AqiPeriod) -> str:
    return ", ".join(input_name(k) for k in _allowed(standard, period))


def _unknown_pollutant(field: str, name: str) -> Problem:
    known = ", ".join(p.value for p in Pollutant)
    return Problem(
        field,
        "unknown_pollutant",
        f"Thông số {name!r} không có trong chỉ số chất lượng không khí; các thông số nhận: {known}.",
        f"{name!r} is not an air quality index pollutant; accepted: {known}.",
    )


def _wrong_period(standard: AqiStandard, period: AqiPeriod, key: InputKey, name: str) -> Problem:
    pollutant, averaging = key
    p = pollutant.value
    field = f"values.{name}"
    allowed = _allowed_names(standard, period)
    if pollutant in (Pollutant.PM25, Pollutant.PM10) and period is AqiPeriod.HOUR:
        source_vi = "QĐ 1459/QĐ-TCMT, mục 2.2.1" if standard is AqiStandard.VN_AQI else "EPA-454/B-24-002"
        return Problem(
            field,
            "wrong_period",
            f"{standard.value} giờ dùng Nowcast cho {p} ({source_vi}): gửi chuỗi giờ trong hourly hoặc {p}_nowcast.",
            f"The hourly {standard.value} uses the NowCast for {p} ({source_vi}): send the hourly series in hourly "
            f"or {p}_nowcast.",
        )
    if pollutant in (Pollutant.PM25, Pollutant.PM10) and period is AqiPeriod.DAY:
        return Problem(
            field,
            "wrong_period",
            f"{standard.value} ngày dùng trung bình 24 giờ cho {p}: gửi {p}_24h hoặc chuỗi 24 giờ.",
            f"The daily {standard.value} uses the 24-hour mean of {p}: send {p}_24h or the 24-hour series.",
        )
    return Problem(
        field,
        "wrong_period",
        f"{name} không dùng được cho {standard.value} {PERIOD_VI[period]} (không có cột {p} {averaging.value} "
        f"trong bảng của chỉ số này); các giá trị nhận: {allowed}.",
        f"{name} cannot be used by the {PERIOD_EN[period]} {standard.value} (its tables have no {averaging.value} "
        f"{p} column); accepted: {allowed}.",
    )


def _check_value(standard: AqiStandard, pollutant: Pollutant, field: str, value: Decimal) -> Problem | None:
    unit = unit_of(standard, pollutant)
    if value < 0:
        return Problem(
            field,
            "negative",
            f"{field}: nồng độ không thể âm ({value}).",
            f"{field}: a concentration cannot be negative ({value}).",
        )
    ceiling = max(_tables_of(standard, pollutant)) * PLAUSIBLE_FACTOR
    if value > ceiling:
        return Problem(
            field,
            "implausible_value",
            f"{field} = {value} lớn hơn {PLAUSIBLE_FACTOR} lần mức cao nhất của bảng; hãy kiểm tra đơn vị "
            f"({standard.value} dùng {unit} cho {pollutant.value}).",
            f"{field} = {value} is more than {PLAUSIBLE_FACTOR} times the top of the table; check the unit "
            f"({standard.value} takes {pollutant.value} in {unit}).",
        )
    return None


def _check_units(request: AqiCalculateRequest) -> list[Problem]:
    problems: list[Problem] = []
    for name, unit in request.units.items():
        pollutant = parse_pollutant(name)
        if pollutant is None:
            problems.append(_unknown_pollutant(f"units.{name}", name))
            continue
        expected = unit_of(request.standard, pollutant)
        if _normalise_unit(unit) != _normalise_unit(expected):
            if request.standard is AqiStandard.VN_AQI:
                why_vi = "Bảng 2 của QĐ 1459/QĐ-TCMT dùng µg/m³ cho mọi cột, kể cả CO"
                why_en = "Bảng 2 of Decision 1459/QĐ-TCMT is in µg/m³ for every column, CO included"
            else:
                why_vi = why_en = "EPA-454/B-24-002, Table 6"
            problems.append(
                Problem(
                    f"units.{name}",
                    "wrong_unit",
                    f"{request.standard.value} nhận {pollutant.value} theo {expected} ({why_vi}); đã khai báo "
                    f"{unit!r}. Hãy đổi đơn vị trước khi gửi.",
                    f"{request.standard.value} takes {pollutant.value} in {expected} ({why_en}); {unit!r} was "
                    f"declared. Convert the values before sending them.",
                )
            )
    return problems


def _read_values(request: AqiCalculateRequest, problems: list[Problem]) -> dict[InputKey, Decimal]:
    allowed = _allowed(request.standard, request.period)
    given: dict[InputKey, Decimal] = {}
    for name, raw in request.values.items():
        field = f"values.{name}"
        pollutant_name, _, suffix = name.rpartition("_")
        pollutant = parse_pollutant(pollutant_name) if pollutant_name else None
        averaging = next((a for a in Averaging if a.value == suffix.lower()), None)
        if pollutant is None and pollutant_name and parse_pollutant(name) is None:
            problems.append(_unknown_pollutant(field, pollutant_name))
            continue
        if pollutant is None or averaging is None:
            choices = _allowed_names(request.standard, request.period)
            problems.append(
                Problem(
                    field,
                    "averaging_missing",
                    f"{name}: khoá cần dạng <thông số>_<nowcast|1h|8h|24h>; các giá trị nhận: {choices}.",
                    f"{name}: keys take the form <pollutant>_<nowcast|1h|8h|24h>; accepted: {choices}.",
                )
            )
            continue
        key = (pollutant, averaging)
        if key not in allowed:
            problems.append(_wrong_period(request.standard, request.period, key, name))
            continue
        if key in given:
            problems.append(
                Problem(
                    field,
                    "given_twice",
                    f"{input_name(key)} được gửi hai lần.",
                    f"{input_name(key)} is given twice.",
                )
            )
            continue
        value = dec(raw)
        problem = _check_value(request.standard, pollutant, field, value)
        if problem is not None:
            problems.append(problem)
            continue
        given[key] = value
    return given


def _read_hourly(request: AqiCalculateRequest, problems: list[Problem]) -> dict[Pollutant, list[Decimal | None]]:
    series: dict[Pollutant, list[Decimal | None]] = {}
    for name, values in request.hourly.items():
        field = f"hourly.{name}"
        pollutant = parse_pollutant(name)
        if pollutant is None:
            problems.append(_unknown_pollutant(field, name))
            continue
        if pollutant in series:
            problems.append(
                Problem(
                    field, "given_twice", f"{pollutant.value} được gửi hai lần.", f"{pollutant.value} is given twice."
                )
            )
            continue
        converted = [None if v is None else dec(v) for v in values]
        bad = next(
            (
                problem
                for i, v in enumerate(converted)
                if v is not None
                and (problem := _check_value(request.standard, pollutant, f"{field}[{i}]", v)) is not None
            ),
            None,
        )
        if bad is not None:
            problems.append(bad)
            continue
        series[pollutant] = converted
    return series


def _category(category: Category) -> CategoryRead:
    return CategoryRead(
        code=category.code,
        low=category.low,
        high=category.high,
        name_vi=category.name_vi,
        name_en=category.name_en,
        colour_vi=category.colour_vi,
        colour_en=category.colour_en,
        hex=category.hex,
        meaning_vi=category.meaning_vi,
        meaning_en=category.meaning_en,
        advice_general_vi=category.advice_general_vi,
        advice_general_en=category.advice_general_en,
        advice_sensitive_vi=category.advice_sensitive_vi,
        advice_sensitive_en=category.advice_sensitive_en,
    )


def _notes(problems: Sequence[Problem]) -> list[NoteRead]:
    return [NoteRead(**p.as_dict()) for p in problems]


def _display(value: Decimal) -> float:
    # Four decimals are enough to read a NowCast or a DO%; the calculation itself used every digit.
    return float(value.quantize(DISPLAY_STEP))


def _aqi_answer(result: AqiResult) -> AqiCalculation:
    units = {}
    for name in result.inputs_used:
        pollutant = parse_pollutant(name.rpartition("_")[0])
        if pollutant is not None:
            units[name] = unit_of(result.standard, pollutant)
    return AqiCalculation(
        standard=result.standard,
        period=result.period,
        aqi=result.aqi,
        category=result.category.code,
        category_info=_category(result.category),
        dominant=result.dominant.value,
        sub_indices={p.value: v for p, v in result.sub_indices.items()},
        inputs_used={name: _display(v) for name, v in result.inputs_used.items()},
        units=units,
        beyond_scale=result.beyond_scale,
        notes=_notes(result.notes),
    )


def calculate_aqi(request: AqiCalculateRequest) -> AqiCalculation:
    """Compute VN_AQI or US AQI for the hour or the day from hourly series and/or averaged values."""
    problems = _check_units(request)
    given = _read_values(request, problems)
    series = _read_hourly(request, problems)
    if not request.values and not request.hourly:
        problems.append(
            Problem(
                "values",
                "no_input",
                "Cần ít nhất một chuỗi giờ (hourly) hoặc một giá trị trung bình (values).",
                "Send at least one hourly series (hourly) or one averaged value (values).",
            )
        )
    if problems:
        raise CalculationRejected(problems)
    module = STANDARDS[request.standard]
    derived = derive_inputs(series, request.period, module.DERIVATION[request.period], module.NOWCAST_SOURCE)
    twice = [key for key in derived.values if key in given]
    if twice:
        raise CalculationRejected(
            [
                Problem(
                    f"values.{input_name(key)}",
                    "given_twice",
                    f"{input_name(key)} có trong values và cũng được tính từ chuỗi hourly; chỉ gửi một nguồn.",
                    f"{input_name(key)} is in values and is also computed from the hourly series; send one source.",
                )
                for key in twice
            ]
        )
    result: AqiResult = module.calculate({**derived.values, **given}, request.period, tuple(derived.notes))
    return _aqi_answer(result)


def calculate_wqi(request: WqiCalculateRequest) -> WqiCalculation:
    """Compute VN_WQI (Decision 1460/QĐ-TCMT) for one water sample."""
    result = vn_wqi.calculate(request.values, weighted=request.weighted)
    return WqiCalculation(
        wqi=result.wqi,
        category=result.category.code,
        category_info=_category(result.category),
        formula=result.formula,
        groups={g: None if v is None else float(v.quantize(Decimal("0.01"))) for g, v in result.groups.items()},
        sub_indices={name: float(v.quantize(Decimal("0.01"))) for name, v in result.sub_indices.items()},
        inputs_used={name: _display(v) for name, v in result.inputs_used.items()},
        units={name: vn_wqi.UNITS[name] for name in result.inputs_used if vn_wqi.UNITS.get(name)},
        notes=_notes(result.notes),
    )


def _check_read(check: LimitCheck) -> LimitCheckRead:
    limit = check.limit
    return LimitCheckRead(
        parameter=limit.parameter,
        name_vi=limit.name_vi,
        name_en=limit.name_en,
        period=limit.period,
        water_class=limit.water_class,
        kind=limit.kind.value,
        value=float(check.value),
        limit=float(check.bound),
        limit_high=float(limit.high) if limit.high is not None else None,
        unit=limit.unit,
        ratio=float(check.ratio) if check.ratio is not None else None,
        exceeded=check.exceeded,
        regulation=REGULATION_NAMES[limit.regulation],
        citation=limit.citation,
        confidence=limit.confidence.value,
        inferred=limit.inferred,
    )


def check_limits(request: LimitCheckRequest, today: dt.date | None = None) -> LimitCheckResult:
    """Compare values with QCVN 05:2023 (air, by period) or QCVN 08:2023 (water, Bảng 1 and a Bảng 2 level)."""
    on = request.date or today or local_today()
    problems: list[Problem] = []
    if request.regulation is not Regulation.QCVN_08_2023 and request.water_class is not None:
        problems.append(
            Problem(
                "water_class",
                "not_for_air",
                "water_class chỉ dùng với QCVN 08:2023 (nước mặt).",
                "water_class applies to QCVN 08:2023 (surface water) only.",
            )
        )
    if request.regulation is not Regulation.QCVN_40_2011 and (request.column or request.kq or request.kf):
        problems.append(
            Problem(
                "column",
                "not_for_this_regulation",
                "column, kq, kf chỉ dùng với QCVN 40:2011 (nước thải công nghiệp).",
                "column, kq and kf apply to QCVN 40:2011 (industrial wastewater) only.",
            )
        )
    if request.regulation is not Regulation.QCVN_05_2023 and request.period is not None:
        problems.append(
            Problem(
                "period",
                "not_for_water",
                "period chỉ dùng với QCVN 05:2023 (không khí); QCVN 08:2023 và 40:2011 so từng mẫu nước.",
                "period applies to QCVN 05:2023 (air) only; QCVN 08:2023 and 40:2011 compare single samples.",
            )
        )
    if problems:
        raise CalculationRejected(problems)
    report: LimitReport
    if request.regulation is Regulation.QCVN_05_2023:
        report = check_air(request.values, request.period, on)
    elif request.regulation is Regulation.QCVN_40_2011:
        report = discharge.check_wastewater(request.values, request.column, request.kq, request.kf)
    else:
        report = check_surface_water(request.values, request.water_class)
    checks = [_check_read(check) for check in report.checks]
    return LimitCheckResult(
        regulation=request.regulation,
        regulation_name=REGULATION_NAMES[request.regulation],
        date=on,
        period=request.period,
        water_class=request.water_class,
        exceedances=[c for c in checks if c.exceeded],
        checks=checks,
        not_checked=_notes(report.not_checked),
        classes=report.classes,
    )
