"""Analytics in the spirit of DHIS2's `/api/analytics`: data (dx) × periods (pe) × units (ou), answered as rows.

Values come from the rollup table (kept current on every write), so a pivot reads O(cells) rows whatever
the number of stored values. Periods roll up by date range; units by the closure of the unit tree.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.time import local_today

from . import expressions, figures, repository
from .constants import ANALYTICS_MAX_CELLS, OLD_LEVELS, OLD_UNIT_LEVEL, AggregationType
from .exceptions import BadExpression
from .models import Indicator
from .periods import InvalidPeriod, Period, PeriodType, parse_period, period_containing, periods_between, year_to_date
from .repository import Catalog, UnitInfo
from .schemas import AnalyticsHeader, AnalyticsResponse

RELATIVE = (
    "THIS_MONTH",
    "LAST_MONTH",
    "THIS_QUARTER",
    "LAST_QUARTER",
    "THIS_YEAR",
    "LAST_YEAR",
    "LAST_12_MONTHS",
    "MONTHS_THIS_YEAR",
    "QUARTERS_THIS_YEAR",
    "LAST_5_YEARS",
)


def relative_periods(key: str, today: date) -> list[Period]:
    """Expand a relative period such as LAST_12_MONTHS into ISO periods."""
    month = period_containing(PeriodType.MONTHLY, today)
    quarter = period_containing(PeriodType.QUARTERLY, today)
    year = period_containing(PeriodType.YEARLY, today)
    if key == "THIS_MONTH":
        return [month]
    if key == "LAST_MONTH":
        return [month.previous()]
    if key == "THIS_QUARTER":
        return [quarter]
    if key == "LAST_QUARTER":
        return [quarter.previous()]
    if key == "THIS_YEAR":
        return [year]
    if key == "LAST_YEAR":
        return [year.previous()]
    if key == "LAST_12_MONTHS":
        return [month.shift(-i) for i in range(12, 0, -1)]
    if key == "MONTHS_THIS_YEAR":
        return periods_between(PeriodType.MONTHLY, year.start, year.end)
    if key == "QUARTERS_THIS_YEAR":
        return periods_between(PeriodType.QUARTERLY, year.start, year.end)
    return [year.shift(-i) for i in range(5, 0, -1)]


@dataclass
class DxItem:
    """One data item: a data element (optionally one disaggregation) or an indicator."""

    code: str
    name: str
    name_en: str
    numerator: expressions.Node
    denominator: expressions.Node | None = None
    factor: float = 1.0
    decimals: int = 2
    unit_label: str = ""


@dataclass
class Query:
    """A parsed analytics request."""

    dx: list[DxItem]
    pe: list[Period]
    ou: list[UnitInfo]
    pe_filter: list[Period] = field(default_factory=list)
    ou_filter: list[UnitInfo] = field(default_factory=list)
    remap: bool = False
    include_metadata: bool = False


def _split(param: str) -> tuple[str, list[str]]:
    if ":" not in param:
        raise BadExpression(
            f"Tham số chiều '{param}' phải có dạng tên:mục1;mục2.",
            f"Dimension '{param}' must look like name:item1;item2.",
            dimension=param,
        )
    name, items = param.split(":", 1)
    return name.strip(), [i.strip() for i in items.split(";") if i.strip()]


def _dx_item(catalog: Catalog, indicators: dict[str, Indicator], code: str) -> DxItem:
    if code in indicators:
        ind = indicators[code]
        return DxItem(
            code,
            ind.name,
            ind.name_en,
            expressions.parse(ind.numerator),
            expressions.parse(ind.denominator),
            ind.factor,
            ind.decimals,
            ind.unit_label,
        )
    element_code, _dot, coc = code.partition(".")
    element = catalog.elements.get(element_code)
    if element is None or (coc and (element.combo_id, coc) not in catalog.cocs):
        raise BadExpression(
            f"Không có chỉ số hay chỉ tiêu mã '{code}'.", f"No indicator or data element '{code}'.", item=code
        )
    name, name_en = element.name, element.name_en
    if coc:
        coc_name = catalog.coc_names[catalog.cocs[(element.combo_id, coc)]]
        name, name_en = f"{name} – {coc_name[0]}", f"{name_en} – {coc_name[1]}"
    operand = expressions.Operand(element_code, coc or None)
    return DxItem(code, name, name_en, operand, None, 1.0, 2, element.unit_label)


def dx_item(catalog: Catalog, indicators: list[Indicator], code: str) -> DxItem:
    """Resolve one data item (indicator, element or ELEMENT.COMBO) by code."""
    return _dx_item(catalog, {i.code: i for i in indicators}, code)


def _periods(items: list[str], today: date) -> list[Period]:
    found: list[Period] = []
    for item in items:
        if item in RELATIVE:
            found.extend(relative_periods(item, today))
            continue
        try:
            found.append(parse_period(item))
        except InvalidPeriod as exc:
            raise BadExpression(f"Kỳ '{item}' không hợp lệ.", f"Period '{item}' is not valid.", item=item) from exc
    return found


def _units(catalog: Catalog, items: list[str], today: date) -> list[UnitInfo]:
    found: list[UnitInfo] = []
    for item in items:
        if item.startswith("LEVEL-"):
            level = item.removeprefix("LEVEL-")
            found.extend(
                sorted(
                    (u for versions in catalog.units.values() for u in versions if u.level == level),
                    key=lambda u: u.code,
                )
            )
            continue
        if item.startswith("CHILDREN-"):
            parent = catalog.current_unit(item.removeprefix("CHILDREN-"))
            if parent is not None:
                found.extend(
                    sorted((u for u in catalog.units_by_id.values() if u.parent_id == parent.id), key=lambda u: u.code)
                )
                continue
        if item.startswith("OLD-"):
            # A pre-2025 unit: codes were reused by the new communes, so the old one is named explicitly.
            unit = next(
                (u for u in catalog.units.get(item.removeprefix("OLD-"), []) if u.level == OLD_UNIT_LEVEL), None
            )
        else:
            unit = catalog.unit_on(item, today) or catalog.current_unit(item)
        if unit is None:
            raise BadExpression(f"Không có đơn vị mã '{item}'.", f"No unit with code '{item}'.", item=item)
        found.append(unit)
    return found


def parse_query(
    catalog: Catalog,
    indicators: list[Indicator],
    dimensions: list[str],
    filters: list[str],
    remap: bool = False,
    today: date | None = None,
) -> Query:
    """Read `dimension=dx:…`, `pe:…`, `ou:…` and `filter=…` parameters."""
    day = today or local_today()
    by_code = {i.code: i for i in indicators}
    parsed: dict[str, list[str]] = {}
    for param in dimensions:
        name, items = _split(param)
        parsed[name] = items
    filtered: dict[str, list[str]] = {}
    for param in filters:
        name, items = _split(param)
        filtered[name] = items
    unknown = (set(parsed) | set(filtered)) - {"dx", "pe", "ou"}
    if unknown:
        raise BadExpression(
            f"Chiều không hỗ trợ: {', '.join(sorted(unknown))} (chỉ dx, pe, ou).",
            f"Unsupported dimension(s): {', '.join(sorted(unknown))} (only dx, pe, ou).",
        )
    if "dx" not in parsed or not parsed["dx"]:
        raise BadExpression("Cần chiều dữ liệu dx.", "The dx dimension is required.")
    query = Query(
        dx=[_dx_item(catalog, by_code, code) for code in parsed["dx"]],
        pe=_periods(parsed.get("pe", []), day),
        ou=_units(catalog, parsed.get("ou", []), day),
        pe_filter=_periods(filtered.get("pe", []), day),
        ou_filter=_units(catalog, filtered.get("ou", []), day),
        remap=remap,
    )
    if not query.pe and not query.pe_filter:
        raise BadExpression("Cần ít nhất một kỳ (pe).", "At least one period (pe) is required.")
    if not query.ou and not query.ou_filter:
        raise BadExpression("Cần ít nhất một đơn vị (ou).", "At least one unit (ou) is required.")
    cells = len(query.dx) * max(1, len(query.pe)) * max(1, len(query.ou))
    if cells > ANALYTICS_MAX_CELLS:
        raise BadExpression(
            f"Yêu cầu quá lớn ({cells} ô, tối đa {ANALYTICS_MAX_CELLS}).",
            f"Request too large ({cells} cells, at most {ANALYTICS_MAX_CELLS}).",
        )
    return query


Range = tuple[date, date]


def _operand_ranges(operand: expressions.Operand, periods: list[Period]) -> list[Range]:
    """Return the date ranges an operand reads for a set of periods (year to date, period offset)."""
    ranges = []
    for period in periods:
        target = period.shift(operand.period_offset) if operand.period_offset else period
        if operand.year_to_date:
            ranges.append((year_to_date(target)[0].start, target.end))
        else:
            ranges.append((target.start, target.end))
    return ranges


class Engine:
    """Evaluates data items over date ranges and weighted units from fetched rollup rows."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        # (element, coc or None for all, unit) → {(start, end): [total, count]} per stored period
        self.series: dict[tuple[int, int | None, int], dict[tuple[date, date], list[float]]] = defaultdict(dict)
        # The same series as (start, end, total) sorted by start, built on first use: summing a range is a bisect.
        self._sorted: dict[tuple[int, int | None, int], list[tuple[date, date, float]]] = {}

    async def fetch(
        self,
        session: AsyncSession,
        element_ids: set[int],
        unit_ids: set[int],
        first: date,
        last: date,
        by_coc: set[int],
    ) -> None:
        """Load the rollup rows needed: per option combo for `by_coc` elements, else summed in SQL."""
        rows = await repository.rollup_rows(
            session, sorted(element_ids - by_coc), sorted(unit_ids), first, last, by_coc=False
        )
        rows += await repository.rollup_rows(session, sorted(by_coc), sorted(unit_ids), first, last)
        for de, co, ou, _pid, start, end, total, count in rows:
            for key in {(de, co, ou), (de, None, ou)}:
                bucket = self.series[key].setdefault((start, end), [0.0, 0.0])
                bucket[0] += total
                bucket[1] += count

    def value(self, operand: expressions.Operand, ranges: list[Range], units: list[tuple[int, float]]) -> float | None:
        """Aggregate an operand over date ranges (summed) and weighted units."""
        element = self.catalog.elements.get(operand.element)
        if element is None:
            return None
        coc = self.catalog.cocs.get((element.combo_id, operand.combo)) if operand.combo else None
        kind = AggregationType(element.aggregation_type)
        results = [r for r in (self._one(element.id, coc, rng, units, kind) for rng in ranges) if r is not None]
        return sum(results) if results else None

    def _sum_one_unit(self, element_id: int, coc: int | None, rng: Range, unit_id: int) -> float | None:
        """Sum the stored periods inside a range for one unit: the common cell of a pivot, kept cheap."""
        key = (element_id, coc, unit_id)
        entries = self._sorted.get(key)
        if entries is None:
            entries = sorted((start, end, values[0]) for (start, end), values in self.series.get(key, {}).items())
            self._sorted[key] = entries
        total, found = 0.0, False
        for start, end, value in entries[bisect_left(entries, (rng[0],)) :]:
            if start > rng[1]:
                break
            if end <= rng[1]:
                total += value
                found = True
        return total if found else None

    def _one(
        self, element_id: int, coc: int | None, rng: Range, units: list[tuple[int, float]], kind: AggregationType
    ) -> float | None:
        if kind is AggregationType.SUM and len(units) == 1 and units[0][1] == 1.0:
            return self._sum_one_unit(element_id, coc, rng, units[0][0])
        per_period: dict[tuple[date, date], list[float]] = {}
        standing: dict[tuple[date, date], list[float]] = {}
        for unit_id, weight in units:
            for (start, end), (total, count) in self.series.get((element_id, coc, unit_id), {}).items():
                if rng[0] <= start and end <= rng[1]:
                    target = per_period
                elif start <= rng[0] and rng[1] <= end:
                    target = standing  # a longer period's value stands for its sub-periods
                else:
                    continue
                bucket = target.setdefault((start, end), [0.0, 0.0])
                bucket[0] += total * weight
                bucket[1] += count * weight
        if not per_period and kind in (AggregationType.AVERAGE, AggregationType.AVERAGE_ALL, AggregationType.LAST):
            per_period = standing
        if not per_period:
            return None
        totals = [per_period[k][0] for k in sorted(per_period)]
        if kind is AggregationType.AVERAGE:
            return sum(totals) / len(totals)
        if kind is AggregationType.AVERAGE_ALL:
            cells = sum(v[1] for v in per_period.values())
            return sum(totals) / cells if cells else None
        if kind is AggregationType.LAST:
            return totals[-1]
        return sum(totals)


