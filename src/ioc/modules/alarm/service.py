"""Alarm lifecycle: raise, repeat, acknowledge, clear, comment, assign; reads and KPIs for other modules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.events import record_event
from ioc.core.security import Principal, Role
from ioc.core.time import utc_now
from ioc.modules import identity, notification

from .constants import (
    CONSOLE_PAGE_SIZE,
    CONSOLE_PATH,
    FLAP_COUNT,
    FLAP_WINDOW,
    MAX_SILENCE_HOURS,
    OPEN_STATUSES,
    SEVERITY_RANK,
    AlarmStatus,
    HistoryAction,
    Severity,
)
from .events import AlarmAcknowledged, AlarmCleared, AlarmEscalated, AlarmRaised, AlarmRepeated
from .exceptions import AlarmAlreadyAcknowledged, AlarmAlreadyCleared, AlarmNotFound, InvalidAssignee, InvalidWindow
from .models import Alarm, AlarmHistory, RoutingPolicy, Silence
from .schemas import AlarmDetail, AlarmKpis, AlarmRead, HistoryRead

if TYPE_CHECKING:
    from ioc.core.runtime import Runtime


def to_read(alarm: Alarm) -> AlarmRead:
    """Return the public shape of an alarm row."""
    return AlarmRead(
        alarm_id=alarm.id,
        rule_id=alarm.rule_id,
        severity=alarm.severity,
        title=alarm.title,
        source_kind=alarm.source_kind,
        source_ref=alarm.source_ref,
        unit_code=alarm.unit_code,
        agency_code=alarm.agency_code,
        lat=alarm.lat,
        lon=alarm.lon,
        status=alarm.status,
        value=alarm.value,
        first_seen_at=alarm.first_seen_at,
        last_seen_at=alarm.last_seen_at,
        count=alarm.count,
        acknowledged_by=alarm.acknowledged_by,
        acknowledged_at=alarm.acknowledged_at,
        cleared_by=alarm.cleared_by,
        cleared_at=alarm.cleared_at,
        assignee_id=alarm.assignee_id,
        suppressed=alarm.suppressed,
        escalation_level=alarm.escalation_level,
        details=dict(alarm.details or {}),
    )


async def get_alarm(session: AsyncSession, alarm_id: int) -> AlarmRead:
    """Return one alarm, or raise AlarmNotFound."""
    alarm = await session.get(Alarm, alarm_id)
    if alarm is None:
        raise AlarmNotFound(alarm_id)
    return to_read(alarm)


# --- lifecycle ----------------------------------------------------------------------------------------------------


def open_key(rule_id: int | None, source_kind: str, source_ref: str) -> str:
    """Return the key that keeps one open alarm per (rule, source)."""
    return f"{rule_id or 0}:{source_kind}:{source_ref}"


def _event_fields(alarm: Alarm) -> dict[str, Any]:
    return {
        "alarm_id": alarm.id,
        "rule_id": alarm.rule_id,
        "severity": alarm.severity,
        "title": alarm.title,
        "source_kind": alarm.source_kind,
        "source_ref": alarm.source_ref,
        "unit_code": alarm.unit_code,
        "lat": alarm.lat,
        "lon": alarm.lon,
    }


def _history(
    session: AsyncSession,
    alarm: Alarm,
    action: HistoryAction,
    *,
    actor: Principal | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    session.add(
        AlarmHistory(
            alarm_id=alarm.id,
            at=at or utc_now(),
            action=action.value,
            actor_id=actor.id if actor else None,
            actor_name=(actor.display_name or actor.name) if actor else "",
            note=note,
            data=data or {},
        )
    )


@dataclass(frozen=True)
class Firing:
    """What a rule reports when it fires for one source."""

    rule_id: int | None
    severity: str
    title: str
    source_kind: str
    source_ref: str
    at: datetime
    value: float | None = None
    unit_code: str | None = None
    agency_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    announce_repeat: bool = False
    repeats: int = 1


async def _active_silence(session: AsyncSession, firing: Firing, kind: str) -> Silence | None:
    rows = await session.scalars(
        select(Silence).where(
            Silence.kind == kind,
            Silence.starts_at <= firing.at,
            Silence.ends_at > firing.at,
            or_(Silence.rule_id.is_(None), Silence.rule_id == firing.rule_id),
            or_(Silence.source_ref.is_(None), Silence.source_ref == firing.source_ref),
            or_(Silence.unit_code.is_(None), Silence.unit_code == firing.unit_code),
        )
    )
    return rows.first()


async def _recent_flaps(session: AsyncSession, firing: Firing) -> int:
    since = firing.at - FLAP_WINDOW
    count = await session.scalar(
        select(func.count(Alarm.id)).where(
            Alarm.rule_id == firing.rule_id,
            Alarm.source_kind == firing.source_kind,
            Alarm.source_ref == firing.source_ref,
            Alarm.cleared_at.is_not(None),
            Alarm.cleared_at >= since,
        )
    )
    return int(count or 0)


async def fire(session: AsyncSession, runtime: Runtime | None, firing: Firing) -> Alarm | None:
    """Raise an alarm, or count a repeat on the open one; None when a maintenance window holds it back."""
    key = open_key(firing.rule_id, firing.source_kind, firing.source_ref)
    alarm = await session.scalar(select(Alarm).where(Alarm.open_key == key))
    if alarm is not None:
        alarm.count += max(firing.repeats, 1)
        alarm.last_seen_at = max(alarm.last_seen_at, firing.at)
        alarm.value = firing.value if firing.value is not None else alarm.value
        if firing.announce_repeat and firing.details:
            alarm.details = {**(alarm.details or {}), **firing.details}
        if SEVERITY_RANK.get(Severity(firing.severity), 9) < SEVERITY_RANK.get(Severity(alarm.severity), 9):
            alarm.severity = firing.severity
        if firing.announce_repeat:
            _history(session, alarm, HistoryAction.REPEATED, data={"count": alarm.count}, at=firing.at)
            record_event(session, AlarmRepeated(**_event_fields(alarm), count=alarm.count))
        return alarm
    if await _active_silence(session, firing, "maintenance") is not None:
        return None
    flaps = await _recent_flaps(session, firing)
    silence = await _active_silence(session, firing, "silence")
    alarm = Alarm(
        rule_id=firing.rule_id,
        source_kind=firing.source_kind,
        source_ref=firing.source_ref,
        open_key=key,
        severity=firing.severity,
        title=firing.title[:300],
        status=AlarmStatus.ACTIVE.value,
        unit_code=firing.unit_code,
        agency_code=firing.agency_code,
        lat=firing.lat,
        lon=firing.lon,
        value=firing.value,
        details=firing.details,
        first_seen_at=firing.at,
        last_seen_at=firing.at,
        count=1,
        flaps=flaps,
        suppressed=silence is not None or flaps >= FLAP_COUNT,
    )
    session.add(alarm)
    await session.flush()
    _history(session, alarm, HistoryAction.RAISED, data={"value": firing.value, **firing.details}, at=firing.at)
    if flaps >= FLAP_COUNT:
        _history(session, alarm, HistoryAction.FLAPPING, data={"cleared_recently": flaps})
    if silence is not None:
        _history(session, alarm, HistoryAction.SUPPRESSED, data={"silence_id": silence.id}, note=silence.reason)
    record_event(session, AlarmRaised(**_event_fields(alarm)))
    if runtime is not None and not alarm.suppressed:
        await notify(session, runtime, alarm, level=0)
    return alarm


async def clear_open(
    session: AsyncSession, rule_id: int | None, source_kind: str, source_ref: str, at: datetime | None = None
) -> Alarm | None:
    """Clear the open alarm of a (rule, source) because its clear condition holds; return it if there was one."""
    alarm = await session.scalar(select(Alarm).where(Alarm.open_key == open_key(rule_id, source_kind, source_ref)))
    if alarm is None:
        return None
    _clear(session, alarm, None, "", at or utc_now())
    return alarm


def _clear(session: AsyncSession, alarm: Alarm, actor: Principal | None, note: str, at: datetime) -> None:
    alarm.status = AlarmStatus.CLEARED.value
    alarm.cleared_at = at
    alarm.cleared_by = actor.id if actor else None
    alarm.open_key = None
    _history(session, alarm, HistoryAction.CLEARED, actor=actor, note=note, at=at)
    record_event(session, AlarmCleared(**_event_fields(alarm), cleared_by=alarm.cleared_by))


async def _load(session: AsyncSession, alarm_id: int) -> Alarm:
    alarm = await session.get(Alarm, alarm_id)
    if alarm is None:
        raise AlarmNotFound(alarm_id)
    return alarm


async def acknowledge(session: AsyncSession, alarm_id: int, actor: Principal, note: str = "") -> AlarmRead:
    """Acknowledge an open alarm: someone is on it; escalation stops."""
    alarm = await _load(session, alarm_id)
    if alarm.status == AlarmStatus.CLEARED:
        raise AlarmAlreadyCleared(alarm_id)
    if alarm.acknowledged_at is not None:
        raise AlarmAlreadyAcknowledged(alarm_id)
    alarm.status = AlarmStatus.ACKNOWLEDGED.value
    alarm.acknowledged_at = utc_now()
    alarm.acknowledged_by = actor.id
    _history(session, alarm, HistoryAction.ACKNOWLEDGED, actor=actor, note=note)
    record_event(session, AlarmAcknowledged(**_event_fields(alarm), acknowledged_by=actor.id))
    await session.flush()
    return to_read(alarm)


async def clear(session: AsyncSession, alarm_id: int, actor: Principal, note: str = "") -> AlarmRead:
    """Clear an open alarm by hand."""
    alarm = await _load(session, alarm_id)
    if alarm.status == AlarmStatus.CLEARED:
        raise AlarmAlreadyCleared(alarm_id)
    _clear(session, alarm, actor, note, utc_now())
    await session.flush()
    return to_read(alarm)


async def comment(session: AsyncSession, alarm_id: int, actor: Principal, text: str) -> AlarmRead:
    """Add a comment to an alarm's history."""
    alarm = await _load(session, alarm_id)
    _history(session, alarm, HistoryAction.COMMENTED, actor=actor, note=text.strip())
    await session.flush()
    return to_read(alarm)


