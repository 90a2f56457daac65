"""Reactions to other modules' events: telemetry batches, environment indices and exceedances, citizen reports.

Telemetry batches also have a lane of their own (`ObservationLane`): with the in-process transport every event
becomes a delivery job that waits behind every other job, so under heavy ingestion a threshold crossing was
evaluated seconds late. The lane reads new `telemetry.observations_received` events straight from the outbox
as soon as a transaction commits, evaluates all of them in one go (one query for the readings of every batch)
after claiming each under the subscription's own name, in the same transaction. While the lane runs, the
delivery jobs of these events wait LANE_FALLBACK_SECONDS (so that they do not take the events first and make
the lane wait behind the job queue), then run and find the event handled; if the lane missed an event
(committed out of order, lane stopped), the job evaluates it, so nothing depends on the lane but speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from sqlalchemy import exists, func, select

from ioc.core.events import HandlerContext, Subscription, claim
from ioc.core.logging import OutageLog
from ioc.core.models import EventHandled, OutboxEvent
from ioc.core.security import Principal, PrincipalKind, Role
from ioc.modules import citizen_report, environment, notification, telemetry

from . import engine, service

if TYPE_CHECKING:
    from ioc.core.runtime import Runtime

log = logging.getLogger(__name__)

OBSERVATIONS_HANDLER = "alarm.evaluate_observations"
# Events evaluated together by the lane at most; more wait for the next round, which starts at once.
LANE_BATCH = 500
# The lane looks this many outbox ids back for events committed after newer ones (concurrent ingestion).
LANE_LOOKBACK_IDS = 1000
# Without a commit in this process (ingestion elsewhere), the lane looks for new events this often.
LANE_POLL_SECONDS = 0.25
LANE_STOP_SECONDS = 5.0
# While the lane runs, a batch's delivery job waits this long: it only evaluates what the lane missed.
LANE_FALLBACK_SECONDS = 10.0

# Reading a report's place needs the staff view; the engine reads it as a system principal with only that scope.
_READER = Principal(
    kind=PrincipalKind.SYSTEM,
    id=None,
    name="alarm",
    role=Role.ADMIN,
    scopes=frozenset({"citizen_report:read"}),
)


def _lane_first(runtime: Runtime) -> float:
    """Let the observation lane, when it runs in this process, take a batch before its delivery job does."""
    return LANE_FALLBACK_SECONDS if runtime in _ACTIVE else 0.0


async def on_observations(ctx: HandlerContext, event: telemetry.ObservationsReceived) -> None:
    """Evaluate the threshold and rate rules that watch the batch's datastreams."""
    await engine.evaluate_observations(ctx.session, ctx.runtime, event.datastream_ids, event.min_time, event.max_time)


async def on_index(ctx: HandlerContext, event: environment.IndexComputed) -> None:
    """Evaluate index rules on a new index value."""
    await engine.on_index(
        ctx.session,
        ctx.runtime,
        station_code=event.station_code,
        unit_code=event.unit_code,
        standard=event.standard,
        period=event.period,
        value=float(event.value),
        at=event.computed_for,
    )


async def on_exceedance(ctx: HandlerContext, event: environment.ExceedanceDetected) -> None:
    """Raise QCVN exceedance alarms."""
    await engine.on_exceedance(
        ctx.session,
        ctx.runtime,
        detected=True,
        station_code=event.station_code,
        unit_code=event.unit_code,
        parameter=event.parameter,
        regulation=event.regulation,
        period=event.period,
        value=event.value,
        limit=event.limit,
        at=event.observed_at,
    )


async def on_exceedance_cleared(ctx: HandlerContext, event: environment.ExceedanceCleared) -> None:
    """Clear QCVN exceedance alarms."""
    await engine.on_exceedance(
        ctx.session,
        ctx.runtime,
        detected=False,
        station_code=event.station_code,
        unit_code=event.unit_code,
        parameter=event.parameter,
        regulation=event.regulation,
        period=event.period,
        value=None,
        limit=None,
        at=event.observed_at,
    )


async def on_report_submitted(ctx: HandlerContext, event: citizen_report.ReportSubmitted) -> None:
    """Count a new report towards "N reports nearby" rules."""
    try:
        report = await citizen_report.get_report(ctx.session, event.report_id, _READER)
    except citizen_report.ReportNotFound:
        return
    await engine.on_report(
        ctx.session,
        ctx.runtime,
        report_id=event.report_id,
        category_code=event.category_code,
        unit_code=event.unit_code,
        lat=report.lat,
        lon=report.lon,
        at=event.occurred_at,
    )


async def on_report_overdue(ctx: HandlerContext, event: citizen_report.ReportOverdue) -> None:
    """Raise an alarm for an overdue report."""
    lat: float | None = None
    lon: float | None = None
    try:
        report = await citizen_report.get_report(ctx.session, event.report_id, _READER)
        lat, lon = report.lat, report.lon
    except citizen_report.ReportNotFound:
        pass
    await engine.on_report_overdue(
        ctx.session,
        ctx.runtime,
        report_id=event.report_id,
        tracking_code=event.tracking_code,
        category_code=event.category_code,
        unit_code=event.unit_code,
        phase=event.phase,
        lat=lat,
        lon=lon,
        at=event.occurred_at,
    )


