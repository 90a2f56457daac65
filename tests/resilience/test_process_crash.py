"""`kill -9` of `ioc run`: MQTT readings the broker acknowledged, and durable timers, survive the crash.

Both scenarios run on SQLite too: a single-server installation crashes the same way.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from ioc.core.jobs import JobStatus, schedule_job
from ioc.core.models import EventHandled, Job, OutboxEvent
from ioc.core.runtime import Runtime
from ioc.core.time import utc_now
from ioc.modules.citizen_report import service as reports
from ioc.modules.citizen_report.constants import DEADLINE_JOB, TimerKind
from ioc.modules.citizen_report.models import Report, TimelineEntry
from ioc.modules.citizen_report.photos import MediaStore
from ioc.modules.citizen_report.schemas import CategoryCreate, ReportCreate

from ..conftest import require_service
from ..support.seeding import seed_module
from .support import IocProcess, NumberedPublisher, ServerProcess, eventually, remove_mqtt_session, unique_mqtt
from .telemetry import check_exactly_once, dead_letters, progress, provision, stored, stored_count, wait_until_ingesting

MQTT_PORT = 1883
DEVICES = ("CRASH-01", "CRASH-02", "CRASH-03", "CRASH-04")
# 600 readings at 150 per second: the crash falls in the middle, and the backlog the broker keeps for the
# dead subscriber stays under Mosquitto's default max_queued_messages (1000).
COUNT, RATE = 600, 150.0


async def test_kill_9_during_mqtt_ingestion_stores_every_acknowledged_reading_once(
    tool_runtime: Runtime, process_db: str, processes: list[IocProcess | ServerProcess], tmp_path: Path
) -> None:
    require_service("Mosquitto", "127.0.0.1", MQTT_PORT)
    client_id, prefix = unique_mqtt("ioc-crash")
    await provision(tool_runtime, DEVICES)
    ioc = IocProcess(
        tmp_path / "ioc",
        process_db,
        {"IOC_MQTT_URL": f"mqtt://127.0.0.1:{MQTT_PORT}?client_id={client_id}", "IOC_MQTT_TOPIC_PREFIX": prefix},
    )
    processes.append(ioc)
    publisher = NumberedPublisher(MQTT_PORT, prefix, DEVICES, COUNT, RATE)
    try:
        await ioc.started()
        await wait_until_ingesting(tool_runtime, MQTT_PORT, prefix, DEVICES[0], within=30)
        publisher.start()

        async def a_quarter_stored() -> bool:
            return await stored_count(tool_runtime, publisher) >= COUNT // 4

        await eventually(a_quarter_stored, within=30, what="a quarter of the readings stored before the crash")
        ioc.kill()
        stored_at_crash, sent_at_crash = await stored_count(tool_runtime, publisher), publisher.sent
        await publisher.wait_sent()
        acknowledged = publisher.acknowledged()
        assert len(acknowledged) == COUNT, "the broker stayed up: it acknowledges every reading"
        assert sent_at_crash < COUNT, "the crash came while readings were still being published"

        restart = await ioc.started()

        async def all_stored() -> bool:
            return await stored_count(tool_runtime, publisher) >= len(acknowledged)

        async def report() -> str:
            return await progress(tool_runtime, publisher)

        drained = await eventually(
            all_stored, within=60, what="every acknowledged reading stored after restart", detail=report
        )
        await asyncio.sleep(1.0)  # a late redelivery, if any, would land now
        rows = await stored(tool_runtime, publisher)
    finally:
        publisher.close()
        ioc.stop()
        await asyncio.to_thread(remove_mqtt_session, MQTT_PORT, client_id)
    check_exactly_once(rows, publisher, acknowledged)
    assert len(rows) == COUNT
    assert await dead_letters(tool_runtime, prefix) == 0
    print(
        f"\nkill -9 at {stored_at_crash}/{COUNT} stored ({sent_at_crash} sent); "
        f"restart ready in {restart:.1f} s, backlog drained in {drained:.1f} s"
    )


async def _report_with_intake_deadline(runtime: Runtime) -> int:
    """File a citizen report through the service (the intake deadline starts); return its id."""
    await seed_module(runtime, "org_unit")
    async with runtime.db.transaction() as session:
        await reports.create_category(
            session,
            CategoryCreate(
                code="o-ga",
                name="Ổ gà",
                name_en="Potholes",
                default_agency_code="80-SXD",
                accept_hours=8,
                resolve_days=5,
            ),
        )
    async with runtime.db.transaction() as session:
        result = await reports.submit(
            session,
            runtime,
            # Phường Tân Ninh in the demo units.
            ReportCreate.model_validate(
                {"category_code": "o-ga", "description": "Ổ gà lớn giữa đường.", "lat": 11.61507, "lon": 105.86238}
            ),
            principal=None,
            client_ip=None,
            store=MediaStore.under(runtime.settings.data_dir),
        )
    return result.id


async def test_a_deadline_that_falls_due_while_the_process_is_down_fires_after_restart(
    tool_runtime: Runtime, process_db: str, processes: list[IocProcess | ServerProcess], tmp_path: Path
) -> None:
    report_id = await _report_with_intake_deadline(tool_runtime)
    ioc = IocProcess(tmp_path / "ioc", process_db)
    processes.append(ioc)
    await ioc.started()
    ioc.kill()
    # The intake deadline is hours away; bring it to just after the crash instead of waiting for it.
    due = (utc_now() + timedelta(seconds=1)).replace(microsecond=0) + timedelta(seconds=1)
    key = f"{DEADLINE_JOB}:{report_id}:{TimerKind.OVERDUE.value}"
    async with tool_runtime.db.transaction() as session:
        report = await session.get(Report, report_id)
        assert report is not None
        assert not report.overdue
        report.due_at = due
        payload = {"report_id": report_id, "kind": "overdue", "due_at": due.isoformat(), "threshold": due.isoformat()}
        await schedule_job(session, DEADLINE_JOB, payload, run_at=due, dedupe_key=key)
    await asyncio.sleep(max((due - utc_now()).total_seconds(), 0) + 0.5)
    async with tool_runtime.db.session() as session:
        timer = await session.scalar(select(Job).where(Job.dedupe_key == key))
        assert timer is not None
        assert timer.status == JobStatus.PENDING, "nobody ran the timer while the process was down"

    try:
        await ioc.started()

        async def fired() -> bool:
            async with tool_runtime.db.session() as session:
                report = await session.get(Report, report_id)
                return report is not None and report.overdue

        late = await eventually(fired, within=30, what="the overdue timer fired after the restart")

        async def delivered() -> bool:
            async with tool_runtime.db.session() as session:
                return bool(
                    await session.scalar(select(func.count()).where(EventHandled.handler == "alarm.report_overdue"))
                )

        await eventually(delivered, within=30, what="the ReportOverdue event delivered to its handler")
    finally:
        ioc.stop()
    async with tool_runtime.db.session() as session:
        overdue_events = (
            await session.scalars(select(OutboxEvent).where(OutboxEvent.name == "citizen_report.overdue"))
        ).all()
        entries = await session.scalar(
            select(func.count()).where(TimelineEntry.report_id == report_id, TimelineEntry.action == "overdue")
        )
        timers = (
            await session.scalars(select(Job).where(Job.name == DEADLINE_JOB, Job.status == JobStatus.DONE))
        ).all()
        handled = await session.scalar(select(func.count()).where(EventHandled.handler == "alarm.report_overdue"))
    assert [event.payload["report_id"] for event in overdue_events] == [report_id]
    assert entries == 1
    assert [(job.payload["kind"], job.attempts) for job in timers] == [("overdue", 1)]
    assert handled == 1
    print(f"\ntimer fired {late:.1f} s after the restarted process was ready")
