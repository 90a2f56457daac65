"""Period types and ISO-style period identifiers (DHIS2 conventions), parsed and iterated without a database.

Identifier formats follow the DHIS2 Web API "Date and period format" (shared reference statistics.md §2.5):
`20250315` day, `2025W10` ISO week, `202503` month, `2025Q1` quarter, `2025S1` six-month, `2025` year,
`2025April` / `2025July` / `2025Oct` financial years and `2025Sep` for the school year starting in September
(the reference maps the Vietnamese school year onto DHIS2's Financial September type).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class PeriodType(StrEnum):
    """How long a period lasts and how it is named."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SIX_MONTHLY = "six_monthly"
    YEARLY = "yearly"
    SCHOOL_YEAR = "school_year"
    FINANCIAL_APRIL = "financial_april"
    FINANCIAL_JULY = "financial_july"
    FINANCIAL_OCTOBER = "financial_october"


class InvalidPeriod(ValueError):
    """The text is not a period identifier this system understands."""


# Start month of the year-long types that do not start in January, with the suffix of their identifier.
_SHIFTED_YEARS: dict[PeriodType, tuple[int, str]] = {
    PeriodType.SCHOOL_YEAR: (9, "Sep"),
    PeriodType.FINANCIAL_APRIL: (4, "April"),
    PeriodType.FINANCIAL_JULY: (7, "July"),
    PeriodType.FINANCIAL_OCTOBER: (10, "Oct"),
}
# Ordered so that longer types come later: "is this period inside that one" compares these ranks.
RANK = {
    PeriodType.DAILY: 0,
    PeriodType.WEEKLY: 1,
    PeriodType.MONTHLY: 2,
    PeriodType.QUARTERLY: 3,
    PeriodType.SIX_MONTHLY: 4,
    PeriodType.YEARLY: 5,
    PeriodType.SCHOOL_YEAR: 5,
    PeriodType.FINANCIAL_APRIL: 5,
    PeriodType.FINANCIAL_JULY: 5,
    PeriodType.FINANCIAL_OCTOBER: 5,
}
_PATTERNS: tuple[tuple[PeriodType, re.Pattern[str]], ...] = (
    (PeriodType.DAILY, re.compile(r"^(\d{4})(\d{2})(\d{2})$")),
    (PeriodType.WEEKLY, re.compile(r"^(\d{4})W(\d{1,2})$")),
    (PeriodType.MONTHLY, re.compile(r"^(\d{4})(\d{2})$")),
    (PeriodType.QUARTERLY, re.compile(r"^(\d{4})Q([1-4])$")),
    (PeriodType.SIX_MONTHLY, re.compile(r"^(\d{4})S([12])$")),
    (PeriodType.YEARLY, re.compile(r"^(\d{4})$")),
    *((kind, re.compile(rf"^(\d{{4}}){suffix}$")) for kind, (_m, suffix) in _SHIFTED_YEARS.items()),
)
MIN_YEAR = 1900
MAX_YEAR = 2200
_MONTHS_PER = {PeriodType.MONTHLY: 1, PeriodType.QUARTERLY: 3, PeriodType.SIX_MONTHLY: 6}


def _month_start(year: int, month: int) -> date:
    """Return the first day of a month given a month number that may run past 12 or below 1."""
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, 1)


def _iso_week_start(year: int, week: int) -> date:
    """Return the Monday of an ISO week."""
    return date.fromisocalendar(year, week, 1)


@dataclass(frozen=True, order=True)
class Period:
    """One period: its type, first and last day (inclusive) and identifier."""

    start: date
    end: date
    type: PeriodType
    iso: str

    def __str__(self) -> str:
        return self.iso

    def shift(self, steps: int) -> Period:
        """Return the period `steps` periods later (earlier when negative), of the same type."""
        return period_containing(self.type, _advance(self.type, self.start, steps))

    def next(self) -> Period:
        """Return the following period."""
        return self.shift(1)

    def previous(self) -> Period:
        """Return the period before."""
        return self.shift(-1)

    def contains(self, other: Period) -> bool:
        """Tell whether another period lies wholly inside this one."""
        return self.start <= other.start and other.end <= self.end

    @property
    def days(self) -> int:
        """Return the number of days the period covers."""
        return (self.end - self.start).days + 1

    def adx(self) -> str:
        """Return the ADX encoding: ISO 8601 start and duration."""
        duration = {
            PeriodType.DAILY: "P1D",
            PeriodType.WEEKLY: "P7D",
            PeriodType.MONTHLY: "P1M",
            PeriodType.QUARTERLY: "P3M",
            PeriodType.SIX_MONTHLY: "P6M",
        }.get(self.type, "P1Y")
        return f"{self.start.isoformat()}/{duration}"


def _advance(kind: PeriodType, start: date, steps: int) -> date:
    """Return the start of the period `steps` away from the one starting on `start`."""
    if kind is PeriodType.DAILY:
        return start + timedelta(days=steps)
    if kind is PeriodType.WEEKLY:
        return start + timedelta(weeks=steps)
    if kind in _MONTHS_PER:
        return _month_start(start.year, start.month + steps * _MONTHS_PER[kind])
    return _month_start(start.year + steps, start.month)


