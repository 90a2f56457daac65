"""HTTP API and pages: permissions, precise 422s, operator actions, the console and the live stream."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from tests.conftest import LoginFactory

from ioc.core.runtime import Runtime
from ioc.core.security import Role

from .conftest import Send


@pytest.fixture
def threshold_rule(stream_id: int) -> dict[str, object]:
    """A valid rule body."""
    return {
        "name": "Mực nước vượt báo động 3",
        "kind": "threshold",
        "severity": "critical",
        "scope_kind": "datastream",
        "scope_ref": str(stream_id),
        "operator": ">",
        "threshold": 3.0,
        "clear_threshold": 2.8,
        "enabled": True,
    }


async def test_rules_api_permissions_and_validation(login_as: LoginFactory, threshold_rule: dict[str, object]) -> None:
    """Only rule writers may save; bad rules answer 422 with the field; good ones 201."""
    staff = await login_as(Role.AGENCY_STAFF)
    assert (await staff.post("/api/v1/alarm-rules", json=threshold_rule)).status_code == 403
    assert (await staff.get("/api/v1/alarm-rules")).status_code == 200
    head = await login_as(Role.AGENCY_HEAD)
    bad = await head.post("/api/v1/alarm-rules", json={**threshold_rule, "clear_threshold": 3.5})
    assert bad.status_code == 422
    assert bad.json()["detail"]["field"] == "clear_threshold"
    unknown = await head.post("/api/v1/alarm-rules?lang=en", json={**threshold_rule, "scope_ref": "424242"})
    assert unknown.status_code == 422
    assert "Unknown datastream 424242" in unknown.json()["message"]
    created = await head.post("/api/v1/alarm-rules", json=threshold_rule)
    assert created.status_code == 201, created.text
    rule_id = created.json()["id"]
    tested = await head.post("/api/v1/alarm-rules/test", json=threshold_rule)
    assert tested.json()["fired"] == 0
    window = {"rule_id": rule_id, "starts_at": "2026-01-02T00:00:00Z", "ends_at": "2026-01-01T00:00:00Z"}
    refused = await head.post("/api/v1/alarm-silences?lang=en", json=window)
    assert refused.status_code == 422
    assert "must end after it starts" in refused.json()["message"]
    assert (await head.delete(f"/api/v1/alarm-rules/{rule_id}")).status_code == 204
    assert (await head.get(f"/api/v1/alarm-rules/{rule_id}")).status_code == 404


async def test_operator_actions_over_http_and_live_stream(
    runtime: Runtime, login_as: LoginFactory, threshold_rule: dict[str, object], send: Send
) -> None:
    """An alarm reaches the staff live stream (not the public one); operators acknowledge, comment and clear."""
    head = await login_as(Role.AGENCY_HEAD)
    assert (await head.post("/api/v1/alarm-rules", json=threshold_rule)).status_code == 201
    staff_frames = runtime.live.stream(last_event_id=None, public_only=False, names={"alarm"})
    public_frames = runtime.live.stream(last_event_id=None, public_only=True)
    assert await anext(staff_frames) == "retry: 2000\n\n"
    assert await anext(public_frames) == "retry: 2000\n\n"
    staff_next = asyncio.ensure_future(anext(staff_frames))
    public_next = asyncio.ensure_future(anext(public_frames))
    await asyncio.sleep(0)
    await runtime.live.poll()
    await send([(1, 3.5)])
    await runtime.live.poll()
    frame = await asyncio.wait_for(staff_next, timeout=2)
    assert "event: alarm.raised" in frame
    assert '"severity": "critical"' in frame
    await asyncio.sleep(0.05)
    assert not public_next.done()  # alarm events are for staff only
    public_next.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await public_next
    await staff_frames.aclose()
    await public_frames.aclose()

    [row] = (await head.get("/api/v1/alarms")).json()
    alarm_id = row["alarm_id"]
    assert row["severity"] == "critical"
    viewer = await login_as(Role.LEADER)
    assert (await viewer.post(f"/api/v1/alarms/{alarm_id}/acknowledge", json={})).status_code == 403
    operator = await login_as(Role.AGENCY_STAFF)
    acked = await operator.post(f"/api/v1/alarms/{alarm_id}/acknowledge", json={"note": "đã nhận"})
    assert acked.json()["status"] == "acknowledged"
    again = await operator.post(f"/api/v1/alarms/{alarm_id}/acknowledge", json={})
    assert again.status_code == 409
    assert (await operator.post(f"/api/v1/alarms/{alarm_id}/comments", json={"text": ""})).status_code == 422
    assert (await operator.post(f"/api/v1/alarms/{alarm_id}/comments", json={"text": "Đã báo UBND xã"})).is_success
    assert (await operator.post(f"/api/v1/alarms/{alarm_id}/clear", json={})).json()["status"] == "cleared"
    kpis = (await viewer.get("/api/v1/alarms/kpis")).json()
    assert kpis["open_total"] == 0
    detail = (await viewer.get(f"/api/v1/alarms/{alarm_id}")).json()
    assert [h["action"] for h in detail["history"]][-3:] == ["acknowledged", "commented", "cleared"]
    assert (await viewer.get("/api/v1/alarms/999999")).status_code == 404


async def test_pages_console_detail_and_rule_editor(
    login_as: LoginFactory, threshold_rule: dict[str, object], send: Send
) -> None:
    """The console lists the alarm, the detail page acts on it, the editor shows errors and the test result."""
    head = await login_as(Role.AGENCY_HEAD)
    assert (await head.post("/api/v1/alarm-rules", json=threshold_rule)).status_code == 201
    await send([(1, 3.5)])
    console = await head.get("/alarms")
    assert console.status_code == 200
    assert "Mực nước vượt báo động 3" in console.text
    assert "/static/alarm/console.js" in console.text
    alarm_id = (await head.get("/api/v1/alarms")).json()[0]["alarm_id"]
    token = head.headers["X-CSRF-Token"]
    done = await head.post(f"/alarms/{alarm_id}/acknowledge", data={"csrf_token": token, "back": "/alarms"})
    assert done.status_code == 303
    silenced = await head.post(
        f"/alarms/{alarm_id}/silence", data={"csrf_token": token, "hours": "4", "note": "bảo trì"}
    )
    assert silenced.status_code == 303
    assert (await head.get(f"/api/v1/alarms/{alarm_id}")).json()["suppressed"] is True
    assert len((await head.get("/api/v1/alarm-silences")).json()) == 1
    detail = await head.get(f"/alarms/{alarm_id}?lang=en")
    assert "Acknowledged" in detail.text
    assert "Silenced" in detail.text
    form = {k: str(v) for k, v in threshold_rule.items() if k != "enabled"}
    refused = await head.post(
        "/alarm-rules/save?lang=en", data={**form, "expression": "value >>", "action": "save", "csrf_token": token}
    )
    assert refused.status_code == 422
    assert "does not parse" in refused.text
    tested = await head.post("/alarm-rules/save?lang=en", data={**form, "action": "test", "csrf_token": token})
    assert "it would have fired 1 times" in tested.text
    assert (await head.get("/alarm-rules")).status_code == 200
    citizen = await login_as(Role.CITIZEN)
    assert (await citizen.get("/api/v1/alarms")).status_code == 403
