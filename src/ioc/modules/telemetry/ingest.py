"""The ingestion core: messages from MQTT, HTTP or the simulator become readings or dead letters.

One batch (many messages) is one transaction. `write_batch` validates and writes without committing (HTTP
routes commit it); `ingest` opens the transaction, commits, then counts. Nothing is dropped silently: every
message ends as stored readings, a dead letter, or both (when only some of its readings were refused).
"""

from __future__ import annotations

import logging
import math
import time as clock
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.events import record_event
from ioc.core.time import utc_now

from . import registry as devices
from . import repository
from .constants import (
    DEAD_LETTER_PAYLOAD_LIMIT,
    DEAD_LETTER_READING_LIMIT,
    EARLIEST_TIME,
    MAX_FUTURE_SKEW,
    DeadLetterReason,
    IngestSource,
)
from .events import DeadLetterRecorded, DeviceCameOnline, ObservationsReceived
from .metrics import BATCH_SECONDS, DEAD_LETTERS, MESSAGES, READINGS
from .payloads import PayloadError, RawReading, is_number, parse_payload, parse_timestamp, simple_record
from .repository import DeviceInfo, StreamInfo

if TYPE_CHECKING:
    from ioc.core.runtime import Runtime

log = logging.getLogger(__name__)

# last_seen_at is written at most this often per device, so that busy devices do not rewrite their row per batch.
LAST_SEEN_RESOLUTION = timedelta(seconds=30)
# Integers beyond this are not turned into floats on the shorter way for plain messages (`judge` decides).
FLOAT_INT_LIMIT = 2**53
# Errors that a single bad message can cause; anything else (connection lost, database locked) is retried whole.
POISON_ERRORS = (DataError, IntegrityError, ProgrammingError)


@dataclass(frozen=True)
class InboundMessage:
    """One device message as it arrived; the device is named by code (topic) or id (token)."""

    payload: bytes | str
    source: IngestSource
    device_code: str | None = None
    device_id: int | None = None
    topic: str | None = None
    content_type: str | None = None
    received_at: datetime | None = None


@dataclass(frozen=True)
class Rejection:
    """A refused reading, or the whole message when `key` is None."""

    reason: DeadLetterReason
    message_vi: str
    message_en: str
    index: int | None = None
    key: str | None = None
    time: datetime | None = None
    value: Any = None


@dataclass(slots=True)
class MessageOutcome:
    """What became of one message."""

    accepted: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    dead_letter_ids: list[int] = field(default_factory=list)
    device_id: int | None = None


@dataclass
class BatchResult:
    """What became of a batch, message by message."""

    source: IngestSource
    outcomes: list[MessageOutcome]
    accepted: int = 0
    dead_letter_reasons: list[DeadLetterReason] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        """Count the refused readings (a refused message counts once)."""
        return sum(len(outcome.rejections) for outcome in self.outcomes)


def floor_hour(moment: datetime) -> datetime:
    """Return the start of the UTC hour holding a time."""
    return moment.replace(minute=0, second=0, microsecond=0)


def _text_payload(payload: bytes | str) -> tuple[str, int, bool]:
    raw = payload.encode("utf-8", errors="replace") if isinstance(payload, str) else payload
    truncated = len(raw) > DEAD_LETTER_PAYLOAD_LIMIT
    text = raw[:DEAD_LETTER_PAYLOAD_LIMIT].decode("utf-8", errors="replace" if not truncated else "ignore")
    # PostgreSQL text cannot hold NUL characters.
    return text.replace("\x00", "\ufffd"), len(raw), truncated


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | str) or is_number(value):
        return value
    return repr(value)[:200]


def _match_stream(reading: RawReading, device: DeviceInfo) -> StreamInfo | None:
    stream = device.streams.get(reading.key)
    if stream is not None or not reading.candidates:
        return stream
    for name in reading.candidates:
        stream = device.streams.get(name)
        if stream is not None:
            return stream
    return None


def _fmt(value: float) -> str:
    return f"{value:g}"


