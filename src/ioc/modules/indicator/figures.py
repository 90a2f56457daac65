"""Where a figure comes from: the completeness and validation status behind each analytics cell, and its reports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from . import expressions, repository, service
from .constants import OLD_LEVELS
from .periods import Period, PeriodType, period_containing, periods_between
from .repository import Catalog, DataSetInfo, UnitInfo
from .schemas import TraceRow

# Metadata costs a few queries per distinct (data set, period, unit) behind the cells; beyond this many
# cells the caller should narrow the request rather than wait.
MAX_METADATA_CELLS = 2_000


def data_sets_of(catalog: Catalog, nodes: Iterable[expressions.Node | None]) -> list[DataSetInfo]:
    """Return the data sets that collect any element an expression reads."""
    element_ids = {
        catalog.elements[o.element].id
        for node in nodes
        if node is not None
        for o in expressions.operands(node)
        if o.element in catalog.elements
    }
    return [ds for ds in catalog.data_sets.values() if element_ids & set(ds.element_ids)]


def stored_periods(ds: DataSetInfo, asked: Sequence[Period]) -> list[Period]:
    """Return the data set's periods inside the asked ones (or the one containing it: a yearly target's month)."""
    kind = PeriodType(ds.period_type)
    found: dict[str, Period] = {}
    for period in asked:
        inside = [p for p in periods_between(kind, period.start, period.end) if period.contains(p)]
        for p in inside or [period_containing(kind, period.start)]:
            found[p.iso] = p
    return list(found.values())


class Annotator:
    """Computes completeness and rule status per (data set, periods, units), each once per request."""

    def __init__(self, session: AsyncSession, catalog: Catalog) -> None:
        self.session = session
        self.catalog = catalog
        self._memo: dict[tuple[int, tuple[str, ...], tuple[int, ...]], dict[str, Any]] = {}

    async def _unit_ids(self, units: Sequence[UnitInfo]) -> tuple[int, ...]:
        below = await repository.descendants(self.session, [u.id for u in units])
        return tuple(sorted({uid for u in units for uid in below.get(u.id, set()) | {u.id}}))

    async def _status(self, ds: DataSetInfo, periods: list[Period], unit_ids: tuple[int, ...]) -> dict[str, Any]:
        key = (ds.id, tuple(p.iso for p in periods), unit_ids)
        if key in self._memo:
            return self._memo[key]
        sources = await repository.source_counts(self.session, ds.id, unit_ids)
        ids = await repository.period_ids(self.session, [p.iso for p in periods])
        reports = {
            (r.period_id, r.unit_id, r.agency_id): r
            for r in await repository.reports_for(self.session, [ds.id], list(ids.values()))
        }
        expected = actual = on_time = 0
        keys: set[tuple[int, str, int, int]] = set()
        for period in periods:
            pid = ids.get(period.iso, -1)
            for unit_id, agency_id, _code in sources:
                unit = self.catalog.units_by_id[unit_id]
                if not (unit.valid_from <= period.end and (unit.valid_to is None or unit.valid_to >= period.start)):
                    continue
                expected += 1
                row = reports.get((pid, unit_id, agency_id))
                if row is not None and row.submitted_at is not None:
                    actual += 1
                    on_time += bool(row.on_time)
                keys.add((ds.id, period.iso, unit_id, agency_id))
        violations = await service.rule_violations(self.session, self.catalog, keys)
        status = {
            "data_set": ds.code,
            "periods": [p.iso for p in periods],
            "expected": expected,
            "actual": actual,
            "reporting_rate": round(actual * 100 / expected, 1) if expected else None,
            "on_time_rate": round(on_time * 100 / expected, 1) if expected else None,
            "violations": len(violations),
            "high_violations": sum(1 for v in violations if v.importance == "high"),
            "rules": sorted({v.rule for v in violations}),
        }
        self._memo[key] = status
        return status

    async def cell(
        self, nodes: Sequence[expressions.Node | None], periods: Sequence[Period], units: Sequence[UnitInfo]
    ) -> dict[str, Any]:
        """Return one figure's completeness (lowest reporting rate of its data sets) and validation status."""
        unit_ids = await self._unit_ids(units)
        per_set = [
            await self._status(ds, stored_periods(ds, periods), unit_ids) for ds in data_sets_of(self.catalog, nodes)
        ]
        rates = [s["reporting_rate"] for s in per_set if s["reporting_rate"] is not None]
        violations = sum(s["violations"] for s in per_set)
        return {
            "completeness": min(rates) if rates else None,
            "validation": "violations" if violations else "ok",
            "violations": violations,
            "data_sets": per_set,
        }


@dataclass
class OldContribution:
    """A pre-2025 unit whose figures are re-aggregated onto an asked unit, with its share (mapping weight)."""

    old_id: int
    weight: float
    mapped_to: list[str]
    merge_type: str
    verified: bool


