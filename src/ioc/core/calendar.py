"""The province's working calendar: public holidays, make-up days and office hours.

Every deadline in the product is computed here. Vietnamese administrative procedures count time in
working days ("trong thời hạn N ngày làm việc") or working hours, so a file received on Friday
afternoon before Tết is not due while the office is closed.

The default holidays are those of the Labour Code 2019 (Bộ luật Lao động 2019, Điều 112). Each year
the Prime Minister fixes the exact days of Tết and of Quốc khánh and may swap days with make-up
Saturdays (làm bù); those decisions are entered as overrides (table `calendar_day`), which always win
over the defaults computed here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Final, NamedTuple

from sqlalchemy import select

from .lunar import lunar_new_year, lunar_to_solar
from .models import CalendarDay
from .time import PROVINCE_TZ, ensure_utc

if TYPE_CHECKING:
    from .db import Database

HOLIDAY: Final = "holiday"
WORKING_DAY: Final = "working_day"
OVERRIDE_KINDS: Final = frozenset({HOLIDAY, WORKING_DAY})

# Names of the holidays of Điều 112 khoản 1, as the law writes them.
NEW_YEAR: Final = "Tết Dương lịch"
LUNAR_NEW_YEAR: Final = "Tết Nguyên đán"
HUNG_KINGS: Final = "Giỗ Tổ Hùng Vương"
VICTORY_DAY: Final = "Ngày Chiến thắng"
LABOUR_DAY: Final = "Ngày Quốc tế lao động"
NATIONAL_DAY: Final = "Quốc khánh"
COMPENSATORY_PREFIX: Final = "Nghỉ bù"

TET_DAYS: Final = 5
"""Tết Âm lịch lasts five days; by default the last day of the old year and the first four of the new."""


class OfficePeriod(NamedTuple):
    """A half-day during which offices receive and process files, in local time."""

    start: time
    end: time


# Administrative agencies work Monday to Friday, 8 hours a day, in two sessions.
MORNING: Final = OfficePeriod(time(7, 30), time(11, 30))
AFTERNOON: Final = OfficePeriod(time(13, 0), time(17, 0))
OFFICE_PERIODS: Final = (MORNING, AFTERNOON)
WORKING_HOURS_PER_DAY: Final = 8
_SATURDAY = 5
_ONE_DAY = timedelta(days=1)
_MICROSECONDS_PER_HOUR = 3_600_000_000


def _lunar_new_year_days(year: int) -> list[date]:
    """The default five days of Tết: the last day of the old lunar year and days 1–4 of the new one."""
    first_day = lunar_new_year(year)
    return [first_day + timedelta(days=offset) for offset in range(-1, TET_DAYS - 1)]


def _is_weekend(d: date) -> bool:
    return d.weekday() >= _SATURDAY


def statutory_holidays(year: int) -> dict[date, str]:
    """Return the default public holidays of a year under Điều 112 khoản 1, without compensatory days."""
    days: dict[date, str] = {date(year, 1, 1): NEW_YEAR}
    days.update(dict.fromkeys(_lunar_new_year_days(year), LUNAR_NEW_YEAR))
    days[lunar_to_solar(year, 3, 10)] = HUNG_KINGS
    days[date(year, 4, 30)] = VICTORY_DAY
    days[date(year, 5, 1)] = LABOUR_DAY
    # The law gives 2 September plus one adjacent day chosen by the Prime Minister each year; the
    # default is the day before, and the yearly decision is entered as an override.
    days[date(year, 9, 1)] = NATIONAL_DAY
    days[date(year, 9, 2)] = NATIONAL_DAY
    return dict(sorted(days.items()))


def compensatory_days(holidays: dict[date, str]) -> dict[date, str]:
    """Return the days off owed for holidays falling on a weekend (nghỉ bù), each on the next free weekday."""
    # Bộ luật Lao động 2019, Điều 111 khoản 3: when a holiday of Điều 112 falls on the weekly rest day,
    # the worker rests on the next working day. Several weekend holidays in a row (a long Tết) each
    # push one day, so the days are handed out in date order, skipping ones already taken.
    owed: dict[date, str] = {}
    for day, name in sorted(holidays.items()):
        if not _is_weekend(day):
            continue
        candidate = day + _ONE_DAY
        while _is_weekend(candidate) or candidate in holidays or candidate in owed:
            candidate += _ONE_DAY
        owed[candidate] = f"{COMPENSATORY_PREFIX} {name}"
    return owed


def _local(moment: datetime) -> datetime:
    """Convert an aware datetime to province time; naive values are taken as UTC, as elsewhere."""
    return ensure_utc(moment).astimezone(PROVINCE_TZ)


class WorkingCalendar:
    """Working days and office hours of the province's administrative agencies."""

    def __init__(self) -> None:
        self._overrides: dict[date, tuple[str, str]] = {}
        # Holidays per year are needed for every day a deadline walks over; computing Tết involves
        # astronomy, so each year is computed once until the overrides change.
        self._holiday_cache: dict[int, dict[date, str]] = {}

    def set_overrides(self, rows: Iterable[tuple[date, str, str]]) -> None:
        """Replace the overrides with rows of (day, kind, name), kind being "holiday" or "working_day"."""
        overrides: dict[date, tuple[str, str]] = {}
        for day, kind, name in rows:
            if kind not in OVERRIDE_KINDS:
                raise ValueError(f"unknown calendar override kind {kind!r} for {day.isoformat()}")
            overrides[day] = (kind, name)
        self._overrides = overrides
        self._holiday_cache.clear()

    async def load_overrides(self, db: Database) -> None:
        """Load the overrides from the `calendar_day` table."""
        async with db.session() as session:
            rows = (await session.scalars(select(CalendarDay))).all()
        self.set_overrides((row.day, row.kind, row.name) for row in rows)

    @property
    def overrides(self) -> dict[date, tuple[str, str]]:
        """Return a copy of the overrides, by day: (kind, name)."""
        return dict(self._overrides)

    def statutory_holidays(self, year: int) -> dict[date, str]:
        """Return the default public holidays of a year under the Labour Code, without compensatory days."""
        return statutory_holidays(year)

    def holidays(self, year: int) -> dict[date, str]:
        """Return the days off of a year: statutory, compensatory, then overrides applied."""
        return dict(self._year_holidays(year))

    def _year_holidays(self, year: int) -> dict[date, str]:
        cached = self._holiday_cache.get(year)
        if cached is None:
            statutory = statutory_holidays(year)
            merged = {**statutory, **compensatory_days(statutory)}
            for day, (kind, name) in self._overrides.items():
                if day.year != year:
                    continue
                if kind == HOLIDAY:
                    merged[day] = name
                else:
                    merged.pop(day, None)
            cached = dict(sorted(merged.items()))
            self._holiday_cache[year] = cached
        return cached

    def is_working_day(self, d: date) -> bool:
        """Tell whether offices are open on a day: Monday–Friday outside holidays, or a make-up day."""
        override = self._overrides.get(d)
        if override is not None:
            return override[0] == WORKING_DAY
        return not _is_weekend(d) and d not in self._year_holidays(d.year)

    def next_working_day(self, d: date) -> date:
        """Return the first working day strictly after a day."""
        candidate = d + _ONE_DAY
        while not self.is_working_day(candidate):
            candidate += _ONE_DAY
        return candidate

    def office_periods(self, d: date) -> list[tuple[datetime, datetime]]:
        """Return the office sessions of a day as aware local (start, end) pairs; none on days off."""
        if not self.is_working_day(d):
            return []
        return [
            (datetime.combine(d, period.start, PROVINCE_TZ), datetime.combine(d, period.end, PROVINCE_TZ))
            for period in OFFICE_PERIODS
        ]

    def is_office_hours(self, moment: datetime) -> bool:
        """Tell whether offices are open at a moment (a session includes its start, not its end)."""
        local = _local(moment)
        return any(start <= local < end for start, end in self.office_periods(local.date()))

    def next_office_opening(self, moment: datetime) -> datetime:
        """Return the moment itself during office hours, otherwise the next session start, in UTC."""
        local = _local(moment)
        day = local.date()
        while True:
            for start, end in self.office_periods(day):
                if local < end:
                    return max(local, start).astimezone(UTC)
            day += _ONE_DAY

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Return the same local clock time `days` working days later, counted from office time, in UTC."""
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        # A file received after hours or on a day off counts as received at the next opening; the
        # deadline is then that clock time on the N-th following working day.
        opening = _local(self.next_office_opening(start))
        day = opening.date()
        for _ in range(days):
            day = self.next_working_day(day)
        return datetime.combine(day, opening.time(), PROVINCE_TZ).astimezone(UTC)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """Return the moment when `hours` of office time have elapsed after `start`, in UTC."""
        if not math.isfinite(hours) or hours < 0:
            raise ValueError(f"hours must be a finite non-negative number, got {hours}")
        # Whole microseconds keep the arithmetic exact, so that working_seconds_between() gives back
        # exactly what was added.
        remaining = timedelta(microseconds=round(hours * _MICROSECONDS_PER_HOUR))
        cursor = _local(start)
        day = cursor.date()
        while True:
            for period_start, period_end in self.office_periods(day):
                if cursor >= period_end:
                    continue
                begin = max(cursor, period_start)
                available = period_end - begin
                # A deadline that uses up a session exactly ends at its closing time, not at the next opening.
                if remaining <= available:
                    return (begin + remaining).astimezone(UTC)
                remaining -= available
                cursor = period_end
            day += _ONE_DAY

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        """Return the office-time seconds from `start` to `end`, negative when `end` is earlier."""
        begin, finish = _local(start), _local(end)
        if finish < begin:
            return -self.working_seconds_between(end, start)
        total = timedelta()
        day = begin.date()
        while day <= finish.date():
            for period_start, period_end in self.office_periods(day):
                overlap = min(period_end, finish) - max(period_start, begin)
                if overlap > timedelta():
                    total += overlap
            day += _ONE_DAY
        return total.total_seconds()
