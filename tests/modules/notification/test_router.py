"""The notification API and the delivery log page, as administrators and others see them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.modules import notification
from ioc.modules.notification import ChannelKind

ADMIN_ENDPOINTS = [
    ("GET", "/api/v1/notifications/deliveries", None),
    ("GET", "/api/v1/notifications/deliveries/1", None),
    ("POST", "/api/v1/notifications/deliveries/1/retry", None),
    ("GET", "/api/v1/notifications/templates", None),
    ("GET", "/api/v1/notifications/templates/alert/any/vi", None),
    ("PUT", "/api/v1/notifications/templates/alert/any/vi", {"subject": "x", "body": "y"}),
    ("POST", "/api/v1/notifications/test", {"channel": "email", "recipient": "a@tayninh.example"}),
]
ALERT = {"title": "Cháy rừng", "severity": "Cao", "message": "Núi Bà Đen"}


async def queue(runtime: Runtime, **kwargs: Any) -> int:
    async with runtime.db.transaction() as session:
        delivery_id = await notification.send(session, runtime, **kwargs)
    return delivery_id


class TestPermissions:
    @pytest.mark.parametrize(("method", "path", "body"), ADMIN_ENDPOINTS)
    async def test_anonymous_callers_must_log_in(
        self, client: httpx.AsyncClient, method: str, path: str, body: dict[str, str] | None
    ) -> None:
        response = await client.request(method, path, json=body)

        assert response.status_code == 401

    @pytest.mark.parametrize(("method", "path", "body"), ADMIN_ENDPOINTS)
    async def test_agency_staff_are_refused(
        self, login_as: Any, method: str, path: str, body: dict[str, str] | None
    ) -> None:
        staff = await login_as(Role.AGENCY_STAFF)

        response = await staff.request(method, path, json=body)

        assert response.status_code == 403
        assert "notification:admin" in response.json()["message"]

    async def test_log_page_sends_anonymous_browsers_to_login(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/admin/notifications?status=dead")

        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=/admin/notifications")

    async def test_log_page_refuses_agency_staff(self, login_as: Any) -> None:
        staff = await login_as(Role.AGENCY_STAFF)

        response = await staff.get("/admin/notifications")

        assert response.status_code == 403
        assert "Không có quyền truy cập" in response.text

    async def test_granted_non_admins_see_masked_recipients(self, runtime: Runtime, login_as: Any) -> None:
        await queue(
            runtime, channel=ChannelKind.EMAIL, recipient="nguyen.van.a@tayninh.example", template="alert", params=ALERT
        )
        await queue(runtime, channel=ChannelKind.SMS, recipient="0912345678", template="alert", params=ALERT)
        leader = await login_as(Role.LEADER, extra_scopes=["notification:admin"])

        items = (await leader.get("/api/v1/notifications/deliveries")).json()["items"]

        assert sorted(item["recipient"] for item in items) == ["+8491*****78", "ng***@tayninh.example"]


class TestDeliveryLog:
    async def test_admin_sends_a_test_email_and_finds_it_delivered(
        self, runtime: Runtime, login_as: Any, smtp_sink: Any
    ) -> None:
        admin = await login_as(Role.ADMIN, display_name="Lê Thị Hồng")

        response = await admin.post(
            "/api/v1/notifications/test", json={"channel": "email", "recipient": "kiem.tra@tayninh.example"}
        )
        assert response.status_code == 202, response.text
        queued = response.json()
        assert queued["status"] == "pending"
        await runtime.drain()

        listed = (await admin.get("/api/v1/notifications/deliveries")).json()
        assert listed["total"] == 1
        [item] = listed["items"]
        assert item["id"] == queued["id"]
        assert item["status"] == "delivered"
        assert item["recipient"] == "kiem.tra@tayninh.example"
        assert item["template_key"] == "notification.test"
        [mail] = smtp_sink.messages
        assert mail["Subject"] == "[IOC] Tin nhắn thử nghiệm"
        assert "do Lê Thị Hồng gửi lúc" in mail.get_content()

    async def test_test_message_in_english(self, runtime: Runtime, login_as: Any, smtp_sink: Any) -> None:
        admin = await login_as(Role.ADMIN)

        response = await admin.post(
            "/api/v1/notifications/test",
            json={"channel": "email", "recipient": "duty@tayninh.example", "lang": "en"},
        )
        await runtime.drain()

        assert response.status_code == 202
        assert smtp_sink.messages[0]["Subject"] == "[IOC] Test message"

    async def test_test_message_to_an_invalid_number_is_refused(self, login_as: Any) -> None:
        admin = await login_as(Role.ADMIN)

        response = await admin.post("/api/v1/notifications/test", json={"channel": "sms", "recipient": "12345"})

        assert response.status_code == 422
        assert response.json()["error"] == "invalid_recipient"
        assert (await admin.get("/api/v1/notifications/deliveries")).json()["total"] == 0

    async def test_filters_by_status_channel_and_correlation(
        self, runtime: Runtime, login_as: Any, http_receiver: Any
    ) -> None:
        http_receiver.answer(404)
        await queue(
            runtime,
            channel=ChannelKind.WEBHOOK,
            recipient=http_receiver.url("/a"),
            template="alert",
            params=ALERT,
            correlation="alarm:1",
        )
        await runtime.drain()
        await queue(
            runtime,
            channel=ChannelKind.SMS,
            recipient="0912345678",
            template="alert",
            params=ALERT,
            correlation="alarm:2",
        )
        await queue(
            runtime,
            channel=ChannelKind.EMAIL,
            recipient="a@tayninh.example",
            template="alert",
            params=ALERT,
            correlation="alarm:2",
        )
        admin = await login_as(Role.ADMIN)

        async def ids(query: str) -> list[str]:
            body = (await admin.get(f"/api/v1/notifications/deliveries?{query}")).json()
            return [f"{item['channel']}:{item['status']}" for item in body["items"]]

        assert await ids("status=dead") == ["webhook:dead"]
        assert await ids("channel=sms") == ["sms:pending"]
        assert await ids("correlation=alarm:2") == ["email:pending", "sms:pending"]
        assert await ids("correlation=alarm:2&limit=1&offset=1") == ["sms:pending"]
        assert (await admin.get("/api/v1/notifications/deliveries?status=lost")).status_code == 422

    async def test_one_delivery_and_a_missing_one(self, runtime: Runtime, login_as: Any) -> None:
        delivery_id = await queue(
            runtime, channel=ChannelKind.EMAIL, recipient="a@tayninh.example", template="alert", params=ALERT
        )
        admin = await login_as(Role.ADMIN)

        found = await admin.get(f"/api/v1/notifications/deliveries/{delivery_id}")
        missing = await admin.get("/api/v1/notifications/deliveries/999999")

        assert found.status_code == 200
        assert found.json()["body"].startswith("Cảnh báo: Cháy rừng")
        assert "webhook_secret" not in found.json()
        assert missing.status_code == 404

    async def test_retry_brings_a_dead_delivery_back_and_refuses_a_delivered_one(
        self, runtime: Runtime, login_as: Any, http_receiver: Any
    ) -> None:
        http_receiver.answer(400, 200)
        delivery_id = await queue(
            runtime, channel=ChannelKind.WEBHOOK, recipient=http_receiver.url("/h"), template="alert", params=ALERT
        )
        await runtime.drain()
        admin = await login_as(Role.ADMIN)

        retried = await admin.post(f"/api/v1/notifications/deliveries/{delivery_id}/retry")
        assert retried.status_code == 202
        assert retried.json()["status"] == "pending"
        await runtime.drain()
        again = await admin.post(f"/api/v1/notifications/deliveries/{delivery_id}/retry")

        assert (await admin.get(f"/api/v1/notifications/deliveries/{delivery_id}")).json()["status"] == "delivered"
        assert again.status_code == 409
        assert len(http_receiver.requests) == 2


class TestTemplates:
    async def test_lists_the_shipped_templates(self, login_as: Any) -> None:
        admin = await login_as(Role.ADMIN)

        body = (await admin.get("/api/v1/notifications/templates?key=alert")).json()

        assert {(t["channel"], t["lang"]) for t in body} == {("any", "vi"), ("any", "en")}

    async def test_put_creates_then_replaces_a_template(self, runtime: Runtime, login_as: Any) -> None:
        admin = await login_as(Role.ADMIN)
        url = "/api/v1/notifications/templates/canh.bao.mua/sms/vi"

        created = await admin.put(url, json={"body": "Mưa lớn tại {{ xa }}", "sms_ascii": True})
        replaced = await admin.put(url, json={"body": "Mưa rất lớn tại {{ xa }}", "sms_ascii": True})
        delivery_id = await queue(
            runtime,
            channel=ChannelKind.SMS,
            recipient="0912345678",
            template="canh.bao.mua",
            params={"xa": "Hoà Thành"},
        )

        assert created.status_code == 200
        assert replaced.json()["id"] == created.json()["id"]
        assert (await admin.get(url)).json()["body"] == "Mưa rất lớn tại {{ xa }}"
        sent = (await admin.get(f"/api/v1/notifications/deliveries/{delivery_id}")).json()
        assert sent["body"] == "Mua rat lon tai Hoa Thanh"

    @pytest.mark.parametrize(
        ("path", "body", "reason"),
        [
            ("alert/any/vi", {"body": "{{ x.__class__.__mro__ }}"}, "nội bộ"),
            ("alert/any/vi", {"body": "{{ x|attr('__globals__') }}"}, "nội bộ"),
            ("alert/any/vi", {"body": "{% if %}"}, "cú pháp"),
            ("alert/fax/vi", {"body": "x"}, "Kênh"),
            ("alert/any/fr", {"body": "x"}, "Ngôn ngữ"),
            ("Khoa Sai/any/vi", {"body": "x"}, "Khoá"),
        ],
    )
    async def test_unsafe_or_malformed_templates_are_refused(
        self, login_as: Any, path: str, body: dict[str, str], reason: str
    ) -> None:
        admin = await login_as(Role.ADMIN)

        response = await admin.put(f"/api/v1/notifications/templates/{path}", json=body)

        assert response.status_code == 422
        assert reason in response.json()["message"]

    async def test_missing_template_variant_is_404(self, login_as: Any) -> None:
        admin = await login_as(Role.ADMIN)

        response = await admin.get("/api/v1/notifications/templates/alert/sms/en")

        assert response.status_code == 404


class TestLogPage:
    async def test_admin_sees_the_log_with_status_badges_in_both_languages(
        self, runtime: Runtime, login_as: Any, smtp_sink: Any
    ) -> None:
        await queue(
            runtime,
            channel=ChannelKind.EMAIL,
            recipient="a@tayninh.example",
            template="alert",
            params=ALERT,
            correlation="alarm:5",
        )
        await runtime.drain()
        await queue(runtime, channel=ChannelKind.SMS, recipient="123", template="alert", params=ALERT)
        admin = await login_as(Role.ADMIN)

        vietnamese = await admin.get("/admin/notifications")
        english = await admin.get("/admin/notifications?lang=en")

        assert vietnamese.status_code == 200
        assert "Nhật ký gửi thông báo" in vietnamese.text
        assert '<span class="badge badge-success" data-status="delivered">Đã gửi</span>' in vietnamese.text
        assert '<span class="badge badge-danger" data-status="dead">Thất bại</span>' in vietnamese.text
        assert "alarm:5" in vietnamese.text
        assert "Notification delivery log" in english.text
        assert '<span class="badge badge-success" data-status="delivered">Delivered</span>' in english.text

    async def test_filters_on_the_page_and_tolerates_odd_values(self, runtime: Runtime, login_as: Any) -> None:
        await queue(runtime, channel=ChannelKind.SMS, recipient="123", template="alert", params=ALERT)
        await queue(runtime, channel=ChannelKind.EMAIL, recipient="b@tayninh.example", template="alert", params=ALERT)
        admin = await login_as(Role.ADMIN)

        dead_only = await admin.get("/admin/notifications?status=dead")
        odd = await admin.get("/admin/notifications?status=lost&offset=abc")

        assert 'data-status="dead"' in dead_only.text
        assert 'data-status="pending"' not in dead_only.text
        assert odd.status_code == 200
        assert 'data-status="pending"' in odd.text

    async def test_retry_button_retries_and_returns_to_the_log(
        self, runtime: Runtime, login_as: Any, http_receiver: Any
    ) -> None:
        http_receiver.answer(400)
        delivery_id = await queue(
            runtime, channel=ChannelKind.WEBHOOK, recipient=http_receiver.url("/h"), template="alert", params=ALERT
        )
        await runtime.drain()
        admin = await login_as(Role.ADMIN)
        token = admin.headers.pop("X-CSRF-Token")

        page = await admin.get("/admin/notifications")
        assert f'action="/admin/notifications/{delivery_id}/retry"' in page.text
        response = await admin.post(f"/admin/notifications/{delivery_id}/retry", data={"csrf_token": token})

        assert response.status_code == 303
        assert response.headers["location"] == "/admin/notifications"
        await runtime.drain()
        assert (await admin.get(f"/api/v1/notifications/deliveries/{delivery_id}")).json()["status"] == "delivered"
