"""Metadata editing by administrators: data elements, disaggregations, data sets, validation rules, indicators.

Each kind is described by its form fields (label, control, limits); one `save` checks a submitted form, field
by field in Vietnamese and English, and writes through the ORM so that every change lands in the audit log.
Changes that would orphan stored figures (another value type or disaggregation of an element with values,
another frequency of a data set with values, dropping option combos that hold values) are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from itertools import product
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.errors import NotFound, ValidationFailed

from . import expressions
from .constants import (
    DEFAULT_COMBO,
    AggregationType,
    Importance,
    MissingValueStrategy,
    Operator,
    ValueType,
)
from .models import (
    CategoryCombo,
    CategoryOptionCombo,
    DataElement,
    DataSet,
    DataSetElement,
    DataValue,
    Indicator,
    Report,
    ValidationRule,
)
from .periods import PeriodType

CODE_PATTERN = r"[A-Za-z][A-Za-z0-9_]{0,59}"
_CODE = re.compile(f"^{CODE_PATTERN}$")
_OPTION_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,29}$")
# A disaggregation's cells are the cross product of its categories; beyond this a form is unusable.
MAX_OPTION_COMBOS = 400


@dataclass(frozen=True)
class Field:
    """One control of a metadata form."""

    name: str
    label: str
    label_en: str
    kind: str = "text"  # text, textarea, number, date, select, multiselect, checkbox
    required: bool = False
    maxlength: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    choices: str = ""  # where the select's options come from (see `choices`)
    hint: str = ""
    hint_en: str = ""
    pattern: str = ""


@dataclass(frozen=True)
class Kind:
    """A kind of metadata: its table, title and form."""

    slug: str
    title: str
    title_en: str
    model: Any
    fields: tuple[Field, ...]


def _code(hint: str = "") -> Field:
    return Field(
        "code",
        "Mã",
        "Code",
        required=True,
        maxlength=60,
        pattern=CODE_PATTERN,
        hint=hint or "Chữ cái đầu, sau đó chữ, số hoặc _; không đổi được sau khi tạo.",
        hint_en=hint or "A letter, then letters, digits or _; cannot change once created.",
    )


NAME = Field("name", "Tên (tiếng Việt)", "Name (Vietnamese)", required=True, maxlength=300)
NAME_EN = Field("name_en", "Tên tiếng Anh", "English name", maxlength=300)
PACK = Field("pack", "Gói chỉ tiêu", "Content pack", maxlength=40, hint="Ví dụ: tthc, y_te", hint_en="e.g. tthc, y_te")
EXPRESSION_HINT = "Ví dụ: #{TTHC_RECEIVED} hoặc #{TTHC_RESOLVED.LATE} * 100"
EXPRESSION_HINT_EN = "e.g. #{TTHC_RECEIVED} or #{TTHC_RESOLVED.LATE} * 100"

KINDS: dict[str, Kind] = {
    k.slug: k
    for k in (
        Kind(
            "elements",
            "Chỉ tiêu thu thập",
            "Data elements",
            DataElement,
            (
                _code(),
                NAME,
                NAME_EN,
                PACK,
                Field("value_type", "Kiểu giá trị", "Value type", "select", required=True, choices="value_type"),
                Field(
                    "aggregation_type", "Cách cộng dồn", "Aggregation", "select", required=True, choices="aggregation"
                ),
                Field("combo", "Phân tổ", "Disaggregation", "select", required=True, choices="combo"),
                Field("zero_is_significant", "Lưu giá trị 0", "Store zeros", "checkbox"),
                Field("unit_label", "Đơn vị tính", "Unit of measure", maxlength=40),
            ),
        ),
        Kind(
            "combos",
            "Phân tổ",
            "Disaggregations",
            CategoryCombo,
            (
                _code(),
                NAME,
                NAME_EN,
                Field(
                    "categories",
                    "Các nhóm phân tổ",
                    "Categories",
                    "textarea",
                    required=True,
                    maxlength=4000,
                    hint="Mỗi dòng một nhóm: mã | Tên | Name: MÃ = Tên / Name; MÃ = Tên / Name",
                    hint_en="One category per line: code | Tên | Name: CODE = Tên / Name; CODE = Tên / Name",
                ),
            ),
        ),
        Kind(
            "data-sets",
            "Bộ biểu mẫu",
            "Data sets",
            DataSet,
            (
                _code(),
                NAME,
                NAME_EN,
                PACK,
                Field("period_type", "Kỳ báo cáo", "Frequency", "select", required=True, choices="period_type"),
                Field(
                    "timely_days",
                    "Số ngày nộp đúng hạn sau kỳ",
                    "Days after the period to be on time",
                    "number",
                    required=True,
                    minimum=0,
                    maximum=366,
                ),
                Field(
                    "expiry_days",
                    "Khóa nhập sau (ngày, 0 = không khóa)",
                    "Entry closes after (days, 0 = never)",
                    "number",
                    minimum=0,
                    maximum=3660,
                ),
                Field(
                    "open_future_periods",
                    "Số kỳ tương lai được nhập",
                    "Future periods open",
                    "number",
                    minimum=0,
                    maximum=24,
                ),
                Field("open_from", "Mở nhập từ ngày", "Open from", "date"),
                Field(
                    "elements",
                    "Chỉ tiêu trên biểu",
                    "Elements on the form",
                    "multiselect",
                    required=True,
                    choices="element",
                ),
            ),
        ),
        Kind(
            "rules",
            "Quy tắc kiểm tra",
            "Validation rules",
            ValidationRule,
            (
                _code(),
                Field("data_set", "Bộ biểu mẫu", "Data set", "select", required=True, choices="data_set"),
                NAME,
                NAME_EN,
                Field(
                    "left",
                    "Vế trái",
                    "Left side",
                    required=True,
                    maxlength=1000,
                    hint=EXPRESSION_HINT,
                    hint_en=EXPRESSION_HINT_EN,
                ),
                Field("operator", "Phép so sánh", "Operator", "select", required=True, choices="operator"),
                Field(
                    "right",
                    "Vế phải",
                    "Right side",
                    required=True,
                    maxlength=1000,
                    hint=EXPRESSION_HINT,
                    hint_en=EXPRESSION_HINT_EN,
                ),
                Field("left_missing", "Khi vế trái thiếu số liệu", "Left side missing", "select", choices="missing"),
                Field("right_missing", "Khi vế phải thiếu số liệu", "Right side missing", "select", choices="missing"),
                Field("importance", "Mức độ", "Importance", "select", required=True, choices="importance"),
                Field("instruction", "Hướng dẫn sửa", "How to fix", "textarea", maxlength=1000),
                Field(
                    "instruction_en", "Hướng dẫn sửa (tiếng Anh)", "How to fix (English)", "textarea", maxlength=1000
                ),
            ),
        ),
        Kind(
            "indicators",
            "Chỉ số",
            "Indicators",
            Indicator,
            (
                _code(),
                NAME,
                NAME_EN,
                PACK,
                Field(
                    "numerator",
                    "Tử số",
                    "Numerator",
                    required=True,
                    maxlength=2000,
                    hint=EXPRESSION_HINT,
                    hint_en=EXPRESSION_HINT_EN,
                ),
                Field(
                    "denominator",
                    "Mẫu số",
                    "Denominator",
                    required=True,
                    maxlength=2000,
                    hint="1 nếu không chia",
                    hint_en="1 when not a ratio",
                ),
                Field("factor", "Hệ số", "Factor", "number", required=True, minimum=-1e9, maximum=1e9),
                Field("decimals", "Số chữ số thập phân", "Decimals", "number", required=True, minimum=0, maximum=6),
                Field("unit_label", "Đơn vị tính", "Unit of measure", maxlength=40),
                Field("higher_is_better", "Càng cao càng tốt", "Higher is better", "checkbox"),
            ),
        ),
    )
}

VALUE_TYPE_LABELS = {
    ValueType.NUMBER: "Số",
    ValueType.INTEGER: "Số nguyên",
    ValueType.POSITIVE_INTEGER: "Số nguyên dương",
    ValueType.ZERO_OR_POSITIVE_INTEGER: "Số nguyên không âm",
    ValueType.PERCENTAGE: "Phần trăm",
    ValueType.UNIT_INTERVAL: "Tỷ lệ 0–1",
    ValueType.BOOLEAN: "Có/không",
    ValueType.TEXT: "Văn bản",
}
AGGREGATION_LABELS = {
    AggregationType.SUM: "Cộng",
    AggregationType.AVERAGE: "Trung bình theo thời gian",
    AggregationType.AVERAGE_ALL: "Trung bình theo đơn vị và thời gian",
    AggregationType.LAST: "Giá trị kỳ cuối",
    AggregationType.NONE: "Không cộng dồn",
}
OPERATOR_LABELS = {
    Operator.EQUAL_TO: "=",
    Operator.NOT_EQUAL_TO: "≠",
    Operator.GREATER_THAN: ">",
    Operator.GREATER_THAN_OR_EQUAL_TO: "≥",
    Operator.LESS_THAN: "<",
    Operator.LESS_THAN_OR_EQUAL_TO: "≤",
    Operator.COMPULSORY_PAIR: "Cặp bắt buộc",
    Operator.EXCLUSIVE_PAIR: "Cặp loại trừ",
}
MISSING_LABELS = {
    MissingValueStrategy.SKIP_IF_ANY_VALUE_MISSING: "Bỏ qua nếu thiếu bất kỳ giá trị nào",
    MissingValueStrategy.SKIP_IF_ALL_VALUES_MISSING: "Bỏ qua nếu thiếu tất cả",
    MissingValueStrategy.NEVER_SKIP: "Luôn kiểm tra",
}
IMPORTANCE_LABELS = {Importance.HIGH: "Cao", Importance.MEDIUM: "Trung bình", Importance.LOW: "Thấp"}
PERIOD_LABELS = {
    PeriodType.DAILY: "Ngày",
    PeriodType.WEEKLY: "Tuần",
    PeriodType.MONTHLY: "Tháng",
    PeriodType.QUARTERLY: "Quý",
    PeriodType.SIX_MONTHLY: "6 tháng",
    PeriodType.YEARLY: "Năm",
    PeriodType.SCHOOL_YEAR: "Năm học",
    PeriodType.FINANCIAL_APRIL: "Năm tài chính (tháng 4)",
    PeriodType.FINANCIAL_JULY: "Năm tài chính (tháng 7)",
    PeriodType.FINANCIAL_OCTOBER: "Năm tài chính (tháng 10)",
}


class MetadataInvalid(ValidationFailed):
    """A metadata form has errors; `errors` maps each field to its Vietnamese and English message."""

    code = "indicator_metadata_invalid"

    def __init__(self, errors: dict[str, tuple[str, str]]) -> None:
        first_vi, first_en = next(iter(errors.values()))
        super().__init__(
            f"Biểu mẫu có {len(errors)} lỗi: {first_vi}",
            f"The form has {len(errors)} error(s): {first_en}",
            fields={k: {"vi": vi, "en": en} for k, (vi, en) in errors.items()},
        )
        self.errors = errors


class MetadataNotFound(NotFound):
    """No metadata row of this kind has the code."""

    code = "indicator_metadata_not_found"

    def __init__(self, kind: str, code: str) -> None:
        super().__init__(f"Không có mục '{code}' trong {kind}.", f"No item '{code}' in {kind}.", kind=kind, item=code)


def get_kind(slug: str) -> Kind:
    """Return a kind of metadata by its path segment, or refuse with 404."""
    if slug not in KINDS:
        raise MetadataNotFound("siêu dữ liệu", slug)
    return KINDS[slug]


async def choices(session: AsyncSession) -> dict[str, list[tuple[str, str]]]:
    """Return the options of every select of the forms: closed sets and the current codes."""
    combos = (await session.scalars(select(CategoryCombo).order_by(CategoryCombo.code))).all()
    elements = (await session.scalars(select(DataElement).order_by(DataElement.code))).all()
    sets = (await session.scalars(select(DataSet).order_by(DataSet.code))).all()
    return {
        "value_type": [(v.value, label) for v, label in VALUE_TYPE_LABELS.items()],
        "aggregation": [(v.value, label) for v, label in AGGREGATION_LABELS.items()],
        "operator": [(v.value, label) for v, label in OPERATOR_LABELS.items()],
        "missing": [(v.value, label) for v, label in MISSING_LABELS.items()],
        "importance": [(v.value, label) for v, label in IMPORTANCE_LABELS.items()],
        "period_type": [(v.value, label) for v, label in PERIOD_LABELS.items()],
        "combo": [(c.code, f"{c.name} ({c.code})") for c in combos],
        "element": [(e.code, f"{e.name} ({e.code})") for e in elements],
        "data_set": [(d.code, f"{d.name} ({d.code})") for d in sets],
    }


async def list_items(session: AsyncSession, kind: Kind) -> list[Any]:
    """Return every row of a kind, by code."""
    return list((await session.scalars(select(kind.model).order_by(kind.model.code))).all())


def categories_text(categories: list[dict[str, Any]]) -> str:
    """Write a disaggregation's categories in the form's one-line-per-category notation."""
    lines = []
    for category in categories:
        options = "; ".join(f"{o['code']} = {o['name']} / {o.get('name_en') or o['name']}" for o in category["options"])
        lines.append(
            f"{category['code']} | {category['name']} | {category.get('name_en') or category['name']}: {options}"
        )
    return "\n".join(lines)


def parse_categories(text: str) -> list[dict[str, Any]]:
    """Read the one-line-per-category notation; raise ValueError with a Vietnamese and English message."""
    categories: list[dict[str, Any]] = []
    for number, line in enumerate((raw.strip() for raw in text.splitlines()), start=1):
        if not line:
            continue
        head, colon, tail = line.partition(":")
        names = [part.strip() for part in head.split("|")]
        if not colon or not names[0] or not _CODE.match(names[0]):
            raise ValueError(
                f"Dòng {number}: cần 'mã | Tên | Name: MÃ = Tên / Name; …'.",
                f"Line {number}: expected 'code | Tên | Name: CODE = Tên / Name; …'.",
            )
        options = []
        for item in (i.strip() for i in tail.split(";")):
            if not item:
                continue
            code, equals, label = item.partition("=")
            code = code.strip()
            if not equals or not _OPTION_CODE.match(code) or not label.strip():
                raise ValueError(
                    f"Dòng {number}: lựa chọn '{item[:40]}' phải có dạng MÃ = Tên / Name.",
                    f"Line {number}: option '{item[:40]}' must look like CODE = Tên / Name.",
                )
            vi, _slash, en = label.rpartition(" / ") if " / " in label else (label, "", label)
            options.append({"code": code, "name": vi.strip(), "name_en": en.strip() or vi.strip()})
        codes = [o["code"] for o in options]
        if not options or len(set(codes)) != len(codes):
            raise ValueError(
                f"Dòng {number}: cần ít nhất một lựa chọn, mã không trùng nhau.",
                f"Line {number}: at least one option is needed, with distinct codes.",
            )
        name = names[1] if len(names) > 1 and names[1] else names[0]
        name_en = names[2] if len(names) > 2 and names[2] else name
        categories.append({"code": names[0], "name": name, "name_en": name_en, "options": options})
    if not categories:
        raise ValueError("Cần ít nhất một nhóm phân tổ.", "At least one category is needed.")
    if len({c["code"] for c in categories}) != len(categories):
        raise ValueError("Mã nhóm phân tổ bị trùng.", "Category codes repeat.")
    return categories


def option_combos(categories: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Return the (code, name, English name) cells of a disaggregation: the cross product of its categories."""
    if not categories:
        return [(DEFAULT_COMBO, "Tổng", "Total")]
    return [
        (
            "_".join(o["code"] for o in options),
            ", ".join(o["name"] for o in options),
            ", ".join(o.get("name_en", o["name"]) for o in options),
        )
        for options in product(*(c["options"] for c in categories))
    ]


