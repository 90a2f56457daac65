"""The fast ingestion path: the MQTT wire format, the cached device registry and its invalidation."""

from __future__ import annotations

import asyncio
import struct
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from ioc.core.runtime import Runtime
from ioc.core.time import utc_now
from ioc.modules.telemetry import ingest_messages
from ioc.modules.telemetry.constants import DeadLetterReason
from ioc.modules.telemetry.models import Datastream, Device, DirtyHour
from ioc.modules.telemetry.mqtt_client import (
    Message,
    MqttConnection,
    MqttError,
    connect_packet,
    parse_publish,
    puback_packets,
    publish_packet,
    split_packets,
    varint,
)
from ioc.modules.telemetry.schemas import DatastreamCreate, DeviceUpdate
from ioc.modules.telemetry.service import add_datastream, update_device

from ...conftest import require_service
from .conftest import DeviceFactory
from .test_ingest import dead_letters, mqtt, ms, observations


def test_packets_split_across_reads_come_out_whole_and_in_order() -> None:
    first = publish_packet("ioc/telemetry/KK-01", b'{"values": {"pm25": 1}}', 1, 7)
    second = publish_packet("ioc/telemetry/KK-02", b"x" * 300, 1, 8)  # a two-byte remaining length
    stream = first + second
    buffer = bytearray(stream[: len(first) + 3])
    packets = split_packets(buffer)
    assert [parse_publish(f, body, 5) for f, body in packets] == [
        Message("ioc/telemetry/KK-01", b'{"values": {"pm25": 1}}', 1, 7)
    ]
    buffer.extend(stream[len(first) + 3 :])
    [(flags, body)] = split_packets(buffer)
    assert parse_publish(flags, body, 5) == Message("ioc/telemetry/KK-02", b"x" * 300, 1, 8)
    assert buffer == bytearray()
    # MQTT 3.1.1 has no properties; QoS 0 has no packet id.
    flags, body = split_packets(bytearray(publish_packet("a/b", b"1", 0, version=4)))[0]
    assert parse_publish(flags, body, 4) == Message("a/b", b"1", 0, 0)


def test_encodings_follow_the_specification() -> None:
    assert [varint(n) for n in (0, 127, 128, 16_383, 16_384)] == [
        b"\x00",
        b"\x7f",
        b"\x80\x01",
        b"\xff\x7f",
        b"\x80\x80\x01",
    ]
    assert puback_packets([1, 258]) == b"\x40\x02\x00\x01\x40\x02\x01\x02"
    packet = connect_packet("ioc-80", keepalive=30, clean_start=False, username="u", password="p")
    # Protocol 5, flags: username + password, no clean start; Session Expiry never, Receive Maximum 65,535.
    assert packet[2:12] == b"\x00\x04MQTT\x05\xc0\x00\x1e"
    assert b"\x11\xff\xff\xff\xff\x21\xff\xff" in packet
    with pytest.raises(MqttError):
        split_packets(bytearray(b"\x30\xff\xff\xff\xff\x01"))


async def test_a_subscriber_gets_more_unacknowledged_messages_than_mosquittos_default_window() -> None:
    """Mosquitto sends a 3.1.1 subscriber 20 unacknowledged messages; MQTT 5's Receive Maximum lifts that."""
    require_service("Mosquitto", "127.0.0.1", 1883)
    topic = f"ioc-test/{uuid.uuid4().hex[:12]}"
    received: list[Message] = []
    arrived = asyncio.Event()

    def collect(messages: list[Message]) -> None:
        received.extend(messages)
        if len(received) >= 200:
            arrived.set()

    subscriber = await MqttConnection.open("127.0.0.1", 1883, f"{topic.replace('/', '-')}-sub", on_messages=collect)
    publisher = await MqttConnection.open("127.0.0.1", 1883, f"{topic.replace('/', '-')}-pub")
    try:
        assert await subscriber.subscribe(f"{topic}/+", qos=1) == 1
        await asyncio.gather(*(publisher.publish(f"{topic}/d", struct.pack("!I", n)) for n in range(200)))
        await asyncio.wait_for(arrived.wait(), 10)  # none acknowledged yet
        assert sorted(struct.unpack("!I", m.payload)[0] for m in received) == list(range(200))
        subscriber.ack(m.packet_id for m in received)
    finally:
        await publisher.close()
        await subscriber.close()


