"""Evaluation of stations after ingestion: hourly VN_AQI / VN_WQI and QCVN exceedances, from telemetry's hourly means.

The event handler only marks stations dirty and schedules one job per station per short window; the job reads
the hourly means of the hours that changed (plus the hours the NowCast and the 24-hour means look back on),
stores an index per hour, updates the station's current index and opens or closes exceedances.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.events import record_event
from ioc.core.jobs import schedule_job
from ioc.core.time import PROVINCE_TZ, to_local, utc_now
from ioc.modules import telemetry

from .constants import (
    LOOKBACK_HOURS,
    MAX_EVALUATED_HOURS,
    RECOMPUTE_JOB,
    RECOMPUTE_WINDOW_SECONDS,
    AqiPeriod,
    AqiStandard,
    DischargeColumn,
    LimitKind,
    LimitPeriod,
    Pollutant,
    Regulation,
    StationKind,
)
from .discharge import limits_for
from .events import ExceedanceCleared, ExceedanceDetected, IndexComputed
from .exceptions import CalculationRejected
from .indices import us_aqi, vn_aqi, vn_wqi
from .indices.common import (
    HOURS_PER_8H,
    HOURS_PER_DAY,
    MIN_HOURS_PER_8H,
    MIN_HOURS_PER_DAY,
    NOWCAST_HOURS,
    Category,
    derive_inputs,
)
from .limits import AIR_TABLE_1, WATER_TABLE_1, WATER_TABLE_2, Limit, compare
from .models import Exceedance, IndexDay, IndexHour, Station, StationStream
from .stations import stations_for_datastreams

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
# The current index is shown while its hour is at most this old; a silent station loses its colour after it.
CURRENT_INDEX_MAX_AGE = timedelta(hours=3)
# QCVN 05:2023 averaging periods checked from hourly means (the annual mean is a report, not an alarm).
AIR_PERIODS: Mapping[LimitPeriod, tuple[int, int]] = {
    LimitPeriod.H1: (1, 1),
    LimitPeriod.H8: (HOURS_PER_8H, MIN_HOURS_PER_8H),
    LimitPeriod.H24: (HOURS_PER_DAY, MIN_HOURS_PER_DAY),
}
POLLUTANTS = {p.value: p for p in Pollutant}
WQI = "VN_WQI"
# µg/m³ → the EPA's ppm/ppb at 25 °C and 760 mmHg (40 CFR 50.3 reference conditions, also those of QCVN 05:2023):
# ppb = µg/m³ × 24.45 / molar mass (g/mol); O3 and CO are then divided by 1000 for ppm (EPA-454/B-24-002 units).
MOLAR_VOLUME = Decimal("24.45")
US_FACTORS: Mapping[Pollutant, Decimal] = {
    Pollutant.PM25: Decimal(1),
    Pollutant.PM10: Decimal(1),
    Pollutant.O3: MOLAR_VOLUME / Decimal("48.00") / 1000,
    Pollutant.CO: MOLAR_VOLUME / Decimal("28.01") / 1000,
    Pollutant.NO2: MOLAR_VOLUME / Decimal("46.01"),
    Pollutant.SO2: MOLAR_VOLUME / Decimal("64.07"),
}


def hour_of(moment: datetime) -> datetime:
    """Return the start of the UTC hour holding a moment."""
    return moment.replace(minute=0, second=0, microsecond=0)


# --- scheduling (event handler side) -----------------------------------------------------------------------------


async def mark_dirty(session: AsyncSession, datastream_ids: Sequence[int], since: datetime, now: datetime) -> int:
    """Mark the stations fed by these datastreams as needing evaluation from `since` and schedule their jobs."""
    station_ids = await stations_for_datastreams(session, datastream_ids)
    if not station_ids:
        return 0
    start = hour_of(since)
    await session.execute(
        update(Station)
        .where(Station.id.in_(station_ids))
        .values(
            dirty_from=case(
                (Station.dirty_from.is_(None), start),
                (Station.dirty_from > start, start),
                else_=Station.dirty_from,
            )
        )
        .execution_options(synchronize_session=False)
    )
    window = int(now.timestamp()) // RECOMPUTE_WINDOW_SECONDS
    run_at = datetime.fromtimestamp((window + 1) * RECOMPUTE_WINDOW_SECONDS, tz=now.tzinfo)
    for station_id in station_ids:
        await schedule_job(
            session,
            RECOMPUTE_JOB,
            {"station_id": station_id},
            run_at=run_at,
            dedupe_key=f"{RECOMPUTE_JOB}:{station_id}:{window}",
        )
    return len(station_ids)


# --- computing ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HourIndex:
    """An index value for one hour."""

    standard: AqiStandard | str
    value: int
    category: Category
    dominant: str | None


def _dec(value: float) -> Decimal:
    return Decimal(str(round(value, 6)))


def as_decimals(series: Mapping[str, Mapping[datetime, float]]) -> dict[str, dict[datetime, Decimal]]:
    """Convert hourly means to decimals once (the index tables use decimal arithmetic)."""
    return {p: {h: _dec(v) for h, v in values.items()} for p, values in series.items()}


def _hourly_columns(
    series: Mapping[str, Mapping[datetime, Decimal]], hours: Sequence[datetime], factors: Mapping[Pollutant, Decimal]
) -> dict[Pollutant, list[Decimal | None]]:
    hourly: dict[Pollutant, list[Decimal | None]] = {}
    for parameter, values in series.items():
        pollutant = POLLUTANTS.get(parameter)
        if pollutant is None:
            continue
        factor = factors.get(pollutant, Decimal(1))
        column = [None if values.get(h) is None else values[h] * factor for h in hours]
        if any(v is not None for v in column):
            hourly[pollutant] = column
    return hourly


def air_index(
    series: Mapping[str, Mapping[datetime, Decimal]], hour: datetime, standard: AqiStandard = AqiStandard.VN_AQI
) -> HourIndex | None:
    """Compute the hourly VN_AQI (or US AQI, from µg/m³ converted to ppm/ppb) of an hour (NowCast for particles)."""
    hours = [hour - HOUR * i for i in range(NOWCAST_HOURS - 1, -1, -1)]
    us = standard is AqiStandard.US_AQI
    hourly = _hourly_columns(series, hours, US_FACTORS if us else {})
    if not hourly:
        return None
    module = us_aqi if us else vn_aqi
    try:
        derived = derive_inputs(hourly, AqiPeriod.HOUR, module.DERIVATION[AqiPeriod.HOUR], module.NOWCAST_SOURCE)
        result = module.calculate(derived.values, AqiPeriod.HOUR, tuple(derived.notes))
    except CalculationRejected:
        return None  # e.g. no PM2.5/PM10 NowCast: 2 of the last 3 hours missing (Decision 1459)
    return HourIndex(standard, result.aqi, result.category, result.dominant.value)


def local_day_start(day: date) -> datetime:
    """Return the UTC moment a local (Asia/Ho_Chi_Minh) day starts."""
    return datetime.combine(day, time(0), tzinfo=PROVINCE_TZ).astimezone(UTC)


def day_index(
    series: Mapping[str, Mapping[datetime, Decimal]], day: date, standard: AqiStandard = AqiStandard.VN_AQI
) -> HourIndex | None:
    """Compute a local day's air index: Decision 1459 mục 2.2.2 (hours 01:00 → 00:00) or the EPA daily AQI.

    The day's 24 hours come with the 7 before them for the 8-hour O3 (and CO) means; the minimum-data rules
    (18 of 24 hours, 6 of 8 per 8-hour mean, PM mandatory for VN_AQI) are those of `derive_inputs`.
    """
    start = local_day_start(day)
    hours = [start + HOUR * i for i in range(-(HOURS_PER_8H - 1), HOURS_PER_DAY)]
    us = standard is AqiStandard.US_AQI
    hourly = _hourly_columns(series, hours, US_FACTORS if us else {})
    if not hourly:
        return None
    module = us_aqi if us else vn_aqi
    try:
        derived = derive_inputs(hourly, AqiPeriod.DAY, module.DERIVATION[AqiPeriod.DAY], module.NOWCAST_SOURCE)
        result = module.calculate(derived.values, AqiPeriod.DAY, tuple(derived.notes))
    except CalculationRejected:
        return None  # too few hours (18 of 24) or no PM at all
    return HourIndex(standard, result.aqi, result.category, result.dominant.value)


def water_index(series: Mapping[str, Mapping[datetime, Decimal]], hour: datetime) -> HourIndex | None:
    """Compute the VN_WQI of an hour from the hourly means, when the minimum-data rules allow it."""
    values = {p: v[hour] for p, v in series.items() if hour in v and p in vn_wqi.ACCEPTED_KEYS}
    if "DO" in values and "temperature" not in values:
        values.pop("DO")  # DO is scored as % saturation, which needs the water temperature
    if not values:
        return None
    try:
        result = vn_wqi.calculate(values)
    except CalculationRejected:
        return None  # fewer than 3 groups or 3 group IV parameters ([L] rule, reference §3.5)
    return HourIndex(WQI, result.wqi, result.category, None)


def window_mean(values: Mapping[datetime, float], hour: datetime, hours: int, minimum: int) -> float | None:
    """Return the mean of the `hours` hourly means ending with `hour`, when at least `minimum` are present."""
    present = [values[moment] for moment in (hour - HOUR * i for i in range(hours)) if moment in values]
    if not present or len(present) < minimum:
        return None
    return sum(present) / len(present)


@dataclass(frozen=True)
class Check:
    """A parameter's average over a period compared with its limit."""

    parameter: str
    regulation: Regulation
    period: str
    value: float
    limit: Limit
    exceeded: bool


