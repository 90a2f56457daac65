"""E-mail over SMTP: a plain-text UTF-8 message, so Vietnamese diacritics survive every hop."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid, parseaddr
from typing import ClassVar

import aiosmtplib

from ioc.core.time import utc_now

from ..constants import MAX_RECIPIENT_LENGTH, SMTP_TIMEOUT_SECONDS, ChannelKind
from ..exceptions import InvalidRecipient
from .base import DeliveryResult, OutgoingMessage

# Deliberately loose: the SMTP server is the authority; this only catches obvious typos.
EMAIL_PATTERN = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")
MAX_EMAIL_LENGTH = 254
PERMANENT_SMTP_CODE = 500


def normalize_email(recipient: str) -> str:
    """Return the address with its domain in lower case, or raise InvalidRecipient."""
    address = recipient.strip()
    if len(address) > min(MAX_EMAIL_LENGTH, MAX_RECIPIENT_LENGTH) or not EMAIL_PATTERN.fullmatch(address):
        raise InvalidRecipient(
            f"Địa chỉ thư điện tử không hợp lệ: {recipient!r}.",
            f"Invalid e-mail address: {recipient!r}.",
        )
    local, domain = address.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


class EmailChannel:
    """Sends through one SMTP server (STARTTLS when the server offers it)."""

    kind: ClassVar[ChannelKind] = ChannelKind.EMAIL

    def __init__(self, host: str, port: int, sender: str, timeout: float = SMTP_TIMEOUT_SECONDS) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout = timeout

    def normalize_recipient(self, recipient: str) -> str:
        """Return the canonical address, or raise InvalidRecipient."""
        return normalize_email(recipient)

    def build(self, message: OutgoingMessage) -> EmailMessage:
        """Build the MIME message: RFC 2047 encoded UTF-8 subject, UTF-8 text body."""
        mail = EmailMessage(policy=SMTP_POLICY)
        mail["From"] = self.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail["Date"] = format_datetime(utc_now())
        # An explicit domain: make_msgid would otherwise look up the host name, which can block.
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or "localhost"
        mail["Message-ID"] = make_msgid(idstring=f"notification-{message.delivery_id}", domain=domain)
        mail["Content-Language"] = message.lang
        mail["X-IOC-Delivery"] = str(message.delivery_id)
        # base64 keeps the body 7-bit clean for relays without 8BITMIME; it is compact for Vietnamese.
        mail.set_content(message.body, charset="utf-8", cte="base64")
        return mail

    async def send(self, message: OutgoingMessage) -> DeliveryResult:
        """Hand the message to the SMTP server once."""
        if not self.host:
            return DeliveryResult.permanent(
                "Chưa cấu hình máy chủ thư (IOC_SMTP_HOST) / no SMTP server configured (IOC_SMTP_HOST)"
            )
        try:
            await aiosmtplib.send(self.build(message), hostname=self.host, port=self.port, timeout=self.timeout)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refusal.code for refusal in exc.recipients]
            detail = "; ".join(f"{refusal.code} {refusal.message}" for refusal in exc.recipients)
            if codes and all(code >= PERMANENT_SMTP_CODE for code in codes):
                return DeliveryResult.permanent(f"recipient refused: {detail}")
            return DeliveryResult.retry(f"recipient deferred: {detail}")
        except aiosmtplib.SMTPResponseException as exc:
            detail = f"SMTP {exc.code}: {exc.message}"
            if exc.code >= PERMANENT_SMTP_CODE:
                return DeliveryResult.permanent(detail)
            return DeliveryResult.retry(detail)
        except (aiosmtplib.SMTPException, OSError) as exc:
            return DeliveryResult.retry(f"{type(exc).__name__}: {exc}")
        return DeliveryResult.delivered(f"accepted by {self.host}:{self.port}")
