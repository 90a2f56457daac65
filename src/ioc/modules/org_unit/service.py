"""Business rules of administrative units and agencies: lookups, point location and imports (never commits)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.events import record_event
from ioc.core.http import Page, PageParams
from ioc.core.time import local_today

from . import repository
from .constants import PAGE_PATH, GeometrySource, ImportKind, UnitLevel
from .events import BoundariesImported, UnitsImported
from .exceptions import (
    AgencyNotFound,
    GeometryNotFound,
    OrgUnitImportFailed,
    UnitNotFound,
    UnknownAgencyArea,
)
from .geometry import ShapeCache, covers
from .importers import BoundaryRecord, UnitRecord, parse_boundaries_geojson, parse_units_csv, problem
from .models import Agency, OrgUnit
from .schemas import (
    AgencyCreate,
    AgencyFilters,
    AgencyRead,
    GeoJsonFeature,
    GeoJsonFeatureCollection,
    ImportProblem,
    ImportReport,
    OrgUnitFilters,
    OrgUnitLocated,
    OrgUnitRead,
)
from .text import fold

SCHEMATIC_NOTE = (
    "Ranh giới xã/phường là SƠ ĐỒ MINH HOẠ, không phải địa giới hành chính chính thức. / "
    "Commune boundaries are SCHEMATIC, not official administrative boundaries."
)

# Parsed boundaries survive between requests; keys include the row's update time, so edits invalidate them.
_shapes = ShapeCache()

UnitKey = tuple[str, date]  # (code, valid_from): the identity of a unit version


def _day(on: date | None) -> date:
    return on or local_today()


def _in_force(unit: OrgUnit, on: date) -> bool:
    return unit.valid_from <= on and (unit.valid_to is None or unit.valid_to >= on)


def to_read(unit: OrgUnit, parent_code: str | None) -> OrgUnitRead:
    """Build the read schema of a unit version."""
    has_box = None not in (unit.min_lon, unit.min_lat, unit.max_lon, unit.max_lat)
    return OrgUnitRead(
        id=unit.id,
        code=unit.code,
        name=unit.name,
        name_en=unit.name_en,
        level=UnitLevel(unit.level),
        unit_type=unit.unit_type,
        parent_code=parent_code,
        valid_from=unit.valid_from,
        valid_to=unit.valid_to,
        has_geometry=has_box,
        bbox=[unit.min_lon, unit.min_lat, unit.max_lon, unit.max_lat] if has_box else None,
        geometry_source=GeometrySource(unit.geometry_source) if unit.geometry_source else None,
        source_epsg=unit.source_epsg,
    )


# Units: reading


async def list_units(session: AsyncSession, filters: OrgUnitFilters, paging: PageParams) -> Page[OrgUnitRead]:
    """List unit versions in force on a date (default today), filtered and paged."""
    rows, total = await repository.list_units(
        session,
        on=_day(filters.valid_on),
        code=filters.code,
        level=filters.level,
        parent_code=filters.parent,
        folded_query=fold(filters.q) if filters.q else None,
        limit=paging.limit,
        offset=paging.offset,
    )
    return Page(items=[to_read(*row) for row in rows], total=total, limit=paging.limit, offset=paging.offset)


async def units_valid_on(
    session: AsyncSession, on: date | None = None, level: UnitLevel | None = None
) -> list[OrgUnitRead]:
    """Return every unit version in force on a date (default today)."""
    rows, _total = await repository.list_units(session, on=_day(on), level=level)
    return [to_read(*row) for row in rows]


async def _version(session: AsyncSession, code: str, on: date | None) -> repository.UnitRow | None:
    """Return the version in force on `on`; without a date, today's version, else the newest one."""
    if on is not None:
        return await repository.get_version(session, code, on)
    return await repository.get_version(session, code, local_today()) or await repository.get_version(
        session, code, None
    )


async def get_unit(session: AsyncSession, code: str, on: date | None = None) -> OrgUnitRead | None:
    """Return the unit version in force on `on` (default: today's, else the newest, e.g. an abolished one)."""
    row = await _version(session, code, on)
    return to_read(*row) if row else None


