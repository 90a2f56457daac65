"""Every query of the citizen_report module; the service builds no SQL."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Insert,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ioc.core.db import Base
from ioc.core.models import AuditEntry, Job, OutboxEvent
from ioc.core.time import PROVINCE_TZ

from .constants import OPEN_STATUSES, ReportStatus, StatsGroup
from .models import Category, Follower, Link, Photo, RateHit, Report, TimelineEntry, TrackingSequence
from .schemas import ReportFilters

# Categories


async def list_categories(session: AsyncSession, *, include_inactive: bool) -> Sequence[Category]:
    """Return categories in display order."""
    stmt = select(Category).order_by(Category.sort_order, Category.name, Category.code)
    if not include_inactive:
        stmt = stmt.where(Category.active.is_(True))
    return (await session.scalars(stmt)).all()


async def category_by_code(session: AsyncSession, code: str) -> Category | None:
    """Return a category by code."""
    return await session.scalar(select(Category).where(Category.code == code))


async def category_names(session: AsyncSession) -> dict[str, tuple[str, str]]:
    """Return every category's (Vietnamese, English) name by code."""
    rows = await session.execute(select(Category.code, Category.name, Category.name_en))
    return {code: (name, name_en or name) for code, name, name_en in rows}


async def count_reports_of_category(session: AsyncSession, category_id: int) -> int:
    """Count the reports filed under a category."""
    return int(await session.scalar(select(func.count()).where(Report.category_id == category_id)) or 0)


def add(session: AsyncSession, obj: object) -> None:
    """Add a new row to the session."""
    session.add(obj)


async def delete_row(session: AsyncSession, obj: object) -> None:
    """Delete a row."""
    await session.delete(obj)


# Tracking numbers


def _number_statement(dialect: str) -> Any:
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        upsert(TrackingSequence)
        .values(year=bindparam("year"), last_value=1)
        .on_conflict_do_update(
            index_elements=[TrackingSequence.year], set_={"last_value": TrackingSequence.last_value + 1}
        )
        .returning(TrackingSequence.last_value)
    )


def _number_and_id_statement() -> Any:
    """Return PostgreSQL's number draw: the counter's upsert, committed without waiting for the disk.

    Run in a transaction of its own (see `draw_tracking_number`), its commit waited for the WAL flush while
    still holding the counter row, so concurrent submissions drew their numbers one disk flush after another.
    `synchronous_commit` off for this transaction alone (set_config with is_local, read at its commit) drops
    that wait and loses nothing that matters: the submission's own commit, later in the log, flushes the log
    up to itself and so the draw with it. A crash can only forget a draw that no stored report holds.
    """
    commit_async = select(func.set_config("synchronous_commit", "off", true()).label("setting")).subquery()
    row = (
        select(bindparam("year", type_=Integer), literal(1, Integer))
        .select_from(commit_async)
        # Also settles the grammar: an INSERT .. SELECT .. FROM before ON CONFLICT wants a WHERE.
        .where(commit_async.c.setting.is_not(None))
    )
    return (
        pg_insert(TrackingSequence)
        .from_select(["year", "last_value"], row)
        .on_conflict_do_update(
            index_elements=[TrackingSequence.year], set_={"last_value": TrackingSequence.last_value + 1}
        )
        # The report's id is drawn from its own sequence together with the number, so that every row of the
        # submission can be built before anything is inserted, and inserted in one statement (`insert_intake`).
        .returning(TrackingSequence.last_value, func.nextval(func.pg_get_serial_sequence(Report.__tablename__, "id")))
    )


_NUMBER_AND_ID: Final = _number_and_id_statement()


async def next_tracking_number(session: AsyncSession, year: int) -> int:
    """Hand out the next number of a year, atomically on both engines (the row lock serialises writers)."""
    stmt = _number_statement(session.get_bind().dialect.name)
    return int((await session.execute(stmt, {"year": year})).scalar_one())