def judge(
    reading: RawReading, device: DeviceInfo, received_at: datetime
) -> tuple[StreamInfo, datetime, float] | Rejection:
    """Decide whether a reading is stored: return (datastream, time, value) or the reason it is refused."""

    def refuse(reason: DeadLetterReason, vi: str, en: str, when: datetime | None = None) -> Rejection:
        return Rejection(reason, vi, en, reading.index, reading.key, when or reading.time, _jsonable(reading.value))

    stream = _match_stream(reading, device)
    if stream is None:
        return refuse(
            DeadLetterReason.UNKNOWN_KEY,
            f"Thiết bị {device.code} không có luồng dữ liệu {reading.key!r}.",
            f"Device {device.code} has no datastream {reading.key!r}.",
        )
    if reading.time_problem is not None:
        return refuse(DeadLetterReason.BAD_TIMESTAMP, *reading.time_problem)
    when = reading.time or received_at
    if when > received_at + MAX_FUTURE_SKEW:
        return refuse(
            DeadLetterReason.BAD_TIMESTAMP,
            f"Thời điểm {when.isoformat()} ở tương lai, sau giờ nhận hơn 5 phút (đồng hồ thiết bị sai?).",
            f"Time {when.isoformat()} is more than 5 minutes after it was received (device clock wrong?).",
        )
    if when < EARLIEST_TIME:
        return refuse(
            DeadLetterReason.BAD_TIMESTAMP,
            f"Thời điểm {when.isoformat()} trước năm 2000 (dấu thời gian phải tính bằng mili giây?).",
            f"Time {when.isoformat()} is before 2000 (timestamps must be in milliseconds?).",
        )
    if not is_number(reading.value):
        shown = (
            "NaN/Infinity" if isinstance(reading.value, float) and not math.isfinite(reading.value) else reading.value
        )
        return refuse(
            DeadLetterReason.NOT_NUMERIC,
            f"Giá trị {shown!r} của {reading.key!r} không phải số.",
            f"The value {shown!r} of {reading.key!r} is not a number.",
            when,
        )
    value = float(reading.value)
    low, high = stream.valid_min, stream.valid_max
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"[{_fmt(low) if low is not None else '-∞'}, {_fmt(high) if high is not None else '+∞'}]"
        return refuse(
            DeadLetterReason.OUT_OF_RANGE,
            f"Giá trị {_fmt(value)} của {reading.key!r} ngoài khoảng hợp lệ {bounds}.",
            f"The value {_fmt(value)} of {reading.key!r} is outside the valid range {bounds}.",
            when,
        )
    if when < received_at - timedelta(days=stream.retention_days):
        return refuse(
            DeadLetterReason.EXPIRED,
            f"Thời điểm {when.isoformat()} cũ hơn thời hạn lưu {stream.retention_days} ngày của {reading.key!r}.",
            f"Time {when.isoformat()} is older than the {stream.retention_days}-day retention of {reading.key!r}.",
            when,
        )
    return stream, when, value


# Retention periods as timedeltas, built once per number of days.
_RETENTION: dict[int, timedelta] = {}


def _accept_simple(
    simple: tuple[dict[str, Any], Any],
    device: DeviceInfo,
    received_at: datetime,
    rows: dict[tuple[int, datetime], tuple[float, datetime]],
) -> list[RawReading] | None:
    """Take a plain message's readings when every one of them passes; else return them for `judge`.

    The checks are those of `judge`, in a form that builds nothing per value; `rows` is left untouched
    unless the whole message is accepted, so that a message with a refused value is judged the full way.
    """
    values, ts = simple
    stamped, problem = parse_timestamp(ts)
    when = stamped or received_at
    age = received_at - when
    streams = device.streams
    taken: list[tuple[int, float]] = []
    if problem is None and -age <= MAX_FUTURE_SKEW and when >= EARLIEST_TIME:
        for key, value in values.items():
            stream = streams.get(key)
            kind = type(value)
            if stream is None or not (kind is float or (kind is int and -FLOAT_INT_LIMIT < value < FLOAT_INT_LIMIT)):
                break
            number = float(value)
            low, high = stream.valid_min, stream.valid_max
            if not math.isfinite(number) or (low is not None and number < low) or (high is not None and number > high):
                break
            retention = _RETENTION.get(stream.retention_days)
            if retention is None:
                retention = _RETENTION[stream.retention_days] = timedelta(days=stream.retention_days)
            if age > retention:
                break
            taken.append((stream.id, number))
        else:
            for stream_id, number in taken:
                rows[(stream_id, when)] = (number, received_at)
            return None
    return [RawReading(0, key, value, stamped, problem) for key, value in values.items()]


def _needs_touch(device: DeviceInfo, seen_at: datetime) -> bool:
    last = device.last_seen_at
    return last is None or last < seen_at - LAST_SEEN_RESOLUTION


def _message_rejection(reason: DeadLetterReason, vi: str, en: str) -> Rejection:
    return Rejection(reason, vi, en)


