"""The pivot and chart builder: data items × units as rows, periods as columns, with totals, from analytics.

Every figure, totals included, comes from the analytics engine (rollups kept current on every write), so a
ratio's total is the ratio of the totals, not a sum of ratios, and no nightly batch job is involved.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.ext.asyncio import AsyncSession

from . import analytics
from .constants import DEFAULT_COMBO, PIVOT_CHART_SERIES, PIVOT_MAX_CELLS, ValueType
from .exceptions import BadExpression
from .models import Indicator
from .periods import Period
from .repository import Catalog, UnitInfo
from .schemas import AnalyticsResponse

TOTAL = "TOTAL"
WHOLE_TYPES = frozenset({ValueType.INTEGER, ValueType.POSITIVE_INTEGER, ValueType.ZERO_OR_POSITIVE_INTEGER})


@dataclass
class PivotRow:
    """One row: a data item for a unit (or for all the asked units together), one value per period and a total."""

    dx: str
    dx_name: str
    dx_name_en: str
    ou: str
    ou_name: str
    values: list[float | None]
    total: float | None
    decimals: int
    is_total: bool = False


@dataclass
class Pivot:
    """A pivot table ready to show, chart or export."""

    periods: list[str]
    rows: list[PivotRow] = field(default_factory=list)
    remap: bool = False

    @property
    def cells(self) -> int:
        """Return how many figures the table shows."""
        return sum(1 for r in self.rows for v in [*r.values, r.total] if v is not None)


def split_items(text: list[str]) -> list[str]:
    """Read repeated or `;`-separated query values into a list without blanks or repeats, in order."""
    found: list[str] = []
    for chunk in text:
        for item in chunk.split(";"):
            item = item.strip()
            if item and item not in found:
                found.append(item)
    return found


def expand_dx(catalog: Catalog, codes: list[str], split: bool) -> list[str]:
    """Add, after each disaggregated data element, one item per option combo when `split` is asked."""
    if not split:
        return codes
    expanded: list[str] = []
    for code in codes:
        expanded.append(code)
        element = catalog.elements.get(code)
        if element is None or element.combo_code == DEFAULT_COMBO:
            continue
        expanded.extend(f"{code}.{catalog.coc_codes[c]}" for c in catalog.cocs_of_combo.get(element.combo_id, []))
    return expanded


def _outermost_units(catalog: Catalog, units: list[UnitInfo]) -> list[UnitInfo]:
    """Drop units lying under another asked unit, so that a total over units counts each value once."""
    ids = {u.id for u in units}
    kept: list[UnitInfo] = []
    for unit in units:
        parent, seen = unit.parent_id, set()
        while parent is not None and parent not in ids and parent not in seen:
            seen.add(parent)
            parent = catalog.units_by_id[parent].parent_id if parent in catalog.units_by_id else None
        if parent is None and unit not in kept:
            kept.append(unit)
    return kept


def _outermost_periods(periods: list[Period]) -> list[Period]:
    """Drop periods inside another asked period (a month and its year), so that a total counts each value once."""
    unique = list({p.iso: p for p in periods}.values())
    return [p for p in unique if not any(o.iso != p.iso and o.contains(p) for o in unique)]


def _decimals(catalog: Catalog, item: analytics.DxItem) -> int:
    """Return the decimals shown for an item: none for counts (dossiers, visits), the indicator's own otherwise."""
    element = catalog.elements.get(item.code.partition(".")[0])
    if element is not None and element.value_type in WHOLE_TYPES:
        return 0
    return item.decimals


def _values(result: AnalyticsResponse) -> dict[tuple[str, str, str], float]:
    return {(r[0], r[1], r[2]): float(r[3]) for r in result.rows}


