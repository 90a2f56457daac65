"""Monitoring stations: registration on telemetry devices, lookups and the figures of the operations picture.

No HTTP here and no commit: the caller (a route, a job, a seed) commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.modules import org_unit, telemetry

from .constants import AIR_PARAMETERS, WATER_PARAMETERS, StationKind
from .exceptions import NoMatchingDatastream, StationCodeTaken, StationNotFound
from .models import Exceedance, Station, StationStream
from .schemas import StationCreate, StationRead

# Datastream ids per query: a batch of a large deployment may name thousands, beyond a bound-parameter limit.
ID_CHUNK = 1000
# Colour of a station without a current index on maps.
NO_INDEX_COLOUR = "#9e9e9e"


def parameters_for(kind: StationKind) -> dict[str, str]:
    """Return the datastream key → parameter mapping a station kind uses."""
    return AIR_PARAMETERS if kind is StationKind.AIR else WATER_PARAMETERS


def _read(station: Station, streams: Sequence[StationStream], open_count: int) -> StationRead:
    return StationRead(
        id=station.id,
        code=station.code,
        name=station.name,
        kind=StationKind(station.kind),
        lat=station.lat,
        lon=station.lon,
        unit_code=station.unit_code,
        device_code=station.device_code,
        water_class=station.water_class,
        datastreams={s.parameter: s.datastream_id for s in streams},
        index_standard=station.index_standard,
        index_value=station.index_value,
        index_category=station.index_category,
        index_colour=station.index_colour,
        index_dominant=station.index_dominant,
        index_at=station.index_at,
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


async def create_station(session: AsyncSession, data: StationCreate) -> StationRead:
    """Register a station on a telemetry device, linking the device's datastreams the station kind knows."""
    if await session.scalar(select(Station.id).where(Station.code == data.code)) is not None:
        raise StationCodeTaken(data.code)
    device = await telemetry.get_device(session, data.device_code)
    known = parameters_for(data.kind)
    links = {known[s.key]: s for s in device.datastreams if s.key in known}
    if not any(p != "temperature" for p in links):
        raise NoMatchingDatastream(data.device_code, data.kind.value)
    station = Station(
        code=data.code,
        name=data.name,
        kind=data.kind.value,
        lat=device.lat,
        lon=device.lon,
        unit_code=device.unit_code,
        device_code=device.code,
        water_class=data.water_class.value if data.water_class and data.kind is StationKind.SURFACE_WATER else None,
        is_active=True,
    )
    session.add(station)
    await session.flush()
    for parameter, stream in sorted(links.items()):
        session.add(
            StationStream(
                station_id=station.id, parameter=parameter, datastream_id=stream.id, unit_symbol=stream.unit_symbol
            )
        )
    # Evaluate the readings the device already has.
    station.dirty_from = min((s.last_time for s in links.values() if s.last_time), default=None)
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


def feature(station: StationRead, lang: str, links: bool = True) -> dict[str, Any]:
    """Return a station as a GeoJSON point with compact, public properties (and its staff page when `links`)."""
    properties: dict[str, Any] = {
        "code": station.code,
        "name": station.name,
        "kind": station.kind.value,
        "standard": station.index_standard,
        "index": station.index_value,
        "category": station.index_category,
        "colour": station.index_colour or NO_INDEX_COLOUR,
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