def air_checks(series: Mapping[str, Mapping[datetime, float]], hour: datetime) -> list[Check]:
    """Compare the 1-, 8- and 24-hour means ending with an hour with QCVN 05:2023 Bảng 1."""
    day = to_local(hour).date()
    checks: list[Check] = []
    for parameter, values in series.items():
        for period, (hours, minimum) in AIR_PERIODS.items():
            limit = next(
                (
                    item
                    for item in AIR_TABLE_1
                    if item.parameter == parameter and item.period is period and item.applies_on(day)
                ),
                None,
            )
            if limit is None:
                continue
            mean = window_mean(values, hour, hours, minimum)
            if mean is None:
                continue
            exceeded = compare(limit, mean).exceeded
            checks.append(Check(parameter, Regulation.QCVN_05_2023, period.value, mean, limit, exceeded))
    return checks


def water_checks(
    series: Mapping[str, Mapping[datetime, float]], hour: datetime, water_class: str | None
) -> list[Check]:
    """Compare an hour's means with QCVN 08:2023 Bảng 1 and, for the station's level, Bảng 2."""
    checks: list[Check] = []
    for parameter, values in series.items():
        if hour not in values:
            continue
        limit = next((item for item in WATER_TABLE_1 if item.parameter == parameter), None)
        if limit is None and water_class:
            limit = next(
                (
                    item
                    for item in WATER_TABLE_2
                    if item.parameter == parameter and item.water_class and item.water_class.value == water_class
                ),
                None,
            )
        if limit is None:
            continue
        value = values[hour]
        exceeded = compare(limit, value).exceeded
        checks.append(Check(parameter, Regulation.QCVN_08_2023, LimitPeriod.H1.value, value, limit, exceeded))
    return checks


