"""Rule evaluation end to end: readings → telemetry event → rule → alarm → alarm events in the outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.conftest import UserFactory

from ioc.core.models import OutboxEvent
from ioc.core.module import PictureContext
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.core.time import utc_now
from ioc.modules import alarm
from ioc.modules.alarm import engine, picture, rulebook, service
from ioc.modules.alarm.exceptions import InvalidAssignee, InvalidRule
from ioc.modules.alarm.models import Alarm
from ioc.modules.alarm.schemas import RuleWrite, SilenceWrite

from .conftest import INSIDE, STAFF, STATION, MakeRule, Send

pytestmark = pytest.mark.usefixtures("stream_id")


async def _alarms(runtime: Runtime) -> list[Alarm]:
    async with runtime.db.session() as session:
        return list(await session.scalars(select(Alarm).order_by(Alarm.id)))


async def _events(runtime: Runtime, prefix: str = "alarm.") -> list[str]:
    async with runtime.db.session() as session:
        rows = await session.scalars(
            select(OutboxEvent.name).where(OutboxEvent.name.like(f"{prefix}%")).order_by(OutboxEvent.id)
        )
        return list(rows)


async def test_threshold_with_pending_period_and_hysteresis(
    runtime: Runtime, stream_id: int, make_rule: MakeRule, send: Send
) -> None:
    """Water level > 3.0 m for 15 min fires once; 2.9 keeps it (hysteresis); below 2.8 clears it."""
    rule = await make_rule(
        kind="threshold",
        scope_kind="datastream",
        scope_ref=str(stream_id),
        operator=">",
        threshold=3.0,
        clear_threshold=2.8,
        pending_minutes=15,
        severity="critical",
    )
    now = utc_now()
    await send([(30, 2.5), (20, 3.2), (10, 3.1)], now)
    assert await _alarms(runtime) == []  # above for 10 minutes only: still pending
    await send([(4, 3.3), (3, 3.4)], now)
    [raised] = await _alarms(runtime)
    assert (raised.rule_id, raised.severity, raised.status) == (rule.id, "critical", "active")
    assert raised.source_ref == str(stream_id)
    assert raised.details["device_code"] == STATION
    assert abs((raised.first_seen_at - (now - timedelta(minutes=4))).total_seconds()) < 1
    await send([(2, 2.9)], now)  # between the two thresholds: stays active
    assert [a.status for a in await _alarms(runtime)] == ["active"]
    await send([(1, 2.7)], now)
    [cleared] = await _alarms(runtime)
    assert cleared.status == "cleared"
    assert cleared.cleared_at is not None
    assert cleared.open_key is None
    assert await _events(runtime) == ["alarm.raised", "alarm.cleared"]
    async with runtime.db.session() as session:
        read = await alarm.get_alarm(session, cleared.id)
    assert read.status == "cleared"
    assert read.rule_id == rule.id


async def test_one_open_alarm_per_rule_and_source_counts_repeats(
    runtime: Runtime, stream_id: int, make_rule: MakeRule, send: Send
) -> None:
    """Repeated crossings while the alarm is open raise its count, not new alarms."""
    await make_rule(
        kind="threshold", scope_kind="device", scope_ref=STATION, parameter="water_level", operator=">=", threshold=5
    )
    now = utc_now()
    await send([(5, 6.0)], now)
    await send([(4, 6.5), (3, 7.0)], now)
    [open_alarm] = await _alarms(runtime)
    assert open_alarm.count == 3
    assert open_alarm.last_seen_at > open_alarm.first_seen_at


async def test_rate_of_change_rule(runtime: Runtime, stream_id: int, make_rule: MakeRule, send: Send) -> None:
    """A rise of more than 1 m per hour fires."""
    await make_rule(kind="rate", scope_kind="datastream", scope_ref=str(stream_id), operator=">", threshold=1.0)
    now = utc_now()
    await send([(60, 1.0), (50, 1.05)], now)  # 0.3 m/h
    assert await _alarms(runtime) == []
    await send([(40, 1.5)], now)  # 2.7 m/h
    [fired] = await _alarms(runtime)
    assert fired.value == pytest.approx(2.7)


async def test_no_data_rule_fires_and_clears(runtime: Runtime, stream_id: int, make_rule: MakeRule, send: Send) -> None:
    """A station silent for longer than N minutes raises an alarm; the next reading clears it."""
    await make_rule(kind="no_data", scope_kind="device", scope_ref=STATION, minutes=30, severity="major")
    now = utc_now()
    await send([(45, 1.0)], now)
    async with runtime.db.transaction() as session:
        assert await engine.periodic_check(session, runtime, now) == 1
    assert [a.status for a in await _alarms(runtime)] == ["active"]
    await send([(0, 1.1)], now)
    async with runtime.db.transaction() as session:
        await engine.periodic_check(session, runtime, utc_now())
    assert [a.status for a in await _alarms(runtime)] == ["cleared"]


async def test_lifecycle_ack_comment_assign_clear_with_history(
    runtime: Runtime, stream_id: int, make_rule: MakeRule, send: Send, make_user: UserFactory
) -> None:
    """An operator acknowledges, comments, assigns and clears; each step is in the history with who."""
    await make_rule(kind="threshold", scope_kind="datastream", scope_ref=str(stream_id), operator=">", threshold=3)
    await send([(1, 4.0)])
    [raised] = await _alarms(runtime)
    engineer = await make_user(Role.AGENCY_STAFF, display_name="Kỹ sư Lê Văn Bình")
    citizen = await make_user(Role.CITIZEN)
    async with runtime.db.transaction() as session:
        acked = await service.acknowledge(session, raised.id, STAFF, "đang kiểm tra")
        await service.comment(session, raised.id, STAFF, "Đã cử tổ trực đến hiện trường")
        for nobody in (citizen["id"], 999_999):  # an alarm goes to an active staff member only
            with pytest.raises(InvalidAssignee):
                await service.assign(session, raised.id, STAFF, nobody)
        await service.assign(session, raised.id, STAFF, engineer["id"])
        with pytest.raises(alarm.AlarmNotFound):
            await service.acknowledge(session, 999_999, STAFF)
    async with runtime.db.session() as session:
        context = PictureContext(session=session, principal=STAFF, now=utc_now())
        critical = await picture.open_critical(context)
        unacknowledged = await picture.unacknowledged(context)
        layer = await picture.alarm_features(context)
    assert critical.value == 0  # the rule is "major"
    assert unacknowledged.value == 0
    [feature] = layer["features"]
    assert feature["properties"]["status"] == "acknowledged"
    assert feature["geometry"]["coordinates"] == [INSIDE[1], INSIDE[0]]
    assert acked.status == "acknowledged"
    assert acked.acknowledged_by == STAFF.id
    async with runtime.db.transaction() as session:
        cleared = await service.clear(session, raised.id, STAFF, "đã xử lý")
        detail = await service.alarm_detail(session, raised.id)
    assert cleared.status == "cleared"
    assert cleared.cleared_by == STAFF.id
    assert cleared.assignee_id == engineer["id"]
    assert detail.assignee_name == "Kỹ sư Lê Văn Bình"
    assert [h.action for h in detail.history] == ["raised", "acknowledged", "commented", "assigned", "cleared"]
    assert detail.history[1].actor_name == "Trực ban"
    assert await _events(runtime) == ["alarm.raised", "alarm.acknowledged", "alarm.cleared"]


async def test_silence_and_maintenance(runtime: Runtime, stream_id: int, make_rule: MakeRule, send: Send) -> None:
    """A silence records the alarm without notifying; a maintenance window holds it back entirely."""
    rule = await make_rule(
        kind="threshold", scope_kind="datastream", scope_ref=str(stream_id), operator=">", threshold=3
    )
    now = utc_now()
    async with runtime.db.transaction() as session:
        await rulebook.create_silence(
            session,
            SilenceWrite(
                kind="maintenance",
                rule_id=rule.id,
                starts_at=now - timedelta(hours=1),
                ends_at=now - timedelta(minutes=20),
                reason="bảo trì",
            ),
            STAFF,
        )
        await rulebook.create_silence(
            session,
            SilenceWrite(
                kind="silence",
                source_ref=str(stream_id),
                starts_at=now - timedelta(minutes=20),
                ends_at=now + timedelta(hours=1),
                reason="đã biết",
            ),
            STAFF,
        )
    await send([(30, 4.0)], now)  # inside the maintenance window: nothing
    assert await _alarms(runtime) == []
    await send([(29, 2.0), (10, 4.0)], now)
    [silenced] = await _alarms(runtime)
    assert silenced.suppressed


async def test_flapping_alarm_is_suppressed(runtime: Runtime, stream_id: int, make_rule: MakeRule, send: Send) -> None:
    """After several raise/clear cycles in the window, a new alarm is held from notification."""
    await make_rule(kind="threshold", scope_kind="datastream", scope_ref=str(stream_id), operator=">", threshold=3)
    now = utc_now()
    await send([(m, 4.0 if m % 2 else 2.0) for m in range(20, 10, -1)], now)
    alarms = await _alarms(runtime)
    assert len(alarms) == 5
    assert alarms[-1].suppressed
    assert not alarms[0].suppressed


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        (
            {"scope_kind": "datastream", "scope_ref": "999999", "operator": ">", "threshold": 1},
            "scope_ref",
            "Unknown datastream",
        ),
        (
            {"scope_kind": "unit", "scope_ref": "00000", "parameter": "water_level", "operator": ">", "threshold": 1},
            "scope_ref",
            "Unknown administrative unit",
        ),
        (
            {"scope_kind": "device", "scope_ref": STATION, "operator": ">", "threshold": 3, "clear_threshold": 3.5},
            "clear_threshold",
            "must not be above",
        ),
        (
            {"scope_kind": "device", "scope_ref": STATION, "operator": ">", "threshold": 3, "expression": "value >"},
            "expression",
            "does not parse",
        ),
        ({"scope_kind": "device", "scope_ref": STATION, "threshold": 3}, "operator", "Choose a comparison"),
        ({"scope_kind": "province", "operator": ">", "threshold": 3}, "parameter", "must name the datastream key"),
    ],
)
async def test_bad_rules_are_refused_with_precise_messages(
    runtime: Runtime, fields: dict[str, object], field: str, words: str
) -> None:
    """Unknown streams or units, contradictory thresholds and broken expressions are refused on save."""
    async with runtime.db.transaction() as session:
        with pytest.raises(InvalidRule) as caught:
            await rulebook.create_rule(
                session, RuleWrite.model_validate({"name": "x rule", "kind": "threshold", **fields}), STAFF
            )
    assert caught.value.detail["field"] == field
    assert words in caught.value.message_en
    assert caught.value.message_vi


async def test_rule_test_replays_last_24_hours(runtime: Runtime, stream_id: int, send: Send) -> None:
    """ "It would have fired 3 times": the replay counts firings without creating alarms."""
    now = utc_now()
    values = [2.0, 3.5, 2.0, 3.6, 3.7, 2.5, 4.0, 2.0]
    await send([(600 - i * 60, v) for i, v in enumerate(values)], now)
    data = RuleWrite(
        name="thử", kind="threshold", scope_kind="datastream", scope_ref=str(stream_id), operator=">", threshold=3.0
    )
    async with runtime.db.session() as session:
        result = await rulebook.replay_rule(session, data, now)
    assert (result.fired, result.cleared, result.evaluated_points) == (3, 3, 8)
    assert "3 times" in result.message_en
    assert await _alarms(runtime) == []