async def form_values(session: AsyncSession, kind: Kind, row: Any | None) -> dict[str, Any]:
    """Return the form's values for a stored row (or the defaults of a new one)."""
    if row is None:
        defaults: dict[str, Any] = {
            "elements": {"value_type": "zero_or_positive_integer", "aggregation_type": "sum", "combo": DEFAULT_COMBO},
            "data-sets": {"period_type": "monthly", "timely_days": 5, "expiry_days": 0, "open_future_periods": 0},
            "rules": {"operator": "less_than_or_equal_to", "importance": "medium"},
            "indicators": {"denominator": "1", "factor": 1, "decimals": 1, "higher_is_better": True},
        }
        return dict(defaults.get(kind.slug, {}))
    values: dict[str, Any] = {f.name: getattr(row, f.name, None) for f in kind.fields if hasattr(row, f.name)}
    if kind.slug == "elements":
        values["combo"] = await session.scalar(select(CategoryCombo.code).where(CategoryCombo.id == row.combo_id))
    elif kind.slug == "combos":
        values["categories"] = categories_text(row.categories)
    elif kind.slug == "data-sets":
        values["elements"] = list(
            (
                await session.scalars(
                    select(DataElement.code)
                    .join(DataSetElement, DataSetElement.data_element_id == DataElement.id)
                    .where(DataSetElement.data_set_id == row.id)
                    .order_by(DataSetElement.sort_order)
                )
            ).all()
        )
        values["open_from"] = row.open_from.isoformat() if row.open_from else ""
    elif kind.slug == "rules":
        values["data_set"] = await session.scalar(select(DataSet.code).where(DataSet.id == row.data_set_id))
    return values


