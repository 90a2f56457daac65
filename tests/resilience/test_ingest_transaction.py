"""A large MQTT backlog batch is committed in one transaction: acknowledged means stored.

Found by the database-outage scenario: after an outage the broker hands over its backlog in one batch; with
the device cache already warm, the PostgreSQL bulk path (COPY into a temporary table, then merge) ran before
the transaction had begun, so the staged rows were dropped at once and the batch was acknowledged unstored.
"""

from __future__ import annotations

import json
import time

import pytest

from ioc.core.runtime import Runtime
from ioc.core.time import utc_now
from ioc.modules.telemetry.constants import IngestSource
from ioc.modules.telemetry.ingest import InboundMessage, ingest_messages
from ioc.modules.telemetry.repository import COPY_THRESHOLD

from .support import NumberedPublisher
from .telemetry import provision, stored

pytestmark = pytest.mark.usefixtures("postgres_only")


def _message(publisher: NumberedPublisher, number: int) -> InboundMessage:
    body = json.dumps({"ts": publisher.time_ms(number), "values": {"seq": number}}).encode()
    return InboundMessage(
        payload=body, source=IngestSource.MQTT, device_code=publisher.device(number), received_at=utc_now()
    )


async def test_a_backlog_batch_after_a_warm_cache_is_stored_whole(tool_runtime: Runtime) -> None:
    devices = ("TX-01", "TX-02")
    await provision(tool_runtime, devices)
    # Only its numbering is used: nothing is published here.
    numbers = NumberedPublisher(0, "unused", devices, COPY_THRESHOLD + 50, rate=1.0)
    numbers.base_ms = int(time.time() * 1000) - 3_600_000
    # The first readings bring the devices online (a change that empties the cache); the next ones fill it.
    await ingest_messages(tool_runtime, [_message(numbers, 0), _message(numbers, 1)])
    await ingest_messages(tool_runtime, [_message(numbers, 2), _message(numbers, 3)])
    backlog = [_message(numbers, n) for n in range(4, numbers.count)]
    result = await ingest_messages(tool_runtime, backlog)
    assert result.accepted == len(backlog)
    assert len(await stored(tool_runtime, numbers)) == numbers.count
