"""Webhooks: a signed JSON POST to a URL the caller chose."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import ClassVar
from urllib.parse import urlsplit

import httpx

from ioc.core.time import utc_now

from ..constants import (
    HTTP_TIMEOUT_SECONDS,
    MAX_RECIPIENT_LENGTH,
    WEBHOOK_DELIVERY_HEADER,
    WEBHOOK_KEY_CONTEXT,
    WEBHOOK_SIGNATURE_HEADER,
    WEBHOOK_TIMESTAMP_HEADER,
    ChannelKind,
)
from ..exceptions import InvalidRecipient
from .base import DeliveryResult, OutgoingMessage, post_json

SIGNATURE_PREFIX = "sha256="
USER_AGENT = "ioc-notification/1"
# Receivers should refuse signatures older than this, so that a captured request cannot be replayed.
DEFAULT_TOLERANCE_SECONDS = 300


def derive_webhook_key(secret_key: str) -> str:
    """Return the default signing key: derived from the installation secret, which itself never leaves."""
    return hmac.new(secret_key.encode(), WEBHOOK_KEY_CONTEXT, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Return the signature header value for a body sent at `timestamp` (Unix seconds)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify_signature(
    secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: int = DEFAULT_TOLERANCE_SECONDS
) -> bool:
    """Tell whether a received webhook is authentic and fresh (for receivers written in Python)."""
    if not timestamp.isdigit() or abs(utc_now().timestamp() - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def normalize_url(recipient: str) -> str:
    """Return the URL if it is an absolute http(s) URL, or raise InvalidRecipient."""
    url = recipient.strip()
    parts = urlsplit(url)
    if len(url) > MAX_RECIPIENT_LENGTH or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRecipient(
            f"Địa chỉ webhook phải là URL http(s) đầy đủ: {recipient!r}.",
            f"A webhook address must be an absolute http(s) URL: {recipient!r}.",
        )
    return url


def webhook_payload(message: OutgoingMessage, sent_at: str) -> bytes:
    """Return the JSON body posted to the receiver (UTF-8, Vietnamese kept as is)."""
    document = {
        "delivery_id": message.delivery_id,
        "template": message.template_key,
        "lang": message.lang,
        "subject": message.subject,
        "body": message.body,
        "correlation": message.correlation,
        "sent_at": sent_at,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookChannel:
    """POSTs signed JSON; the per-subscription secret wins over the installation's default key."""

    kind: ClassVar[ChannelKind] = ChannelKind.WEBHOOK

    def __init__(
        self,
        default_secret: str,
        timeout: float = HTTP_TIMEOUT_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.default_secret = default_secret
        self.timeout = timeout
        self.transport = transport

    def normalize_recipient(self, recipient: str) -> str:
        """Return the URL, or raise InvalidRecipient."""
        return normalize_url(recipient)

    async def send(self, message: OutgoingMessage) -> DeliveryResult:
        """POST the message once and classify the answer."""
        now = utc_now()
        body = webhook_payload(message, now.isoformat())
        timestamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            WEBHOOK_TIMESTAMP_HEADER: timestamp,
            WEBHOOK_SIGNATURE_HEADER: sign(message.secret or self.default_secret, timestamp, body),
            # Delivery is at-least-once: receivers drop repeats by this id.
            WEBHOOK_DELIVERY_HEADER: str(message.delivery_id),
        }
        return await post_json(message.recipient, body, headers, self.timeout, self.transport)