async def build(
    session: AsyncSession,
    catalog: Catalog,
    indicators: list[Indicator],
    dx: list[str],
    pe: list[str],
    ou: list[str],
    *,
    split: bool = False,
    remap: bool = False,
    today: date | None = None,
) -> Pivot:
    """Run the analytics behind a pivot: the cells, a total per row over the periods and a total row per item."""
    items = expand_dx(catalog, dx, split)
    if not items or not pe or not ou:
        raise BadExpression(
            "Chọn ít nhất một chỉ tiêu, một kỳ và một đơn vị.",
            "Choose at least one data item, one period and one unit.",
        )
    dims = [f"dx:{';'.join(items)}", f"pe:{';'.join(pe)}", f"ou:{';'.join(ou)}"]
    query = analytics.parse_query(catalog, indicators, dims, [], remap, today)
    periods = list({p.iso: p for p in query.pe}.values())
    units = list({u.id: u for u in query.ou}.values())
    shown = len(query.dx) * (len(units) + 1) * (len(periods) + 1)
    if shown > PIVOT_MAX_CELLS:
        raise BadExpression(
            f"Bảng quá lớn ({shown} ô, tối đa {PIVOT_MAX_CELLS}); hãy bớt chỉ tiêu, kỳ hoặc đơn vị.",
            f"The table is too large ({shown} cells, at most {PIVOT_MAX_CELLS}); choose fewer items, periods or units.",
        )
    top_units = _outermost_units(catalog, units)
    top_periods = _outermost_periods(periods)
    query.pe, query.ou = periods, units
    cells = _values(await analytics.run(session, catalog, query))
    # The totals are asked of the engine too: over periods, over units, and both (filters join their items).
    by_unit = analytics.Query(dx=query.dx, pe=[], ou=units, pe_filter=top_periods, remap=remap)
    by_period = analytics.Query(dx=query.dx, pe=periods, ou=[], ou_filter=top_units, remap=remap)
    overall = analytics.Query(dx=query.dx, pe=[], ou=[], pe_filter=top_periods, ou_filter=top_units, remap=remap)
    period_label = "+".join(p.iso for p in top_periods)
    unit_label = "+".join(u.code for u in top_units)
    row_totals = _values(await analytics.run(session, catalog, by_unit))
    column_totals = _values(await analytics.run(session, catalog, by_period))
    grand = _values(await analytics.run(session, catalog, overall))
    pivot = Pivot(periods=[p.iso for p in periods], remap=remap)
    for item in query.dx:
        decimals = _decimals(catalog, item)
        for unit in units:
            pivot.rows.append(
                PivotRow(
                    dx=item.code,
                    dx_name=item.name,
                    dx_name_en=item.name_en or item.name,
                    ou=unit.code,
                    ou_name=unit.name,
                    values=[cells.get((item.code, p.iso, unit.code)) for p in periods],
                    total=row_totals.get((item.code, period_label, unit.code)),
                    decimals=decimals,
                )
            )
        if len(units) > 1:
            pivot.rows.append(
                PivotRow(
                    dx=item.code,
                    dx_name=item.name,
                    dx_name_en=item.name_en or item.name,
                    ou=TOTAL,
                    ou_name=", ".join(u.name for u in top_units),
                    values=[column_totals.get((item.code, p.iso, unit_label)) for p in periods],
                    total=grand.get((item.code, period_label, unit_label)),
                    decimals=decimals,
                    is_total=True,
                )
            )
    return pivot


def _header(pivot: Pivot) -> list[str]:
    return ["Mã / Code", "Dữ liệu / Data", "Đơn vị / Unit", *pivot.periods, "Tổng / Total"]


def _unit_cell(row: PivotRow) -> str:
    return f"Tổng / Total ({row.ou_name})" if row.is_total else f"{row.ou_name} ({row.ou})"


def to_csv(pivot: Pivot) -> bytes:
    """Return the pivot as CSV (UTF-8 with a byte-order mark, so that Excel reads the Vietnamese names)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_header(pivot))
    for row in pivot.rows:
        figures = [
            ("" if v is None else f"{round(v, row.decimals):.{row.decimals}f}") for v in [*row.values, row.total]
        ]
        writer.writerow([row.dx, row.dx_name, _unit_cell(row), *figures])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(pivot: Pivot) -> bytes:
    """Return the pivot as an Excel workbook: one sheet, totals in bold, numbers as numbers."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has an active sheet
    sheet.title = "Bang tong hop"
    sheet.append(_header(pivot))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in pivot.rows:
        figures = [None if v is None else round(v, row.decimals) for v in [*row.values, row.total]]
        sheet.append([row.dx, row.dx_name, _unit_cell(row), *figures])
        if row.is_total:
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
    sheet.column_dimensions["B"].width = 40
    sheet.column_dimensions["C"].width = 30
    sheet.freeze_panes = "D2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def chart_data(pivot: Pivot, limit: int = PIVOT_CHART_SERIES) -> dict[str, object]:
    """Return the series drawn by the page's chart: one line per row (totals first), periods along the axis."""
    ordered = sorted(pivot.rows, key=lambda r: not r.is_total)
    return {
        "periods": pivot.periods,
        "series": [
            {"label": f"{r.dx_name} — {'Tổng' if r.is_total else r.ou_name}", "values": r.values}
            for r in ordered[:limit]
        ],
    }


def options(catalog: Catalog, indicators: list[Indicator]) -> dict[str, object]:
    """Return what the builder's form offers: items by pack, units (province, levels, communes)."""
    packs: dict[str, list[tuple[str, str, str]]] = {}
    for ind in indicators:
        packs.setdefault(ind.pack, []).append((ind.code, ind.name, ind.name_en))
    for element in sorted(catalog.elements.values(), key=lambda e: e.code):
        packs.setdefault(element.pack, []).append((element.code, element.name, element.name_en))
    units = sorted(
        (u for u in (catalog.current_unit(code) for code in catalog.units) if u is not None and u.valid_to is None),
        key=lambda u: (u.level != "province", u.code),
    )
    # Levels named in the locale files; a level without a name is still reachable through its units.
    levels = [level for level in ("province", "district", "commune") if any(u.level == level for u in units)]
    return {"packs": packs, "units": units, "levels": levels}
