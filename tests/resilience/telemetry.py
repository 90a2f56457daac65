"""Telemetry helpers of the resilience tests: numbered-reading devices, what was stored, waiting for ingestion."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Sequence

from sqlalchemy import select

from ioc.core.runtime import Runtime
from ioc.core.time import ensure_utc
from ioc.modules.telemetry import service
from ioc.modules.telemetry.models import Datastream, DeadLetter, Device, Observation
from ioc.modules.telemetry.mqtt import MqttConfig, publish
from ioc.modules.telemetry.schemas import DatastreamCreate, DeviceCreate

from .support import MQTT_HOST, NumberedPublisher, eventually

SEQ = DatastreamCreate(key="seq", observed_property="Số thứ tự bản tin / message number", unit_symbol="1")
# A probe reading is older than every numbered one, so that counting numbered readings never includes it.
PROBE_AGE_MS = 2 * 3_600_000


async def provision(runtime: Runtime, codes: Sequence[str]) -> None:
    """Register devices that each send one datastream, `seq`, the number of the reading."""
    async with runtime.db.transaction() as session:
        for code in codes:
            await service.create_device(session, DeviceCreate(code=code, name=f"Trạm thử {code}", datastreams=[SEQ]))


async def stored(runtime: Runtime, publisher: NumberedPublisher) -> list[tuple[str, int, float]]:
    """Return every numbered reading stored, as (device, time in ms, value), duplicates included."""
    async with runtime.db.session() as session:
        rows = await session.execute(
            select(Device.code, Observation.time, Observation.value)
            .join(Datastream, Datastream.id == Observation.datastream_id)
            .join(Device, Device.id == Datastream.device_id)
            .where(Device.code.in_(publisher.devices), Datastream.key == "seq")
        )
        found = [(code, round(ensure_utc(at).timestamp() * 1000), value) for code, at, value in rows]
    return [row for row in found if row[1] >= publisher.base_ms]


async def stored_count(runtime: Runtime, publisher: NumberedPublisher) -> int:
    """Return how many numbered readings are stored."""
    return len(await stored(runtime, publisher))


async def dead_letters(runtime: Runtime, topic_prefix: str) -> int:
    """Return how many messages of a topic prefix were refused."""
    async with runtime.db.session() as session:
        rows = await session.scalars(select(DeadLetter.topic).where(DeadLetter.topic.like(topic_prefix + "/%")))
        return len(rows.all())


async def wait_until_ingesting(runtime: Runtime, port: int, topic_prefix: str, device: str, within: float) -> None:
    """Publish probe readings until one is stored: the product's subscription is then in place."""
    config = MqttConfig(host=MQTT_HOST, port=port, client_id="", topic_prefix=topic_prefix)
    deadline = time.monotonic() + within
    while True:
        at = int(time.time() * 1000) - PROBE_AGE_MS
        await publish(config, [(f"{topic_prefix}/{device}", json.dumps({"ts": at, "values": {"seq": -1}}))])

        async def probe_stored() -> bool:
            async with runtime.db.session() as session:
                return bool(await session.scalar(select(Observation.value).where(Observation.value == -1).limit(1)))

        try:
            await eventually(probe_stored, within=2.0, what="probe reading stored")
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise AssertionError(f"the product did not ingest from {topic_prefix} within {within:.0f} s") from None
        await asyncio.sleep(0.2)


def check_exactly_once(
    rows: Sequence[tuple[str, int, float]], publisher: NumberedPublisher, acknowledged: set[int]
) -> None:
    """Assert: no reading stored twice, none acknowledged missing, none stored that was not sent, values right."""
    per_key = Counter((code, at) for code, at, _ in rows)
    duplicates = [key for key, n in per_key.items() if n > 1]
    assert not duplicates, f"stored more than once: {duplicates[:5]}"
    numbers = {}
    for code, at, value in rows:
        number = (at - publisher.base_ms) // 10
        assert publisher.device(number) == code, (code, at)
        assert publisher.time_ms(number) == at, (code, at)
        assert value == number, f"reading {number} stored with value {value}"
        numbers[number] = code
    missing = sorted(acknowledged - set(numbers))
    assert not missing, f"{len(missing)} acknowledged readings lost, e.g. {missing[:10]}"
    unsent = sorted(set(numbers) - set(range(publisher.sent)))
    assert not unsent, f"stored readings that were never sent: {unsent[:10]}"


async def progress(runtime: Runtime, publisher: NumberedPublisher) -> str:
    """Describe how far ingestion got, for a failure message."""
    numbers = {(at - publisher.base_ms) // 10 for _, at, _ in await stored(runtime, publisher)}
    acknowledged = publisher.acknowledged()
    missing = sorted(acknowledged - numbers)
    return (
        f"sent {publisher.sent}, acknowledged {len(acknowledged)}, stored {len(numbers)}, "
        f"acknowledged but missing {len(missing)}: {missing[:12]}"
    )
