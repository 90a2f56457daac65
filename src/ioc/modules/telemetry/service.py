"""Business rules of the telemetry module: registry, queries, rollups, retention, offline detection.

No HTTP here and no commit: the caller (a route, a job, a command) commits.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.events import record_event
from ioc.core.http import Page, PageParams
from ioc.core.time import PROVINCE_TZ, to_local, utc_now
from ioc.modules import org_unit

from . import partitions, repository
from .constants import (
    DATASTREAM_KEY_PATTERN,
    DEFAULT_QUERY_RANGE,
    DEFAULT_RETENTION_DAYS,
    DEVICE_CODE_PATTERN,
    DEVICE_TOKEN_PREFIX,
    HOURLY_MAX_RANGE,
    IMPORT_COLUMNS,
    MAX_POINTS,
    MAX_RETENTION_DAYS,
    RAW_MAX_RANGE,
    ROLLUP_MAX_HOURS_PER_RUN,
    DeviceStatus,
    Resolution,
)
from .events import DeviceWentOffline
from .exceptions import (
    DatastreamKeyTaken,
    DatastreamNotFound,
    DeadLetterNotFound,
    DeviceCodeTaken,
    DeviceImportFailed,
    DeviceNotFound,
    IncompleteLocation,
    InvalidDeviceToken,
    InvalidPeriod,
    TooManyPoints,
)
from .models import Datastream, Device
from .schemas import (
    DatastreamCreate,
    DatastreamRead,
    DeadLetterFilters,
    DeadLetterRead,
    DeviceCreate,
    DeviceCreated,
    DeviceFilters,
    DeviceImportReport,
    DeviceRead,
    DeviceToken,
    DeviceUpdate,
    ImportProblem,
    Series,
    SeriesPoint,
)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# Dead letters are kept this long, then removed by the retention job.
DEAD_LETTER_RETENTION = timedelta(days=90)


# --- tokens and status ------------------------------------------------------------------------------------------


def token_digest(token: str) -> str:
    """Return the SHA-256 digest stored in place of a device token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_device_token() -> str:
    """Return a fresh random device token (256 bits)."""
    return DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)


async def authenticate_device(session: AsyncSession, token: str | None) -> int:
    """Return the id of the active device a token belongs to, or raise InvalidDeviceToken."""
    if not token or not token.startswith(DEVICE_TOKEN_PREFIX) or len(token) > 200:
        raise InvalidDeviceToken()
    found = await repository.device_id_by_token_hash(session, token_digest(token))
    if found is None or not found[1]:
        raise InvalidDeviceToken()
    return found[0]


def device_status(device: Device, now: datetime) -> DeviceStatus:
    """Tell whether a device is online from when it was last heard from and its own threshold."""
    if not device.is_active:
        return DeviceStatus.DISABLED
    if device.last_seen_at is None:
        return DeviceStatus.NEVER_SEEN
    if now - device.last_seen_at <= timedelta(minutes=device.offline_after_minutes):
        return DeviceStatus.ONLINE
    return DeviceStatus.OFFLINE


def _datastream_read(stream: Datastream, device_code: str) -> DatastreamRead:
    return DatastreamRead(
        id=stream.id,
        device_id=stream.device_id,
        device_code=device_code,
        key=stream.key,
        name=stream.name,
        observed_property=stream.observed_property,
        observed_property_definition=stream.observed_property_definition,
        unit_name=stream.unit_name,
        unit_symbol=stream.unit_symbol,
        unit_definition=stream.unit_definition,
        sensor=stream.sensor,
        valid_min=stream.valid_min,
        valid_max=stream.valid_max,
        retention_days=stream.retention_days,
        last_value=stream.last_value,
        last_time=stream.last_time,
    )


def _device_read(device: Device, streams: Sequence[Datastream], now: datetime) -> DeviceRead:
    return DeviceRead(
        id=device.id,
        code=device.code,
        name=device.name,
        description=device.description,
        lat=device.lat,
        lon=device.lon,
        unit_code=device.unit_code,
        offline_after_minutes=device.offline_after_minutes,
        last_seen_at=device.last_seen_at,
        status=device_status(device, now),
        is_active=device.is_active,
        properties=dict(device.properties or {}),
        created_at=device.created_at,
        datastreams=[_datastream_read(s, device.code) for s in streams],
    )


