"""Monitoring stations: registration on telemetry devices, lookups and the figures of the operations picture.

No HTTP here and no commit: the caller (a route, a job, a seed) commits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.events import record_event
from ioc.modules import org_unit, telemetry

from .constants import AIR_PARAMETERS, WATER_PARAMETERS, StationKind, WaterClass
from .discharge import coefficient_problems
from .events import ExceedanceCleared
from .exceptions import NoMatchingDatastream, Problem, StationCodeTaken, StationInvalid, StationNotFound
from .models import Exceedance, Station, StationStream
from .schemas import StationCreate, StationFields, StationRead, StationUpdate

# Datastream ids per query: a batch of a large deployment may name thousands, beyond a bound-parameter limit.
ID_CHUNK = 1000
# The largest id an INTEGER column holds.
MAX_ID = 2**31 - 1
# Colour of a station without a current index on maps.
NO_INDEX_COLOUR = "#9e9e9e"
# Wastewater discharges have no index: they are shown by their QCVN 40 status in the index palette's red/green.
EXCEEDING_COLOUR = "#FF0000"
COMPLIANT_COLOUR = "#00E400"


def parameters_for(kind: StationKind) -> dict[str, str]:
    """Return the datastream key → parameter mapping a station kind uses."""
    return AIR_PARAMETERS if kind is StationKind.AIR else WATER_PARAMETERS


def _read(station: Station, streams: Sequence[StationStream], open_count: int) -> StationRead:
    return StationRead(
        id=station.id,
        code=station.code,
        name=station.name,
        name_en=station.name_en,
        kind=StationKind(station.kind),
        lat=station.lat,
        lon=station.lon,
        unit_code=station.unit_code,
        device_code=station.device_code,
        water_class=station.water_class,
        discharge_column=station.discharge_column,
        kq=station.kq,
        kf=station.kf,
        us_aqi=station.us_aqi,
        is_active=station.is_active,
        datastreams={s.parameter: s.datastream_id for s in streams},
        index_standard=station.index_standard,
        index_value=station.index_value,
        index_category=station.index_category,
        index_colour=station.index_colour,
        index_dominant=station.index_dominant,
        index_at=station.index_at,
        us_index_value=station.us_index_value,
        us_index_category=station.us_index_category,
        day_index_value=station.day_index_value,
        day_index_category=station.day_index_category,
        day_index_day=station.day_index_day,
        open_exceedances=open_count,
    )


async def _streams_of(session: AsyncSession, station_ids: Sequence[int]) -> dict[int, list[StationStream]]:
    found: dict[int, list[StationStream]] = {sid: [] for sid in station_ids}
    if station_ids:
        rows = await session.scalars(
            select(StationStream)
            .where(StationStream.station_id.in_(list(station_ids)))
            .order_by(StationStream.parameter)
        )
        for row in rows:
            found[row.station_id].append(row)
    return found


async def open_counts(session: AsyncSession, station_ids: Sequence[int] | None = None) -> dict[int, int]:
    """Return how many exceedances are open per station."""
    query = select(Exceedance.station_id, func.count()).where(Exceedance.ended_at.is_(None))
    if station_ids is not None:
        query = query.where(Exceedance.station_id.in_(list(station_ids)))
    rows = await session.execute(query.group_by(Exceedance.station_id))
    return {int(sid): int(n) for sid, n in rows}


async def unit_scope(session: AsyncSession, unit_code: str | None) -> list[str] | None:
    """Return a unit's code and the codes of every unit below it (None: the whole province)."""
    if unit_code is None:
        return None
    try:
        return [unit_code, *await org_unit.units_within(session, unit_code)]
    except org_unit.UnitNotFound:
        return [unit_code]


async def list_stations(
    session: AsyncSession, kind: StationKind | None = None, unit_code: str | None = None
) -> list[StationRead]:
    """Return the active stations by code, optionally of one kind or inside one unit (and the units below it)."""
    query = select(Station).where(Station.is_active.is_(True))
    if kind is not None:
        query = query.where(Station.kind == kind.value)
    units = await unit_scope(session, unit_code)
    if units is not None:
        query = query.where(Station.unit_code.in_(units))
    stations = list(await session.scalars(query.order_by(Station.code)))
    ids = [s.id for s in stations]
    streams = await _streams_of(session, ids)
    counts = await open_counts(session, ids)
    return [_read(s, streams[s.id], counts.get(s.id, 0)) for s in stations]