def _dead_letter_row(
    message: InboundMessage, device: DeviceInfo | None, rejections: list[Rejection], received_at: datetime
) -> dict[str, Any]:
    first = rejections[0]
    payload, size, truncated = _text_payload(message.payload)
    more = len(rejections) - 1
    suffix_vi = f" (và {more} giá trị khác cùng lý do)" if more else ""
    suffix_en = f" (and {more} more with the same reason)" if more else ""
    readings = [
        {
            "index": r.index,
            "key": r.key,
            "time": r.time.isoformat() if r.time else None,
            "value": r.value,
            "message_vi": r.message_vi,
            "message_en": r.message_en,
        }
        for r in rejections[:DEAD_LETTER_READING_LIMIT]
        if r.key is not None
    ]
    return {
        "received_at": received_at,
        "source": message.source.value,
        "topic": message.topic[:300] if message.topic else None,
        "device_code": device.code if device else (message.device_code or None),
        "device_id": device.id if device else None,
        "reason": first.reason.value,
        "message_vi": first.message_vi + suffix_vi,
        "message_en": first.message_en + suffix_en,
        "payload": payload,
        "payload_bytes": size,
        "payload_truncated": truncated,
        "detail": {"count": len(rejections), "readings": readings} if readings else {"count": len(rejections)},
    }


async def write_batch(
    session: AsyncSession, messages: Sequence[InboundMessage], now: datetime | None = None
) -> BatchResult:
    """Validate and write a batch in the session's transaction (the caller commits)."""
    now = now or utc_now()
    source = messages[0].source if messages else IngestSource.EMBEDDED
    result = BatchResult(source=source, outcomes=[MessageOutcome() for _ in messages])
    if not messages:
        return result
    registry, by_code = await devices.lookup(
        session,
        codes={m.device_code for m in messages if m.device_code and m.device_id is None},
        ids={m.device_id for m in messages if m.device_id is not None},
    )

    rows: dict[tuple[int, datetime], tuple[float, datetime]] = {}
    seen: dict[int, DeviceInfo] = {}
    seen_at: dict[int, datetime] = {}
    dead_rows: list[dict[str, Any]] = []
    dead_owner: list[int] = []

    for position, message in enumerate(messages):
        outcome = result.outcomes[position]
        received_at = message.received_at or now
        device = (
            registry.get(message.device_id) if message.device_id is not None else by_code.get(message.device_code or "")
        )
        rejections: list[Rejection] = []
        if device is None:
            code = message.device_code or "?"
            rejections.append(
                _message_rejection(
                    DeadLetterReason.UNKNOWN_DEVICE,
                    f"Không có thiết bị mã {code!r} trong danh mục.",
                    f"No device with code {code!r} is registered.",
                )
            )
        elif not device.is_active:
            rejections.append(
                _message_rejection(
                    DeadLetterReason.DEVICE_DISABLED,
                    f"Thiết bị {device.code} đang bị tắt; dữ liệu không được nhận.",
                    f"Device {device.code} is disabled; its data is not accepted.",
                )
            )
        else:
            outcome.device_id = device.id
            seen[device.id] = device
            seen_at[device.id] = max(received_at, seen_at.get(device.id, received_at))
            readings: list[RawReading] | PayloadError
            simple = simple_record(message.payload, message.content_type)
            refused = None if simple is None else _accept_simple(simple, device, received_at, rows)
            if simple is not None and refused is None:
                outcome.accepted += len(simple[0])
                continue
            if refused is not None:
                readings = refused
            else:
                try:
                    readings = parse_payload(message.payload, received_at, message.content_type)
                except PayloadError as exc:
                    readings = exc
            if isinstance(readings, PayloadError):
                rejections.append(_message_rejection(readings.reason, readings.message_vi, readings.message_en))
            else:
                for reading in readings:
                    verdict = judge(reading, device, received_at)
                    if isinstance(verdict, Rejection):
                        rejections.append(verdict)
                        continue
                    stream, when, value = verdict
                    rows[(stream.id, when)] = (value, received_at)
                    outcome.accepted += 1
        if not rejections:
            continue
        outcome.rejections = rejections
        by_reason: dict[DeadLetterReason, list[Rejection]] = defaultdict(list)
        for rejection in rejections:
            by_reason[rejection.reason].append(rejection)
        for group in by_reason.values():
            dead_rows.append(_dead_letter_row(message, device, group, received_at))
            dead_owner.append(position)

    ordered = sorted((d, t, v, r) for (d, t), (v, r) in rows.items())
    await repository.write_readings(session, ordered)
    streams = sorted({d for d, _, _, _ in ordered})

    touched = {device_id: when for device_id, when in seen_at.items() if _needs_touch(seen[device_id], when)}
    await repository.touch_devices(session, touched)
    for device_id in await repository.mark_online(session, [d.id for d in seen.values() if not d.is_online]):
        device = seen[device_id]
        record_event(
            session,
            DeviceCameOnline(device_id=device.id, device_code=device.code, previous_seen_at=device.last_seen_at),
        )
    # The cached devices follow what this transaction wrote (a failed commit empties the cache).
    for device_id, when in touched.items():
        seen[device_id].last_seen_at = when
    for device in seen.values():
        device.is_online = True

    dead_ids = await repository.insert_dead_letters(session, dead_rows)
    for dead_id, position, row in zip(dead_ids, dead_owner, dead_rows, strict=True):
        result.outcomes[position].dead_letter_ids.append(dead_id)
        result.dead_letter_reasons.append(DeadLetterReason(row["reason"]))
        record_event(
            session,
            DeadLetterRecorded(
                dead_letter_id=dead_id, reason=row["reason"], device_code=row["device_code"], source=row["source"]
            ),
        )
    if ordered:
        record_event(
            session,
            ObservationsReceived(
                datastream_ids=streams,
                count=len(ordered),
                min_time=min(t for _, t, _, _ in ordered),
                max_time=max(t for _, t, _, _ in ordered),
                source=source.value,
            ),
        )
    result.accepted = len(ordered)
    return result


