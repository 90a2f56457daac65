"""Templates shipped with the module; seeded into the database when missing, never overwritten."""

from __future__ import annotations

from dataclasses import dataclass

from .constants import ANY_CHANNEL, ChannelKind

TEST_TEMPLATE = "notification.test"
ALERT_TEMPLATE = "alert"


@dataclass(frozen=True)
class DefaultTemplate:
    """A template as shipped in code."""

    key: str
    channel: str
    lang: str
    subject: str
    body: str
    sms_ascii: bool = False


DEFAULT_TEMPLATES: tuple[DefaultTemplate, ...] = (
    DefaultTemplate(
        key=TEST_TEMPLATE,
        channel=ANY_CHANNEL,
        lang="vi",
        subject="[IOC] Tin nhắn thử nghiệm",
        body=(
            "Xin chào,\n\n"
            "Đây là tin nhắn thử nghiệm của Trung tâm giám sát, điều hành đô thị thông minh, "
            "do {{ sent_by }} gửi lúc {{ sent_at }}.\n"
            "Bạn nhận được tin này nghĩa là kênh gửi đang hoạt động."
        ),
    ),
    DefaultTemplate(
        key=TEST_TEMPLATE,
        channel=ANY_CHANNEL,
        lang="en",
        subject="[IOC] Test message",
        body=(
            "Hello,\n\n"
            "This is a test message from the Intelligent Operations Center, "
            "sent by {{ sent_by }} at {{ sent_at }}.\n"
            "If you received it, the channel works."
        ),
    ),
    # SMS is billed per segment and Unicode segments are shorter: a short text without diacritics.
    DefaultTemplate(
        key=TEST_TEMPLATE,
        channel=ChannelKind.SMS.value,
        lang="vi",
        subject="",
        body="IOC: tin nhắn thử nghiệm do {{ sent_by }} gửi lúc {{ sent_at }}. Kênh SMS hoạt động.",
        sms_ascii=True,
    ),
    DefaultTemplate(
        key=TEST_TEMPLATE,
        channel=ChannelKind.SMS.value,
        lang="en",
        subject="",
        body="IOC: test message sent by {{ sent_by }} at {{ sent_at }}. The SMS channel works.",
        sms_ascii=True,
    ),
    DefaultTemplate(
        key=ALERT_TEMPLATE,
        channel=ANY_CHANNEL,
        lang="vi",
        subject="[Cảnh báo - {{ severity }}] {{ title }}",
        body=(
            "Cảnh báo: {{ title }}\n"
            "Mức độ: {{ severity }}\n"
            "{{ message }}"
            "{% if place is defined %}\nĐịa điểm: {{ place }}{% endif %}"
            "{% if link is defined %}\nChi tiết: {{ link }}{% endif %}"
        ),
    ),
    DefaultTemplate(
        key=ALERT_TEMPLATE,
        channel=ANY_CHANNEL,
        lang="en",
        subject="[Alert - {{ severity }}] {{ title }}",
        body=(
            "Alert: {{ title }}\n"
            "Severity: {{ severity }}\n"
            "{{ message }}"
            "{% if place is defined %}\nPlace: {{ place }}{% endif %}"
            "{% if link is defined %}\nDetails: {{ link }}{% endif %}"
        ),
    ),
)