async def draw_tracking_number(connection: AsyncConnection, year: int) -> tuple[int, int]:
    """Hand out a year's next number and a new report id on an autocommit connection (`_number_and_id_statement`)."""
    number, report_id = (await connection.execute(_NUMBER_AND_ID, {"year": year})).one()
    return int(number), int(report_id)


# Intake: the rows of a new report, written with statements built once instead of the unit of work


@dataclass(frozen=True)
class IntakeRows:
    """Column values of every row a submission writes besides its photos (None: no such row)."""

    report: dict[str, Any]
    timeline: dict[str, Any]
    jobs: list[dict[str, Any]]
    event: dict[str, Any]
    rate_hit: dict[str, Any] | None
    audit: dict[str, Any] | None


def _columns(table: Table, *skip: str) -> tuple[str, ...]:
    return tuple(column.key for column in table.columns if column.key not in skip)


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table), "every model maps one table"
    return table


REPORT_TABLE: Final = _table(Report)
# The columns `record_event` and `schedule_job` set; the others keep their defaults.
JOB_COLUMNS: Final = ("name", "payload", "run_at", "status", "attempts", "max_attempts", "dedupe_key", "created_at")
EVENT_COLUMNS: Final = ("event_id", "name", "payload", "occurred_at")
_PARTS: Final[dict[str, tuple[Table, tuple[str, ...]]]] = {
    "t": (_table(TimelineEntry), _columns(_table(TimelineEntry), "id")),
    "j": (_table(Job), JOB_COLUMNS),
    "e": (_table(OutboxEvent), EVENT_COLUMNS),
    "h": (_table(RateHit), _columns(_table(RateHit), "id")),
    "a": (_table(AuditEntry), _columns(_table(AuditEntry), "id")),
}
# Built once per shape: a constant statement keeps its cache key, so executing it skips most of the compiling.
_STATEMENTS: dict[tuple[Any, ...], Insert] = {}


def _bound_values(table: Table, prefix: str, columns: Sequence[str]) -> dict[str, Any]:
    # Typed: the column's type converts the value (JSON, UTC times), in every SELECT of the timers' UNION too.
    return {column: bindparam(f"{prefix}{column}", type_=table.c[column].type) for column in columns}


def _bound(table: Table, prefix: str, columns: Sequence[str]) -> Insert:
    return insert(table).values(_bound_values(table, prefix, columns))


def _parts(rows: IntakeRows) -> list[tuple[str, dict[str, Any]]]:
    """Return (part name, parameters) of every row but the report's."""
    parts: list[tuple[str, dict[str, Any]]] = []
    if rows.jobs:
        # One INSERT for all timers: they get their ids in order, as from one flush.
        jobs = {f"{number}_{column}": value for number, job in enumerate(rows.jobs) for column, value in job.items()}
        parts.append((f"j{len(rows.jobs)}", jobs))
    parts.append(("e", rows.event))
    if rows.rate_hit is not None:
        parts.append(("h", rows.rate_hit))
    parts.append(("t", rows.timeline))
    if rows.audit is not None:
        parts.append(("a", rows.audit))
    return parts


def _part_statement(name: str) -> Insert:
    key = ("part", name)
    if key not in _STATEMENTS:
        table, columns = _PARTS[name[0]]
        if name[0] == "j":
            # INSERT .. SELECT of a UNION ALL rather than a multi-row VALUES, which SQLAlchemy does not cache.
            rows = [select(*_bound_values(table, f"{name}_{n}_", columns).values()) for n in range(int(name[1:]))]
            _STATEMENTS[key] = insert(table).from_select(columns, union_all(*rows) if len(rows) > 1 else rows[0])
        else:
            _STATEMENTS[key] = _bound(table, f"{name}_", columns)
    return _STATEMENTS[key]


def _params(name: str, values: dict[str, Any]) -> dict[str, Any]:
    return {f"{name}_{column}": value for column, value in values.items()}