async def test_registry_changes_reach_ingestion_at_once(runtime: Runtime, make_device: DeviceFactory) -> None:
    await make_device("KK-01")
    ts = ms(utc_now()) - 60_000
    await ingest_messages(runtime, [mqtt("KK-01", {"ts": ts, "values": {"pm25": 10, "no2": 5}})])
    assert [v for _, v in await observations(runtime)] == [10.0]
    assert [d.reason for d in await dead_letters(runtime)] == [DeadLetterReason.UNKNOWN_KEY]
    # A datastream added and a device disabled after the cache was filled are seen by the next batch.
    async with runtime.db.transaction() as session:
        await add_datastream(
            session, "KK-01", DatastreamCreate(key="no2", observed_property="NO2", unit_symbol="µg/m³")
        )
    await ingest_messages(runtime, [mqtt("KK-01", {"ts": ts + 1, "values": {"no2": 6}})])
    assert [v for _, v in await observations(runtime, "no2")] == [6.0]
    async with runtime.db.transaction() as session:
        await update_device(session, "KK-01", DeviceUpdate(is_active=False))
    await ingest_messages(runtime, [mqtt("KK-01", {"ts": ts + 2, "values": {"pm25": 11}})])
    assert [d.reason for d in await dead_letters(runtime)][-1] == DeadLetterReason.DEVICE_DISABLED
    assert [v for _, v in await observations(runtime)] == [10.0]


async def test_a_batch_that_fails_to_commit_leaves_no_stale_cache(
    runtime: Runtime, make_device: DeviceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_device("KK-01")
    ts = ms(utc_now()) - 60_000

    async def broken(*_args: object) -> None:
        raise ConnectionError("database went away")

    # Fails after the cache was told the device is online, before the commit.
    monkeypatch.setattr("ioc.modules.telemetry.repository.insert_dead_letters", broken)
    with pytest.raises(ConnectionError):
        await ingest_messages(runtime, [mqtt("KK-01", {"ts": ts, "values": {"pm25": 1}})])
    monkeypatch.undo()
    # The failed batch had marked the device online in the cache; the retry must still do it in the database.
    await ingest_messages(runtime, [mqtt("KK-01", {"ts": ts, "values": {"pm25": 1}})])
    async with runtime.db.session() as session:
        online = await session.scalar(select(Device.is_online).where(Device.code == "KK-01"))
    assert online is True
    assert [v for _, v in await observations(runtime)] == [1.0]


async def test_a_bulk_batch_marks_its_hours_and_moves_the_latest_value_forward_only(
    runtime: Runtime, make_device: DeviceFactory
) -> None:
    """Large batches take the COPY path on PostgreSQL, where the follow-up writes are one message."""
    await make_device("KK-01")
    start = (utc_now() - timedelta(hours=5)).replace(minute=0, second=0, microsecond=0)
    minutes = list(range(250))
    records = [{"ts": ms(start + timedelta(minutes=m)), "values": {"pm25": m % 50}} for m in reversed(minutes)]
    await ingest_messages(runtime, [mqtt("KK-01", records)])
    newest = start + timedelta(minutes=249)
    older = [{"ts": ms(start - timedelta(minutes=m + 1)), "values": {"pm25": 7}} for m in range(250)]
    await ingest_messages(runtime, [mqtt("KK-01", older)])  # late readings: the latest value stays
    async with runtime.db.session() as session:
        stream = await session.scalar(select(Datastream).where(Datastream.key == "pm25"))
        assert stream is not None
        marked = await session.scalars(select(DirtyHour.bucket).where(DirtyHour.datastream_id == stream.id))
        hours = sorted(marked.all())
    assert (stream.last_time, stream.last_value) == (newest, float(249 % 50))
    first_hour = (start - timedelta(minutes=250)).replace(minute=0)
    assert hours == [first_hour + timedelta(hours=h) for h in range(len(hours))]
    assert hours[-1] == newest.replace(minute=0)
