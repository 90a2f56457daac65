"""Daily VN_AQI, US AQI per station, QCVN 40 wastewater limits and the data-quality flags of a station."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from ioc.core.models import OutboxEvent
from ioc.core.runtime import Runtime
from ioc.core.time import local_today, utc_now
from ioc.modules.environment import CalculationRejected, reports
from ioc.modules.environment.constants import AqiStandard, DischargeColumn, Pollutant, StationKind
from ioc.modules.environment.discharge import check_wastewater, limits_for
from ioc.modules.environment.evaluation import (
    US_FACTORS,
    air_index,
    as_decimals,
    evaluate_station,
    hour_of,
    local_day_start,
    mark_dirty,
)
from ioc.modules.environment.models import Exceedance, IndexDay, Station
from ioc.modules.environment.schemas import StationUpdate
from ioc.modules.environment.stations import station_by_code, update_station
from ioc.modules.environment.views import quality_flags

from .conftest import StationFactory, send

HOUR = timedelta(hours=1)


async def evaluate_from(runtime: Runtime, station_id: int, since: datetime, now: datetime | None = None) -> None:
    """Mark a station dirty from a moment, as the ingestion handler does, and run its evaluation."""
    async with runtime.db.transaction() as session:
        code = await session.scalar(select(Station.code).where(Station.id == station_id))
        assert code is not None
        streams = (await station_by_code(session, code)).datastreams
        await mark_dirty(session, list(streams.values()), since, now or utc_now())
    async with runtime.db.transaction() as session:
        await evaluate_station(session, station_id, now)


async def day_events(runtime: Runtime) -> list[dict[str, object]]:
    """Payloads of the daily index events, oldest first."""
    async with runtime.db.session() as session:
        rows = await session.scalars(
            select(OutboxEvent).where(OutboxEvent.name == "environment.index_computed").order_by(OutboxEvent.id)
        )
        return [row.payload for row in rows if row.payload.get("period") == "day"]


async def test_daily_vn_aqi_is_stored_per_local_day_published_and_needs_18_hours(
    runtime: Runtime, make_station: StationFactory
) -> None:
    yesterday = local_today() - timedelta(days=1)
    start = local_day_start(yesterday)
    full = await make_station("KK-DAY")
    short = await make_station("KK-SHORT")
    # 55.7 µg/m³ all day: the 24-hour PM2.5 of the guide's daily example, sub-index 110 (Decision 1459 §2.3).
    await send(runtime, "KK-DAY", [(start + HOUR * h, {"pm25": 55.7}) for h in range(24)])
    # 17 of 24 hours: below the 18-hour rule, no daily index.
    await send(runtime, "KK-SHORT", [(start + HOUR * h, {"pm25": 55.7}) for h in range(17)])
    await evaluate_from(runtime, full.id, start)
    await evaluate_from(runtime, short.id, start)

    async with runtime.db.session() as session:
        rows = list(await session.scalars(select(IndexDay).order_by(IndexDay.station_id)))
        assert [(r.station_id, r.standard, r.day, r.value, r.category, r.dominant) for r in rows] == [
            (full.id, "VN_AQI", yesterday, 110, "poor", "PM2.5")
        ]
        shown = await station_by_code(session, "KK-DAY")
        assert (shown.day_index_value, shown.day_index_category, shown.day_index_day) == (110, "poor", yesterday)
        assert (await station_by_code(session, "KK-SHORT")).day_index_value is None
        # The reports show the stored value: the daily summary and the month's row of that day.
        daily = await reports.daily_report(session, "KK-DAY", yesterday)
        assert ("VN_AQI ngày / daily VN_AQI", "110 (Kém)") in daily.summary
        monthly = await reports.monthly_report(session, "KK-DAY", yesterday.year, yesterday.month)
        assert [row[1] for row in monthly.rows if row[0] == f"{yesterday:%d/%m/%Y}"] == [110]
    [event] = await day_events(runtime)
    assert (event["station_code"], event["standard"], event["value"]) == ("KK-DAY", "VN_AQI", 110)
    assert event["computed_for"].startswith(start.isoformat()[:13])  # the local midnight, in UTC

    # Evaluating again with the same data publishes nothing new; a changed day is published again.
    await evaluate_from(runtime, full.id, start)
    assert len(await day_events(runtime)) == 1
    await send(runtime, "KK-DAY", [(start + HOUR * h, {"pm25": 80.0}) for h in range(24)])
    await evaluate_from(runtime, full.id, start)
    assert [e["value"] for e in await day_events(runtime)] == [110, 150]


async def test_us_aqi_is_computed_next_to_vn_aqi_only_where_enabled(
    runtime: Runtime, make_station: StationFactory
) -> None:
    us = await make_station("KK-US", us_aqi=True)
    vn = await make_station("KK-VN")
    hour = hour_of(utc_now())
    readings = [(hour - HOUR * h, {"pm25": 35.9}) for h in range(11, -1, -1)]
    await send(runtime, "KK-US", readings)
    await send(runtime, "KK-VN", readings)
    await evaluate_from(runtime, us.id, hour - HOUR * 11)
    await evaluate_from(runtime, vn.id, hour - HOUR * 11)
    async with runtime.db.session() as session:
        with_us = await station_by_code(session, "KK-US")
        without = await station_by_code(session, "KK-VN")
    # NowCast of a constant series is the value: VN_AQI 50 + 50/25 × 10.9 = 71.8 → 72; US AQI (2024 table)
    # 101 + 49/19.9 × 0.4 = 101.98 → 102 (EPA-454/B-24-002 Table 6).
    assert (with_us.index_standard, with_us.index_value, with_us.us_index_value) == ("VN_AQI", 72, 102)
    assert with_us.us_index_category == "unhealthy_for_sensitive_groups"
    assert (without.index_value, without.us_index_value) == (72, None)


def test_gases_are_converted_to_ppm_and_ppb_at_25_degrees_for_the_us_aqi() -> None:
    # 24.45 L/mol at 25 °C and 1 atm: 100 µg/m³ O3 = 0.0509 ppm, 100 µg/m³ NO2 = 53.1 ppb.
    assert round(Decimal(100) * US_FACTORS[Pollutant.O3], 4) == Decimal("0.0509")
    assert round(Decimal(100) * US_FACTORS[Pollutant.NO2], 1) == Decimal("53.1")
    hour = datetime(2026, 3, 1, 12, tzinfo=utc_now().tzinfo)
    series = as_decimals({"NO2": {hour - HOUR * i: 188.3 for i in range(12)}})
    result = air_index(series, hour, AqiStandard.US_AQI)
    # 188.3 µg/m³ × 24.45 / 46.01 = 100.06 ppb → truncated 100 → AQI 100 (top of "Moderate").
    assert result is not None
    assert (result.value, result.dominant) == (100, "NO2")
    assert air_index(series, hour, AqiStandard.VN_AQI) is None  # VN_AQI needs PM (Decision 1459 §2.1.b)


def test_qcvn_40_columns_and_the_kq_kf_coefficients() -> None:
    b = limits_for(DischargeColumn.B, Decimal("0.9"), Decimal("1.1"))
    assert b["COD"].value == Decimal("148.50")  # 150 × 0.9 × 1.1 (mục 2.1.2)
    assert b["temperature"].value == Decimal(40)  # never scaled (mục 2.1.3)
    assert b["Coliform"].value == Decimal(5000)
    report = check_wastewater({"COD": 149, "pH": 5.6, "TSS": 99}, DischargeColumn.B, "0.9", "1.1")
    assert [c.limit.parameter for c in report.exceedances] == ["COD"]
    stricter = check_wastewater({"COD": 60, "pH": 5.6}, DischargeColumn.A)
    assert [c.limit.parameter for c in stricter.exceedances] == ["pH"]  # column A pH 6–9
    with pytest.raises(CalculationRejected) as rejected:
        check_wastewater({"COD": 1, "mystery": 2}, None, kq=2)
    assert {p.rule for p in rejected.value.problems} == {"coefficient_range", "column_missing"}


async def test_a_wastewater_discharge_opens_and_closes_qcvn_40_exceedances(
    runtime: Runtime, make_station: StationFactory
) -> None:
    station = await make_station(
        "NT-KCN",
        kind=StationKind.WASTEWATER,
        keys=("ph", "cod", "tss", "temp"),
        discharge_column=DischargeColumn.B,
        kq=0.9,
    )
    hour = hour_of(utc_now())
    await send(runtime, "NT-KCN", [(hour - HOUR, {"cod": 180.0, "ph": 7.1, "tss": 40.0, "temp": 31.0})])
    await evaluate_from(runtime, station.id, hour - HOUR)
    async with runtime.db.session() as session:
        [row] = list(await session.scalars(select(Exceedance)))
        assert (row.parameter, row.regulation, row.limit_value, row.ended_at) == ("COD", "QCVN_40_2011", 135.0, None)
        shown = await station_by_code(session, "NT-KCN")
        assert shown.index_value is None
        assert shown.open_exceedances == 1
    await send(runtime, "NT-KCN", [(hour, {"cod": 90.0, "ph": 7.0, "tss": 35.0, "temp": 30.0})])
    await evaluate_from(runtime, station.id, hour)
    async with runtime.db.session() as session:
        [row] = list(await session.scalars(select(Exceedance)))
        assert row.ended_at is not None
        names = [
            e.name for e in await session.scalars(select(OutboxEvent).where(OutboxEvent.name.like("environment.exc%")))
        ]
    assert names == ["environment.exceedance_detected", "environment.exceedance_cleared"]
    # Taking the discharge out of service closes what is open: its limits no longer apply.
    await send(runtime, "NT-KCN", [(hour, {"cod": 300.0})])
    await evaluate_from(runtime, station.id, hour)
    async with runtime.db.transaction() as session:
        fields = {"name": "Trạm NT-KCN", "kind": "wastewater", "discharge_column": "B", "is_active": False}
        await update_station(session, "NT-KCN", StationUpdate.model_validate(fields), utc_now())
    async with runtime.db.session() as session:
        assert await session.scalar(select(Exceedance).where(Exceedance.ended_at.is_(None))) is None
        cleared = await session.scalar(select(func.count()).where(OutboxEvent.name == "environment.exceedance_cleared"))
    assert cleared == 2


async def test_quality_flags_show_gaps_and_a_silent_sensor(runtime: Runtime, make_station: StationFactory) -> None:
    station = await make_station("KK-Q", keys=("pm25", "pm10"))
    now = utc_now()
    start = now - timedelta(hours=20)
    # PM2.5 every 10 minutes with a 3-hour hole; PM10 silent for the last 5 hours.
    minutes = [m for m in range(0, 20 * 60, 10) if not 300 <= m < 480]
    await send(runtime, "KK-Q", [(start + timedelta(minutes=m), {"pm25": 20.0 + (m % 7)}) for m in minutes])
    await send(
        runtime, "KK-Q", [(start + timedelta(minutes=m), {"pm10": 40.0 + (m % 5)}) for m in range(0, 15 * 60, 10)]
    )
    async with runtime.db.session() as session:
        flags = await quality_flags(session, await station_by_code(session, station.code), "vi")
    gaps = [(f["parameter"], f["message"]) for f in flags if f["kind"] == "gap"]
    assert any(p == "PM2.5" and "Mất khoảng 18 lần đo" in m for p, m in gaps), gaps
    assert any(p == "PM10" and m.startswith("Không có số liệu từ") for p, m in gaps), gaps


def test_local_days_start_at_midnight_in_vietnam() -> None:
    assert local_day_start(date(2026, 3, 1)).isoformat() == "2026-02-28T17:00:00+00:00"
