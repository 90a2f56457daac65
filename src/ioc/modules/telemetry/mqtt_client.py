"""A small asyncio MQTT client (versions 5 and 3.1.1): what ingestion needs, at the rate it needs it.

Why not a library: paho-mqtt parses one packet per system call in a thread of its own and sends every PUBACK
separately; on a 2-core machine it tops out near 2,000 messages/s, far below the issue's 15,000. This client
reads the socket in large chunks, hands every PUBLISH of a chunk to the caller at once and writes many
acknowledgements in one call. It speaks MQTT 5 by default because only MQTT 5 lets a subscriber raise the
number of unacknowledged messages the broker sends (Receive Maximum, MQTT 5.0 §3.1.2.11.3); under 3.1.1
Mosquitto stops at `max_inflight_messages` (20 by default), which would cap a batch at 20 messages.

Scope: CONNECT (clean start or a persistent session), SUBSCRIBE, PUBLISH in both directions with QoS 0 and 1,
PUBACK, PINGREQ keep-alive and DISCONNECT. QoS 2 is never asked for, so never received.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# MQTT control packet types (the high nibble of the first byte).
CONNECT, CONNACK, PUBLISH, PUBACK = 1, 2, 3, 4
SUBSCRIBE, SUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 12, 13, 14
# MQTT 5 property identifiers used here (MQTT 5.0 §2.2.2.2).
PROP_SESSION_EXPIRY = 0x11
PROP_RECEIVE_MAXIMUM = 0x21
# A session kept by the broker while the subscriber is away; 0xFFFFFFFF means it never expires (§3.1.2.11.2),
# like clean_session=False under 3.1.1.
SESSION_NEVER_EXPIRES = 0xFFFFFFFF
# The most unacknowledged messages MQTT 5 lets a client accept (Receive Maximum is a two-byte integer).
RECEIVE_MAXIMUM = 65_535
READ_CHUNK = 256 * 1024
PINGREQ_PACKET = b"\xc0\x00"
DISCONNECT_PACKET = b"\xe0\x00"

_U16 = struct.Struct("!H")


class MqttError(Exception):
    """The broker refused or broke the conversation."""


@dataclass(frozen=True, slots=True)
class Message:
    """A PUBLISH received from the broker."""

    topic: str
    payload: bytes
    qos: int
    packet_id: int


def varint(value: int) -> bytes:
    """Encode a Variable Byte Integer (MQTT 5.0 §1.5.5)."""
    out = bytearray()
    while True:
        byte, value = value % 128, value // 128
        out.append(byte | 0x80 if value else byte)
        if not value:
            return bytes(out)


def utf8(text: str) -> bytes:
    """Encode a length-prefixed UTF-8 string."""
    data = text.encode("utf-8")
    return _U16.pack(len(data)) + data


def _packet(first_byte: int, body: bytes) -> bytes:
    return bytes((first_byte,)) + varint(len(body)) + body


def connect_packet(
    client_id: str,
    *,
    keepalive: int,
    clean_start: bool,
    username: str | None = None,
    password: str | None = None,
    version: int = 5,
    session_expiry: int = SESSION_NEVER_EXPIRES,
    receive_maximum: int = RECEIVE_MAXIMUM,
) -> bytes:
    """Build a CONNECT packet."""
    flags = (0x02 if clean_start else 0) | (0x80 if username is not None else 0) | (0x40 if password else 0)
    body = utf8("MQTT") + bytes((version, flags)) + _U16.pack(keepalive)
    if version == 5:
        props = bytes((PROP_SESSION_EXPIRY,)) + struct.pack("!I", 0 if clean_start else session_expiry)
        props += bytes((PROP_RECEIVE_MAXIMUM,)) + _U16.pack(receive_maximum)
        body += varint(len(props)) + props
    body += utf8(client_id)
    if username is not None:
        body += utf8(username)
    if password:
        body += utf8(password)
    return _packet(CONNECT << 4, body)


def subscribe_packet(packet_id: int, topic_filter: str, qos: int, version: int = 5) -> bytes:
    """Build a SUBSCRIBE packet for one topic filter."""
    props = b"\x00" if version == 5 else b""
    return _packet((SUBSCRIBE << 4) | 0x02, _U16.pack(packet_id) + props + utf8(topic_filter) + bytes((qos,)))


def publish_packet(topic: str, payload: bytes, qos: int, packet_id: int = 0, version: int = 5) -> bytes:
    """Build a PUBLISH packet."""
    body = utf8(topic) + (_U16.pack(packet_id) if qos else b"") + (b"\x00" if version == 5 else b"") + payload
    return _packet((PUBLISH << 4) | (qos << 1), body)


def puback_packets(packet_ids: Iterable[int]) -> bytes:
    """Build PUBACKs for several messages (success: the short form, valid in both versions)."""
    return b"".join(b"\x40\x02" + _U16.pack(packet_id) for packet_id in packet_ids)


def _read_varint(data: bytes | bytearray, position: int) -> tuple[int, int] | None:
    value, shift = 0, 0
    while position < len(data):
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
        if shift > 21:
            raise MqttError("malformed remaining length")
    return None


def split_packets(buffer: bytearray) -> list[tuple[int, bytes]]:
    """Remove the complete packets at the start of a buffer; return (first byte, body) of each."""
    packets: list[tuple[int, bytes]] = []
    position, size = 0, len(buffer)
    while position + 2 <= size:
        decoded = _read_varint(buffer, position + 1)
        if decoded is None:
            break
        length, start = decoded
        end = start + length
        if end > size:
            break
        packets.append((buffer[position], bytes(buffer[start:end])))
        position = end
    del buffer[:position]
    return packets


def parse_publish(first_byte: int, body: bytes, version: int) -> Message:
    """Read a PUBLISH body."""
    qos = (first_byte >> 1) & 0x03
    (topic_length,) = _U16.unpack_from(body, 0)
    position = 2 + topic_length
    topic = body[2:position].decode("utf-8")
    packet_id = 0
    if qos:
        (packet_id,) = _U16.unpack_from(body, position)
        position += 2
    if version == 5:
        decoded = _read_varint(body, position)
        if decoded is None:
            raise MqttError("malformed PUBLISH properties")
        length, position = decoded
        position += length
    return Message(topic, body[position:], qos, packet_id)


class MqttConnection:
    """One connection to a broker; `on_messages` gets the PUBLISHes of each chunk read, in order."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        version: int,
        keepalive: int,
        on_messages: Callable[[list[Message]], None] | None = None,
    ) -> None:
        self.version = version
        self.keepalive = keepalive
        self.on_messages = on_messages
        self.session_present = False
        self.closed = asyncio.Event()
        self._reader = reader
        self._writer = writer
        self._buffer = bytearray()
        self._waiting: dict[tuple[int, int], asyncio.Future[bytes]] = {}
        self._next_id = 0
        self._send_quota: asyncio.Semaphore = asyncio.Semaphore(RECEIVE_MAXIMUM)
        self._tasks: list[asyncio.Task[None]] = []
        self._heard = asyncio.get_running_loop().time()

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        client_id: str,
        *,
        keepalive: int = 30,
        clean_start: bool = True,
        username: str | None = None,
        password: str | None = None,
        tls: ssl.SSLContext | None = None,
        version: int = 5,
        on_messages: Callable[[list[Message]], None] | None = None,
        wait_seconds: float = 10.0,
    ) -> MqttConnection:
        """Connect, send CONNECT and wait for a successful CONNACK."""
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=tls, server_hostname=host if tls else None), wait_seconds
        )
        connection = cls(reader, writer, version=version, keepalive=keepalive, on_messages=on_messages)
        try:
            writer.write(
                connect_packet(
                    client_id,
                    keepalive=keepalive,
                    clean_start=clean_start,
                    username=username,
                    password=password,
                    version=version,
                )
            )
            await asyncio.wait_for(connection._handshake(), wait_seconds)
        except BaseException:
            writer.close()
            raise
        connection._tasks = [
            asyncio.create_task(connection._read_loop(), name="mqtt-read"),
            asyncio.create_task(connection._keep_alive(), name="mqtt-ping"),
        ]
        return connection

    async def _handshake(self) -> None:
        while True:
            packets = split_packets(self._buffer)
            if packets:
                first, body = packets[0]
                if first >> 4 != CONNACK or len(body) < 2:
                    raise MqttError("the broker did not answer CONNECT with CONNACK")
                if body[1] != 0:
                    raise MqttError(f"connection refused by the broker (reason code {body[1]:#04x})")
                self.session_present = bool(body[0] & 0x01)
                if self.version == 5:
                    self._send_quota = asyncio.Semaphore(_receive_maximum(body))
                self._buffer.extend(b"".join(_packet(f, b) for f, b in packets[1:]))
                return
            chunk = await self._reader.read(READ_CHUNK)
            if not chunk:
                raise MqttError("the broker closed the connection during CONNECT")
            self._buffer.extend(chunk)

    def _packet_id(self) -> int:
        for _ in range(65_535):
            self._next_id = self._next_id % 65_535 + 1
            if (PUBACK, self._next_id) not in self._waiting and (SUBACK, self._next_id) not in self._waiting:
                return self._next_id
        raise MqttError("no free packet identifier")

    async def subscribe(self, topic_filter: str, qos: int = 1, wait_seconds: float = 10.0) -> int:
        """Subscribe to one topic filter; return the granted QoS."""
        packet_id = self._packet_id()
        waiter = self._expect(SUBACK, packet_id)
        self._write(subscribe_packet(packet_id, topic_filter, qos, self.version))
        body = await asyncio.wait_for(waiter, wait_seconds)
        code = body[-1]
        if code >= 0x80:
            raise MqttError(f"subscription to {topic_filter!r} refused (reason code {code:#04x})")
        return code

    async def publish(self, topic: str, payload: bytes, qos: int = 1, wait_seconds: float = 10.0) -> None:
        """Publish one message; with QoS 1, return once the broker has acknowledged it."""
        if not qos:
            self._write(publish_packet(topic, payload, 0, 0, self.version))
            return
        async with self._send_quota:
            packet_id = self._packet_id()
            waiter = self._expect(PUBACK, packet_id)
            self._write(publish_packet(topic, payload, qos, packet_id, self.version))
            body = await asyncio.wait_for(waiter, wait_seconds)
        if len(body) > 2 and body[2] >= 0x80:
            raise MqttError(f"publication to {topic!r} refused (reason code {body[2]:#04x})")

    def ack(self, packet_ids: Iterable[int]) -> None:
        """Acknowledge received QoS 1 messages, all in one write."""
        data = puback_packets(packet_ids)
        if data:
            self._write(data)

    async def close(self) -> None:
        """Send DISCONNECT (the session stays with the broker if it was persistent) and close."""
        if not self.closed.is_set():
            with contextlib.suppress(OSError, RuntimeError):
                self._writer.write(DISCONNECT_PACKET)
                await asyncio.wait_for(self._writer.drain(), 2.0)
        await self._shutdown()

    async def _shutdown(self) -> None:
        self.closed.set()
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        for task in self._tasks:
            if task is not current:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._writer.close()
        with contextlib.suppress(OSError, ssl.SSLError, asyncio.TimeoutError):
            await asyncio.wait_for(self._writer.wait_closed(), 1.0)
        for waiter in self._waiting.values():
            if not waiter.done():
                waiter.set_exception(MqttError("connection closed"))
        self._waiting.clear()

    def _write(self, data: bytes) -> None:
        if self.closed.is_set():
            raise MqttError("connection closed")
        self._writer.write(data)

    def _expect(self, kind: int, packet_id: int) -> asyncio.Future[bytes]:
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._waiting[(kind, packet_id)] = future
        return future

    async def _read_loop(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            # Packets that came in the same read as the CONNACK (a resumed session's redeliveries) go first.
            self._dispatch(split_packets(self._buffer))
            while True:
                chunk = await self._reader.read(READ_CHUNK)
                if not chunk:
                    return
                self._heard = loop.time()
                self._buffer.extend(chunk)
                self._dispatch(split_packets(self._buffer))
        except (OSError, MqttError, ValueError, struct.error):
            return
        finally:
            if not self.closed.is_set():
                await self._shutdown()

    def _dispatch(self, packets: list[tuple[int, bytes]]) -> None:
        messages: list[Message] = []
        for first, body in packets:
            kind = first >> 4
            if kind == PUBLISH:
                messages.append(parse_publish(first, body, self.version))
            elif kind in (PUBACK, SUBACK):
                waiter = self._waiting.pop((kind, _U16.unpack_from(body, 0)[0]), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(body)
            elif kind == DISCONNECT:
                raise MqttError("the broker disconnected")
        if messages and self.on_messages is not None:
            self.on_messages(messages)

    async def _keep_alive(self) -> None:
        loop = asyncio.get_running_loop()
        interval = max(self.keepalive / 2, 0.5)
        while not self.closed.is_set():
            await asyncio.sleep(interval)
            if loop.time() - self._heard > self.keepalive * 1.5:
                # No packet, not even a PINGRESP, for 1.5 keep-alive periods (MQTT 5.0 §3.1.2.10): the link is dead.
                await self._shutdown()
                return
            with contextlib.suppress(MqttError, OSError, RuntimeError):
                self._write(PINGREQ_PACKET)


def _receive_maximum(connack_body: bytes) -> int:
    """Read the broker's Receive Maximum from a CONNACK (65,535 when it sets none)."""
    decoded = _read_varint(connack_body, 2)
    if decoded is None:
        return RECEIVE_MAXIMUM
    length, position = decoded
    end = position + length
    while position < end:
        identifier = connack_body[position]
        position += 1
        if identifier == PROP_RECEIVE_MAXIMUM:
            return int(_U16.unpack_from(connack_body, position)[0])
        position = _skip_property(connack_body, identifier, position)
    return RECEIVE_MAXIMUM


# Property value sizes by identifier (MQTT 5.0 §2.2.2.2): 1, 2 and 4-byte integers; the rest are strings/binary.
_BYTE_PROPS = frozenset({0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A})
_TWO_BYTE_PROPS = frozenset({0x13, 0x21, 0x22, 0x23})
_FOUR_BYTE_PROPS = frozenset({0x02, 0x11, 0x18, 0x27})
_PAIR_PROPS = frozenset({0x26})


def _skip_property(data: bytes, identifier: int, position: int) -> int:
    if identifier in _BYTE_PROPS:
        return position + 1
    if identifier in _TWO_BYTE_PROPS:
        return position + 2
    if identifier in _FOUR_BYTE_PROPS:
        return position + 4
    if identifier == 0x0B:  # subscription identifier: a variable byte integer
        decoded = _read_varint(data, position)
        return decoded[1] if decoded else len(data)
    if identifier in _PAIR_PROPS:
        position += 2 + _U16.unpack_from(data, position)[0]
    return position + 2 + int(_U16.unpack_from(data, position)[0])
