"""Closed sets and limits of the notification module."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum


class ChannelKind(StrEnum):
    """How a message travels to its recipient."""

    EMAIL = "email"
    WEBHOOK = "webhook"
    SMS = "sms"


# A template row may target one channel or every channel.
ANY_CHANNEL = "any"
TEMPLATE_CHANNELS = (ANY_CHANNEL, *(kind.value for kind in ChannelKind))


class DeliveryStatus(StrEnum):
    """Where a delivery is in its life."""

    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"
    DEAD = "dead"


# A delivery in one of these states may be (re)sent by the job; "sending" is included because a
# worker that crashed mid-send leaves it behind, and delivery is at-least-once.
SENDABLE_STATUSES = frozenset({DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.SENDING})
# An administrator may ask for a new attempt only once the system has given up or is waiting.
RETRYABLE_STATUSES = frozenset({DeliveryStatus.FAILED, DeliveryStatus.DEAD})

LANGUAGES = ("vi", "en")
SCOPE_ADMIN = "notification:admin"
DELIVER_JOB = "notification.deliver"

MAX_ATTEMPTS = 6
RETRY_BASE_DELAY = timedelta(minutes=1)
RETRY_MAX_DELAY = timedelta(hours=1)

HTTP_TIMEOUT_SECONDS = 10.0
SMTP_TIMEOUT_SECONDS = 30.0

# A message may use at most this many concatenated SMS segments; longer ones are rejected.
SMS_MAX_SEGMENTS = 3
SMS_GSM7_SINGLE = 160
SMS_GSM7_PART = 153
SMS_UCS2_SINGLE = 70
SMS_UCS2_PART = 67

WEBHOOK_SIGNATURE_HEADER = "X-IOC-Signature"
WEBHOOK_TIMESTAMP_HEADER = "X-IOC-Timestamp"
WEBHOOK_DELIVERY_HEADER = "X-IOC-Delivery"
WEBHOOK_KEY_CONTEXT = b"ioc.notification.webhook"

MAX_SUBJECT_LENGTH = 300
MAX_BODY_LENGTH = 20_000
MAX_RECIPIENT_LENGTH = 500
MAX_ERROR_LENGTH = 2000