async def require_unit(session: AsyncSession, code: str, on: date | None = None) -> OrgUnitRead:
    """Return a unit like `get_unit`, or raise UnitNotFound."""
    unit = await get_unit(session, code, on)
    if unit is None:
        raise UnitNotFound(code, on)
    return unit


async def _ancestor_rows(session: AsyncSession, unit: OrgUnit, on: date) -> list[repository.UnitRow]:
    """Return the ancestors of a unit version, from the top of the hierarchy down."""
    chain: list[repository.UnitRow] = []
    seen = {unit.id}
    current = unit
    while current.parent_id is not None:
        row = await repository.unit_by_id(session, current.parent_id)
        if row is None:
            break
        if not _in_force(row[0], on):
            # A parent that got a new version since: show the version in force on the date asked for.
            newer = await repository.get_version(session, row[0].code, on)
            row = newer or row
        if row[0].id in seen:
            break
        seen.add(row[0].id)
        chain.append(row)
        current = row[0]
    chain.reverse()
    return chain


async def ancestors(session: AsyncSession, code: str, on: date | None = None) -> list[OrgUnitRead]:
    """Return the ancestors of a unit in force on a date (default today), top first."""
    day = _day(on)
    row = await repository.get_version(session, code, day)
    if row is None:
        raise UnitNotFound(code, day)
    return [to_read(*ancestor) for ancestor in await _ancestor_rows(session, row[0], day)]


async def children(session: AsyncSession, code: str, on: date | None = None) -> list[OrgUnitRead]:
    """Return the units directly under a unit on a date (default today)."""
    rows, _total = await repository.list_units(session, on=_day(on), parent_code=code)
    return [to_read(*row) for row in rows]


async def units_within(session: AsyncSession, code: str, on: date | None = None) -> list[str]:
    """Return the codes of every unit below a unit (children, grandchildren...) on a date (default today)."""
    day = _day(on)
    links = await repository.links_on(session, day)
    if not any(unit_code == code for unit_code, _parent in links):
        raise UnitNotFound(code, day)
    below: dict[str | None, list[str]] = defaultdict(list)
    for unit_code, parent_code in links:
        below[parent_code].append(unit_code)
    found: list[str] = []
    seen = {code}
    queue = [code]
    while queue:
        for child in below.get(queue.pop(), []):
            if child not in seen:
                seen.add(child)
                found.append(child)
                queue.append(child)
    return sorted(found)


async def locate(session: AsyncSession, lat: float, lon: float, on: date | None = None) -> OrgUnitLocated | None:
    """Return the deepest unit in force on a date whose boundary holds the point, with its ancestors."""
    day = _day(on)
    candidates = await repository.bbox_candidates(session, lon, lat, day)
    missing = [unit_id for unit_id, updated in candidates if _shapes.get((unit_id, updated)) is None]
    loaded = await repository.geometries(session, missing) if missing else {}
    areas: dict[int, float] = {}
    for unit_id, updated in candidates:
        geometry = _shapes.get((unit_id, updated))
        if geometry is None and unit_id in loaded:
            geometry = _shapes.put((unit_id, updated), loaded[unit_id])
        if geometry is not None and covers(geometry, lon, lat):
            areas[unit_id] = float(geometry.area)
    if not areas:
        return None
    best: tuple[tuple[int, float, str], repository.UnitRow, list[repository.UnitRow]] | None = None
    for row in await repository.units_by_ids(session, list(areas)):
        chain = await _ancestor_rows(session, row[0], day)
        # Deepest first; on a shared border, the smaller unit, then the lower code, so answers are stable.
        rank = (-len(chain), areas[row[0].id], row[0].code)
        if best is None or rank < best[0]:
            best = (rank, row, chain)
    assert best is not None
    _rank, row, chain = best
    return OrgUnitLocated(**to_read(*row).model_dump(), ancestors=[to_read(*ancestor) for ancestor in chain])


async def locate_point(session: AsyncSession, lat: float, lon: float, on: date | None = None) -> OrgUnitRead | None:
    """Return the deepest unit holding the point on a date (default today), or None outside every unit."""
    located = await locate(session, lat, lon, on)
    return OrgUnitRead(**located.model_dump(exclude={"ancestors"})) if located else None


