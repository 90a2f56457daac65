"""Every query of the org_unit module."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from .constants import UnitLevel
from .models import Agency, AgencyArea, OrgUnit

Parent = aliased(OrgUnit, name="parent_unit")
ParentAgency = aliased(Agency, name="parent_agency")
UnitRow = tuple[OrgUnit, str | None]
IN_CHUNK = 500  # keeps IN lists well below the bind-parameter limits of both engines

LEVEL_RANK = case(
    (OrgUnit.level == UnitLevel.PROVINCE.value, 0),
    (OrgUnit.level == UnitLevel.DISTRICT.value, 1),
    else_=2,
)


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = list(values)
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]


def valid_on(on: date) -> ColumnElement[bool]:
    """Return the condition "this unit version is in force on `on`" (valid_to is inclusive)."""
    return and_(OrgUnit.valid_from <= on, or_(OrgUnit.valid_to.is_(None), OrgUnit.valid_to >= on))


def _units_with_parent_code() -> Select[OrgUnit, str]:
    return select(OrgUnit, Parent.code).outerjoin(Parent, OrgUnit.parent_id == Parent.id)


def _rows(result: Sequence[Any]) -> list[UnitRow]:
    return [(row[0], row[1]) for row in result]


async def list_units(
    session: AsyncSession,
    *,
    on: date,
    code: str | None = None,
    level: UnitLevel | None = None,
    parent_code: str | None = None,
    folded_query: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[UnitRow], int]:
    """Return unit versions in force on a date, filtered, with the total count before paging."""
    conditions: list[ColumnElement[bool]] = [valid_on(on)]
    if code:
        conditions.append(OrgUnit.code == code)
    if level:
        conditions.append(OrgUnit.level == level.value)
    if parent_code:
        conditions.append(Parent.code == parent_code)
    if folded_query:
        conditions.append(OrgUnit.search_name.contains(folded_query, autoescape=True))
    query = _units_with_parent_code().where(*conditions)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    query = query.order_by(LEVEL_RANK, OrgUnit.search_name, OrgUnit.code).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return _rows((await session.execute(query)).all()), total


async def get_version(session: AsyncSession, code: str, on: date | None) -> UnitRow | None:
    """Return the version of a unit in force on `on`, or its newest version when `on` is None."""
    query = _units_with_parent_code().where(OrgUnit.code == code)
    query = query.where(valid_on(on)) if on else query
    row = (await session.execute(query.order_by(OrgUnit.valid_from.desc()).limit(1))).first()
    return (row[0], row[1]) if row else None


async def unit_by_id(session: AsyncSession, unit_id: int) -> UnitRow | None:
    """Return one unit version by id, with its parent's code."""
    row = (await session.execute(_units_with_parent_code().where(OrgUnit.id == unit_id))).first()
    return (row[0], row[1]) if row else None


async def geometry_of(session: AsyncSession, unit_id: int) -> dict[str, Any] | None:
    """Return a unit version's GeoJSON geometry."""
    geometry: dict[str, Any] | None = await session.scalar(select(OrgUnit.geometry).where(OrgUnit.id == unit_id))
    return geometry


