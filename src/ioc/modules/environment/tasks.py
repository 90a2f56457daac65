"""Background work of the environment module: the reaction to new readings and the station evaluation job."""

from __future__ import annotations

from ioc.core.events import HandlerContext, Subscription
from ioc.core.jobs import JobContext, JobSpec
from ioc.core.time import utc_now
from ioc.modules import telemetry

from . import evaluation
from .constants import RECOMPUTE_JOB


async def on_observations_received(ctx: HandlerContext, event: telemetry.ObservationsReceived) -> None:
    """Mark the stations fed by the batch's datastreams and schedule their (debounced) evaluation."""
    await evaluation.mark_dirty(ctx.session, event.datastream_ids, event.min_time, utc_now())


async def recompute_station(ctx: JobContext) -> None:
    """Evaluate one station: hourly index, current index, exceedances."""
    await evaluation.evaluate_station(ctx.session, int(ctx.payload["station_id"]))


SUBSCRIPTIONS = (
    Subscription(
        event=telemetry.ObservationsReceived,
        handler=on_observations_received,
        name="environment.evaluate_stations",
    ),
)
JOBS = (JobSpec(name=RECOMPUTE_JOB, handler=recompute_station, max_attempts=3),)
