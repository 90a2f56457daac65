"""Errors of the notification module, each with its HTTP status and a bilingual message."""

from __future__ import annotations

from ioc.core.errors import Conflict, NotFound, ValidationFailed


class InvalidRecipient(ValidationFailed):
    """The address, phone number or URL cannot receive messages on this channel."""

    code = "invalid_recipient"


class TemplateNotFound(NotFound):
    """No template exists for the key, channel and language."""

    code = "template_not_found"


class TemplateInvalid(ValidationFailed):
    """A template cannot be compiled, is unsafe, or lacks a parameter it uses."""

    code = "template_invalid"


class MessageTooLong(ValidationFailed):
    """The rendered text does not fit the channel's limit."""

    code = "message_too_long"


class DeliveryNotFound(NotFound):
    """No delivery has this id."""

    code = "delivery_not_found"


class DeliveryNotRetryable(Conflict):
    """The delivery is delivered or already on its way, so it cannot be retried now."""

    code = "delivery_not_retryable"
