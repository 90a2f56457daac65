"""What the station pages and their API show: newest readings, chart series, exceedances and quality flags."""

from __future__ import annotations

import itertools
import statistics
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.time import to_local, utc_now
from ioc.modules import telemetry

from .constants import AqiStandard, QualityFlagKind, StationKind
from .evaluation import WQI, category_of, hour_of
from .indices import us_aqi, vn_aqi
from .models import Exceedance, IndexDay, IndexHour
from .quality import GAP_TOLERANCE, Reading, assess
from .schemas import ExceedanceRead, ParameterLatest, PublicStation, StationRead

HOUR = timedelta(hours=1)
QUALITY_WINDOW = timedelta(hours=24)
QUALITY_MAX_FLAGS = 20
# Sensor noise of a few per cent is normal: only a jump of half the series' typical level counts as a spike.
SPIKE_MIN_RELATIVE = 0.5
# Readings closer than this are a burst, not a cadence; a station silent for longer than this is flagged.
MIN_EXPECTED_INTERVAL = timedelta(seconds=10)
MIN_SILENCE = timedelta(minutes=15)


def category_name(standard: str | None, value: int | None, lang: str) -> str:
    """Return the name of the category an index value falls in, in the page language."""
    if standard is None or value is None:
        return ""
    return category_of(standard, value).name(lang)


def primary_standard(station: StationRead) -> str:
    """Return the index a station is coloured by: VN_AQI for air, VN_WQI for water."""
    return AqiStandard.VN_AQI.value if station.kind is StationKind.AIR else WQI


def public_station(station: StationRead) -> PublicStation:
    """Return what the public may see of a station."""
    return PublicStation(
        code=station.code,
        name=station.name,
        lat=station.lat,
        lon=station.lon,
        standard=station.index_standard,
        value=station.index_value,
        category=station.index_category,
        colour=station.index_colour,
        dominant=station.index_dominant,
        at=station.index_at,
        us_value=station.us_index_value,
        us_category=station.us_index_category,
        us_colour=None if station.us_index_value is None else us_aqi.category(station.us_index_value).hex,
        day_value=station.day_index_value,
        day_category=station.day_index_category,
        day_colour=None if station.day_index_value is None else vn_aqi.category(station.day_index_value).hex,
        day=station.day_index_day,
    )


async def _streams(session: AsyncSession, station: StationRead) -> dict[str, telemetry.DatastreamRead]:
    by_id = {ds: p for p, ds in station.datastreams.items()}
    found = await telemetry.list_datastreams(session, device_code=station.device_code) if station.device_code else []
    streams = {by_id[s.id]: s for s in found if s.id in by_id}
    # Datastreams linked by hand may belong to other devices.
    for datastream_id, parameter in by_id.items():
        if parameter not in streams:
            try:
                streams[parameter] = await telemetry.get_datastream(session, datastream_id)
            except telemetry.DatastreamNotFound:
                continue
    return streams


async def latest(session: AsyncSession, station: StationRead) -> list[ParameterLatest]:
    """Return the newest reading of each of a station's parameters."""
    streams = await _streams(session, station)
    return [
        ParameterLatest(
            parameter=parameter,
            datastream_id=stream.id,
            unit=stream.unit_symbol,
            value=stream.last_value,
            time=stream.last_time,
        )
        for parameter, stream in sorted(streams.items())
    ]


async def chart(session: AsyncSession, station: StationRead, hours: int) -> dict[str, Any]:
    """Return the last hours of the index and of every parameter as aligned series (Unix seconds, nulls for gaps)."""
    end = hour_of(utc_now()) + HOUR
    start = end - HOUR * hours
    buckets = [start + HOUR * i for i in range(hours)]
    ids = {ds: p for p, ds in station.datastreams.items()}
    means = await telemetry.hourly_means(session, list(ids), start, end)
    index = {
        row.hour: row.value
        for row in await session.scalars(
            select(IndexHour).where(
                IndexHour.station_id == station.id,
                IndexHour.standard == primary_standard(station),
                IndexHour.hour >= start,
                IndexHour.hour < end,
            )
        )
    }
    parameters = sorted(ids.values())
    series = {ids[ds]: values for ds, values in means.items() if ds in ids}
    return {
        "times": [int(b.timestamp()) for b in buckets],
        "bucketSeconds": 3600,
        "index": {"label": primary_standard(station), "values": [index.get(b) for b in buckets]},
        "parameters": [
            {
                "label": p,
                "values": [None if b not in series.get(p, {}) else round(series[p][b], 3) for b in buckets],
            }
            for p in parameters
        ],
    }


