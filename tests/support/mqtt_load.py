"""A steady MQTT QoS 1 load: the publisher of the soak test and of the ingestion benchmark.

Run as its own process so that publishing never competes with the caller's event loop for the GIL:

    python -m tests.support.mqtt_load --prefix ioc/telemetry --rate 1000 --seconds 180 --device KK-01:pm25,pm10,co ...

Each message is `{"ts": <epoch ms>, "values": {three keys}}`; every device's timestamps step by one millisecond
from a start point in the recent past, so no two messages of a device share a time (writes are idempotent on
(datastream, time), and a repeated time would hide a lost message). When done it prints one JSON line:
{"sent": n, "acked": n, "readings": n × keys, "start_ms": t0}.

`RawPublisher` and `publish_steadily` are also the publisher of `bench/ingest.py`, which builds its own
messages and adds latency probes. They live here, with the other helpers that stand between the code under
test and a real service, rather than in the product: no `ioc` command or module publishes like this, and a load
generator only development tools call would be dead weight in the installed package. The benchmark imports
this module as `tests.support.mqtt_load`, which resolves because benchmarks run from the project root.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from ioc.modules.telemetry.mqtt_client import connect_packet, publish_packet

TICK_SECONDS = 0.01
# Messages published but not yet acknowledged: enough to keep a 2-core broker busy without flooding it.
PUBLISH_WINDOW = 5000
# How long to wait, after the last publication, for the broker to acknowledge every message.
ACK_WAIT_SECONDS = 60.0
# MQTT 3.1.1: Mosquitto caps no 3.1.1 publisher's window (an MQTT 5 publisher gets a receive maximum).
MQTT_VERSION = 4
# Every packet the broker sends a QoS 1 publisher of MQTT 3.1.1 is a PUBACK of this size.
PUBACK_BYTES = 4
MAX_PACKET_ID = 65_535

# A message: its topic and its body.
Message = tuple[str, bytes]


class RawPublisher:
    """One MQTT connection that writes QoS 1 PUBLISH packets straight to the socket and counts the PUBACKs.

    A client library's per-message bookkeeping in Python cannot sustain several thousand QoS 1 messages a
    second; here a message costs one packet built and one counter moved.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._packet_id = 0
        self.published = 0
        self.acked = 0
        self._counting = asyncio.create_task(self._count_acks())

    @classmethod
    async def connect(cls, host: str, port: int, client_id: str) -> RawPublisher:
        """Open a clean-session connection; fail if the broker refuses it."""
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(connect_packet(client_id, keepalive=60, clean_start=True, version=MQTT_VERSION))
        connack = await reader.readexactly(4)
        if connack[0] >> 4 != 2 or connack[3] != 0:
            writer.close()
            raise RuntimeError(f"broker refused the publisher: {connack!r}")
        return cls(reader, writer)

    @property
    def unacknowledged(self) -> int:
        """Return how many messages the broker has not acknowledged yet."""
        return self.published - self.acked

    def packet(self, topic: str, body: bytes) -> bytes:
        """Return the QoS 1 PUBLISH packet of one message, counted as published."""
        self._packet_id = self._packet_id % MAX_PACKET_ID + 1
        self.published += 1
        return publish_packet(topic, body, 1, self._packet_id, MQTT_VERSION)

    async def send(self, packets: list[bytes]) -> None:
        """Write packets to the socket in one go."""
        if packets:
            self._writer.write(b"".join(packets))
            await self._writer.drain()

    async def wait_acknowledged(self, within: float) -> None:
        """Wait until every published message is acknowledged, or `within` seconds have passed."""
        deadline = time.monotonic() + within
        while self.acked < self.published and time.monotonic() < deadline:  # noqa: ASYNC110 - a counter, polled
            await asyncio.sleep(TICK_SECONDS)

    def close(self) -> None:
        """Stop counting and close the connection."""
        self._counting.cancel()
        self._writer.close()

    async def _count_acks(self) -> None:
        pending = 0
        while chunk := await self._reader.read(1 << 16):
            pending += len(chunk)
            self.acked += pending // PUBACK_BYTES
            pending %= PUBACK_BYTES


async def publish_steadily(
    publisher: RawPublisher,
    rate: float,
    seconds: float,
    message: Callable[[int], Message],
    *,
    window: int = PUBLISH_WINDOW,
    tick: float = TICK_SECONDS,
    extra: Callable[[], list[Message]] | None = None,
) -> int:
    """Publish message(0), message(1)… at `rate` per second for `seconds`, `window` unacknowledged at most."""
    total = int(rate * seconds)
    sent = 0
    began = time.perf_counter()
    while sent < total:
        due = min(total, int((time.perf_counter() - began) * rate) + 1)
        packets: list[bytes] = []
        while sent < due and publisher.unacknowledged < window:
            packets.append(publisher.packet(*message(sent)))
            sent += 1
        # Messages outside the rate and the window (the benchmark's latency probes), asked for at every tick.
        if extra is not None:
            packets.extend(publisher.packet(topic, body) for topic, body in extra())
        await publisher.send(packets)
        await asyncio.sleep(tick)
    return sent  # how many of `message` were published


@dataclass(frozen=True)
class Device:
    """A device code and the datastream keys it reports."""

    code: str
    keys: tuple[str, ...]


def parse_device(text: str) -> Device:
    """Read `CODE:key1,key2,key3`."""
    code, _, keys = text.partition(":")
    return Device(code=code, keys=tuple(k for k in keys.split(",") if k))


async def publish(
    host: str, port: int, prefix: str, devices: list[Device], rate: float, seconds: float
) -> dict[str, int]:
    """Publish `rate` messages per second for `seconds`, round-robin over the devices; return the counts."""
    publisher = await RawPublisher.connect(host, port, f"ioc-load-{uuid.uuid4().hex[:10]}")
    per_device = int(rate * seconds) // len(devices) + 1
    # Start in the past, so that the last message is still a little before now: late data is normal for sensors.
    start_ms = int(time.time() * 1000) - per_device - 60_000
    values_rng = random.Random(20251126)

    def reading(number: int) -> Message:
        device = devices[number % len(devices)]
        body = {
            "ts": start_ms + number // len(devices),
            "values": {key: round(values_rng.uniform(5.0, 60.0), 2) for key in device.keys},
        }
        return f"{prefix}/{device.code}", json.dumps(body).encode()

    try:
        sent = await publish_steadily(publisher, rate, seconds, reading)
        await publisher.wait_acknowledged(ACK_WAIT_SECONDS)
    finally:
        publisher.close()
    readings = sum(len(devices[i % len(devices)].keys) for i in range(sent))
    return {"sent": sent, "acked": publisher.acked, "readings": readings, "start_ms": start_ms}


def main() -> None:
    """Parse the command line, publish, print the counts."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--device", action="append", required=True, type=parse_device)
    args = parser.parse_args()
    counts = asyncio.run(publish(args.host, args.port, args.prefix, args.device, args.rate, args.seconds))
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    main()