async def unit_names(session: AsyncSession, codes: Sequence[str | None], lang: str = "vi") -> dict[str, str]:
    """Return the names of the communes with these codes (for pages)."""
    names: dict[str, str] = {}
    for code in sorted({code for code in codes if code}):
        unit = await org_unit.get_unit(session, code)
        if unit is not None:
            names[code] = unit.name_en if lang == "en" and unit.name_en else unit.name
    return names


async def _unit_code(session: AsyncSession, lat: float | None, lon: float | None) -> str | None:
    if lat is None or lon is None:
        return None
    unit = await org_unit.locate_point(session, lat, lon)
    return unit.code if unit else None


# --- registry ----------------------------------------------------------------------------------------------------


def _new_stream(device_id: int, data: DatastreamCreate) -> Datastream:
    return Datastream(device_id=device_id, **data.model_dump())


async def _fresh_token_hash(session: AsyncSession) -> tuple[str, str]:
    while True:
        token = new_device_token()
        digest = token_digest(token)
        if not await repository.token_hash_taken(session, digest):
            return token, digest


async def create_device(session: AsyncSession, data: DeviceCreate) -> DeviceCreated:
    """Register a device with its datastreams; its token is returned here once."""
    if await repository.get_device(session, data.code) is not None:
        raise DeviceCodeTaken(data.code)
    token, digest = await _fresh_token_hash(session)
    device = Device(
        code=data.code,
        name=data.name,
        description=data.description,
        lat=data.lat,
        lon=data.lon,
        unit_code=await _unit_code(session, data.lat, data.lon),
        token_hash=digest,
        offline_after_minutes=data.offline_after_minutes,
        properties=data.properties,
        is_active=True,
        is_online=False,
    )
    session.add(device)
    await session.flush()
    streams = [_new_stream(device.id, stream) for stream in data.datastreams]
    session.add_all(streams)
    await session.flush()
    return DeviceCreated(device=_device_read(device, streams, utc_now()), token=token)


async def _device_or_404(session: AsyncSession, code: str) -> Device:
    device = await repository.get_device(session, code)
    if device is None:
        raise DeviceNotFound(code)
    return device


async def get_device(session: AsyncSession, code: str) -> DeviceRead:
    """Return a device with its datastreams and latest values."""
    device = await _device_or_404(session, code)
    return _device_read(device, await repository.datastreams_of(session, [device.id]), utc_now())


async def update_device(session: AsyncSession, code: str, data: DeviceUpdate) -> DeviceRead:
    """Change a device's description, location, threshold or activity."""
    device = await _device_or_404(session, code)
    changes = data.model_dump(exclude_unset=True)
    lat, lon = changes.get("lat", device.lat), changes.get("lon", device.lon)
    if (lat is None) != (lon is None):
        raise IncompleteLocation()
    for name, value in changes.items():
        setattr(device, name, value)
    if "lat" in changes or "lon" in changes:
        device.unit_code = await _unit_code(session, lat, lon)
    if changes.get("is_active") is False:
        device.is_online = False  # a disabled device is not announced as going offline
    await session.flush()
    return _device_read(device, await repository.datastreams_of(session, [device.id]), utc_now())


async def rotate_token(session: AsyncSession, code: str) -> DeviceToken:
    """Issue a new token for a device; the old one stops working at once."""
    device = await _device_or_404(session, code)
    token, digest = await _fresh_token_hash(session)
    device.token_hash = digest
    await session.flush()
    return DeviceToken(device_code=device.code, token=token)


async def add_datastream(session: AsyncSession, code: str, data: DatastreamCreate) -> DatastreamRead:
    """Declare a new datastream on a device."""
    device = await _device_or_404(session, code)
    existing = await repository.datastreams_of(session, [device.id])
    if any(stream.key == data.key for stream in existing):
        raise DatastreamKeyTaken(code, data.key)
    stream = _new_stream(device.id, data)
    session.add(stream)
    await session.flush()
    return _datastream_read(stream, device.code)