async def get_station_row(session: AsyncSession, code: str) -> Station:
    """Return a station's row by code, or raise StationNotFound."""
    station = await session.scalar(select(Station).where(Station.code == code))
    if station is None:
        raise StationNotFound(code)
    return station


async def station_by_code(session: AsyncSession, code: str) -> StationRead:
    """Return a station by its code, or raise StationNotFound."""
    station = await get_station_row(session, code)
    streams = await _streams_of(session, [station.id])
    counts = await open_counts(session, [station.id])
    return _read(station, streams[station.id], counts.get(station.id, 0))


CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# How far back an edited station is re-evaluated: the charts show two days, the seed evaluates three.
REEVALUATE_HOURS = 72


def _problem(field: str, rule: str, vi: str, en: str) -> Problem:
    return Problem(field, rule, vi, en)


def _check_fields(data: StationFields) -> list[Problem]:
    """Return every problem of a station's settings that needs no database (Vietnamese first)."""
    problems: list[Problem] = []
    if not data.name.strip():
        problems.append(_problem("name", "required", "Nhập tên trạm.", "Enter the station's name."))
    if (data.lat is None) != (data.lon is None):
        problems.append(
            _problem(
                "lat",
                "both_coordinates",
                "Nhập cả vĩ độ và kinh độ (hoặc chọn trên bản đồ).",
                "Enter both latitude and longitude (or pick them on the map).",
            )
        )
    if data.lat is not None and not -90 <= data.lat <= 90:
        problems.append(_problem("lat", "range", "Vĩ độ phải từ -90 đến 90.", "Latitude must be between -90 and 90."))
    if data.lon is not None and not -180 <= data.lon <= 180:
        problems.append(
            _problem("lon", "range", "Kinh độ phải từ -180 đến 180.", "Longitude must be between -180 and 180.")
        )
    kind = data.kind
    if data.water_class is not None and kind is not StationKind.SURFACE_WATER:
        problems.append(
            _problem(
                "water_class",
                "not_for_kind",
                "Mức QCVN 08:2023 chỉ dùng cho trạm nước mặt.",
                "The QCVN 08:2023 level applies to surface-water stations only.",
            )
        )
    if data.water_class is WaterClass.D:
        problems.append(
            _problem(
                "water_class",
                "class_d_is_not_a_target",
                "Mức D không có giới hạn riêng; chọn A, B hoặc C.",
                "Level D has no limits of its own; choose A, B or C.",
            )
        )
    if kind is StationKind.WASTEWATER:
        if data.discharge_column is None:
            problems.append(
                _problem(
                    "discharge_column",
                    "required",
                    "Chọn cột A hoặc B của QCVN 40:2011/BTNMT (A: xả vào nguồn nước dùng cho cấp nước sinh hoạt).",
                    "Choose column A or B of QCVN 40:2011/BTNMT (A: discharges into water used for drinking supply).",
                )
            )
        problems.extend(coefficient_problems(data.kq, data.kf))
    elif data.discharge_column is not None or data.kq is not None or data.kf is not None:
        problems.append(
            _problem(
                "discharge_column",
                "not_for_kind",
                "Cột A/B và hệ số Kq, Kf chỉ dùng cho trạm nước thải.",
                "Column A/B and the Kq, Kf coefficients apply to wastewater stations only.",
            )
        )
    if data.us_aqi and kind is not StationKind.AIR:
        problems.append(
            _problem(
                "us_aqi",
                "not_for_kind",
                "US AQI chỉ tính cho trạm không khí.",
                "The US AQI applies to air stations only.",
            )
        )
    return problems


async def _resolve_streams(
    session: AsyncSession, kind: StationKind, wanted: dict[str, int], problems: list[Problem]
) -> dict[str, telemetry.DatastreamRead]:
    """Check chosen datastreams: known parameters of the kind, existing datastreams, at least one measured value."""
    allowed = set(parameters_for(kind).values())
    found: dict[str, telemetry.DatastreamRead] = {}
    for parameter, datastream_id in sorted(wanted.items()):
        if parameter not in allowed:
            problems.append(
                _problem(
                    f"datastreams.{parameter}",
                    "unknown_parameter",
                    f"Trạm loại này không dùng thông số {parameter}; các thông số: {', '.join(sorted(allowed))}.",
                    f"This kind of station has no parameter {parameter}; parameters: {', '.join(sorted(allowed))}.",
                )
            )
            continue
        stream = None
        # An id beyond the column's range is simply unknown (never a database error).
        if 0 < datastream_id <= MAX_ID:
            try:
                stream = await telemetry.get_datastream(session, datastream_id)
            except telemetry.DatastreamNotFound:
                stream = None
        if stream is None:
            problems.append(
                _problem(
                    f"datastreams.{parameter}",
                    "unknown_datastream",
                    f"Không có luồng dữ liệu số {datastream_id}.",
                    f"No datastream {datastream_id}.",
                )
            )
        else:
            found[parameter] = stream
    if not problems and not any(p != "temperature" for p in found):
        problems.append(
            _problem(
                "datastreams",
                "required",
                "Chọn ít nhất một luồng dữ liệu đo thông số môi trường.",
                "Choose at least one datastream measuring an environmental parameter.",
            )
        )
    return found