async def assign(session: AsyncSession, alarm_id: int, actor: Principal, assignee_id: int | None) -> AlarmRead:
    """Give an alarm to an active staff member (or to nobody)."""
    alarm = await _load(session, alarm_id)
    if alarm.status == AlarmStatus.CLEARED:
        raise AlarmAlreadyCleared(alarm_id)
    name = ""
    if assignee_id is not None:
        # A number past the id column's range (from a hand-made form) is nobody, not a database error.
        person = await identity.get_user(session, assignee_id) if 0 < assignee_id < 2**31 else None
        if person is None or not person.is_active or person.role is Role.CITIZEN:
            raise InvalidAssignee(assignee_id)
        name = person.display_name or person.username
    alarm.assignee_id = assignee_id
    _history(
        session,
        alarm,
        HistoryAction.ASSIGNED,
        actor=actor,
        note=name,
        data={"assignee_id": assignee_id, "assignee_name": name},
    )
    await session.flush()
    return to_read(alarm)


async def silence_alarm(
    session: AsyncSession, alarm_id: int, actor: Principal, hours: float, reason: str = ""
) -> AlarmRead:
    """Stop notifications of an alarm and of its (rule, source) for some hours; the alarm stays open."""
    if not 0 < hours <= MAX_SILENCE_HOURS:
        raise InvalidWindow(
            f"Thời gian tạm tắt phải từ 0 đến {MAX_SILENCE_HOURS} giờ.",
            f"A silence lasts more than 0 and at most {MAX_SILENCE_HOURS} hours.",
        )
    alarm = await _load(session, alarm_id)
    now = utc_now()
    silence = Silence(
        kind="silence",
        rule_id=alarm.rule_id,
        source_ref=alarm.source_ref,
        starts_at=now,
        ends_at=now + timedelta(hours=hours),
        reason=reason,
        created_by=actor.id,
        created_at=now,
    )
    session.add(silence)
    await session.flush()
    alarm.suppressed = True
    _history(
        session,
        alarm,
        HistoryAction.SUPPRESSED,
        actor=actor,
        note=reason,
        data={"silence_id": silence.id, "hours": hours},
    )
    await session.flush()
    return to_read(alarm)


