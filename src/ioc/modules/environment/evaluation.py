"""Evaluation of stations after ingestion: hourly VN_AQI / VN_WQI and QCVN exceedances, from telemetry's hourly means.

The event handler only marks stations dirty and schedules one job per station per short window; the job reads
the hourly means of the hours that changed (plus the hours the NowCast and the 24-hour means look back on),
stores an index per hour, updates the station's current index and opens or closes exceedances.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.events import record_event
from ioc.core.jobs import schedule_job
from ioc.core.time import to_local, utc_now
from ioc.modules import telemetry

from .constants import (
    LOOKBACK_HOURS,
    MAX_EVALUATED_HOURS,
    RECOMPUTE_JOB,
    RECOMPUTE_WINDOW_SECONDS,
    AqiPeriod,
    AqiStandard,
    LimitKind,
    LimitPeriod,
    Pollutant,
    Regulation,
    StationKind,
)
from .events import ExceedanceCleared, ExceedanceDetected, IndexComputed
from .exceptions import CalculationRejected
from .indices import vn_aqi, vn_wqi
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
from .models import Exceedance, IndexHour, Station, StationStream
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


def air_index(series: Mapping[str, Mapping[datetime, Decimal]], hour: datetime) -> HourIndex | None:
    """Compute the hourly VN_AQI of an hour from hourly means per parameter (NowCast for particles)."""
    hours = [hour - HOUR * i for i in range(NOWCAST_HOURS - 1, -1, -1)]
    hourly: dict[Pollutant, list[Decimal | None]] = {}
    for parameter, values in series.items():
        pollutant = POLLUTANTS.get(parameter)
        if pollutant is None:
            continue
        column = [values.get(h) for h in hours]
        if any(v is not None for v in column):
            hourly[pollutant] = column
    if not hourly:
        return None
    try:
        derived = derive_inputs(hourly, AqiPeriod.HOUR, vn_aqi.DERIVATION[AqiPeriod.HOUR], vn_aqi.NOWCAST_SOURCE)
        result = vn_aqi.calculate(derived.values, AqiPeriod.HOUR, tuple(derived.notes))
    except CalculationRejected:
        return None  # e.g. no PM2.5/PM10 NowCast: 2 of the last 3 hours missing (Decision 1459)
    return HourIndex(AqiStandard.VN_AQI, result.aqi, result.category, result.dominant.value)


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
    return HourIndex("VN_WQI", result.wqi, result.category, None)


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
    # Hours that changed (and the one before the current, which the minutely rollup may not have caught up
    # with) come from the raw readings; the look-back hours before them from telemetry's hourly rollups.
    raw_from = min(first, current_hour - HOUR)
    means = await telemetry.hourly_means(
        session, list(by_id), first - HOUR * LOOKBACK_HOURS, current_hour + HOUR, raw_from=raw_from
    )
    series: dict[str, dict[datetime, float]] = {by_id[ds]: values for ds, values in means.items() if ds in by_id}
    kind = StationKind(station.kind)
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
        computed = air_index(decimals, hour) if kind is StationKind.AIR else water_index(decimals, hour)
        await _store_index(session, station.id, hour, computed, stored)
    await _update_current(session, station, now)
    if kind is not StationKind.WASTEWATER:  # QCVN 40:2011 (wastewater) is not in the reference: no checks
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
            else:
                checks = water_checks(series, hour, station.water_class)
            _apply_checks(session, station, checks, min(hour + HOUR, now), open_rows)
    station.evaluated_until = max(station.evaluated_until or current_hour, current_hour)
    # Clear the mark unless newer readings moved it meanwhile (their own job will run).
    clear = update(Station).where(Station.id == station.id)
    if dirty is not None:
        clear = clear.where(Station.dirty_from == dirty)
    await session.execute(clear.values(dirty_from=None).execution_options(synchronize_session=False))
    await session.flush()


async def schedule_now(session: AsyncSession, station_id: int) -> None:
    """Schedule an evaluation of one station right away (after registration or a manual request)."""
    await schedule_job(
        session, RECOMPUTE_JOB, {"station_id": station_id}, dedupe_key=f"{RECOMPUTE_JOB}:{station_id}:now"
    )


async def _store_index(
    session: AsyncSession,
    station_id: int,
    hour: datetime,
    computed: HourIndex | None,
    stored: dict[tuple[datetime, str], IndexHour],
) -> None:
    standard = str(computed.standard) if computed else None
    for key in [k for k in stored if k[0] == hour and k[1] != standard]:
        await session.delete(stored.pop(key))
    if computed is None or standard is None:
        return
    row = stored.get((hour, standard))
    if row is None:
        row = IndexHour(station_id=station_id, standard=standard, hour=hour, value=computed.value)
        session.add(row)
        stored[(hour, standard)] = row
    row.value = computed.value
    row.category = computed.category.code
    row.dominant = computed.dominant


def category_of(standard: str, value: int) -> Category:
    """Return the category of an index value of a standard (VN_WQI or an air index)."""
    return vn_wqi.category(value) if standard == "VN_WQI" else vn_aqi.category(value)


async def _update_current(session: AsyncSession, station: Station, now: datetime) -> None:
    await session.flush()
    latest = await session.scalar(
        select(IndexHour)
        .where(IndexHour.station_id == station.id, IndexHour.hour >= hour_of(now) - CURRENT_INDEX_MAX_AGE)
        .order_by(IndexHour.hour.desc())
        .limit(1)
    )
    before = (station.index_standard, station.index_value)
    if latest is None:
        station.index_standard = station.index_value = station.index_category = None
        station.index_colour = station.index_dominant = station.index_at = None
        return
    category = category_of(latest.standard, latest.value)
    station.index_standard = latest.standard
    station.index_value = latest.value
    station.index_category = category.code
    station.index_colour = category.hex
    station.index_dominant = latest.dominant
    station.index_at = latest.hour
    if before != (latest.standard, latest.value):
        record_event(
            session,
            IndexComputed(
                station_id=station.id,
                station_code=station.code,
                unit_code=station.unit_code,
                standard=latest.standard,
                period=AqiPeriod.HOUR.value,
                value=latest.value,
                category=category.code,
                computed_for=latest.hour,
            ),
        )


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