async def _link(session: AsyncSession, station: Station, streams: dict[str, telemetry.DatastreamRead]) -> None:
    existing = {
        row.parameter: row
        for row in await session.scalars(select(StationStream).where(StationStream.station_id == station.id))
    }
    for parameter, old in existing.items():
        if parameter not in streams:
            await session.delete(old)
    for parameter, stream in sorted(streams.items()):
        row = existing.get(parameter)
        if row is None:
            session.add(
                StationStream(
                    station_id=station.id,
                    parameter=parameter,
                    datastream_id=stream.id,
                    unit_symbol=stream.unit_symbol,
                )
            )
        elif row.datastream_id != stream.id:
            row.datastream_id = stream.id
            row.unit_symbol = stream.unit_symbol


async def _unit_at(session: AsyncSession, lat: float, lon: float) -> str | None:
    """Return the code of the smallest unit holding a point (None outside the province or without boundaries)."""
    unit = await org_unit.locate_point(session, lat, lon)
    return unit.code if unit else None


def _apply(station: Station, data: StationFields) -> None:
    station.name = data.name.strip()
    station.name_en = (data.name_en or "").strip() or None
    station.kind = data.kind.value
    station.water_class = data.water_class.value if data.water_class else None
    station.discharge_column = data.discharge_column.value if data.discharge_column else None
    station.kq = data.kq if data.kind is StationKind.WASTEWATER else None
    station.kf = data.kf if data.kind is StationKind.WASTEWATER else None
    station.us_aqi = data.us_aqi


async def create_station(session: AsyncSession, data: StationCreate) -> StationRead:
    """Register a station on a telemetry device (its datastreams linked by key) or on chosen datastreams.

    Raises StationInvalid naming every faulty field, StationCodeTaken, DeviceNotFound or NoMatchingDatastream.
    """
    problems = _check_fields(data)
    if not CODE_PATTERN.match(data.code):
        problems.append(
            _problem(
                "code",
                "pattern",
                "Mã trạm gồm chữ không dấu, số, dấu chấm, gạch ngang (tối đa 64 ký tự).",
                "The code has letters without accents, digits, dots, dashes (at most 64 characters).",
            )
        )
    if not data.device_code and data.datastreams is None:
        problems.append(
            _problem(
                "device_code",
                "required",
                "Chọn thiết bị quan trắc hoặc các luồng dữ liệu của trạm.",
                "Choose a telemetry device or the station's datastreams.",
            )
        )
    if problems:
        raise StationInvalid(problems)
    if await session.scalar(select(Station.id).where(Station.code == data.code)) is not None:
        raise StationCodeTaken(data.code)
    device = await telemetry.get_device(session, data.device_code) if data.device_code else None
    if data.datastreams is not None:
        links = await _resolve_streams(session, data.kind, data.datastreams, problems)
        if problems:
            raise StationInvalid(problems)
    else:
        assert device is not None  # checked above: a device or datastreams
        known = parameters_for(data.kind)
        by_key = {known[s.key]: s for s in device.datastreams if s.key in known}
        if not any(p != "temperature" for p in by_key):
            raise NoMatchingDatastream(device.code, data.kind.value)
        links = by_key
    station = Station(
        code=data.code,
        lat=data.lat if data.lat is not None else (device.lat if device else None),
        lon=data.lon if data.lon is not None else (device.lon if device else None),
        unit_code=device.unit_code if device else None,
        device_code=device.code if device else None,
        is_active=True,
    )
    _apply(station, data)
    if data.lat is not None and data.lon is not None:
        station.unit_code = await _unit_at(session, data.lat, data.lon) or station.unit_code
    session.add(station)
    await session.flush()
    await _link(session, station, links)
    # Evaluate the readings the datastreams already have.
    station.dirty_from = min((s.last_time for s in links.values() if s.last_time), default=None)
    await session.flush()
    return await station_by_code(session, station.code)