def discharge_checks(series: Mapping[str, Mapping[datetime, float]], hour: datetime, station: Station) -> list[Check]:
    """Compare an hour's means of a wastewater discharge with QCVN 40:2011 Bảng 1 (Cmax = C × Kq × Kf)."""
    if station.discharge_column is None:
        return []
    table = limits_for(
        DischargeColumn(station.discharge_column),
        1 if station.kq is None else station.kq,
        1 if station.kf is None else station.kf,
    )
    checks: list[Check] = []
    for parameter, values in series.items():
        limit = table.get(parameter)
        if limit is None or hour not in values:
            continue
        value = values[hour]
        exceeded = compare(limit, value).exceeded
        checks.append(Check(parameter, Regulation.QCVN_40_2011, LimitPeriod.H1.value, value, limit, exceeded))
    return checks


def standards_of(station: Station) -> tuple[str, ...]:
    """Return the indices a station gets: VN_AQI (and US AQI when enabled) for air, VN_WQI for surface water."""
    if station.kind == StationKind.AIR.value:
        return (AqiStandard.VN_AQI.value, AqiStandard.US_AQI.value) if station.us_aqi else (AqiStandard.VN_AQI.value,)
    if station.kind == StationKind.SURFACE_WATER.value:
        return (WQI,)
    return ()  # VN_WQI describes surface water (Decision 1460), not effluent: wastewater is judged by QCVN 40


