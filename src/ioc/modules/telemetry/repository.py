"""Every query of the telemetry module; services and ingestion build no SQL themselves."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    Select,
    Table,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Datastream, DeadLetter, Device, DirtyHour, Observation, RollupDay, RollupHour

OBSERVATIONS = cast(Table, Observation.__table__)
DIRTY_HOURS = cast(Table, DirtyHour.__table__)
ROLLUP_HOURS = cast(Table, RollupHour.__table__)
ROLLUP_DAYS = cast(Table, RollupDay.__table__)
DEAD_LETTERS = cast(Table, DeadLetter.__table__)
DATASTREAMS = cast(Table, Datastream.__table__)

# Set in a session's info when it changed what ingestion caches; the cache is emptied after its commit.
REGISTRY_CHANGED = "telemetry_registry_changed"

# PostgreSQL bulk path: COPY the batch into a per-connection staging table, then merge it in one statement.
STAGE_TABLE = "telemetry_observation_stage"
CREATE_STAGE = (
    f"CREATE TEMP TABLE IF NOT EXISTS {STAGE_TABLE} "
    "(datastream_id integer, time timestamptz, value double precision, received_at timestamptz) "
    "ON COMMIT DELETE ROWS"
)
MERGE_STAGE = (
    "INSERT INTO telemetry_observation (datastream_id, time, value, received_at) "
    f"SELECT datastream_id, time, value, received_at FROM {STAGE_TABLE} "
    # A fixed order takes row locks in the same order in every transaction, so concurrent batches cannot deadlock.
    "ORDER BY datastream_id, time "
    "ON CONFLICT (datastream_id, time) DO UPDATE SET value = EXCLUDED.value, received_at = EXCLUDED.received_at "
    "WHERE telemetry_observation.value IS DISTINCT FROM EXCLUDED.value"
)
# After the merge, from the staged rows: the dirty hours, then the latest values, rows locked in id order
# (the same order as `update_latest`, so concurrent batches cannot deadlock).
STAGE_FOLLOW_UP = (
    "INSERT INTO telemetry_dirty_hour (datastream_id, bucket, version) "
    f"SELECT DISTINCT datastream_id, date_trunc('hour', time, 'UTC'), 1 FROM {STAGE_TABLE} ORDER BY 1, 2 "
    "ON CONFLICT (datastream_id, bucket) DO UPDATE SET version = telemetry_dirty_hour.version + 1; "
    "SELECT id FROM telemetry_datastream "
    f"WHERE id IN (SELECT datastream_id FROM {STAGE_TABLE}) ORDER BY id FOR UPDATE; "
    "UPDATE telemetry_datastream AS s SET last_value = l.value, last_time = l.time FROM ("
    f"SELECT DISTINCT ON (datastream_id) datastream_id, time, value FROM {STAGE_TABLE} "
    "ORDER BY datastream_id, time DESC) AS l "
    "WHERE s.id = l.datastream_id AND (s.last_time IS NULL OR s.last_time <= l.time)"
)
# Below this many rows one INSERT of arrays costs less than the extra round trips of COPY.
COPY_THRESHOLD = 200
# The other writes of a batch are one statement each on PostgreSQL: arrays unnested into rows.
INSERT_UNNEST = (
    "INSERT INTO telemetry_observation (datastream_id, time, value, received_at) "
    "SELECT * FROM unnest($1::integer[], $2::timestamptz[], $3::double precision[], $4::timestamptz[]) "
    "ON CONFLICT (datastream_id, time) DO UPDATE SET value = EXCLUDED.value, received_at = EXCLUDED.received_at "
    "WHERE telemetry_observation.value IS DISTINCT FROM EXCLUDED.value"
)
DIRTY_UNNEST = (
    "INSERT INTO telemetry_dirty_hour (datastream_id, bucket, version) "
    "SELECT d, b, 1 FROM unnest($1::integer[], $2::timestamptz[]) AS u(d, b) ORDER BY d, b "
    "ON CONFLICT (datastream_id, bucket) DO UPDATE SET version = telemetry_dirty_hour.version + 1"
)
LOCK_DATASTREAMS = "SELECT id FROM telemetry_datastream WHERE id = ANY($1::integer[]) ORDER BY id FOR UPDATE"
LATEST_UNNEST = (
    "UPDATE telemetry_datastream AS s SET last_value = u.v, last_time = u.t "
    "FROM unnest($1::integer[], $2::timestamptz[], $3::double precision[]) AS u(id, t, v) "
    "WHERE s.id = u.id AND (s.last_time IS NULL OR s.last_time <= u.t)"
)
LOCK_DEVICES = "SELECT id FROM telemetry_device WHERE id = ANY($1::integer[]) ORDER BY id FOR UPDATE"
TOUCH_UNNEST = (
    "UPDATE telemetry_device AS d SET last_seen_at = u.t "
    "FROM unnest($1::integer[], $2::timestamptz[]) AS u(id, t) "
    "WHERE d.id = u.id AND (d.last_seen_at IS NULL OR d.last_seen_at < u.t)"
)
# SQLite: the same writes as plain statements run many times by the driver.
SQLITE_UPSERT = (
    "INSERT INTO telemetry_observation (datastream_id, time, value, received_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (datastream_id, time) DO UPDATE SET value = excluded.value, received_at = excluded.received_at "
    "WHERE telemetry_observation.value IS NOT excluded.value"
)
SQLITE_DIRTY = (
    "INSERT INTO telemetry_dirty_hour (datastream_id, bucket, version) VALUES (?, ?, 1) "
    "ON CONFLICT (datastream_id, bucket) DO UPDATE SET version = version + 1"
)
SQLITE_LATEST = (
    "UPDATE telemetry_datastream SET last_value = ?, last_time = ? "
    "WHERE id = ? AND (last_time IS NULL OR last_time <= ?)"
)
SQLITE_TOUCH = (
    "UPDATE telemetry_device SET last_seen_at = ? WHERE id = ? AND (last_seen_at IS NULL OR last_seen_at < ?)"
)
# Datastream ids per IN (...) list.
ID_CHUNK = 1000


@dataclass(frozen=True)
class StreamInfo:
    """What validation needs to know about a datastream."""

    id: int
    key: str
    valid_min: float | None
    valid_max: float | None
    retention_days: int


@dataclass
class DeviceInfo:
    """What ingestion needs to know about a device."""

    id: int
    code: str
    is_active: bool
    is_online: bool
    last_seen_at: datetime | None
    streams: dict[str, StreamInfo] = field(default_factory=dict)


def is_postgres(session: AsyncSession) -> bool:
    """Tell whether the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def _insert(session: AsyncSession, table: Table) -> Any:
    return pg_insert(table) if is_postgres(session) else sqlite_insert(table)