def _lower_first(label: str) -> str:
    """Return a label as it reads inside a sentence ("Tên (tiếng Việt)" → "tên (tiếng Việt)")."""
    return label[:1].lower() + label[1:]


@dataclass
class _Checker:
    """Collects field errors while a form is read."""

    form: dict[str, Any]
    errors: dict[str, tuple[str, str]] = field(default_factory=dict)

    def error(self, name: str, vi: str, en: str) -> None:
        self.errors.setdefault(name, (vi, en))

    def text(self, spec: Field) -> str:
        value = str(self.form.get(spec.name) or "").strip()
        if spec.required and not value:
            self.error(spec.name, f"Vui lòng nhập {_lower_first(spec.label)}.", f"{spec.label_en} is required.")
        elif spec.maxlength and len(value) > spec.maxlength:
            self.error(spec.name, f"Tối đa {spec.maxlength} ký tự.", f"At most {spec.maxlength} characters.")
        return value

    def number(self, spec: Field, whole: bool) -> float:
        raw = str(self.form.get(spec.name) or "").strip().replace(",", ".")
        if not raw:
            if spec.required:
                self.error(spec.name, f"Vui lòng nhập {_lower_first(spec.label)}.", f"{spec.label_en} is required.")
            return 0.0
        try:
            value = float(raw)
        except ValueError:
            self.error(spec.name, "Phải là một số.", "Must be a number.")
            return 0.0
        if whole and not value.is_integer():
            self.error(spec.name, "Phải là số nguyên.", "Must be a whole number.")
        if (spec.minimum is not None and value < spec.minimum) or (spec.maximum is not None and value > spec.maximum):
            self.error(
                spec.name,
                f"Phải từ {spec.minimum:g} đến {spec.maximum:g}.",
                f"Must be between {spec.minimum:g} and {spec.maximum:g}.",
            )
        return value

    def choice(self, spec: Field, allowed: list[tuple[str, str]]) -> str:
        value = self.text(spec)
        if value and value not in {v for v, _label in allowed}:
            self.error(spec.name, f"Giá trị '{value}' không có trong danh sách.", f"'{value}' is not a choice.")
        return value

    def expression(self, spec: Field, known: set[str]) -> str:
        value = self.text(spec)
        if not value or spec.name in self.errors:
            return value
        try:
            node = expressions.parse(value)
        except expressions.ExpressionError as exc:
            self.error(
                spec.name, f"Biểu thức không đúng cú pháp ({exc}).", f"The expression is not well formed ({exc})."
            )
            return value
        unknown = sorted({o.element for o in expressions.operands(node)} - known)
        if unknown:
            self.error(
                spec.name,
                f"Không có chỉ tiêu: {', '.join(unknown)}.",
                f"Unknown data element(s): {', '.join(unknown)}.",
            )
        return value


