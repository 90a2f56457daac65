"""Notifications: e-mail, webhook and SMS channels, templates, and a delivery log with retries."""

from __future__ import annotations

from .channels import (
    CHANNEL_FACTORIES,
    Channel,
    DeliveryResult,
    Outcome,
    OutgoingMessage,
    derive_webhook_key,
    normalize_phone,
    strip_diacritics,
    verify_signature,
)
from .constants import ANY_CHANNEL, ChannelKind, DeliveryStatus
from .defaults import DefaultTemplate
from .events import DeliveryFailed
from .exceptions import (
    DeliveryNotFound,
    DeliveryNotRetryable,
    InvalidRecipient,
    MessageTooLong,
    TemplateInvalid,
    TemplateNotFound,
)
from .schemas import DeliveryFilters, DeliveryRead, TemplateRead
from .service import ensure_templates, get_delivery, list_deliveries, send, validate_recipient

__all__ = [
    "ANY_CHANNEL",
    "CHANNEL_FACTORIES",
    "Channel",
    "ChannelKind",
    "DefaultTemplate",
    "DeliveryFailed",
    "DeliveryFilters",
    "DeliveryNotFound",
    "DeliveryNotRetryable",
    "DeliveryRead",
    "DeliveryResult",
    "DeliveryStatus",
    "InvalidRecipient",
    "MessageTooLong",
    "Outcome",
    "OutgoingMessage",
    "TemplateInvalid",
    "TemplateNotFound",
    "TemplateRead",
    "derive_webhook_key",
    "ensure_templates",
    "get_delivery",
    "list_deliveries",
    "normalize_phone",
    "send",
    "strip_diacritics",
    "validate_recipient",
    "verify_signature",
]
