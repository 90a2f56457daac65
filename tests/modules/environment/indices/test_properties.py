"""Properties every index must keep, whatever the input: monotone sub-indices, breakpoints on category
boundaries, the index as the maximum of its sub-indices, NowCast weights in bounds, and the missing-data rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ioc.modules.environment import AqiPeriod, Averaging, Pollutant
from ioc.modules.environment.indices import us_aqi, vn_aqi, vn_wqi
from ioc.modules.environment.indices.common import (
    MIN_HOURS_PER_DAY,
    BreakpointTable,
    Category,
    InputKey,
    nowcast,
    round_half_up,
    summarise_day,
)

VN_TABLES = list(dict.fromkeys(vn_aqi.TABLES.values()))
US_KEYS = list(us_aqi.TABLES)


def concentrations(table: BreakpointTable, places: int = 3) -> st.SearchStrategy[Decimal]:
    """Concentrations from 0 to 20 % above the top of a table."""
    return st.decimals(min_value=0, max_value=table.top * Decimal("1.2"), places=places)


@pytest.mark.parametrize("table", VN_TABLES, ids=lambda t: t.name)
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_vn_sub_index_never_decreases(table: BreakpointTable, data: st.DataObject) -> None:
    low, high = sorted((data.draw(concentrations(table)), data.draw(concentrations(table))))
    assert vn_aqi.sub_index(table, low) <= vn_aqi.sub_index(table, high)
    assert 0 <= vn_aqi.sub_index(table, high) <= 500


@pytest.mark.parametrize("key", US_KEYS, ids=lambda k: f"{k[0].value}_{k[1].value}")
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_us_sub_index_never_decreases(key: InputKey, data: st.DataObject) -> None:
    table = us_aqi.TABLES[key]
    low, high = sorted((data.draw(concentrations(table, 4)), data.draw(concentrations(table, 4))))
    first, second = us_aqi.sub_index(key, low), us_aqi.sub_index(key, high)
    # Below the first row of a column (1-hour O3, 24-hour SO2) the cell is blank.
    if first is None:
        assert us_aqi.truncated(key[0], low) < table.floor
        return
    assert second is not None
    assert first <= second <= 500


@pytest.mark.parametrize("table", VN_TABLES, ids=lambda t: t.name)
def test_vn_breakpoints_fall_on_category_boundaries(table: BreakpointTable) -> None:
    """Bảng 2's BP_i gives exactly I_i, the upper end of a Bảng 1 category (50, 100, 150, 200, 300, 500) or
    a point inside the last one (400)."""
    for band in table.bands:
        assert vn_aqi.sub_index(table, band.c_lo) == band.i_lo
        assert vn_aqi.sub_index(table, band.c_hi) == band.i_hi
        category = vn_aqi.category(band.i_hi)
        assert category.high == band.i_hi or category.code == "hazardous"


@pytest.mark.parametrize("key", US_KEYS, ids=lambda k: f"{k[0].value}_{k[1].value}")
def test_us_breakpoints_fall_on_category_boundaries(key: InputKey) -> None:
    """Table 6: C_lo → I_lo (a category's lower end), C_hi → I_hi (its upper end)."""
    for band in us_aqi.TABLES[key].bands:
        assert us_aqi.sub_index(key, band.c_lo) == band.i_lo
        assert us_aqi.sub_index(key, band.c_hi) == band.i_hi
        assert us_aqi.category(band.i_lo).low == band.i_lo
        assert us_aqi.category(band.i_hi).high == band.i_hi


@pytest.mark.parametrize(
    ("categories", "top"), [(vn_aqi.CATEGORIES, 500), (us_aqi.CATEGORIES, 500), (vn_wqi.CATEGORIES, 100)]
)
def test_categories_cover_the_scale_once(categories: tuple[Category, ...], top: int) -> None:
    covering = [[c.code for c in categories if c.low <= value <= c.high] for value in range(top + 1)]
    assert all(len(codes) == 1 for codes in covering)


def _inputs(module: object, period: AqiPeriod) -> st.SearchStrategy[dict[InputKey, Decimal]]:
    allowed = module.ALLOWED_INPUTS[period]  # type: ignore[attr-defined]
    tables = module.TABLES  # type: ignore[attr-defined]
    return st.dictionaries(
        st.sampled_from(allowed),
        st.just(None),
        min_size=1,
    ).flatmap(
        lambda keys: st.fixed_dictionaries({key: concentrations(tables[key]) for key in keys}),
    )


@pytest.mark.parametrize("period", list(AqiPeriod))
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_vn_aqi_is_the_largest_sub_index(period: AqiPeriod, data: st.DataObject) -> None:
    values = data.draw(_inputs(vn_aqi, period))
    particle = (Pollutant.PM25, Averaging.NOWCAST if period is AqiPeriod.HOUR else Averaging.H24)
    values.setdefault(particle, data.draw(concentrations(vn_aqi.PM25)))
    result = vn_aqi.calculate(values, period)
    assert result.aqi == max(result.sub_indices.values())
    assert result.sub_indices[result.dominant] == result.aqi
    assert result.category == vn_aqi.category(result.aqi)
    assert result.beyond_scale == any(n.rule == "beyond_scale" for n in result.notes)


@pytest.mark.parametrize("period", list(AqiPeriod))
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_us_aqi_is_the_largest_sub_index(period: AqiPeriod, data: st.DataObject) -> None:
    values = data.draw(_inputs(us_aqi, period))
    values.setdefault((Pollutant.NO2, Averaging.H1), Decimal(20))
    result = us_aqi.calculate(values, period)
    assert result.aqi == max(result.sub_indices.values())
    assert result.sub_indices[result.dominant] == result.aqi
    assert 0 <= result.aqi <= 500


hours = st.lists(st.one_of(st.none(), st.decimals(min_value=0, max_value=1000, places=1)), min_size=1, max_size=30)


@settings(max_examples=200, deadline=None)
@given(series=hours)
def test_nowcast_weight_and_value_stay_in_bounds(series: list[Decimal | None]) -> None:
    result = nowcast(series)
    latest_three = series[-3:]
    enough = sum(v is not None for v in latest_three) >= 2
    assert (result is not None) == enough
    if result is None:
        return
    present = [v for v in series[-12:] if v is not None]
    assert Decimal("0.5") <= result.weight <= 1
    assert min(present) <= result.value <= max(present)


day_hours = st.lists(st.one_of(st.none(), st.decimals(min_value=0, max_value=500, places=1)), min_size=24, max_size=31)


@settings(max_examples=200, deadline=None)
@given(series=day_hours)
def test_daily_statistics_follow_the_completeness_rule(series: list[Decimal | None]) -> None:
    day = summarise_day(series)
    present = [v for v in series[-24:] if v is not None]
    assert (day.mean_24h is not None) == (len(present) >= MIN_HOURS_PER_DAY)
    if day.mean_24h is not None:
        assert day.max_1h is not None
        assert min(present) <= day.mean_24h <= day.max_1h
    if day.max_8h is not None and day.max_1h is not None:
        assert day.max_8h <= max(v for v in series if v is not None)


@pytest.mark.parametrize("parameter", sorted(vn_wqi.BREAKPOINTS))
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_wqi_sub_index_never_increases_with_pollution(parameter: str, data: st.DataObject) -> None:
    top = vn_wqi.BREAKPOINTS[parameter][-1]
    assert top is not None
    values = st.decimals(min_value=0, max_value=top * 2, places=4)
    low, high = sorted((data.draw(values), data.draw(values)))
    first, second = vn_wqi.breakpoint_sub_index(parameter, low), vn_wqi.breakpoint_sub_index(parameter, high)
    assert 10 <= second <= first <= 100


@settings(max_examples=80, deadline=None)
@given(
    ph=st.decimals(min_value=0, max_value=14, places=2),
    bod=st.decimals(min_value=0, max_value=80, places=1),
    cod=st.decimals(min_value=0, max_value=200, places=1),
    nh4=st.decimals(min_value=0, max_value=8, places=2),
    coliform=st.decimals(min_value=0, max_value=20000, places=0),
)
def test_wqi_stays_on_its_scale(ph: Decimal, bod: Decimal, cod: Decimal, nh4: Decimal, coliform: Decimal) -> None:
    result = vn_wqi.calculate({"pH": ph, "BOD5": bod, "COD": cod, "N-NH4": nh4, "Coliform": coliform})
    assert 0 <= result.wqi <= 100
    assert result.category == vn_wqi.category(result.wqi)
    assert round_half_up(Decimal(result.wqi)) == result.wqi