# --- registry ---------------------------------------------------------------------------------------------


async def load_devices(
    session: AsyncSession, codes: Collection[str] = (), ids: Collection[int] = ()
) -> dict[int, DeviceInfo]:
    """Return the devices named by code or id, with their datastreams, keyed by id."""
    conditions = []
    if codes:
        conditions.append(Device.code.in_(sorted(codes)))
    if ids:
        conditions.append(Device.id.in_(sorted(ids)))
    if not conditions:
        return {}
    rows = await session.execute(
        select(Device.id, Device.code, Device.is_active, Device.is_online, Device.last_seen_at).where(or_(*conditions))
    )
    devices = {
        row.id: DeviceInfo(
            id=row.id, code=row.code, is_active=row.is_active, is_online=row.is_online, last_seen_at=row.last_seen_at
        )
        for row in rows
    }
    if devices:
        streams = await session.execute(
            select(
                Datastream.id,
                Datastream.device_id,
                Datastream.key,
                Datastream.valid_min,
                Datastream.valid_max,
                Datastream.retention_days,
            ).where(Datastream.device_id.in_(sorted(devices)))
        )
        for s in streams:
            devices[s.device_id].streams[s.key] = StreamInfo(s.id, s.key, s.valid_min, s.valid_max, s.retention_days)
    return devices


