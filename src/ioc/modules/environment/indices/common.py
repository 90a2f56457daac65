"""Shared arithmetic of the indices: exact decimals, breakpoint tables, categories, NowCast and averages.

Everything here works on `Decimal`: binary floating point turns an exact x.5 into x.4999… and flips a
half-up rounding (reference §1.7), so floats are converted through their shortest decimal representation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from enum import StrEnum

from ..constants import AqiPeriod, AqiStandard, Averaging, Confidence, Pollutant
from ..exceptions import CalculationRejected, Problem

# Strings are accepted so that tables can be written as exact decimal literals ("0.054").
Number = Decimal | float | int | str
InputKey = tuple[Pollutant, Averaging]

# NowCast (Decision 1459/QĐ-TCMT §2.2.1.a and EPA-454/B-24-002 p. 16): the last 12 hourly means, a weight
# floored at 1/2, and a value only when at least 2 of the 3 most recent hours exist.
NOWCAST_HOURS = 12
NOWCAST_MIN_WEIGHT = Decimal("0.5")
NOWCAST_RECENT_HOURS = 3
NOWCAST_MIN_RECENT = 2

# Completeness of averages. Neither Decision 1459 nor QCVN 05:2023 states one (reference §1.7 and §8 item 4);
# the project applies the 75 % convention of US EPA (40 CFR Part 50 Appendices N and U): 18 of 24 hours for a
# daily mean or daily maximum, 6 of 8 hours for an 8-hour mean, 18 of 24 valid 8-hour means for a daily maximum.
HOURS_PER_DAY = 24
MIN_HOURS_PER_DAY = 18
HOURS_PER_8H = 8
MIN_HOURS_PER_8H = 6
MIN_8H_MEANS_PER_DAY = 18
# A day's series may carry the 7 hours before it, so that its first 8-hour windows are complete.
MAX_DAY_SERIES = HOURS_PER_DAY + HOURS_PER_8H - 1


def dec(value: Number) -> Decimal:
    """Return a number as an exact decimal; floats go through their shortest representation (44.65 stays 44.65)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value}")
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not a concentration")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        parsed = Decimal(value)
        if not parsed.is_finite():
            raise ValueError(f"not a finite number: {value}")
        return parsed
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value}")
    return Decimal(repr(value))


def round_half_up(value: Decimal) -> int:
    """Round to the nearest integer, halves away from zero (the worked example of Decision 1459 §2.3 does so)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def truncate(value: Decimal, step: Decimal) -> Decimal:
    """Cut a non-negative value down to a multiple of `step` (EPA truncates, never rounds, concentrations)."""
    return value.quantize(step, rounding=ROUND_DOWN)


def input_name(key: InputKey) -> str:
    """Return the calculator's name of an input, e.g. "PM2.5_24h"."""
    return f"{key[0].value}_{key[1].value}"


@dataclass(frozen=True)
class Band:
    """One row of a breakpoint table: concentrations c_lo…c_hi map linearly onto index i_lo…i_hi."""

    c_lo: Decimal
    c_hi: Decimal
    i_lo: int
    i_hi: int

    def contains(self, concentration: Decimal) -> bool:
        """Tell whether the concentration lies in this band (both ends included)."""
        return self.c_lo <= concentration <= self.c_hi

    def index(self, concentration: Decimal) -> Decimal:
        """Interpolate: I = (I_hi − I_lo) / (C_hi − C_lo) × (C − C_lo) + I_lo (multiplied first, to stay exact)."""
        return Decimal(self.i_hi - self.i_lo) * (concentration - self.c_lo) / (self.c_hi - self.c_lo) + self.i_lo


@dataclass(frozen=True)
class BreakpointTable:
    """The breakpoints of one pollutant and averaging time, with where they come from."""

    name: str
    unit: str
    bands: tuple[Band, ...]
    citation: str
    confidence: Confidence = Confidence.HIGH

    @property
    def floor(self) -> Decimal:
        """Return the lowest concentration the table defines."""
        return self.bands[0].c_lo

    @property
    def top(self) -> Decimal:
        """Return the highest concentration the table defines."""
        return self.bands[-1].c_hi

    @property
    def max_index(self) -> int:
        """Return the index at the top of the table."""
        return self.bands[-1].i_hi

    def is_beyond(self, concentration: Decimal) -> bool:
        """Tell whether the concentration is above the top of the table."""
        return concentration > self.top

    def sub_index(self, concentration: Decimal) -> Decimal | None:
        """Return the unrounded sub-index; the top index above the table, None below it or in a blank cell."""
        if concentration > self.top:
            return Decimal(self.max_index)
        for band in self.bands:
            if band.contains(concentration):
                return band.index(concentration)
        return None