async def old_contributions(session: AsyncSession, catalog: Catalog, unit: UnitInfo) -> dict[int, OldContribution]:
    """Return the pre-2025 units re-aggregated onto a unit (as `remap=true` counts them), by old unit id.

    An old unit already counted through an old ancestor (an old commune under the old province) is reached
    through that ancestor, as in analytics, so each old value is listed once.
    """
    if unit.level in OLD_LEVELS:
        return {}
    below = (await repository.descendants(session, [unit.id])).get(unit.id, set()) | {unit.id}
    found: dict[int, OldContribution] = {}
    for mapping, _old_code, _old_name, new_code, _new_name in await repository.list_mappings(session):
        if mapping.new_unit_id not in below:
            continue
        entry = found.setdefault(
            mapping.old_unit_id, OldContribution(mapping.old_unit_id, 0.0, [], mapping.merge_type, True)
        )
        entry.weight += mapping.weight
        entry.mapped_to.append(new_code)
        entry.verified = entry.verified and mapping.verified
        if mapping.merge_type == "partial":
            entry.merge_type = "partial"
    inside = await repository.descendants(session, list(found))
    counted_below = {d for old_id, ds in inside.items() for d in ds if d != old_id}
    kept = {old_id: c for old_id, c in found.items() if old_id not in counted_below}
    # The old units below a kept one (old communes of the old province) carry its weight.
    for old_id, contribution in list(kept.items()):
        for child in inside.get(old_id, set()) - {old_id}:
            kept.setdefault(
                child,
                OldContribution(
                    child,
                    contribution.weight,
                    contribution.mapped_to,
                    contribution.merge_type,
                    contribution.verified,
                ),
            )
    return kept


async def trace(
    session: AsyncSession,
    catalog: Catalog,
    nodes: Sequence[expressions.Node | None],
    period: Period,
    unit: UnitInfo,
    remap: bool = False,
) -> list[TraceRow]:
    """List the reports whose values make up a figure: unit, agency, status, who submitted, approved, accepted.

    With `remap`, the reports of the pre-2025 units re-aggregated onto the unit are listed too, each with the
    new units it maps into, its weight and whether the province confirmed that mapping.
    """
    below = (await repository.descendants(session, [unit.id])).get(unit.id, set()) | {unit.id}
    old = await old_contributions(session, catalog, unit) if remap else {}
    below |= set(old)
    element_ids = sorted(
        {
            catalog.elements[o.element].id
            for node in nodes
            if node is not None
            for o in expressions.operands(node)
            if o.element in catalog.elements
        }
    )
    found: dict[tuple[int, int, int, int], TraceRow] = {}
    for ds in data_sets_of(catalog, nodes):
        periods = stored_periods(ds, [period])
        ids = await repository.period_ids(session, [p.iso for p in periods])
        if not ids:
            continue
        isos = {v: k for k, v in ids.items()}
        reports = {
            (r.period_id, r.unit_id, r.agency_id): r
            for r in await repository.reports_for(session, [ds.id], list(ids.values()))
        }
        for element_id in (e for e in element_ids if e in ds.element_ids):
            for pid, unit_id, agency_id, count in await repository.value_counts(
                session, element_id, list(ids.values()), sorted(below)
            ):
                if agency_id not in catalog.sources.get((ds.id, unit_id), {}):
                    continue  # the element is also collected by another data set, from this agency
                key = (ds.id, pid, unit_id, agency_id)
                row = reports.get((pid, unit_id, agency_id))
                if key in found:
                    found[key].values += count
                    continue
                contribution = old.get(unit_id)
                found[key] = TraceRow(
                    data_set=ds.code,
                    period=isos[pid],
                    org_unit=catalog.units_by_id[unit_id].code,
                    unit_name=catalog.units_by_id[unit_id].name,
                    agency=catalog.agency_codes.get(agency_id, str(agency_id)),
                    values=count,
                    status=row.status if row else "open",
                    submitted_at=row.submitted_at if row else None,
                    submitted_by=row.submitted_by if row else None,
                    on_time=row.on_time if row else None,
                    approved_at=row.approved_at if row else None,
                    approved_by=row.approved_by if row else None,
                    accepted_at=row.accepted_at if row else None,
                    accepted_by=row.accepted_by if row else None,
                    link=service.entry_link(ds.code, isos[pid], catalog.units_by_id[unit_id].code),
                    old_unit=contribution is not None,
                    weight=round(contribution.weight, 4) if contribution else None,
                    mapped_to=contribution.mapped_to if contribution else [],
                    merge_type=contribution.merge_type if contribution else None,
                    mapping_verified=contribution.verified if contribution else None,
                )
    return sorted(found.values(), key=lambda r: (r.old_unit, r.period, r.org_unit, r.data_set, r.agency))
