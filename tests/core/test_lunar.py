"""The Vietnamese lunar calendar: known Tết and Giỗ Tổ dates, leap months, round trips."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ioc.core.lunar import (
    LunarDate,
    delta_t_seconds,
    leap_month,
    lunar_month_length,
    lunar_new_year,
    lunar_new_year_eve,
    lunar_to_solar,
    new_moon_jde,
    solar_to_lunar,
    sun_apparent_longitude,
)

pytestmark = pytest.mark.engine_free  # no database: run once, in the SQLite pass

CHINA_UTC_OFFSET_HOURS = 8.0

SOLAR_RANGE = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))


@pytest.mark.parametrize(
    ("year", "tet"),
    [
        (2020, date(2020, 1, 25)),
        (2021, date(2021, 2, 12)),
        (2022, date(2022, 2, 1)),
        (2023, date(2023, 1, 22)),
        (2024, date(2024, 2, 10)),
        (2025, date(2025, 1, 29)),
        (2026, date(2026, 2, 17)),
        (2027, date(2027, 2, 6)),
        (2028, date(2028, 1, 26)),
        (2029, date(2029, 2, 13)),
        # The new moon is at 23:07 on 2 February in Vietnam, 00:07 on 3 February in China.
        (2030, date(2030, 2, 2)),
    ],
)
def test_tet_falls_on_the_published_date(year: int, tet: date) -> None:
    assert lunar_new_year(year) == tet
    assert solar_to_lunar(tet) == LunarDate(year, 1, 1)


@pytest.mark.parametrize(
    ("year", "vietnam", "china"),
    [
        (1985, date(1985, 1, 21), date(1985, 2, 20)),
        (2007, date(2007, 2, 17), date(2007, 2, 18)),
        (2030, date(2030, 2, 2), date(2030, 2, 3)),
    ],
)
def test_tet_follows_the_vietnamese_time_zone_where_it_differs_from_china(
    year: int, vietnam: date, china: date
) -> None:
    assert lunar_new_year(year) == vietnam
    assert lunar_new_year(year, utc_offset_hours=CHINA_UTC_OFFSET_HOURS) == china


@pytest.mark.parametrize(
    ("year", "hung_kings_day"),
    [(2024, date(2024, 4, 18)), (2025, date(2025, 4, 7)), (2026, date(2026, 4, 26))],
)
def test_hung_kings_day_is_the_tenth_of_the_third_lunar_month(year: int, hung_kings_day: date) -> None:
    assert lunar_to_solar(year, 3, 10) == hung_kings_day
    assert solar_to_lunar(hung_kings_day) == LunarDate(year, 3, 10)


@pytest.mark.parametrize(
    ("year", "month"),
    [
        (1985, 2),
        (2001, 4),
        (2004, 2),
        (2006, 7),
        (2009, 5),
        (2012, 4),
        (2014, 9),
        (2017, 6),
        (2020, 4),
        (2023, 2),
        (2025, 6),
        (2028, 5),
    ],
)
def test_leap_month_of_a_leap_year(year: int, month: int) -> None:
    assert leap_month(year) == month


@pytest.mark.parametrize("year", [2019, 2021, 2022, 2024, 2026, 2027])
def test_common_year_has_no_leap_month(year: int) -> None:
    assert leap_month(year) is None


def test_leap_month_follows_the_month_of_the_same_number() -> None:
    # Tháng 2 nhuận năm Quý Mão began on 22 March 2023, right after the ordinary month 2.
    assert solar_to_lunar(date(2023, 3, 21)) == LunarDate(2023, 2, 30)
    assert solar_to_lunar(date(2023, 3, 22)) == LunarDate(2023, 2, 1, leap=True)
    assert lunar_to_solar(2023, 2, 1, leap=True) == date(2023, 3, 22)
    assert solar_to_lunar(date(2023, 4, 20)) == LunarDate(2023, 3, 1)


def test_leap_eleventh_month_belongs_to_the_lunar_year_it_follows() -> None:
    # 2033 has two winter-solstice months apart by 13 lunations; its leap month is 11.
    assert leap_month(2033) == 11
    first_day = lunar_to_solar(2033, 11, 1, leap=True)
    assert solar_to_lunar(first_day) == LunarDate(2033, 11, 1, leap=True)
    assert first_day > lunar_to_solar(2033, 11, 1)


def test_days_before_tet_belong_to_the_previous_lunar_year() -> None:
    assert solar_to_lunar(date(1985, 1, 20)) == LunarDate(1984, 12, 30)
    assert lunar_new_year_eve(2026) == date(2026, 2, 16)
    assert solar_to_lunar(date(2026, 2, 16)).year == 2025


def test_vietnam_put_the_leap_month_of_1984_85_after_tet_unlike_china() -> None:
    # The winter solstice of 1984 fell at 23:23 in Vietnam, on the last day of a month: Vietnam's
    # month 11 began a month earlier than China's, and its leap month became 2/1985 instead of 10/1984.
    assert leap_month(1984) is None
    assert leap_month(1985) == 2
    assert leap_month(1984, utc_offset_hours=CHINA_UTC_OFFSET_HOURS) == 10
    assert leap_month(1985, utc_offset_hours=CHINA_UTC_OFFSET_HOURS) is None


def test_a_missing_leap_month_is_rejected() -> None:
    with pytest.raises(ValueError, match="no leap month"):
        lunar_to_solar(2024, 2, 1, leap=True)


def test_a_day_beyond_the_end_of_the_month_is_rejected() -> None:
    short_month = next(m for m in range(1, 13) if lunar_month_length(2024, m) == 29)
    with pytest.raises(ValueError, match="has 29 days"):
        lunar_to_solar(2024, short_month, 30)


@pytest.mark.parametrize(("month", "day"), [(0, 1), (13, 1), (1, 0)])
def test_an_impossible_lunar_date_is_rejected(month: int, day: int) -> None:
    with pytest.raises(ValueError, match="lunar month"):
        lunar_to_solar(2024, month, day)


def test_years_outside_the_supported_range_are_rejected() -> None:
    with pytest.raises(ValueError, match="supported range"):
        solar_to_lunar(date(1700, 1, 1))


def test_lunar_date_prints_like_a_vietnamese_calendar() -> None:
    assert str(LunarDate(2024, 3, 10)) == "10/3/2024"
    assert str(LunarDate(2023, 2, 1, leap=True)) == "1/2 nhuận/2023"


def test_new_moon_matches_the_worked_example_of_meeus() -> None:
    # Astronomical Algorithms, example 49.a: the new moon of February 1977.
    assert new_moon_jde(-283) == pytest.approx(2443192.65118, abs=1e-5)


def test_sun_longitude_matches_the_worked_example_of_meeus() -> None:
    # Astronomical Algorithms, example 25.b: apparent longitude 199°54'21.8" on 1992-10-13.0 TD.
    assert sun_apparent_longitude(2448908.5) == pytest.approx(199 + 54 / 60 + 21.8 / 3600, abs=1e-4)


def test_delta_t_is_about_a_minute_around_2000() -> None:
    assert delta_t_seconds(2000.0) == pytest.approx(63.86)
    assert 60 < delta_t_seconds(2024.0) < 80


@given(SOLAR_RANGE)
def test_solar_to_lunar_to_solar_is_the_identity(d: date) -> None:
    lunar = solar_to_lunar(d)
    assert lunar_to_solar(lunar.year, lunar.month, lunar.day, lunar.leap) == d


@given(
    year=st.integers(min_value=1900, max_value=2100),
    month=st.integers(min_value=1, max_value=12),
    day=st.integers(min_value=1, max_value=29),
)
def test_lunar_to_solar_to_lunar_is_the_identity(year: int, month: int, day: int) -> None:
    assert solar_to_lunar(lunar_to_solar(year, month, day)) == LunarDate(year, month, day)


@given(SOLAR_RANGE)
def test_the_next_day_is_the_next_lunar_day_or_a_new_month(d: date) -> None:
    today, tomorrow = solar_to_lunar(d), solar_to_lunar(d + timedelta(days=1))
    if tomorrow.day == 1:
        assert today.day in (29, 30)
        assert lunar_month_length(today.year, today.month, today.leap) == today.day
    else:
        assert (tomorrow.year, tomorrow.month, tomorrow.leap, tomorrow.day) == (
            today.year,
            today.month,
            today.leap,
            today.day + 1,
        )


@given(st.integers(min_value=1900, max_value=2100))
def test_a_lunar_year_has_twelve_or_thirteen_months(year: int) -> None:
    length = (lunar_new_year(year + 1) - lunar_new_year(year)).days
    if leap_month(year) is None:
        assert 353 <= length <= 355
    else:
        assert 383 <= length <= 385
    assert date(year, 1, 20) <= lunar_new_year(year) <= date(year, 2, 20)
