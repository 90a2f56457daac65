"""Plain `{"ts", "values"}` messages take a shorter way through ingestion; they must end exactly as the long way.

MQTT payloads arrive as bytes and plain ones are judged without building a reading object per value; the same
payload given as text goes the full way (`parse_payload`, `judge`). Each case is sent both ways to two devices
with the same datastreams, and what is stored, refused and answered must be the same.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from ioc.core.runtime import Runtime
from ioc.core.time import utc_now
from ioc.modules.telemetry import InboundMessage, IngestSource, ingest_messages
from ioc.modules.telemetry.ingest import BatchResult
from ioc.modules.telemetry.models import Datastream, DeadLetter, Device, Observation
from ioc.modules.telemetry.payloads import simple_record
from ioc.modules.telemetry.schemas import DatastreamCreate

from .conftest import DeviceFactory
from .test_ingest import ms

STREAMS = (
    DatastreamCreate(key="pm25", observed_property="PM2.5", unit_symbol="µg/m³", valid_min=0, valid_max=1000),
    DatastreamCreate(key="rh", observed_property="Relative humidity", unit_symbol="%", valid_min=0, valid_max=100),
    DatastreamCreate(key="lvl", observed_property="Water level", unit_symbol="m", retention_days=1),
)


def _cases() -> list[Any]:
    now = utc_now().replace(microsecond=0)
    recent = ms(now - timedelta(minutes=5))
    return [
        {"ts": recent, "values": {"pm25": 12.5, "rh": 60, "lvl": 1.25}},
        {"values": {"pm25": 13}},
        {"ts": (now - timedelta(minutes=4)).isoformat(), "values": {"pm25": 14.0}},
        {"ts": recent + 1, "values": {}},
        {"ts": recent + 2, "values": {"pm25": 15, "nope": 1}},
        {"ts": recent + 3, "values": {"pm25": -1, "rh": 50}},
        {"ts": recent + 4, "values": {"rh": 101.5}},
        {"ts": recent + 5, "values": {"pm25": "16", "rh": True, "lvl": None}},
        '{"ts": ' + str(recent + 6) + ', "values": {"pm25": NaN, "rh": Infinity}}',
        {"ts": recent + 7, "values": {"pm25": 2**60}},
        {"ts": ms(now + timedelta(hours=1)), "values": {"pm25": 17}},
        {"ts": 1_600_000, "values": {"pm25": 18}},
        {"ts": ms(now - timedelta(days=3)), "values": {"pm25": 19, "lvl": 2.5}},
        {"ts": "2024-01-01T00:00:00", "values": {"pm25": 20}},
        {"ts": [1], "values": {"pm25": 21}},
        {"ts": recent + 8, "values": [1, 2]},
        [{"ts": recent + 9, "values": {"pm25": 22}}],
        [{"n": "pm25", "v": 23}],
        "not json",
        "",
        b"\xff\xfe",
    ]


def _payload(case: Any) -> bytes:
    return case if isinstance(case, bytes) else (case if isinstance(case, str) else json.dumps(case)).encode()


def _message(code: str, payload: bytes | str, received_at: Any) -> InboundMessage:
    return InboundMessage(
        payload=payload,
        source=IngestSource.MQTT,
        device_code=code,
        topic=f"ioc/telemetry/{code}",
        received_at=received_at,
    )


def _same_device(items: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Return the items as plain JSON values, the reference device named as the other one (texts name it)."""
    return json.loads(json.dumps(items, default=str).replace("KK-FULL", "KK-FAST"))  # type: ignore[no-any-return]


def _outcomes(result: BatchResult) -> list[tuple[Any, ...]]:
    return [
        (
            o.accepted,
            [(r.reason, r.index, r.key, r.time, r.value, r.message_vi, r.message_en) for r in o.rejections],
            len(o.dead_letter_ids),
        )
        for o in result.outcomes
    ]


async def _stored(runtime: Runtime, code: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    async with runtime.db.session() as session:
        readings = await session.execute(
            select(Datastream.key, Observation.time, Observation.value, Observation.received_at)
            .join(Observation, Observation.datastream_id == Datastream.id)
            .join(Device, Device.id == Datastream.device_id)
            .where(Device.code == code)
            .order_by(Datastream.key, Observation.time)
        )
        letters = await session.execute(
            select(DeadLetter.reason, DeadLetter.message_en, DeadLetter.payload, DeadLetter.detail)
            .where(DeadLetter.device_code == code)
            .order_by(DeadLetter.id)
        )
        latest = await session.execute(
            select(Datastream.key, Datastream.last_time, Datastream.last_value)
            .join(Device, Device.id == Datastream.device_id)
            .where(Device.code == code)
            .order_by(Datastream.key)
        )
        return [tuple(r) for r in readings] + [tuple(r) for r in latest], [tuple(r) for r in letters]


async def test_plain_bytes_end_exactly_as_the_full_reader_decides(runtime: Runtime, make_device: DeviceFactory) -> None:
    await make_device("KK-FAST", streams=STREAMS)
    await make_device("KK-FULL", streams=STREAMS)
    received_at = utc_now()
    cases = _cases()
    fast = await ingest_messages(runtime, [_message("KK-FAST", _payload(c), received_at) for c in cases])
    # Text payloads never take the shorter way: the reference.
    full = await ingest_messages(
        runtime,
        [_message("KK-FULL", _payload(c).decode("utf-8", errors="surrogateescape"), received_at) for c in cases[:-1]],
    )
    assert _same_device(_outcomes(fast)[:-1]) == _same_device(_outcomes(full))
    assert fast.accepted == full.accepted > 0
    fast_rows, fast_letters = await _stored(runtime, "KK-FAST")
    full_rows, full_letters = await _stored(runtime, "KK-FULL")
    assert fast_rows == full_rows
    # The last case (not UTF-8) exists only as bytes; every other dead letter matches one for one.
    assert _same_device(fast_letters[:-1]) == _same_device(full_letters)
    assert fast_letters[-1][0] == "malformed_payload"
    # Some readings of mixed messages were kept and some refused, on both ways.
    assert any(o[0] and o[1] for o in _outcomes(fast))


async def test_a_batch_of_plain_messages_keeps_the_last_copy_of_a_repeated_reading(
    runtime: Runtime, make_device: DeviceFactory
) -> None:
    await make_device("KK-FAST", streams=STREAMS)
    at = ms(utc_now() - timedelta(minutes=1))
    messages = [
        _message("KK-FAST", _payload({"ts": at, "values": {"pm25": value}}), utc_now()) for value in (1.0, 2.0, 3.0)
    ]
    result = await ingest_messages(runtime, messages)
    assert [o.accepted for o in result.outcomes] == [1, 1, 1]
    rows, letters = await _stored(runtime, "KK-FAST")
    assert [r[2] for r in rows if r[0] == "pm25" and len(r) == 4] == [3.0]
    assert letters == []


def test_only_a_single_plain_object_in_bytes_takes_the_shorter_way() -> None:
    assert simple_record(b'{"ts": 1772341200000, "values": {"pm25": 1}}') == ({"pm25": 1}, 1772341200000)
    assert simple_record(b'{"values": {}}') == ({}, None)
    assert simple_record('{"values": {"pm25": 1}}') is None  # text: the full reader
    assert simple_record(b'{"values": {"pm25": 1}}', "application/senml+json") is None
    for refused in (b'[{"values": {"pm25": 1}}]', b'{"values": [1]}', b"", b"{", b"\xff", b"[1]"):
        assert simple_record(refused) is None
