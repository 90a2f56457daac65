"""Live updates: committed events reach stream subscribers, and reconnecting clients catch up."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from ioc.core.events import record_event
from ioc.core.runtime import Runtime

from .samplemod import manifest as sample


async def _next_frame(stream: AsyncIterator[str], seconds: float = 3.0) -> str:
    while True:
        frame = await asyncio.wait_for(stream.__anext__(), seconds)
        if not frame.startswith((":", "retry:")):
            return frame


def _data(frame: str) -> dict[str, object]:
    line = next(part for part in frame.splitlines() if part.startswith("data: "))
    parsed: dict[str, object] = json.loads(line.removeprefix("data: "))
    return parsed


async def test_committed_event_is_pushed_to_a_connected_client(kernel_runtime: Runtime) -> None:
    await kernel_runtime.live.poll()
    stream = kernel_runtime.live.stream(last_event_id=None, public_only=False)
    assert (await stream.__anext__()).startswith("retry:")
    async with kernel_runtime.db.transaction() as session:
        record_event(session, sample.ThingHappened(number=1))
    assert await kernel_runtime.live.poll() == 1
    frame = await _next_frame(stream)
    assert "event: samplemod.thing_happened" in frame
    assert _data(frame)["payload"] == {**_data(frame)["payload"], "number": 1}  # type: ignore[dict-item]
    await stream.aclose()


async def test_reconnecting_client_receives_what_it_missed(kernel_runtime: Runtime) -> None:
    async with kernel_runtime.db.transaction() as session:
        record_event(session, sample.ThingHappened(number=1))
    await kernel_runtime.live.poll()
    first = await kernel_runtime.live.backlog(0)
    async with kernel_runtime.db.transaction() as session:
        record_event(session, sample.ThingHappened(number=2))
        record_event(session, sample.ThingHappened(number=3))
    stream = kernel_runtime.live.stream(last_event_id=first[-1].id, public_only=False)
    numbers = [_data(await _next_frame(stream))["payload"]["number"] for _ in range(2)]  # type: ignore[index]
    assert numbers == [2, 3]
    await stream.aclose()


async def test_public_stream_carries_only_public_events(kernel_runtime: Runtime) -> None:
    async with kernel_runtime.db.transaction() as session:
        record_event(session, sample.ThingHappened(number=1))
        record_event(session, sample.PublicThingHappened(number=2))
    stream = kernel_runtime.live.stream(last_event_id=0, public_only=True)
    frame = await _next_frame(stream)
    assert "samplemod.public_thing_happened" in frame
    await stream.aclose()


async def test_poll_reports_each_event_once(kernel_runtime: Runtime) -> None:
    await kernel_runtime.live.poll()
    async with kernel_runtime.db.transaction() as session:
        for number in range(5):
            record_event(session, sample.ThingHappened(number=number))
    assert await kernel_runtime.live.poll() == 5
    assert await kernel_runtime.live.poll() == 0