async def _close_exceedances(session: AsyncSession, station: Station, now: datetime) -> None:
    """Close a station's open exceedances when it changes kind or stops: its old limits no longer apply to it."""
    rows = await session.scalars(
        select(Exceedance).where(Exceedance.station_id == station.id, Exceedance.ended_at.is_(None))
    )
    for row in rows:
        row.ended_at = now
        row.open_key = None
        record_event(
            session,
            ExceedanceCleared(
                station_id=station.id,
                station_code=station.code,
                unit_code=station.unit_code,
                parameter=row.parameter,
                regulation=row.regulation,
                period=row.period,
                observed_at=now,
            ),
        )


async def update_station(session: AsyncSession, code: str, data: StationUpdate, now: datetime) -> StationRead:
    """Change a station's settings and links; its recent hours are evaluated again with them."""
    station = await get_station_row(session, code)
    problems = _check_fields(data)
    if problems:
        raise StationInvalid(problems)
    if data.datastreams is not None:
        links = await _resolve_streams(session, data.kind, data.datastreams, problems)
        if problems:
            raise StationInvalid(problems)
        await _link(session, station, links)
    elif data.kind.value != station.kind:
        allowed = set(parameters_for(data.kind).values())
        rows = list(await session.scalars(select(StationStream).where(StationStream.station_id == station.id)))
        if not any(row.parameter in allowed and row.parameter != "temperature" for row in rows):
            raise StationInvalid(
                [
                    _problem(
                        "datastreams",
                        "required",
                        "Loại trạm mới cần chọn lại luồng dữ liệu.",
                        "The new kind of station needs its datastreams chosen again.",
                    )
                ]
            )
        for row in rows:
            if row.parameter not in allowed:
                await session.delete(row)
    if data.kind.value != station.kind or not data.is_active:
        await _close_exceedances(session, station, now)
    _apply(station, data)
    if data.lat is not None and data.lon is not None:
        station.lat, station.lon = data.lat, data.lon
    if station.lat is not None and station.lon is not None:
        station.unit_code = await _unit_at(session, station.lat, station.lon) or station.unit_code
    station.is_active = data.is_active
    hour = now.replace(minute=0, second=0, microsecond=0)
    station.dirty_from = hour - timedelta(hours=REEVALUATE_HOURS - 1)
    await session.flush()
    return await station_by_code(session, station.code)


async def stations_for_datastreams(session: AsyncSession, datastream_ids: Sequence[int]) -> list[int]:
    """Return the ids of the active stations fed by any of these datastreams."""
    found: set[int] = set()
    ids = sorted(set(datastream_ids))
    for offset in range(0, len(ids), ID_CHUNK):
        rows = await session.scalars(
            select(StationStream.station_id)
            .join(Station, Station.id == StationStream.station_id)
            .where(StationStream.datastream_id.in_(ids[offset : offset + ID_CHUNK]), Station.is_active.is_(True))
            .distinct()
        )
        found.update(int(r) for r in rows)
    return sorted(found)


def _colour_without_index(station: StationRead) -> str:
    """Colour a wastewater discharge (no index) by its QCVN 40 status: red while a limit is exceeded, else green."""
    if station.kind is StationKind.WASTEWATER and station.is_active and station.discharge_column:
        return EXCEEDING_COLOUR if station.open_exceedances else COMPLIANT_COLOUR
    return NO_INDEX_COLOUR


def feature(station: StationRead, lang: str, links: bool = True) -> dict[str, Any]:
    """Return a station as a GeoJSON point with compact, public properties (and its staff page when `links`)."""
    properties: dict[str, Any] = {
        "code": station.code,
        "name": station.display_name(lang),
        "kind": station.kind.value,
        "standard": station.index_standard,
        "index": station.index_value,
        "category": station.index_category,
        "colour": station.index_colour or _colour_without_index(station),
        "exceedances": station.open_exceedances,
    }
    if links:
        properties["url"] = f"/environment/stations/{station.code}"
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [station.lon, station.lat]},
        "properties": properties,
    }


def feature_collection(stations: Sequence[StationRead], lang: str, links: bool = True) -> dict[str, Any]:
    """Return the stations that have a location as a GeoJSON FeatureCollection."""
    return {
        "type": "FeatureCollection",
        "features": [feature(s, lang, links) for s in stations if s.lat is not None and s.lon is not None],
    }
