"""Readings and places of many datastreams in one query each, for rule engines that evaluate whole batches."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Datastream, Device, Observation


class ObservationPoint(NamedTuple):
    """One reading of one datastream (a tuple: batches hold thousands of them)."""

    datastream_id: int
    time: datetime
    value: float


class DatastreamPlace(BaseModel):
    """Where a datastream is: its device, commune and position, and its latest reading."""

    datastream_id: int
    key: str
    name: str
    unit_symbol: str
    device_code: str
    device_name: str
    unit_code: str | None
    lat: float | None
    lon: float | None
    last_time: datetime | None
    last_value: float | None


async def observations_between(
    session: AsyncSession, datastream_ids: Sequence[int], start: datetime, end: datetime
) -> list[ObservationPoint]:
    """Return the readings of the given datastreams with start <= time <= end, by datastream and time."""
    if not datastream_ids:
        return []
    rows = await session.execute(
        select(Observation.datastream_id, Observation.time, Observation.value)
        .where(
            Observation.datastream_id.in_(list(datastream_ids)),
            Observation.time >= start,
            Observation.time <= end,
        )
        .order_by(Observation.datastream_id, Observation.time)
    )
    return [ObservationPoint(r[0], r[1], r[2]) for r in rows]


async def datastream_places(
    session: AsyncSession,
    *,
    datastream_ids: Sequence[int] | None = None,
    device_code: str | None = None,
    unit_code: str | None = None,
    key: str | None = None,
) -> list[DatastreamPlace]:
    """Return active devices' datastreams matching every filter given, with their device's place."""
    query = (
        select(Datastream, Device)
        .join(Device, Device.id == Datastream.device_id)
        .where(Device.is_active.is_(True))
        .order_by(Datastream.id)
    )
    if datastream_ids is not None:
        query = query.where(Datastream.id.in_(list(datastream_ids)))
    if device_code is not None:
        query = query.where(Device.code == device_code)
    if unit_code is not None:
        query = query.where(Device.unit_code == unit_code)
    if key is not None:
        query = query.where(Datastream.key == key)
    rows = await session.execute(query)
    return [
        DatastreamPlace(
            datastream_id=stream.id,
            key=stream.key,
            name=stream.name,
            unit_symbol=stream.unit_symbol,
            device_code=device.code,
            device_name=device.name,
            unit_code=device.unit_code,
            lat=device.lat,
            lon=device.lon,
            last_time=stream.last_time,
            last_value=stream.last_value,
        )
        for stream, device in rows
    ]