def _limit_number(limit: Limit, value: float) -> float:
    if limit.kind is LimitKind.RANGE and limit.high is not None and value > float(limit.high):
        return float(limit.high)
    return float(limit.value)


# --- the job -----------------------------------------------------------------------------------------------------


async def evaluate_station(session: AsyncSession, station_id: int, now: datetime | None = None) -> None:
    """Evaluate a station's dirty hours: store their index, update the current one, open or close exceedances."""
    now = now or utc_now()
    station = await session.get(Station, station_id)
    if station is None or not station.is_active:
        return
    dirty = station.dirty_from
    current_hour = hour_of(now)
    first = max(dirty or current_hour, current_hour - HOUR * (MAX_EVALUATED_HOURS - 1))
    first = min(first, current_hour)
    streams = list(await session.scalars(select(StationStream).where(StationStream.station_id == station.id)))
    by_id = {s.datastream_id: s.parameter for s in streams}
    kind = StationKind(station.kind)
    standards = standards_of(station)
    # Daily indices of the local days the changed hours (and the hour before them) belong to, once those days ended.
    days = _ended_days(first - HOUR, current_hour, now) if kind is StationKind.AIR else []
    read_from = first - HOUR * LOOKBACK_HOURS
    if days:
        read_from = min(read_from, local_day_start(days[0]) - HOUR * (HOURS_PER_8H - 1))
    # Hours that changed (and the one before the current, which the minutely rollup may not have caught up
    # with) come from the raw readings; the look-back hours before them from telemetry's hourly rollups.
    raw_from = min(first, current_hour - HOUR)
    means = await telemetry.hourly_means(session, list(by_id), read_from, current_hour + HOUR, raw_from=raw_from)
    series: dict[str, dict[datetime, float]] = {by_id[ds]: values for ds, values in means.items() if ds in by_id}
    hours: list[datetime] = []
    moment = first
    while moment <= current_hour:
        hours.append(moment)
        moment += HOUR
    stored = {
        (row.hour, row.standard): row
        for row in await session.scalars(
            select(IndexHour).where(IndexHour.station_id == station.id, IndexHour.hour >= first)
        )
    }
    decimals = as_decimals(series)
    for hour in hours:
        computed: list[HourIndex] = []
        for standard in standards:
            found = water_index(decimals, hour) if standard == WQI else air_index(decimals, hour, AqiStandard(standard))
            if found is not None:
                computed.append(found)
        await _store_index(session, station.id, hour, computed, stored)
    for day in days:
        for standard in standards:
            await _store_day(session, station, day, day_index(decimals, day, AqiStandard(standard)))
    await _update_current(session, station, now)
    open_rows = {
        (row.parameter, row.period): row
        for row in await session.scalars(
            select(Exceedance).where(Exceedance.station_id == station.id, Exceedance.ended_at.is_(None))
        )
    }
    start = station.evaluated_until or first
    for hour in hours:
        if hour < start:
            continue
        if kind is StationKind.AIR:
            checks = air_checks(series, hour)
        elif kind is StationKind.SURFACE_WATER:
            checks = water_checks(series, hour, station.water_class)
        else:
            checks = discharge_checks(series, hour, station)
        _apply_checks(session, station, checks, min(hour + HOUR, now), open_rows)
    station.evaluated_until = max(station.evaluated_until or current_hour, current_hour)
    # Clear the mark unless newer readings moved it meanwhile (their own job will run).
    clear = update(Station).where(Station.id == station.id)
    if dirty is not None:
        clear = clear.where(Station.dirty_from == dirty)
    await session.execute(clear.values(dirty_from=None).execution_options(synchronize_session=False))
    await session.flush()


