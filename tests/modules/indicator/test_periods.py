"""Period identifiers: parsing, iteration, year to date and same period last year (DHIS2 formats)."""

from __future__ import annotations

from datetime import date

import pytest

from ioc.modules.indicator.periods import (
    InvalidPeriod,
    PeriodType,
    is_valid_for,
    parse_period,
    period_containing,
    periods_between,
    same_period_last_year,
    year_to_date,
)


@pytest.mark.parametrize(
    ("iso", "kind", "start", "end"),
    [
        ("20040315", PeriodType.DAILY, date(2004, 3, 15), date(2004, 3, 15)),
        ("2004W10", PeriodType.WEEKLY, date(2004, 3, 1), date(2004, 3, 7)),
        ("200403", PeriodType.MONTHLY, date(2004, 3, 1), date(2004, 3, 31)),
        ("2024Q1", PeriodType.QUARTERLY, date(2024, 1, 1), date(2024, 3, 31)),
        ("2004S2", PeriodType.SIX_MONTHLY, date(2004, 7, 1), date(2004, 12, 31)),
        ("2004", PeriodType.YEARLY, date(2004, 1, 1), date(2004, 12, 31)),
        ("2025Sep", PeriodType.SCHOOL_YEAR, date(2025, 9, 1), date(2026, 8, 31)),
        ("2004April", PeriodType.FINANCIAL_APRIL, date(2004, 4, 1), date(2005, 3, 31)),
        ("2024July", PeriodType.FINANCIAL_JULY, date(2024, 7, 1), date(2025, 6, 30)),
        ("2024Oct", PeriodType.FINANCIAL_OCTOBER, date(2024, 10, 1), date(2025, 9, 30)),
    ],
)
def test_identifiers_of_the_dhis2_reference_parse_to_their_days(
    iso: str, kind: PeriodType, start: date, end: date
) -> None:
    period = parse_period(iso)
    assert (period.type, period.start, period.end, period.iso) == (kind, start, end, iso)
    assert period_containing(kind, end) == period


def test_adx_encoding_follows_the_reference_examples() -> None:
    assert parse_period("201506").adx() == "2015-06-01/P1M"
    assert parse_period("2017S1").adx() == "2017-01-01/P6M"
    assert parse_period("2017April").adx() == "2017-04-01/P1Y"
    assert parse_period("2017W40").adx() == "2017-10-02/P7D"


@pytest.mark.parametrize("text", ["2025-03", "202513", "2025Q5", "2025W54", "20250230", "abc", "", "1800", "2025S3"])
def test_text_that_is_not_a_period_is_refused(text: str) -> None:
    with pytest.raises(InvalidPeriod):
        parse_period(text)


def test_iteration_crosses_year_ends_and_iso_weeks() -> None:
    assert parse_period("202512").next().iso == "202601"
    assert parse_period("2025Q1").previous().iso == "2024Q4"
    assert parse_period("2020W53").next().iso == "2021W1"
    assert parse_period("2025Sep").shift(-2).iso == "2023Sep"
    months = periods_between(PeriodType.MONTHLY, date(2024, 11, 15), date(2025, 2, 1))
    assert [p.iso for p in months] == ["202411", "202412", "202501", "202502"]
    assert [p.iso for p in periods_between(PeriodType.QUARTERLY, date(2025, 1, 1), date(2025, 12, 31))] == [
        "2025Q1",
        "2025Q2",
        "2025Q3",
        "2025Q4",
    ]


def test_year_to_date_is_the_vietnamese_cumulative_report() -> None:
    assert [p.iso for p in year_to_date(parse_period("202506"))] == [f"2025{m:02d}" for m in range(1, 7)]
    assert [p.iso for p in year_to_date(parse_period("2025Q3"))] == ["2025Q1", "2025Q2", "2025Q3"]
    assert [p.iso for p in year_to_date(parse_period("2025"))] == ["2025"]


def test_same_period_last_year_handles_leap_days_and_long_weeks() -> None:
    assert same_period_last_year(parse_period("202503")).iso == "202403"
    assert same_period_last_year(parse_period("20240229")).iso == "20230228"
    assert same_period_last_year(parse_period("2021W10")).iso == "2020W10"
    assert same_period_last_year(parse_period("2020W53")).iso == "2019W52"  # 2019 had no week 53


def test_a_period_of_another_type_is_not_valid_for_a_frequency() -> None:
    assert is_valid_for("202503", PeriodType.MONTHLY)
    assert not is_valid_for("2025Q1", PeriodType.MONTHLY)
    assert parse_period("2025").contains(parse_period("2025Q2"))
    assert not parse_period("2025Q1").contains(parse_period("202504"))