async def _has_values(session: AsyncSession, column: Any, ids: list[int]) -> bool:
    if not ids:
        return False
    found = await session.scalar(select(func.count()).select_from(DataValue).where(column.in_(ids)).limit(1))
    return bool(found)


async def save(session: AsyncSession, kind: Kind, original: str | None, form: dict[str, Any]) -> Any:
    """Check a submitted form and create (original None) or update the row; return it. Raises MetadataInvalid."""
    check = _Checker(form)
    options = await choices(session)
    specs = {f.name: f for f in kind.fields}
    row = None
    if original is not None:
        row = await session.scalar(select(kind.model).where(kind.model.code == original))
        if row is None:
            raise MetadataNotFound(kind.title, original)
    code = check.text(specs["code"]) if row is None else row.code
    if row is None and code and not _CODE.match(code):
        check.error(
            "code", "Mã chỉ gồm chữ, số và _, bắt đầu bằng chữ.", "Letters, digits and _, starting with a letter."
        )
    if row is None and code and await session.scalar(select(kind.model.id).where(kind.model.code == code)):
        check.error("code", f"Mã '{code}' đã có.", f"Code '{code}' already exists.")
    values: dict[str, Any] = {}
    for spec in kind.fields:
        if spec.name == "code":
            continue
        if spec.kind == "checkbox":
            values[spec.name] = str(form.get(spec.name) or "") in ("on", "true", "1")
        elif spec.kind == "number":
            whole = spec.name in ("timely_days", "expiry_days", "open_future_periods", "decimals")
            number = check.number(spec, whole)
            values[spec.name] = int(number) if whole else number
        elif spec.kind == "select":
            values[spec.name] = check.choice(spec, options[spec.choices])
        elif spec.kind == "multiselect":
            raw = form.get(spec.name) or []
            picked = [str(v) for v in (raw if isinstance(raw, list) else [raw]) if str(v).strip()]
            allowed = {v for v, _l in options[spec.choices]}
            if spec.required and not picked:
                check.error(spec.name, "Chọn ít nhất một chỉ tiêu.", "Choose at least one data element.")
            missing = [p for p in picked if p not in allowed]
            if missing:
                check.error(spec.name, f"Không có chỉ tiêu: {', '.join(missing)}.", f"Unknown: {', '.join(missing)}.")
            values[spec.name] = list(dict.fromkeys(picked))
        elif spec.kind == "date":
            raw_date = check.text(spec)
            try:
                values[spec.name] = date.fromisoformat(raw_date) if raw_date else None
            except ValueError:
                check.error(spec.name, "Ngày không hợp lệ (yyyy-mm-dd).", "Not a valid date (yyyy-mm-dd).")
        elif spec.name in ("left", "right", "numerator", "denominator"):
            values[spec.name] = check.expression(spec, {v for v, _l in options["element"]})
        else:
            values[spec.name] = check.text(spec)
    if kind.slug == "combos" and "categories" not in check.errors:
        try:
            values["categories"] = parse_categories(values["categories"])
        except ValueError as exc:
            vi, en = exc.args
            check.error("categories", vi, en)
        else:
            if len(option_combos(values["categories"])) > MAX_OPTION_COMBOS:
                check.error(
                    "categories",
                    f"Quá nhiều ô phân tổ (tối đa {MAX_OPTION_COMBOS}).",
                    f"Too many cells (at most {MAX_OPTION_COMBOS}).",
                )
    if not check.errors:
        await _write(session, kind, row, code, values, check)
    if check.errors:
        raise MetadataInvalid(check.errors)
    return await session.scalar(select(kind.model).where(kind.model.code == code))