async def alarm_detail(session: AsyncSession, alarm_id: int) -> AlarmDetail:
    """Return an alarm with its whole history, oldest first."""
    alarm = await _load(session, alarm_id)
    rows = await session.scalars(
        select(AlarmHistory).where(AlarmHistory.alarm_id == alarm_id).order_by(AlarmHistory.at, AlarmHistory.id)
    )
    assignee_name = None
    if alarm.assignee_id is not None:
        people = await identity.get_user_summaries(session, [alarm.assignee_id])
        person = people.get(alarm.assignee_id)
        assignee_name = (person.display_name or person.username) if person else None
    return AlarmDetail(
        **to_read(alarm).model_dump(),
        assignee_name=assignee_name,
        history=[HistoryRead.model_validate(r) for r in rows],
    )


def _visible(query: Select[Any], principal: Principal | None) -> Select[Any]:
    """Limit what staff bound to some communes see; province-wide staff and admins see everything."""
    if principal is not None and principal.unit_codes and not principal.is_admin:
        return query.where(or_(Alarm.unit_code.is_(None), Alarm.unit_code.in_(principal.unit_codes)))
    return query


async def list_alarms(
    session: AsyncSession,
    principal: Principal | None,
    *,
    status: str | None = "open",
    severity: str | None = None,
    limit: int = CONSOLE_PAGE_SIZE,
) -> list[AlarmRead]:
    """List alarms, most severe and newest first; status "open" means active or acknowledged."""
    query: Select[Any] = select(Alarm)
    if status == "open":
        query = query.where(Alarm.status.in_([s.value for s in OPEN_STATUSES]))
    elif status:
        query = query.where(Alarm.status == status)
    if severity:
        query = query.where(Alarm.severity == severity)
    rank = case({s.value: r for s, r in SEVERITY_RANK.items()}, value=Alarm.severity, else_=9)
    query = _visible(query, principal).order_by(rank, Alarm.last_seen_at.desc()).limit(limit)
    return [to_read(a) for a in await session.scalars(query)]