def _feature_properties(unit: OrgUnit, parent_code: str | None) -> dict[str, object]:
    return {
        "code": unit.code,
        "name": unit.name,
        "name_en": unit.name_en,
        "level": unit.level,
        "unit_type": unit.unit_type,
        "parent_code": parent_code,
        "valid_from": unit.valid_from.isoformat(),
        "valid_to": unit.valid_to.isoformat() if unit.valid_to else None,
        "geometry_source": unit.geometry_source,
        "schematic": unit.geometry_source == GeometrySource.SCHEMATIC.value,
        "url": f"{PAGE_PATH}/{quote(unit.code)}",
    }


async def unit_geometry(session: AsyncSession, code: str, on: date | None = None) -> GeoJsonFeature:
    """Return a unit's boundary as a GeoJSON Feature."""
    row = await _version(session, code, on)
    if row is None:
        raise UnitNotFound(code, on)
    geometry = await repository.geometry_of(session, row[0].id)
    if geometry is None:
        raise GeometryNotFound(code)
    return GeoJsonFeature(id=code, properties=_feature_properties(*row), geometry=geometry)


async def units_geojson(
    session: AsyncSession,
    *,
    on: date | None = None,
    level: UnitLevel | None = None,
    parent: str | None = None,
    code: str | None = None,
) -> GeoJsonFeatureCollection:
    """Return the boundaries of units in force on a date as a FeatureCollection."""
    rows = await repository.features(session, on=_day(on), level=level, parent_code=parent, code=code)
    features = [
        GeoJsonFeature(id=unit.code, properties=_feature_properties(unit, parent_code), geometry=geometry)
        for unit, parent_code, geometry in rows
    ]
    schematic = any(feature.properties["schematic"] for feature in features)
    return GeoJsonFeatureCollection(features=features, note=SCHEMATIC_NOTE if schematic else None)


async def has_schematic_boundaries(session: AsyncSession, on: date | None = None) -> bool:
    """Tell whether any unit in force shows a schematic boundary (pages then say so)."""
    return await repository.has_geometry_source(session, GeometrySource.SCHEMATIC.value, _day(on))


# Agencies


def _agency_read(agency: Agency, parent_code: str | None, unit_codes: list[str]) -> AgencyRead:
    return AgencyRead(
        id=agency.id,
        code=agency.code,
        name=agency.name,
        name_en=agency.name_en,
        kind=agency.kind,  # validated into AgencyKind by pydantic
        parent_code=parent_code,
        email=agency.email,
        phone=agency.phone,
        is_active=agency.is_active,
        unit_codes=unit_codes,
    )


async def _agency_reads(session: AsyncSession, rows: list[tuple[Agency, str | None]]) -> list[AgencyRead]:
    areas = await repository.areas_of(session, [agency.id for agency, _parent in rows])
    return [_agency_read(agency, parent, areas.get(agency.id, [])) for agency, parent in rows]


async def _responsibility_chain(session: AsyncSession, code: str, on: date) -> list[str] | None:
    """Return the unit's code then its ancestors' codes upwards, or None if the unit is unknown."""
    row = await repository.get_version(session, code, on)
    if row is None:
        return None
    chain = await _ancestor_rows(session, row[0], on)
    return [code, *(ancestor.code for ancestor, _parent in reversed(chain))]


async def list_agencies(session: AsyncSession, filters: AgencyFilters, paging: PageParams) -> Page[AgencyRead]:
    """List agencies; `unit` keeps those responsible for the unit, directly or through a unit above it."""
    area_codes: list[str] | None = None
    if filters.unit:
        area_codes = await _responsibility_chain(session, filters.unit, local_today()) or [filters.unit]
    rows, total = await repository.list_agencies(
        session,
        kind=filters.kind.value if filters.kind else None,
        area_codes=area_codes,
        folded_query=fold(filters.q) if filters.q else None,
        include_inactive=filters.include_inactive,
        limit=paging.limit,
        offset=paging.offset,
    )
    return Page(items=await _agency_reads(session, rows), total=total, limit=paging.limit, offset=paging.offset)


async def get_agency(session: AsyncSession, code: str) -> AgencyRead:
    """Return an agency by code or raise AgencyNotFound."""
    row = await repository.get_agency(session, code)
    if row is None:
        raise AgencyNotFound(code)
    return (await _agency_reads(session, [row]))[0]


