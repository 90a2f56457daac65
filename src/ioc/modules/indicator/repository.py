"""Every query of the indicator module."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .constants import ALL_COCS
from .models import (
    CategoryCombo,
    CategoryOptionCombo,
    DataElement,
    DataSet,
    DataSetElement,
    DataSetSource,
    DataValue,
    ImportRecord,
    Indicator,
    MinMax,
    NoticeSent,
    Period,
    ReportingUnit,
    Rollup,
    UnitAncestor,
    UnitMapping,
    ValidationRule,
    ValueHistory,
)
from .models import Report as ReportRow
from .periods import Period as PeriodValue

# Rows per statement when writing in bulk: below both engines' bound-parameter limits.
CHUNK = 2000


@dataclass(frozen=True)
class ElementInfo:
    """What the import and analytics need to know about a data element."""

    id: int
    code: str
    name: str
    name_en: str
    value_type: str
    aggregation_type: str
    zero_is_significant: bool
    combo_id: int
    combo_code: str
    unit_label: str
    pack: str


@dataclass(frozen=True)
class DataSetInfo:
    """A data set with its element ids, in form order."""

    id: int
    code: str
    name: str
    name_en: str
    pack: str
    period_type: str
    timely_days: int
    expiry_days: int
    open_future_periods: int
    open_from: date | None
    element_ids: tuple[int, ...]
    sections: tuple[str, ...]


@dataclass(frozen=True)
class UnitInfo:
    """One reporting unit version."""

    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    valid_from: date
    valid_to: date | None


@dataclass
class Catalog:
    """The metadata of the module, loaded once per request: small tables, read whole."""

    elements: dict[str, ElementInfo] = field(default_factory=dict)
    elements_by_id: dict[int, ElementInfo] = field(default_factory=dict)
    combos: dict[int, str] = field(default_factory=dict)
    cocs: dict[tuple[int, str], int] = field(default_factory=dict)  # (combo id, coc code) → id
    coc_codes: dict[int, str] = field(default_factory=dict)
    coc_names: dict[int, tuple[str, str]] = field(default_factory=dict)
    cocs_of_combo: dict[int, list[int]] = field(default_factory=dict)
    data_sets: dict[str, DataSetInfo] = field(default_factory=dict)
    data_sets_by_id: dict[int, DataSetInfo] = field(default_factory=dict)
    sets_of_element: dict[int, list[int]] = field(default_factory=dict)
    units: dict[str, list[UnitInfo]] = field(default_factory=dict)
    units_by_id: dict[int, UnitInfo] = field(default_factory=dict)
    sources: dict[tuple[int, int], dict[int, str]] = field(default_factory=dict)  # (ds, unit) → agency id → code
    agencies: dict[str, int] = field(default_factory=dict)
    agency_codes: dict[int, str] = field(default_factory=dict)

    def unit_on(self, code: str, day: date) -> UnitInfo | None:
        """Return the version of a unit code in force on a day."""
        for unit in self.units.get(code, []):
            if unit.valid_from <= day and (unit.valid_to is None or day <= unit.valid_to):
                return unit
        return None

    def current_unit(self, code: str) -> UnitInfo | None:
        """Return the newest version of a unit code."""
        versions = self.units.get(code, [])
        return max(versions, key=lambda u: u.valid_from) if versions else None


async def load_catalog(session: AsyncSession) -> Catalog:
    """Read every metadata table into a Catalog."""
    catalog = Catalog()
    combos = {c.id: c.code for c in (await session.scalars(select(CategoryCombo))).all()}
    catalog.combos = combos
    for coc in (await session.scalars(select(CategoryOptionCombo).order_by(CategoryOptionCombo.sort_order))).all():
        catalog.cocs[(coc.combo_id, coc.code)] = coc.id
        catalog.coc_codes[coc.id] = coc.code
        catalog.coc_names[coc.id] = (coc.name, coc.name_en)
        catalog.cocs_of_combo.setdefault(coc.combo_id, []).append(coc.id)
    for de in (await session.scalars(select(DataElement))).all():
        info = ElementInfo(
            de.id,
            de.code,
            de.name,
            de.name_en,
            de.value_type,
            de.aggregation_type,
            de.zero_is_significant,
            de.combo_id,
            combos.get(de.combo_id, ""),
            de.unit_label,
            de.pack,
        )
        catalog.elements[de.code] = info
        catalog.elements_by_id[de.id] = info
    members: dict[int, list[DataSetElement]] = {}
    for member in (await session.scalars(select(DataSetElement).order_by(DataSetElement.sort_order))).all():
        members.setdefault(member.data_set_id, []).append(member)
        catalog.sets_of_element.setdefault(member.data_element_id, []).append(member.data_set_id)
    for ds in (await session.scalars(select(DataSet).order_by(DataSet.code))).all():
        rows = members.get(ds.id, [])
        ds_info = DataSetInfo(
            ds.id,
            ds.code,
            ds.name,
            ds.name_en,
            ds.pack,
            ds.period_type,
            ds.timely_days,
            ds.expiry_days,
            ds.open_future_periods,
            ds.open_from,
            tuple(m.data_element_id for m in rows),
            tuple(m.section for m in rows),
        )
        catalog.data_sets[ds.code] = ds_info
        catalog.data_sets_by_id[ds.id] = ds_info
    for unit in (await session.scalars(select(ReportingUnit))).all():
        unit_info = UnitInfo(unit.id, unit.code, unit.name, unit.level, unit.parent_id, unit.valid_from, unit.valid_to)
        catalog.units.setdefault(unit.code, []).append(unit_info)
        catalog.units_by_id[unit.id] = unit_info
    for source in (await session.scalars(select(DataSetSource))).all():
        catalog.sources.setdefault((source.data_set_id, source.unit_id), {})[source.agency_id] = source.agency_code
        catalog.agencies[source.agency_code] = source.agency_id
        catalog.agency_codes[source.agency_id] = source.agency_code
    return catalog


# --- metadata writes (content packs) ------------------------------------------------------------


async def upsert_by_code(session: AsyncSession, model: Any, code: str, values: dict[str, Any]) -> Any:
    """Create or update a metadata row identified by its code; return it."""
    row = await session.scalar(select(model).where(model.code == code))
    if row is None:
        row = model(code=code, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    await session.flush()
    return row


async def upsert_coc(session: AsyncSession, combo_id: int, code: str, name: str, name_en: str, order: int) -> None:
    """Create or update one category option combo."""
    row = await session.scalar(
        select(CategoryOptionCombo).where(CategoryOptionCombo.combo_id == combo_id, CategoryOptionCombo.code == code)
    )
    if row is None:
        session.add(CategoryOptionCombo(combo_id=combo_id, code=code, name=name, name_en=name_en, sort_order=order))
    else:
        row.name, row.name_en, row.sort_order = name, name_en, order


async def replace_set_elements(session: AsyncSession, data_set_id: int, members: list[tuple[int, str]]) -> None:
    """Replace the elements of a data set (element id, section), keeping the given order."""
    await session.execute(delete(DataSetElement).where(DataSetElement.data_set_id == data_set_id))
    for order, (element_id, section) in enumerate(members):
        session.add(
            DataSetElement(data_set_id=data_set_id, data_element_id=element_id, sort_order=order, section=section)
        )
    await session.flush()


async def add_sources(session: AsyncSession, data_set_id: int, rows: Iterable[tuple[int, int, str]]) -> int:
    """Assign (unit id, agency id, agency code) reporters to a data set; return how many were new."""
    existing = {
        (s.unit_id, s.agency_id)
        for s in (await session.scalars(select(DataSetSource).where(DataSetSource.data_set_id == data_set_id))).all()
    }
    added = 0
    for unit_id, agency_id, agency_code in rows:
        if (unit_id, agency_id) not in existing:
            session.add(
                DataSetSource(data_set_id=data_set_id, unit_id=unit_id, agency_id=agency_id, agency_code=agency_code)
            )
            existing.add((unit_id, agency_id))
            added += 1
    await session.flush()
    return added


class UnitWriter:
    """Creates or updates reporting unit versions (code, valid_from) with one read of the table."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.rows: dict[tuple[str, date], ReportingUnit] | None = None

    async def write(
        self, code: str, name: str, level: str, valid_from: date, valid_to: date | None, parent_id: int | None
    ) -> int:
        """Create or update one version; return its id."""
        if self.rows is None:
            self.rows = {(u.code, u.valid_from): u for u in (await self.session.scalars(select(ReportingUnit))).all()}
        row = self.rows.get((code, valid_from))
        if row is None:
            row = ReportingUnit(code=code, valid_from=valid_from)
            self.session.add(row)
            self.rows[(code, valid_from)] = row
        row.name, row.level, row.valid_to, row.parent_id = name, level, valid_to, parent_id
        if row.id is None:
            await self.session.flush()
        return int(row.id)


