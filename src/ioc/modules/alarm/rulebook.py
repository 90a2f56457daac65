"""Rules, silences and routing policies as staff manage them, and the "test against the last 24 hours" replay."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.security import Principal
from ioc.core.time import utc_now
from ioc.modules import notification, org_unit, telemetry

from . import engine, rules
from .constants import TEST_WINDOW, RuleKind
from .exceptions import InvalidPolicy, InvalidWindow, PolicyNotFound, RuleNotFound, SilenceNotFound
from .models import AlarmRule, ReportPoint, RoutingPolicy, RuleState, Silence
from .schemas import PolicyRead, PolicyWrite, RuleRead, RuleTestResult, RuleWrite, SilenceRead, SilenceWrite

if TYPE_CHECKING:
    from ioc.core.settings import Settings


async def list_rules(session: AsyncSession) -> list[RuleRead]:
    """List every rule, enabled first."""
    rows = await session.scalars(select(AlarmRule).order_by(AlarmRule.enabled.desc(), AlarmRule.name))
    return [RuleRead.model_validate(r) for r in rows]


async def _rule(session: AsyncSession, rule_id: int) -> AlarmRule:
    rule = await session.get(AlarmRule, rule_id)
    if rule is None:
        raise RuleNotFound(rule_id)
    return rule


async def get_rule(session: AsyncSession, rule_id: int) -> RuleRead:
    """Return one rule."""
    return RuleRead.model_validate(await _rule(session, rule_id))


def _fill(rule: AlarmRule, data: RuleWrite, params: dict[str, object], ids: list[int], unit: str | None) -> None:
    rule.name = data.name.strip()
    rule.description = data.description
    rule.kind = data.kind.value
    rule.severity = data.severity.value
    rule.scope_kind = data.scope_kind.value
    rule.scope_ref = data.scope_ref
    rule.agency_code = data.agency_code
    rule.enabled = data.enabled
    rule.params = params
    rule.datastream_ids = ids
    rule.unit_code = unit
    rule.updated_at = utc_now()


async def create_rule(session: AsyncSession, data: RuleWrite, actor: Principal) -> RuleRead:
    """Check and store a new rule."""
    params, ids, unit = await rules.validate(session, data)
    rule = AlarmRule(created_by=actor.id, created_at=utc_now())
    _fill(rule, data, params, ids, unit)
    session.add(rule)
    await session.flush()
    engine.forget_rules()
    return RuleRead.model_validate(rule)


async def update_rule(session: AsyncSession, rule_id: int, data: RuleWrite) -> RuleRead:
    """Check and store a changed rule; its evaluation state starts afresh."""
    rule = await _rule(session, rule_id)
    params, ids, unit = await rules.validate(session, data)
    _fill(rule, data, params, ids, unit)
    for state in await session.scalars(select(RuleState).where(RuleState.rule_id == rule_id)):
        await session.delete(state)
    await session.flush()
    engine.forget_rules()
    return RuleRead.model_validate(rule)


async def set_enabled(session: AsyncSession, rule_id: int, enabled: bool) -> RuleRead:
    """Enable or disable a rule."""
    rule = await _rule(session, rule_id)
    rule.enabled = enabled
    rule.updated_at = utc_now()
    await session.flush()
    engine.forget_rules()
    return RuleRead.model_validate(rule)


async def delete_rule(session: AsyncSession, rule_id: int) -> None:
    """Delete a rule (its alarms stay, for the history)."""
    rule = await _rule(session, rule_id)
    for state in await session.scalars(select(RuleState).where(RuleState.rule_id == rule_id)):
        await session.delete(state)
    await session.delete(rule)
    await session.flush()
    engine.forget_rules()


async def replay_rule(session: AsyncSession, data: RuleWrite, now: datetime | None = None) -> RuleTestResult:
    """Replay a rule (saved or not) over the last 24 hours of data and tell how often it would have fired."""
    now = now or utc_now()
    params, ids, unit = await rules.validate(session, data)
    probe = AlarmRule(id=0, name=data.name, severity=data.severity.value, scope_kind=data.scope_kind.value)
    _fill(probe, data, params, ids, unit)
    compiled = rules.compile_rule(probe)
    start = now - TEST_WINDOW
    events: list[dict[str, object]] = []
    evaluated = 0
    if data.kind in (RuleKind.THRESHOLD, RuleKind.RATE):
        points = await telemetry.observations_between(session, ids, start, now)
        evaluated = len(points)
        states: dict[int, engine.LiveState] = defaultdict(engine.LiveState)
        for point in points:
            change = engine.step(compiled, states[point.datastream_id], point.time, point.value)
            if change is not None and not change.repeat:
                events.append(
                    {
                        "datastream_id": point.datastream_id,
                        "fired": change.fired,
                        "at": change.at.isoformat(),
                        "value": change.value,
                    }
                )
    elif data.kind is RuleKind.NO_DATA:
        points = await telemetry.observations_between(session, ids, start, now)
        evaluated = len(points)
        limit = float(params.get("minutes") or 0) * 60
        last: dict[int, datetime] = dict.fromkeys(ids, start)
        for point in [*points, *(telemetry.ObservationPoint(datastream_id=i, time=now, value=0) for i in ids)]:
            if (point.time - last[point.datastream_id]).total_seconds() > limit:
                events.append(
                    {
                        "datastream_id": point.datastream_id,
                        "fired": True,
                        "at": last[point.datastream_id].isoformat(),
                        "value": None,
                    }
                )
            last[point.datastream_id] = point.time
    elif data.kind is RuleKind.REPORT_COUNT:
        rows = list(
            await session.scalars(
                select(ReportPoint)
                .where(ReportPoint.category_code == (data.scope_ref or ""), ReportPoint.at >= start)
                .order_by(ReportPoint.at)
            )
        )
        evaluated = len(rows)
        window = float(params["window_minutes"]) * 60
        radius = float(params["radius_m"])
        clusters: list[tuple[float, float, datetime]] = []
        for row in rows:
            near = [
                r
                for r in rows
                if 0 <= (row.at - r.at).total_seconds() <= window
                and engine.distance_m(row.lat, row.lon, r.lat, r.lon) <= radius
            ]
            active = any(
                engine.distance_m(row.lat, row.lon, la, lo) <= radius and (row.at - t).total_seconds() <= window
                for la, lo, t in clusters
            )
            if len(near) >= int(params["count"]) and not active:
                clusters.append((row.lat, row.lon, row.at))
                events.append({"fired": True, "at": row.at.isoformat(), "value": len(near)})
    fired = sum(1 for e in events if e["fired"])
    cleared = len(events) - fired
    if data.kind in (RuleKind.INDEX, RuleKind.EXCEEDANCE, RuleKind.REPORT_OVERDUE):
        vi = "Loại quy tắc này chạy theo sự kiện; chưa thể thử trên dữ liệu 24 giờ qua."
        en = "This kind of rule runs on events; it cannot be replayed over the last 24 hours yet."
    else:
        vi = f"Trong 24 giờ qua quy tắc sẽ phát cảnh báo {fired} lần ({evaluated} điểm dữ liệu được xét)."
        en = f"Over the last 24 hours it would have fired {fired} times ({evaluated} data points evaluated)."
    return RuleTestResult(
        fired=fired, cleared=cleared, evaluated_points=evaluated, events=events[:200], message_vi=vi, message_en=en
    )


# --- silences and maintenance windows -----------------------------------------------------------------------------


async def create_silence(session: AsyncSession, data: SilenceWrite, actor: Principal) -> SilenceRead:
    """Store a silence or maintenance window."""
    if data.ends_at <= data.starts_at:
        raise InvalidWindow("Thời điểm kết thúc phải sau thời điểm bắt đầu.", "The window must end after it starts.")
    if data.rule_id is None and data.source_ref is None and data.unit_code is None:
        raise InvalidWindow(
            "Cần chọn ít nhất một quy tắc, nguồn hoặc đơn vị để tạm tắt.",
            "Choose at least a rule, a source or a unit to silence.",
        )
    if data.rule_id is not None:
        await _rule(session, data.rule_id)
    if data.unit_code is not None and await org_unit.get_unit(session, data.unit_code) is None:
        raise InvalidWindow(
            f"Không có đơn vị hành chính mã {data.unit_code}.", f"No administrative unit {data.unit_code}."
        )
    silence = Silence(**data.model_dump(), created_by=actor.id, created_at=utc_now())
    session.add(silence)
    await session.flush()
    return SilenceRead.model_validate(silence)


async def list_silences(session: AsyncSession, now: datetime | None = None) -> list[SilenceRead]:
    """List silences and maintenance windows that have not ended (running ones first)."""
    rows = await session.scalars(
        select(Silence).where(Silence.ends_at > (now or utc_now())).order_by(Silence.starts_at, Silence.id)
    )
    return [SilenceRead.model_validate(r) for r in rows]


async def end_silence(session: AsyncSession, silence_id: int) -> None:
    """End a silence or maintenance window now (one that has not started yet ends before it starts)."""
    silence = await session.get(Silence, silence_id)
    if silence is None:
        raise SilenceNotFound(silence_id)
    now = utc_now()
    if silence.ends_at <= now:
        return
    silence.ends_at = max(now, silence.starts_at)
    await session.flush()


# --- routing policies ---------------------------------------------------------------------------------------------


async def _check_policy(session: AsyncSession, data: PolicyWrite, settings: Settings | None) -> None:
    """Refuse a policy naming an unknown unit or agency or an address its channel cannot reach."""
    if data.unit_code and await org_unit.get_unit(session, data.unit_code) is None:
        raise InvalidPolicy(
            "unit_code", f"Không có đơn vị hành chính mã {data.unit_code}.", f"No administrative unit {data.unit_code}."
        )
    if data.agency_code:
        try:
            await org_unit.get_agency(session, data.agency_code)
        except org_unit.AgencyNotFound as exc:
            raise InvalidPolicy(
                "agency_code", f"Không có cơ quan mã {data.agency_code}.", f"No agency {data.agency_code}."
            ) from exc
    if settings is None:
        return
    for field_name, targets in (("targets", data.targets), ("escalation_targets", data.escalation_targets)):
        for target in targets:
            try:
                notification.validate_recipient(notification.ChannelKind(target.channel), target.recipient, settings)
            except notification.InvalidRecipient as exc:
                raise InvalidPolicy(
                    field_name,
                    f"Người nhận không hợp lệ ({target.channel}: {target.recipient}): {exc.message('vi')}",
                    f"Invalid recipient ({target.channel}: {target.recipient}): {exc.message('en')}",
                ) from exc


def _fill_policy(policy: RoutingPolicy, data: PolicyWrite) -> None:
    policy.name = data.name.strip()
    policy.min_severity = data.min_severity.value
    policy.unit_code = data.unit_code or None
    policy.agency_code = data.agency_code or None
    policy.targets = [t.model_dump() for t in data.targets]
    policy.escalation_targets = [t.model_dump() for t in data.escalation_targets]
    policy.repeat_minutes = data.repeat_minutes
    policy.escalate_after_minutes = data.escalate_after_minutes
    policy.enabled = data.enabled


async def create_policy(session: AsyncSession, data: PolicyWrite, settings: Settings | None = None) -> PolicyRead:
    """Check and store a routing policy (recipients are checked by their channel when settings are given)."""
    await _check_policy(session, data, settings)
    policy = RoutingPolicy(created_at=utc_now())
    _fill_policy(policy, data)
    session.add(policy)
    await session.flush()
    return PolicyRead.model_validate(policy)


async def _policy(session: AsyncSession, policy_id: int) -> RoutingPolicy:
    policy = await session.get(RoutingPolicy, policy_id)
    if policy is None:
        raise PolicyNotFound(policy_id)
    return policy


async def get_policy(session: AsyncSession, policy_id: int) -> PolicyRead:
    """Return one routing policy."""
    return PolicyRead.model_validate(await _policy(session, policy_id))


async def update_policy(
    session: AsyncSession, policy_id: int, data: PolicyWrite, settings: Settings | None = None
) -> PolicyRead:
    """Check and store a changed routing policy."""
    policy = await _policy(session, policy_id)
    await _check_policy(session, data, settings)
    _fill_policy(policy, data)
    await session.flush()
    return PolicyRead.model_validate(policy)


async def list_policies(session: AsyncSession) -> list[PolicyRead]:
    """List routing policies."""
    return [
        PolicyRead.model_validate(r) for r in await session.scalars(select(RoutingPolicy).order_by(RoutingPolicy.id))
    ]


async def delete_policy(session: AsyncSession, policy_id: int) -> None:
    """Delete a routing policy."""
    await session.delete(await _policy(session, policy_id))
    await session.flush()
