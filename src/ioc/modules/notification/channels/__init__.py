"""The channels a message can travel by, and the registry that builds them from the settings."""

from __future__ import annotations

from collections.abc import Callable

from ioc.core.settings import Settings

from ..constants import ChannelKind
from .base import Channel, DeliveryResult, Outcome, OutgoingMessage, classify_http_status, post_json
from .sms import SmsChannel, check_sms_length, normalize_phone, sms_segments, strip_diacritics
from .smtp import EmailChannel, normalize_email
from .webhook import WebhookChannel, derive_webhook_key, normalize_url, sign, verify_signature

ChannelFactory = Callable[[Settings], Channel]

# One factory per channel kind; a new channel adds its kind to ChannelKind and a line here.
CHANNEL_FACTORIES: dict[ChannelKind, ChannelFactory] = {
    ChannelKind.EMAIL: lambda s: EmailChannel(s.smtp_host, s.smtp_port, s.smtp_sender),
    ChannelKind.WEBHOOK: lambda s: WebhookChannel(derive_webhook_key(s.secret_key)),
    ChannelKind.SMS: lambda s: SmsChannel(s.sms_gateway_url, s.sms_gateway_token),
}


def build_channel(kind: ChannelKind, settings: Settings) -> Channel:
    """Build the channel of a kind from the current settings."""
    return CHANNEL_FACTORIES[kind](settings)


__all__ = [
    "CHANNEL_FACTORIES",
    "Channel",
    "ChannelFactory",
    "DeliveryResult",
    "EmailChannel",
    "Outcome",
    "OutgoingMessage",
    "SmsChannel",
    "WebhookChannel",
    "build_channel",
    "check_sms_length",
    "classify_http_status",
    "derive_webhook_key",
    "normalize_email",
    "normalize_phone",
    "normalize_url",
    "post_json",
    "sign",
    "sms_segments",
    "strip_diacritics",
    "verify_signature",
]