async def rebuild_closure(session: AsyncSession) -> None:
    """Recompute the (unit, ancestor) closure from the parent links."""
    parents = dict((await session.execute(select(ReportingUnit.id, ReportingUnit.parent_id))).all())
    await session.execute(delete(UnitAncestor))
    rows = []
    for unit_id in parents:
        depth, seen = 0, set()
        current: int | None = unit_id
        while current is not None and current not in seen:
            seen.add(current)
            rows.append({"unit_id": unit_id, "ancestor_id": current, "depth": depth})
            current, depth = parents.get(current), depth + 1
    for start in range(0, len(rows), CHUNK):
        await session.execute(insert(UnitAncestor), rows[start : start + CHUNK])


async def upsert_mappings(session: AsyncSession, rows: list[tuple[int, int, str, float]]) -> None:
    """Create or update old→new mapping rows (old id, new id, merge type, weight), keeping their verification."""
    existing = {(m.old_unit_id, m.new_unit_id): m for m in (await session.scalars(select(UnitMapping))).all()}
    for old_id, new_id, merge_type, weight in rows:
        row = existing.get((old_id, new_id))
        if row is None:
            session.add(UnitMapping(old_unit_id=old_id, new_unit_id=new_id, merge_type=merge_type, weight=weight))
        else:
            row.merge_type, row.weight = merge_type, weight
    await session.flush()