def contiguous_bands(levels: Sequence[int], breakpoints: Sequence[Number]) -> tuple[Band, ...]:
    """Build bands from a table whose level i ends where level i+1 starts (VN_AQI Bảng 2)."""
    if len(levels) != len(breakpoints):
        raise ValueError("levels and breakpoints differ in length")
    values = [dec(b) for b in breakpoints]
    return tuple(Band(values[i], values[i + 1], levels[i], levels[i + 1]) for i in range(len(values) - 1))


def gapped_bands(rows: Sequence[tuple[Number, Number, int, int]]) -> tuple[Band, ...]:
    """Build bands from a table with explicit low and high ends per row (US EPA Table 6)."""
    return tuple(Band(dec(c_lo), dec(c_hi), i_lo, i_hi) for c_lo, c_hi, i_lo, i_hi in rows)


@dataclass(frozen=True)
class Category:
    """A band of an index with its published name, colour, meaning and advice."""

    code: str
    low: int
    high: int
    name_vi: str
    name_en: str
    colour_vi: str
    colour_en: str
    hex: str
    meaning_vi: str
    meaning_en: str
    advice_general_vi: str = ""
    advice_general_en: str = ""
    advice_sensitive_vi: str = ""
    advice_sensitive_en: str = ""

    @property
    def rgb(self) -> tuple[int, int, int]:
        """Return the colour as an (R, G, B) triple."""
        return int(self.hex[1:3], 16), int(self.hex[3:5], 16), int(self.hex[5:7], 16)

    def name(self, lang: str) -> str:
        """Return the category's name in the requested language."""
        return self.name_en if lang == "en" else self.name_vi


def category_for(categories: Sequence[Category], value: int) -> Category:
    """Return the category whose range holds the value; values past the last range take the last category."""
    for category in categories:
        if category.low <= value <= category.high:
            return category
    ordered = sorted(categories, key=lambda c: c.low)
    return ordered[0] if value < ordered[0].low else ordered[-1]


@dataclass(frozen=True)
class NowcastResult:
    """A NowCast concentration, the weight it used and how many hours carried data."""

    value: Decimal
    weight: Decimal
    hours_used: int


def nowcast(series: Sequence[Decimal | None]) -> NowcastResult | None:
    """Compute the NowCast of a series ordered oldest → newest; None unless 2 of the last 3 hours have data.

    Weight w* = C_min / C_max over the available hours of the last 12 (EPA writes it 1 − (max − min) / max,
    the same number), floored at 1/2; NowCast = Σ w^(i−1)·c_i / Σ w^(i−1) with c1 the current hour and
    missing hours weighted 0. The normalised form is used also when w = 1/2: Decision 1459 prints that case
    without the denominator, which differs materially only when hours are missing (reference §1.5).
    """
    recent = list(series[-NOWCAST_HOURS:])[::-1]  # c1 = current hour
    if sum(value is not None for value in recent[:NOWCAST_RECENT_HOURS]) < NOWCAST_MIN_RECENT:
        return None
    present = [value for value in recent if value is not None]
    highest = max(present)
    if highest == 0:
        return NowcastResult(Decimal(0), Decimal(1), len(present))
    weight = max(min(present) / highest, NOWCAST_MIN_WEIGHT)
    numerator = Decimal(0)
    denominator = Decimal(0)
    for hours_ago, value in enumerate(recent):
        if value is None:
            continue
        factor = weight**hours_ago
        numerator += factor * value
        denominator += factor
    return NowcastResult(numerator / denominator, weight, len(present))


def mean_if_complete(values: Sequence[Decimal | None], min_count: int) -> Decimal | None:
    """Return the mean of the present values when at least `min_count` are present, else None."""
    present = [value for value in values if value is not None]
    if len(present) < min_count or not present:
        return None
    return sum(present, Decimal(0)) / len(present)


def latest(series: Sequence[Decimal | None]) -> Decimal | None:
    """Return the value of the current (last) hour, or None when it is missing."""
    return series[-1] if series else None


def last_8h_mean(series: Sequence[Decimal | None]) -> Decimal | None:
    """Return the mean of the last 8 hours when at least 6 of them have data."""
    return mean_if_complete(series[-HOURS_PER_8H:], MIN_HOURS_PER_8H)


