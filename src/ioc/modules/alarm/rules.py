"""Checking rules on save, and the compiled form the engine evaluates."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ioc.modules import citizen_report, org_unit, telemetry

from .constants import MAX_RULE_WINDOW, Operator, RuleKind, ScopeKind
from .exceptions import InvalidRule
from .expression import Condition, compile_condition, parse_condition
from .models import AlarmRule
from .schemas import RuleWrite

COMPARE: dict[str, Callable[[float, float], bool]] = {
    Operator.GT: operator.gt,
    Operator.GE: operator.ge,
    Operator.LT: operator.lt,
    Operator.LE: operator.le,
}
TELEMETRY_KINDS = (RuleKind.THRESHOLD, RuleKind.RATE, RuleKind.NO_DATA)
ENVIRONMENT_KINDS = (RuleKind.INDEX, RuleKind.EXCEEDANCE)
REPORT_KINDS = (RuleKind.REPORT_COUNT, RuleKind.REPORT_OVERDUE)
SCOPES_BY_KIND: dict[RuleKind, tuple[ScopeKind, ...]] = {
    RuleKind.THRESHOLD: (ScopeKind.DATASTREAM, ScopeKind.DEVICE, ScopeKind.STATION, ScopeKind.UNIT, ScopeKind.PROVINCE),
    RuleKind.RATE: (ScopeKind.DATASTREAM, ScopeKind.DEVICE, ScopeKind.STATION, ScopeKind.UNIT, ScopeKind.PROVINCE),
    RuleKind.NO_DATA: (ScopeKind.DATASTREAM, ScopeKind.DEVICE, ScopeKind.STATION, ScopeKind.UNIT, ScopeKind.PROVINCE),
    RuleKind.INDEX: (ScopeKind.STATION, ScopeKind.UNIT, ScopeKind.PROVINCE),
    RuleKind.EXCEEDANCE: (ScopeKind.STATION, ScopeKind.UNIT, ScopeKind.PROVINCE),
    RuleKind.REPORT_COUNT: (ScopeKind.CATEGORY,),
    RuleKind.REPORT_OVERDUE: (ScopeKind.CATEGORY, ScopeKind.UNIT, ScopeKind.PROVINCE),
}
STANDARDS = ("VN_AQI", "US_AQI", "VN_WQI")
# Every datastream a province-wide or commune-wide rule may watch must be named by key (e.g. "water_level").
KEYED_SCOPES = (ScopeKind.UNIT, ScopeKind.PROVINCE)


def _invalid(field_name: str, vi: str, en: str, **detail: Any) -> InvalidRule:
    return InvalidRule(field_name, vi, en, **detail)


def _require(data: RuleWrite, name: str, vi: str, en: str) -> None:
    if getattr(data, name) is None:
        raise _invalid(name, vi, en)


def _check_thresholds(data: RuleWrite) -> None:
    """Refuse a missing operator or threshold, and a clear threshold on the wrong side (no hysteresis)."""
    _require(data, "operator", "Cần chọn phép so sánh (>, >=, <, <=).", "Choose a comparison (>, >=, <, <=).")
    _require(data, "threshold", "Cần nhập ngưỡng cảnh báo.", "Enter the alarm threshold.")
    if data.clear_threshold is None or data.threshold is None or data.operator is None:
        return
    rising = data.operator in (Operator.GT, Operator.GE)
    if rising and data.clear_threshold > data.threshold:
        raise _invalid(
            "clear_threshold",
            f"Ngưỡng hết cảnh báo ({data.clear_threshold:g}) phải không lớn hơn ngưỡng cảnh báo "
            f"({data.threshold:g}) khi cảnh báo lúc giá trị {data.operator.value} ngưỡng.",
            f"The clear threshold ({data.clear_threshold:g}) must not be above the alarm threshold "
            f"({data.threshold:g}) for a rule that fires when the value is {data.operator.value} the threshold.",
        )
    if not rising and data.clear_threshold < data.threshold:
        raise _invalid(
            "clear_threshold",
            f"Ngưỡng hết cảnh báo ({data.clear_threshold:g}) phải không nhỏ hơn ngưỡng cảnh báo "
            f"({data.threshold:g}) khi cảnh báo lúc giá trị {data.operator.value} ngưỡng.",
            f"The clear threshold ({data.clear_threshold:g}) must not be below the alarm threshold "
            f"({data.threshold:g}) for a rule that fires when the value is {data.operator.value} the threshold.",
        )


async def _resolve_streams(session: AsyncSession, data: RuleWrite) -> tuple[list[int], str | None]:
    """Return the datastream ids a telemetry rule watches and its commune; refuse unknown references."""
    key = data.parameter
    if data.scope_kind in KEYED_SCOPES and not key:
        raise _invalid(
            "parameter",
            "Quy tắc cho cả xã/tỉnh phải ghi mã đại lượng (ví dụ water_level).",
            "A commune- or province-wide rule must name the datastream key (e.g. water_level).",
        )
    ref = data.scope_ref
    if data.scope_kind is ScopeKind.DATASTREAM:
        try:
            ids = [int(ref or "")]
        except ValueError:
            raise _invalid(
                "scope_ref", f"Mã luồng dữ liệu '{ref}' không hợp lệ.", f"Datastream id '{ref}' is not a number."
            ) from None
        places = await telemetry.datastream_places(session, datastream_ids=ids)
        if not places:
            raise _invalid(
                "scope_ref", f"Không có luồng dữ liệu số {ref}.", f"Unknown datastream {ref}.", datastream_id=ref
            )
    elif data.scope_kind in (ScopeKind.DEVICE, ScopeKind.STATION):
        places = await telemetry.datastream_places(session, device_code=ref, key=key)
        if not places:
            raise _invalid(
                "scope_ref",
                f"Thiết bị/trạm '{ref}' không tồn tại hoặc không có luồng dữ liệu '{key or '*'}'.",
                f"Device or station '{ref}' does not exist or has no datastream '{key or '*'}'.",
                scope_ref=ref,
            )
    elif data.scope_kind is ScopeKind.UNIT:
        await _check_unit(session, ref)
        places = await telemetry.datastream_places(session, unit_code=ref, key=key)
    else:
        places = await telemetry.datastream_places(session, key=key)
    if data.scope_kind in KEYED_SCOPES and not places:
        raise _invalid(
            "parameter",
            f"Không có luồng dữ liệu nào mang mã '{key}' trong phạm vi đã chọn.",
            f"No datastream with key '{key}' in the chosen scope.",
            parameter=key,
        )
    units = {p.unit_code for p in places}
    return [p.datastream_id for p in places], (units.pop() if len(units) == 1 else None)


async def _check_unit(session: AsyncSession, code: str | None) -> None:
    if not code or await org_unit.get_unit(session, code) is None:
        raise _invalid(
            "scope_ref",
            f"Không có đơn vị hành chính mã '{code}'.",
            f"Unknown administrative unit '{code}'.",
            scope_ref=code,
        )


async def validate(session: AsyncSession, data: RuleWrite) -> tuple[dict[str, Any], list[int], str | None]:
    """Check a rule and return (params, watched datastream ids, commune); raise InvalidRule with a precise message."""
    kind = data.kind
    if data.scope_kind not in SCOPES_BY_KIND[kind]:
        allowed = ", ".join(s.value for s in SCOPES_BY_KIND[kind])
        raise _invalid(
            "scope_kind",
            f"Loại quy tắc '{kind.value}' chỉ áp dụng cho phạm vi: {allowed}.",
            f"A '{kind.value}' rule applies only to: {allowed}.",
        )
    if data.scope_kind is not ScopeKind.PROVINCE and not data.scope_ref:
        raise _invalid("scope_ref", "Cần ghi đối tượng của phạm vi.", "Name what the scope refers to.")
    if data.expression:
        parse_condition(data.expression)
    params: dict[str, Any] = {"pending_minutes": data.pending_minutes}
    ids: list[int] = []
    unit_code: str | None = data.scope_ref if data.scope_kind is ScopeKind.UNIT else None
    if kind in (RuleKind.THRESHOLD, RuleKind.RATE, RuleKind.INDEX):
        if not (kind is RuleKind.THRESHOLD and data.expression and data.operator is None):
            _check_thresholds(data)
        params.update(
            operator=data.operator.value if data.operator else None,
            threshold=data.threshold,
            clear_threshold=data.clear_threshold,
            expression=data.expression,
        )
    if kind is RuleKind.NO_DATA:
        _require(data, "minutes", "Cần nhập số phút không có dữ liệu.", "Enter the minutes without data.")
        params["minutes"] = data.minutes
    if kind in TELEMETRY_KINDS:
        params["parameter"] = data.parameter
        ids, unit_code = await _resolve_streams(session, data)
    if kind is RuleKind.INDEX:
        if (data.standard or "").upper() not in STANDARDS:
            raise _invalid(
                "standard",
                f"Chỉ số '{data.standard}' không được hỗ trợ; chọn một trong {', '.join(STANDARDS)}.",
                f"Index '{data.standard}' is not supported; choose one of {', '.join(STANDARDS)}.",
            )
        params.update(standard=(data.standard or "").upper(), period=data.period)
    if kind is RuleKind.EXCEEDANCE:
        params.update(parameter=data.parameter)
    if kind in ENVIRONMENT_KINDS and data.scope_kind is ScopeKind.UNIT:
        await _check_unit(session, data.scope_ref)
    if kind in REPORT_KINDS or (kind is RuleKind.REPORT_OVERDUE and data.scope_kind is ScopeKind.CATEGORY):
        if data.scope_kind is ScopeKind.CATEGORY:
            try:
                await citizen_report.get_category(session, data.scope_ref or "")
            except citizen_report.CategoryNotFound:
                raise _invalid(
                    "scope_ref",
                    f"Không có lĩnh vực phản ánh mã '{data.scope_ref}'.",
                    f"Unknown report category '{data.scope_ref}'.",
                    scope_ref=data.scope_ref,
                ) from None
        elif data.scope_kind is ScopeKind.UNIT:
            await _check_unit(session, data.scope_ref)
    if kind is RuleKind.REPORT_COUNT:
        _require(data, "count", "Cần nhập số phản ánh tối thiểu.", "Enter the minimum number of reports.")
        _require(data, "radius_m", "Cần nhập bán kính (mét).", "Enter the radius in metres.")
        _require(data, "window_minutes", "Cần nhập khoảng thời gian (phút).", "Enter the time window in minutes.")
        params.update(count=data.count, radius_m=data.radius_m, window_minutes=data.window_minutes)
    window = timedelta(minutes=max(data.pending_minutes, data.window_minutes or 0, data.minutes or 0))
    if window > MAX_RULE_WINDOW:
        raise _invalid("pending_minutes", "Khoảng thời gian tối đa là 7 ngày.", "Time windows are at most 7 days.")
    return params, ids, unit_code


@dataclass
class CompiledRule:
    """A rule ready for evaluation: comparisons resolved once, not per reading."""

    id: int
    name: str
    kind: str
    severity: str
    scope_kind: str
    scope_ref: str | None
    unit_code: str | None
    agency_code: str | None
    params: dict[str, Any]
    datastream_ids: list[int] = field(default_factory=list)
    pending: timedelta = timedelta(0)
    raise_test: Callable[[float, float | None], bool] = lambda value, prev: False
    clear_test: Callable[[float, float | None], bool] = lambda value, prev: True

    def matches_place(self, station_code: str | None, unit_code: str | None) -> bool:
        """Tell whether an event from a station or commune falls in the rule's scope."""
        if self.scope_kind == ScopeKind.PROVINCE:
            return True
        if self.scope_kind == ScopeKind.STATION:
            return station_code is not None and station_code == self.scope_ref
        if self.scope_kind == ScopeKind.UNIT:
            return unit_code is not None and unit_code == self.scope_ref
        return False


