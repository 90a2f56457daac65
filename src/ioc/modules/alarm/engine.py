"""Rule evaluation: telemetry batches, environment and citizen-report events, and the periodic checks.

Rules are compiled once and indexed by datastream id in memory; the index is rebuilt only when a cheap
version query (count and last change of enabled rules) says the rules changed. A batch of readings costs
three queries whatever the number of rules: the version, the readings, and the evaluation states.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, event, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.time import utc_now
from ioc.modules import telemetry

from . import service
from .constants import RuleKind, SourceKind
from .models import Alarm, AlarmRule, ReportPoint, RuleState
from .rules import CompiledRule, compile_rule

if TYPE_CHECKING:
    from ioc.core.runtime import Runtime

EARTH_RADIUS_M = 6_371_008.8
# PostgreSQL advisory lock taken by every evaluation of readings (any constant shared by every process).
EVALUATION_LOCK_KEY = 0x10C_A1A7


@dataclass
class RuleIndex:
    """Enabled rules, compiled, with telemetry rules indexed by the datastreams they watch."""

    version: tuple[Any, ...] = ()
    by_id: dict[int, CompiledRule] = field(default_factory=dict)
    by_stream: dict[int, list[CompiledRule]] = field(default_factory=lambda: defaultdict(list))
    by_kind: dict[str, list[CompiledRule]] = field(default_factory=lambda: defaultdict(list))


_index = RuleIndex()


async def rule_index(session: AsyncSession) -> RuleIndex:
    """Return the compiled rules, rebuilt when they changed since the last call."""
    global _index
    row = (
        await session.execute(
            select(func.count(AlarmRule.id), func.max(AlarmRule.updated_at), func.max(AlarmRule.id)).where(
                AlarmRule.enabled.is_(True)
            )
        )
    ).one()
    version = (id(session.bind), *row)
    if version == _index.version:
        return _index
    # Rules changed (here or in another process): cached states may belong to rules that changed meaning.
    _live.clear()
    fresh = RuleIndex(version=version)
    for rule in await session.scalars(select(AlarmRule).where(AlarmRule.enabled.is_(True))):
        compiled = compile_rule(rule)
        fresh.by_id[rule.id] = compiled
        fresh.by_kind[rule.kind].append(compiled)
        for stream_id in compiled.datastream_ids:
            fresh.by_stream[stream_id].append(compiled)
    _index = fresh
    return fresh


def forget_rules() -> None:
    """Drop the compiled rules and cached states (after a rule is saved in this process)."""
    global _index
    _index = RuleIndex()
    _live.clear()


# --- the state machine shared by live evaluation and the 24-hour test --------------------------------------------


@dataclass
class Transition:
    """A rule fired or cleared for a source at a time."""

    fired: bool
    at: datetime
    value: float
    repeat: bool = False


def step(rule: CompiledRule, state: LiveState | RuleState, at: datetime, value: float) -> Transition | None:
    """Advance a (rule, source) state by one reading; return a transition if the alarm should fire or clear."""
    prev_value, prev_at = state.last_value, state.last_at
    if prev_at is not None and at <= prev_at:
        return None  # late or repeated reading: the state already moved past it
    state.last_value, state.last_at = value, at
    measured = value
    if rule.kind == RuleKind.RATE:
        if prev_value is None or prev_at is None:
            return None
        hours = (at - prev_at).total_seconds() / 3600
        measured = (value - prev_value) / hours if hours > 0 else 0.0
    if state.firing:
        if rule.clear_test(measured, prev_value):
            state.firing = False
            state.pending_since = None
            return Transition(False, at, measured)
        if rule.raise_test(measured, prev_value):
            return Transition(True, at, measured, repeat=True)
        return None
    if rule.raise_test(measured, prev_value):
        if state.pending_since is None:
            state.pending_since = at
        if at - state.pending_since >= rule.pending:
            state.firing = True
            return Transition(True, at, measured)
        return None
    state.pending_since = None
    return None


def _title(rule: CompiledRule, place: telemetry.DatastreamPlace, value: float) -> str:
    name = place.name or place.key
    return f"{rule.name}: {place.device_name} · {name} = {value:g} {place.unit_symbol}".strip()


@dataclass
class LiveState:
    """Evaluation state of one (rule, source), kept in memory; its pending/firing part is also in the database."""

    pending_since: datetime | None = None
    firing: bool = False
    last_value: float | None = None
    last_at: datetime | None = None

    def copy(self) -> LiveState:
        """Return an independent copy."""
        return LiveState(self.pending_since, self.firing, self.last_value, self.last_at)


StateKey = tuple[int, str]
# Per process: the last reading of every (rule, source). Only changes of pending/firing are written to the
# database, so an ordinary reading costs no write; a process that lacks a rate rule's previous reading (after a
# restart) skips one reading.
_live: dict[StateKey, LiveState] = {}


async def _states(session: AsyncSession, pairs: set[StateKey]) -> dict[StateKey, LiveState]:
    """Return working copies of the states of the pairs, merged with what the database says is pending or firing.

    The copies are installed in the process cache only when the session commits, so that a handler retried
    after a failure evaluates the same readings again from the same state.
    """
    if not pairs:
        return {}
    rule_ids = sorted({r for r, _ in pairs})
    rows = await session.execute(
        select(
            RuleState.rule_id,
            RuleState.source_ref,
            RuleState.pending_since,
            RuleState.firing,
            RuleState.last_value,
            RuleState.last_at,
        ).where(RuleState.rule_id.in_(rule_ids), or_(RuleState.firing.is_(True), RuleState.pending_since.is_not(None)))
    )
    significant = {(r.rule_id, r.source_ref): r for r in rows}
    work: dict[StateKey, LiveState] = {}
    for pair in pairs:
        state = _live[pair].copy() if pair in _live else LiveState()
        row = significant.get(pair)
        if row is not None:
            # The database is the truth for pending and firing (another process or the periodic check moved it).
            state.pending_since, state.firing = row.pending_since, row.firing
            if state.last_at is None or (row.last_at is not None and row.last_at > state.last_at):
                state.last_value, state.last_at = row.last_value, row.last_at
        else:
            state.pending_since, state.firing = None, False
        work[pair] = state
    return work


async def _save_states(
    session: AsyncSession, before: dict[StateKey, tuple[datetime | None, bool]], work: dict[StateKey, LiveState]
) -> None:
    """Write the states whose pending or firing part changed, and install the copies in the cache after commit."""
    for pair, state in work.items():
        if before.get(pair) == (state.pending_since, state.firing):
            continue
        values = {
            "pending_since": state.pending_since,
            "firing": state.firing,
            "last_value": state.last_value,
            "last_at": state.last_at,
        }
        done = await session.execute(
            update(RuleState).where(RuleState.rule_id == pair[0], RuleState.source_ref == pair[1]).values(**values)
        )
        if not getattr(done, "rowcount", 0):
            await session.execute(insert(RuleState).values(rule_id=pair[0], source_ref=pair[1], **values))

    def install(_session: object) -> None:
        _live.update(work)

    event.listen(session.sync_session, "after_commit", install, once=True)


async def _places(session: AsyncSession, ids: list[int]) -> dict[int, telemetry.DatastreamPlace]:
    return {p.datastream_id: p for p in await telemetry.datastream_places(session, datastream_ids=ids)}


async def _take_evaluation_turn(session: AsyncSession) -> None:
    """Wait for other transactions evaluating readings (PostgreSQL); the lock is released at commit."""
    # Two evaluations of overlapping batches at once (the observation lane, a delivery job or a NATS consumer,
    # another process) would both open the same alarm, or lock the same rule states in another order.
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVALUATION_LOCK_KEY})


async def evaluate_observations(
    session: AsyncSession, runtime: Runtime | None, datastream_ids: list[int], start: datetime, end: datetime
) -> int:
    """Evaluate a batch of readings against the telemetry rules that watch them; return transitions."""
    index = await rule_index(session)
    watched = [i for i in datastream_ids if i in index.by_stream]
    if not watched:
        return 0
    await _take_evaluation_turn(session)
    points = await telemetry.observations_between(session, watched, start, end)
    if not points:
        return 0
    by_stream: dict[int, list[telemetry.ObservationPoint]] = defaultdict(list)
    for point in points:
        by_stream[point.datastream_id].append(point)
    pairs = {
        (rule.id, str(stream_id))
        for stream_id in by_stream
        for rule in index.by_stream[stream_id]
        if rule.kind in (RuleKind.THRESHOLD, RuleKind.RATE)
    }
    states = await _states(session, pairs)
    before = {pair: (state.pending_since, state.firing) for pair, state in states.items()}
    places: dict[int, telemetry.DatastreamPlace] = {}
    transitions = 0
    for stream_id, readings in by_stream.items():
        for rule in index.by_stream[stream_id]:
            state = states.get((rule.id, str(stream_id)))
            if state is None:
                continue
            # Repeats of an open alarm are summed per batch: one update, not one per reading.
            repeat: Transition | None = None
            repeats = 0
            for reading in readings:
                change = step(rule, state, reading.time, reading.value)
                if change is None:
                    continue
                if change.repeat:
                    repeat, repeats = change, repeats + 1
                    continue
                if stream_id not in places:
                    places.update(await _places(session, [stream_id]))
                if repeat is not None:
                    await _apply(session, runtime, rule, places.get(stream_id), stream_id, repeat, repeats)
                    repeat, repeats = None, 0
                transitions += 1
                await _apply(session, runtime, rule, places.get(stream_id), stream_id, change)
            if repeat is not None:
                if stream_id not in places:
                    places.update(await _places(session, [stream_id]))
                await _apply(session, runtime, rule, places.get(stream_id), stream_id, repeat, repeats)
    await _save_states(session, before, states)
    return transitions


async def _apply(
    session: AsyncSession,
    runtime: Runtime | None,
    rule: CompiledRule,
    place: telemetry.DatastreamPlace | None,
    stream_id: int,
    change: Transition,
    repeats: int = 1,
) -> None:
    ref = str(stream_id)
    if not change.fired:
        await service.clear_open(session, rule.id, SourceKind.DATASTREAM, ref, change.at)
        return
    title = _title(rule, place, change.value) if place else f"{rule.name}: #{stream_id} = {change.value:g}"
    await service.fire(
        session,
        runtime,
        service.Firing(
            rule_id=rule.id,
            severity=rule.severity,
            title=title,
            source_kind=SourceKind.DATASTREAM,
            source_ref=ref,
            at=change.at,
            value=change.value,
            unit_code=place.unit_code if place else rule.unit_code,
            agency_code=rule.agency_code,
            lat=place.lat if place else None,
            lon=place.lon if place else None,
            details={"datastream_id": stream_id, "device_code": place.device_code if place else None},
            repeats=repeats,
        ),
    )


# --- periodic checks: no data, pending periods of sparse sources, report clusters that calmed down -------------


async def periodic_check(session: AsyncSession, runtime: Runtime | None, now: datetime | None = None) -> int:
    """Run the time-based parts of rules; return transitions."""
    now = now or utc_now()
    index = await rule_index(session)
    transitions = 0
    no_data = index.by_kind.get(RuleKind.NO_DATA, [])
    if no_data:
        ids = sorted({i for rule in no_data for i in rule.datastream_ids})
        places = await _places(session, ids)
        for rule in no_data:
            limit = timedelta(minutes=float(rule.params.get("minutes") or 0))
            for stream_id in rule.datastream_ids:
                place = places.get(stream_id)
                if place is None:
                    continue
                ref = str(stream_id)
                silent = place.last_time is None or now - place.last_time > limit
                if silent:
                    alarm = await service.fire(
                        session,
                        runtime,
                        service.Firing(
                            rule_id=rule.id,
                            severity=rule.severity,
                            title=f"{rule.name}: {place.device_name} · {place.name or place.key}",
                            source_kind=SourceKind.DATASTREAM,
                            source_ref=ref,
                            at=now,
                            unit_code=place.unit_code,
                            agency_code=rule.agency_code,
                            lat=place.lat,
                            lon=place.lon,
                            details={"last_time": place.last_time.isoformat() if place.last_time else None},
                        ),
                    )
                    transitions += 1 if alarm is not None and alarm.count == 1 else 0
                elif await service.clear_open(session, rule.id, SourceKind.DATASTREAM, ref, now):
                    transitions += 1
    transitions += await _pending_due(session, runtime, index, now)
    transitions += await _calm_clusters(session, index, now)
    return transitions


async def _pending_due(session: AsyncSession, runtime: Runtime | None, index: RuleIndex, now: datetime) -> int:
    """Fire rules whose condition still held at the last reading and whose pending period has now passed."""
    rows = list(
        await session.scalars(
            select(RuleState).where(RuleState.pending_since.is_not(None), RuleState.firing.is_(False))
        )
    )
    fired = 0
    for state in rows:
        rule = index.by_id.get(state.rule_id)
        if rule is None or state.pending_since is None or now - state.pending_since < rule.pending:
            continue
        state.firing = True
        fired += 1
        if rule.kind == RuleKind.INDEX:
            await _fire_index(session, runtime, rule, state.source_ref, state.last_value, now)
        elif state.source_ref.isdigit():
            places = await _places(session, [int(state.source_ref)])
            stream_id = int(state.source_ref)
            await _apply(
                session, runtime, rule, places.get(stream_id), stream_id, Transition(True, now, state.last_value or 0.0)
            )
    return fired


# --- environment events -------------------------------------------------------------------------------------------


async def _fire_index(
    session: AsyncSession, runtime: Runtime | None, rule: CompiledRule, ref: str, value: float | None, at: datetime
) -> None:
    station_code, _, unit_code = ref.partition("|")
    await service.fire(
        session,
        runtime,
        service.Firing(
            rule_id=rule.id,
            severity=rule.severity,
            title=f"{rule.name}: {station_code} {rule.params.get('standard')} = {value or 0:g}",
            source_kind=SourceKind.STATION,
            source_ref=station_code,
            at=at,
            value=value,
            unit_code=unit_code or None,
            agency_code=rule.agency_code,
            details={"standard": rule.params.get("standard")},
        ),
    )


async def on_index(
    session: AsyncSession,
    runtime: Runtime | None,
    *,
    station_code: str,
    unit_code: str | None,
    standard: str,
    period: str,
    value: float,
    at: datetime,
) -> int:
    """Evaluate index rules ("VN_AQI ≥ 151 for 2 hours") on a newly computed index value."""
    index = await rule_index(session)
    rules = [
        r
        for r in index.by_kind.get(RuleKind.INDEX, [])
        if r.params.get("standard") == standard.upper()
        and (not r.params.get("period") or r.params.get("period") == period)
        and r.matches_place(station_code, unit_code)
    ]
    if not rules:
        return 0
    ref = f"{station_code}|{unit_code or ''}"
    states = await _states(session, {(r.id, ref) for r in rules})
    before = {pair: (state.pending_since, state.firing) for pair, state in states.items()}
    transitions = 0
    for rule in rules:
        state = states[(rule.id, ref)]
        change = step(rule, state, at, value)
        if change is None:
            continue
        transitions += 1
        if change.fired:
            await _fire_index(session, runtime, rule, ref, state.last_value, at)
        else:
            await service.clear_open(session, rule.id, SourceKind.STATION, station_code, at)
    await _save_states(session, before, states)
    return transitions


async def on_exceedance(
    session: AsyncSession,
    runtime: Runtime | None,
    *,
    detected: bool,
    station_code: str,
    unit_code: str | None,
    parameter: str,
    regulation: str,
    period: str,
    value: float | None,
    limit: float | None,
    at: datetime,
) -> int:
    """Raise or clear QCVN exceedance alarms for the rules that cover the station and parameter."""
    index = await rule_index(session)
    rules = [
        r
        for r in index.by_kind.get(RuleKind.EXCEEDANCE, [])
        if (not r.params.get("parameter") or r.params.get("parameter") == parameter)
        and r.matches_place(station_code, unit_code)
    ]
    ref = f"{station_code}:{parameter}:{period}"
    for rule in rules:
        if not detected:
            await service.clear_open(session, rule.id, SourceKind.STATION, ref, at)
            continue
        await service.fire(
            session,
            runtime,
            service.Firing(
                rule_id=rule.id,
                severity=rule.severity,
                title=f"{rule.name}: {station_code} {parameter} {value:g} > {limit:g} ({regulation})"
                if value is not None and limit is not None
                else f"{rule.name}: {station_code} {parameter} ({regulation})",
                source_kind=SourceKind.STATION,
                source_ref=ref,
                at=at,
                value=value,
                unit_code=unit_code,
                agency_code=rule.agency_code,
                details={"parameter": parameter, "regulation": regulation, "period": period, "limit": limit},
                announce_repeat=True,
            ),
        )
    return len(rules)


# --- citizen reports ----------------------------------------------------------------------------------------------


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


async def _neighbours(
    session: AsyncSession, category: str, lat: float, lon: float, radius_m: float, since: datetime, until: datetime
) -> list[ReportPoint]:
    dlat = radius_m / 111_320.0
    dlon = radius_m / (111_320.0 * max(math.cos(math.radians(lat)), 0.01))
    rows = await session.scalars(
        select(ReportPoint).where(
            ReportPoint.category_code == category,
            ReportPoint.at >= since,
            ReportPoint.at <= until,
            ReportPoint.lat.between(lat - dlat, lat + dlat),
            ReportPoint.lon.between(lon - dlon, lon + dlon),
        )
    )
    return [p for p in rows if distance_m(lat, lon, p.lat, p.lon) <= radius_m]


async def on_report(
    session: AsyncSession,
    runtime: Runtime | None,
    *,
    report_id: int,
    category_code: str,
    unit_code: str | None,
    lat: float,
    lon: float,
    at: datetime,
) -> int:
    """Remember a submitted report's place and raise "≥ N reports within R m in T" alarms; return alarms touched."""
    existing = await session.scalar(select(ReportPoint.id).where(ReportPoint.report_id == report_id))
    if existing is None:
        session.add(
            ReportPoint(report_id=report_id, category_code=category_code, unit_code=unit_code, lat=lat, lon=lon, at=at)
        )
        await session.flush()
    index = await rule_index(session)
    touched = 0
    for rule in index.by_kind.get(RuleKind.REPORT_COUNT, []):
        if rule.scope_ref != category_code:
            continue
        radius = float(rule.params["radius_m"])
        window = timedelta(minutes=float(rule.params["window_minutes"]))
        near = await _neighbours(session, category_code, lat, lon, radius, at - window, at)
        if len(near) < int(rule.params["count"]):
            continue
        open_alarm = await _open_cluster(session, rule.id, lat, lon, radius)
        ref = open_alarm.source_ref if open_alarm else f"{category_code}@{lat:.4f},{lon:.4f}"
        await service.fire(
            session,
            runtime,
            service.Firing(
                rule_id=rule.id,
                severity=rule.severity,
                title=f"{rule.name}: {len(near)} phản ánh / reports {category_code}",
                source_kind=SourceKind.AREA,
                source_ref=ref,
                at=at,
                value=float(len(near)),
                unit_code=unit_code,
                agency_code=rule.agency_code,
                lat=open_alarm.lat if open_alarm else lat,
                lon=open_alarm.lon if open_alarm else lon,
                details={"report_ids": sorted(p.report_id for p in near)[-50:], "radius_m": radius},
                announce_repeat=True,
            ),
        )
        touched += 1
    return touched


