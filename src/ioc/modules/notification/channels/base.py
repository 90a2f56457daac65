"""The channel interface: what every way of sending a message implements."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Protocol

import httpx

from ..constants import MAX_ERROR_LENGTH, ChannelKind

RESPONSE_SNIPPET = 200
# Statuses that say "not now" rather than "never": request timeout and rate limiting.
RETRYABLE_CLIENT_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class OutgoingMessage:
    """A rendered message ready to leave the system."""

    delivery_id: int
    channel: ChannelKind
    recipient: str
    subject: str
    body: str
    lang: str
    template_key: str
    correlation: str | None = None
    # Signing secret of the caller's webhook subscription; only the webhook channel reads it.
    secret: str | None = None


class Outcome(StrEnum):
    """What a send attempt achieved."""

    DELIVERED = "delivered"
    RETRY = "retry"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one attempt and, when it failed, why."""

    outcome: Outcome
    detail: str = ""

    @classmethod
    def delivered(cls, detail: str = "") -> DeliveryResult:
        """Report that the peer accepted the message."""
        return cls(Outcome.DELIVERED, detail[:MAX_ERROR_LENGTH])

    @classmethod
    def retry(cls, detail: str) -> DeliveryResult:
        """Report a failure that may go away (timeouts, 5xx, connection refused)."""
        return cls(Outcome.RETRY, detail[:MAX_ERROR_LENGTH])

    @classmethod
    def permanent(cls, detail: str) -> DeliveryResult:
        """Report a failure that trying again will not fix (bad address, rejected request)."""
        return cls(Outcome.PERMANENT, detail[:MAX_ERROR_LENGTH])


class Channel(Protocol):
    """A way of sending messages; one instance is built from the settings per use."""

    kind: ClassVar[ChannelKind]

    def normalize_recipient(self, recipient: str) -> str:
        """Return the canonical form of a recipient, or raise InvalidRecipient."""
        ...

    async def send(self, message: OutgoingMessage) -> DeliveryResult:
        """Try once to hand the message to the peer; never raise for a delivery problem."""
        ...


def classify_http_status(status: int) -> Outcome:
    """Map an HTTP status to an outcome: 2xx delivered, 408/429/5xx retry, anything else permanent."""
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if status in RETRYABLE_CLIENT_STATUSES or status >= 500:
        return Outcome.RETRY
    # Other 4xx mean the request itself is wrong; 3xx are not followed because a signed POST must
    # not be replayed to an address nobody configured.
    return Outcome.PERMANENT


async def post_json(
    url: str,
    content: bytes,
    headers: dict[str, str],
    timeout_seconds: float,
    transport: httpx.AsyncBaseTransport | None = None,
) -> DeliveryResult:
    """POST a JSON body and classify the answer; network trouble and timeouts are retryable."""
    try:
        async with httpx.AsyncClient(timeout=timeout_seconds, transport=transport, follow_redirects=False) as client:
            response = await client.post(url, content=content, headers=headers)
    except httpx.TimeoutException as exc:
        return DeliveryResult.retry(f"timeout after {timeout_seconds:g}s: {type(exc).__name__}")
    except httpx.HTTPError as exc:
        return DeliveryResult.retry(f"{type(exc).__name__}: {exc}")
    snippet = response.text[:RESPONSE_SNIPPET]
    outcome = classify_http_status(response.status_code)
    detail = f"HTTP {response.status_code}" + (f": {snippet}" if snippet else "")
    if outcome is Outcome.DELIVERED:
        return DeliveryResult.delivered(detail)
    if outcome is Outcome.RETRY:
        return DeliveryResult.retry(detail)
    return DeliveryResult.permanent(detail)
