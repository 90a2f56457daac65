"""Manifest of the demo-activity test module."""

from __future__ import annotations

import asyncio

from ioc.core.module import Manifest
from ioc.core.runtime import Runtime

STARTED = asyncio.Event()
CALLS: list[str] = []


async def demo_activity(runtime: Runtime) -> None:
    """Record the start, then wait (never set) until cancelled, like a real demo loop; record the cancellation."""
    CALLS.append("started")
    STARTED.set()
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        CALLS.append("cancelled")
        raise


manifest = Manifest(name="demomod", tier=0, title_vi="Demo", title_en="Demo", demo_activity=demo_activity)
