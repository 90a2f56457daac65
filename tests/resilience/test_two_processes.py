"""Two `ioc run` processes on one PostgreSQL: jobs run once, events are handled once, both live streams see all.

The live stream tails the outbox table (core/live.py), so a browser connected to either process sees the
events written by the other; this test proves it with real processes and real SSE connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from ioc.core.jobs import RECURRING_PREFIX, JobStatus
from ioc.core.models import EventHandled, Job, OutboxEvent
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.modules import identity
from ioc.modules.telemetry import service
from ioc.modules.telemetry.schemas import DeviceCreate

from .support import IocProcess, ServerProcess, eventually
from .telemetry import SEQ

pytestmark = pytest.mark.usefixtures("postgres_only")

PASSWORD = "Mat-khau-123!"
POSTS = 12


async def _listen(http: httpx.AsyncClient, seen: set[int], connected: asyncio.Event) -> None:
    """Collect the ids of the telemetry events a staff live stream sends."""
    async with http.stream("GET", "/api/v1/live", params={"events": "telemetry"}, timeout=None) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            connected.set()  # the first frame ("retry:") is sent once the client is registered
            if line.startswith("id: "):
                seen.add(int(line[4:]))


async def test_two_processes_share_jobs_and_events_and_stream_every_event(
    tool_runtime: Runtime, process_db: str, processes: list[IocProcess | ServerProcess], tmp_path: Path
) -> None:
    async with tool_runtime.db.transaction() as session:
        await identity.create_user(session, tool_runtime, username="truc_ban", password=PASSWORD, role=Role.ADMIN)
        device = await service.create_device(session, DeviceCreate(code="PAIR-01", name="Trạm đôi", datastreams=[SEQ]))
    first = IocProcess(tmp_path / "a", process_db, name="ioc-a")
    second = IocProcess(tmp_path / "b", process_db, name="ioc-b")
    processes.extend([first, second])
    first.start()
    second.start()
    await asyncio.gather(first.wait_ready(), second.wait_ready())

    seen: dict[str, set[int]] = {"a": set(), "b": set()}
    listeners: list[asyncio.Task[None]] = []
    clients = [httpx.AsyncClient(base_url=p.url, timeout=30) for p in (first, second)]
    devices = [httpx.AsyncClient(base_url=p.url, timeout=30) for p in (first, second)]
    try:
        for http in clients:
            login = await http.post("/api/v1/auth/login", json={"username": "truc_ban", "password": PASSWORD})
            assert login.status_code == 200, login.text
        for key, http in zip(seen, clients, strict=True):
            connected = asyncio.Event()
            listeners.append(asyncio.create_task(_listen(http, seen[key], connected)))
            await asyncio.wait_for(connected.wait(), 15)

        # Readings posted to both processes in turn: each post commits an event in the process it reached.
        base = int(time.time() * 1000) - 3_600_000
        for number in range(POSTS):
            # A device posts without the operator's session cookie (which would require a CSRF token).
            answer = await devices[number % 2].post(
                "/api/v1/telemetry",
                content=json.dumps({"ts": base + number * 1000, "values": {"seq": number}}),
                headers={"X-Device-Token": device.token, "Content-Type": "application/json"},
            )
            assert answer.status_code == 200, answer.text

        async def telemetry_events() -> set[int]:
            async with tool_runtime.db.session() as session:
                ids = await session.scalars(select(OutboxEvent.id).where(OutboxEvent.name.like("telemetry.%")))
                return set(ids.all())

        async def both_streams_saw_all() -> bool:
            expected = await telemetry_events()
            return len(expected) >= POSTS and all(expected <= ids for ids in seen.values())

        async def streams() -> str:
            expected = await telemetry_events()
            return f"events {len(expected)}, missing on a: {expected - seen['a']}, on b: {expected - seen['b']}"

        streamed = await eventually(
            both_streams_saw_all, within=20, what="both live streams saw every event", detail=streams
        )

        async def all_delivered() -> bool:
            async with tool_runtime.db.session() as session:
                waiting = await session.scalar(
                    select(func.count()).where(Job.name == "events.deliver", Job.status != JobStatus.DONE)
                )
                unpublished = await session.scalar(select(func.count()).where(OutboxEvent.published_at.is_(None)))
            return waiting == 0 and unpublished == 0

        await eventually(all_delivered, within=30, what="every event delivered to its handlers")
        await asyncio.sleep(1.0)  # a second delivery, if any, would have run by now
    finally:
        for task in listeners:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await task
        for http in [*clients, *devices]:
            await http.aclose()
        first.terminate()
        second.terminate()
        first.stop()
        second.stop()

    async with tool_runtime.db.session() as session:
        observations = (
            await session.scalars(
                select(OutboxEvent.event_id).where(OutboxEvent.name == "telemetry.observations_received")
            )
        ).all()
        handled = (await session.execute(select(EventHandled.event_id, EventHandled.handler))).all()
        deliveries = (await session.scalars(select(Job).where(Job.name == "events.deliver"))).all()
        recurring = (await session.scalars(select(Job).where(Job.dedupe_key.like(RECURRING_PREFIX + "%")))).all()
        finished = (await session.scalars(select(Job).where(Job.status == JobStatus.DONE))).all()
    assert len(observations) == POSTS
    subscribers = {h for _, h in handled if h.endswith("evaluate_observations") or h.endswith("evaluate_stations")}
    assert subscribers == {"alarm.evaluate_observations", "environment.evaluate_stations"}
    for event_id in observations:
        assert sorted(h for e, h in handled if e == event_id and h in subscribers) == sorted(subscribers)
    # Each delivery and each occurrence of a scheduled job was claimed once, by one of the two processes.
    assert deliveries
    assert all(job.status == JobStatus.DONE and job.attempts == 1 for job in deliveries)
    assert all(job.attempts == 1 for job in finished)
    workers = {job.locked_by.rsplit(":", 1)[0] for job in finished if job.locked_by}
    assert len(workers) <= 2
    names = [job.name for job in recurring]
    assert names
    assert len(names) == len(set(names)), "one pending occurrence per recurring job, not one per process"
    print(
        f"\nboth streams complete {streamed:.1f} s after the last post; {len(deliveries)} deliveries and "
        f"{len(finished) - len(deliveries)} scheduled runs shared by {len(workers)} process(es)"
    )