async def _open_cluster(session: AsyncSession, rule_id: int, lat: float, lon: float, radius: float) -> Alarm | None:
    rows = await session.scalars(
        select(Alarm).where(Alarm.rule_id == rule_id, Alarm.open_key.is_not(None), Alarm.source_kind == SourceKind.AREA)
    )
    for alarm in rows:
        if alarm.lat is not None and alarm.lon is not None and distance_m(lat, lon, alarm.lat, alarm.lon) <= radius:
            return alarm
    return None


async def _calm_clusters(session: AsyncSession, index: RuleIndex, now: datetime) -> int:
    """Clear report-cluster alarms once fewer than N reports remain within the window."""
    cleared = 0
    for rule in index.by_kind.get(RuleKind.REPORT_COUNT, []):
        radius = float(rule.params["radius_m"])
        window = timedelta(minutes=float(rule.params["window_minutes"]))
        rows = list(await session.scalars(select(Alarm).where(Alarm.rule_id == rule.id, Alarm.open_key.is_not(None))))
        for alarm in rows:
            if alarm.lat is None or alarm.lon is None:
                continue
            near = await _neighbours(session, rule.scope_ref or "", alarm.lat, alarm.lon, radius, now - window, now)
            if len(near) < int(rule.params["count"]):
                await service.clear_open(session, rule.id, alarm.source_kind, alarm.source_ref, now)
                cleared += 1
    return cleared