async def exceedances(session: AsyncSession, station: StationRead, limit: int) -> list[ExceedanceRead]:
    """Return a station's exceedances, open ones first, then newest first."""
    rows = await session.scalars(
        select(Exceedance)
        .where(Exceedance.station_id == station.id)
        .order_by(Exceedance.ended_at.is_(None).desc(), Exceedance.started_at.desc(), Exceedance.id.desc())
        .limit(limit)
    )
    return [ExceedanceRead.model_validate(row) for row in rows]


def _merge_gaps(flags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join gap flags of a parameter that touch each other into one stretch (a long silence is one problem)."""
    merged: list[dict[str, Any]] = []
    for flag in sorted(flags, key=lambda f: (f["parameter"], f["kind"], f["start"])):
        last = merged[-1] if merged else None
        if (
            last is not None
            and flag["kind"] == QualityFlagKind.GAP.value
            and last["kind"] == flag["kind"]
            and last["parameter"] == flag["parameter"]
            and flag["start"] <= last["end"]
        ):
            last["end"] = max(last["end"], flag["end"])
            last["merged"] = True
            continue
        merged.append(dict(flag))
    return merged


def _silence_flag(parameter: str, since: datetime | None, end: datetime, lang: str) -> dict[str, Any]:
    if since is None:
        vi, en = "Chưa từng có số liệu.", "No data ever received."
    else:
        local = to_local(since)
        vi = f"Không có số liệu từ {local:%H:%M %d/%m}."
        en = f"No data since {local:%H:%M %d/%m}."
    return {
        "parameter": parameter,
        "kind": QualityFlagKind.GAP.value,
        "start": since or end - QUALITY_WINDOW,
        "end": end,
        "message": en if lang == "en" else vi,
    }


async def quality_flags(session: AsyncSession, station: StationRead, lang: str) -> list[dict[str, Any]]:
    """Check the last 24 hours of raw readings of each parameter (flat lines, spikes, out of range, gaps)."""
    end = utc_now()
    flags: list[dict[str, Any]] = []
    for parameter, stream in sorted((await _streams(session, station)).items()):
        series = await telemetry.series(session, stream.id, end - QUALITY_WINDOW, end)
        if series.resolution is not telemetry.Resolution.RAW:
            continue  # too many readings for a raw check on a page
        readings = [Reading(at=point.time, value=point.value) for point in series.points]
        if not readings:
            flags.append(_silence_flag(parameter, stream.last_time, end, lang))
            continue
        typical = abs(statistics.median(point.value for point in series.points))
        steps = [(later.at - earlier.at).total_seconds() for earlier, later in itertools.pairwise(readings)]
        # The device's own cadence (median step) is what a gap is measured against; no regulation fixes it.
        expected = max(timedelta(seconds=statistics.median(steps)), MIN_EXPECTED_INTERVAL) if steps else None
        found = assess(
            readings,
            valid_range=(stream.valid_min, stream.valid_max),
            spike_min_delta=SPIKE_MIN_RELATIVE * typical,
            expected_interval=expected,
        )
        for flag in found:
            flags.append(
                {
                    "parameter": parameter,
                    "kind": flag.kind.value,
                    "start": flag.start,
                    "end": flag.end,
                    "message": flag.message_en if lang == "en" else flag.message_vi,
                }
            )
        silent_after = max(expected * GAP_TOLERANCE, MIN_SILENCE) if expected else MIN_SILENCE
        if end - readings[-1].at > silent_after:
            flags.append(_silence_flag(parameter, readings[-1].at, end, lang))
    flags = _merge_gaps(flags)
    for item in flags:
        if item.pop("merged", False):
            local_start, local_end = to_local(item["start"]), to_local(item["end"])
            item["message"] = (
                f"Missing data from {local_start:%H:%M %d/%m} to {local_end:%H:%M %d/%m}."
                if lang == "en"
                else f"Thiếu số liệu từ {local_start:%H:%M %d/%m} đến {local_end:%H:%M %d/%m}."
            )
    flags.sort(key=lambda f: f["start"], reverse=True)
    return flags[:QUALITY_MAX_FLAGS]


async def daily_indices(session: AsyncSession, station: StationRead, days: int) -> list[dict[str, Any]]:
    """Return a station's stored daily indices of the last days, newest first, with their category colour."""
    rows = await session.scalars(
        select(IndexDay)
        .where(IndexDay.station_id == station.id)
        .order_by(IndexDay.day.desc(), IndexDay.standard.desc())  # VN_AQI first, the national index
        .limit(days * 2)
    )
    return [
        {
            "day": row.day,
            "standard": row.standard,
            "value": row.value,
            "category": category_of(row.standard, row.value),
            "dominant": row.dominant,
        }
        for row in rows
    ]