async def agencies_for_unit(session: AsyncSession, code: str, on: date | None = None) -> list[AgencyRead]:
    """Return the active agencies responsible for a unit, the most local first (commune before province)."""
    day = _day(on)
    chain = await _responsibility_chain(session, code, day)
    if chain is None:
        raise UnitNotFound(code, day)
    rows, _total = await repository.list_agencies(session, area_codes=chain)
    agencies = await _agency_reads(session, rows)
    position = {unit_code: index for index, unit_code in enumerate(chain)}
    return sorted(
        agencies, key=lambda a: (min(position.get(c, len(chain)) for c in a.unit_codes), fold(a.name), a.code)
    )


async def agencies_for_point(session: AsyncSession, lat: float, lon: float, on: date | None = None) -> list[AgencyRead]:
    """Return the agencies responsible for the unit holding a point (empty outside the province)."""
    located = await locate(session, lat, lon, on)
    return await agencies_for_unit(session, located.code, on) if located else []


async def upsert_agency(session: AsyncSession, data: AgencyCreate) -> bool:
    """Create or update an agency by code and set its areas; return True if anything changed."""
    unknown = sorted(set(data.unit_codes) - await repository.existing_unit_codes(session, data.unit_codes))
    if unknown:
        raise UnknownAgencyArea(data.code, unknown)
    parent_id: int | None = None
    if data.parent_code:
        parent_ids = await repository.agency_ids_by_code(session, [data.parent_code])
        if data.parent_code not in parent_ids:
            raise AgencyNotFound(data.parent_code)
        parent_id = parent_ids[data.parent_code]
    fields = {
        "name": data.name,
        "name_en": data.name_en,
        "search_name": fold(data.name),
        "kind": data.kind.value,
        "parent_id": parent_id,
        "email": data.email,
        "phone": data.phone,
        "is_active": data.is_active,
    }
    agency = await repository.agency_by_code(session, data.code)
    changed = agency is None
    if agency is None:
        agency = Agency(code=data.code, **fields)
        repository.add(session, agency)
        await repository.flush(session)
    else:
        for key, value in fields.items():
            if getattr(agency, key) != value:
                setattr(agency, key, value)
                changed = True
    areas_changed = await repository.set_areas(session, agency.id, data.unit_codes)
    return changed or areas_changed


# Units: imports


@dataclass
class _Version:
    """One version of a code as it will be after the import: from the database, the file, or both."""

    valid_from: date
    valid_to: date | None
    row: int | None  # the file row that sets it, if any


def _check_overlaps(versions: dict[str, list[_Version]], problems: list[ImportProblem]) -> None:
    for code, items in versions.items():
        ordered = sorted(items, key=lambda v: v.valid_from)
        for earlier, later in itertools.pairwise(ordered):
            if earlier.valid_to is None or earlier.valid_to >= later.valid_from:
                row = later.row if later.row is not None else earlier.row
                problems.append(
                    problem(
                        f"Hai phiên bản của mã {code} cùng có hiệu lực (từ {earlier.valid_from} và từ "
                        f"{later.valid_from}); hãy đặt ngày kết thúc cho phiên bản trước.",
                        f"Two versions of code {code} are in force at once (from {earlier.valid_from} and from "
                        f"{later.valid_from}); set valid_to on the earlier one.",
                        row=row,
                        column="valid_from",
                    )
                )


def _parent_in_force(versions: list[_Version], on: date) -> _Version | None:
    for version in versions:
        if version.valid_from <= on and (version.valid_to is None or version.valid_to >= on):
            return version
    return None


async def _has_cycle(
    session: AsyncSession, start: UnitKey, file_parents: dict[UnitKey, UnitKey], existing: dict[UnitKey, OrgUnit]
) -> bool:
    """Follow parent links (the file's, then the database's) and tell whether they come back to `start`."""
    seen = {start}
    key: UnitKey | None = file_parents.get(start)
    while key is not None:
        if key in seen:
            return key == start
        seen.add(key)
        if key in file_parents:
            key = file_parents[key]
            continue
        unit = existing.get(key)
        if unit is None or unit.parent_id is None:
            return False
        row = await repository.unit_by_id(session, unit.parent_id)
        if row is None:
            return False
        existing.setdefault((row[0].code, row[0].valid_from), row[0])
        key = (row[0].code, row[0].valid_from)
    return False