async def device_id_by_token_hash(session: AsyncSession, token_hash: str) -> tuple[int, bool] | None:
    """Return (device id, is active) for a token digest."""
    row = (await session.execute(select(Device.id, Device.is_active).where(Device.token_hash == token_hash))).first()
    return (row.id, row.is_active) if row else None


async def get_device(session: AsyncSession, code: str) -> Device | None:
    """Return a device by code."""
    return await session.scalar(select(Device).where(Device.code == code))


async def get_devices_by_codes(session: AsyncSession, codes: Collection[str]) -> dict[str, Device]:
    """Return the devices with these codes, keyed by code."""
    if not codes:
        return {}
    rows = await session.scalars(select(Device).where(Device.code.in_(sorted(codes))))
    return {device.code: device for device in rows}


async def token_hash_taken(session: AsyncSession, token_hash: str) -> bool:
    """Tell whether a token digest is already in use."""
    return await session.scalar(select(Device.id).where(Device.token_hash == token_hash)) is not None


async def list_devices(
    session: AsyncSession, q: str | None = None, unit_code: str | None = None, active_only: bool = False
) -> list[Device]:
    """Return devices ordered by code, filtered by code/name text and commune."""
    query = select(Device).order_by(Device.code)
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(or_(func.lower(Device.code).like(pattern), func.lower(Device.name).like(pattern)))
    if unit_code:
        query = query.where(Device.unit_code == unit_code)
    if active_only:
        query = query.where(Device.is_active.is_(True))
    return list(await session.scalars(query))


async def datastreams_of(session: AsyncSession, device_ids: Collection[int]) -> list[Datastream]:
    """Return the datastreams of some devices, ordered by device and key."""
    if not device_ids:
        return []
    query = select(Datastream).where(Datastream.device_id.in_(sorted(device_ids)))
    return list(await session.scalars(query.order_by(Datastream.device_id, Datastream.key)))