def _ended_days(since: datetime, current_hour: datetime, now: datetime) -> list[date]:
    """Return the local days from the one holding `since` to the current one that have ended by `now`."""
    day = to_local(since).date()
    last = to_local(current_hour).date()
    found: list[date] = []
    while day <= last:
        if local_day_start(day + timedelta(days=1)) <= now:
            found.append(day)
        day += timedelta(days=1)
    return found


async def schedule_now(session: AsyncSession, station_id: int) -> None:
    """Schedule an evaluation of one station right away (after registration or a manual request)."""
    await schedule_job(
        session, RECOMPUTE_JOB, {"station_id": station_id}, dedupe_key=f"{RECOMPUTE_JOB}:{station_id}:now"
    )


async def _store_index(
    session: AsyncSession,
    station_id: int,
    hour: datetime,
    computed: Sequence[HourIndex],
    stored: dict[tuple[datetime, str], IndexHour],
) -> None:
    standards = {str(item.standard) for item in computed}
    for key in [k for k in stored if k[0] == hour and k[1] not in standards]:
        await session.delete(stored.pop(key))
    for item in computed:
        standard = str(item.standard)
        row = stored.get((hour, standard))
        if row is None:
            row = IndexHour(station_id=station_id, standard=standard, hour=hour, value=item.value)
            session.add(row)
            stored[(hour, standard)] = row
        row.value = item.value
        row.category = item.category.code
        row.dominant = item.dominant


async def _store_day(session: AsyncSession, station: Station, day: date, computed: HourIndex | None) -> None:
    """Store (or remove) a station's daily index and publish it when it is new or changed."""
    if computed is None:
        return  # too few hours: an index stored earlier stays (late data only adds hours)
    standard = str(computed.standard)
    row = await session.get(IndexDay, (station.id, standard, day))
    if row is not None and row.value == computed.value:
        return
    if row is None:
        row = IndexDay(station_id=station.id, standard=standard, day=day, value=computed.value)
        session.add(row)
    row.value = computed.value
    row.category = computed.category.code
    row.dominant = computed.dominant
    record_event(
        session,
        IndexComputed(
            station_id=station.id,
            station_code=station.code,
            unit_code=station.unit_code,
            standard=standard,
            period=AqiPeriod.DAY.value,
            value=computed.value,
            category=computed.category.code,
            computed_for=local_day_start(day),
        ),
    )


def category_of(standard: str, value: int) -> Category:
    """Return the category of an index value of a standard (VN_WQI, US_AQI or VN_AQI)."""
    if standard == WQI:
        return vn_wqi.category(value)
    return us_aqi.category(value) if standard == AqiStandard.US_AQI.value else vn_aqi.category(value)