async def insert_report(session: AsyncSession, report: dict[str, Any]) -> int:
    """Insert a new report and return its id (SQLite: the engine numbers it)."""
    key = ("report", tuple(report))
    if key not in _STATEMENTS:
        _STATEMENTS[key] = _bound(REPORT_TABLE, "r_", list(report)).returning(REPORT_TABLE.c.id)
    return int((await session.execute(_STATEMENTS[key], _params("r", report))).scalar_one())


async def insert_intake_rows(session: AsyncSession, rows: IntakeRows) -> None:
    """Insert the rows that go with a stored report, one statement each (SQLite: no network between them)."""
    for name, values in _parts(rows):
        await session.execute(_part_statement(name), _params(name, values))


async def insert_intake(session: AsyncSession, rows: IntakeRows) -> None:
    """Insert a report with an id drawn beforehand and every row that goes with it, in one PostgreSQL statement.

    The other rows are data-modifying WITH clauses of the report's INSERT: one round trip instead of six.
    Their foreign keys to the report are checked at the end of the statement, when the report row exists.
    """
    parts = _parts(rows)
    key = ("intake", tuple(rows.report), *(name for name, _ in parts))
    if key not in _STATEMENTS:
        ctes = [_part_statement(name).cte(f"intake_{name}") for name, _ in parts]
        _STATEMENTS[key] = _bound(REPORT_TABLE, "r_", list(rows.report)).add_cte(*ctes)
    params = _params("r", rows.report)
    for name, values in parts:
        params.update(_params(name, values))
    await session.execute(_STATEMENTS[key], params)


# Reports