async def on_report_overdue(
    session: AsyncSession,
    runtime: Runtime | None,
    *,
    report_id: int,
    tracking_code: str,
    category_code: str,
    unit_code: str,
    phase: str,
    lat: float | None,
    lon: float | None,
    at: datetime,
) -> int:
    """Raise an alarm for an overdue report under every rule whose scope covers it."""
    index = await rule_index(session)
    touched = 0
    for rule in index.by_kind.get(RuleKind.REPORT_OVERDUE, []):
        if rule.scope_kind == "category" and rule.scope_ref != category_code:
            continue
        if rule.scope_kind == "unit" and rule.scope_ref != unit_code:
            continue
        await service.fire(
            session,
            runtime,
            service.Firing(
                rule_id=rule.id,
                severity=rule.severity,
                title=f"{rule.name}: {tracking_code} ({phase})",
                source_kind=SourceKind.REPORT,
                source_ref=str(report_id),
                at=at,
                unit_code=unit_code,
                agency_code=rule.agency_code,
                lat=lat,
                lon=lon,
                details={"tracking_code": tracking_code, "phase": phase, "category_code": category_code},
                announce_repeat=True,
            ),
        )
        touched += 1
    return touched


async def on_report_done(session: AsyncSession, report_id: int, at: datetime) -> int:
    """Clear the overdue alarms of a report that was resolved, rejected or closed."""
    index = await rule_index(session)
    cleared = 0
    for rule in index.by_kind.get(RuleKind.REPORT_OVERDUE, []):
        if await service.clear_open(session, rule.id, SourceKind.REPORT, str(report_id), at):
            cleared += 1
    return cleared


async def prune_report_points(session: AsyncSession, before: datetime) -> None:
    """Forget report places older than any rule window."""
    await session.execute(delete(ReportPoint).where(ReportPoint.at < before))