async def list_devices(session: AsyncSession, filters: DeviceFilters, page: PageParams) -> Page[DeviceRead]:
    """List devices with their status and latest values, filtered and paged."""
    now = utc_now()
    devices = await repository.list_devices(session, q=filters.q, unit_code=filters.unit_code)
    if filters.status is not None:
        devices = [d for d in devices if device_status(d, now) is filters.status]
    window = devices[page.offset : page.offset + page.limit]
    streams: dict[int, list[Datastream]] = defaultdict(list)
    for stream in await repository.datastreams_of(session, [d.id for d in window]):
        streams[stream.device_id].append(stream)
    items = [_device_read(d, streams[d.id], now) for d in window]
    return Page[DeviceRead](items=items, total=len(devices), limit=page.limit, offset=page.offset)


async def status_counts(session: AsyncSession) -> dict[DeviceStatus, int]:
    """Count devices by status."""
    now = utc_now()
    counts = dict.fromkeys(DeviceStatus, 0)
    for device in await repository.list_devices(session):
        counts[device_status(device, now)] += 1
    return counts


async def list_datastreams(
    session: AsyncSession, device_code: str | None = None, key: str | None = None, observed_property: str | None = None
) -> list[DatastreamRead]:
    """List datastreams with their latest values."""
    rows = await repository.list_datastreams(session, device_code, key, observed_property)
    return [_datastream_read(stream, code) for stream, code in rows]


async def get_datastream(session: AsyncSession, datastream_id: int) -> DatastreamRead:
    """Return one datastream with its latest value."""
    found = await repository.get_datastream(session, datastream_id)
    if found is None:
        raise DatastreamNotFound(datastream_id)
    return _datastream_read(*found)


# --- provisioning from CSV ---------------------------------------------------------------------------------------


@dataclass
class _ImportDevice:
    code: str
    name: str
    lat: float | None
    lon: float | None
    row: int
    streams: list[DatastreamCreate]


def _problem(row: int | None, column: str | None, vi: str, en: str) -> ImportProblem:
    return ImportProblem(row=row, column=column, message_vi=vi, message_en=en)