async def on_report_done(ctx: HandlerContext, event: citizen_report.ReportEvent) -> None:
    """Clear an overdue report's alarm once it is resolved, rejected or closed."""
    await engine.on_report_done(ctx.session, event.report_id, event.occurred_at)


async def on_delivery_failed(ctx: HandlerContext, event: notification.DeliveryFailed) -> None:
    """Record in the alarm's history that one of its notifications failed for good."""
    await service.record_delivery_failure(ctx.session, event.correlation, event.channel)


SUBSCRIPTIONS = (
    Subscription(telemetry.ObservationsReceived, on_observations, OBSERVATIONS_HANDLER, defer=_lane_first),
    Subscription(environment.IndexComputed, on_index, "alarm.evaluate_index"),
    Subscription(environment.ExceedanceDetected, on_exceedance, "alarm.exceedance_detected"),
    Subscription(environment.ExceedanceCleared, on_exceedance_cleared, "alarm.exceedance_cleared"),
    Subscription(citizen_report.ReportSubmitted, on_report_submitted, "alarm.report_submitted"),
    Subscription(citizen_report.ReportOverdue, on_report_overdue, "alarm.report_overdue"),
    Subscription(citizen_report.ReportResolved, on_report_done, "alarm.report_resolved"),
    Subscription(citizen_report.ReportRejected, on_report_done, "alarm.report_rejected"),
    Subscription(citizen_report.ReportClosed, on_report_done, "alarm.report_closed"),
    Subscription(notification.DeliveryFailed, on_delivery_failed, "alarm.delivery_failed"),
)


class ObservationLane:
    """Evaluates telemetry batches as soon as they are committed, many at once, ahead of the job queue."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.evaluated = 0
        self._cursor = 0
        self._wake = asyncio.Event()
        self._outage = OutageLog(log, "alarm observation lane")
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Begin after the newest event already stored (older ones go the ordinary way) and wake on commits."""
        async with self.runtime.db.session() as session:
            self._cursor = int(await session.scalar(select(func.max(OutboxEvent.id))) or 0)
        self.runtime.db.on_commit(self._wake.set)
        self._task = asyncio.create_task(self._run(), name="alarm-observation-lane")
        _ACTIVE[self.runtime] = self

    async def stop(self) -> None:
        """Finish the round in progress and stop."""
        if _ACTIVE.get(self.runtime) is self:
            del _ACTIVE[self.runtime]
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), LANE_STOP_SECONDS)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                more = await self.evaluate_pending()
                self._outage.succeeded()
            except Exception as exc:
                # The delivery jobs still carry every event: a failing lane only costs speed.
                self._outage.failed(exc, "alarm observation lane failed; retrying")
                more = False
                await asyncio.sleep(1.0)
            if more:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), LANE_POLL_SECONDS)

    async def evaluate_pending(self) -> bool:
        """Evaluate the batches committed since the last round; tell whether more are waiting."""
        handled = exists().where(
            EventHandled.event_id == OutboxEvent.event_id, EventHandled.handler == OBSERVATIONS_HANDLER
        )
        async with self.runtime.db.session() as session:
            rows = (
                await session.execute(
                    select(OutboxEvent.id, OutboxEvent.payload)
                    .where(
                        OutboxEvent.name == telemetry.ObservationsReceived.event_name,
                        OutboxEvent.id > self._cursor - LANE_LOOKBACK_IDS,
                        ~handled,
                    )
                    .order_by(OutboxEvent.id)
                    .limit(LANE_BATCH)
                )
            ).all()
            if not rows:
                return False
            candidates = [telemetry.ObservationsReceived.model_validate(row.payload) for row in rows]
            # Claimed first, like any delivery: an event a delivery job or consumer took meanwhile is left to it.
            claimed = await claim(session, [event.event_id for event in candidates], OBSERVATIONS_HANDLER)
            events = [event for event in candidates if event.event_id in claimed]
            if events:
                await engine.evaluate_observations(
                    session,
                    self.runtime,
                    sorted({stream for event in events for stream in event.datastream_ids}),
                    min(event.min_time for event in events),
                    max(event.max_time for event in events),
                )
            await session.commit()
        self._cursor = max(self._cursor, max(row.id for row in rows))
        self.evaluated += len(events)
        return len(rows) == LANE_BATCH


_LANES: WeakKeyDictionary[Runtime, ObservationLane] = WeakKeyDictionary()  # started by the module
_ACTIVE: WeakKeyDictionary[Runtime, ObservationLane] = WeakKeyDictionary()  # running, however started


async def start_lane(runtime: Runtime) -> None:
    """Start the observation lane in a process that runs background work."""
    if not runtime.settings.run_background or runtime in _LANES:
        return
    lane = ObservationLane(runtime)
    await lane.start()
    _LANES[runtime] = lane


def running_lane(runtime: Runtime) -> ObservationLane | None:
    """Return the observation lane of a runtime, if it runs."""
    return _LANES.get(runtime)


async def stop_lane(runtime: Runtime) -> None:
    """Stop the observation lane if it runs."""
    lane = _LANES.pop(runtime, None)
    if lane is not None:
        await lane.stop()