async def get_report(session: AsyncSession, report_id: int, *, for_update: bool = False) -> Report | None:
    """Return a report by id (locked for update on PostgreSQL when asked)."""
    stmt = select(Report).where(Report.id == report_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def report_by_code(session: AsyncSession, code: str) -> Report | None:
    """Return a report by tracking code."""
    return await session.scalar(select(Report).where(Report.tracking_code == code))


async def tracking_codes(session: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    """Return the tracking codes of reports by id."""
    if not ids:
        return {}
    rows = await session.execute(select(Report.id, Report.tracking_code).where(Report.id.in_(list(ids))))
    return {int(row[0]): str(row[1]) for row in rows}


def local_day_start(day: date) -> datetime:
    """Return the UTC moment a local (province) day starts."""
    return datetime.combine(day, time.min, PROVINCE_TZ).astimezone(UTC)


def published() -> ColumnElement[bool]:
    """Return the condition of reports the public may see (accepted at some point, not rejected)."""
    return and_(Report.accepted_at.is_not(None), Report.status != ReportStatus.REJECTED.value)


def _filter_conditions(filters: ReportFilters, now: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.status:
        conditions.append(Report.status.in_([s.value for s in filters.status]))
    if filters.category:
        conditions.append(Report.category_code == filters.category)
    if filters.unit:
        conditions.append(Report.unit_code == filters.unit)
    if filters.agency:
        conditions.append(Report.agency_code == filters.agency)
    if filters.agency_id is not None:
        conditions.append(Report.agency_id == filters.agency_id)
    if filters.source:
        conditions.append(Report.source == filters.source.value)
    if filters.overdue is True:
        conditions.append(and_(Report.due_at.is_not(None), Report.due_at < now))
    elif filters.overdue is False:
        conditions.append(or_(Report.due_at.is_(None), Report.due_at >= now))
    if filters.q:
        conditions.append(Report.tracking_code.contains(filters.q.strip().upper()))
    if filters.created_from:
        conditions.append(Report.created_at >= local_day_start(filters.created_from))
    if filters.created_to:
        conditions.append(Report.created_at < local_day_start(filters.created_to + timedelta(days=1)))
    return conditions


async def list_reports(
    session: AsyncSession,
    filters: ReportFilters,
    now: datetime,
    *,
    limit: int,
    offset: int,
    public_only: bool = False,
) -> tuple[Sequence[Report], int]:
    """Return one page of reports matching the filters, newest first, and the total count."""
    conditions = _filter_conditions(filters, now)
    if public_only:
        conditions.append(published())
    stmt = select(Report).where(*conditions)
    total = int(await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = (
        await session.scalars(stmt.order_by(Report.created_at.desc(), Report.id.desc()).limit(limit).offset(offset))
    ).all()
    return rows, total


# Duplicate suggestions look at the newest open reports of the box only: enough to find the nearest five.
NEARBY_SCAN_LIMIT = 500


async def reports_near(
    session: AsyncSession,
    category_id: int,
    box: tuple[float, float, float, float],
    *,
    exclude_id: int | None = None,
    limit: int = NEARBY_SCAN_LIMIT,
) -> Sequence[Any]:
    """Return (id, code, status, lat, lon, created, accepted) of open reports of a category in a box, newest first.

    Columns, not entities: every submission runs this, and a busy spot can hold many open reports.
    """
    min_lat, min_lon, max_lat, max_lon = box
    stmt = select(
        Report.id,
        Report.tracking_code,
        Report.status,
        Report.lat,
        Report.lon,
        Report.created_at,
        Report.accepted_at,
    ).where(
        Report.category_id == category_id,
        Report.status.in_([s.value for s in OPEN_STATUSES]),
        Report.lat.between(min_lat, max_lat),
        Report.lon.between(min_lon, max_lon),
    )
    if exclude_id is not None:
        stmt = stmt.where(Report.id != exclude_id)
    return (await session.execute(stmt.order_by(Report.created_at.desc()).limit(limit))).all()


class NearbyReport(NamedTuple):
    """The columns of `reports_near`."""

    id: int
    tracking_code: str
    status: str
    lat: float
    lon: float
    created_at: datetime
    accepted_at: datetime | None


def _hits_and_near_statement(*, accepted_only: bool) -> Any:
    hits = (
        select(func.count().label("hits"), func.min(RateHit.at).label("oldest"))
        .where(RateHit.client_key == bindparam("client_key"), RateHit.at >= bindparam("since"))
        .subquery("hits")
    )
    near = (
        select(
            Report.id,
            Report.tracking_code,
            Report.status,
            Report.lat,
            Report.lon,
            Report.created_at,
            Report.accepted_at,
        )
        .where(
            Report.category_id == bindparam("category_id"),
            Report.status.in_([s.value for s in OPEN_STATUSES]),
            Report.lat.between(bindparam("min_lat"), bindparam("max_lat")),
            Report.lon.between(bindparam("min_lon"), bindparam("max_lon")),
            # The public is shown accepted reports only: the others need not leave the database.
            *([Report.accepted_at.is_not(None)] if accepted_only else []),
        )
        .order_by(Report.created_at.desc())
        .limit(bindparam("limit"))
        .subquery("near")
    )
    # The one row of counts joined to every nearby report (or to none: then the report columns are NULL).
    return (
        select(hits.c.hits, hits.c.oldest, *(column for column in near.c))
        .select_from(hits.outerjoin(near, true()))
        .order_by(near.c.created_at.desc())
    )


# Built once (for staff, and for the public): every submission from the public runs it.
_HITS_AND_NEAR: Final = {flag: _hits_and_near_statement(accepted_only=flag) for flag in (False, True)}


async def rate_hits_and_reports_near(
    session: AsyncSession,
    client_key: str,
    since: datetime,
    category_id: int,
    box: tuple[float, float, float, float],
    *,
    accepted_only: bool,
    limit: int = NEARBY_SCAN_LIMIT,
) -> tuple[int, datetime | None, list[Any]]:
    """Return how many submissions a client made since a moment, the oldest of them, and `reports_near`.

    One round trip for both: every submission from the public needs the two answers. `accepted_only` leaves
    out the reports the caller may not see (the public's), which would only be dropped afterwards.
    """
    min_lat, min_lon, max_lat, max_lon = box
    params = {
        "client_key": client_key,
        "since": since,
        "category_id": category_id,
        "min_lat": min_lat,
        "max_lat": max_lat,
        "min_lon": min_lon,
        "max_lon": max_lon,
        "limit": limit,
    }
    rows = (await session.execute(_HITS_AND_NEAR[accepted_only], params)).all()
    near = [NearbyReport(*row[2:]) for row in rows if row.id is not None]
    return int(rows[0].hits or 0), rows[0].oldest, near


async def timeline(session: AsyncSession, report_id: int, *, public_only: bool = False) -> Sequence[TimelineEntry]:
    """Return a report's timeline, oldest first."""
    stmt = select(TimelineEntry).where(TimelineEntry.report_id == report_id)
    if public_only:
        stmt = stmt.where(TimelineEntry.public.is_(True))
    return (await session.scalars(stmt.order_by(TimelineEntry.at, TimelineEntry.id))).all()


async def photos_of(session: AsyncSession, report_id: int) -> Sequence[Photo]:
    """Return a report's photos, intake first."""
    stmt = select(Photo).where(Photo.report_id == report_id).order_by(Photo.kind.desc(), Photo.id)
    return (await session.scalars(stmt)).all()


async def get_photo(session: AsyncSession, photo_id: int) -> Photo | None:
    """Return a photo by id."""
    return await session.get(Photo, photo_id)


async def followers_of(session: AsyncSession, report_id: int) -> Sequence[Follower]:
    """Return a report's followers."""
    return (await session.scalars(select(Follower).where(Follower.report_id == report_id))).all()


async def linked_ids(session: AsyncSession, report_id: int) -> list[int]:
    """Return the ids of reports linked to a report."""
    rows = await session.scalars(select(Link.linked_report_id).where(Link.report_id == report_id).order_by(Link.id))
    return list(rows)


async def link_exists(session: AsyncSession, report_id: int, other_id: int) -> bool:
    """Tell whether two reports are linked."""
    found = await session.scalar(select(Link.id).where(Link.report_id == report_id, Link.linked_report_id == other_id))
    return found is not None


# Rate limit


async def purge_rate_hits(session: AsyncSession, before: datetime) -> int:
    """Delete rate-limit records older than a moment; return how many."""
    result = await session.execute(delete(RateHit).where(RateHit.at < before))
    return int(getattr(result, "rowcount", 0) or 0)


# Publication, statistics, KPIs


async def public_points(
    session: AsyncSession, filters: ReportFilters, now: datetime, limit: int, box: MapBox | None = None
) -> Sequence[Any]:
    """Return (code, category, status, unit, created, lat, lon) of public reports (inside a box), newest first."""
    stmt = (
        select(
            Report.tracking_code,
            Report.category_code,
            Report.status,
            Report.unit_code,
            Report.created_at,
            Report.lat,
            Report.lon,
        )
        .where(published(), *_filter_conditions(filters, now), *_in_box(box))
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(limit)
    )
    return (await session.execute(stmt)).all()


async def count_public(session: AsyncSession, filters: ReportFilters, now: datetime, box: MapBox | None = None) -> int:
    """Count the public reports matching the filters (inside a box)."""
    stmt = select(func.count()).where(published(), *_filter_conditions(filters, now), *_in_box(box))
    return int(await session.scalar(stmt) or 0)


# Map layers aggregated in SQL: reports binned on the dashboard's Web Mercator grid


class MapBox(NamedTuple):
    """A bounding box in degrees (WGS 84), in the order of GeoJSON and of the `bbox` query parameter."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


@dataclass(frozen=True)
class MapGrid:
    """The Web Mercator grid of a zoom, as coefficients that bin a report with + and * only.

    SQLite may be built without log and tan, so the row of a cell comes from a cubic in latitude around `lat0`
    (the Taylor series of the Mercator projection). Within 1° of `lat0` (the province is 0.9° tall) the error
    is below 1e-9 of the world's side, a ten-thousandth of a cell at zoom 14: a report changes cell only when it
    lies that close to an edge. Columns are linear in longitude, hence exact. `cell` is the same formula in Python.
    """

    zoom: int
    cells: int  # cells per side of the world square
    lat0: float
    row: tuple[float, float, float, float]  # row = c0 + d (c1 + d (c2 + d c3)), d = lat - lat0 in degrees

    @classmethod
    def at(cls, zoom: int, cells_per_tile: int, lat0: float) -> MapGrid:
        """Return the grid of a zoom with `cells_per_tile` cells per tile side, expanded around `lat0`."""
        cells = (2**zoom) * cells_per_tile
        phi = math.radians(lat0)
        sec, tan = 1.0 / math.cos(phi), math.tan(phi)
        # Mercator's y = 1/2 - asinh(tan φ) / 2π; the derivatives of asinh(tan φ) are sec φ, sec φ tan φ and
        # sec φ (sec² φ + tan² φ); d is in degrees, hence the powers of π/180.
        scale = cells / (2.0 * math.pi)
        per_degree = math.pi / 180.0
        return cls(
            zoom,
            cells,
            lat0,
            (
                cells / 2.0 - scale * math.asinh(tan),
                -scale * sec * per_degree,
                -scale * sec * tan * per_degree**2 / 2.0,
                -scale * sec * (sec * sec + tan * tan) * per_degree**3 / 6.0,
            ),
        )

    def cell(self, lon: float, lat: float) -> tuple[int, int]:
        """Return the (column, row) the SQL gives a point."""
        c0, c1, c2, c3 = self.row
        d = lat - self.lat0
        return math.floor((lon + 180.0) * (self.cells / 360.0)), math.floor(c0 + d * (c1 + d * (c2 + d * c3)))


class CellRow(NamedTuple):
    """The reports of one status in one grid cell; the report's own columns when it is the only one."""

    column: int
    row: int
    status: str
    reports: int
    lat: float
    lon: float
    id: int | None
    tracking_code: str | None
    category_code: str | None
    unit_code: str | None
    created_at: datetime | None


def _in_box(box: MapBox | None) -> list[ColumnElement[bool]]:
    if box is None:
        return []
    return [Report.lon.between(box.min_lon, box.max_lon), Report.lat.between(box.min_lat, box.max_lat)]


def _grid_cell(grid: MapGrid, dialect: str) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    c0, c1, c2, c3 = grid.row
    d = Report.lat - grid.lat0
    column = (Report.lon + 180.0) * (grid.cells / 360.0)
    row = c0 + d * (c1 + d * (c2 + d * c3))
    if dialect == "postgresql":
        return func.floor(column), func.floor(row)
    # SQLite has floor() only when built with its math functions; CAST truncates toward zero, which is the floor
    # of these values: both are positive for every longitude above -180° and latitude below 85°.
    return cast(column, Integer), cast(row, Integer)


def _cells_statement(grid: MapGrid, conditions: Sequence[ColumnElement[bool]], dialect: str) -> Select[Any]:
    column, row = _grid_cell(grid, dialect)
    binned = (
        select(column.label("cx"), row.label("cy"), Report.id, Report.status, Report.lat, Report.lon)
        .where(*conditions)
        .subquery()
    )
    # Grouped in a subquery: PostgreSQL would not see the expressions of SELECT and GROUP BY as the same, each
    # with its own parameters. One row per cell and status, so that a cell's colour comes with its count.
    cells = (
        select(
            binned.c.cx,
            binned.c.cy,
            binned.c.status,
            func.count().label("n"),
            func.avg(binned.c.lat).label("lat"),
            func.avg(binned.c.lon).label("lon"),
            func.min(binned.c.id).label("first_id"),
        )
        .group_by(binned.c.cx, binned.c.cy, binned.c.status)
        .subquery()
    )
    # A report alone in its cell is shown as itself: its columns come by primary key, for those rows only.
    alone = Report.__table__.alias("alone")
    return select(
        cells.c.cx,
        cells.c.cy,
        cells.c.status,
        cells.c.n,
        cells.c.lat,
        cells.c.lon,
        alone.c.id,
        alone.c.tracking_code,
        alone.c.category_code,
        alone.c.unit_code,
        alone.c.created_at,
    ).outerjoin(alone, and_(alone.c.id == cells.c.first_id, cells.c.n == 1))


async def _cells(session: AsyncSession, stmt: Select[Any]) -> list[CellRow]:
    return [
        CellRow(int(cx), int(cy), status, int(n), float(lat), float(lon), *rest)
        for cx, cy, status, n, lat, lon, *rest in (await session.execute(stmt)).all()
    ]


def public_cells_statement(
    filters: ReportFilters, now: datetime, grid: MapGrid, box: MapBox | None, dialect: str
) -> Select[Any]:
    """Return the query of `public_cells` (the benchmark runs it on the bare engine too)."""
    return _cells_statement(grid, [published(), *_filter_conditions(filters, now), *_in_box(box)], dialect)


async def public_cells(
    session: AsyncSession, filters: ReportFilters, now: datetime, grid: MapGrid, box: MapBox | None = None
) -> list[CellRow]:
    """Return the public reports matching the filters (inside a box) counted per grid cell and status."""
    dialect = session.get_bind().dialect.name
    return await _cells(session, public_cells_statement(filters, now, grid, box, dialect))


STATS_COLUMNS = {
    StatsGroup.AGENCY: Report.agency_code,
    StatsGroup.CATEGORY: Report.category_code,
    StatsGroup.UNIT: Report.unit_code,
}


def _stats_period(start: date, end: date) -> list[ColumnElement[bool]]:
    return [
        published(),
        Report.created_at >= local_day_start(start),
        Report.created_at < local_day_start(end + timedelta(days=1)),
    ]


async def stats_counts(
    session: AsyncSession, group: StatsGroup | None, start: date, end: date, now: datetime
) -> list[Any]:
    """Return per group (or for all when group is None) the counts behind the public statistics, in one query."""
    key = STATS_COLUMNS[group] if group else literal("all")
    open_values = [s.value for s in OPEN_STATUSES]
    stmt = select(
        key.label("key"),
        func.count().label("received"),
        func.count(Report.resolved_at).label("resolved"),
        func.count().filter(Report.status.in_(open_values)).label("open"),
        func.count().filter(Report.due_at < now).label("overdue"),
        func.count(Report.resolved_on_time).label("judged"),
        func.count().filter(Report.resolved_on_time.is_(True)).label("on_time"),
        func.count(Report.rating).label("rated"),
        func.count().filter(Report.rating == "satisfied").label("satisfied"),
    ).where(*_stats_period(start, end))
    if group:
        stmt = stmt.group_by(key)
    return list((await session.execute(stmt)).all())


async def stats_medians(session: AsyncSession, group: StatsGroup | None, start: date, end: date) -> dict[str, float]:
    """Return the median hours to resolve per group, with window functions (same SQL on both engines)."""
    key = STATS_COLUMNS[group] if group else literal("all")
    partition = [key] if group else None
    ranked = (
        select(
            key.label("key"),
            Report.hours_to_resolve.label("hours"),
            func.row_number().over(partition_by=partition, order_by=Report.hours_to_resolve).label("n"),
            func.count().over(partition_by=partition).label("total"),
        )
        .where(*_stats_period(start, end), Report.hours_to_resolve.is_not(None))
        .subquery()
    )
    # The middle row, or the mean of the two middle rows: n in ((total + 1) / 2, (total + 2) / 2), integer division.
    stmt = (
        select(ranked.c.key, func.avg(ranked.c.hours))
        .where(ranked.c.n.in_([(ranked.c.total + 1) // 2, (ranked.c.total + 2) // 2]))
        .group_by(ranked.c.key)
    )
    return {str(k) if k is not None else "": float(v) for k, v in (await session.execute(stmt)).all()}


def _in_units(unit_codes: Sequence[str] | None) -> list[ColumnElement[bool]]:
    return [] if unit_codes is None else [Report.unit_code.in_(list(unit_codes))]


async def count_received(session: AsyncSession, day: date, unit_codes: Sequence[str] | None = None) -> int:
    """Count the reports submitted on a local day (inside some units when given)."""
    stmt = select(func.count()).where(
        Report.created_at >= local_day_start(day),
        Report.created_at < local_day_start(day + timedelta(days=1)),
        *_in_units(unit_codes),
    )
    return int(await session.scalar(stmt) or 0)


async def count_overdue(session: AsyncSession, now: datetime, unit_codes: Sequence[str] | None = None) -> int:
    """Count the reports whose running deadline has passed."""
    stmt = select(func.count()).where(Report.due_at.is_not(None), Report.due_at < now, *_in_units(unit_codes))
    return int(await session.scalar(stmt) or 0)


async def on_time_counts(
    session: AsyncSession, since: datetime, until: datetime, unit_codes: Sequence[str] | None = None
) -> tuple[int, int]:
    """Return (resolved, resolved on time) for resolutions in a period."""
    row = (
        await session.execute(
            select(func.count(), func.count().filter(Report.resolved_on_time.is_(True))).where(
                Report.resolved_at.is_not(None),
                Report.resolved_at >= since,
                Report.resolved_at < until,
                *_in_units(unit_codes),
            )
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


async def rating_counts(
    session: AsyncSession, since: datetime, until: datetime, unit_codes: Sequence[str] | None = None
) -> tuple[int, int]:
    """Return (rated, satisfied) for ratings given in a period."""
    row = (
        await session.execute(
            select(func.count(), func.count().filter(Report.rating == "satisfied")).where(
                Report.rated_at.is_not(None), Report.rated_at >= since, Report.rated_at < until, *_in_units(unit_codes)
            )
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


async def picture_points(
    session: AsyncSession, since: datetime, unit_codes: Sequence[str] | None, limit: int
) -> Sequence[Any]:
    """Return (id, code, status, category, lat, lon) of public reports still open or updated since a moment."""
    stmt = (
        select(Report.id, Report.tracking_code, Report.status, Report.category_code, Report.lat, Report.lon)
        .where(*_picture_conditions(since, unit_codes))
        .order_by(Report.updated_at.desc())
        .limit(limit)
    )
    return (await session.execute(stmt)).all()


def _picture_conditions(since: datetime, unit_codes: Sequence[str] | None) -> list[ColumnElement[bool]]:
    open_values = [s.value for s in OPEN_STATUSES]
    return [published(), or_(Report.status.in_(open_values), Report.updated_at >= since), *_in_units(unit_codes)]


def picture_cells_statement(
    since: datetime, unit_codes: Sequence[str] | None, grid: MapGrid, dialect: str
) -> Select[Any]:
    """Return the query of `picture_cells` (the benchmark runs it on the bare engine too)."""
    return _cells_statement(grid, _picture_conditions(since, unit_codes), dialect)


async def picture_cells(
    session: AsyncSession, since: datetime, unit_codes: Sequence[str] | None, grid: MapGrid
) -> list[CellRow]:
    """Return the reports of `picture_points` (all of them) counted per grid cell and status."""
    dialect = session.get_bind().dialect.name
    return await _cells(session, picture_cells_statement(since, unit_codes, grid, dialect))


async def seeded_count(session: AsyncSession) -> int:
    """Count every report (the demo seed runs only on an empty table)."""
    return int(await session.scalar(select(func.count()).select_from(Report)) or 0)
