"""HTTP API and pages: permissions, precise 422s, operator actions, the console and the live stream."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from tests.conftest import LoginFactory, UserFactory

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


async def test_rule_made_in_the_editor_trips_is_assigned_acknowledged_and_cleared_from_the_pages(
    login_as: LoginFactory,
    make_user: UserFactory,
    threshold_rule: dict[str, object],
    send: Send,
) -> None:
    """The "done when" path of an operator: a rule saved from the editor fires; the pages assign, ack and clear."""
    head = await login_as(Role.AGENCY_HEAD)
    token = head.headers["X-CSRF-Token"]
    form = {k: str(v) for k, v in threshold_rule.items() if k != "enabled"}
    saved = await head.post("/alarm-rules/save", data={**form, "enabled": "on", "action": "save", "csrf_token": token})
    assert saved.status_code == 303
    [rule] = (await head.get("/api/v1/alarm-rules")).json()
    assert (rule["enabled"], rule["params"]["clear_threshold"]) == (True, 2.8)
    await send([(2, 3.4)])
    [raised] = (await head.get("/api/v1/alarms")).json()
    assert (raised["rule_id"], raised["severity"], raised["status"]) == (rule["id"], "critical", "active")
    alarm_id = raised["alarm_id"]
    # The user picker looks colleagues up by name; it answers id, name and agency only.
    engineer = await make_user(Role.AGENCY_STAFF, display_name="Kỹ sư Trần Thị Hoa", email="hoa@tayninh.gov.vn")
    found = (await head.get("/api/v1/staff", params={"q": "trần thị"})).json()
    assert found == [{"id": engineer["id"], "display_name": "Kỹ sư Trần Thị Hoa", "agency_id": None}]
    detail = await head.get(f"/alarms/{alarm_id}")
    assert "data-user-picker" in detail.text
    for action, fields in (
        ("assign", {"assignee_id": str(engineer["id"])}),
        ("acknowledge", {"note": "Đã cử người"}),
        ("clear", {"note": "Nước đã rút"}),
    ):
        done = await head.post(f"/alarms/{alarm_id}/{action}", data={**fields, "csrf_token": token})
        assert done.status_code == 303, (action, done.text)
    after = (await head.get(f"/api/v1/alarms/{alarm_id}")).json()
    assert (after["status"], after["assignee_id"], after["assignee_name"]) == (
        "cleared",
        engineer["id"],
        "Kỹ sư Trần Thị Hoa",
    )
    assert [h["action"] for h in after["history"]] == ["raised", "assigned", "acknowledged", "cleared"]
    assert "Kỹ sư Trần Thị Hoa" in (await head.get(f"/alarms/{alarm_id}")).text
    # The duty leader opens an incident from the alarm's page.
    leader = await login_as(Role.LEADER)
    page = await leader.get(f"/alarms/{alarm_id}")
    assert f'href="/incidents/new?alarm={alarm_id}"' in page.text
    assert f'value="{alarm_id}"' in (await leader.get(f"/incidents/new?alarm={alarm_id}")).text
    opened = await leader.post(
        "/incidents/new",
        data={"source": "alarm", "alarm_id": str(alarm_id), "incident_type": "flooding"},
    )
    assert opened.status_code == 303, opened.text
    incident = (await leader.get(f"/api/v1{opened.headers['location']}")).json()
    assert [(link["kind"], link["ref_id"]) for link in incident["links"]] == [("alarm", alarm_id)]
    assert incident["severity"] == "critical"


async def test_silence_maintenance_and_routing_pages(login_as: LoginFactory, threshold_rule: dict[str, object]) -> None:
    """Windows are created with a scope and a time range, listed and ended early; policies are written in a form."""
    head = await login_as(Role.AGENCY_HEAD)
    token = head.headers["X-CSRF-Token"]
    rule_id = (await head.post("/api/v1/alarm-rules", json=threshold_rule)).json()["id"]
    page = await head.get("/alarm-silences")
    assert page.status_code == 200
    assert "Tạm tắt và bảo trì" in page.text
    window = {"kind": "maintenance", "rule_id": str(rule_id), "reason": "Thay cảm biến", "csrf_token": token}
    backwards = await head.post(
        "/alarm-silences?lang=en", data={**window, "starts_at": "2030-01-02T10:00", "ends_at": "2030-01-02T08:00"}
    )
    assert backwards.status_code == 422
    assert "must end after it starts" in backwards.text
    created = await head.post(
        "/alarm-silences", data={**window, "starts_at": "2026-01-02T08:00", "ends_at": "2099-01-02T10:00"}
    )
    assert created.status_code == 303
    [stored] = (await head.get("/api/v1/alarm-silences")).json()
    assert (stored["kind"], stored["rule_id"], stored["reason"]) == ("maintenance", rule_id, "Thay cảm biến")
    assert stored["starts_at"].startswith("2026-01-02T01:00")  # 08:00 in Tây Ninh is 01:00 UTC
    listed = await head.get("/alarm-silences?lang=en")
    assert "Thay cảm biến" in listed.text
    assert "End now" in listed.text
    ended = await head.post(f"/alarm-silences/{stored['id']}/end", data={"csrf_token": token})
    assert ended.status_code == 303
    assert (await head.get("/api/v1/alarm-silences")).json() == []

    policies = await head.get("/alarm-policies")
    assert policies.status_code == 200
    policy = {
        "name": "Trực ban tỉnh",
        "min_severity": "major",
        "targets": "email: trucban@tayninh.gov.vn\n0912345678",
        "repeat_minutes": "30",
        "escalate_after_minutes": "15",
        "escalation_targets": "lanhdao@tayninh.gov.vn",
        "enabled": "on",
        "csrf_token": token,
    }
    bad = await head.post("/alarm-policies/save?lang=en", data={**policy, "targets": "email: not-an-address"})
    assert bad.status_code == 422
    assert "Invalid recipient" in bad.text
    unknown = await head.post("/alarm-policies/save?lang=en", data={**policy, "agency_code": "KHONG-CO"})
    assert unknown.status_code == 422
    assert "No agency KHONG-CO" in unknown.text
    assert (await head.post("/alarm-policies/save", data=policy)).status_code == 303
    [saved] = (await head.get("/api/v1/alarm-policies")).json()
    assert saved["targets"] == [
        {"channel": "email", "recipient": "trucban@tayninh.gov.vn"},
        {"channel": "sms", "recipient": "0912345678"},
    ]
    assert (saved["repeat_minutes"], saved["escalate_after_minutes"]) == (30, 15)
    assert saved["escalation_targets"] == [{"channel": "email", "recipient": "lanhdao@tayninh.gov.vn"}]
    edit = await head.get(f"/alarm-policies/{saved['id']}?lang=en")
    assert "Edit the policy" in edit.text
    changed = await head.put(
        f"/api/v1/alarm-policies/{saved['id']}",
        json={**{k: saved[k] for k in ("name", "targets", "escalation_targets")}, "min_severity": "critical"},
    )
    assert changed.json()["min_severity"] == "critical"
    assert (await head.post(f"/alarm-policies/{saved['id']}/delete", data={"csrf_token": token})).status_code == 303
    assert (await head.get("/api/v1/alarm-policies")).json() == []
    staff = await login_as(Role.AGENCY_STAFF)
    assert (await staff.get("/alarm-policies")).status_code == 403
    assert (await staff.get("/alarm-silences")).status_code == 200