def _layers(records: list[UnitRecord], file_parents: dict[UnitKey, UnitKey]) -> list[list[UnitRecord]]:
    """Group records so that a parent created by the file is written (and gets its id) before its children."""
    keys = {(record.unit.code, record.unit.valid_from) for record in records}
    depth: dict[UnitKey, int] = {}

    def depth_of(key: UnitKey) -> int:
        # Cycles were rejected before writing, so this recursion ends.
        if key not in depth:
            parent = file_parents.get(key)
            depth[key] = depth_of(parent) + 1 if parent is not None and parent in keys else 0
        return depth[key]

    layers: dict[int, list[UnitRecord]] = defaultdict(list)
    for record in records:
        layers[depth_of((record.unit.code, record.unit.valid_from))].append(record)
    return [layers[level] for level in sorted(layers)]


async def upsert_units(
    session: AsyncSession, records: list[UnitRecord], problems: list[ImportProblem] | None = None
) -> ImportReport:
    """Create or update unit versions keyed on (code, valid_from); all or nothing.

    Parents are found by code among the versions in force on the child's `valid_from`, in the file or
    already stored. Raises OrgUnitImportFailed listing every fault (with `problems` from parsing).
    """
    problems = list(problems or [])
    codes = {r.unit.code for r in records} | {r.unit.parent_code for r in records if r.unit.parent_code}
    existing = {(unit.code, unit.valid_from): unit for unit in await repository.versions_of(session, codes)}
    versions: dict[str, dict[date, _Version]] = defaultdict(dict)
    for (code, valid_from), stored_unit in existing.items():
        versions[code][valid_from] = _Version(valid_from, stored_unit.valid_to, None)
    for record in records:
        versions[record.unit.code][record.unit.valid_from] = _Version(
            record.unit.valid_from, record.unit.valid_to, record.row
        )
    _check_overlaps({code: list(items.values()) for code, items in versions.items()}, problems)

    file_parents: dict[UnitKey, UnitKey] = {}
    for record in records:
        entry = record.unit
        if not entry.parent_code:
            continue
        parent = _parent_in_force(list(versions.get(entry.parent_code, {}).values()), entry.valid_from)
        if parent is None:
            problems.append(
                problem(
                    f"Không có đơn vị cấp trên mã {entry.parent_code} có hiệu lực vào ngày "
                    f"{entry.valid_from:%d/%m/%Y}.",
                    f"No parent unit with code {entry.parent_code} is in force on {entry.valid_from.isoformat()}.",
                    row=record.row,
                    column="parent_code",
                )
            )
            continue
        file_parents[(entry.code, entry.valid_from)] = (entry.parent_code, parent.valid_from)
    for record in records:
        key = (record.unit.code, record.unit.valid_from)
        if key in file_parents and await _has_cycle(session, key, file_parents, dict(existing)):
            problems.append(
                problem(
                    f"Quan hệ cấp trên của mã {record.unit.code} tạo thành vòng lặp.",
                    f"The parent links of code {record.unit.code} form a cycle.",
                    row=record.row,
                    column="parent_code",
                )
            )
    if problems:
        raise OrgUnitImportFailed(sorted(problems, key=lambda p: (p.row or 0, p.column or "")))

    report = ImportReport(kind=ImportKind.UNITS)
    units: dict[UnitKey, OrgUnit] = dict(existing)
    for layer in _layers(records, file_parents):
        for record in layer:
            entry = record.unit
            key = (entry.code, entry.valid_from)
            parent_key = file_parents.get(key)
            fields = {
                "name": entry.name,
                "name_en": entry.name_en,
                "search_name": fold(entry.name),
                "level": entry.level.value,
                "unit_type": entry.unit_type,
                "parent_id": units[parent_key].id if parent_key else None,
                "valid_to": entry.valid_to,
            }
            stored = units.get(key)
            if stored is None:
                stored = OrgUnit(code=entry.code, valid_from=entry.valid_from, **fields)
                repository.add(session, stored)
                units[key] = stored
                report.created += 1
                report.codes.append(entry.code)
                continue
            changed = [name for name, value in fields.items() if getattr(stored, name) != value]
            for name in changed:
                setattr(stored, name, fields[name])
            if changed:
                report.updated += 1
                report.codes.append(entry.code)
            else:
                report.unchanged += 1
        await repository.flush(session)
    if report.created or report.updated:
        record_event(session, UnitsImported(created=report.created, updated=report.updated, codes=report.codes))
    return report


