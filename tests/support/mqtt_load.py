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
import json
import random
import threading
import time
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

TICK_SECONDS = 0.01
# Enough messages in flight to keep a 2-core broker busy without flooding it.
MAX_INFLIGHT = 1000

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


class Acks:
    """Counts the PUBACKs the broker returned."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def on_publish(self, client: mqtt.Client, userdata: object, mid: int, reason: object, props: object) -> None:
        """Count one acknowledged message."""
        with self.lock:
            self.count += 1


def publish(host: str, port: int, prefix: str, devices: list[Device], rate: float, seconds: float) -> dict[str, int]:
    """Publish `rate` messages per second for `seconds`, round-robin over the devices; return the counts."""
    acks = Acks()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"ioc-load-{random.getrandbits(40):x}")
    client.max_inflight_messages_set(MAX_INFLIGHT)
    client.max_queued_messages_set(0)
    client.on_publish = acks.on_publish
    client.connect(host, port)
    client.loop_start()
    total = int(rate * seconds)
    per_device = total // len(devices) + 1
    # Start in the past, so that the last message is still a little before now: late data is normal for sensors.
    start_ms = int(time.time() * 1000) - per_device - 60_000
    values_rng = random.Random(20251126)
    sent = 0
    began = time.monotonic()
    while sent < total:
        due = min(total, int((time.monotonic() - began) * rate) + 1)
        while sent < due:
            device = devices[sent % len(devices)]
            step = sent // len(devices)
            body = {
                "ts": start_ms + step,
                "values": {key: round(values_rng.uniform(5.0, 60.0), 2) for key in device.keys},
            }
            client.publish(f"{prefix}/{device.code}", json.dumps(body), qos=1)
            sent += 1
        time.sleep(TICK_SECONDS)
    # Wait for the broker's acknowledgements by count: keeping every message's handle for a 30-minute run would
    # hold millions of objects, and the client re-sends unacknowledged messages itself after a reconnect.
    deadline = time.monotonic() + ACK_WAIT_SECONDS
    while acks.count < sent and time.monotonic() < deadline:
        time.sleep(TICK_SECONDS)
    client.loop_stop()
    client.disconnect()
    keys = sum(len(devices[i % len(devices)].keys) for i in range(sent))
    return {"sent": sent, "acked": acks.count, "readings": keys, "start_ms": start_ms}


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
    print(json.dumps(publish(args.host, args.port, args.prefix, args.device, args.rate, args.seconds)), flush=True)


if __name__ == "__main__":
    main()
