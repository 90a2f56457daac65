"""The staff live stream delivers an event only to those who may see it: agency events to their agency."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from tests.conftest import LoginFactory

from ioc.core.events import DomainEvent, record_event
from ioc.core.live import EventScope
from ioc.core.models import OutboxEvent
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.modules.alarm.events import AlarmRaised
from ioc.modules.citizen_report.events import ReportAssigned, ReportOverdue
from ioc.modules.incident.events import TaskAssigned, TaskOverdue
from ioc.modules.org_unit import AgencyKind
from ioc.modules.org_unit.models import Agency
from ioc.modules.org_unit.schemas import AgencyCreate
from ioc.modules.org_unit.service import upsert_agency
from ioc.modules.telemetry.events import DeviceWentOffline

WAIT = 5.0  # seconds for one frame to arrive


@dataclass
class SseClient:
    """One browser's connection to /api/v1/live, driven at the ASGI level so frames arrive as they are sent."""

    app: Any
    cookie: str
    last_event_id: int | None = None
    status: int = 0
    frames: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    _gone: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    async def open(self) -> SseClient:
        """Connect and wait until the stream has started (its `retry:` frame)."""
        headers = [(b"host", b"testserver"), (b"cookie", self.cookie.encode()), (b"accept", b"text/event-stream")]
        if self.last_event_id is not None:
            headers.append((b"last-event-id", str(self.last_event_id).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/api/v1/live",
            "raw_path": b"/api/v1/live",
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        requested = False
        buffer = ""

        async def receive() -> dict[str, Any]:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await self._gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal buffer
            if message["type"] == "http.response.start":
                self.status = message["status"]
            elif message["type"] == "http.response.body":
                buffer += message.get("body", b"").decode()
                while "\n\n" in buffer:
                    frame, buffer = buffer.split("\n\n", 1)
                    if frame.startswith("retry:"):
                        self.opened.set()
                    data = [line for line in frame.splitlines() if line.startswith("data: ")]
                    if data:
                        await self.frames.put(json.loads(data[0].removeprefix("data: ")))

        self._task = asyncio.create_task(self.app(scope, receive, send))
        await asyncio.wait_for(self.opened.wait(), WAIT)
        assert self.status == 200
        return self

    async def names_until(self, last_name: str) -> list[str]:
        """Return the event names received, up to and including the first `last_name`."""
        names: list[str] = []
        while not names or names[-1] != last_name:
            names.append((await asyncio.wait_for(self.frames.get(), WAIT))["name"])
        return names

    async def close(self) -> None:
        """Disconnect as a browser does."""
        self._gone.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def _agency_ids(runtime: Runtime) -> dict[str, int]:
    async with runtime.db.transaction() as session:
        for code in ("SO-A", "SO-B"):
            await upsert_agency(session, AgencyCreate(code=code, name=f"Sở {code}", kind=AgencyKind.DEPARTMENT))
    async with runtime.db.session() as session:
        return {row.code: row.id for row in await session.execute(select(Agency.code, Agency.id))}


async def _cookie(login_as: LoginFactory, role: Role, **fields: Any) -> str:
    http = await login_as(role, **fields)
    return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


async def _record(runtime: Runtime, *events: DomainEvent) -> None:
    async with runtime.db.transaction() as session:
        for event in events:
            record_event(session, event)
    await runtime.live.poll()


def _report_of_agency_a() -> ReportAssigned:
    return ReportAssigned(
        report_id=1, tracking_code="PA-1", status="assigned", category_code="road", unit_code="X1", agency_code="SO-A"
    )


def _task_of_agency_b() -> TaskAssigned:
    return TaskAssigned(
        incident_id=1,
        code="SC-1",
        status="active",
        severity="major",
        incident_type="flood",
        unit_code="X2",
        unit_codes=["X2"],
        agency_codes=["SO-B"],
        task_id=1,
        agency_code="SO-B",
        task_status="assigned",
        due_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def _province_wide() -> DeviceWentOffline:
    return DeviceWentOffline(device_id=1, device_code="tram-1", last_seen_at=None, offline_after_minutes=30)


async def _clients(
    runtime: Runtime, app: Any, login_as: LoginFactory, last_event_id: int | None = None
) -> dict[str, SseClient]:
    ids = await _agency_ids(runtime)
    cookies = {
        "a": await _cookie(login_as, Role.AGENCY_STAFF, agency_id=ids["SO-A"]),
        "b": await _cookie(login_as, Role.AGENCY_HEAD, agency_id=ids["SO-B"]),
        "leader": await _cookie(login_as, Role.LEADER),
    }
    return {who: await SseClient(app, cookie, last_event_id).open() for who, cookie in cookies.items()}


async def test_agency_events_reach_only_their_agency_and_the_province(
    app: Any, runtime: Runtime, login_as: LoginFactory
) -> None:
    await runtime.live.poll()
    clients = await _clients(runtime, app, login_as)
    try:
        await _record(runtime, _report_of_agency_a(), _task_of_agency_b(), _province_wide())
        end = "telemetry.device_went_offline"
        assert await clients["a"].names_until(end) == ["citizen_report.assigned", end]
        assert await clients["b"].names_until(end) == ["incident.task_assigned", end]
        assert await clients["leader"].names_until(end) == ["citizen_report.assigned", "incident.task_assigned", end]
    finally:
        for client in clients.values():
            await client.close()


async def test_catch_up_after_reconnect_applies_the_same_rule(
    app: Any, runtime: Runtime, login_as: LoginFactory
) -> None:
    await _record(runtime, _province_wide())
    async with runtime.db.session() as session:
        before = int(await session.scalar(select(func.max(OutboxEvent.id))) or 0)
    # Missed while disconnected: only the backlog (Last-Event-ID) can deliver these.
    await _record(runtime, _report_of_agency_a(), _task_of_agency_b(), _province_wide())
    clients = await _clients(runtime, app, login_as, last_event_id=before)
    try:
        end = "telemetry.device_went_offline"
        assert await clients["a"].names_until(end) == ["citizen_report.assigned", end]
        assert await clients["b"].names_until(end) == ["incident.task_assigned", end]
        assert await clients["leader"].names_until(end) == ["citizen_report.assigned", "incident.task_assigned", end]
    finally:
        for client in clients.values():
            await client.close()


async def test_staff_bound_to_communes_receive_unit_events_of_those_communes(
    app: Any, runtime: Runtime, login_as: LoginFactory
) -> None:
    await runtime.live.poll()
    bound = await SseClient(app, await _cookie(login_as, Role.AGENCY_STAFF, unit_codes=["X1"])).open()
    unbound = await SseClient(app, await _cookie(login_as, Role.AGENCY_STAFF)).open()
    try:
        elsewhere, here = (
            AlarmRaised(
                alarm_id=n,
                rule_id=None,
                severity="high",
                title="Ngập",
                source_kind="station",
                source_ref="s",
                unit_code=unit,
            )
            for n, unit in ((1, "X2"), (2, "X1"))
        )
        await _record(runtime, elsewhere, here, _province_wide())
        end = "telemetry.device_went_offline"
        assert await bound.names_until(end) == ["alarm.raised", end]
        assert (await unbound.names_until(end)).count("alarm.raised") == 2
    finally:
        await bound.close()
        await unbound.close()


def test_scope_is_read_from_the_payload_fields() -> None:
    assert EventScope.of({"agency_code": "A", "agency_codes": ["B", ""], "unit_codes": ["X"], "unit_code": None}) == (
        EventScope(frozenset({"A", "B"}), frozenset({"X"}))
    )
    assert EventScope.of({"device_code": "d"}) == EventScope(frozenset(), frozenset())


async def test_the_dashboard_feed_applies_the_same_rule(runtime: Runtime, login_as: LoginFactory) -> None:
    ids = await _agency_ids(runtime)
    due = datetime(2026, 1, 1, tzinfo=UTC)
    overdue_a = ReportOverdue(
        report_id=1,
        tracking_code="PA-1",
        status="assigned",
        category_code="road",
        unit_code="X1",
        agency_code="SO-A",
        phase="resolve",
        due_at=due,
    )
    task_b = TaskOverdue(**_task_of_agency_b().model_dump(exclude={"event_name"}))
    await _record(runtime, overdue_a, task_b)
    feeds = {}
    for who, role, agency in (
        ("a", Role.AGENCY_STAFF, "SO-A"),
        ("b", Role.AGENCY_HEAD, "SO-B"),
        ("leader", Role.LEADER, None),
    ):
        http = await login_as(role, agency_id=ids[agency]) if agency else await login_as(role)
        answer = await http.get("/api/v1/dashboard/feed")
        assert answer.status_code == 200, answer.text
        feeds[who] = [item["name"] for item in answer.json()]
    assert feeds["a"] == ["citizen_report.overdue"]
    assert feeds["b"] == ["incident.task_overdue"]
    assert feeds["leader"] == ["incident.task_overdue", "citizen_report.overdue"]