async def get_datastream(session: AsyncSession, datastream_id: int) -> tuple[Datastream, str] | None:
    """Return a datastream and its device's code."""
    row = (
        await session.execute(
            select(Datastream, Device.code)
            .join(Device, Device.id == Datastream.device_id)
            .where(Datastream.id == datastream_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def list_datastreams(
    session: AsyncSession, device_code: str | None = None, key: str | None = None, observed_property: str | None = None
) -> list[tuple[Datastream, str]]:
    """Return datastreams with their device codes, filtered by device, key or observed property."""
    query = select(Datastream, Device.code).join(Device, Device.id == Datastream.device_id)
    if device_code:
        query = query.where(Device.code == device_code)
    if key:
        query = query.where(Datastream.key == key)
    if observed_property:
        query = query.where(Datastream.observed_property == observed_property)
    rows = await session.execute(query.order_by(Device.code, Datastream.key))
    return [(row[0], row[1]) for row in rows]


# --- ingestion writes ---------------------------------------------------------------------------------------


def sqlite_time(moment: datetime) -> str:
    """Format a UTC time exactly as the SQLite columns store it (SQLAlchemy's DATETIME storage format)."""
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")


async def _driver(session: AsyncSession) -> Any:
    """Return the driver's own connection (asyncpg or aiosqlite), inside the session's transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    if driver is not None and not driver.is_in_transaction():
        # SQLAlchemy begins the driver's transaction at its first statement: before that, a statement sent
        # here straight to asyncpg would autocommit, and the staged COPY rows would vanish (ON COMMIT DELETE
        # ROWS) before the merge, so a batch would be acknowledged with nothing stored.
        await connection.exec_driver_sql("SELECT 1")
    return driver


async def _sqlite_many(session: AsyncSession, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    # Straight to the driver: SQLAlchemy's per-row parameter processing cost more than SQLite's insert.
    connection = await session.connection()
    await connection.exec_driver_sql(sql, list(rows))


async def write_observations(session: AsyncSession, rows: Sequence[tuple[int, datetime, float, datetime]]) -> None:
    """Upsert readings (datastream_id, time, value, received_at); a repeated reading changes nothing.

    A reading repeated with another value replaces the stored one (a device correcting itself).
    `rows` must hold each (datastream_id, time) once.
    """
    if not rows:
        return
    if is_postgres(session):
        driver = await _driver(session)
        if len(rows) >= COPY_THRESHOLD:
            await _copy_to_stage(driver, rows)
            await driver.execute(MERGE_STAGE)
            return
        ids, times, values, received = zip(*sorted(rows), strict=True)
        await driver.execute(INSERT_UNNEST, list(ids), list(times), list(values), list(received))
        return
    # The readings of a message share their time and a batch shares few receipt times: format each once.
    formatted: dict[datetime, str] = {}

    def text(moment: datetime) -> str:
        found = formatted.get(moment)
        if found is None:
            found = formatted[moment] = sqlite_time(moment)
        return found

    await _sqlite_many(session, SQLITE_UPSERT, [(d, text(t), v, text(r)) for d, t, v, r in rows])


async def _copy_to_stage(driver: Any, rows: Sequence[tuple[int, datetime, float, datetime]]) -> None:
    await driver.execute(CREATE_STAGE)
    columns = ("datastream_id", "time", "value", "received_at")
    await driver.copy_records_to_table(STAGE_TABLE, records=rows, columns=columns)


async def write_readings(session: AsyncSession, rows: Sequence[tuple[int, datetime, float, datetime]]) -> None:
    """Store a batch's readings, mark their hours for the rollups and move the latest values forward.

    On PostgreSQL a large batch is COPied once and the three writes then travel together in one message
    (statements without parameters use the simple query protocol), which saves round trips per batch.
    """
    if not rows:
        return
    if is_postgres(session) and len(rows) >= COPY_THRESHOLD:
        driver = await _driver(session)
        await _copy_to_stage(driver, rows)
        await driver.execute(f"{MERGE_STAGE}; {STAGE_FOLLOW_UP}")
        return
    await write_observations(session, rows)
    latest: dict[int, tuple[datetime, float]] = {}
    hours: set[tuple[int, datetime]] = set()
    for d, t, v, _ in sorted(rows):
        latest[d] = (t, v)  # sorted by time within a datastream: the last one wins
        hours.add((d, t.replace(minute=0, second=0, microsecond=0)))
    await mark_dirty_hours(session, hours)
    await update_latest(session, [(d, t, v) for d, (t, v) in latest.items()])


async def mark_dirty_hours(session: AsyncSession, pairs: Collection[tuple[int, datetime]]) -> None:
    """Note that these (datastream, hour) buckets need their rollups recomputed."""
    if not pairs:
        return
    ordered = sorted(pairs)
    if is_postgres(session):
        driver = await _driver(session)
        await driver.execute(DIRTY_UNNEST, [d for d, _ in ordered], [b for _, b in ordered])
        return
    await _sqlite_many(session, SQLITE_DIRTY, [(d, sqlite_time(b)) for d, b in ordered])


async def update_latest(session: AsyncSession, latest: Collection[tuple[int, datetime, float]]) -> None:
    """Move each datastream's latest value forward (never back: late readings leave it alone)."""
    if not latest:
        return
    ordered = sorted(latest)
    if is_postgres(session):
        driver = await _driver(session)
        ids = [d for d, _, _ in ordered]
        # Rows are locked in id order first, so that concurrent batches cannot deadlock on each other.
        await driver.execute(LOCK_DATASTREAMS, ids)
        await driver.execute(LATEST_UNNEST, ids, [t for _, t, _ in ordered], [v for _, _, v in ordered])
        return
    await _sqlite_many(session, SQLITE_LATEST, [(v, sqlite_time(t), d, sqlite_time(t)) for d, t, v in ordered])


async def touch_devices(session: AsyncSession, seen: dict[int, datetime]) -> None:
    """Record when devices were last heard from (never moving the time back)."""
    if not seen:
        return
    ordered = sorted(seen.items())
    if is_postgres(session):
        driver = await _driver(session)
        ids = [d for d, _ in ordered]
        await driver.execute(LOCK_DEVICES, ids)
        await driver.execute(TOUCH_UNNEST, ids, [t for _, t in ordered])
        return
    await _sqlite_many(session, SQLITE_TOUCH, [(sqlite_time(t), d, sqlite_time(t)) for d, t in ordered])


async def mark_online(session: AsyncSession, device_ids: Collection[int]) -> list[int]:
    """Mark offline devices online; return the ids that changed (each change is announced once)."""
    if not device_ids:
        return []
    result = await session.execute(
        update(Device)
        .where(Device.id.in_(sorted(device_ids)), Device.is_online.is_(False), Device.is_active.is_(True))
        .values(is_online=True)
        .returning(Device.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.scalars())


async def insert_dead_letters(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Store dead letters; return their ids in the order given."""
    if not rows:
        return []
    result = await session.execute(
        DEAD_LETTERS.insert().returning(DEAD_LETTERS.c.id, sort_by_parameter_order=True), list(rows)
    )
    return [int(value) for value in result.scalars()]


# --- offline detection ----------------------------------------------------------------------------------------


async def online_devices(session: AsyncSession) -> list[tuple[int, str, datetime | None, int]]:
    """Return (id, code, last seen, threshold minutes) of devices currently marked online."""
    rows = await session.execute(
        select(Device.id, Device.code, Device.last_seen_at, Device.offline_after_minutes).where(
            Device.is_online.is_(True)
        )
    )
    return [(r.id, r.code, r.last_seen_at, r.offline_after_minutes) for r in rows]


async def mark_offline(session: AsyncSession, device_id: int, seen_before: datetime) -> bool:
    """Mark a device offline unless it was heard from since `seen_before`; tell whether it changed."""
    result = await session.execute(
        update(Device)
        .where(
            Device.id == device_id,
            Device.is_online.is_(True),
            or_(Device.last_seen_at.is_(None), Device.last_seen_at < seen_before),
        )
        .values(is_online=False)
        .returning(Device.id)
        .execution_options(synchronize_session=False)
    )
    changed = result.first() is not None
    if changed:
        # Ingestion's cached copy says online: forget it now and again once this commits.
        session.sync_session.info[REGISTRY_CHANGED] = True
    return changed


# --- series queries ---------------------------------------------------------------------------------------------


async def datastream_label(session: AsyncSession, datastream_id: int) -> tuple[str, str] | None:
    """Return a datastream's key and unit symbol, or None when there is no such datastream."""
    row = (
        await session.execute(
            select(DATASTREAMS.c.key, DATASTREAMS.c.unit_symbol).where(DATASTREAMS.c.id == datastream_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


# Charts read through the tables' columns, not the mapped classes: the ORM's result handling costs more than
# the query itself for the few hundred rows of a chart (see the `ingest` benchmark).


def raw_series_query(datastream_id: int, start: datetime, end: datetime, limit: int) -> Select[Any]:
    """Select readings (time, value) in [start, end) by time, at most `limit`."""
    c = OBSERVATIONS.c
    return (
        select(c.time, c.value)
        .where(c.datastream_id == datastream_id, c.time >= start, c.time < end)
        .order_by(c.time)
        .limit(limit)
    )


def hourly_series_query(datastream_id: int, start: datetime, end: datetime) -> Select[Any]:
    """Select hourly rollups (bucket, count, min, max, mean) whose hour starts in [start, end)."""
    c = ROLLUP_HOURS.c
    return (
        select(c.bucket, c.count, c.min_value, c.max_value, c.mean_value)
        .where(c.datastream_id == datastream_id, c.bucket >= start, c.bucket < end)
        .order_by(c.bucket)
    )


def daily_series_query(datastream_id: int, first: date, last: date) -> Select[Any]:
    """Select daily rollups (day, count, min, max, mean) for local days first..last."""
    c = ROLLUP_DAYS.c
    return (
        select(c.day, c.count, c.min_value, c.max_value, c.mean_value)
        .where(c.datastream_id == datastream_id, c.day >= first, c.day <= last)
        .order_by(c.day)
    )


async def labelled_series(
    session: AsyncSession, datastream_id: int, query: Select[Any]
) -> tuple[tuple[str, str] | None, list[tuple[Any, ...]]]:
    """Run a series query with the datastream's key and unit; (None, []) when there is no such datastream.

    The label rides on the rows as two uncorrelated scalar subqueries (evaluated once by both engines), so a
    chart costs one statement; only an empty answer needs a second one to tell "no data" from "no datastream".
    """
    d = DATASTREAMS.c
    key = select(d.key).where(d.id == datastream_id).scalar_subquery()
    unit = select(d.unit_symbol).where(d.id == datastream_id).scalar_subquery()
    rows = (await session.execute(query.add_columns(key, unit))).all()
    if not rows:
        return await datastream_label(session, datastream_id), []
    return (rows[0][-2], rows[0][-1]), [tuple(row[:-2]) for row in rows]


async def raw_series(
    session: AsyncSession, datastream_id: int, start: datetime, end: datetime, limit: int
) -> list[tuple[datetime, float]]:
    """Return readings in [start, end) by time, at most `limit`."""
    rows = await session.execute(raw_series_query(datastream_id, start, end, limit))
    return [(t, v) for t, v in rows]


async def hourly_series(
    session: AsyncSession, datastream_id: int, start: datetime, end: datetime
) -> list[tuple[datetime, int, float, float, float]]:
    """Return hourly rollups (bucket, count, min, max, mean) whose hour starts in [start, end)."""
    rows = await session.execute(hourly_series_query(datastream_id, start, end))
    return [(b, n, lo, hi, m) for b, n, lo, hi, m in rows]


async def daily_series(
    session: AsyncSession, datastream_id: int, first: date, last: date
) -> list[tuple[date, int, float, float, float]]:
    """Return daily rollups (day, count, min, max, mean) for local days first..last."""
    rows = await session.execute(daily_series_query(datastream_id, first, last))
    return [(d, n, lo, hi, m) for d, n, lo, hi, m in rows]


# --- rollups ----------------------------------------------------------------------------------------------------


async def dirty_hours(session: AsyncSession, limit: int) -> list[tuple[int, datetime, int]]:
    """Return up to `limit` dirty (datastream, hour, version) rows, oldest hour first."""
    rows = await session.execute(
        select(DirtyHour.datastream_id, DirtyHour.bucket, DirtyHour.version)
        .order_by(DirtyHour.bucket, DirtyHour.datastream_id)
        .limit(limit)
    )
    return [(r.datastream_id, r.bucket, r.version) for r in rows]


def _hour_of(session: AsyncSession) -> Any:
    # The UTC hour of a reading, computed by the engine: PostgreSQL truncates the timestamp in UTC, SQLite
    # cuts the stored "YYYY-MM-DD HH:MM:SS.ffffff" text.
    if is_postgres(session):
        return func.date_trunc("hour", func.timezone("UTC", Observation.time))
    return func.strftime("%Y-%m-%d %H:00:00", Observation.time)


def _as_utc(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def aggregate_hours(
    session: AsyncSession, datastream_ids: Collection[int], start: datetime, end: datetime
) -> dict[tuple[int, datetime], tuple[int, float, float, float]]:
    """Return (count, min, max, mean) per (datastream, UTC hour) of the raw readings in [start, end)."""
    hour = _hour_of(session).label("hour")
    result: dict[tuple[int, datetime], tuple[int, float, float, float]] = {}
    ids = sorted(datastream_ids)
    for offset in range(0, len(ids), ID_CHUNK):
        rows = await session.execute(
            select(
                Observation.datastream_id,
                hour,
                func.count(),
                func.min(Observation.value),
                func.max(Observation.value),
                func.avg(Observation.value),
            )
            .where(
                Observation.datastream_id.in_(ids[offset : offset + ID_CHUNK]),
                Observation.time >= start,
                Observation.time < end,
            )
            .group_by(Observation.datastream_id, hour)
        )
        for datastream_id, bucket, count, low, high, mean in rows:
            result[(int(datastream_id), _as_utc(bucket))] = (int(count), float(low), float(high), float(mean))
    return result


async def upsert_hour_rollups(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Write hourly rollups, replacing existing ones."""
    if not rows:
        return
    stmt = _insert(session, ROLLUP_HOURS)
    stmt = stmt.on_conflict_do_update(
        index_elements=["datastream_id", "bucket"],
        set_={name: stmt.excluded[name] for name in ("count", "min_value", "max_value", "mean_value")},
    )
    await session.execute(stmt, list(rows))


async def delete_hour_rollups(session: AsyncSession, pairs: Sequence[tuple[int, datetime]]) -> None:
    """Remove hourly rollups that no longer have readings."""
    if not pairs:
        return
    stmt = delete(ROLLUP_HOURS).where(
        ROLLUP_HOURS.c.datastream_id == bindparam("ds_id"), ROLLUP_HOURS.c.bucket == bindparam("ds_bucket")
    )
    await session.execute(stmt, [{"ds_id": d, "ds_bucket": b} for d, b in pairs])


async def hour_rollups_for_days(
    session: AsyncSession, datastream_ids: Collection[int], start: datetime, end: datetime
) -> list[tuple[int, datetime, int, float, float, float]]:
    """Return (datastream, bucket, count, min, max, mean) of hourly rollups in [start, end)."""
    ids = sorted(datastream_ids)
    found: list[tuple[int, datetime, int, float, float, float]] = []
    for offset in range(0, len(ids), ID_CHUNK):
        rows = await session.execute(
            select(
                RollupHour.datastream_id,
                RollupHour.bucket,
                RollupHour.count,
                RollupHour.min_value,
                RollupHour.max_value,
                RollupHour.mean_value,
            ).where(
                RollupHour.datastream_id.in_(ids[offset : offset + ID_CHUNK]),
                RollupHour.bucket >= start,
                RollupHour.bucket < end,
            )
        )
        found.extend((int(d), b, int(n), float(lo), float(hi), float(m)) for d, b, n, lo, hi, m in rows)
    return found


async def upsert_day_rollups(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Write daily rollups, replacing existing ones."""
    if not rows:
        return
    stmt = _insert(session, ROLLUP_DAYS)
    stmt = stmt.on_conflict_do_update(
        index_elements=["datastream_id", "day"],
        set_={name: stmt.excluded[name] for name in ("count", "min_value", "max_value", "mean_value")},
    )
    await session.execute(stmt, list(rows))


async def delete_day_rollups(session: AsyncSession, pairs: Sequence[tuple[int, date]]) -> None:
    """Remove daily rollups that no longer have readings."""
    if not pairs:
        return
    stmt = delete(ROLLUP_DAYS).where(
        ROLLUP_DAYS.c.datastream_id == bindparam("ds_id"), ROLLUP_DAYS.c.day == bindparam("ds_day")
    )
    await session.execute(stmt, [{"ds_id": d, "ds_day": day} for d, day in pairs])


async def clear_dirty_hours(session: AsyncSession, rows: Sequence[tuple[int, datetime, int]]) -> None:
    """Forget dirty hours whose version is still the one that was computed."""
    if not rows:
        return
    stmt = delete(DIRTY_HOURS).where(
        DIRTY_HOURS.c.datastream_id == bindparam("ds_id"),
        DIRTY_HOURS.c.bucket == bindparam("ds_bucket"),
        DIRTY_HOURS.c.version == bindparam("ds_version"),
    )
    await session.execute(stmt, [{"ds_id": d, "ds_bucket": b, "ds_version": v} for d, b, v in rows])


# --- retention -------------------------------------------------------------------------------------------------


async def retention_periods(session: AsyncSession) -> list[int]:
    """Return the distinct retention periods (days) of the datastreams."""
    rows = await session.scalars(select(Datastream.retention_days).distinct().order_by(Datastream.retention_days))
    return list(rows)


async def delete_observations_before(session: AsyncSession, retention_days: int, cutoff: datetime) -> int:
    """Delete the raw readings older than `cutoff` of every datastream kept `retention_days`; return how many."""
    # One statement per distinct retention, not one per datastream: a province has thousands of datastreams and a
    # handful of retention periods.
    streams = select(Datastream.id).where(Datastream.retention_days == retention_days)
    result = await session.execute(
        delete(Observation).where(Observation.datastream_id.in_(streams), Observation.time < cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def delete_observations_of(session: AsyncSession, datastream_ids: Collection[int]) -> None:
    """Delete every reading and rollup of some datastreams (before the datastreams themselves go)."""
    ids = sorted(datastream_ids)
    if not ids:
        return
    for model in (Observation, RollupHour, RollupDay, DirtyHour):
        await session.execute(delete(model).where(model.datastream_id.in_(ids)))


async def delete_dead_letters_before(session: AsyncSession, cutoff: datetime) -> int:
    """Delete dead letters received before `cutoff`; return how many."""
    result = await session.execute(delete(DeadLetter).where(DeadLetter.received_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


# --- dead letters -----------------------------------------------------------------------------------------------


async def list_dead_letters(
    session: AsyncSession,
    reason: str | None,
    device_code: str | None,
    source: str | None,
    limit: int,
    offset: int,
) -> tuple[list[DeadLetter], int]:
    """Return a page of dead letters, newest first, and the total matching."""
    conditions = []
    if reason:
        conditions.append(DeadLetter.reason == reason)
    if device_code:
        conditions.append(DeadLetter.device_code == device_code)
    if source:
        conditions.append(DeadLetter.source == source)
    total = await session.scalar(select(func.count()).select_from(DeadLetter).where(*conditions)) or 0
    rows = await session.scalars(
        select(DeadLetter)
        .where(*conditions)
        .order_by(DeadLetter.received_at.desc(), DeadLetter.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), int(total)


async def get_dead_letter(session: AsyncSession, dead_letter_id: int) -> DeadLetter | None:
    """Return one dead letter."""
    return await session.get(DeadLetter, dead_letter_id)


async def dead_letter_counts(session: AsyncSession, since: datetime) -> dict[str, int]:
    """Return how many dead letters of each reason arrived since a time."""
    rows = await session.execute(
        select(DeadLetter.reason, func.count()).where(DeadLetter.received_at >= since).group_by(DeadLetter.reason)
    )
    return {str(reason): int(count) for reason, count in rows}


async def observation_count(session: AsyncSession, datastream_id: int | None = None) -> int:
    """Count raw readings, of one datastream or of all."""
    query = select(func.count()).select_from(Observation)
    if datastream_id is not None:
        query = query.where(Observation.datastream_id == datastream_id)
    return int(await session.scalar(query) or 0)
