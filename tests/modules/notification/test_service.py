"""Sending through the facade: the delivery log, the job, retries with backoff, dead letters."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from ioc.core.models import Job, OutboxEvent
from ioc.core.runtime import Runtime
from ioc.core.security import Principal, PrincipalKind, Role, current_actor
from ioc.core.time import utc_now
from ioc.modules import notification
from ioc.modules.notification import ChannelKind, DeliveryStatus
from ioc.modules.notification.constants import DELIVER_JOB, MAX_ATTEMPTS
from ioc.modules.notification.models import NotificationDelivery, NotificationTemplate
from ioc.modules.notification.schemas import TemplateUpdate
from ioc.modules.notification.service import ensure_default_templates, put_template, retry_delay, retry_delivery
from ioc.modules.notification.tasks import seed_default_templates

ALERT = {"title": "Ngập lụt đường 30/4", "severity": "Cao", "message": "Nước sâu 0,4 m, hạn chế lưu thông."}


async def send(runtime: Runtime, **kwargs: Any) -> int:
    async with runtime.db.transaction() as session:
        delivery_id = await notification.send(session, runtime, **kwargs)
    return delivery_id


async def load(runtime: Runtime, delivery_id: int) -> NotificationDelivery:
    async with runtime.db.session() as session:
        row = await session.get(NotificationDelivery, delivery_id)
    assert row is not None
    return row


async def failed_events(runtime: Runtime) -> list[dict[str, Any]]:
    async with runtime.db.session() as session:
        rows = await session.scalars(select(OutboxEvent).where(OutboxEvent.name == "notification.delivery_failed"))
        return [row.payload for row in rows]


async def pending_jobs(runtime: Runtime) -> int:
    async with runtime.db.session() as session:
        count = await session.scalar(
            select(func.count()).select_from(Job).where(Job.name == DELIVER_JOB, Job.status == "pending")
        )
    return int(count or 0)


class TestEmailDelivery:
    async def test_alert_email_leaves_after_commit_and_is_logged(self, runtime: Runtime, smtp_sink: Any) -> None:
        delivery_id = await send(
            runtime,
            channel=ChannelKind.EMAIL,
            recipient="truc.ban@tayninh.example",
            template="alert",
            params=ALERT,
            correlation="alarm:123",
        )
        queued = await load(runtime, delivery_id)
        assert queued.status == DeliveryStatus.PENDING
        assert queued.subject == "[Cảnh báo - Cao] Ngập lụt đường 30/4"
        assert smtp_sink.messages == []

        await runtime.drain()

        row = await load(runtime, delivery_id)
        assert row.status == DeliveryStatus.DELIVERED
        assert row.attempts == 1
        assert row.delivered_at is not None
        assert row.next_attempt_at is None
        assert row.correlation == "alarm:123"
        [mail] = smtp_sink.messages
        assert mail["Subject"] == "[Cảnh báo - Cao] Ngập lụt đường 30/4"
        assert "Nước sâu 0,4 m, hạn chế lưu thông." in mail.get_content()
        assert "Mức độ: Cao" in mail.get_content()

    async def test_nothing_is_sent_when_the_caller_rolls_back(self, runtime: Runtime, smtp_sink: Any) -> None:
        async with runtime.db.session() as session:
            await notification.send(
                session,
                runtime,
                channel=ChannelKind.EMAIL,
                recipient="a@tayninh.example",
                template="alert",
                params=ALERT,
            )
            await session.rollback()

        await runtime.drain()

        assert smtp_sink.messages == []
        assert await pending_jobs(runtime) == 0
        async with runtime.db.session() as session:
            assert await session.scalar(select(func.count()).select_from(NotificationDelivery)) == 0

    async def test_english_template_is_used_when_asked(self, runtime: Runtime, smtp_sink: Any) -> None:
        delivery_id = await send(
            runtime,
            channel=ChannelKind.EMAIL,
            recipient="duty@tayninh.example",
            template="alert",
            params={**ALERT, "title": "Flooding on 30/4 street", "severity": "High"},
            lang="en",
        )
        await runtime.drain()

        row = await load(runtime, delivery_id)
        assert row.lang == "en"
        assert smtp_sink.messages[0]["Subject"] == "[Alert - High] Flooding on 30/4 street"
        assert "Severity: High" in smtp_sink.messages[0].get_content()

    async def test_language_without_a_template_falls_back_to_vietnamese(self, runtime: Runtime) -> None:
        async with runtime.db.transaction() as session:
            await put_template(
                session, "chi.tieng.viet", "any", "vi", TemplateUpdate(subject="Tiêu đề", body="Nội dung")
            )

        delivery_id = await send(
            runtime,
            channel=ChannelKind.EMAIL,
            recipient="a@tayninh.example",
            template="chi.tieng.viet",
            params={},
            lang="en",
        )

        row = await load(runtime, delivery_id)
        assert (row.lang, row.subject, row.body) == ("vi", "Tiêu đề", "Nội dung")

    async def test_requester_is_recorded(self, runtime: Runtime) -> None:
        actor = Principal(kind=PrincipalKind.USER, id=7, name="dieu_phoi_vien", role=Role.HOTLINE_OPERATOR)
        token = current_actor.set(actor)
        try:
            delivery_id = await send(
                runtime, channel=ChannelKind.EMAIL, recipient="a@tayninh.example", template="alert", params=ALERT
            )
        finally:
            current_actor.reset(token)

        assert (await load(runtime, delivery_id)).requested_by == "dieu_phoi_vien"


class TestRetries:
    async def test_webhook_answering_500_then_200_is_retried_with_backoff(
        self, runtime: Runtime, http_receiver: Any, make_jobs_due: Any
    ) -> None:
        http_receiver.answer(500, 200)
        delivery_id = await send(
            runtime,
            channel=ChannelKind.WEBHOOK,
            recipient=http_receiver.url("/hooks/alarm"),
            template="alert",
            params=ALERT,
            correlation="alarm:9",
            secret="bi-mat-dang-ky-canh-bao",
        )

        before = utc_now()
        await runtime.drain()

        row = await load(runtime, delivery_id)
        assert row.status == DeliveryStatus.FAILED
        assert row.attempts == 1
        assert row.last_error is not None
        assert "HTTP 500" in row.last_error
        assert row.next_attempt_at is not None
        assert before + retry_delay(1) <= row.next_attempt_at <= utc_now() + retry_delay(1)
        # The retry waits for its time: draining again sends nothing.
        await runtime.drain()
        assert len(http_receiver.requests) == 1

        assert await make_jobs_due() == 1
        await runtime.drain()

        row = await load(runtime, delivery_id)
        assert row.status == DeliveryStatus.DELIVERED
        assert row.attempts == 2
        assert len(http_receiver.requests) == 2
        assert {r.headers["x-ioc-delivery"] for r in http_receiver.requests} == {str(delivery_id)}
        for request in http_receiver.requests:
            signed = request.headers["x-ioc-timestamp"].encode() + b"." + request.body
            digest = hmac.new(b"bi-mat-dang-ky-canh-bao", signed, hashlib.sha256).hexdigest()
            assert request.headers["x-ioc-signature"] == f"sha256={digest}"
        assert await failed_events(runtime) == []

    async def test_backoff_doubles_then_the_delivery_dies_and_is_announced(
        self, runtime: Runtime, http_receiver: Any, make_jobs_due: Any
    ) -> None:
        http_receiver.answer(*([503] * MAX_ATTEMPTS))
        delivery_id = await send(
            runtime,
            channel=ChannelKind.WEBHOOK,
            recipient=http_receiver.url("/down"),
            template="alert",
            params=ALERT,
            correlation="alarm:77",
        )

        waits: list[timedelta] = []
        for attempt in range(1, MAX_ATTEMPTS + 1):
            started = utc_now()
            await runtime.drain()
            row = await load(runtime, delivery_id)
            assert row.attempts == attempt
            if attempt < MAX_ATTEMPTS:
                assert row.status == DeliveryStatus.FAILED
                assert row.next_attempt_at is not None
                waits.append(row.next_attempt_at - started)
                await make_jobs_due()

        assert [round(w.total_seconds() / 60) for w in waits] == [1, 2, 4, 8, 16]
        row = await load(runtime, delivery_id)
        assert row.status == DeliveryStatus.DEAD
        assert row.next_attempt_at is None
        assert row.last_error is not None
        assert "HTTP 503" in row.last_error
        assert f"{MAX_ATTEMPTS}" in row.last_error
        assert len(http_receiver.requests) == MAX_ATTEMPTS
        assert await pending_jobs(runtime) == 0
        [event] = await failed_events(runtime)
        assert event["delivery_id"] == delivery_id
        assert event["channel"] == "webhook"
        assert event["template"] == "alert"
        assert event["correlation"] == "alarm:77"
        assert event["attempts"] == MAX_ATTEMPTS
        assert "down" not in json.dumps(event)

    async def test_permanent_4xx_goes_dead_without_further_attempts(
        self, runtime: Runtime, http_receiver: Any, make_jobs_due: Any
    ) -> None:
        http_receiver.answer(404)
        delivery_id = await send(
            runtime,
            channel=ChannelKind.WEBHOOK,
            recipient=http_receiver.url("/gone"),
            template="alert",
            params=ALERT,
            correlation="incident:5",
        )

        await runtime.drain()
        await make_jobs_due()
        await runtime.drain()

        row = await load(runtime, delivery_id)
        assert row.status == DeliveryStatus.DEAD
        assert row.attempts == 1
        assert row.last_error is not None
        assert "HTTP 404" in row.last_error
        assert len(http_receiver.requests) == 1
        assert await pending_jobs(runtime) == 0
        [event] = await failed_events(runtime)
        assert event["delivery_id"] == delivery_id

    async def test_administrator_retry_of_a_dead_delivery_makes_one_more_attempt(
        self, runtime: Runtime, http_receiver: Any
    ) -> None:
        http_receiver.answer(400, 200)
        delivery_id = await send(
            runtime, channel=ChannelKind.WEBHOOK, recipient=http_receiver.url("/h"), template="alert", params=ALERT
        )
        await runtime.drain()
        assert (await load(runtime, delivery_id)).status == DeliveryStatus.DEAD

        admin = Principal(kind=PrincipalKind.USER, id=1, name="quan_tri", role=Role.ADMIN)
        async with runtime.db.transaction() as session:
            read = await retry_delivery(session, runtime, delivery_id, admin)
        assert read.status == DeliveryStatus.PENDING
        await runtime.drain()

        row = await load(runtime, delivery_id)
        assert row.status == DeliveryStatus.DELIVERED
        assert row.attempts == 2


class TestSms:
    async def test_sms_goes_to_the_gateway_without_diacritics(self, runtime: Runtime, http_receiver: Any) -> None:
        delivery_id = await send(
            runtime,
            channel=ChannelKind.SMS,
            recipient="0912 345 678",
            template="notification.test",
            params={"sent_by": "Nguyễn Văn Đức", "sent_at": "08:30 01/07/2025"},
        )
        await runtime.drain()

        row = await load(runtime, delivery_id)
        assert row.status == DeliveryStatus.DELIVERED
        assert row.recipient == "+84912345678"
        [request] = http_receiver.requests
        assert request.path == "/sms/send"
        assert request.headers["authorization"] == "Bearer sms-gateway-token-123"
        sent = json.loads(request.body)
        assert sent["to"] == "+84912345678"
        assert (
            sent["text"] == "IOC: tin nhan thu nghiem do Nguyen Van Duc gui luc 08:30 01/07/2025. Kenh SMS hoat dong."
        )
        assert sent["text"].isascii()

    async def test_template_without_the_option_keeps_diacritics(self, runtime: Runtime, http_receiver: Any) -> None:
        delivery_id = await send(
            runtime,
            channel=ChannelKind.SMS,
            recipient="+84 386 123 456",
            template="alert",
            params={"title": "Mưa lớn", "severity": "Cao", "message": "Đề phòng sạt lở."},
        )
        await runtime.drain()

        assert (await load(runtime, delivery_id)).status == DeliveryStatus.DELIVERED
        assert "Đề phòng sạt lở." in json.loads(http_receiver.requests[0].body)["text"]

    async def test_text_over_three_segments_is_refused_with_its_length(
        self, runtime: Runtime, http_receiver: Any
    ) -> None:
        delivery_id = await send(
            runtime,
            channel=ChannelKind.SMS,
            recipient="0912345678",
            template="alert",
            params={**ALERT, "message": "Nội dung rất dài. " * 20},
        )
        await runtime.drain()

        row = await load(runtime, delivery_id)
        assert row.status == DeliveryStatus.DEAD
        assert row.last_error is not None
        assert "SMS" in row.last_error
        assert "3" in row.last_error
        assert http_receiver.requests == []


class TestProblemsFoundBeforeSending:
    async def test_missing_placeholder_is_recorded_on_the_delivery(self, runtime: Runtime, smtp_sink: Any) -> None:
        delivery_id = await send(
            runtime,
            channel=ChannelKind.EMAIL,
            recipient="a@tayninh.example",
            template="alert",
            params={"title": "Cháy rừng", "message": "Khu vực núi Bà Đen"},
            correlation="alarm:31",
        )
        await runtime.drain()

        row = await load(runtime, delivery_id)
        assert row.status == DeliveryStatus.DEAD
        assert row.attempts == 0
        assert row.last_error is not None
        assert "severity" in row.last_error
        assert "Thiếu tham số" in row.last_error
        assert smtp_sink.messages == []
        [event] = await failed_events(runtime)
        assert event["correlation"] == "alarm:31"
        assert "a@tayninh.example" not in json.dumps(event)

    async def test_stored_template_with_attribute_tricks_is_refused_by_the_sandbox(
        self, runtime: Runtime, http_receiver: Any
    ) -> None:
        # Written straight to the table, as if it predated the checks made when saving templates.
        async with runtime.db.transaction() as session:
            session.add(
                NotificationTemplate(
                    key="doc.hai",
                    channel="any",
                    lang="vi",
                    subject="x",
                    body="{{ ''.__class__.__mro__[1].__subclasses__() }}",
                    updated_at=utc_now(),
                )
            )

        delivery_id = await send(
            runtime, channel=ChannelKind.WEBHOOK, recipient=http_receiver.url("/h"), template="doc.hai", params={}
        )
        await runtime.drain()

        row = await load(runtime, delivery_id)
        assert row.status == DeliveryStatus.DEAD
        assert row.last_error is not None
        assert "sandbox" in row.last_error
        assert "subclasses" not in row.body
        assert http_receiver.requests == []

    @pytest.mark.parametrize(
        ("channel", "recipient"),
        [(ChannelKind.SMS, "0276 3822 123"), (ChannelKind.EMAIL, "khong-phai-email"), (ChannelKind.WEBHOOK, "x")],
    )
    async def test_invalid_recipient_is_recorded_dead(
        self, runtime: Runtime, channel: ChannelKind, recipient: str
    ) -> None:
        delivery_id = await send(runtime, channel=channel, recipient=recipient, template="alert", params=ALERT)

        row = await load(runtime, delivery_id)
        assert row.status == DeliveryStatus.DEAD
        assert row.last_error is not None
        assert recipient in row.last_error
        assert await pending_jobs(runtime) == 0

    async def test_unknown_template_is_recorded_dead(self, runtime: Runtime) -> None:
        delivery_id = await send(
            runtime, channel=ChannelKind.EMAIL, recipient="a@tayninh.example", template="khong.ton.tai", params={}
        )

        row = await load(runtime, delivery_id)
        assert row.status == DeliveryStatus.DEAD
        assert row.last_error is not None
        assert "khong.ton.tai" in row.last_error

    async def test_fixing_the_template_and_retrying_renders_again(self, runtime: Runtime, smtp_sink: Any) -> None:
        delivery_id = await send(
            runtime,
            channel=ChannelKind.EMAIL,
            recipient="a@tayninh.example",
            template="bao.cao",
            params={"so_lieu": 12},
        )
        assert (await load(runtime, delivery_id)).status == DeliveryStatus.DEAD

        admin = Principal(kind=PrincipalKind.USER, id=1, name="quan_tri", role=Role.ADMIN)
        async with runtime.db.transaction() as session:
            await put_template(
                session, "bao.cao", "any", "vi", TemplateUpdate(subject="Báo cáo", body="Số liệu: {{ so_lieu }}")
            )
            await retry_delivery(session, runtime, delivery_id, admin)
        await runtime.drain()

        row = await load(runtime, delivery_id)
        assert row.status == DeliveryStatus.DELIVERED
        assert row.body == "Số liệu: 12"
        assert smtp_sink.messages[0].get_content().strip() == "Số liệu: 12"


class TestTemplates:
    async def test_shipped_templates_are_seeded_in_both_languages(self, runtime: Runtime) -> None:
        async with runtime.db.session() as session:
            rows = (await session.execute(select(NotificationTemplate.key, NotificationTemplate.lang))).all()

        assert {("notification.test", "vi"), ("notification.test", "en"), ("alert", "vi"), ("alert", "en")} <= set(rows)

    async def test_seeding_again_adds_nothing_and_keeps_edits(self, runtime: Runtime) -> None:
        async with runtime.db.transaction() as session:
            await put_template(session, "alert", "any", "vi", TemplateUpdate(subject="Đã sửa", body="{{ title }}"))

        await seed_default_templates(runtime)
        async with runtime.db.transaction() as session:
            assert await ensure_default_templates(session) == 0
            rows = (
                await session.scalars(select(NotificationTemplate).where(NotificationTemplate.key == "alert"))
            ).all()

        assert len(rows) == 2
        assert next(r for r in rows if r.lang == "vi").subject == "Đã sửa"

    async def test_channel_specific_template_wins_over_any(self, runtime: Runtime, smtp_sink: Any) -> None:
        async with runtime.db.transaction() as session:
            await put_template(
                session, "alert", "email", "vi", TemplateUpdate(subject="Thư: {{ title }}", body="{{ message }}")
            )

        email_id = await send(
            runtime, channel=ChannelKind.EMAIL, recipient="a@tayninh.example", template="alert", params=ALERT
        )
        sms_id = await send(runtime, channel=ChannelKind.SMS, recipient="0912345678", template="alert", params=ALERT)

        assert (await load(runtime, email_id)).subject == "Thư: Ngập lụt đường 30/4"
        assert (await load(runtime, sms_id)).subject == "[Cảnh báo - Cao] Ngập lụt đường 30/4"