async def geometries(session: AsyncSession, unit_ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """Return the geometries of several unit versions by id."""
    found: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(unit_ids):
        rows = await session.execute(select(OrgUnit.id, OrgUnit.geometry).where(OrgUnit.id.in_(chunk)))
        found.update({row[0]: row[1] for row in rows if row[1] is not None})
    return found


async def bbox_candidates(session: AsyncSession, lon: float, lat: float, on: date) -> list[tuple[int, datetime]]:
    """Return (id, updated_at) of units in force whose bounding box holds the point (SQL pre-filter)."""
    query = select(OrgUnit.id, OrgUnit.updated_at).where(
        valid_on(on),
        OrgUnit.min_lon <= lon,
        OrgUnit.max_lon >= lon,
        OrgUnit.min_lat <= lat,
        OrgUnit.max_lat >= lat,
    )
    return [(row[0], row[1]) for row in await session.execute(query)]


async def units_by_ids(session: AsyncSession, unit_ids: Collection[int]) -> list[UnitRow]:
    """Return unit versions by id, with their parents' codes."""
    rows: list[UnitRow] = []
    for chunk in _chunks(unit_ids):
        rows.extend(_rows((await session.execute(_units_with_parent_code().where(OrgUnit.id.in_(chunk)))).all()))
    return rows


async def links_on(session: AsyncSession, on: date) -> list[tuple[str, str | None]]:
    """Return (code, parent code) of every unit in force on a date."""
    query = select(OrgUnit.code, Parent.code).outerjoin(Parent, OrgUnit.parent_id == Parent.id).where(valid_on(on))
    return [(row[0], row[1]) for row in await session.execute(query)]


async def versions_of(session: AsyncSession, codes: Collection[str]) -> list[OrgUnit]:
    """Return every version of the given unit codes (geometry not loaded)."""
    found: list[OrgUnit] = []
    for chunk in _chunks(sorted(set(codes))):
        found.extend((await session.scalars(select(OrgUnit).where(OrgUnit.code.in_(chunk)))).all())
    return found


async def features(
    session: AsyncSession, *, on: date, level: UnitLevel | None, parent_code: str | None, code: str | None
) -> list[tuple[OrgUnit, str | None, dict[str, Any]]]:
    """Return units in force that have a boundary, with parent code and geometry."""
    query = (
        select(OrgUnit, Parent.code, OrgUnit.geometry)
        .outerjoin(Parent, OrgUnit.parent_id == Parent.id)
        .where(valid_on(on), OrgUnit.min_lon.is_not(None))
    )
    if level:
        query = query.where(OrgUnit.level == level.value)
    if parent_code:
        query = query.where(Parent.code == parent_code)
    if code:
        query = query.where(OrgUnit.code == code)
    rows = await session.execute(query.order_by(LEVEL_RANK, OrgUnit.code))
    return [(row[0], row[1], row[2]) for row in rows if row[2] is not None]


async def has_geometry_source(session: AsyncSession, source: str, on: date) -> bool:
    """Tell whether any unit in force on a date has a boundary from this source."""
    query = select(OrgUnit.id).where(valid_on(on), OrgUnit.geometry_source == source).limit(1)
    return await session.scalar(query) is not None


def add(session: AsyncSession, row: OrgUnit | Agency) -> None:
    """Stage a new row."""
    session.add(row)


async def flush(session: AsyncSession) -> None:
    """Send pending changes so that new rows get their ids."""
    await session.flush()


# Agencies


def _agencies_with_parent_code() -> Select[Agency, str]:
    return select(Agency, ParentAgency.code).outerjoin(ParentAgency, Agency.parent_id == ParentAgency.id)


async def list_agencies(
    session: AsyncSession,
    *,
    kind: str | None = None,
    area_codes: Collection[str] | None = None,
    folded_query: str | None = None,
    include_inactive: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[tuple[Agency, str | None]], int]:
    """Return agencies, filtered, with their parent's code and the total before paging."""
    conditions: list[ColumnElement[bool]] = []
    if kind:
        conditions.append(Agency.kind == kind)
    if area_codes is not None:
        covered = select(AgencyArea.agency_id).where(AgencyArea.unit_code.in_(list(area_codes)))
        conditions.append(Agency.id.in_(covered))
    if folded_query:
        conditions.append(Agency.search_name.contains(folded_query, autoescape=True))
    if not include_inactive:
        conditions.append(Agency.is_active.is_(True))
    query = _agencies_with_parent_code().where(*conditions)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    query = query.order_by(Agency.search_name, Agency.code).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [(row[0], row[1]) for row in await session.execute(query)], total


async def get_agency(session: AsyncSession, code: str) -> tuple[Agency, str | None] | None:
    """Return an agency by code, with its parent's code."""
    row = (await session.execute(_agencies_with_parent_code().where(Agency.code == code))).first()
    return (row[0], row[1]) if row else None


async def agency_ids_by_code(session: AsyncSession, codes: Collection[str]) -> dict[str, int]:
    """Return the ids of agencies by code."""
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(set(codes))):
        found.update(
            {
                row[0]: row[1]
                for row in await session.execute(select(Agency.code, Agency.id).where(Agency.code.in_(chunk)))
            }
        )
    return found


async def areas_of(session: AsyncSession, agency_ids: Collection[int]) -> dict[int, list[str]]:
    """Return the unit codes each agency covers."""
    found: dict[int, list[str]] = {agency_id: [] for agency_id in agency_ids}
    for chunk in _chunks(agency_ids):
        query = select(AgencyArea.agency_id, AgencyArea.unit_code).where(AgencyArea.agency_id.in_(chunk))
        for agency_id, unit_code in await session.execute(query.order_by(AgencyArea.unit_code)):
            found[agency_id].append(unit_code)
    return found


async def existing_unit_codes(session: AsyncSession, codes: Collection[str]) -> set[str]:
    """Return which of the codes name at least one unit version."""
    found: set[str] = set()
    for chunk in _chunks(sorted(set(codes))):
        found.update(await session.scalars(select(OrgUnit.code).where(OrgUnit.code.in_(chunk)).distinct()))
    return found


async def set_areas(session: AsyncSession, agency_id: int, codes: Collection[str]) -> bool:
    """Make an agency cover exactly these unit codes; tell whether anything changed."""
    # ORM deletes, not a bulk statement, so that the audit log sees every removed area.
    current = {
        area.unit_code: area
        for area in await session.scalars(select(AgencyArea).where(AgencyArea.agency_id == agency_id))
    }
    wanted = set(codes)
    if set(current) == wanted:
        return False
    for code in set(current) - wanted:
        await session.delete(current[code])
    session.add_all(AgencyArea(agency_id=agency_id, unit_code=code) for code in sorted(wanted - set(current)))
    return True


async def agency_by_code(session: AsyncSession, code: str) -> Agency | None:
    """Return the agency row with this code, for updating."""
    agency: Agency | None = await session.scalar(select(Agency).where(Agency.code == code))
    return agency