def _tests(
    params: dict[str, Any],
) -> tuple[Callable[[float, float | None], bool], Callable[[float, float | None], bool]]:
    """Build the raise and clear tests: threshold with hysteresis, or an expression (cleared when false)."""
    expression: Condition | None = compile_condition(params["expression"]) if params.get("expression") else None
    op_name = params.get("operator")
    threshold = params.get("threshold")
    clear = params.get("clear_threshold")

    def env(value: float, prev: float | None) -> dict[str, float]:
        values = {"value": value}
        if prev is not None:
            values.update(prev=prev, delta=value - prev)
        return values

    if op_name is None or threshold is None:
        if expression is None:
            return (lambda v, p: False), (lambda v, p: True)
        cond = expression
        return (lambda v, p: cond(env(v, p))), (lambda v, p: not cond(env(v, p)))
    compare = COMPARE[op_name]
    limit = float(threshold)

    def raise_test(value: float, prev: float | None) -> bool:
        return compare(value, limit) and (expression is None or expression(env(value, prev)))

    if clear is None:
        return raise_test, (lambda v, p: not raise_test(v, p))
    clear_limit = float(clear)
    rising = op_name in (Operator.GT, Operator.GE)
    # Hysteresis: "fire above 3.0, clear below 2.8" — values in between keep the alarm as it is.
    return raise_test, ((lambda v, p: v < clear_limit) if rising else (lambda v, p: v > clear_limit))


def compile_rule(rule: AlarmRule) -> CompiledRule:
    """Turn a stored rule into its evaluation form."""
    params = dict(rule.params or {})
    raise_test, clear_test = (
        _tests(params) if rule.kind != RuleKind.NO_DATA else ((lambda v, p: False), (lambda v, p: True))
    )
    return CompiledRule(
        id=rule.id,
        name=rule.name,
        kind=rule.kind,
        severity=rule.severity,
        scope_kind=rule.scope_kind,
        scope_ref=rule.scope_ref,
        unit_code=rule.unit_code,
        agency_code=rule.agency_code,
        params=params,
        datastream_ids=list(rule.datastream_ids or []),
        pending=timedelta(minutes=float(params.get("pending_minutes") or 0)),
        raise_test=raise_test,
        clear_test=clear_test,
    )