@dataclass(frozen=True)
class DaySummary:
    """The daily statistics of one pollutant: 24-h mean, maximum 1-h mean and maximum 8-h mean (each or None)."""

    mean_24h: Decimal | None
    max_1h: Decimal | None
    max_8h: Decimal | None
    hours_present: int
    valid_8h_means: int


def rolling_8h_means(series: Sequence[Decimal | None]) -> list[Decimal | None]:
    """Return the 8-hour means ending at each of the day's 24 hours (the day is the last 24 values).

    A window may reach into the up to 7 hours given before the day; it counts when 6 of its 8 hours have data.
    """
    start = len(series) - HOURS_PER_DAY
    means: list[Decimal | None] = []
    for end in range(start, len(series)):
        window = series[max(0, end - HOURS_PER_8H + 1) : end + 1]
        means.append(mean_if_complete(window, MIN_HOURS_PER_8H))
    return means


def summarise_day(series: Sequence[Decimal | None]) -> DaySummary:
    """Summarise a day given as its 24 hourly means (01:00 → 00:00 for VN_AQI), optionally after 7 earlier hours."""
    if not HOURS_PER_DAY <= len(series) <= MAX_DAY_SERIES:
        raise ValueError(f"a day needs {HOURS_PER_DAY} to {MAX_DAY_SERIES} hourly values, got {len(series)}")
    day = series[-HOURS_PER_DAY:]
    present = [value for value in day if value is not None]
    complete = len(present) >= MIN_HOURS_PER_DAY
    means = [m for m in rolling_8h_means(series) if m is not None]
    return DaySummary(
        mean_24h=mean_if_complete(day, MIN_HOURS_PER_DAY),
        max_1h=max(present) if complete else None,
        max_8h=max(means) if len(means) >= MIN_8H_MEANS_PER_DAY else None,
        hours_present=len(present),
        valid_8h_means=len(means),
    )


@dataclass(frozen=True)
class AqiResult:
    """An air quality index with its category, dominant pollutant, sub-indices and the inputs it used."""

    standard: AqiStandard
    period: AqiPeriod
    aqi: int
    category: Category
    dominant: Pollutant
    sub_indices: Mapping[Pollutant, int]
    inputs_used: Mapping[str, Decimal]
    notes: tuple[Problem, ...]
    beyond_scale: bool


@dataclass(frozen=True)
class DerivedInputs:
    """Concentrations derived from hourly series, and why some could not be derived."""

    values: dict[InputKey, Decimal]
    notes: list[Problem]


def pick_dominant(order: Sequence[Pollutant], rounded: Mapping[Pollutant, int]) -> Pollutant:
    """Return the pollutant with the highest sub-index; ties go to the earlier one in `order`."""
    best = max(rounded.values())
    return next(p for p in order if rounded.get(p) == best)


class Statistic(StrEnum):
    """What to take from an hourly series to make one input of an index."""

    NOWCAST = "nowcast"
    LATEST = "latest"
    LAST_8H_MEAN = "last_8h_mean"
    DAY_MEAN = "day_mean"
    DAY_MAX_1H = "day_max_1h"
    DAY_MAX_8H = "day_max_8h"


# For each pollutant, the inputs an index derives from its hourly series in one period.
DerivationPlan = Mapping[Pollutant, tuple[tuple[Averaging, Statistic], ...]]

_COMPLETENESS_VI = "quy ước 75 % của dự án theo 40 CFR Part 50; văn bản không quy định"
_COMPLETENESS_EN = "the project's 75 % convention after 40 CFR Part 50; the standard states none"


