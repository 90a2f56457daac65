"""Several ingesting processes in one MQTT 5 shared subscription group split the messages between them."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from ioc.core.runtime import Runtime
from ioc.core.settings import Settings
from ioc.core.time import utc_now
from ioc.modules.telemetry.models import DeadLetter, Observation
from ioc.modules.telemetry.mqtt import MqttConfig, config_from_settings, default_client_id, parse_mqtt_url, publish

from ...conftest import require_service
from .conftest import DeviceFactory
from .test_ingest import ms
from .test_mqtt import HOST, PORT, _remove_session, eventually, started

MESSAGES = 400


@pytest.fixture
async def members() -> AsyncIterator[tuple[MqttConfig, MqttConfig]]:
    """Two members of one group (each its own client id and session) on a topic prefix of this test only."""
    require_service("Mosquitto", HOST, PORT)
    unique = uuid.uuid4().hex[:12]
    first = MqttConfig(
        host=HOST,
        port=PORT,
        client_id=f"ioc-test-{unique}-a",
        topic_prefix=f"ioc-test/{unique}/telemetry",
        shared_group=f"ioc{unique}",
    )
    second = dataclasses.replace(first, client_id=f"ioc-test-{unique}-b")
    yield first, second
    for config in (first, second):
        await asyncio.to_thread(_remove_session, config.client_id)


def test_a_group_subscribes_through_the_shared_filter(settings: Settings) -> None:
    config = parse_mqtt_url("mqtt://127.0.0.1:1883", "ioc/telemetry", "ioc-80-telemetry", "ingest")
    assert config.subscription == "$share/ingest/ioc/telemetry/+"
    assert parse_mqtt_url("mqtt://127.0.0.1", "ioc/telemetry", "x").subscription == "ioc/telemetry/+"
    with pytest.raises(ValueError, match="shared_group"):
        Settings(**{**settings.model_dump(), "mqtt_shared_group": "a/b"})


def test_each_member_of_a_group_gets_a_session_of_its_own(runtime: Runtime) -> None:
    alone = default_client_id(runtime)
    runtime.settings = runtime.settings.model_copy(
        update={"mqtt_shared_group": "ingest", "mqtt_url": "mqtt://127.0.0.1:1883"}
    )
    member = default_client_id(runtime)
    assert member.startswith(f"{alone}-ingest-")
    assert member != alone
    assert config_from_settings(runtime).subscription.startswith("$share/ingest/")


async def test_two_members_split_the_messages_and_nothing_is_lost_or_doubled(
    runtime: Runtime, make_device: DeviceFactory, members: tuple[MqttConfig, MqttConfig]
) -> None:
    codes = [f"KK-{n:02d}" for n in range(8)]
    for code in codes:
        await make_device(code)
    first = members[0]
    ingestors = [await started(runtime, config) for config in members]
    try:
        start = ms(utc_now()) - 120_000
        await publish(
            first,
            [
                (f"{first.topic_prefix}/{codes[n % len(codes)]}", json.dumps({"ts": start + n, "values": {"pm25": n}}))
                for n in range(MESSAGES)
            ],
        )

        async def all_committed() -> bool:
            return sum(i.committed_messages for i in ingestors) >= MESSAGES

        await eventually(all_committed, within=30)
        await asyncio.sleep(0.3)  # a redelivered or doubled message would be committed by now
    finally:
        for ingestor in ingestors:
            await ingestor.stop()
    counts = [i.committed_messages for i in ingestors]
    assert sum(counts) == MESSAGES
    assert all(count > 0 for count in counts), counts
    async with runtime.db.session() as session:
        stored = await session.scalar(select(func.count()).select_from(Observation))
        distinct = await session.scalar(select(func.count(func.distinct(Observation.value))))
        letters = await session.scalar(select(func.count()).select_from(DeadLetter))
    assert stored == distinct == MESSAGES
    assert letters == 0