async def _write(
    session: AsyncSession, kind: Kind, row: Any | None, code: str, values: dict[str, Any], check: _Checker
) -> None:
    """Apply checked values, refusing changes that would orphan stored figures."""
    if kind.slug == "elements":
        combo_id = await session.scalar(select(CategoryCombo.id).where(CategoryCombo.code == values.pop("combo")))
        if row is not None and await _has_values(session, DataValue.data_element_id, [row.id]):
            if row.combo_id != combo_id:
                check.error(
                    "combo",
                    "Chỉ tiêu đã có số liệu: không đổi được phân tổ.",
                    "The element has values: its disaggregation cannot change.",
                )
            if row.value_type != values["value_type"]:
                check.error(
                    "value_type",
                    "Chỉ tiêu đã có số liệu: không đổi được kiểu giá trị.",
                    "The element has values: its value type cannot change.",
                )
        values["combo_id"] = combo_id
    elif kind.slug == "combos":
        await _write_option_combos(session, row, values["categories"], check)
    elif kind.slug == "data-sets":
        elements = values.pop("elements")
        if row is not None and row.period_type != values["period_type"]:
            used = await session.scalar(select(func.count()).select_from(Report).where(Report.data_set_id == row.id))
            if used:
                check.error(
                    "period_type",
                    "Bộ biểu mẫu đã có báo cáo: không đổi được kỳ báo cáo.",
                    "The data set has reports: its frequency cannot change.",
                )
    elif kind.slug == "rules":
        values["data_set_id"] = await session.scalar(select(DataSet.id).where(DataSet.code == values.pop("data_set")))
        values["left_missing"] = values["left_missing"] or MissingValueStrategy.SKIP_IF_ANY_VALUE_MISSING.value
        values["right_missing"] = values["right_missing"] or MissingValueStrategy.SKIP_IF_ANY_VALUE_MISSING.value
    if check.errors:
        return
    if row is None:
        row = kind.model(code=code, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    await session.flush()
    if kind.slug == "combos":
        await _write_option_combos(session, row, values["categories"], check, apply=True)
    if kind.slug == "data-sets":
        await _write_members(session, row.id, elements)


async def _write_option_combos(
    session: AsyncSession, combo: Any | None, categories: list[dict[str, Any]], check: _Checker, apply: bool = False
) -> None:
    """Add the new cells of a disaggregation, drop unused old ones; refuse dropping cells that hold values."""
    cells = option_combos(categories)
    wanted = {c for c, _n, _e in cells}
    existing = (
        list((await session.scalars(select(CategoryOptionCombo).where(CategoryOptionCombo.combo_id == combo.id))).all())
        if combo is not None and combo.id is not None
        else []
    )
    dropped = [c for c in existing if c.code not in wanted]
    if not apply:
        if await _has_values(session, DataValue.coc_id, [c.id for c in dropped]):
            names = ", ".join(c.code for c in dropped[:5])
            check.error(
                "categories",
                f"Các ô phân tổ đã có số liệu không bỏ được: {names}.",
                f"Cells holding values cannot be dropped: {names}.",
            )
        return
    assert combo is not None  # applied after the combo row was written
    by_code = {c.code: c for c in existing}
    for order, (code, name, name_en) in enumerate(cells):
        cell = by_code.get(code)
        if cell is None:
            session.add(CategoryOptionCombo(combo_id=combo.id, code=code, name=name, name_en=name_en, sort_order=order))
        else:
            cell.name, cell.name_en, cell.sort_order = name, name_en, order
    for cell in dropped:
        await session.delete(cell)
    await session.flush()


async def _write_members(session: AsyncSession, data_set_id: int, codes: list[str]) -> None:
    """Set a data set's elements in the given order, one audited row each (added, moved or removed)."""
    ids = dict(
        (await session.execute(select(DataElement.code, DataElement.id).where(DataElement.code.in_(codes)))).all()
    )
    existing = {
        m.data_element_id: m
        for m in (await session.scalars(select(DataSetElement).where(DataSetElement.data_set_id == data_set_id))).all()
    }
    wanted = [ids[c] for c in codes if c in ids]
    for order, element_id in enumerate(wanted):
        member = existing.pop(element_id, None)
        if member is None:
            session.add(DataSetElement(data_set_id=data_set_id, data_element_id=element_id, sort_order=order))
        elif member.sort_order != order:
            member.sort_order = order
    for member in existing.values():
        await session.delete(member)
    await session.flush()