def _number(text: str) -> float:
    cleaned = text.strip().replace(" ", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")  # a decimal comma, as Vietnamese spreadsheets write it
    value = float(cleaned)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _read_csv(data: bytes) -> list[dict[str, str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DeviceImportFailed(
            [_problem(None, None, "Tệp không phải văn bản UTF-8.", "The file is not UTF-8 text.")]
        ) from exc
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    try:
        return _read_rows(reader)
    except csv.Error as exc:
        # A cell over the csv module's field limit, or a broken quote: a fault of the file, not of the server.
        raise DeviceImportFailed(
            [
                _problem(
                    reader.line_num or None,
                    None,
                    "Tệp CSV hỏng (ô quá dài hoặc dấu ngoặc kép sai).",
                    f"The CSV file is broken: {exc}.",
                )
            ]
        ) from exc


def _read_rows(reader: csv.DictReader[str]) -> list[dict[str, str]]:
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in ("device_code", "name", "datastream_key", "observed_property") if name not in header]
    if missing:
        raise DeviceImportFailed(
            [
                _problem(
                    1,
                    name,
                    f"Thiếu cột {name}. Các cột: {', '.join(IMPORT_COLUMNS)}.",
                    f"Column {name} is missing. Columns: {', '.join(IMPORT_COLUMNS)}.",
                )
                for name in missing
            ]
        )
    return [{(k or "").strip(): (v or "").strip() for k, v in row.items() if isinstance(v, str)} for row in reader]


def _parse_import_row(
    row: dict[str, str], number: int, problems: list[ImportProblem]
) -> tuple[str, str, float | None, float | None, DatastreamCreate] | None:
    before = len(problems)
    code, name, key = row.get("device_code", ""), row.get("name", ""), row.get("datastream_key", "")
    if not re.match(DEVICE_CODE_PATTERN, code):
        problems.append(
            _problem(
                number,
                "device_code",
                f"Mã thiết bị {code!r} không hợp lệ (chữ, số, . _ -; tối đa 64 ký tự).",
                f"Device code {code!r} is invalid (letters, digits, . _ -; at most 64 characters).",
            )
        )
    if not name:
        problems.append(_problem(number, "name", "Thiếu tên thiết bị.", "The device name is missing."))
    if not re.match(DATASTREAM_KEY_PATTERN, key):
        problems.append(
            _problem(
                number, "datastream_key", f"Khoá dữ liệu {key!r} không hợp lệ.", f"Datastream key {key!r} is invalid."
            )
        )
    if not row.get("observed_property"):
        problems.append(
            _problem(number, "observed_property", "Thiếu đại lượng quan trắc.", "The observed property is missing.")
        )
    numbers: dict[str, float | None] = {}
    for column in ("lat", "lon", "valid_min", "valid_max", "retention_days"):
        text = row.get(column, "")
        if not text:
            numbers[column] = None
            continue
        try:
            numbers[column] = _number(text)
        except ValueError:
            problems.append(
                _problem(number, column, f"{column}: {text!r} không phải số.", f"{column}: {text!r} is not a number.")
            )
    lat, lon = numbers.get("lat"), numbers.get("lon")
    if (lat is None) != (lon is None):
        problems.append(
            _problem(number, "lat", "Vĩ độ và kinh độ phải đi cùng nhau.", "Latitude and longitude go together.")
        )
    if lat is not None and not -90 <= lat <= 90:
        problems.append(_problem(number, "lat", "Vĩ độ phải trong khoảng -90..90.", "Latitude must be within -90..90."))
    if lon is not None and not -180 <= lon <= 180:
        problems.append(
            _problem(number, "lon", "Kinh độ phải trong khoảng -180..180.", "Longitude must be within -180..180.")
        )
    low, high = numbers.get("valid_min"), numbers.get("valid_max")
    if low is not None and high is not None and low > high:
        problems.append(
            _problem(number, "valid_min", "valid_min lớn hơn valid_max.", "valid_min is greater than valid_max.")
        )
    retention = numbers.get("retention_days")
    if retention is not None and (retention != int(retention) or not 1 <= retention <= MAX_RETENTION_DAYS):
        problems.append(
            _problem(
                number,
                "retention_days",
                f"Số ngày lưu phải là số nguyên 1..{MAX_RETENTION_DAYS}.",
                f"Retention days must be a whole number 1..{MAX_RETENTION_DAYS}.",
            )
        )
    if len(problems) > before:
        return None
    stream = DatastreamCreate(
        key=key,
        name=row.get("datastream_name", "") or row.get("observed_property", ""),
        observed_property=row["observed_property"][:120],
        unit_name=row.get("unit", "")[:60],
        unit_symbol=row.get("unit_symbol", "")[:30],
        valid_min=low,
        valid_max=high,
        retention_days=int(retention) if retention is not None else DEFAULT_RETENTION_DAYS,
    )
    return code, name[:200], lat, lon, stream


def parse_device_csv(data: bytes) -> list[_ImportDevice]:
    """Read a provisioning CSV into devices and datastreams, or raise DeviceImportFailed with every fault."""
    rows = _read_csv(data)
    problems: list[ImportProblem] = []
    devices: dict[str, _ImportDevice] = {}
    for number, row in enumerate(rows, start=2):
        parsed = _parse_import_row(row, number, problems)
        if parsed is None:
            continue
        code, name, lat, lon, stream = parsed
        device = devices.get(code)
        if device is None:
            devices[code] = _ImportDevice(code, name, lat, lon, number, [stream])
            continue
        if name != device.name or (lat is not None and (lat, lon) != (device.lat, device.lon)):
            problems.append(
                _problem(
                    number,
                    "name",
                    f"Thiết bị {code} có tên hoặc vị trí khác với dòng {device.row}.",
                    f"Device {code} has another name or location than on row {device.row}.",
                )
            )
        if any(s.key == stream.key for s in device.streams):
            problems.append(
                _problem(
                    number,
                    "datastream_key",
                    f"Thiết bị {code} khai báo khoá {stream.key} hai lần.",
                    f"Device {code} declares key {stream.key} twice.",
                )
            )
            continue
        device.streams.append(stream)
    if not rows:
        problems.append(_problem(None, None, "Tệp không có dòng dữ liệu nào.", "The file has no data rows."))
    if problems:
        raise DeviceImportFailed(problems)
    return list(devices.values())


async def import_devices_csv(session: AsyncSession, data: bytes) -> DeviceImportReport:
    """Create or update devices and datastreams from a CSV, all or nothing; new devices get tokens once."""
    parsed = parse_device_csv(data)
    existing = await repository.get_devices_by_codes(session, [d.code for d in parsed])
    streams_by_device: dict[int, dict[str, Datastream]] = defaultdict(dict)
    for stream in await repository.datastreams_of(session, [d.id for d in existing.values()]):
        streams_by_device[stream.device_id][stream.key] = stream
    created: list[DeviceToken] = []
    updated: list[str] = []
    streams_created = streams_updated = 0
    for item in parsed:
        device = existing.get(item.code)
        if device is None:
            token, digest = await _fresh_token_hash(session)
            device = Device(
                code=item.code,
                name=item.name,
                description="",
                lat=item.lat,
                lon=item.lon,
                unit_code=await _unit_code(session, item.lat, item.lon),
                token_hash=digest,
                properties={},
                is_active=True,
                is_online=False,
            )
            session.add(device)
            await session.flush()
            created.append(DeviceToken(device_code=item.code, token=token))
        else:
            device.name = item.name
            if item.lat is not None:
                device.lat, device.lon = item.lat, item.lon
                device.unit_code = await _unit_code(session, item.lat, item.lon)
            updated.append(item.code)
        known = streams_by_device[device.id]
        for stream_data in item.streams:
            current = known.get(stream_data.key)
            if current is None:
                session.add(_new_stream(device.id, stream_data))
                streams_created += 1
                continue
            for name, value in stream_data.model_dump(include=_IMPORTED_STREAM_FIELDS).items():
                setattr(current, name, value)
            streams_updated += 1
    await session.flush()
    return DeviceImportReport(
        created=created, updated=updated, datastreams_created=streams_created, datastreams_updated=streams_updated
    )


_IMPORTED_STREAM_FIELDS = {"observed_property", "unit_name", "unit_symbol", "valid_min", "valid_max", "retention_days"}


# --- series ------------------------------------------------------------------------------------------------------


def choose_resolution(start: datetime, end: datetime, requested: Resolution = Resolution.AUTO) -> Resolution:
    """Pick raw for ranges up to 2 days, hourly up to 90 days, daily beyond (unless one was asked for)."""
    if requested is not Resolution.AUTO:
        return requested
    span = end - start
    if span <= RAW_MAX_RANGE:
        return Resolution.RAW
    if span <= HOURLY_MAX_RANGE:
        return Resolution.HOUR
    return Resolution.DAY


def local_midnight(day: date) -> datetime:
    """Return the UTC time of the start of a day in the province."""
    return datetime.combine(day, time(0), tzinfo=PROVINCE_TZ).astimezone(UTC)


def resolve_period(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """Fill in a missing end (now) or start (end minus 24 hours) and check the order."""
    end = end.astimezone(UTC) if end else utc_now()
    start = start.astimezone(UTC) if start else end - DEFAULT_QUERY_RANGE
    if start >= end:
        raise InvalidPeriod()
    return start, end


# One validation call for a whole chart: building hundreds of points one by one costs several times more.
_POINTS = TypeAdapter(list[SeriesPoint])


async def series(
    session: AsyncSession,
    datastream_id: int,
    start: datetime | None = None,
    end: datetime | None = None,
    resolution: Resolution = Resolution.AUTO,
    limit: int = MAX_POINTS,
) -> Series:
    """Return a datastream's readings over a period, raw or rolled up as the range requires."""
    try:
        start, end = resolve_period(start, end)
    except InvalidPeriod:
        if await repository.datastream_label(session, datastream_id) is None:
            raise DatastreamNotFound(datastream_id) from None  # an unknown datastream is the first thing wrong
        raise
    chosen = choose_resolution(start, end, resolution)
    label: tuple[str, str] | None = None
    points: list[dict[str, Any]] = []
    if chosen is Resolution.RAW:
        label, raw = await repository.labelled_series(
            session, datastream_id, repository.raw_series_query(datastream_id, start, end, limit + 1)
        )
        if label is not None and len(raw) > limit:
            if resolution is Resolution.RAW:
                raise TooManyPoints(limit)
            chosen = Resolution.HOUR  # too dense for raw: the hourly rollup answers instead
        else:
            points = [{"time": t, "value": v} for t, v in raw]
    if chosen is Resolution.HOUR:
        hour = start.replace(minute=0, second=0, microsecond=0)
        label, rows = await repository.labelled_series(
            session, datastream_id, repository.hourly_series_query(datastream_id, hour, end)
        )
        points = [{"time": b, "value": m, "count": n, "min": lo, "max": hi} for b, n, lo, hi, m in rows]
    elif chosen is Resolution.DAY:
        first, last = to_local(start).date(), to_local(end - timedelta(microseconds=1)).date()
        label, rows = await repository.labelled_series(
            session, datastream_id, repository.daily_series_query(datastream_id, first, last)
        )
        points = [
            {"time": local_midnight(d), "day": d, "value": m, "count": n, "min": lo, "max": hi}
            for d, n, lo, hi, m in rows
        ]
    if label is None:
        raise DatastreamNotFound(datastream_id)
    key, unit_symbol = label
    return Series(
        datastream_id=datastream_id,
        key=key,
        unit_symbol=unit_symbol,
        resolution=chosen,
        start=start,
        end=end,
        points=_POINTS.validate_python(points),
    )


# --- rollups, retention, offline ----------------------------------------------------------------------------------


def _runs(dirty: Sequence[tuple[int, datetime, int]]) -> list[tuple[frozenset[int], datetime, datetime]]:
    """Group dirty hours into runs of consecutive hours touched by the same datastreams (one query each)."""
    by_bucket: dict[datetime, set[int]] = defaultdict(set)
    for datastream_id, bucket, _ in dirty:
        by_bucket[bucket].add(datastream_id)
    runs: list[tuple[frozenset[int], datetime, datetime]] = []
    for bucket in sorted(by_bucket):
        ids = frozenset(by_bucket[bucket])
        if runs and runs[-1][0] == ids and runs[-1][2] == bucket:
            runs[-1] = (ids, runs[-1][1], bucket + HOUR)
        else:
            runs.append((ids, bucket, bucket + HOUR))
    return runs


async def compute_rollups(session: AsyncSession, max_hours: int = ROLLUP_MAX_HOURS_PER_RUN) -> int:
    """Recompute the hourly and daily rollups of the hours that received readings; return how many hours."""
    dirty = await repository.dirty_hours(session, max_hours)
    if not dirty:
        return 0
    aggregates: dict[tuple[int, datetime], tuple[int, float, float, float]] = {}
    for ids, start, end in _runs(dirty):
        aggregates.update(await repository.aggregate_hours(session, ids, start, end))
    upserts: list[dict[str, Any]] = []
    empty: list[tuple[int, datetime]] = []
    days: dict[date, set[int]] = defaultdict(set)
    for datastream_id, bucket, _ in dirty:
        days[to_local(bucket).date()].add(datastream_id)
        found = aggregates.get((datastream_id, bucket))
        if found is None:
            empty.append((datastream_id, bucket))
            continue
        count, low, high, mean = found
        upserts.append(
            {
                "datastream_id": datastream_id,
                "bucket": bucket,
                "count": count,
                "min_value": low,
                "max_value": high,
                "mean_value": mean,
            }
        )
    await repository.upsert_hour_rollups(session, upserts)
    await repository.delete_hour_rollups(session, empty)
    # A day of the province is 24 whole UTC hours (UTC+7, no daylight saving), so days add up their hours.
    day_rows: list[dict[str, Any]] = []
    empty_days: list[tuple[int, date]] = []
    for day, day_ids in sorted(days.items()):
        start = local_midnight(day)
        hours_of: dict[int, list[tuple[int, float, float, float]]] = defaultdict(list)
        for datastream_id, _, count, low, high, mean in await repository.hour_rollups_for_days(
            session, day_ids, start, start + DAY
        ):
            hours_of[datastream_id].append((count, low, high, mean))
        for datastream_id in sorted(day_ids):
            hours = hours_of.get(datastream_id)
            if not hours:
                empty_days.append((datastream_id, day))
                continue
            total = sum(count for count, _, _, _ in hours)
            day_rows.append(
                {
                    "datastream_id": datastream_id,
                    "day": day,
                    "count": total,
                    "min_value": min(low for _, low, _, _ in hours),
                    "max_value": max(high for _, _, high, _ in hours),
                    "mean_value": sum(count * mean for count, _, _, mean in hours) / total,
                }
            )
    await repository.upsert_day_rollups(session, day_rows)
    await repository.delete_day_rollups(session, empty_days)
    await repository.clear_dirty_hours(session, dirty)
    return len(dirty)


async def enforce_retention(session: AsyncSession, now: datetime | None = None) -> int:
    """Delete raw readings older than each datastream's retention, and old dead letters; return readings deleted."""
    now = now or utc_now()
    deleted = 0
    periods = await repository.retention_periods(session)
    if periods:
        # Whole months older than the longest retention go at once; rows are then deleted only in newer months.
        await partitions.drop_partitions_before(session, now - timedelta(days=max(periods)))
    for days in periods:
        deleted += await repository.delete_observations_before(session, days, now - timedelta(days=days))
    await repository.delete_dead_letters_before(session, now - DEAD_LETTER_RETENTION)
    return deleted


async def maintain_partitions(session: AsyncSession, now: datetime | None = None) -> list[str]:
    """Create the observation table's month partitions ahead of time (PostgreSQL); return those created."""
    return await partitions.ensure_partitions(session, now or utc_now())


async def detect_offline(session: AsyncSession, now: datetime | None = None) -> list[str]:
    """Mark devices silent for longer than their threshold offline and announce each; return their codes."""
    now = now or utc_now()
    gone: list[str] = []
    for device_id, code, last_seen, minutes in await repository.online_devices(session):
        threshold = now - timedelta(minutes=minutes)
        if last_seen is not None and last_seen >= threshold:
            continue
        if await repository.mark_offline(session, device_id, threshold):
            record_event(
                session,
                DeviceWentOffline(
                    device_id=device_id, device_code=code, last_seen_at=last_seen, offline_after_minutes=minutes
                ),
            )
            gone.append(code)
    return gone


# --- dead letters ------------------------------------------------------------------------------------------------


async def list_dead_letters(
    session: AsyncSession, filters: DeadLetterFilters, page: PageParams
) -> Page[DeadLetterRead]:
    """List dead letters, newest first."""
    rows, total = await repository.list_dead_letters(
        session,
        reason=filters.reason.value if filters.reason else None,
        device_code=filters.device_code,
        source=filters.source.value if filters.source else None,
        limit=page.limit,
        offset=page.offset,
    )
    return Page[DeadLetterRead](
        items=[DeadLetterRead.model_validate(row) for row in rows], total=total, limit=page.limit, offset=page.offset
    )


async def get_dead_letter(session: AsyncSession, dead_letter_id: int) -> DeadLetterRead:
    """Return one dead letter with its raw payload."""
    row = await repository.get_dead_letter(session, dead_letter_id)
    if row is None:
        raise DeadLetterNotFound(dead_letter_id)
    return DeadLetterRead.model_validate(row)


async def dead_letter_counts(session: AsyncSession, hours: int = 24) -> dict[str, int]:
    """Count dead letters by reason over the last hours."""
    return await repository.dead_letter_counts(session, utc_now() - timedelta(hours=hours))


# --- for analysis modules (environment): fresh hourly means ------------------------------------------------------


async def hourly_means(
    session: AsyncSession,
    datastream_ids: Sequence[int],
    start: datetime,
    end: datetime,
    raw_from: datetime | None = None,
) -> dict[int, dict[datetime, float]]:
    """Return the mean of each UTC hour in [start, end) per datastream.

    Hours from `raw_from` on (all hours when it is None) are computed from the raw readings, so that they
    include readings committed a moment ago; earlier hours are read from the hourly rollups, which the rollup
    job refreshes every minute.
    """
    means: dict[int, dict[datetime, float]] = defaultdict(dict)
    if not datastream_ids:
        return {}
    split = start if raw_from is None else min(max(raw_from, start), end)
    if split > start:
        for datastream_id, bucket, _count, _low, _high, mean in await repository.hour_rollups_for_days(
            session, datastream_ids, start, split
        ):
            means[datastream_id][bucket] = mean
    if split < end:
        for (datastream_id, bucket), (_count, _low, _high, mean) in (
            await repository.aggregate_hours(session, datastream_ids, split, end)
        ).items():
            means[datastream_id][bucket] = mean
    return dict(means)
