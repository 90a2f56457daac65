"""Rules of the shared statistics database: content packs, units, imports, checks, approval and completeness.

No SQL here (see repository.py) and no commit (routers and jobs commit).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import product
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.events import record_event
from ioc.core.security import Principal, Role
from ioc.core.time import local_today, to_local, utc_now
from ioc.modules import org_unit

from . import expressions, repository
from .constants import (
    DEFAULT_COMBO,
    LOCKED_STATUSES,
    MAX_TEXT_VALUE,
    MIN_HISTORY_FOR_OUTLIERS,
    MOD_Z_CONSTANT,
    NUMERIC_TYPES,
    OLD_PROVINCE_LEVEL,
    OLD_TO_NEW_CSV,
    OLD_UNIT_LEVEL,
    OUTLIER_THRESHOLD,
    PACKS_DIR,
    PAGE_PATH,
    ChangeSource,
    Importance,
    ImportStrategy,
    MissingValueStrategy,
    Operator,
    OutlierMethod,
    ReportStatus,
    ValueType,
)
from .events import (
    ImportCompleted,
    ReportAccepted,
    ReportApproved,
    ReportEvent,
    ReportReturned,
    ReportSubmitted,
    ReportUnlocked,
)
from .exceptions import (
    BadPeriod,
    DataSetNotFound,
    ImportRefused,
    InvalidReportTransition,
    NotReportingAgency,
    PackNotFound,
    UnitNotKnown,
    ValidationBlocksSubmit,
)
from .models import (
    CategoryCombo,
    DataElement,
    DataSet,
    Indicator,
    ValidationRule,
)
from .models import Report as ReportRow
from .periods import InvalidPeriod, Period, PeriodType, parse_period, period_containing
from .repository import Catalog, DataSetInfo, ElementInfo, UnitInfo
from .schemas import (
    CompletenessRow,
    ImportConflict,
    ImportSummary,
    OutlierRead,
    ReconciliationItem,
    ReconciliationReport,
    ReportRead,
    RuleViolationRead,
    ValueRow,
)

REFORM_2025 = date(2025, 7, 1)
OLD_UNITS_FROM = date(2000, 1, 1)
PERIOD_TYPE_LABEL = {
    PeriodType.DAILY: ("ngày", "day"),
    PeriodType.WEEKLY: ("tuần", "week"),
    PeriodType.MONTHLY: ("tháng", "month"),
    PeriodType.QUARTERLY: ("quý", "quarter"),
    PeriodType.SIX_MONTHLY: ("6 tháng", "six-month"),
    PeriodType.YEARLY: ("năm", "year"),
    PeriodType.SCHOOL_YEAR: ("năm học", "school year"),
    PeriodType.FINANCIAL_APRIL: ("năm tài chính từ tháng 4", "April financial year"),
    PeriodType.FINANCIAL_JULY: ("năm tài chính từ tháng 7", "July financial year"),
    PeriodType.FINANCIAL_OCTOBER: ("năm tài chính từ tháng 10", "October financial year"),
}
TRUE_WORDS = frozenset({"true", "1", "yes", "có", "x"})
FALSE_WORDS = frozenset({"false", "0", "no", "không"})
_PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
_THOUSANDS_DOT = re.compile(r"^-?\d{1,3}(\.\d{3})+$")


# --- content packs ------------------------------------------------------------------------------


def pack_files() -> dict[str, dict[str, Any]]:
    """Read the content packs shipped with the module, by code."""
    packs: dict[str, dict[str, Any]] = {}
    for path in sorted(PACKS_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        packs[data["code"]] = data
    return packs


def get_pack(code: str) -> dict[str, Any]:
    """Return one content pack or raise PackNotFound."""
    packs = pack_files()
    if code not in packs:
        raise PackNotFound(code)
    return packs[code]


async def _combo(session: AsyncSession, code: str, name: str, name_en: str, categories: list[dict[str, Any]]) -> int:
    """Create or update a category combo and its option combos (the cross product of its categories)."""
    combo = await repository.upsert_by_code(
        session, CategoryCombo, code, {"name": name, "name_en": name_en, "categories": categories}
    )
    if not categories:
        await repository.upsert_coc(session, combo.id, DEFAULT_COMBO, "Tổng", "Total", 0)
        return int(combo.id)
    for order, options in enumerate(product(*(c["options"] for c in categories))):
        await repository.upsert_coc(
            session,
            combo.id,
            "_".join(o["code"] for o in options),
            ", ".join(o["name"] for o in options),
            ", ".join(o.get("name_en", o["name"]) for o in options),
            order,
        )
    return int(combo.id)


async def load_pack(session: AsyncSession, pack: dict[str, Any]) -> dict[str, int]:
    """Create or update the metadata of a content pack; running it again changes nothing."""
    code = pack["code"]
    combo_ids = {DEFAULT_COMBO: await _combo(session, DEFAULT_COMBO, "Không phân tổ", "None", [])}
    for combo in pack.get("combos", []):
        combo_ids[combo["code"]] = await _combo(
            session, combo["code"], combo["name"], combo["name_en"], combo["categories"]
        )
    element_ids: dict[str, int] = {}
    for de in pack.get("data_elements", []):
        ValueType(de["value_type"])  # refuse a pack with an unknown value type early
        row = await repository.upsert_by_code(
            session,
            DataElement,
            de["code"],
            {
                "name": de["name"],
                "name_en": de["name_en"],
                "pack": code,
                "value_type": de["value_type"],
                "aggregation_type": de["aggregation_type"],
                "zero_is_significant": de.get("zero_is_significant", False),
                "combo_id": combo_ids[de.get("combo", DEFAULT_COMBO)],
                "unit_label": de.get("unit_label", ""),
            },
        )
        element_ids[de["code"]] = row.id
    set_ids: dict[str, int] = {}
    for ds in pack.get("data_sets", []):
        PeriodType(ds["period_type"])
        row = await repository.upsert_by_code(
            session,
            DataSet,
            ds["code"],
            {
                "name": ds["name"],
                "name_en": ds["name_en"],
                "pack": code,
                "period_type": ds["period_type"],
                "timely_days": ds.get("timely_days", 5),
                "expiry_days": ds.get("expiry_days", 0),
                "open_future_periods": ds.get("open_future_periods", 0),
                "open_from": date.fromisoformat(ds["open_from"]) if ds.get("open_from") else None,
            },
        )
        set_ids[ds["code"]] = row.id
        await repository.replace_set_elements(session, row.id, [(element_ids[e], "") for e in ds["elements"]])
    for rule in pack.get("rules", []):
        for side in ("left", "right"):
            expressions.parse(rule[side])
        await repository.upsert_by_code(
            session,
            ValidationRule,
            rule["code"],
            {
                "data_set_id": set_ids[rule["data_set"]],
                "name": rule["name"],
                "name_en": rule["name_en"],
                "instruction": rule.get("instruction", ""),
                "instruction_en": rule.get("instruction_en", ""),
                "left": rule["left"],
                "operator": Operator(rule["operator"]).value,
                "right": rule["right"],
                "left_missing": MissingValueStrategy(rule.get("left_missing", "skip_if_any_value_missing")).value,
                "right_missing": MissingValueStrategy(rule.get("right_missing", "skip_if_any_value_missing")).value,
                "importance": Importance(rule.get("importance", "medium")).value,
            },
        )
    for indicator in pack.get("indicators", []):
        expressions.parse(indicator["numerator"])
        expressions.parse(indicator["denominator"])
        await repository.upsert_by_code(
            session,
            Indicator,
            indicator["code"],
            {
                "name": indicator["name"],
                "name_en": indicator["name_en"],
                "pack": code,
                "numerator": indicator["numerator"],
                "denominator": indicator["denominator"],
                "factor": indicator.get("factor", 1),
                "decimals": indicator.get("decimals", 1),
                "unit_label": indicator.get("unit_label", ""),
                "higher_is_better": indicator.get("higher_is_better", True),
            },
        )
    return {"elements": len(element_ids), "data_sets": len(set_ids), "indicators": len(pack.get("indicators", []))}


# --- reporting units --------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitSource:
    """A unit version as read from org_unit (or the pre-2025 list)."""

    code: str
    name: str
    level: str
    parent_code: str | None
    valid_from: date
    valid_to: date | None


async def sync_units(session: AsyncSession, units: list[UnitSource]) -> dict[str, int]:
    """Copy unit versions (parents first) into the reporting-unit table and rebuild the tree closure."""
    ids: dict[tuple[str, date], int] = {}
    by_code: dict[str, list[tuple[date, date | None, int]]] = defaultdict(list)
    pending = sorted(units, key=lambda u: (u.parent_code is not None, u.valid_from))
    writer = repository.UnitWriter(session)
    for _round in range(10):  # hierarchy depth bound: parents are written before children
        later = []
        for unit in pending:
            parent_id = None
            if unit.parent_code:
                candidates = [
                    uid
                    for start, end, uid in by_code.get(unit.parent_code, [])
                    if start <= unit.valid_from and (end is None or unit.valid_from <= end)
                ]
                if not candidates:
                    later.append(unit)
                    continue
                parent_id = candidates[0]
            uid = await writer.write(unit.code, unit.name, unit.level, unit.valid_from, unit.valid_to, parent_id)
            ids[(unit.code, unit.valid_from)] = uid
            by_code[unit.code].append((unit.valid_from, unit.valid_to, uid))
        if not later or len(later) == len(pending):
            break
        pending = later
    await repository.rebuild_closure(session)
    return {f"{code}@{start.isoformat()}": uid for (code, start), uid in ids.items()}


def old_to_new_rows() -> list[dict[str, str]]:
    """Return the old→new commune mapping of the 2025 reform (unverified reference data)."""
    with io.StringIO(OLD_TO_NEW_CSV.read_text(encoding="utf-8")) as handle:
        return list(csv.DictReader(handle))


async def load_old_units(session: AsyncSession, catalog: Catalog) -> int:
    """Register the pre-2025 communes and the mapping onto the new ones.

    Weights: a whole old unit counts fully; an old unit split across n new units gives each 1/n, because
    the reference has no area or population weights (statistics.md §4). The UI marks this unverified.
    """
    rows = old_to_new_rows()
    splits: dict[str, int] = defaultdict(int)
    for row in rows:
        splits[row["old_code"]] += 1
    writer = repository.UnitWriter(session)
    links: list[tuple[int, int, str, float]] = []
    old_ids: dict[str, int] = {}
    old_parent: int | None = None
    for versions in catalog.units.values():
        for top in versions:
            if top.parent_id is None and top.valid_from == REFORM_2025 and top.level == "province":
                old_parent = await writer.write(
                    top.code,
                    f"{top.name} (trước 01/7/2025, theo địa giới mới)",
                    OLD_PROVINCE_LEVEL,
                    OLD_UNITS_FROM,
                    REFORM_2025 - timedelta(days=1),
                    None,
                )
                links.append((old_parent, top.id, "full", 1.0))
    for row in rows:
        if row["old_code"] not in old_ids:
            old_ids[row["old_code"]] = await writer.write(
                row["old_code"],
                row["old_name"],
                OLD_UNIT_LEVEL,
                OLD_UNITS_FROM,
                REFORM_2025 - timedelta(days=1),
                old_parent,
            )
        new = catalog.unit_on(row["new_code"], REFORM_2025)
        if new is None:
            continue
        weight = 1.0 if row["merge_type"] == "full" else 1.0 / splits[row["old_code"]]
        links.append((old_ids[row["old_code"]], new.id, row["merge_type"], weight))
    await repository.upsert_mappings(session, links)
    await repository.rebuild_closure(session)
    return len(links)


# --- values: parsing and checks -----------------------------------------------------------------------


def parse_number(value: Any, vietnamese: bool = False) -> float:
    """Read a number; with `vietnamese`, "1.234.567,5" and "1234,5" are read the Vietnamese way."""
    if isinstance(value, bool):
        raise ValueError("boolean")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("not finite")
        return float(value)
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if vietnamese:
        if "," in text and "." in text:
            if text.rfind(",") > text.rfind("."):
                text = text.replace(".", "").replace(",", ".")
            else:
                text = text.replace(",", "")
        elif "," in text:
            text = text.replace(",", ".") if text.count(",") == 1 else text.replace(",", "")
        elif _THOUSANDS_DOT.match(text):
            text = text.replace(".", "")
    if not _PLAIN_NUMBER.match(text):
        raise ValueError(text)
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def check_value(
    element: ElementInfo, raw: Any, vietnamese: bool
) -> tuple[float | None, str | None, tuple[str, str] | None]:
    """Turn raw input into (number, text), or say in both languages why it is not a value of this element."""
    kind = ValueType(element.value_type)
    if kind is ValueType.TEXT:
        text = str(raw)
        if len(text) > MAX_TEXT_VALUE:
            return None, None, (f"dài quá {MAX_TEXT_VALUE} ký tự", f"longer than {MAX_TEXT_VALUE} characters")
        return None, text, None
    if kind is ValueType.BOOLEAN:
        word = str(raw).strip().lower()
        if raw is True or word in TRUE_WORDS:
            return 1.0, None, None
        if raw is False or word in FALSE_WORDS:
            return 0.0, None, None
        return None, None, ("phải là có/không", "must be yes/no")
    try:
        number = parse_number(raw, vietnamese)
    except ValueError:
        return None, None, ("không phải là số", "is not a number")
    whole = number == int(number)
    if kind in (ValueType.INTEGER, ValueType.POSITIVE_INTEGER, ValueType.ZERO_OR_POSITIVE_INTEGER) and not whole:
        return None, None, ("phải là số nguyên", "must be a whole number")
    if kind is ValueType.POSITIVE_INTEGER and number <= 0:
        return None, None, ("phải là số nguyên dương", "must be a positive whole number")
    if kind is ValueType.ZERO_OR_POSITIVE_INTEGER and number < 0:
        return None, None, ("không được âm", "must not be negative")
    if kind is ValueType.PERCENTAGE and not 0 <= number <= 100:
        return None, None, ("phải từ 0 đến 100", "must be between 0 and 100")
    if kind is ValueType.UNIT_INTERVAL and not 0 <= number <= 1:
        return None, None, ("phải từ 0 đến 1", "must be between 0 and 1")
    return number, None, None


def deadline(ds: DataSetInfo, period: Period) -> date:
    """Return the last day a report counts as on time."""
    return period.end + timedelta(days=ds.timely_days)


def entry_closed(ds: DataSetInfo, period: Period, today: date) -> tuple[str, str] | None:
    """Say why a period is not open for entry (before the open date, too far ahead, expired), else None."""
    if ds.open_from is not None and period.end < ds.open_from:
        return (
            f"kỳ trước ngày mở biểu mẫu {ds.open_from:%d/%m/%Y}",
            f"period before the data set opened on {ds.open_from.isoformat()}",
        )
    if period.start > today:
        ahead = 0
        probe = period
        while probe.start > today and ahead <= ds.open_future_periods:
            probe = probe.previous()
            ahead += 1
        if ahead > ds.open_future_periods:
            return ("kỳ trong tương lai chưa mở nhập", "future period not open for entry")
    if ds.expiry_days > 0 and today > period.end + timedelta(days=ds.expiry_days):
        return (
            f"kỳ đã khóa sau {ds.expiry_days} ngày kể từ cuối kỳ",
            f"period closed {ds.expiry_days} days after its end",
        )
    return None


def _conflict(row: ValueRow, field: str, error: str, vi: str, en: str, value: Any = None) -> ImportConflict:
    where_vi = f"Dòng {row.row}" if row.row is not None else "Giá trị"
    where_en = f"Row {row.row}" if row.row is not None else "Value"
    cell = f"{row.columns[field]}{row.row}" if field in row.columns and row.row is not None else row.cell
    if cell:
        where_vi += f", ô {cell}"
        where_en += f", cell {cell}"
    return ImportConflict(
        row=row.row,
        cell=cell,
        field=field,
        value=None if value is None else str(value)[:200],
        error=error,
        message=f"{where_vi}: {vi}",
        message_en=f"{where_en}: {en}",
    )


@dataclass
class _Resolved:
    row: ValueRow
    element: ElementInfo
    data_set: DataSetInfo
    period: Period
    unit: UnitInfo
    coc_id: int
    agency_id: int
    value_num: float | None
    value_text: str | None
    delete: bool


def _resolve(
    catalog: Catalog,
    row: ValueRow,
    actor: Principal,
    vietnamese: bool,
    today: date | None,
) -> _Resolved | ImportConflict:
    """Check one value against the metadata, the actor's rights and the calendar."""
    element = catalog.elements.get(row.data_element)
    if element is None:
        return _conflict(
            row,
            "dataElement",
            "unknown_data_element",
            f"không có chỉ tiêu mã '{row.data_element}'",
            f"no data element with code '{row.data_element}'",
            row.data_element,
        )
    try:
        period = _period(row.period)
    except InvalidPeriod:
        return _conflict(
            row,
            "period",
            "invalid_period",
            f"kỳ báo cáo '{row.period}' không hợp lệ (ví dụ 202503, 2025Q1, 2025)",
            f"'{row.period}' is not a period (e.g. 202503, 2025Q1, 2025)",
            row.period,
        )
    sets = [catalog.data_sets_by_id[i] for i in catalog.sets_of_element.get(element.id, [])]
    matching = [ds for ds in sets if ds.period_type == period.type.value]
    if not matching:
        expected = ", ".join(sorted({PERIOD_TYPE_LABEL[PeriodType(ds.period_type)][0] for ds in sets})) or "—"
        expected_en = ", ".join(sorted({PERIOD_TYPE_LABEL[PeriodType(ds.period_type)][1] for ds in sets})) or "—"
        return _conflict(
            row,
            "period",
            "period_type_mismatch",
            f"chỉ tiêu {element.code} báo cáo theo kỳ {expected}, không nhận kỳ '{row.period}'",
            f"{element.code} is reported per {expected_en}, not for period '{row.period}'",
            row.period,
        )
    unit = catalog.unit_on(row.org_unit, period.start) or catalog.unit_on(row.org_unit, period.end)
    if unit is None:
        return _conflict(
            row,
            "orgUnit",
            "unknown_org_unit",
            f"không có đơn vị mã '{row.org_unit}' trong kỳ {period.iso}",
            f"no unit with code '{row.org_unit}' in period {period.iso}",
            row.org_unit,
        )
    data_set = next((ds for ds in matching if (ds.id, unit.id) in catalog.sources), matching[0])
    reporters = catalog.sources.get((data_set.id, unit.id), {})
    if row.agency:
        agency_id = catalog.agencies.get(row.agency)
        if agency_id is None or agency_id not in reporters:
            return _conflict(
                row,
                "attributeOptionCombo",
                "agency_not_assigned",
                f"cơ quan '{row.agency}' không được giao báo cáo {data_set.code} cho đơn vị {unit.code}",
                f"agency '{row.agency}' does not report {data_set.code} for unit {unit.code}",
                row.agency,
            )
    elif actor.agency_id is not None and actor.agency_id in reporters:
        agency_id = actor.agency_id
    elif len(reporters) == 1:
        agency_id = next(iter(reporters))
    else:
        return _conflict(
            row,
            "attributeOptionCombo",
            "agency_required",
            f"không xác định được cơ quan báo cáo {data_set.code} cho đơn vị {unit.code}",
            f"cannot tell which agency reports {data_set.code} for unit {unit.code}",
        )
    if actor.role is not Role.ADMIN and actor.agency_id != agency_id:
        return _conflict(
            row,
            "orgUnit",
            "not_your_agency",
            f"cơ quan của bạn không được giao báo cáo đơn vị {unit.code}",
            f"your agency does not report for unit {unit.code}",
            row.org_unit,
        )
    combo_code = row.coc or DEFAULT_COMBO
    coc_id = catalog.cocs.get((element.combo_id, combo_code))
    if coc_id is None:
        return _conflict(
            row,
            "categoryOptionCombo",
            "unknown_category_option_combo",
            f"chỉ tiêu {element.code} không có phân tổ '{combo_code}'",
            f"{element.code} has no disaggregation '{combo_code}'",
            combo_code,
        )
    closed = entry_closed(data_set, period, today) if today is not None else None
    if closed is not None:
        return _conflict(row, "period", "period_closed", closed[0], closed[1], row.period)
    if row.value is None or (isinstance(row.value, str) and not row.value.strip()):
        return _Resolved(row, element, data_set, period, unit, coc_id, agency_id, None, None, True)
    number, text, problem = check_value(element, row.value, vietnamese)
    if problem is not None:
        return _conflict(
            row,
            "value",
            "invalid_value",
            f"giá trị '{row.value}' của {element.code} {problem[0]}",
            f"value '{row.value}' of {element.code} {problem[1]}",
            row.value,
        )
    drop_zero = number == 0 and not element.zero_is_significant and element.value_type in NUMERIC_TYPES
    return _Resolved(row, element, data_set, period, unit, coc_id, agency_id, number, text, drop_zero)


