"""The working calendar: holidays, compensatory days, overrides and office-hour deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ioc.core.calendar import (
    AFTERNOON,
    HUNG_KINGS,
    LABOUR_DAY,
    LUNAR_NEW_YEAR,
    MORNING,
    NATIONAL_DAY,
    NEW_YEAR,
    OFFICE_PERIODS,
    VICTORY_DAY,
    WORKING_HOURS_PER_DAY,
    WorkingCalendar,
)
from ioc.core.time import PROVINCE_TZ

pytestmark = pytest.mark.engine_free  # no database: run once, in the SQLite pass

CALENDAR = WorkingCalendar()
SECONDS_PER_OFFICE_DAY = WORKING_HOURS_PER_DAY * 3600
HALF_DAY_SECONDS = SECONDS_PER_OFFICE_DAY // 2

DATES = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
WORKING_DATES = DATES.filter(CALENDAR.is_working_day)
HOURS = st.floats(min_value=0, max_value=200, allow_nan=False, allow_infinity=False)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment in province time."""
    return datetime(year, month, day, hour, minute, tzinfo=PROVINCE_TZ)


def office_moment(day: date, seconds_into_office_day: int) -> datetime:
    """The moment `seconds_into_office_day` of office time after the day's opening."""
    period = MORNING if seconds_into_office_day < HALF_DAY_SECONDS else AFTERNOON
    offset = seconds_into_office_day % HALF_DAY_SECONDS
    return datetime.combine(day, period.start, PROVINCE_TZ) + timedelta(seconds=offset)


def in_office_hours_inclusive(moment: datetime) -> bool:
    """Whether a moment lies in a session, its closing time included, on a working day."""
    moment = moment.astimezone(PROVINCE_TZ)
    if not CALENDAR.is_working_day(moment.date()):
        return False
    return any(period.start <= moment.time() <= period.end for period in OFFICE_PERIODS)


def test_office_hours_are_eight_hours_in_two_sessions() -> None:
    total = sum(
        (datetime.combine(date.min, p.end) - datetime.combine(date.min, p.start)).seconds for p in OFFICE_PERIODS
    )
    assert total == SECONDS_PER_OFFICE_DAY
    assert (MORNING.start.isoformat(), MORNING.end.isoformat()) == ("07:30:00", "11:30:00")
    assert (AFTERNOON.start.isoformat(), AFTERNOON.end.isoformat()) == ("13:00:00", "17:00:00")


def test_statutory_holidays_of_2024_follow_the_labour_code() -> None:
    assert CALENDAR.statutory_holidays(2024) == {
        date(2024, 1, 1): NEW_YEAR,
        date(2024, 2, 9): LUNAR_NEW_YEAR,
        date(2024, 2, 10): LUNAR_NEW_YEAR,
        date(2024, 2, 11): LUNAR_NEW_YEAR,
        date(2024, 2, 12): LUNAR_NEW_YEAR,
        date(2024, 2, 13): LUNAR_NEW_YEAR,
        date(2024, 4, 18): HUNG_KINGS,
        date(2024, 4, 30): VICTORY_DAY,
        date(2024, 5, 1): LABOUR_DAY,
        date(2024, 9, 1): NATIONAL_DAY,
        date(2024, 9, 2): NATIONAL_DAY,
    }


def test_tet_2026_by_default_is_the_eve_and_the_first_four_days() -> None:
    tet = {day for day, name in CALENDAR.holidays(2026).items() if name == LUNAR_NEW_YEAR}
    assert tet == {date(2026, 2, 16) + timedelta(days=n) for n in range(5)}
    assert not any(CALENDAR.is_working_day(day) for day in tet)


def test_national_day_on_a_saturday_gives_the_next_monday_off() -> None:
    holidays = CALENDAR.holidays(2023)
    assert date(2023, 9, 2).weekday() == 5
    assert holidays[date(2023, 9, 4)] == "Nghỉ bù Quốc khánh"
    assert not CALENDAR.is_working_day(date(2023, 9, 4))
    assert CALENDAR.is_working_day(date(2023, 9, 5))


def test_weekend_holidays_before_another_holiday_are_compensated_after_it() -> None:
    # 2023: Giỗ Tổ on Saturday 29/4, Ngày Chiến thắng on Sunday 30/4, 1/5 on Monday. The two days owed
    # are Tuesday 2 and Wednesday 3 May, which is the 29/4–3/5 break the government announced.
    holidays = CALENDAR.holidays(2023)
    assert holidays[date(2023, 4, 29)] == HUNG_KINGS
    assert holidays[date(2023, 5, 2)] == "Nghỉ bù Giỗ Tổ Hùng Vương"
    assert holidays[date(2023, 5, 3)] == "Nghỉ bù Ngày Chiến thắng"
    assert CALENDAR.next_working_day(date(2023, 4, 28)) == date(2023, 5, 4)


