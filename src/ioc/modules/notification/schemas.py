"""Schemas of the notification API: deliveries, templates and test messages."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .constants import MAX_BODY_LENGTH, MAX_RECIPIENT_LENGTH, MAX_SUBJECT_LENGTH, ChannelKind, DeliveryStatus

Language = Literal["vi", "en"]
TemplateChannel = Literal["any", "email", "webhook", "sms"]


class DeliveryRead(BaseModel):
    """One entry of the delivery log; the recipient is masked for callers who are not administrators."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: ChannelKind
    recipient: str
    template_key: str
    lang: str
    subject: str
    body: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    correlation: str | None
    requested_by: str


class DeliveryFilters(BaseModel):
    """Filters of the delivery log."""

    status: DeliveryStatus | None = None
    channel: ChannelKind | None = None
    correlation: str | None = Field(None, max_length=200)


class TemplateRead(BaseModel):
    """A stored message template."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    channel: TemplateChannel
    lang: Language
    subject: str
    body: str
    sms_ascii: bool
    updated_at: datetime


class TemplateUpdate(BaseModel):
    """The editable part of a template; placeholders are written `{{ name }}`."""

    subject: str = Field("", max_length=MAX_SUBJECT_LENGTH)
    body: str = Field(min_length=1, max_length=MAX_BODY_LENGTH)
    sms_ascii: bool = Field(False, description="Gửi SMS không dấu / send SMS without diacritics")


class ChannelTestCreate(BaseModel):
    """A test message sent by an administrator to check a channel."""

    channel: ChannelKind
    recipient: str = Field(min_length=1, max_length=MAX_RECIPIENT_LENGTH)
    lang: Language = "vi"