@lru_cache(maxsize=4096)
def _period(iso: str) -> Period:
    """Parse a period identifier once per import rather than once per value (a file repeats a few periods)."""
    return parse_period(iso)


def shown_value(number: float | None, text: str | None) -> str | None:
    """Return a stored value as DHIS2 shows it ("12", "12.5" or the text)."""
    if text is not None:
        return text
    if number is None:
        return None
    return str(int(number)) if number == int(number) else repr(number)


async def import_rows(
    session: AsyncSession,
    catalog: Catalog,
    rows: list[ValueRow],
    actor: Principal,
    *,
    strategy: ImportStrategy,
    source: ChangeSource,
    dry_run: bool = False,
    vietnamese_numbers: bool = False,
    today: date | None = None,
    check_calendar: bool = True,
    import_id: int | None = None,
    publish: bool = True,
) -> ImportSummary:
    """Check every value, then store the good ones (all-or-nothing unless asked otherwise) with history.

    `check_calendar=False` (demo seed and history loads only) accepts periods outside the open window;
    `publish=False` leaves the `indicator.import_completed` event to the caller (a background import's steps).
    """
    day = (today or local_today()) if check_calendar else None
    conflicts: list[ImportConflict] = []
    resolved: list[_Resolved] = []
    seen: dict[tuple[int, str, int, int, int], int | None] = {}
    for row in rows:
        outcome = _resolve(catalog, row, actor, vietnamese_numbers, day)
        if isinstance(outcome, ImportConflict):
            conflicts.append(outcome)
            continue
        key = (outcome.element.id, outcome.period.iso, outcome.unit.id, outcome.coc_id, outcome.agency_id)
        if key in seen:
            conflicts.append(
                _conflict(
                    row,
                    "dataElement",
                    "duplicate_value",
                    f"trùng với dòng {seen[key]} (cùng chỉ tiêu, phân tổ, kỳ, đơn vị)",
                    f"duplicates row {seen[key]} (same element, disaggregation, period, unit)",
                )
            )
            continue
        seen[key] = row.row
        resolved.append(outcome)
    # Locks: a submitted, approved or accepted report keeps its values until it is unlocked.
    known_periods = await repository.period_ids(session, sorted({r.period.iso for r in resolved}))
    states = await repository.report_states(session, {r.data_set.id for r in resolved}, known_periods.values())
    good: list[tuple[_Resolved, bool]] = []
    for item in resolved:
        pid = known_periods.get(item.period.iso)
        status, approved_before = (
            states.get((item.data_set.id, pid, item.unit.id, item.agency_id), ("open", False))
            if pid is not None
            else ("open", False)
        )
        if status in LOCKED_STATUSES:
            conflicts.append(
                _conflict(
                    item.row,
                    "period",
                    "report_locked",
                    f"báo cáo {item.data_set.code} kỳ {item.period.iso} của {item.unit.code} đã khóa ({status})",
                    f"report {item.data_set.code} {item.period.iso} of {item.unit.code} is locked ({status})",
                    item.period.iso,
                )
            )
            continue
        good.append((item, approved_before))
    conflicts.sort(key=lambda c: (c.row is None, c.row or 0))
    summary = ImportSummary(
        status="SUCCESS",
        strategy=strategy,
        dry_run=dry_run,
        total=len(rows),
        refused=len(conflicts),
        conflicts=conflicts,
    )
    if conflicts and strategy is ImportStrategy.ALL_OR_NOTHING:
        if dry_run:
            summary.status = "ERROR"
            return summary
        raise ImportRefused([c.model_dump() for c in conflicts], len(rows))
    if conflicts:
        summary.status = "WARNING"
    if dry_run:
        summary.imported = len(good)
        return summary
    await _write(session, good, actor, source, summary)
    summary.violations = await rule_violations(
        session, catalog, {(i.data_set.id, i.period.iso, i.unit.id, i.agency_id) for i, _a in good}
    )
    if summary.violations and summary.status == "SUCCESS":
        summary.status = "WARNING"
    # The demo seed loads years of history; its values are not news to anyone.
    if publish and source is not ChangeSource.SEED and summary.imported + summary.updated + summary.deleted:
        record_event(
            session,
            ImportCompleted(
                import_id=import_id,
                source=source.value,
                status=summary.status,
                data_sets=sorted({i.data_set.code for i, _a in good}),
                periods=sorted({i.period.iso for i, _a in good}),
                total=summary.total,
                imported=summary.imported,
                updated=summary.updated,
                deleted=summary.deleted,
                refused=summary.refused,
            ),
        )
    return summary