async def list_mappings(session: AsyncSession) -> list[tuple[UnitMapping, str, str, str, str]]:
    """Return every mapping row with the old and new codes and names."""
    old = ReportingUnit.__table__.alias("old")
    new = ReportingUnit.__table__.alias("new")
    stmt = (
        select(UnitMapping, old.c.code, old.c.name, new.c.code, new.c.name)
        .join(old, old.c.id == UnitMapping.old_unit_id)
        .join(new, new.c.id == UnitMapping.new_unit_id)
        .order_by(new.c.code, old.c.code)
    )
    return [(m, oc, on, nc, nn) for m, oc, on, nc, nn in (await session.execute(stmt)).all()]


async def set_mapping_verified(session: AsyncSession, new_unit_ids: Sequence[int], by: str, at: datetime) -> int:
    """Mark the mapping rows of some new units as confirmed; return how many rows changed."""
    result = await session.execute(
        update(UnitMapping)
        .where(UnitMapping.new_unit_id.in_(new_unit_ids))
        .values(verified=True, verified_by=by, verified_at=at)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def mapping_contributions(session: AsyncSession) -> list[tuple[int, int, float]]:
    """Return (old unit id, new unit id, weight) for every mapping row."""
    rows = await session.execute(select(UnitMapping.old_unit_id, UnitMapping.new_unit_id, UnitMapping.weight))
    return [(int(o), int(n), float(w)) for o, n, w in rows.all()]


async def descendants(session: AsyncSession, ancestor_ids: Sequence[int]) -> dict[int, set[int]]:
    """Return, per ancestor, the units below it (and itself)."""
    found: dict[int, set[int]] = {a: set() for a in ancestor_ids}
    rows = await session.execute(
        select(UnitAncestor.ancestor_id, UnitAncestor.unit_id).where(UnitAncestor.ancestor_id.in_(ancestor_ids))
    )
    for ancestor_id, unit_id in rows.all():
        found[ancestor_id].add(unit_id)
    return found


# --- periods --------------------------------------------------------------------------------------


async def ensure_periods(session: AsyncSession, periods: Iterable[PeriodValue]) -> dict[str, int]:
    """Return the ids of periods by identifier, creating the missing ones."""
    wanted = {p.iso: p for p in periods}
    if not wanted:
        return {}
    ids: dict[str, int] = {}
    keys = list(wanted)
    for start in range(0, len(keys), CHUNK):
        rows = await session.execute(select(Period.iso, Period.id).where(Period.iso.in_(keys[start : start + CHUNK])))
        ids.update(rows.all())
    missing = [wanted[iso] for iso in keys if iso not in ids]
    if missing:
        await session.execute(
            insert(Period),
            [{"iso": p.iso, "period_type": p.type.value, "start_date": p.start, "end_date": p.end} for p in missing],
        )
        rows = await session.execute(select(Period.iso, Period.id).where(Period.iso.in_([p.iso for p in missing])))
        ids.update(rows.all())
    return ids


async def period_ids(session: AsyncSession, isos: Sequence[str]) -> dict[str, int]:
    """Return the ids of the periods that exist among some identifiers."""
    if not isos:
        return {}
    rows = await session.execute(select(Period.iso, Period.id).where(Period.iso.in_(list(isos))))
    return dict(rows.all())


async def period_isos(session: AsyncSession, ids: Iterable[int]) -> dict[int, str]:
    """Return the identifiers of some period ids."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await session.execute(select(Period.id, Period.iso).where(Period.id.in_(wanted)))
    return dict(rows.all())


# --- values ----------------------------------------------------------------------------------------

ValueKey = tuple[int, int, int, int, int]  # element, period, unit, coc, agency
# Every key of a value row, so that one multi-row statement serves rows with and without the optional columns.
ROW_DEFAULTS: dict[str, Any] = {"value_num": None, "value_text": None, "comment": None, "follow_up": False}


@dataclass
class StoredValue:
    """A stored value as the import compares it."""

    id: int
    value_num: float | None
    value_text: str | None
    comment: str | None
    follow_up: bool


async def existing_values(
    session: AsyncSession, element_ids: set[int], period_ids_: set[int], unit_ids: set[int]
) -> dict[ValueKey, StoredValue]:
    """Return the stored values among some elements, periods and units, by key."""
    found: dict[ValueKey, StoredValue] = {}
    if not element_ids or not period_ids_ or not unit_ids:
        return found
    units = list(unit_ids)
    for start in range(0, len(units), CHUNK // 2):
        stmt = select(
            DataValue.data_element_id,
            DataValue.period_id,
            DataValue.unit_id,
            DataValue.coc_id,
            DataValue.agency_id,
            DataValue.id,
            DataValue.value_num,
            DataValue.value_text,
            DataValue.comment,
            DataValue.follow_up,
        ).where(
            DataValue.data_element_id.in_(element_ids),
            DataValue.period_id.in_(period_ids_),
            DataValue.unit_id.in_(units[start : start + CHUNK // 2]),
        )
        for de, pe, ou, co, ag, vid, num, txt, comment, follow in (await session.execute(stmt)).all():
            found[(de, pe, ou, co, ag)] = StoredValue(vid, num, txt, comment, follow)
    return found


async def insert_values(session: AsyncSession, rows: list[dict[str, Any]]) -> list[int]:
    """Insert values in bulk and return their ids, in the order given."""
    # A Core insert on the table skips the ORM's per-row bookkeeping (the values opt out of the audit log and
    # are never loaded as objects here); RETURNING in parameter order hands back the ids without a second read.
    table = cast(Table, DataValue.__table__)
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids: list[int] = []
    for start in range(0, len(rows), CHUNK):
        chunk = [{**ROW_DEFAULTS, **row} for row in rows[start : start + CHUNK]]
        ids.extend(int(i) for i in (await session.execute(stmt, chunk)).scalars().all())
    return ids


async def update_values(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Update values in bulk (each dict holds `vid` and the new columns)."""
    if not rows:
        return
    table = cast(Table, DataValue.__table__)
    stmt = (
        update(table)
        .where(table.c.id == bindparam("vid"))
        .values(
            value_num=bindparam("value_num"),
            value_text=bindparam("value_text"),
            comment=bindparam("comment"),
            follow_up=bindparam("follow_up"),
            stored_by=bindparam("stored_by"),
            updated_at=bindparam("updated_at"),
        )
    )
    for start in range(0, len(rows), CHUNK):
        await session.execute(stmt, rows[start : start + CHUNK])


async def delete_values(session: AsyncSession, ids: list[int]) -> None:
    """Delete values (their history stays: it refers to the id only through a cascade-free copy)."""
    for start in range(0, len(ids), CHUNK):
        await session.execute(delete(DataValue).where(DataValue.id.in_(ids[start : start + CHUNK])))


async def insert_history(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert value history rows in bulk (a Core insert: history rows are never loaded as objects here)."""
    table = cast(Table, ValueHistory.__table__)
    for start in range(0, len(rows), CHUNK):
        await session.execute(insert(table), rows[start : start + CHUNK])


async def value_history(session: AsyncSession, value_id: int) -> list[ValueHistory]:
    """Return the changes of one value, newest first."""
    stmt = select(ValueHistory).where(ValueHistory.value_id == value_id).order_by(ValueHistory.id.desc())
    return list((await session.scalars(stmt)).all())


async def find_value_id(session: AsyncSession, key: ValueKey) -> int | None:
    """Return the id of the value with a key, if stored."""
    de, pe, ou, co, ag = key
    return await session.scalar(
        select(DataValue.id).where(
            DataValue.data_element_id == de,
            DataValue.period_id == pe,
            DataValue.unit_id == ou,
            DataValue.coc_id == co,
            DataValue.agency_id == ag,
        )
    )


async def values_for(
    session: AsyncSession,
    element_ids: Sequence[int],
    period_ids_: Sequence[int],
    unit_ids: Sequence[int],
    agency_id: int | None = None,
) -> list[tuple[int, int, int, int, int, float | None, str | None, str | None, bool, str, datetime]]:
    """Return stored values (element, period, unit, coc, agency, num, text, comment, follow-up, by, updated)."""
    if not element_ids or not period_ids_ or not unit_ids:
        return []
    stmt = select(
        DataValue.data_element_id,
        DataValue.period_id,
        DataValue.unit_id,
        DataValue.coc_id,
        DataValue.agency_id,
        DataValue.value_num,
        DataValue.value_text,
        DataValue.comment,
        DataValue.follow_up,
        DataValue.stored_by,
        DataValue.updated_at,
    ).where(
        DataValue.data_element_id.in_(list(element_ids)),
        DataValue.period_id.in_(list(period_ids_)),
        DataValue.unit_id.in_(list(unit_ids)),
    )
    if agency_id is not None:
        stmt = stmt.where(DataValue.agency_id == agency_id)
    return list((await session.execute(stmt)).all())


async def value_series(
    session: AsyncSession, element_ids: Sequence[int], unit_ids: Sequence[int], first: date, last: date
) -> list[tuple[int, int, int, int, int, str, date, float]]:
    """Return numeric values of some elements and units whose period starts between two days."""
    if not element_ids or not unit_ids:
        return []
    stmt = (
        select(
            DataValue.data_element_id,
            DataValue.unit_id,
            DataValue.coc_id,
            DataValue.agency_id,
            DataValue.period_id,
            Period.iso,
            Period.start_date,
            DataValue.value_num,
        )
        .join(Period, Period.id == DataValue.period_id)
        .where(
            DataValue.data_element_id.in_(list(element_ids)),
            DataValue.unit_id.in_(list(unit_ids)),
            Period.start_date >= first,
            Period.start_date <= last,
            DataValue.value_num.is_not(None),
        )
    )
    return [
        (de, ou, co, ag, pid, iso, start, float(num or 0.0))
        for de, ou, co, ag, pid, iso, start, num in (await session.execute(stmt)).all()
    ]


async def min_max_bounds(
    session: AsyncSession, element_ids: Sequence[int], unit_ids: Sequence[int]
) -> dict[tuple[int, int, int], tuple[float, float]]:
    """Return stored min–max bounds by (element, unit, coc)."""
    if not element_ids or not unit_ids:
        return {}
    rows = await session.execute(
        select(MinMax.data_element_id, MinMax.unit_id, MinMax.coc_id, MinMax.min_value, MinMax.max_value).where(
            MinMax.data_element_id.in_(list(element_ids)), MinMax.unit_id.in_(list(unit_ids))
        )
    )
    return {(de, ou, co): (lo, hi) for de, ou, co, lo, hi in rows.all()}


async def set_min_max(session: AsyncSession, de: int, unit: int, coc: int, low: float, high: float) -> None:
    """Store the bounds of one element × unit × disaggregation."""
    row = await session.scalar(
        select(MinMax).where(MinMax.data_element_id == de, MinMax.unit_id == unit, MinMax.coc_id == coc)
    )
    if row is None:
        session.add(MinMax(data_element_id=de, unit_id=unit, coc_id=coc, min_value=low, max_value=high))
    else:
        row.min_value, row.max_value = low, high


# --- rollups -------------------------------------------------------------------------------------


async def refresh_rollup(session: AsyncSession, pairs: set[tuple[int, int]]) -> None:
    """Recompute the rollup rows of some (period id, element id) pairs from the stored values.

    Two layers: one row per option combo, and one row per element over all its option combos (`ALL_COCS`),
    so that a pivot of totals reads one row per cell instead of summing the disaggregations at query time.
    """
    by_period: dict[int, set[int]] = {}
    for period_id, element_id in pairs:
        by_period.setdefault(period_id, set()).add(element_id)
    columns = ["data_element_id", "coc_id", "period_id", "unit_id", "total", "count"]
    for period_id, element_ids in by_period.items():
        elements = sorted(element_ids)
        await session.execute(delete(Rollup).where(Rollup.period_id == period_id, Rollup.data_element_id.in_(elements)))
        source = (
            select(
                DataValue.data_element_id,
                DataValue.coc_id,
                DataValue.period_id,
                UnitAncestor.ancestor_id,
                func.sum(DataValue.value_num),
                func.count(),
            )
            .join(UnitAncestor, UnitAncestor.unit_id == DataValue.unit_id)
            .where(
                DataValue.period_id == period_id,
                DataValue.data_element_id.in_(elements),
                DataValue.value_num.is_not(None),
            )
            .group_by(DataValue.data_element_id, DataValue.coc_id, DataValue.period_id, UnitAncestor.ancestor_id)
        )
        await session.execute(insert(Rollup).from_select(columns, source))
        # The totals layer is summed from the rows just written: far fewer than the values behind them.
        totals = (
            select(
                Rollup.data_element_id,
                literal(ALL_COCS),
                Rollup.period_id,
                Rollup.unit_id,
                func.sum(Rollup.total),
                func.sum(Rollup.count),
            )
            .where(
                Rollup.period_id == period_id,
                Rollup.data_element_id.in_(elements),
                Rollup.coc_id != ALL_COCS,
            )
            .group_by(Rollup.data_element_id, Rollup.period_id, Rollup.unit_id)
        )
        await session.execute(insert(Rollup).from_select(columns, totals))


async def backfill_rollup_totals(session: AsyncSession) -> int:
    """Build the totals layer where rollups exist without it (data stored before it was kept); return rows added."""
    has_cells = await session.scalar(select(Rollup.period_id).where(Rollup.coc_id != ALL_COCS).limit(1))
    has_totals = await session.scalar(select(Rollup.period_id).where(Rollup.coc_id == ALL_COCS).limit(1))
    if has_cells is None or has_totals is not None:
        return 0
    totals = select(
        Rollup.data_element_id,
        literal(ALL_COCS),
        Rollup.period_id,
        Rollup.unit_id,
        func.sum(Rollup.total),
        func.sum(Rollup.count),
    ).group_by(Rollup.data_element_id, Rollup.period_id, Rollup.unit_id)
    result = await session.execute(
        insert(Rollup).from_select(["data_element_id", "coc_id", "period_id", "unit_id", "total", "count"], totals)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def rollup_rows(
    session: AsyncSession,
    element_ids: Sequence[int],
    unit_ids: Sequence[int],
    first: date,
    last: date,
    by_coc: bool = True,
) -> list[tuple[int, int | None, int, int, date, date, float, int]]:
    """Return rollup rows (element, coc, unit, period, start, end, total, count) overlapping two days.

    Without `by_coc` the totals layer is read (coc None): one row per element × unit × period. The periods are
    resolved first, so that both layers are read through the primary key (element, coc, period, unit).
    """
    if not element_ids or not unit_ids:
        return []
    periods = {
        int(pid): (start, end)
        for pid, start, end in (
            await session.execute(
                select(Period.id, Period.start_date, Period.end_date).where(
                    Period.end_date >= first, Period.start_date <= last
                )
            )
        ).all()
    }
    if not periods:
        return []
    stmt = select(
        Rollup.data_element_id, Rollup.coc_id, Rollup.unit_id, Rollup.period_id, Rollup.total, Rollup.count
    ).where(
        Rollup.data_element_id.in_(list(element_ids)),
        Rollup.coc_id != ALL_COCS if by_coc else Rollup.coc_id == ALL_COCS,
        Rollup.period_id.in_(sorted(periods)),
        Rollup.unit_id.in_(list(unit_ids)),
    )
    found: list[tuple[int, int | None, int, int, date, date, float, int]] = []
    for de, coc, unit, pid, total, count in (await session.execute(stmt)).all():
        start, end = periods[pid]
        found.append(
            (
                int(de),
                int(coc) if by_coc else None,
                int(unit),
                int(pid),
                start,
                end,
                float(total or 0.0),
                int(count or 0),
            )
        )
    return found


# --- reports -----------------------------------------------------------------------------------------


async def get_report(session: AsyncSession, ds: int, period: int, unit: int, agency: int) -> ReportRow | None:
    """Return one report row."""
    return await session.scalar(
        select(ReportRow).where(
            ReportRow.data_set_id == ds,
            ReportRow.period_id == period,
            ReportRow.unit_id == unit,
            ReportRow.agency_id == agency,
        )
    )


async def get_or_create_report(session: AsyncSession, ds: int, period: int, unit: int, agency: int) -> ReportRow:
    """Return a report row, creating an open one."""
    row = await get_report(session, ds, period, unit, agency)
    if row is None:
        row = ReportRow(data_set_id=ds, period_id=period, unit_id=unit, agency_id=agency, status="open")
        session.add(row)
        await session.flush()
    return row


async def report_states(
    session: AsyncSession, data_set_ids: Iterable[int], period_ids_: Iterable[int]
) -> dict[tuple[int, int, int, int], tuple[str, bool]]:
    """Return (status, was ever approved) by (data set, period, unit, agency)."""
    ds_ids, pe_ids = list(set(data_set_ids)), list(set(period_ids_))
    if not ds_ids or not pe_ids:
        return {}
    rows = await session.execute(
        select(
            ReportRow.data_set_id,
            ReportRow.period_id,
            ReportRow.unit_id,
            ReportRow.agency_id,
            ReportRow.status,
            ReportRow.approved_at,
        ).where(ReportRow.data_set_id.in_(ds_ids), ReportRow.period_id.in_(pe_ids))
    )
    return {(d, p, u, a): (s, approved is not None) for d, p, u, a, s, approved in rows.all()}


async def reports_for(
    session: AsyncSession, data_set_ids: Sequence[int], period_ids_: Sequence[int], agency_id: int | None = None
) -> list[ReportRow]:
    """Return the report rows of some data sets and periods (optionally one agency)."""
    if not data_set_ids or not period_ids_:
        return []
    stmt = select(ReportRow).where(
        ReportRow.data_set_id.in_(list(data_set_ids)), ReportRow.period_id.in_(list(period_ids_))
    )
    if agency_id is not None:
        stmt = stmt.where(ReportRow.agency_id == agency_id)
    return list((await session.scalars(stmt)).all())


async def changes_after_approval(
    session: AsyncSession, element_ids: Sequence[int], period_id: int, unit_id: int, agency_id: int
) -> list[tuple[int, int, str | None, str | None, str, datetime]]:
    """Return changes flagged as made after approval: (element, coc, old, new, by, at)."""
    if not element_ids:
        return []
    stmt = (
        select(
            DataValue.data_element_id,
            DataValue.coc_id,
            ValueHistory.old_value,
            ValueHistory.new_value,
            ValueHistory.changed_by,
            ValueHistory.changed_at,
        )
        .join(DataValue, DataValue.id == ValueHistory.value_id)
        .where(
            ValueHistory.after_approval.is_(True),
            DataValue.data_element_id.in_(list(element_ids)),
            DataValue.period_id == period_id,
            DataValue.unit_id == unit_id,
            DataValue.agency_id == agency_id,
        )
    )
    return list((await session.execute(stmt)).all())


async def rules_of(session: AsyncSession, data_set_ids: Sequence[int]) -> list[ValidationRule]:
    """Return the validation rules of some data sets."""
    if not data_set_ids:
        return []
    stmt = select(ValidationRule).where(ValidationRule.data_set_id.in_(list(data_set_ids)))
    return list((await session.scalars(stmt.order_by(ValidationRule.code))).all())


async def indicators(session: AsyncSession, pack: str | None = None) -> list[Indicator]:
    """Return indicators, optionally of one pack."""
    stmt = select(Indicator).order_by(Indicator.code)
    if pack is not None:
        stmt = stmt.where(Indicator.pack == pack)
    return list((await session.scalars(stmt)).all())


async def source_counts(
    session: AsyncSession, data_set_id: int, unit_ids: Sequence[int] | None = None
) -> list[tuple[int, int, str]]:
    """Return the (unit, agency, agency code) reporters of a data set, optionally within some units."""
    stmt = select(DataSetSource.unit_id, DataSetSource.agency_id, DataSetSource.agency_code).where(
        DataSetSource.data_set_id == data_set_id
    )
    if unit_ids is not None:
        stmt = stmt.where(DataSetSource.unit_id.in_(list(unit_ids)))
    return [(int(u), int(a), str(c)) for u, a, c in (await session.execute(stmt)).all()]


async def notices_sent(session: AsyncSession, data_set_id: int, period: str, kind: str) -> set[int]:
    """Return the agencies already sent a deadline message of a kind for a data set and period."""
    stmt = select(NoticeSent.agency_id).where(
        NoticeSent.data_set_id == data_set_id, NoticeSent.period == period, NoticeSent.kind == kind
    )
    return {int(a) for a in (await session.scalars(stmt)).all()}


def add_notice(
    session: AsyncSession, data_set_id: int, period: str, agency_id: int, kind: str, recipients: int
) -> None:
    """Remember that an agency got a deadline message (the unique key refuses a second one)."""
    session.add(
        NoticeSent(data_set_id=data_set_id, period=period, agency_id=agency_id, kind=kind, recipients=recipients)
    )


def add_import(session: AsyncSession, record: ImportRecord) -> None:
    """Add a background import record."""
    session.add(record)


async def get_import(session: AsyncSession, import_id: int) -> ImportRecord | None:
    """Return a background import record."""
    return await session.get(ImportRecord, import_id)


async def value_counts(
    session: AsyncSession, element_id: int, period_ids_: Sequence[int], unit_ids: Sequence[int]
) -> list[tuple[int, int, int, int]]:
    """Return (period, unit, agency, number of values) of an element, also where no report row exists yet."""
    if not period_ids_ or not unit_ids:
        return []
    stmt = (
        select(DataValue.period_id, DataValue.unit_id, DataValue.agency_id, func.count(DataValue.id))
        .where(
            DataValue.data_element_id == element_id,
            DataValue.period_id.in_(list(period_ids_)),
            DataValue.unit_id.in_(list(unit_ids)),
        )
        .group_by(DataValue.period_id, DataValue.unit_id, DataValue.agency_id)
    )
    return [(int(p), int(u), int(a), int(n)) for p, u, a, n in (await session.execute(stmt)).all()]
