"""A steady MQTT load for long-running tests: sensors publishing QoS 1 readings at a set rate.

Run as its own process so that publishing never competes with the test's event loop for the GIL:

    python -m tests.support.mqtt_load --prefix ioc/telemetry --rate 1000 --seconds 180 --device KK-01:pm25,pm10,co ...

Each message is `{"ts": <epoch ms>, "values": {three keys}}`; every device's timestamps step by one millisecond
from a start point in the recent past, so no two messages of a device share a time (writes are idempotent on
(datastream, time), and a repeated time would hide a lost message). When done it prints one JSON line:
{"sent": n, "acked": n, "readings": n × keys, "start_ms": t0}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass

from ioc.modules.telemetry.mqtt_client import connect_packet, publish_packet

TICK_SECONDS = 0.01
# Messages published but not yet acknowledged: enough to keep a 2-core broker busy without flooding it.
PUBLISH_WINDOW = 5000
# How long to wait, after the last publication, for the broker to acknowledge every message.
ACK_WAIT_SECONDS = 60.0


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
    # Packets written straight to the socket (MQTT 3.1.1, where Mosquitto caps no publisher's window): a client
    # library's per-message bookkeeping in Python cannot sustain several thousand QoS 1 messages a second.
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(connect_packet(f"ioc-load-{uuid.uuid4().hex[:10]}", keepalive=60, clean_start=True, version=4))
    connack = await reader.readexactly(4)
    if connack[0] >> 4 != 2 or connack[3] != 0:
        raise RuntimeError(f"broker refused the publisher: {connack!r}")
    acked = 0

    async def count_acks() -> None:
        nonlocal acked
        pending = 0
        while chunk := await reader.read(1 << 16):
            pending += len(chunk)  # every packet from the broker here is a 4-byte PUBACK
            acked += pending // 4
            pending %= 4

    counting = asyncio.create_task(count_acks())
    total = int(rate * seconds)
    per_device = total // len(devices) + 1
    # Start in the past, so that the last message is still a little before now: late data is normal for sensors.
    start_ms = int(time.time() * 1000) - per_device - 60_000
    values_rng = random.Random(20251126)
    sent = packet_id = 0
    began = time.monotonic()
    while sent < total:
        due = min(total, int((time.monotonic() - began) * rate) + 1)
        packets: list[bytes] = []
        while sent < due and sent - acked < PUBLISH_WINDOW:
            device = devices[sent % len(devices)]
            body = {
                "ts": start_ms + sent // len(devices),
                "values": {key: round(values_rng.uniform(5.0, 60.0), 2) for key in device.keys},
            }
            packet_id = packet_id % 65_535 + 1
            packets.append(publish_packet(f"{prefix}/{device.code}", json.dumps(body).encode(), 1, packet_id, 4))
            sent += 1
        if packets:
            writer.write(b"".join(packets))
            await writer.drain()
        await asyncio.sleep(TICK_SECONDS)
    deadline = time.monotonic() + ACK_WAIT_SECONDS
    while acked < sent and time.monotonic() < deadline:  # noqa: ASYNC110 - a counter, polled
        await asyncio.sleep(TICK_SECONDS)
    counting.cancel()
    writer.close()
    keys = sum(len(devices[i % len(devices)].keys) for i in range(sent))
    return {"sent": sent, "acked": acked, "readings": keys, "start_ms": start_ms}


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