def _build(kind: PeriodType, start: date) -> Period:
    """Build the period of a type that starts on `start` (which must be a valid start)."""
    if kind is PeriodType.DAILY:
        return Period(start, start, kind, start.strftime("%Y%m%d"))
    if kind is PeriodType.WEEKLY:
        year, week, _day = start.isocalendar()
        return Period(start, start + timedelta(days=6), kind, f"{year}W{week}")
    if kind in _MONTHS_PER:
        months = _MONTHS_PER[kind]
        end = _month_start(start.year, start.month + months) - timedelta(days=1)
        if kind is PeriodType.MONTHLY:
            iso = f"{start.year}{start.month:02d}"
        elif kind is PeriodType.QUARTERLY:
            iso = f"{start.year}Q{(start.month - 1) // 3 + 1}"
        else:
            iso = f"{start.year}S{(start.month - 1) // 6 + 1}"
        return Period(start, end, kind, iso)
    end = date(start.year + 1, start.month, 1) - timedelta(days=1)
    suffix = _SHIFTED_YEARS[kind][1] if kind in _SHIFTED_YEARS else ""
    return Period(start, end, kind, f"{start.year}{suffix}")


def period_containing(kind: PeriodType, day: date) -> Period:
    """Return the period of a type that holds a day."""
    if kind is PeriodType.DAILY:
        return _build(kind, day)
    if kind is PeriodType.WEEKLY:
        return _build(kind, day - timedelta(days=day.weekday()))
    if kind in _MONTHS_PER:
        months = _MONTHS_PER[kind]
        return _build(kind, date(day.year, (day.month - 1) // months * months + 1, 1))
    start_month = _SHIFTED_YEARS[kind][0] if kind in _SHIFTED_YEARS else 1
    year = day.year if day.month >= start_month else day.year - 1
    return _build(kind, date(year, start_month, 1))


def parse_period(text: str) -> Period:
    """Parse an identifier such as `202503`, `2025Q1` or `2025Sep`; raise InvalidPeriod if it is not one."""
    value = text.strip() if isinstance(text, str) else ""
    for kind, pattern in _PATTERNS:
        match = pattern.match(value)
        if not match:
            continue
        year = int(match.group(1))
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise InvalidPeriod(text)
        try:
            if kind is PeriodType.DAILY:
                start = date(year, int(match.group(2)), int(match.group(3)))
            elif kind is PeriodType.WEEKLY:
                start = _iso_week_start(year, int(match.group(2)))
            elif kind is PeriodType.MONTHLY:
                start = date(year, int(match.group(2)), 1)
            elif kind in _MONTHS_PER:
                start = date(year, (int(match.group(2)) - 1) * _MONTHS_PER[kind] + 1, 1)
            else:
                start = date(year, _SHIFTED_YEARS[kind][0] if kind in _SHIFTED_YEARS else 1, 1)
        except ValueError as exc:
            raise InvalidPeriod(text) from exc
        return _build(kind, start)
    raise InvalidPeriod(text)


def periods_between(kind: PeriodType, first: date, last: date) -> list[Period]:
    """Return every period of a type that overlaps the days from `first` to `last`."""
    found: list[Period] = []
    current = period_containing(kind, first)
    while current.start <= last:
        found.append(current)
        current = current.next()
    return found


def year_to_date(period: Period) -> list[Period]:
    """Return the periods of the same type from the start of its calendar year up to and including it.

    Vietnamese "6 tháng" / "9 tháng" reports are cumulative figures of this kind (statistics.md §2.5).
    Year-long types are their own year to date.
    """
    if RANK[period.type] >= RANK[PeriodType.YEARLY]:
        return [period]
    first = period_containing(period.type, date(period.start.year, 1, 1))
    if period.type is PeriodType.WEEKLY:
        first = period_containing(period.type, date(period.end.year, 1, 4))  # ISO week 1 holds 4 January
    found = []
    current = first
    while current <= period:
        found.append(current)
        current = current.next()
    return found


def same_period_last_year(period: Period) -> Period:
    """Return the period a year earlier ("cùng kỳ năm trước")."""
    if period.type is PeriodType.DAILY:
        try:
            return _build(period.type, period.start.replace(year=period.start.year - 1))
        except ValueError:  # 29 February
            return _build(period.type, period.start.replace(year=period.start.year - 1, day=28))
    if period.type is PeriodType.WEEKLY:
        year, week, _day = period.start.isocalendar()
        try:
            return _build(period.type, _iso_week_start(year - 1, week))
        except ValueError:  # week 53 of a 52-week year
            return _build(period.type, _iso_week_start(year - 1, 52))
    return period_containing(period.type, _month_start(period.start.year - 1, period.start.month))


def is_valid_for(iso: str, kind: PeriodType) -> bool:
    """Tell whether an identifier names a period of the given type."""
    try:
        return parse_period(iso).type is kind
    except InvalidPeriod:
        return False