async def _write(
    session: AsyncSession,
    good: list[tuple[_Resolved, bool]],
    actor: Principal,
    source: ChangeSource,
    summary: ImportSummary,
) -> None:
    """Insert, update or delete the checked values, record their history and refresh the rollups."""
    if not good:
        return
    period_ids = await repository.ensure_periods(session, {i.period for i, _a in good})
    existing = await repository.existing_values(
        session,
        {i.element.id for i, _a in good},
        set(period_ids.values()),
        {i.unit.id for i, _a in good},
    )
    now = utc_now()
    inserts: list[dict[str, Any]] = []
    insert_history: list[tuple[str | None, bool]] = []
    updates: list[dict[str, Any]] = []
    deletes: list[int] = []
    history: list[dict[str, Any]] = []
    touched: set[tuple[int, int]] = set()
    for item, approved_before in good:
        pid = period_ids[item.period.iso]
        key = (item.element.id, pid, item.unit.id, item.coc_id, item.agency_id)
        stored = existing.get(key)
        new_shown = None if item.delete else shown_value(item.value_num, item.value_text)
        if stored is None:
            if item.delete:
                summary.ignored += 1
                continue
            inserts.append(
                {
                    "data_element_id": item.element.id,
                    "period_id": pid,
                    "unit_id": item.unit.id,
                    "coc_id": item.coc_id,
                    "agency_id": item.agency_id,
                    "value_num": item.value_num,
                    "value_text": item.value_text,
                    "comment": item.row.comment,
                    "follow_up": item.row.follow_up,
                    "stored_by": actor.name,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            insert_history.append((new_shown, approved_before))
            touched.add((pid, item.element.id))
            continue
        old_shown = shown_value(stored.value_num, stored.value_text)
        change = {"old_value": old_shown, "changed_by": actor.name, "changed_at": now, "source": source.value}
        if item.delete:
            deletes.append(stored.id)
            summary.deleted += 1
        elif (
            old_shown == new_shown
            and (item.row.comment or None) == (stored.comment or None)
            and item.row.follow_up == stored.follow_up
        ):
            summary.ignored += 1
            continue
        else:
            updates.append(
                {
                    "vid": stored.id,
                    "value_num": item.value_num,
                    "value_text": item.value_text,
                    "comment": item.row.comment,
                    "follow_up": item.row.follow_up,
                    "stored_by": actor.name,
                    "updated_at": now,
                }
            )
            summary.updated += 1
        history.append({**change, "value_id": stored.id, "new_value": new_shown, "after_approval": approved_before})
        touched.add((pid, item.element.id))
    new_ids = await repository.insert_values(session, inserts)
    summary.imported = len(new_ids)
    for value_id, (shown, approved_before) in zip(new_ids, insert_history, strict=True):
        history.append(
            {
                "value_id": value_id,
                "old_value": None,
                "new_value": shown,
                "changed_by": actor.name,
                "changed_at": now,
                "source": source.value,
                "after_approval": approved_before,
            }
        )
    await repository.update_values(session, updates)
    # History of deleted values goes first, while the value rows still exist to refer to.
    await repository.insert_history(session, [h for h in history if h["value_id"] not in set(deletes)])
    await repository.delete_values(session, deletes)
    await repository.refresh_rollup(session, touched)


# --- validation rules -------------------------------------------------------------------------------------------


def _side(
    node: expressions.Node, values: dict[tuple[str, str | None], float], strategy: MissingValueStrategy
) -> tuple[float | None, bool]:
    """Evaluate one side of a rule; the flag says whether the strategy skips the rule."""
    found = [values.get((o.element, o.combo)) for o in expressions.operands(node)]
    missing = sum(v is None for v in found)
    if strategy is MissingValueStrategy.SKIP_IF_ANY_VALUE_MISSING and missing:
        return None, True
    if strategy is MissingValueStrategy.SKIP_IF_ALL_VALUES_MISSING and found and missing == len(found):
        return None, True
    return expressions.evaluate(node, lambda o: values.get((o.element, o.combo))), False


def rule_passes(operator: Operator, left: float | None, right: float | None, left_has: bool, right_has: bool) -> bool:
    """Apply a rule operator (pair operators look at presence, the others at the numbers)."""
    if operator is Operator.COMPULSORY_PAIR:
        return left_has == right_has
    if operator is Operator.EXCLUSIVE_PAIR:
        return not (left_has and right_has)
    if left is None or right is None:
        return True
    tolerance = 1e-9 * max(1.0, abs(left), abs(right))
    return {
        Operator.EQUAL_TO: abs(left - right) <= tolerance,
        Operator.NOT_EQUAL_TO: abs(left - right) > tolerance,
        Operator.GREATER_THAN: left > right,
        Operator.GREATER_THAN_OR_EQUAL_TO: left >= right - tolerance,
        Operator.LESS_THAN: left < right,
        Operator.LESS_THAN_OR_EQUAL_TO: left <= right + tolerance,
    }[operator]


def evaluate_rules(
    rules: list[ValidationRule], values: dict[tuple[str, str | None], float]
) -> list[tuple[ValidationRule, float | None, float | None]]:
    """Return the rules that fail on one report's values, with both sides' values."""
    failed = []
    for rule in rules:
        operator = Operator(rule.operator)
        left_node, right_node = expressions.parse(rule.left), expressions.parse(rule.right)
        pair = operator in (Operator.COMPULSORY_PAIR, Operator.EXCLUSIVE_PAIR)
        left, skip_left = _side(left_node, values, MissingValueStrategy(rule.left_missing))
        right, skip_right = _side(right_node, values, MissingValueStrategy(rule.right_missing))
        if not pair and (skip_left or skip_right):
            continue
        left_has = any((o.element, o.combo) in values for o in expressions.operands(left_node))
        right_has = any((o.element, o.combo) in values for o in expressions.operands(right_node))
        if not rule_passes(operator, left, right, left_has, right_has):
            failed.append((rule, left, right))
    return failed


def _report_values(catalog: Catalog, rows: list[tuple[int, int, float | None]]) -> dict[tuple[str, str | None], float]:
    """Index one report's numeric values by (element, coc) and by element total (coc None)."""
    values: dict[tuple[str, str | None], float] = {}
    for element_id, coc_id, number in rows:
        if number is None:
            continue
        code = catalog.elements_by_id[element_id].code
        coc = catalog.coc_codes[coc_id]
        values[(code, coc)] = values.get((code, coc), 0.0) + number
        values[(code, None)] = values.get((code, None), 0.0) + number
    return values


async def rule_violations(
    session: AsyncSession, catalog: Catalog, keys: set[tuple[int, str, int, int]]
) -> list[RuleViolationRead]:
    """Run the rules of the touched reports (data set, period, unit, agency)."""
    if not keys:
        return []
    rules_by_set: dict[int, list[ValidationRule]] = defaultdict(list)
    for rule in await repository.rules_of(session, sorted({k[0] for k in keys})):
        rules_by_set[rule.data_set_id].append(rule)
    keys = {k for k in keys if rules_by_set.get(k[0])}
    if not keys:
        return []
    period_ids = await repository.period_ids(session, sorted({k[1] for k in keys}))
    element_ids = sorted({e for k in keys for e in catalog.data_sets_by_id[k[0]].element_ids})
    stored = await repository.values_for(session, element_ids, list(period_ids.values()), sorted({k[2] for k in keys}))
    grouped: dict[tuple[int, int, int], list[tuple[int, int, float | None]]] = defaultdict(list)
    for de, pe, ou, co, ag, num, *_rest in stored:
        grouped[(pe, ou, ag)].append((de, co, num))
    found: list[RuleViolationRead] = []
    for ds_id, iso, unit_id, agency_id in sorted(keys):
        ds = catalog.data_sets_by_id[ds_id]
        members = set(ds.element_ids)
        rows = [r for r in grouped.get((period_ids.get(iso, -1), unit_id, agency_id), []) if r[0] in members]
        for rule, left, right in evaluate_rules(rules_by_set[ds_id], _report_values(catalog, rows)):
            found.append(
                RuleViolationRead(
                    rule=rule.code,
                    name=rule.name,
                    importance=rule.importance,
                    left=left,
                    operator=rule.operator,
                    right=right,
                    data_set=ds.code,
                    period=iso,
                    org_unit=catalog.units_by_id[unit_id].code,
                    agency=catalog.agency_codes.get(agency_id),
                    instruction=rule.instruction,
                )
            )
    return found


# --- approval workflow ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportKey:
    """Which report an action is about."""

    data_set: DataSetInfo
    period: Period
    unit: UnitInfo
    agency_id: int


def report_key(
    catalog: Catalog, data_set: str, period: str, unit: str, agency: str | None, actor: Principal
) -> ReportKey:
    """Resolve a report from codes, checking that the period suits the data set and who reports it."""
    ds = catalog.data_sets.get(data_set)
    if ds is None:
        raise DataSetNotFound(data_set)
    try:
        pe = parse_period(period)
    except InvalidPeriod as exc:
        raise BadPeriod(period, PERIOD_TYPE_LABEL[PeriodType(ds.period_type)][0]) from exc
    if pe.type.value != ds.period_type:
        raise BadPeriod(period, PERIOD_TYPE_LABEL[PeriodType(ds.period_type)][0])
    ou = catalog.unit_on(unit, pe.start) or catalog.unit_on(unit, pe.end)
    if ou is None:
        raise UnitNotKnown(unit)
    reporters = catalog.sources.get((ds.id, ou.id), {})
    if agency:
        agency_id = catalog.agencies.get(agency)
    elif actor.agency_id in reporters:
        agency_id = actor.agency_id
    elif len(reporters) == 1:
        agency_id = next(iter(reporters))
    else:
        agency_id = None
    if agency_id is None or agency_id not in reporters:
        raise NotReportingAgency()
    return ReportKey(ds, pe, ou, agency_id)


def report_read(catalog: Catalog, key: ReportKey, row: ReportRow | None) -> ReportRead:
    """Describe a report (an absent row is an open, unsubmitted report)."""
    return ReportRead(
        data_set=key.data_set.code,
        period=key.period.iso,
        org_unit=key.unit.code,
        agency=catalog.agency_codes.get(key.agency_id, str(key.agency_id)),
        status=row.status if row else ReportStatus.OPEN.value,
        submitted_at=row.submitted_at if row else None,
        submitted_by=row.submitted_by if row else None,
        on_time=row.on_time if row else None,
        approved_by=row.approved_by if row else None,
        accepted_by=row.accepted_by if row else None,
        unlock_reason=row.unlock_reason if row else None,
        deadline=deadline(key.data_set, key.period).isoformat(),
    )


async def get_report(session: AsyncSession, catalog: Catalog, key: ReportKey) -> ReportRead:
    """Return the state of one report."""
    ids = await repository.period_ids(session, [key.period.iso])
    row = None
    if key.period.iso in ids:
        row = await repository.get_report(session, key.data_set.id, ids[key.period.iso], key.unit.id, key.agency_id)
    return report_read(catalog, key, row)


def _own_agency(actor: Principal, key: ReportKey) -> None:
    if actor.role is not Role.ADMIN and actor.agency_id != key.agency_id:
        raise NotReportingAgency()


async def transition(
    session: AsyncSession, catalog: Catalog, key: ReportKey, action: str, actor: Principal, reason: str | None = None
) -> ReportRead:
    """Move a report through submitted → approved (agency head) → accepted (province); unlock or return it."""
    pid = (await repository.ensure_periods(session, [key.period]))[key.period.iso]
    row = await repository.get_or_create_report(session, key.data_set.id, pid, key.unit.id, key.agency_id)
    status = ReportStatus(row.status)
    now = utc_now()
    if action == "submit":
        _own_agency(actor, key)
        if status is not ReportStatus.OPEN:
            raise InvalidReportTransition(action, status.value)
        violations = await rule_violations(
            session, catalog, {(key.data_set.id, key.period.iso, key.unit.id, key.agency_id)}
        )
        high = [v.model_dump() for v in violations if v.importance == Importance.HIGH.value]
        if high:
            raise ValidationBlocksSubmit(high)
        row.status = ReportStatus.SUBMITTED.value
        row.submitted_at, row.submitted_by = now, actor.name
        row.on_time = to_local(now).date() <= deadline(key.data_set, key.period)
    elif action in ("approve", "return"):
        _own_agency(actor, key)
        if status is not ReportStatus.SUBMITTED:
            raise InvalidReportTransition(action, status.value)
        if action == "approve":
            row.status = ReportStatus.APPROVED.value
            row.approved_at, row.approved_by = now, actor.name
        else:
            row.status, row.unlock_reason = ReportStatus.OPEN.value, reason
    elif action == "accept":
        if status is not ReportStatus.APPROVED:
            raise InvalidReportTransition(action, status.value)
        row.status = ReportStatus.ACCEPTED.value
        row.accepted_at, row.accepted_by = now, actor.name
    elif action == "unlock":
        if status is ReportStatus.OPEN:
            raise InvalidReportTransition(action, status.value)
        row.status, row.unlock_reason = ReportStatus.OPEN.value, reason
    else:
        raise InvalidReportTransition(action, status.value)
    await session.flush()
    _record_transition(session, catalog, key, row, action, status)
    return report_read(catalog, key, row)


TRANSITION_EVENTS: dict[str, type[ReportEvent]] = {
    "approve": ReportApproved,
    "return": ReportReturned,
    "accept": ReportAccepted,
    "unlock": ReportUnlocked,
}


def _record_transition(
    session: AsyncSession, catalog: Catalog, key: ReportKey, row: ReportRow, action: str, before: ReportStatus
) -> None:
    """Publish the workflow step (codes only: no names, no reason text)."""
    fields: dict[str, Any] = {
        "report_id": row.id,
        "data_set": key.data_set.code,
        "period": key.period.iso,
        "org_unit": key.unit.code,
        "agency": catalog.agency_codes.get(key.agency_id, str(key.agency_id)),
        "status": row.status,
        "from_status": before.value,
        "occurred_at": utc_now(),
    }
    if action == "submit":
        record_event(session, ReportSubmitted(**fields, on_time=bool(row.on_time)))
    else:
        record_event(session, TRANSITION_EVENTS[action](**fields))


# --- outliers -------------------------------------------------------------------------------------------------------


def z_scores(history: list[float], value: float) -> tuple[float, float, float | None]:
    """Return (mean, standard deviation, |z|) of a value against its series (the value included, as DHIS2)."""
    mean = statistics.fmean(history)
    sd = statistics.pstdev(history)
    return mean, sd, (abs(value - mean) / sd if sd > 0 else None)


def modified_z(history: list[float], value: float) -> tuple[float, float | None]:
    """Return (median, |modified z|) with the Iglewicz–Hoaglin constant 0.6745 and the median absolute deviation."""
    median = statistics.median(history)
    mad = statistics.median(abs(x - median) for x in history)
    return median, (MOD_Z_CONSTANT * abs(value - median) / mad if mad > 0 else None)


async def outliers(
    session: AsyncSession,
    catalog: Catalog,
    data_set: DataSetInfo,
    period: Period,
    unit_ids: list[int],
    method: OutlierMethod = OutlierMethod.Z_SCORE,
    threshold: float | None = None,
    history_periods: int = 24,
) -> list[OutlierRead]:
    """Find values of one period far from their own history (or outside their stored min–max bounds)."""
    limit = threshold if threshold is not None else (3.5 if method is OutlierMethod.MOD_Z_SCORE else OUTLIER_THRESHOLD)
    first = period.shift(-history_periods).start
    series = await repository.value_series(session, data_set.element_ids, unit_ids, first, period.end)
    by_key: dict[tuple[int, int, int, int], list[tuple[str, float]]] = defaultdict(list)
    for de, ou, co, ag, _pid, iso, _start, num in series:
        by_key[(de, ou, co, ag)].append((iso, num))
    bounds = (
        await repository.min_max_bounds(session, data_set.element_ids, unit_ids)
        if method is OutlierMethod.MIN_MAX
        else {}
    )
    found: list[OutlierRead] = []
    for (de, ou, co, ag), points in by_key.items():
        current = [num for iso, num in points if iso == period.iso]
        if not current:
            continue
        value = current[0]
        base = {
            "data_element": catalog.elements_by_id[de].code,
            "category_option_combo": catalog.coc_codes[co],
            "period": period.iso,
            "org_unit": catalog.units_by_id[ou].code,
            "agency": catalog.agency_codes.get(ag, str(ag)),
            "value": value,
            "method": method.value,
        }
        if method is OutlierMethod.MIN_MAX:
            low_high = bounds.get((de, ou, co))
            if low_high and not low_high[0] <= value <= low_high[1]:
                found.append(OutlierRead(**base, lower_bound=low_high[0], upper_bound=low_high[1]))
            continue
        history = [num for _iso, num in points]
        if len(history) < MIN_HISTORY_FOR_OUTLIERS:
            continue
        if method is OutlierMethod.Z_SCORE:
            mean, sd, score = z_scores(history, value)
            if score is not None and score > limit:
                found.append(
                    OutlierRead(
                        **base,
                        mean=mean,
                        std_dev=sd,
                        score=round(score, 3),
                        lower_bound=mean - limit * sd,
                        upper_bound=mean + limit * sd,
                    )
                )
        else:
            median, mod_score = modified_z(history, value)
            if mod_score is not None and mod_score > limit:
                found.append(OutlierRead(**base, median=median, score=round(mod_score, 3)))
    return sorted(found, key=lambda o: -(o.score or 0))


# --- completeness and reconciliation ---------------------------------------------------------------------------


async def completeness(
    session: AsyncSession, catalog: Catalog, data_set: DataSetInfo, period: Period, today: date | None = None
) -> list[CompletenessRow]:
    """Reporting and on-time rates of a data set for one period: overall first, then per agency."""
    day = today or local_today()
    sources = [
        s for s in await repository.source_counts(session, data_set.id) if _in_force(catalog.units_by_id[s[0]], period)
    ]
    ids = await repository.period_ids(session, [period.iso])
    rows = await repository.reports_for(session, [data_set.id], list(ids.values()))
    submitted = {(r.unit_id, r.agency_id): r for r in rows if r.submitted_at is not None}
    due = deadline(data_set, period)
    per_agency: dict[str, list[tuple[int, str, ReportRow | None]]] = defaultdict(list)
    for unit_id, agency_id, agency_code in sources:
        per_agency[agency_code].append((unit_id, agency_code, submitted.get((unit_id, agency_id))))

    def row_for(agency: str | None, items: list[tuple[int, str, ReportRow | None]]) -> CompletenessRow:
        expected = len(items)
        actual = sum(1 for _u, _a, r in items if r is not None)
        on_time = sum(1 for _u, _a, r in items if r is not None and r.on_time)
        late = sorted(
            {
                code if agency is None else catalog.units_by_id[u].code
                for u, code, r in items
                if (r is None and day > due) or (r is not None and not r.on_time)
            }
        )
        return CompletenessRow(
            data_set=data_set.code,
            period=period.iso,
            agency=agency,
            expected=expected,
            actual=actual,
            on_time=on_time,
            reporting_rate=round(actual * 100 / expected, 1) if expected else None,
            on_time_rate=round(on_time * 100 / expected, 1) if expected else None,
            late=late,
        )

    everything = [item for items in per_agency.values() for item in items]
    return [row_for(None, everything), *(row_for(code, items) for code, items in sorted(per_agency.items()))]


@dataclass
class RateHistory:
    """Reporting and on-time rates of one data set over its last periods, and per agency for the latest one."""

    data_set: DataSetInfo
    periods: list[CompletenessRow]  # overall rows, oldest first
    agencies: list[CompletenessRow]  # per agency, latest period


async def rate_history(
    session: AsyncSession, catalog: Catalog, pack: str, count: int, today: date | None = None
) -> list[RateHistory]:
    """Return, for each data set of a pack, the rates of its last `count` finished periods (leaders' overview)."""
    day = today or local_today()
    found: list[RateHistory] = []
    for ds in (d for d in catalog.data_sets.values() if d.pack == pack):
        last = period_containing(PeriodType(ds.period_type), day).previous()
        overall: list[CompletenessRow] = []
        agencies: list[CompletenessRow] = []
        for step in range(count - 1, -1, -1):
            rows = await completeness(session, catalog, ds, last.shift(-step), today=day)
            overall.append(rows[0])
            if step == 0:
                # Lowest rate first: the leader looks for who is behind.
                agencies = sorted(
                    rows[1:], key=lambda r: (r.reporting_rate or 0.0, r.on_time_rate or 0.0, r.agency or "")
                )
        found.append(RateHistory(ds, overall, agencies))
    return found


def _in_force(unit: UnitInfo, period: Period) -> bool:
    """Tell whether a unit version existed during (part of) a period: expected reports need a living unit."""
    return unit.valid_from <= period.end and (unit.valid_to is None or unit.valid_to >= period.start)


def entry_link(data_set: str, period: str, unit: str) -> str:
    """Return the entry form page of a report, where an agency fixes its figures."""
    return f"{PAGE_PATH}/entry?ds={data_set}&pe={period}&ou={unit}"


async def reconciliation(
    session: AsyncSession, catalog: Catalog, period: str, agency: str | None, today: date | None = None
) -> ReconciliationReport:
    """List, for one period and agency (or all), rule violations, outliers, missing and late reports, and
    values changed after approval, each with the link to fix it."""
    day = today or local_today()
    agency_id = catalog.agencies.get(agency) if agency else None
    items: list[ReconciliationItem] = []
    reports: list[ReportRead] = []
    for ds in catalog.data_sets.values():
        try:
            pe = parse_period(period)
        except InvalidPeriod as exc:
            raise BadPeriod(period, "—") from exc
        if pe.type.value != ds.period_type:
            continue
        sources = [
            (u, a, c)
            for u, a, c in await repository.source_counts(session, ds.id)
            if agency_id in (None, a) and _in_force(catalog.units_by_id[u], pe)
        ]
        if not sources:
            continue
        ids = await repository.period_ids(session, [pe.iso])
        pid = ids.get(pe.iso)
        rows = {
            (r.unit_id, r.agency_id): r for r in await repository.reports_for(session, [ds.id], [pid] if pid else [])
        }
        due = deadline(ds, pe)
        unit_ids = sorted({u for u, _a, _c in sources})
        for unit_id, a_id, a_code in sources:
            unit = catalog.units_by_id[unit_id]
            key = ReportKey(ds, pe, unit, a_id)
            row = rows.get((unit_id, a_id))
            reports.append(report_read(catalog, key, row))
            link = entry_link(ds.code, pe.iso, unit.code)
            if row is None or row.submitted_at is None:
                if day > due:
                    items.append(
                        ReconciliationItem(
                            kind="late",
                            data_set=ds.code,
                            period=pe.iso,
                            org_unit=unit.code,
                            importance="high",
                            message=f"{a_code} chưa nộp báo cáo {ds.code} kỳ {pe.iso} (hạn {due:%d/%m/%Y}).",
                            message_en=f"{a_code} has not submitted {ds.code} {pe.iso} (due {due.isoformat()}).",
                            link=link,
                        )
                    )
                else:
                    items.append(
                        ReconciliationItem(
                            kind="missing",
                            data_set=ds.code,
                            period=pe.iso,
                            org_unit=unit.code,
                            importance="low",
                            message=f"{a_code} chưa nộp báo cáo {ds.code} kỳ {pe.iso}; còn hạn đến {due:%d/%m/%Y}.",
                            message_en=f"{a_code} has not yet submitted {ds.code} {pe.iso}; due {due.isoformat()}.",
                            link=link,
                        )
                    )
            elif not row.on_time:
                items.append(
                    ReconciliationItem(
                        kind="late",
                        data_set=ds.code,
                        period=pe.iso,
                        org_unit=unit.code,
                        message=f"{a_code} nộp muộn báo cáo {ds.code} kỳ {pe.iso} (hạn {due:%d/%m/%Y}).",
                        message_en=f"{a_code} submitted {ds.code} {pe.iso} late (due {due.isoformat()}).",
                        link=link,
                    )
                )
            if pid is not None:
                for de, co, old, new, by, _at in await repository.changes_after_approval(
                    session, ds.element_ids, pid, unit_id, a_id
                ):
                    items.append(
                        ReconciliationItem(
                            kind="changed_after_approval",
                            data_set=ds.code,
                            period=pe.iso,
                            org_unit=unit.code,
                            importance="high",
                            message=f"{catalog.elements_by_id[de].code}.{catalog.coc_codes[co]}: {old} → {new} "
                            f"do {by} sửa sau khi đã duyệt.",
                            message_en=f"{catalog.elements_by_id[de].code}.{catalog.coc_codes[co]}: {old} → {new} "
                            f"changed by {by} after approval.",
                            link=link,
                        )
                    )
        for violation in await rule_violations(session, catalog, {(ds.id, pe.iso, u, a) for u, a, _c in sources}):
            items.append(
                ReconciliationItem(
                    kind="violation",
                    data_set=ds.code,
                    period=pe.iso,
                    org_unit=violation.org_unit,
                    importance=violation.importance,
                    message=f"{violation.name}: {violation.left} / {violation.right}.",
                    message_en=f"Rule {violation.rule} failed: {violation.left} / {violation.right}.",
                    link=entry_link(ds.code, pe.iso, violation.org_unit),
                )
            )
        for outlier in await outliers(session, catalog, ds, pe, unit_ids):
            if agency and outlier.agency != agency:
                continue
            items.append(
                ReconciliationItem(
                    kind="outlier",
                    data_set=ds.code,
                    period=pe.iso,
                    org_unit=outlier.org_unit,
                    message=f"{outlier.data_element}.{outlier.category_option_combo} = {outlier.value:g} khác thường "
                    f"(trung bình {outlier.mean or 0:.1f}, z = {outlier.score}).",
                    message_en=f"{outlier.data_element}.{outlier.category_option_combo} = {outlier.value:g} is unusual "
                    f"(mean {outlier.mean or 0:.1f}, z = {outlier.score}).",
                    link=entry_link(ds.code, pe.iso, outlier.org_unit),
                )
            )
    order = {"high": 0, "medium": 1, "low": 2}
    items.sort(key=lambda i: (order.get(i.importance, 3), i.kind, i.org_unit))
    return ReconciliationReport(agency=agency, period=period, items=items, reports=reports)


# --- bridges to org_unit ------------------------------------------------------------------------------------------


async def sync_from_org_unit(session: AsyncSession, on: date | None = None) -> int:
    """Copy the units in force on a day (default today) from org_unit, then the pre-2025 units and mapping."""
    day = on or local_today()
    units = await org_unit.units_valid_on(session, on=day)
    await sync_units(
        session,
        [UnitSource(u.code, u.name, u.level.value, u.parent_code, u.valid_from, u.valid_to) for u in units],
    )
    catalog = await repository.load_catalog(session)
    await load_old_units(session, catalog)
    return len(units)


async def assign_reporters(session: AsyncSession, catalog: Catalog, data_set: str, spec: str) -> int:
    """Assign who reports a data set: `communes` (each commune's People's Committee) or `province:<agency>`."""
    ds = catalog.data_sets.get(data_set)
    if ds is None:
        raise DataSetNotFound(data_set)
    rows: list[tuple[int, int, str]] = []
    if spec == "communes":
        for versions in catalog.units.values():
            for unit in versions:
                if unit.level != "commune":
                    continue
                try:
                    agency = await org_unit.get_agency(session, f"UBND-{unit.code}")
                except org_unit.AgencyNotFound:
                    continue
                rows.append((unit.id, agency.id, agency.code))
    else:
        _kind, _sep, agency_code = spec.partition(":")
        agency = await org_unit.get_agency(session, agency_code)
        for code in agency.unit_codes:
            # Every version of the unit: the agency also answers for the pre-reform comparable series.
            for unit in catalog.units.get(code, []):
                rows.append((unit.id, agency.id, agency.code))
    return await repository.add_sources(session, ds.id, rows)


async def assign_old_unit_reporters(session: AsyncSession, catalog: Catalog, data_set: str) -> int:
    """Let each new commune's committee answer for the pre-2025 communes merged into it (their history)."""
    ds = catalog.data_sets[data_set]
    mapping = await repository.mapping_contributions(session)
    rows: list[tuple[int, int, str]] = []
    done: set[int] = set()
    for old_id, new_id, _weight in sorted(mapping):
        if old_id in done:
            continue
        new = catalog.units_by_id.get(new_id)
        if new is None:
            continue
        try:
            agency = await org_unit.get_agency(session, f"UBND-{new.code}")
        except org_unit.AgencyNotFound:
            continue
        rows.append((old_id, agency.id, agency.code))
        done.add(old_id)
    return await repository.add_sources(session, ds.id, rows)
