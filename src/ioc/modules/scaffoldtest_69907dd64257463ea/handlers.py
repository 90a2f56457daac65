"""Reactions of the `scaffoldtest_69907dd64257463ea` module to other modules' events (none yet).

A handler gets a `HandlerContext` (its own session and the runtime) and the typed event, runs once per
event, and must not commit (the kernel does):

    async def on_report_submitted(ctx: HandlerContext, event: ReportSubmitted) -> None:
        ...

List it in the manifest: `subscriptions=(Subscription(ReportSubmitted, on_report_submitted,
"scaffoldtest_69907dd64257463ea.on_report_submitted"),)`, and declare the publishing module in `depends_on`.
"""
