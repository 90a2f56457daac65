"""Business rules of notifications: rendering, recording deliveries, retries, templates."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.audit import record as record_audit
from ioc.core.errors import IocError
from ioc.core.events import record_event
from ioc.core.http import Page, PageParams
from ioc.core.jobs import schedule_job
from ioc.core.security import Principal, current_actor
from ioc.core.settings import Settings
from ioc.core.templating import format_local
from ioc.core.time import utc_now

from . import repository
from .channels import DeliveryResult, Outcome, OutgoingMessage, build_channel, check_sms_length, strip_diacritics
from .constants import (
    ANY_CHANNEL,
    DELIVER_JOB,
    LANGUAGES,
    MAX_ATTEMPTS,
    MAX_BODY_LENGTH,
    MAX_RECIPIENT_LENGTH,
    MAX_SUBJECT_LENGTH,
    RETRY_BASE_DELAY,
    RETRY_MAX_DELAY,
    RETRYABLE_STATUSES,
    SENDABLE_STATUSES,
    TEMPLATE_CHANNELS,
    ChannelKind,
    DeliveryStatus,
)
from .defaults import DEFAULT_TEMPLATES, TEST_TEMPLATE, DefaultTemplate
from .events import DeliveryFailed
from .exceptions import (
    DeliveryNotFound,
    DeliveryNotRetryable,
    InvalidRecipient,
    MessageTooLong,
    TemplateInvalid,
    TemplateNotFound,
)
from .models import NotificationDelivery, NotificationTemplate
from .rendering import check_template, render_text
from .schemas import ChannelTestCreate, DeliveryFilters, DeliveryRead, TemplateRead, TemplateUpdate

if TYPE_CHECKING:
    from ioc.core.runtime import Runtime

log = logging.getLogger(__name__)

TEMPLATE_KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.\-]{0,119}")
MAX_CORRELATION_LENGTH = 200
MAX_TEMPLATE_KEY_LENGTH = 120
# Problems found before the first attempt: the delivery goes straight to dead with the reason.
PREPARATION_ERRORS = (InvalidRecipient, TemplateNotFound, TemplateInvalid, MessageTooLong)


@dataclass(frozen=True)
class RenderedMessage:
    """A template rendered for one channel and language."""

    lang: str
    subject: str
    body: str


def retry_delay(attempt: int) -> timedelta:
    """Return the wait after failed attempt number `attempt`: 1, 2, 4, 8, 16 minutes, at most one hour."""
    return min(RETRY_BASE_DELAY * (1 << max(attempt - 1, 0)), RETRY_MAX_DELAY)


def job_key(delivery_id: int, attempts: int) -> str:
    """Return the dedupe key of the job that makes attempt `attempts + 1` of a delivery."""
    return f"{DELIVER_JOB}:{delivery_id}:{attempts}"


def _error_text(exc: IocError) -> str:
    return f"{exc.message_vi} / {exc.message_en}"


def _actor_name(session: AsyncSession) -> str:
    actor: Principal | None = session.sync_session.info.get("actor") or current_actor.get()
    return actor.name[:120] if actor is not None else "system"


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    # Callers may pass dates or decimals; the stored copy only needs to render again.
    result: dict[str, Any] = json.loads(json.dumps(params, default=str, ensure_ascii=False))
    return result


def validate_recipient(channel: ChannelKind, recipient: str, settings: Settings) -> str:
    """Return the canonical recipient for a channel, or raise InvalidRecipient."""
    return build_channel(channel, settings).normalize_recipient(recipient)


def _pick_template(
    rows: Sequence[NotificationTemplate], channel: ChannelKind, lang: str
) -> NotificationTemplate | None:
    by_identity = {(row.channel, row.lang): row for row in rows}
    # The asked language first (channel-specific, then "any"), then Vietnamese, then English.
    languages = [lang, *(other for other in LANGUAGES if other != lang)]
    for candidate_lang in languages:
        for candidate_channel in (channel.value, ANY_CHANNEL):
            row = by_identity.get((candidate_channel, candidate_lang))
            if row is not None:
                return row
    return None


async def render_message(
    session: AsyncSession, template: str, channel: ChannelKind, lang: str, params: dict[str, Any]
) -> RenderedMessage:
    """Render the best template variant for a channel and language; raise on any problem."""
    row = _pick_template(await repository.templates_for_key(session, template), channel, lang)
    if row is None:
        raise TemplateNotFound(
            f"Không có mẫu tin '{template}'.", f"There is no template '{template}'.", template=template
        )
    # A subject is one header line: newlines would break the e-mail header.
    subject = " ".join(render_text(row.subject, params).split())[:MAX_SUBJECT_LENGTH]
    body = render_text(row.body, params).strip()
    if channel is ChannelKind.SMS:
        if row.sms_ascii:
            body = strip_diacritics(body)
        check_sms_length(body)
    if len(body) > MAX_BODY_LENGTH:
        raise MessageTooLong(
            f"Nội dung tin quá dài ({len(body)} ký tự, tối đa {MAX_BODY_LENGTH}).",
            f"Message body too long ({len(body)} characters, at most {MAX_BODY_LENGTH}).",
        )
    return RenderedMessage(lang=row.lang, subject=subject, body=body)


async def send(
    session: AsyncSession,
    runtime: Runtime,
    *,
    channel: ChannelKind,
    recipient: str,
    template: str,
    params: dict[str, Any],
    lang: str = "vi",
    correlation: str | None = None,
    secret: str | None = None,
) -> int:
    """Record a delivery in the caller's transaction and schedule it; return the delivery id.

    The message leaves after the caller commits. A bad recipient or template does not raise: the
    delivery is recorded as dead with the reason, and `notification.delivery_failed` is published.
    `secret` signs webhooks of the caller's subscription instead of the installation's default key.
    """
    kind = ChannelKind(channel)
    now = utc_now()
    delivery = NotificationDelivery(
        channel=kind.value,
        recipient=recipient.strip()[:MAX_RECIPIENT_LENGTH],
        template_key=template[:MAX_TEMPLATE_KEY_LENGTH],
        lang=lang if lang in LANGUAGES else runtime.settings.default_language,
        subject="",
        body="",
        status=DeliveryStatus.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
        correlation=correlation[:MAX_CORRELATION_LENGTH] if correlation else None,
        requested_by=_actor_name(session),
        params=_jsonable(params),
        webhook_secret=secret,
    )
    try:
        await _prepare(session, runtime.settings, delivery, params)
    except PREPARATION_ERRORS as exc:
        repository.add(session, delivery)
        await _give_up(session, delivery, _error_text(exc))
        return delivery.id
    repository.add(session, delivery)
    await session.flush()
    await schedule_job(session, DELIVER_JOB, {"delivery_id": delivery.id}, dedupe_key=job_key(delivery.id, 0))
    return delivery.id


async def _prepare(
    session: AsyncSession, settings: Settings, delivery: NotificationDelivery, params: dict[str, Any]
) -> None:
    kind = ChannelKind(delivery.channel)
    delivery.recipient = validate_recipient(kind, delivery.recipient, settings)
    rendered = await render_message(session, delivery.template_key, kind, delivery.lang, params)
    delivery.lang, delivery.subject, delivery.body = rendered.lang, rendered.subject, rendered.body


async def _give_up(session: AsyncSession, delivery: NotificationDelivery, reason: str) -> None:
    delivery.status = DeliveryStatus.DEAD
    delivery.last_error = reason
    delivery.next_attempt_at = None
    await session.flush()
    record_event(
        session,
        DeliveryFailed(
            delivery_id=delivery.id,
            channel=delivery.channel,
            template=delivery.template_key,
            correlation=delivery.correlation,
            attempts=delivery.attempts,
        ),
    )
    log.warning(
        "notification delivery dead",
        extra={"delivery_id": delivery.id, "channel": delivery.channel, "template": delivery.template_key},
    )


async def claim_delivery(session: AsyncSession, delivery_id: int) -> OutgoingMessage | None:
    """Mark a delivery as being sent and count the attempt; None if there is nothing to send."""
    delivery = await repository.get_delivery(session, delivery_id, for_update=True)
    if delivery is None or delivery.status not in SENDABLE_STATUSES:
        return None
    delivery.status = DeliveryStatus.SENDING
    delivery.attempts += 1
    return OutgoingMessage(
        delivery_id=delivery.id,
        channel=ChannelKind(delivery.channel),
        recipient=delivery.recipient,
        subject=delivery.subject,
        body=delivery.body,
        lang=delivery.lang,
        template_key=delivery.template_key,
        correlation=delivery.correlation,
        secret=delivery.webhook_secret,
    )


async def record_result(session: AsyncSession, delivery_id: int, result: DeliveryResult) -> DeliveryStatus | None:
    """Store the outcome of an attempt: delivered, failed with the next retry scheduled, or dead."""
    delivery = await repository.get_delivery(session, delivery_id, for_update=True)
    if delivery is None:
        return None
    now = utc_now()
    if result.outcome is Outcome.DELIVERED:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    elif result.outcome is Outcome.RETRY and delivery.attempts < MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = result.detail
        delivery.next_attempt_at = now + retry_delay(delivery.attempts)
        await schedule_job(
            session,
            DELIVER_JOB,
            {"delivery_id": delivery.id},
            run_at=delivery.next_attempt_at,
            dedupe_key=job_key(delivery.id, delivery.attempts),
        )
    else:
        reason = result.detail
        if result.outcome is Outcome.RETRY:
            reason = f"Đã thử {delivery.attempts} lần / gave up after {delivery.attempts} attempts: {reason}"
        await _give_up(session, delivery, reason)
    return DeliveryStatus(delivery.status)


async def retry_delivery(session: AsyncSession, runtime: Runtime, delivery_id: int, actor: Principal) -> DeliveryRead:
    """Send a failed or dead delivery again now; one never prepared is rendered again first."""
    delivery = await repository.get_delivery(session, delivery_id, for_update=True)
    if delivery is None:
        raise DeliveryNotFound(
            f"Không tìm thấy lượt gửi #{delivery_id}.", f"Delivery #{delivery_id} not found.", id=delivery_id
        )
    if delivery.status not in RETRYABLE_STATUSES:
        raise DeliveryNotRetryable(
            f"Lượt gửi #{delivery_id} đang ở trạng thái '{delivery.status}', không thể gửi lại.",
            f"Delivery #{delivery_id} is '{delivery.status}' and cannot be retried.",
            status=delivery.status,
        )
    if delivery.attempts == 0:
        # It died before any attempt (bad template or recipient): the fix is usually in the template.
        await _prepare(session, runtime.settings, delivery, delivery.params)
    now = utc_now()
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = now
    await schedule_job(
        session,
        DELIVER_JOB,
        {"delivery_id": delivery.id},
        run_at=now,
        dedupe_key=job_key(delivery.id, delivery.attempts),
    )
    record_audit(session, actor, "retry", NotificationDelivery.__tablename__, str(delivery.id))
    await session.flush()
    return to_read(delivery, reveal_recipient=actor.is_admin)


def mask_recipient(channel: str, recipient: str) -> str:
    """Hide most of an address or phone number; webhooks keep only scheme and host."""
    if channel == ChannelKind.EMAIL:
        local, _, domain = recipient.partition("@")
        return f"{local[:2]}***@{domain}"
    if channel == ChannelKind.SMS:
        return recipient[:5] + "*" * max(len(recipient) - 7, 0) + recipient[-2:]
    parts = urlsplit(recipient)
    # Webhook paths often embed access tokens.
    return f"{parts.scheme}://{parts.netloc}/…" if parts.netloc else "…"


def to_read(delivery: NotificationDelivery, *, reveal_recipient: bool) -> DeliveryRead:
    """Return the read schema of a delivery, masking the recipient unless revealed."""
    read = DeliveryRead.model_validate(delivery)
    if not reveal_recipient:
        read = read.model_copy(update={"recipient": mask_recipient(delivery.channel, delivery.recipient)})
    return read


async def list_deliveries(
    session: AsyncSession, filters: DeliveryFilters, page: PageParams, *, reveal_recipients: bool
) -> Page[DeliveryRead]:
    """Return one page of the delivery log, newest first."""
    rows, total = await repository.list_deliveries(session, filters, page.limit, page.offset)
    return Page[DeliveryRead](
        items=[to_read(row, reveal_recipient=reveal_recipients) for row in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


async def get_delivery(session: AsyncSession, delivery_id: int, *, reveal_recipient: bool) -> DeliveryRead:
    """Return one delivery or raise DeliveryNotFound."""
    delivery = await repository.get_delivery(session, delivery_id)
    if delivery is None:
        raise DeliveryNotFound(
            f"Không tìm thấy lượt gửi #{delivery_id}.", f"Delivery #{delivery_id} not found.", id=delivery_id
        )
    return to_read(delivery, reveal_recipient=reveal_recipient)


async def list_templates(session: AsyncSession, key: str | None = None) -> list[TemplateRead]:
    """Return the stored templates."""
    return [TemplateRead.model_validate(row) for row in await repository.list_templates(session, key)]


def _check_identity(key: str, channel: str, lang: str) -> None:
    if not TEMPLATE_KEY_PATTERN.fullmatch(key):
        raise TemplateInvalid(
            "Khoá mẫu tin chỉ gồm chữ thường, số, '.', '_' và '-' (tối đa 120 ký tự).",
            "A template key has lower-case letters, digits, '.', '_' and '-' only (at most 120 characters).",
        )
    if channel not in TEMPLATE_CHANNELS:
        raise TemplateInvalid(
            f"Kênh không hợp lệ: {channel!r} (chọn một trong {', '.join(TEMPLATE_CHANNELS)}).",
            f"Unknown channel {channel!r} (use one of {', '.join(TEMPLATE_CHANNELS)}).",
        )
    if lang not in LANGUAGES:
        raise TemplateInvalid(
            f"Ngôn ngữ không hợp lệ: {lang!r} (vi hoặc en).", f"Unknown language {lang!r} (vi or en)."
        )


async def get_template(session: AsyncSession, key: str, channel: str, lang: str) -> TemplateRead:
    """Return one template variant or raise TemplateNotFound."""
    row = await repository.get_template(session, key, channel, lang)
    if row is None:
        raise TemplateNotFound(
            f"Không có mẫu tin '{key}' ({channel}, {lang}).", f"There is no template '{key}' ({channel}, {lang})."
        )
    return TemplateRead.model_validate(row)


async def put_template(session: AsyncSession, key: str, channel: str, lang: str, data: TemplateUpdate) -> TemplateRead:
    """Create or replace one template variant after checking that it compiles and is safe."""
    _check_identity(key, channel, lang)
    check_template(data.subject)
    check_template(data.body)
    row = await repository.get_template(session, key, channel, lang)
    if row is None:
        row = NotificationTemplate(key=key, channel=channel, lang=lang, body=data.body)
        repository.add(session, row)
    row.subject = data.subject
    row.body = data.body
    row.sms_ascii = data.sms_ascii
    row.updated_at = utc_now()
    await session.flush()
    return TemplateRead.model_validate(row)


async def ensure_default_templates(session: AsyncSession) -> int:
    """Add the shipped templates that are missing (edited ones are kept); return how many were added."""
    return await ensure_templates(session, DEFAULT_TEMPLATES)


async def ensure_templates(session: AsyncSession, templates: Iterable[DefaultTemplate]) -> int:
    """Add templates another module ships, when missing (edited ones are kept); return how many were added."""
    existing = await repository.template_identities(session)
    added = 0
    for default in templates:
        if (default.key, default.channel, default.lang) in existing:
            continue
        repository.add(
            session,
            NotificationTemplate(
                key=default.key,
                channel=default.channel,
                lang=default.lang,
                subject=default.subject,
                body=default.body,
                sms_ascii=default.sms_ascii,
                updated_at=utc_now(),
            ),
        )
        existing.add((default.key, default.channel, default.lang))
        added += 1
    await session.flush()
    return added


async def send_test(session: AsyncSession, runtime: Runtime, data: ChannelTestCreate, principal: Principal) -> int:
    """Send the test template through a channel to a recipient an administrator chose."""
    validate_recipient(data.channel, data.recipient, runtime.settings)
    return await send(
        session,
        runtime,
        channel=data.channel,
        recipient=data.recipient,
        template=TEST_TEMPLATE,
        params={"sent_by": principal.display_name or principal.name, "sent_at": format_local(utc_now())},
        lang=data.lang,
        correlation=f"test:{principal.name}"[:MAX_CORRELATION_LENGTH],
    )