def count_committed(result: BatchResult, seconds: float | None = None) -> None:
    """Update the Prometheus counters once a batch is committed."""
    source = result.source.value
    READINGS.labels(source=source).inc(result.accepted)
    MESSAGES.labels(source=source).inc(len(result.outcomes))
    for reason in result.dead_letter_reasons:
        DEAD_LETTERS.labels(reason=reason.value).inc()
    if seconds is not None:
        BATCH_SECONDS.labels(source=source).observe(seconds)


async def _storage_dead_letter(session: AsyncSession, message: InboundMessage, error: Exception) -> BatchResult:
    first_line = str(error).splitlines()[0][:300] if str(error) else ""
    detail = f"{type(error).__name__}: {first_line}"
    rejection = Rejection(
        DeadLetterReason.STORAGE_REJECTED,
        f"Cơ sở dữ liệu từ chối bản tin: {detail}",
        f"The database refused the message: {detail}",
    )
    ids = await repository.insert_dead_letters(
        session, [_dead_letter_row(message, None, [rejection], message.received_at or utc_now())]
    )
    record_event(
        session,
        DeadLetterRecorded(
            dead_letter_id=ids[0],
            reason=rejection.reason.value,
            device_code=message.device_code,
            source=message.source.value,
        ),
    )
    await session.commit()
    return BatchResult(
        source=message.source,
        outcomes=[MessageOutcome(rejections=[rejection], dead_letter_ids=ids)],
        dead_letter_reasons=[rejection.reason],
    )


async def write_and_commit(session: AsyncSession, messages: Sequence[InboundMessage]) -> BatchResult:
    """Write a batch and commit it; a batch the database refuses is split so that only the culprit is lost.

    The culprit becomes a `storage_rejected` dead letter. Connection problems are raised: the caller retries
    the batch (MQTT does not acknowledge it).
    """
    started = clock.perf_counter()
    try:
        result = await write_batch(session, messages)
        await session.commit()
    except BaseException as exc:
        # What the cache learnt from this batch (devices touched, online) was not committed.
        devices.invalidate()
        if not isinstance(exc, POISON_ERRORS):
            raise
        await session.rollback()
        if len(messages) == 1:
            log.warning("telemetry message refused by the database", extra={"error": str(exc)[:300]})
            result = await _storage_dead_letter(session, messages[0], exc)
            count_committed(result)
            return result
        log.warning(
            "telemetry batch refused by the database; retrying message by message", extra={"error": str(exc)[:300]}
        )
        results = [await write_and_commit(session, [message]) for message in messages]
        return BatchResult(
            source=messages[0].source,
            outcomes=[outcome for r in results for outcome in r.outcomes],
            accepted=sum(r.accepted for r in results),
            dead_letter_reasons=[reason for r in results for reason in r.dead_letter_reasons],
        )
    count_committed(result, clock.perf_counter() - started)
    return result


async def ingest_messages(runtime: Runtime, messages: Sequence[InboundMessage]) -> BatchResult:
    """Validate, write and commit a batch in a transaction of its own; raise if it could not be committed."""
    async with runtime.db.session() as session:
        return await write_and_commit(session, messages)