async def _unit_weights(
    session: AsyncSession, catalog: Catalog, units: list[UnitInfo], remap: bool
) -> dict[int, list[tuple[int, float]]]:
    """Return, per requested unit, the (unit id, weight) pairs whose rollups add up to it."""
    weights: dict[int, list[tuple[int, float]]] = {u.id: [(u.id, 1.0)] for u in units}
    if not remap:
        return weights
    below = await repository.descendants(session, [u.id for u in units])
    mapping = await repository.mapping_contributions(session)
    for unit in units:
        if unit.level in OLD_LEVELS:
            continue
        share: dict[int, float] = defaultdict(float)
        for old_id, new_id, weight in mapping:
            if new_id in below.get(unit.id, set()):
                share[old_id] += weight
        # An old unit already counted through an old ancestor (old commune under the old province) is dropped.
        inside = await repository.descendants(session, list(share))
        counted_below = {d for old_id, ds in inside.items() for d in ds if d != old_id}
        weights[unit.id].extend((old_id, w) for old_id, w in share.items() if old_id not in counted_below)
    return weights


def _format(value: float, decimals: int) -> str:
    rounded = round(value, decimals)
    return f"{rounded:.{decimals}f}" if decimals > 0 else str(int(rounded))


async def run(session: AsyncSession, catalog: Catalog, query: Query) -> AnalyticsResponse:
    """Answer an analytics query with rows [dx, pe, ou, value] and metadata naming every item."""
    periods_axis: list[list[Period]] = [[p] for p in query.pe] or [query.pe_filter]
    if query.pe and query.pe_filter:
        periods_axis = [[p] for p in query.pe]
    units_axis: list[list[UnitInfo]] = [[u] for u in query.ou] or [query.ou_filter]
    all_units = [u for group in units_axis for u in group]
    weights = await _unit_weights(session, catalog, all_units, query.remap)
    operand_list = [
        o
        for item in query.dx
        for node in (item.numerator, item.denominator)
        if node is not None
        for o in expressions.operands(node)
    ]
    element_ids = {catalog.elements[o.element].id for o in operand_list if o.element in catalog.elements}
    ranges = [r for group in periods_axis for o in operand_list for r in _operand_ranges(o, group)]
    engine = Engine(catalog)
    if ranges and element_ids:
        unit_ids = {uid for pairs in weights.values() for uid, _w in pairs}
        by_coc = {catalog.elements[o.element].id for o in operand_list if o.combo and o.element in catalog.elements}
        await engine.fetch(session, element_ids, unit_ids, min(r[0] for r in ranges), max(r[1] for r in ranges), by_coc)
    rows: list[list[str]] = []
    cells: list[tuple[DxItem, list[Period], list[UnitInfo]]] = []
    for item in query.dx:
        numerator_ops = expressions.operands(item.numerator)  # once per item, not once per cell
        for group in periods_axis:
            for unit_group in units_axis:
                unit_pairs = [pair for u in unit_group for pair in weights[u.id]]

                memo: dict[expressions.Operand, float | None] = {}

                def lookup(
                    operand: expressions.Operand,
                    group: list[Period] = group,
                    pairs: list[tuple[int, float]] = unit_pairs,
                    memo: dict[expressions.Operand, float | None] = memo,
                ) -> float | None:
                    if operand not in memo:
                        memo[operand] = engine.value(operand, _operand_ranges(operand, group), pairs)
                    return memo[operand]

                if numerator_ops and all(lookup(o) is None for o in numerator_ops):
                    continue
                numerator = expressions.evaluate(item.numerator, lookup)
                if numerator is None:
                    continue
                if item.denominator is not None:
                    denominator = expressions.evaluate(item.denominator, lookup)
                    if not denominator:
                        continue
                    value = numerator / denominator * item.factor
                else:
                    value = numerator
                pe_label = group[0].iso if len(group) == 1 else "+".join(p.iso for p in group)
                ou_label = unit_group[0].code if len(unit_group) == 1 else "+".join(u.code for u in unit_group)
                rows.append([item.code, pe_label, ou_label, _format(value, item.decimals)])
                cells.append((item, group, unit_group))
    items: dict[str, dict[str, str]] = {}
    for item in query.dx:
        items[item.code] = {"name": item.name, "name_en": item.name_en, "unit": item.unit_label}
    for group in periods_axis:
        for p in group:
            items[p.iso] = {"name": p.iso, "start": p.start.isoformat(), "end": p.end.isoformat()}
    for unit in all_units:
        items[unit.code] = {"name": unit.name, "level": unit.level}
    headers = [
        AnalyticsHeader(name="dx", column="Dữ liệu / Data", value_type="TEXT"),
        AnalyticsHeader(name="pe", column="Kỳ / Period", value_type="TEXT"),
        AnalyticsHeader(name="ou", column="Đơn vị / Organisation unit", value_type="TEXT"),
        AnalyticsHeader(name="value", column="Giá trị / Value", value_type="NUMBER"),
    ]
    meta = {
        "items": items,
        "dimensions": {
            "dx": [i.code for i in query.dx],
            "pe": [g[0].iso if len(g) == 1 else "+".join(p.iso for p in g) for g in periods_axis],
            "ou": [g[0].code if len(g) == 1 else "+".join(u.code for u in g) for g in units_axis],
        },
        "remap": query.remap,
        "mapping_verified": False if query.remap else None,
    }
    if query.include_metadata:
        if len(cells) > figures.MAX_METADATA_CELLS:
            raise BadExpression(
                f"Quá nhiều ô để kèm siêu dữ liệu ({len(cells)}, tối đa {figures.MAX_METADATA_CELLS}).",
                f"Too many cells for includeMetadata ({len(cells)}, at most {figures.MAX_METADATA_CELLS}).",
            )
        annotator = figures.Annotator(session, catalog)
        # One entry per row, in row order: the figure's completeness and validation status (DHIS2-style meta).
        meta["cells"] = [
            await annotator.cell([item.numerator, item.denominator], group, units) for item, group, units in cells
        ]
    # Built here from checked parts: validating 50,000 rows of strings again would cost more than computing them.
    return AnalyticsResponse.model_construct(
        headers=headers, rows=rows, meta=meta, height=len(rows), width=len(headers)
    )