def test_each_weekend_day_of_tet_is_compensated_on_its_own_day() -> None:
    # Tết 2024 ran Friday 9 to Tuesday 13 February; Saturday and Sunday are owed on Wednesday and Thursday.
    holidays = CALENDAR.holidays(2024)
    assert holidays[date(2024, 2, 14)] == "Nghỉ bù Tết Nguyên đán"
    assert holidays[date(2024, 2, 15)] == "Nghỉ bù Tết Nguyên đán"
    assert CALENDAR.next_working_day(date(2024, 2, 8)) == date(2024, 2, 16)


def test_weekends_are_not_working_days() -> None:
    assert not CALENDAR.is_working_day(date(2024, 3, 16))
    assert not CALENDAR.is_working_day(date(2024, 3, 17))
    assert CALENDAR.is_working_day(date(2024, 3, 18))


def test_a_make_up_saturday_override_is_a_working_day() -> None:
    calendar = WorkingCalendar()
    calendar.set_overrides(
        [
            (date(2024, 4, 29), "holiday", "Nghỉ hoán đổi 30/4"),
            (date(2024, 5, 4), "working_day", "Làm bù ngày 29/4"),
        ]
    )
    assert calendar.is_working_day(date(2024, 5, 4))
    assert not calendar.is_working_day(date(2024, 4, 29))
    assert calendar.holidays(2024)[date(2024, 4, 29)] == "Nghỉ hoán đổi 30/4"
    assert calendar.next_working_day(date(2024, 5, 3)) == date(2024, 5, 4)


def test_a_working_day_override_removes_a_default_holiday() -> None:
    # The Prime Minister chose 3/9 instead of 1/9 in 2024: the default day goes, the chosen one comes.
    calendar = WorkingCalendar()
    calendar.set_overrides(
        [(date(2024, 9, 1), "working_day", "Quốc khánh nghỉ 3/9"), (date(2024, 9, 3), "holiday", "Quốc khánh")]
    )
    holidays = calendar.holidays(2024)
    assert date(2024, 9, 1) not in holidays
    assert holidays[date(2024, 9, 3)] == "Quốc khánh"
    assert calendar.statutory_holidays(2024)[date(2024, 9, 1)] == NATIONAL_DAY


def test_setting_overrides_replaces_the_previous_ones() -> None:
    calendar = WorkingCalendar()
    calendar.set_overrides([(date(2024, 3, 18), "holiday", "Ngày nghỉ của tỉnh")])
    assert not calendar.is_working_day(date(2024, 3, 18))
    calendar.set_overrides([])
    assert calendar.is_working_day(date(2024, 3, 18))
    assert date(2024, 3, 18) not in calendar.holidays(2024)


def test_an_unknown_override_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown calendar override kind"):
        WorkingCalendar().set_overrides([(date(2024, 3, 18), "half_day", "?")])


def test_next_working_day_skips_weekends_and_tet() -> None:
    assert CALENDAR.next_working_day(date(2024, 3, 15)) == date(2024, 3, 18)
    assert CALENDAR.next_working_day(date(2026, 2, 13)) == date(2026, 2, 23)


def test_office_hours_include_opening_and_exclude_closing() -> None:
    assert CALENDAR.is_office_hours(local(2024, 3, 18, 7, 30))
    assert not CALENDAR.is_office_hours(local(2024, 3, 18, 11, 30))
    assert not CALENDAR.is_office_hours(local(2024, 3, 18, 12, 0))
    assert not CALENDAR.is_office_hours(local(2024, 3, 16, 9, 0))


def test_next_office_opening_after_lunch_and_after_hours() -> None:
    assert CALENDAR.next_office_opening(local(2024, 3, 18, 12, 0)) == local(2024, 3, 18, 13, 0)
    assert CALENDAR.next_office_opening(local(2024, 3, 15, 17, 0)) == local(2024, 3, 18, 7, 30)
    assert CALENDAR.next_office_opening(local(2024, 3, 18, 9, 15)) == local(2024, 3, 18, 9, 15)


def test_two_working_hours_after_friday_four_pm_is_monday_half_past_eight() -> None:
    deadline = CALENDAR.add_working_hours(local(2024, 3, 15, 16, 0), 2)
    assert deadline == local(2024, 3, 18, 8, 30)
    assert deadline.tzinfo is UTC
    assert deadline == datetime(2024, 3, 18, 1, 30, tzinfo=UTC)


def test_one_working_hour_after_friday_four_pm_is_friday_closing_time() -> None:
    assert CALENDAR.add_working_hours(local(2024, 3, 15, 16, 0), 1) == local(2024, 3, 15, 17, 0)


def test_one_working_hour_after_friday_half_past_four_is_monday_eight() -> None:
    assert CALENDAR.add_working_hours(local(2024, 3, 15, 16, 30), 1) == local(2024, 3, 18, 8, 0)


