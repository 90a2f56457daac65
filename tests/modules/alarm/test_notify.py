"""Routing policies: who is told, repeats, escalation when nobody acknowledges, failures reported."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ioc.core.http import PageParams
from ioc.core.models import OutboxEvent
from ioc.core.runtime import Runtime
from ioc.core.time import utc_now
from ioc.modules import notification
from ioc.modules.alarm import rulebook, service
from ioc.modules.alarm.models import Alarm
from ioc.modules.alarm.schemas import PolicyWrite

from .conftest import STAFF, MakeRule, Send


async def _deliveries(runtime: Runtime, alarm_id: int) -> list[notification.DeliveryRead]:
    async with runtime.db.session() as session:
        page = await notification.list_deliveries(
            session,
            notification.DeliveryFilters(correlation=f"alarm:{alarm_id}"),
            PageParams(limit=100, offset=0),
            reveal_recipients=True,
        )
    return page.items


async def test_routing_repeat_escalation_and_failure(
    runtime: Runtime, stream_id: int, make_rule: MakeRule, send: Send
) -> None:
    """A major alarm goes to the matching policy only; unacknowledged, it is escalated, then repeated."""
    await make_rule(
        kind="threshold", scope_kind="datastream", scope_ref=str(stream_id), operator=">", threshold=3, severity="major"
    )
    async with runtime.db.transaction() as session:
        await rulebook.create_policy(
            session,
            PolicyWrite(
                name="Trực ban tỉnh",
                min_severity="major",
                targets=[
                    {"channel": "email", "recipient": "trucban@tayninh.gov.vn"},
                    {"channel": "webhook", "recipient": "not a url"},
                ],
                escalation_targets=[{"channel": "email", "recipient": "lanhdao@tayninh.gov.vn"}],
                repeat_minutes=30,
                escalate_after_minutes=10,
            ),
        )
        await rulebook.create_policy(
            session,
            PolicyWrite(
                name="Chỉ khẩn cấp",
                min_severity="critical",
                targets=[{"channel": "email", "recipient": "khancap@tayninh.gov.vn"}],
            ),
        )
    await send([(1, 4.0)])
    [raised] = await _alarm_rows(runtime)
    first = await _deliveries(runtime, raised.id)
    # Both targets of the matching policy were attempted; the bad one is dead, the good one is unaffected.
    assert sorted(d.recipient for d in first) == ["not a url", "trucban@tayninh.gov.vn"]
    assert {d.status for d in first if d.recipient == "not a url"} == {"dead"}
    now = utc_now()
    async with runtime.db.transaction() as session:
        assert await service.notify_due(session, runtime, now + timedelta(minutes=5)) == 0
        assert await service.notify_due(session, runtime, now + timedelta(minutes=11)) == 1
    escalated = await _deliveries(runtime, raised.id)
    assert "lanhdao@tayninh.gov.vn" in {d.recipient for d in escalated}
    async with runtime.db.session() as session:
        names = list(await session.scalars(select(OutboxEvent.name).where(OutboxEvent.name == "alarm.escalated")))
    assert names == ["alarm.escalated"]
    await runtime.drain()
    async with runtime.db.session() as session:
        detail = await service.alarm_detail(session, raised.id)
    actions = [h.action for h in detail.history]
    assert actions[:2] == ["raised", "notified"]
    assert "escalated" in actions
    assert "notify_failed" in actions  # the dead webhook was reported into the alarm's history


async def _alarm_rows(runtime: Runtime) -> list[Alarm]:
    async with runtime.db.session() as session:
        return list(await session.scalars(select(Alarm)))


async def test_acknowledged_alarms_are_not_repeated(
    runtime: Runtime, stream_id: int, make_rule: MakeRule, send: Send
) -> None:
    """Once acknowledged, an alarm is neither repeated nor escalated."""
    await make_rule(kind="threshold", scope_kind="datastream", scope_ref=str(stream_id), operator=">", threshold=3)
    async with runtime.db.transaction() as session:
        await rulebook.create_policy(
            session,
            PolicyWrite(
                name="Trực ban",
                targets=[{"channel": "email", "recipient": "trucban@tayninh.gov.vn"}],
                repeat_minutes=5,
                escalate_after_minutes=10,
            ),
        )
    await send([(1, 4.0)])
    [raised] = await _alarm_rows(runtime)
    async with runtime.db.transaction() as session:
        await service.acknowledge(session, raised.id, STAFF)
        assert await service.notify_due(session, runtime, utc_now() + timedelta(hours=1)) == 0
