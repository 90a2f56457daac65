"""The channels against real local peers: an SMTP server and an HTTP receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from ioc.modules.notification import ChannelKind, InvalidRecipient, Outcome, OutgoingMessage, verify_signature
from ioc.modules.notification.channels import (
    EmailChannel,
    SmsChannel,
    WebhookChannel,
    classify_http_status,
    derive_webhook_key,
    normalize_email,
    normalize_phone,
    normalize_url,
    sms_segments,
    strip_diacritics,
)
from ioc.modules.notification.channels.sms import check_sms_length
from ioc.modules.notification.exceptions import MessageTooLong

SUBJECT_VI = "Cảnh báo ngập lụt tại Tây Ninh – mức độ 2"
BODY_VI = "Mực nước sông Vàm Cỏ Đông vượt báo động 2.\nĐề nghị người dân ở xã Phước Vinh chủ động sơ tán."


def message(channel: ChannelKind, recipient: str, **overrides: Any) -> OutgoingMessage:
    fields: dict[str, Any] = {
        "delivery_id": 42,
        "channel": channel,
        "recipient": recipient,
        "subject": SUBJECT_VI,
        "body": BODY_VI,
        "lang": "vi",
        "template_key": "alert",
        "correlation": "alarm:123",
    }
    fields.update(overrides)
    return OutgoingMessage(**fields)


class TestEmail:
    def channel(self, port: int) -> EmailChannel:
        return EmailChannel("127.0.0.1", port, "Trung tâm IOC <ioc@tayninh.example>", timeout=5)

    async def test_vietnamese_subject_and_body_arrive_intact(self, smtp_sink: Any) -> None:
        result = await self.channel(smtp_sink.port).send(message(ChannelKind.EMAIL, "dan.cu@tayninh.example"))

        assert result.outcome is Outcome.DELIVERED
        [mail] = smtp_sink.messages
        assert mail["Subject"] == SUBJECT_VI
        # Text travels with canonical CRLF line breaks (RFC 2046); mail clients show plain lines.
        assert mail.get_content().replace("\r\n", "\n").rstrip("\n") == BODY_VI
        assert mail.get_content_charset() == "utf-8"
        assert mail["From"].addresses[0].display_name == "Trung tâm IOC"
        assert mail["X-IOC-Delivery"] == "42"
        assert smtp_sink.envelopes == [("ioc@tayninh.example", ["dan.cu@tayninh.example"])]
        # On the wire the headers are 7-bit: the subject travels RFC 2047 encoded.
        headers = smtp_sink.raw[0].split(b"\r\n\r\n", 1)[0]
        assert headers.isascii()
        assert b"=?utf-8?" in headers.lower()

    async def test_refused_mailbox_is_permanent(self, smtp_sink: Any) -> None:
        result = await self.channel(smtp_sink.port).send(message(ChannelKind.EMAIL, "ai.do@refused.example"))

        assert result.outcome is Outcome.PERMANENT
        assert "550" in result.detail
        assert smtp_sink.messages == []

    async def test_temporary_refusal_is_retried(self, smtp_sink: Any) -> None:
        result = await self.channel(smtp_sink.port).send(message(ChannelKind.EMAIL, "ai.do@deferred.example"))

        assert result.outcome is Outcome.RETRY
        assert "451" in result.detail

    async def test_server_down_is_retried(self, unused_port: int) -> None:
        result = await self.channel(unused_port).send(message(ChannelKind.EMAIL, "dan.cu@tayninh.example"))

        assert result.outcome is Outcome.RETRY

    async def test_missing_configuration_is_permanent(self) -> None:
        result = await EmailChannel("", 25, "ioc@localhost").send(message(ChannelKind.EMAIL, "a@b.example"))

        assert result.outcome is Outcome.PERMANENT
        assert "IOC_SMTP_HOST" in result.detail

    @pytest.mark.parametrize("address", ["khong-co-a-cong", "a@", "@b.vn", "hai từ@b.vn", "a b@c.vn"])
    def test_malformed_addresses_are_refused(self, address: str) -> None:
        with pytest.raises(InvalidRecipient):
            normalize_email(address)

    def test_domain_is_lower_cased(self) -> None:
        assert normalize_email("  Nguyen.Van.A@TayNinh.Gov.VN ") == "Nguyen.Van.A@tayninh.gov.vn"


class TestWebhook:
    async def test_posts_signed_json(self, http_receiver: Any) -> None:
        secret = "bi-mat-cua-dang-ky"
        channel = WebhookChannel(default_secret="installation-key", timeout=5)
        url = http_receiver.url("/hooks/ioc")

        result = await channel.send(message(ChannelKind.WEBHOOK, url, secret=secret))

        assert result.outcome is Outcome.DELIVERED
        [request] = http_receiver.requests
        assert request.path == "/hooks/ioc"
        assert request.headers["content-type"].startswith("application/json")
        assert request.headers["x-ioc-delivery"] == "42"
        document = json.loads(request.body.decode("utf-8"))
        assert document["subject"] == SUBJECT_VI
        assert document["body"] == BODY_VI
        assert document["correlation"] == "alarm:123"
        assert document["delivery_id"] == 42
        # Checked the way a receiver in any language would: HMAC-SHA256 over "<timestamp>.<body>".
        timestamp = request.headers["x-ioc-timestamp"]
        expected = hmac.new(secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-ioc-signature"] == f"sha256={expected}"
        assert verify_signature(secret, timestamp, request.body, request.headers["x-ioc-signature"])
        assert not verify_signature("installation-key", timestamp, request.body, request.headers["x-ioc-signature"])
        assert not verify_signature(secret, timestamp, request.body + b" ", request.headers["x-ioc-signature"])

    async def test_without_subscription_secret_signs_with_the_installation_key(self, http_receiver: Any) -> None:
        key = derive_webhook_key("test-secret-key-0123456789")
        channel = WebhookChannel(default_secret=key, timeout=5)

        await channel.send(message(ChannelKind.WEBHOOK, http_receiver.url("/h")))

        [request] = http_receiver.requests
        assert verify_signature(
            key, request.headers["x-ioc-timestamp"], request.body, request.headers["x-ioc-signature"]
        )
        # The installation's secret itself never signs anything sent out.
        assert key != "test-secret-key-0123456789"

    @pytest.mark.parametrize(
        ("status", "outcome"),
        [
            (200, Outcome.DELIVERED),
            (204, Outcome.DELIVERED),
            (400, Outcome.PERMANENT),
            (404, Outcome.PERMANENT),
            (410, Outcome.PERMANENT),
            (408, Outcome.RETRY),
            (429, Outcome.RETRY),
            (500, Outcome.RETRY),
            (503, Outcome.RETRY),
        ],
    )
    async def test_answer_status_decides_the_outcome(self, http_receiver: Any, status: int, outcome: Outcome) -> None:
        http_receiver.answer(status)
        channel = WebhookChannel(default_secret="k", timeout=5)

        result = await channel.send(message(ChannelKind.WEBHOOK, http_receiver.url("/h")))

        assert result.outcome is outcome
        assert f"HTTP {status}" in result.detail

    async def test_slow_receiver_times_out_and_is_retried(self, http_receiver: Any) -> None:
        from .conftest import PlannedAnswer

        http_receiver.answer(PlannedAnswer(status=200, delay=2.0))
        channel = WebhookChannel(default_secret="k", timeout=0.3)

        result = await channel.send(message(ChannelKind.WEBHOOK, http_receiver.url("/slow")))

        assert result.outcome is Outcome.RETRY
        assert "timeout" in result.detail

    async def test_unreachable_receiver_is_retried(self, unused_port: int) -> None:
        channel = WebhookChannel(default_secret="k", timeout=2)

        result = await channel.send(message(ChannelKind.WEBHOOK, f"http://127.0.0.1:{unused_port}/h"))

        assert result.outcome is Outcome.RETRY

    def test_redirects_are_not_followed(self) -> None:
        assert classify_http_status(302) is Outcome.PERMANENT

    @pytest.mark.parametrize("url", ["ftp://example.vn/x", "/relative/path", "http://", "javascript:alert(1)"])
    def test_only_absolute_http_urls_are_accepted(self, url: str) -> None:
        with pytest.raises(InvalidRecipient):
            normalize_url(url)


class TestSms:
    async def test_gateway_gets_number_text_and_bearer_token(self, http_receiver: Any) -> None:
        channel = SmsChannel(http_receiver.url("/sms/send"), "token-abc", timeout=5)
        text = "Cảnh báo: mưa lớn ở Tây Ninh."

        result = await channel.send(message(ChannelKind.SMS, "+84912345678", body=text))

        assert result.outcome is Outcome.DELIVERED
        [request] = http_receiver.requests
        assert request.path == "/sms/send"
        assert request.headers["authorization"] == "Bearer token-abc"
        assert json.loads(request.body.decode("utf-8")) == {"to": "+84912345678", "text": text}

    async def test_gateway_refusal_is_permanent(self, http_receiver: Any) -> None:
        http_receiver.answer(401)
        channel = SmsChannel(http_receiver.url("/sms/send"), "wrong-token", timeout=5)

        result = await channel.send(message(ChannelKind.SMS, "+84912345678", body="Xin chào"))

        assert result.outcome is Outcome.PERMANENT

    async def test_unconfigured_gateway_is_permanent(self) -> None:
        result = await SmsChannel("", "").send(message(ChannelKind.SMS, "+84912345678", body="Xin chào"))

        assert result.outcome is Outcome.PERMANENT
        assert "IOC_SMS_GATEWAY_URL" in result.detail

    async def test_overlong_text_is_refused_before_reaching_the_gateway(self, http_receiver: Any) -> None:
        channel = SmsChannel(http_receiver.url("/sms/send"), "t", timeout=5)

        result = await channel.send(message(ChannelKind.SMS, "+84912345678", body="Tây Ninh " * 40))

        assert result.outcome is Outcome.PERMANENT
        assert http_receiver.requests == []

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("0912345678", "+84912345678"),
            ("0912 345 678", "+84912345678"),
            ("091.234.5678", "+84912345678"),
            ("+84 912 345 678", "+84912345678"),
            ("+84 0912 345 678", "+84912345678"),
            ("84912345678", "+84912345678"),
            ("0084912345678", "+84912345678"),
            ("0386-123-456", "+84386123456"),
        ],
    )
    def test_phone_numbers_are_normalised_to_plus_84(self, raw: str, expected: str) -> None:
        assert normalize_phone(raw) == expected

    @pytest.mark.parametrize(
        "raw", ["091234567", "09123456789", "0276 3822 123", "+1 202 555 0100", "không có số", "0112345678"]
    )
    def test_invalid_or_non_mobile_numbers_are_refused(self, raw: str) -> None:
        with pytest.raises(InvalidRecipient):
            normalize_phone(raw)

    def test_diacritics_are_removed_including_d_with_stroke(self) -> None:
        assert strip_diacritics("Đường Trần Hưng Đạo, Tây Ninh: ngập sâu 0,5 m") == (
            "Duong Tran Hung Dao, Tay Ninh: ngap sau 0,5 m"
        )

    def test_segments_follow_gsm7_and_unicode_limits(self) -> None:
        assert sms_segments("a" * 160) == 1
        assert sms_segments("a" * 161) == 2
        assert sms_segments("a" * 459) == 3
        assert sms_segments("ệ" * 70) == 1
        assert sms_segments("ệ" * 71) == 2
        assert sms_segments("ệ" * 201) == 3
        # Extension characters take two septets.
        assert sms_segments("€" * 80) == 1
        assert sms_segments("€" * 81) == 2

    def test_limit_is_three_segments(self) -> None:
        check_sms_length("a" * 459)
        check_sms_length("ệ" * 201)
        with pytest.raises(MessageTooLong):
            check_sms_length("a" * 460)
        with pytest.raises(MessageTooLong):
            check_sms_length("ệ" * 202)