async def kpis(session: AsyncSession, principal: Principal | None = None, unit_code: str | None = None) -> AlarmKpis:
    """Count open alarms by severity, and those nobody acknowledged yet."""
    query = select(Alarm.severity, Alarm.status, func.count(Alarm.id)).where(
        Alarm.status.in_([s.value for s in OPEN_STATUSES])
    )
    if unit_code:
        query = query.where(Alarm.unit_code == unit_code)
    if principal is not None and principal.unit_codes and not principal.is_admin:
        query = query.where(or_(Alarm.unit_code.is_(None), Alarm.unit_code.in_(principal.unit_codes)))
    rows = (await session.execute(query.group_by(Alarm.severity, Alarm.status))).all()
    by_severity = {s.value: 0 for s in Severity}
    unacknowledged = 0
    for severity, status, count in rows:
        by_severity[severity] = by_severity.get(severity, 0) + int(count)
        if status == AlarmStatus.ACTIVE:
            unacknowledged += int(count)
    return AlarmKpis(open_total=sum(by_severity.values()), unacknowledged=unacknowledged, by_severity=by_severity)


# --- notifications ------------------------------------------------------------------------------------------------


def _policy_matches(policy: RoutingPolicy, alarm: Alarm) -> bool:
    if not policy.enabled:
        return False
    if SEVERITY_RANK.get(Severity(alarm.severity), 9) > SEVERITY_RANK.get(Severity(policy.min_severity), 9):
        return False
    if policy.unit_code and policy.unit_code != alarm.unit_code:
        return False
    return not (policy.agency_code and policy.agency_code != alarm.agency_code)