async def import_units_csv(session: AsyncSession, data: bytes) -> ImportReport:
    """Import unit versions from a CSV file (see docs/modules/org_unit.md); all or nothing."""
    records, problems = parse_units_csv(data)
    if problems and not records:
        raise OrgUnitImportFailed(problems)
    return await upsert_units(session, records, problems)


def _boundary_target(
    record: BoundaryRecord, versions: list[OrgUnit], code_property: str, problems: list[ImportProblem]
) -> OrgUnit | None:
    if not versions:
        problems.append(
            problem(
                f"Không có đơn vị hành chính mã {record.code}; hãy nhập danh sách đơn vị trước.",
                f"No administrative unit with code {record.code}; import the units first.",
                feature=record.index,
                column=code_property,
            )
        )
        return None
    if record.valid_from is None:
        return max(versions, key=lambda unit: unit.valid_from)
    for unit in versions:
        if unit.valid_from == record.valid_from:
            return unit
    problems.append(
        problem(
            f"Mã {record.code} không có phiên bản hiệu lực từ {record.valid_from.isoformat()}.",
            f"Code {record.code} has no version valid from {record.valid_from.isoformat()}.",
            feature=record.index,
            column="valid_from",
        )
    )
    return None


async def import_boundaries_geojson(
    session: AsyncSession,
    data: bytes,
    *,
    code_property: str = "code",
    source: GeometrySource = GeometrySource.OFFICIAL,
    source_epsg: int | None = None,
) -> ImportReport:
    """Set unit boundaries from a GeoJSON FeatureCollection (WGS 84); all or nothing.

    Each feature names its unit in property `code_property`; it updates the newest version of that
    code, or the version given by an optional `valid_from` property.
    """
    records, problems = parse_boundaries_geojson(data, code_property)
    by_code: dict[str, list[OrgUnit]] = defaultdict(list)
    for unit in await repository.versions_of(session, {record.code for record in records}):
        by_code[unit.code].append(unit)
    targets: list[tuple[OrgUnit, BoundaryRecord]] = []
    claimed: dict[int, int] = {}
    for record in records:
        target = _boundary_target(record, by_code.get(record.code, []), code_property, problems)
        if target is None:
            continue
        if target.id in claimed:
            problems.append(
                problem(
                    f"Đối tượng số {claimed[target.id]} đã đặt ranh giới cho cùng phiên bản mã {record.code}.",
                    f"Feature {claimed[target.id]} already sets the boundary of the same version of {record.code}.",
                    feature=record.index,
                    column=code_property,
                )
            )
            continue
        claimed[target.id] = record.index
        targets.append((target, record))
    if problems:
        raise OrgUnitImportFailed(sorted(problems, key=lambda p: p.feature if p.feature is not None else -1))

    report = ImportReport(kind=ImportKind.BOUNDARIES)
    current = await repository.geometries(session, [unit.id for unit, _record in targets])
    for unit, record in targets:
        checked = record.geometry
        fields = {
            "min_lon": checked.min_lon,
            "min_lat": checked.min_lat,
            "max_lon": checked.max_lon,
            "max_lat": checked.max_lat,
            "geometry_source": (GeometrySource.SCHEMATIC if record.schematic else source).value,
            "source_epsg": source_epsg,
        }
        changed = current.get(unit.id) != checked.geojson or any(getattr(unit, k) != v for k, v in fields.items())
        if not changed:
            report.unchanged += 1
            continue
        unit.geometry = checked.geojson
        for name, value in fields.items():
            setattr(unit, name, value)
        report.updated += 1
        report.codes.append(unit.code)
    await repository.flush(session)
    if report.updated:
        record_event(
            session, BoundariesImported(updated=report.updated, codes=report.codes, geometry_source=source.value)
        )
    return report
