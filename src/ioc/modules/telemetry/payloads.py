"""Reading device payloads into readings: the JSON format of the product and SenML (RFC 8428).

No database here: a payload becomes a list of `RawReading`s, or a `PayloadError` when the message as a
whole cannot be read. Problems of single readings (a bad timestamp, a text value) stay on the reading and
are judged by the ingestion step, so that the good readings of a message are kept.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .constants import MAX_PAYLOAD_BYTES, SENML_RELATIVE_TIME_LIMIT, DeadLetterReason

SENML_CONTENT_TYPE = "application/senml+json"
# Fields of a SenML record (RFC 8428 §4.1, §4.2); one of them marks an array as SenML.
SENML_FIELDS = frozenset({"bn", "bt", "bu", "bv", "bs", "bver", "n", "u", "v", "vs", "vb", "vd", "s", "t", "ut"})
SENML_OTHER_VALUE_FIELDS = ("vs", "vb", "vd")


class PayloadError(Exception):
    """The message as a whole cannot be read."""

    def __init__(self, reason: DeadLetterReason, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.reason = reason
        self.message_vi = message_vi
        self.message_en = message_en


class NonFinite:
    """A NaN or Infinity literal found in the JSON; never a valid reading."""

    def __init__(self, literal: str) -> None:
        self.literal = literal

    def __repr__(self) -> str:
        return self.literal


@dataclass(slots=True)
class RawReading:
    """One value as it came in; `time` None means "when it was received"."""

    index: int
    key: str
    value: Any
    time: datetime | None = None
    # (Vietnamese, English) when the timestamp could not be read.
    time_problem: tuple[str, str] | None = None
    # Names to look the datastream up by, most specific first (SenML names carry a base name).
    candidates: tuple[str, ...] = field(default=())
    unit: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """Return the names to try, the key itself first."""
        return self.candidates or (self.key,)


def is_number(value: Any) -> bool:
    """Tell whether a JSON value is a finite number (booleans are not numbers here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# One decoder for every payload: `json.loads` with a keyword builds a new decoder per call.
_DECODER = json.JSONDecoder(parse_constant=NonFinite)


def _malformed(message_vi: str, message_en: str) -> PayloadError:
    return PayloadError(DeadLetterReason.MALFORMED_PAYLOAD, message_vi, message_en)


def decode_json(data: bytes | str) -> Any:
    """Decode a payload as JSON or raise PayloadError."""
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    if size > MAX_PAYLOAD_BYTES:
        raise PayloadError(
            DeadLetterReason.PAYLOAD_TOO_LARGE,
            f"Bản tin {size} byte, vượt giới hạn {MAX_PAYLOAD_BYTES} byte.",
            f"The message has {size} bytes, over the {MAX_PAYLOAD_BYTES}-byte limit.",
        )
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise _malformed("Bản tin không phải văn bản UTF-8.", "The message is not UTF-8 text.") from exc
    if not text or text.isspace():
        raise _malformed("Bản tin rỗng.", "The message is empty.")
    try:
        return _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        detail = str(exc)[:200]
        raise _malformed(
            f"Bản tin không phải JSON hợp lệ: {detail}", f"The message is not valid JSON: {detail}"
        ) from exc


def simple_record(data: bytes | str, content_type: str | None = None) -> tuple[dict[str, Any], Any] | None:
    """Return (values, ts) of a payload that is one `{"ts", "values"}` object, else None (`parse_payload` decides).

    The shape almost every device sends, read without building a `RawReading` per value; anything unusual,
    including every payload that would be refused as a whole, goes the full way and gets its reason there.
    """
    if content_type is not None or not isinstance(data, bytes) or len(data) > MAX_PAYLOAD_BYTES:
        return None
    try:
        document = _DECODER.decode(data.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    if type(document) is not dict:
        return None
    values = document.get("values")
    if type(values) is not dict:
        return None
    return values, document.get("ts")


def parse_timestamp(value: Any) -> tuple[datetime | None, tuple[str, str] | None]:
    """Read `ts`: ISO 8601 with an offset, or milliseconds since the epoch; None means absent."""
    if value is None:
        return None, None
    if is_number(value):
        try:
            return datetime.fromtimestamp(float(value) / 1000.0, UTC), None
        except (OverflowError, OSError, ValueError):
            return None, (f"Dấu thời gian {value} ngoài phạm vi.", f"Timestamp {value} is out of range.")
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None, (
                f"Dấu thời gian {value[:60]!r} không đúng ISO 8601 hay mili giây kể từ 1970.",
                f"Timestamp {value[:60]!r} is neither ISO 8601 nor milliseconds since 1970.",
            )
        if parsed.tzinfo is None:
            return None, (
                f"Dấu thời gian {value[:60]!r} thiếu múi giờ (thêm Z hoặc +07:00).",
                f"Timestamp {value[:60]!r} has no offset (add Z or +07:00).",
            )
        return parsed.astimezone(UTC), None
    return None, (
        f"Dấu thời gian kiểu {type(value).__name__} không đọc được.",
        f"A timestamp of type {type(value).__name__} cannot be read.",
    )


def _product_record(record: Any, index: int) -> list[RawReading]:
    if not isinstance(record, dict):
        raise _malformed(f"Bản ghi {index} không phải đối tượng JSON.", f"Record {index} is not a JSON object.")
    values = record.get("values")
    if not isinstance(values, dict):
        raise _malformed(
            f'Bản ghi {index} thiếu "values" dạng đối tượng {{"khoá": số}}.',
            f'Record {index} has no "values" object {{"key": number}}.',
        )
    time, problem = parse_timestamp(record.get("ts"))
    # JSON object keys are always strings.
    return [RawReading(index, key, value, time, problem) for key, value in values.items()]


def _senml_time(value: Any, now: datetime) -> tuple[datetime | None, tuple[str, str] | None]:
    if not is_number(value):
        return None, (f"Thời gian SenML {value!r} không phải số.", f"SenML time {value!r} is not a number.")
    seconds = float(value)
    try:
        if seconds == 0:
            return None, None
        if abs(seconds) < SENML_RELATIVE_TIME_LIMIT:
            return now + timedelta(seconds=seconds), None
        return datetime.fromtimestamp(seconds, UTC), None
    except (OverflowError, OSError, ValueError):
        return None, (f"Thời gian SenML {value!r} ngoài phạm vi.", f"SenML time {value!r} is out of range.")


def _senml_candidates(name: str, short: str) -> tuple[str, ...]:
    candidates = [name]
    if short and short not in candidates:
        candidates.append(short)
    for separator in (":", "/"):
        tail = name.rsplit(separator, 1)[-1]
        if tail and tail not in candidates:
            candidates.append(tail)
    return tuple(candidates)


def parse_senml(records: list[Any], now: datetime) -> list[RawReading]:
    """Resolve a SenML pack (base name, base time, base value, relative times) into readings."""
    base_name, base_unit = "", None
    base_time: Any = 0
    base_value: Any = 0
    readings: list[RawReading] = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise _malformed(f"Bản ghi SenML {index} không phải đối tượng.", f"SenML record {index} is not an object.")
        if "bver" in record and (not isinstance(record["bver"], int) or record["bver"] > 10):
            raise _malformed("Phiên bản SenML không hỗ trợ.", "Unsupported SenML version.")
        if "bn" in record:
            if not isinstance(record["bn"], str):
                raise _malformed("Tên cơ sở SenML (bn) phải là chuỗi.", "SenML base name (bn) must be a string.")
            base_name = record["bn"]
        if "bt" in record:
            base_time = record["bt"]
        if "bu" in record:
            base_unit = record["bu"] if isinstance(record["bu"], str) else None
        if "bv" in record:
            base_value = record["bv"]
        has_value = any(name in record for name in ("v", "s", *SENML_OTHER_VALUE_FIELDS))
        short = record.get("n", "")
        if not isinstance(short, str):
            raise _malformed(
                f"Tên SenML ở bản ghi {index} phải là chuỗi.", f"SenML name in record {index} must be a string."
            )
        if not has_value and not short:
            continue  # a record that only sets base fields
        name = base_name + short
        if not name:
            raise _malformed(f"Bản ghi SenML {index} không có tên.", f"SenML record {index} has no name.")
        value: Any
        if "v" in record:
            value = record["v"]
            if is_number(value) and is_number(base_value):
                value = float(value) + float(base_value)
        else:
            value = next((record[f] for f in SENML_OTHER_VALUE_FIELDS if f in record), record.get("s"))
            if not has_value:
                value = None
        time_value = record.get("t", 0)
        bad_time = time_value if not is_number(time_value) else base_time
        if is_number(time_value) and is_number(base_time):
            time, problem = _senml_time(float(time_value) + float(base_time), now)
        else:
            time, problem = _senml_time(bad_time, now)
        unit = record.get("u") if isinstance(record.get("u"), str) else base_unit
        readings.append(
            RawReading(
                index=index,
                key=name,
                value=value,
                time=time,
                time_problem=problem,
                candidates=_senml_candidates(name, short),
                unit=unit,
            )
        )
    return readings


def _is_senml(records: list[Any]) -> bool:
    return all(isinstance(r, dict) and "values" not in r and SENML_FIELDS.intersection(r) for r in records)


def parse_payload(data: bytes | str, now: datetime, content_type: str | None = None) -> list[RawReading]:
    """Read a payload: one `{"ts", "values"}` object, a list of them, or a SenML pack."""
    document = decode_json(data)
    senml_declared = bool(content_type and content_type.split(";")[0].strip().lower() == SENML_CONTENT_TYPE)
    if isinstance(document, dict):
        if senml_declared:
            raise _malformed("Gói SenML phải là một mảng.", "A SenML pack must be an array.")
        return _product_record(document, 0)
    if isinstance(document, list):
        if not document:
            raise _malformed("Bản tin là một mảng rỗng.", "The message is an empty array.")
        if senml_declared or _is_senml(document):
            return parse_senml(document, now)
        readings: list[RawReading] = []
        for index, record in enumerate(document):
            readings.extend(_product_record(record, index))
        return readings
    raise _malformed(
        'Bản tin phải là đối tượng {"ts": ..., "values": {...}}, một mảng các đối tượng đó, hoặc gói SenML.',
        'The message must be a {"ts": ..., "values": {...}} object, an array of them, or a SenML pack.',
    )