async def notify(session: AsyncSession, runtime: Runtime, alarm: Alarm, *, level: int) -> int:
    """Send an alarm to the targets of every matching routing policy at a level; return deliveries queued.

    Each delivery is queued through the notification module, which retries it on its own and reports a
    failure; one failing channel therefore never holds back the others.
    """
    policies = await session.scalars(select(RoutingPolicy).where(RoutingPolicy.enabled.is_(True)))
    sent = 0
    for policy in policies:
        if not _policy_matches(policy, alarm):
            continue
        targets = policy.targets if level == 0 else policy.escalation_targets
        for target in targets:
            await notification.send(
                session,
                runtime,
                channel=notification.ChannelKind(target["channel"]),
                recipient=target["recipient"],
                template="alert",
                params={
                    "severity": alarm.severity,
                    "title": alarm.title,
                    "message": f"#{alarm.id} {alarm.source_kind}:{alarm.source_ref}",
                    "link": f"{CONSOLE_PATH}/{alarm.id}",
                },
                correlation=f"alarm:{alarm.id}",
            )
            sent += 1
    alarm.notified_at = utc_now()
    if sent:
        _history(session, alarm, HistoryAction.NOTIFIED, data={"deliveries": sent, "level": level})
    return sent


async def notify_due(session: AsyncSession, runtime: Runtime, now: datetime | None = None) -> int:
    """Repeat notifications of unacknowledged alarms and escalate those not acknowledged in time; return how many."""
    now = now or utc_now()
    policies = list(await session.scalars(select(RoutingPolicy).where(RoutingPolicy.enabled.is_(True))))
    if not policies:
        return 0
    alarms = await session.scalars(
        select(Alarm).where(Alarm.status == AlarmStatus.ACTIVE.value, Alarm.suppressed.is_(False))
    )
    acted = 0
    for alarm in alarms:
        matching = [p for p in policies if _policy_matches(p, alarm)]
        if not matching:
            continue
        escalate_after = min((p.escalate_after_minutes for p in matching if p.escalate_after_minutes), default=None)
        if (
            alarm.escalation_level == 0
            and escalate_after is not None
            and now - alarm.first_seen_at >= timedelta(minutes=escalate_after)
        ):
            alarm.escalation_level = 1
            _history(session, alarm, HistoryAction.ESCALATED, data={"level": 1})
            record_event(session, AlarmEscalated(**_event_fields(alarm), level=1))
            await notify(session, runtime, alarm, level=1)
            acted += 1
            continue
        repeat = min(p.repeat_minutes for p in matching)
        if alarm.notified_at is None or now - alarm.notified_at >= timedelta(minutes=repeat):
            await notify(session, runtime, alarm, level=alarm.escalation_level)
            acted += 1
    return acted


async def record_delivery_failure(session: AsyncSession, correlation: str | None, channel: str) -> bool:
    """Note in an alarm's history that one of its notifications failed for good; tell if it was an alarm's."""
    if not correlation or not correlation.startswith("alarm:"):
        return False
    try:
        alarm_id = int(correlation.split(":", 1)[1])
    except ValueError:
        return False
    alarm = await session.get(Alarm, alarm_id)
    if alarm is None:
        return False
    _history(session, alarm, HistoryAction.NOTIFY_FAILED, data={"channel": channel})
    return True
