"""SMS through an HTTP gateway (brandname gateways): phone numbers, segment counting, diacritics."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import ClassVar

import httpx

from ..constants import (
    HTTP_TIMEOUT_SECONDS,
    SMS_GSM7_PART,
    SMS_GSM7_SINGLE,
    SMS_MAX_SEGMENTS,
    SMS_UCS2_PART,
    SMS_UCS2_SINGLE,
    ChannelKind,
)
from ..exceptions import InvalidRecipient, MessageTooLong
from .base import DeliveryResult, OutgoingMessage, post_json

# GSM 03.38 default alphabet (without the escape character) and its extension table, whose
# characters take two septets each.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
COUNTRY_PREFIX = "+84"
# Vietnamese mobile numbers: 03x, 05x, 07x, 08x, 09x followed by 7 digits (nine digits after +84).
MOBILE_NATIONAL = re.compile(r"[35789]\d{8}")
PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
VIETNAMESE_D = str.maketrans({"đ": "d", "Đ": "D"})


def normalize_phone(recipient: str) -> str:
    """Return a Vietnamese mobile number as +84xxxxxxxxx, or raise InvalidRecipient."""
    digits = PHONE_SEPARATORS.sub("", recipient.strip())
    national: str | None = None
    if digits.startswith("+84"):
        national = digits[3:]
    elif digits.startswith("0084"):
        national = digits[4:]
    elif digits.startswith("84") and len(digits) == len("84") + 9:
        national = digits[2:]
    elif digits.startswith("0"):
        national = digits[1:]
    if national is not None and national.startswith("0"):
        # "+84 0912..." is a common way of writing the number; the trunk zero is dropped.
        national = national[1:]
    if national is None or not MOBILE_NATIONAL.fullmatch(national):
        raise InvalidRecipient(
            f"Số điện thoại di động Việt Nam không hợp lệ: {recipient!r} (ví dụ hợp lệ: 0912 345 678).",
            f"Not a valid Vietnamese mobile number: {recipient!r} (valid example: 0912 345 678).",
        )
    return COUNTRY_PREFIX + national


def strip_diacritics(text: str) -> str:
    """Return Vietnamese text without diacritics ("Tây Ninh đẹp" → "Tay Ninh dep")."""
    decomposed = unicodedata.normalize("NFD", text.translate(VIETNAMESE_D))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def is_gsm7(text: str) -> bool:
    """Tell whether the text fits the GSM 7-bit alphabet (otherwise it goes as UCS-2 Unicode)."""
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def sms_segments(text: str) -> int:
    """Return how many SMS segments the text takes (concatenated messages carry a header)."""
    if is_gsm7(text):
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        single, part = SMS_GSM7_SINGLE, SMS_GSM7_PART
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part = SMS_UCS2_SINGLE, SMS_UCS2_PART
    return 1 if units <= single else math.ceil(units / part)


def check_sms_length(text: str) -> None:
    """Refuse a text longer than SMS_MAX_SEGMENTS segments, saying how long it is."""
    segments = sms_segments(text)
    if segments > SMS_MAX_SEGMENTS:
        alphabet = "GSM-7" if is_gsm7(text) else "Unicode"
        raise MessageTooLong(
            f"Tin nhắn SMS quá dài: {len(text)} ký tự ({alphabet}) cần {segments} phần, tối đa {SMS_MAX_SEGMENTS}; "
            "hãy rút gọn mẫu tin hoặc bật gửi không dấu.",
            f"SMS text too long: {len(text)} characters ({alphabet}) need {segments} segments, at most "
            f"{SMS_MAX_SEGMENTS}; shorten the template or send it without diacritics.",
            segments=segments,
        )


class SmsChannel:
    """POSTs {"to": "+84…", "text": "…"} with a Bearer token to the configured gateway."""

    kind: ClassVar[ChannelKind] = ChannelKind.SMS

    def __init__(
        self,
        gateway_url: str,
        token: str,
        timeout: float = HTTP_TIMEOUT_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.gateway_url = gateway_url
        self.token = token
        self.timeout = timeout
        self.transport = transport

    def normalize_recipient(self, recipient: str) -> str:
        """Return the number as +84xxxxxxxxx, or raise InvalidRecipient."""
        return normalize_phone(recipient)

    async def send(self, message: OutgoingMessage) -> DeliveryResult:
        """Submit the text to the gateway once and classify the answer."""
        if not self.gateway_url:
            return DeliveryResult.permanent(
                "Chưa cấu hình cổng SMS (IOC_SMS_GATEWAY_URL) / no SMS gateway configured (IOC_SMS_GATEWAY_URL)"
            )
        try:
            check_sms_length(message.body)
        except MessageTooLong as exc:
            return DeliveryResult.permanent(f"{exc.message_vi} / {exc.message_en}")
        body = json.dumps({"to": message.recipient, "text": message.body}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return await post_json(self.gateway_url, body, headers, self.timeout, self.transport)