def test_working_hours_skip_the_lunch_break() -> None:
    assert CALENDAR.add_working_hours(local(2024, 3, 18, 11, 0), 1) == local(2024, 3, 18, 13, 30)


def test_working_hours_that_fill_a_day_end_at_closing_time() -> None:
    assert CALENDAR.add_working_hours(local(2024, 3, 18, 7, 30), 8) == local(2024, 3, 18, 17, 0)


def test_working_hours_from_a_weekend_start_at_the_next_opening() -> None:
    assert CALENDAR.add_working_hours(local(2024, 3, 16, 10, 0), 2) == local(2024, 3, 18, 9, 30)


def test_working_hours_accept_any_time_zone() -> None:
    # 09:00 UTC is 16:00 in the province.
    assert CALENDAR.add_working_hours(datetime(2024, 3, 15, 9, 0, tzinfo=UTC), 2) == local(2024, 3, 18, 8, 30)


@pytest.mark.parametrize("hours", [-1.0, float("nan"), float("inf")])
def test_invalid_working_hours_are_rejected(hours: float) -> None:
    with pytest.raises(ValueError, match="hours must be"):
        CALENDAR.add_working_hours(local(2024, 3, 18, 9, 0), hours)


def test_five_working_days_keep_the_clock_time() -> None:
    assert CALENDAR.add_working_days(local(2024, 3, 11, 9, 0), 5) == local(2024, 3, 18, 9, 0)


def test_working_days_from_after_hours_count_from_the_next_opening() -> None:
    assert CALENDAR.add_working_days(local(2024, 3, 15, 18, 0), 1) == local(2024, 3, 19, 7, 30)
    assert CALENDAR.add_working_days(local(2024, 3, 16, 10, 0), 0) == local(2024, 3, 18, 7, 30)


def test_working_days_skip_tet() -> None:
    assert CALENDAR.add_working_days(local(2026, 2, 13, 9, 0), 1) == local(2026, 2, 23, 9, 0)


def test_negative_working_days_are_rejected() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        CALENDAR.add_working_days(local(2024, 3, 18, 9, 0), -1)


def test_working_seconds_count_only_office_time() -> None:
    friday, monday = local(2024, 3, 15, 16, 0), local(2024, 3, 18, 8, 30)
    assert CALENDAR.working_seconds_between(friday, monday) == 2 * 3600
    assert CALENDAR.working_seconds_between(monday, friday) == -2 * 3600
    assert CALENDAR.working_seconds_between(local(2024, 3, 18, 11, 0), local(2024, 3, 18, 13, 30)) == 3600
    assert CALENDAR.working_seconds_between(local(2024, 3, 16), local(2024, 3, 17, 23, 59)) == 0


def test_a_working_week_holds_forty_office_hours() -> None:
    assert CALENDAR.working_seconds_between(local(2024, 3, 18), local(2024, 3, 25)) == 40 * 3600


@given(day=DATES, second=st.integers(min_value=0, max_value=86399), hours=HOURS)
def test_added_working_hours_always_end_inside_office_hours(day: date, second: int, hours: float) -> None:
    start = datetime.combine(day, datetime.min.time(), PROVINCE_TZ) + timedelta(seconds=second)
    deadline = CALENDAR.add_working_hours(start, hours)
    assert deadline.tzinfo is UTC
    assert deadline >= start
    assert in_office_hours_inclusive(deadline)


@given(day=WORKING_DATES, offset=st.integers(min_value=0, max_value=SECONDS_PER_OFFICE_DAY - 1), hours=HOURS)
def test_working_seconds_between_gives_back_the_hours_added(day: date, offset: int, hours: float) -> None:
    start = office_moment(day, offset)
    deadline = CALENDAR.add_working_hours(start, hours)
    assert CALENDAR.working_seconds_between(start, deadline) == pytest.approx(hours * 3600, abs=1e-5)


@given(
    day=WORKING_DATES, offset=st.integers(min_value=0, max_value=SECONDS_PER_OFFICE_DAY - 1), days=st.integers(0, 40)
)
def test_added_working_days_are_that_many_office_days_later(day: date, offset: int, days: int) -> None:
    start = office_moment(day, offset)
    deadline = CALENDAR.add_working_days(start, days)
    assert CALENDAR.is_office_hours(deadline)
    assert deadline.astimezone(PROVINCE_TZ).time() == start.time()
    assert CALENDAR.working_seconds_between(start, deadline) == days * SECONDS_PER_OFFICE_DAY


@given(day=DATES, first=HOURS, second=HOURS)
def test_more_working_hours_never_give_an_earlier_deadline(day: date, first: float, second: float) -> None:
    start = datetime.combine(day, MORNING.start, PROVINCE_TZ)
    low, high = sorted((first, second))
    assert CALENDAR.add_working_hours(start, low) <= CALENDAR.add_working_hours(start, high)