def _missing_note(pollutant: Pollutant, statistic: Statistic, nowcast_source: tuple[str, str]) -> Problem:
    field = f"hourly.{pollutant.value}"
    p = pollutant.value
    if statistic is Statistic.NOWCAST:
        return Problem(
            field,
            "nowcast_2_of_3",
            f"Không tính được Nowcast của {p}: cần ít nhất 2 trong 3 giờ gần nhất có số liệu ({nowcast_source[0]}).",
            f"No NowCast for {p}: at least 2 of the 3 most recent hours must have data ({nowcast_source[1]}).",
        )
    if statistic is Statistic.LATEST:
        return Problem(
            field,
            "current_hour_missing",
            f"{p}: giờ hiện tại (giá trị cuối của chuỗi) không có số liệu.",
            f"{p}: the current hour (the last value of the series) has no data.",
        )
    if statistic is Statistic.LAST_8H_MEAN:
        return Problem(
            field,
            "8h_mean_6_of_8",
            f"{p}: trung bình 8 giờ gần nhất cần ít nhất 6/8 giờ có số liệu ({_COMPLETENESS_VI}).",
            f"{p}: the latest 8-hour mean needs data in at least 6 of its 8 hours ({_COMPLETENESS_EN}).",
        )
    if statistic is Statistic.DAY_MEAN:
        return Problem(
            field,
            "day_mean_18_of_24",
            f"{p}: trung bình 24 giờ cần ít nhất 18/24 giờ có số liệu ({_COMPLETENESS_VI}).",
            f"{p}: the 24-hour mean needs data in at least 18 of the 24 hours ({_COMPLETENESS_EN}).",
        )
    if statistic is Statistic.DAY_MAX_1H:
        return Problem(
            field,
            "day_max_1h_18_of_24",
            f"{p}: giá trị trung bình 1 giờ lớn nhất trong ngày cần ít nhất 18/24 giờ có số liệu ({_COMPLETENESS_VI}).",
            f"{p}: the day's maximum 1-hour mean needs data in at least 18 of the 24 hours ({_COMPLETENESS_EN}).",
        )
    return Problem(
        field,
        "day_max_8h_18_of_24",
        f"{p}: giá trị trung bình 8 giờ lớn nhất trong ngày cần ít nhất 18 giá trị trung bình 8 giờ hợp lệ, "
        f"mỗi giá trị có ít nhất 6/8 giờ số liệu ({_COMPLETENESS_VI}).",
        f"{p}: the day's maximum 8-hour mean needs at least 18 valid 8-hour means, each with data in 6 of its "
        f"8 hours ({_COMPLETENESS_EN}).",
    )


def _series_length_problem(pollutant: Pollutant, length: int, period: AqiPeriod) -> Problem:
    field = f"hourly.{pollutant.value}"
    if period is AqiPeriod.DAY:
        return Problem(
            field,
            "day_series_length",
            f"{pollutant.value}: chỉ số ngày cần chuỗi từ {HOURS_PER_DAY} đến {MAX_DAY_SERIES} giá trị giờ "
            f"(24 giờ của ngày, có thể thêm 7 giờ trước đó cho trung bình 8 giờ), ghi null cho giờ thiếu; "
            f"đã gửi {length}.",
            f"{pollutant.value}: a daily index needs {HOURS_PER_DAY} to {MAX_DAY_SERIES} hourly values (the day's "
            f"24 hours, optionally after the 7 hours before it for 8-hour means), null for missing hours; "
            f"got {length}.",
        )
    return Problem(
        field,
        "empty_series",
        f"{pollutant.value}: chuỗi số liệu giờ rỗng.",
        f"{pollutant.value}: the hourly series is empty.",
    )


def derive_inputs(
    hourly: Mapping[Pollutant, Sequence[Decimal | None]],
    period: AqiPeriod,
    plan: DerivationPlan,
    nowcast_source: tuple[str, str],
) -> DerivedInputs:
    """Turn hourly series (oldest → newest) into an index's inputs following its plan for the period.

    Raises CalculationRejected when a series has the wrong length; an input that the minimum-data rules do
    not allow is left out and explained in the notes.
    """
    length_problems = [
        _series_length_problem(p, len(s), period)
        for p, s in hourly.items()
        if (period is AqiPeriod.DAY and not HOURS_PER_DAY <= len(s) <= MAX_DAY_SERIES) or not s
    ]
    if length_problems:
        raise CalculationRejected(length_problems)
    values: dict[InputKey, Decimal] = {}
    notes: list[Problem] = []
    for pollutant, series in hourly.items():
        day = summarise_day(series) if period is AqiPeriod.DAY else None
        for averaging, statistic in plan.get(pollutant, ()):
            value = _statistic(series, statistic, day)
            if value is None:
                notes.append(_missing_note(pollutant, statistic, nowcast_source))
            else:
                values[(pollutant, averaging)] = value
    return DerivedInputs(values, notes)


def _statistic(series: Sequence[Decimal | None], statistic: Statistic, day: DaySummary | None) -> Decimal | None:
    if statistic is Statistic.NOWCAST:
        result = nowcast(series)
        return result.value if result else None
    if statistic is Statistic.LATEST:
        return latest(series)
    if statistic is Statistic.LAST_8H_MEAN:
        return last_8h_mean(series)
    if day is None:
        raise ValueError(f"{statistic} needs a day")
    if statistic is Statistic.DAY_MEAN:
        return day.mean_24h
    if statistic is Statistic.DAY_MAX_1H:
        return day.max_1h
    return day.max_8h
