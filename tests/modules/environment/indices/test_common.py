"""The shared arithmetic: NowCast (1459 §2.2.1.a / EPA p. 16), completeness of daily statistics, derivation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ioc.modules.environment import AqiPeriod, Averaging, CalculationRejected, Pollutant
from ioc.modules.environment.indices import vn_aqi
from ioc.modules.environment.indices.common import (
    dec,
    derive_inputs,
    last_8h_mean,
    nowcast,
    round_half_up,
    summarise_day,
    truncate,
)


def _d(*values: float | None) -> list[Decimal | None]:
    return [None if v is None else Decimal(str(v)) for v in values]


def test_constant_series_nowcast_is_the_value() -> None:
    result = nowcast(_d(*[30.0] * 12))
    assert result is not None
    assert result.value == 30
    assert result.weight == 1


def test_nowcast_needs_two_of_the_three_latest_hours() -> None:
    """1459 §2.2.1.a: "Nếu có ít nhất 2 trong 3 giá trị c1, c2, c3 có dữ liệu thì mới tính được giá trị Nowcast"."""
    assert nowcast(_d(*[20.0] * 9, None, None, 25.0)) is None  # only c1 of c1…c3
    assert nowcast(_d(*[20.0] * 9, 22.0, None, 25.0)) is not None  # c1 and c3
    assert nowcast(_d(20.0, 21.0)) is not None  # two hours only: c1 and c2
    assert nowcast(_d(20.0)) is None


def test_missing_hours_weigh_nothing() -> None:
    """1459 §2.2.1.a: "Nếu ci không có giá trị thì lấy w^(i−1) = 0"."""
    with_gap = nowcast(_d(10.0, None, 10.0, 20.0, 20.0))
    assert with_gap is not None
    # w = 10/20 = 0.5; c1..c5 = 20, 20, 10, (missing), 10 → (20 + 10 + 2.5 + 0.625) / (1 + .5 + .25 + .0625)
    expected = (Decimal(20) + Decimal(10) + Decimal("2.5") + Decimal("0.625")) / Decimal("1.8125")
    assert with_gap.value == expected
    assert with_gap.hours_used == 4


def test_nowcast_at_weight_one_half_uses_the_normalised_form() -> None:
    """Open item (reference §1.5): for w = 1/2 the decision prints Σ (1/2)^i·c_i without a denominator. The
    project uses the normalised Σ w^(i−1)·c_i / Σ w^(i−1) for both cases, as EPA does: with the current hour
    missing, the printed form gives under 20 for hours of 40 and 10, the normalised one about 32."""
    series = _d(40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 40.0, 10.0, 40.0, None)
    result = nowcast(series)
    assert result is not None
    assert result.weight == Decimal("0.5")
    printed = sum((Decimal("0.5") ** (i + 1) * c for i, c in enumerate(reversed(series)) if c is not None), Decimal(0))
    normalised = sum(
        (Decimal("0.5") ** i * c for i, c in enumerate(reversed(series)) if c is not None), Decimal(0)
    ) / sum((Decimal("0.5") ** i for i, c in enumerate(reversed(series)) if c is not None), Decimal(0))
    assert result.value == normalised
    assert result.value > 30
    assert printed < 20


def test_nowcast_uses_only_the_last_twelve_hours() -> None:
    assert nowcast(_d(500.0, *[10.0] * 12)) == nowcast(_d(*[10.0] * 12))


def test_nowcast_of_zeros_is_zero() -> None:
    result = nowcast(_d(0.0, 0.0, 0.0))
    assert result is not None
    assert result.value == 0


def test_day_statistics_need_18_of_24_hours() -> None:
    """Open item (reference §1.7, §8 item 4): the decision states no completeness rule for the daily mean; the
    project requires 18 of 24 hours (75 %), as 40 CFR Part 50 does."""
    full = _d(*[30.0] * 24)
    assert summarise_day(full).mean_24h == 30
    eighteen = _d(*[None] * 6, *[30.0] * 18)
    day = summarise_day(eighteen)
    assert day.mean_24h == 30
    assert day.max_1h == 30
    seventeen = _d(*[None] * 7, *[30.0] * 17)
    day = summarise_day(seventeen)
    assert day.mean_24h is None
    assert day.max_1h is None
    assert day.hours_present == 17


def test_eight_hour_means_need_6_of_8_hours() -> None:
    assert last_8h_mean(_d(None, None, *[5.0] * 6)) == 5
    assert last_8h_mean(_d(None, None, None, *[5.0] * 5)) is None


def test_daily_maximum_8h_mean_uses_the_hours_before_the_day() -> None:
    """A 31-value series carries the 7 hours before the day, so that all 24 eight-hour windows are complete."""
    before = [Decimal(100)] * 7
    day = [Decimal(10)] * 24
    with_before = summarise_day([*before, *day])
    assert with_before.valid_8h_means == 24
    # The window ending at the day's first hour holds 7 earlier hours of 100 and one of 10.
    assert with_before.max_8h == (Decimal(700) + Decimal(10)) / 8
    alone = summarise_day(day)
    assert alone.valid_8h_means == 19  # windows ending 06:00…00:00 have 6 or more hours
    assert alone.max_8h == 10


def test_day_series_length_is_checked() -> None:
    with pytest.raises(ValueError, match="24 to 31"):
        summarise_day(_d(*[1.0] * 23))
    with pytest.raises(ValueError, match="24 to 31"):
        summarise_day(_d(*[1.0] * 32))


def test_derivation_explains_what_it_leaves_out() -> None:
    derived = derive_inputs(
        {Pollutant.PM25: _d(10.0, None, None), Pollutant.O3: _d(80.0, 90.0)},
        AqiPeriod.HOUR,
        vn_aqi.DERIVATION[AqiPeriod.HOUR],
        vn_aqi.NOWCAST_SOURCE,
    )
    assert derived.values == {(Pollutant.O3, Averaging.H1): Decimal(90)}
    assert [(n.field, n.rule) for n in derived.notes] == [("hourly.PM2.5", "nowcast_2_of_3")]
    assert "2.2.1.a" in derived.notes[0].message_vi


def test_derivation_refuses_a_short_day() -> None:
    with pytest.raises(CalculationRejected) as caught:
        derive_inputs(
            {Pollutant.PM10: _d(*[1.0] * 12)}, AqiPeriod.DAY, vn_aqi.DERIVATION[AqiPeriod.DAY], vn_aqi.NOWCAST_SOURCE
        )
    assert caught.value.problems[0].rule == "day_series_length"


def test_decimal_helpers() -> None:
    assert dec(44.65) == Decimal("44.65")
    assert round_half_up(Decimal("2.5")) == 3
    assert round_half_up(Decimal("-0.4")) == 0
    assert truncate(Decimal("35.49"), Decimal("0.1")) == Decimal("35.4")
    with pytest.raises(ValueError, match="finite"):
        dec(float("nan"))
    with pytest.raises(TypeError):
        dec(True)
