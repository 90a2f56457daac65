"""Kernel throughput: domain events through the outbox to a handler, and durable jobs.

Measures, on a fresh database of the chosen engine:
- events recorded, published and handled exactly once per second (in-process transport), against the
  raw engine inserting the same number of rows into a bare table in one transaction per batch;
- timers scheduled and run per second.
Run: `python -m bench kernel` (BENCH_DATABASE=postgresql for PostgreSQL).
"""

from __future__ import annotations

import json
import time

from sqlalchemy import text

from ioc.core.events import record_event
from ioc.core.jobs import schedule_job
from ioc.core.runtime import Runtime
from ioc.core.settings import Environment, Settings

from .benchmod.manifest import HANDLED, BenchPinged
from .common import Figure, fresh_database

EVENTS = 2_000
BATCH = 100


def _runtime(url: str) -> Runtime:
    settings = Settings(
        env=Environment.TEST, database_url=url, modules=["bench.benchmod"], run_background=False, log_json=False
    )
    return Runtime(settings)


async def _raw_rows_per_second(runtime: Runtime) -> float:
    async with runtime.db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, name VARCHAR(120), payload TEXT)"))
    started = time.perf_counter()
    for start in range(0, EVENTS, BATCH):
        async with runtime.db.engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO bench_raw (id, name, payload) VALUES (:id, :name, :payload)"),
                [
                    {"id": i, "name": "benchmod.pinged", "payload": json.dumps({"number": i})}
                    for i in range(start, start + BATCH)
                ],
            )
    return EVENTS / (time.perf_counter() - started)


async def run() -> list[Figure]:
    """Run the kernel benchmark and return its figures."""
    HANDLED.clear()
    async with fresh_database() as url:
        runtime = _runtime(url)
        try:
            raw = await _raw_rows_per_second(runtime)
            started = time.perf_counter()
            for start in range(0, EVENTS, BATCH):
                async with runtime.db.transaction() as session:
                    for number in range(start, start + BATCH):
                        record_event(session, BenchPinged(number=number))
            recorded = time.perf_counter() - started
            await runtime.drain(rounds=10_000)
            total = time.perf_counter() - started
            assert sorted(HANDLED) == list(range(EVENTS)), "every event must be handled exactly once"
            HANDLED.clear()
            started = time.perf_counter()
            for start in range(0, EVENTS, BATCH):
                async with runtime.db.transaction() as session:
                    for number in range(start, start + BATCH):
                        await schedule_job(session, "benchmod.timer", {"n": number})
            await runtime.drain(rounds=10_000)
            timers = time.perf_counter() - started
            assert len(HANDLED) == EVENTS
        finally:
            await runtime.stop()
    return [
        Figure("events recorded in the outbox", EVENTS / recorded, "events/s", raw=raw),
        Figure("events recorded, published and handled once", EVENTS / total, "events/s", raw=raw),
        Figure("timers scheduled and run", EVENTS / timers, "jobs/s", raw=raw),
    ]
