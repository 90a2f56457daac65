"""Durable jobs and timers of the `scaffoldtest_69907dd64257463ea` module (none yet).

A job is named "scaffoldtest_69907dd64257463ea.<verb>", takes ids in its payload, and survives restarts:

    async def refresh(ctx: JobContext) -> None:
        ...

    REFRESH = JobSpec(name="scaffoldtest_69907dd64257463ea.refresh", handler=refresh, every=timedelta(minutes=15))

List it in the manifest (`jobs=(REFRESH,)`); schedule one-off runs with `ioc.core.jobs.schedule_job`.
"""
