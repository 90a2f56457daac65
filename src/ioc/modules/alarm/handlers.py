"""Reactions to other modules' events: telemetry batches, environment indices and exceedances, citizen reports."""

from __future__ import annotations

from ioc.core.events import HandlerContext, Subscription
from ioc.core.security import Principal, PrincipalKind, Role
from ioc.modules import citizen_report, environment, notification, telemetry

from . import engine, service

# Reading a report's place needs the staff view; the engine reads it as a system principal with only that scope.
_READER = Principal(
    kind=PrincipalKind.SYSTEM,
    id=None,
    name="alarm",
    role=Role.ADMIN,
    scopes=frozenset({"citizen_report:read"}),
)


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
    Subscription(telemetry.ObservationsReceived, on_observations, "alarm.evaluate_observations"),
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