async def _latest_hour(session: AsyncSession, station_id: int, standard: str, since: datetime) -> IndexHour | None:
    return await session.scalar(
        select(IndexHour)
        .where(IndexHour.station_id == station_id, IndexHour.standard == standard, IndexHour.hour >= since)
        .order_by(IndexHour.hour.desc())
        .limit(1)
    )


def _index_event(station: Station, row: IndexHour, category: Category) -> IndexComputed:
    return IndexComputed(
        station_id=station.id,
        station_code=station.code,
        unit_code=station.unit_code,
        standard=row.standard,
        period=AqiPeriod.HOUR.value,
        value=row.value,
        category=category.code,
        computed_for=row.hour,
    )


async def _update_current(session: AsyncSession, station: Station, now: datetime) -> None:
    await session.flush()
    standards = standards_of(station)
    since = hour_of(now) - CURRENT_INDEX_MAX_AGE
    latest = await _latest_hour(session, station.id, standards[0], since) if standards else None
    before = (station.index_standard, station.index_value)
    if latest is None:
        station.index_standard = station.index_value = station.index_category = None
        station.index_colour = station.index_dominant = station.index_at = None
    else:
        category = category_of(latest.standard, latest.value)
        station.index_standard = latest.standard
        station.index_value = latest.value
        station.index_category = category.code
        station.index_colour = category.hex
        station.index_dominant = latest.dominant
        station.index_at = latest.hour
        if before != (latest.standard, latest.value):
            record_event(session, _index_event(station, latest, category))
    us = AqiStandard.US_AQI.value
    us_latest = await _latest_hour(session, station.id, us, since) if us in standards else None
    us_before = station.us_index_value
    station.us_index_value = us_latest.value if us_latest else None
    station.us_index_category = us_latest.category if us_latest else None
    if us_latest is not None and us_before != us_latest.value:
        record_event(session, _index_event(station, us_latest, category_of(us, us_latest.value)))
    if standards and standards[0] != WQI:
        day = await session.scalar(
            select(IndexDay)
            .where(IndexDay.station_id == station.id, IndexDay.standard == standards[0])
            .order_by(IndexDay.day.desc())
            .limit(1)
        )
        station.day_index_value = day.value if day else None
        station.day_index_category = day.category if day else None
        station.day_index_day = day.day if day else None


def _apply_checks(
    session: AsyncSession,
    station: Station,
    checks: Sequence[Check],
    observed_at: datetime,
    open_rows: dict[tuple[str, str], Exceedance],
) -> None:
    for check in checks:
        key = (check.parameter, check.period)
        row = open_rows.get(key)
        if check.exceeded and row is None:
            limit = _limit_number(check.limit, check.value)
            row = Exceedance(
                station_id=station.id,
                parameter=check.parameter,
                regulation=check.regulation.value,
                period=check.period,
                limit_value=limit,
                unit=check.limit.unit,
                started_at=observed_at,
                first_value=check.value,
                peak_value=check.value,
                open_key=f"{station.id}:{check.parameter}:{check.period}",
            )
            session.add(row)
            open_rows[key] = row
            record_event(
                session,
                ExceedanceDetected(
                    station_id=station.id,
                    station_code=station.code,
                    unit_code=station.unit_code,
                    parameter=check.parameter,
                    regulation=check.regulation.value,
                    period=check.period,
                    value=round(check.value, 3),
                    limit=limit,
                    observed_at=observed_at,
                ),
            )
        elif check.exceeded and row is not None:
            if check.limit.kind is LimitKind.MIN:
                row.peak_value = min(row.peak_value, check.value)
            else:
                row.peak_value = max(row.peak_value, check.value)
        elif not check.exceeded and row is not None:
            row.ended_at = observed_at
            row.open_key = None
            del open_rows[key]
            record_event(
                session,
                ExceedanceCleared(
                    station_id=station.id,
                    station_code=station.code,
                    unit_code=station.unit_code,
                    parameter=check.parameter,
                    regulation=check.regulation.value,
                    period=check.period,
                    observed_at=observed_at,
                ),
            )
