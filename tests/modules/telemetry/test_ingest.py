"""The ingestion core: idempotent, order-free writes, dead letters for every refusal, counters and events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError

from ioc.core.metrics import REGISTRY
from ioc.core.models import OutboxEvent
from ioc.core.runtime import Runtime
from ioc.core.time import utc_now
from ioc.modules.telemetry import InboundMessage, IngestSource, ingest_messages, repository
from ioc.modules.telemetry.constants import DEAD_LETTER_PAYLOAD_LIMIT, DeadLetterReason
from ioc.modules.telemetry.ingest import write_and_commit
from ioc.modules.telemetry.models import Datastream, DeadLetter, Device, DirtyHour, Observation
from ioc.modules.telemetry.schemas import DatastreamCreate, DeviceUpdate
from ioc.modules.telemetry.service import update_device

from .conftest import DeviceFactory


def mqtt(code: str, body: Any, received_at: datetime | None = None) -> InboundMessage:
    """A message as the MQTT consumer builds it."""
    payload = body if isinstance(body, str | bytes) else json.dumps(body)
    return InboundMessage(
        payload=payload,
        source=IngestSource.MQTT,
        device_code=code,
        topic=f"ioc/telemetry/{code}",
        received_at=received_at,
    )


def ms(moment: datetime) -> int:
    """Milliseconds since the epoch."""
    return int(moment.timestamp() * 1000)


async def observations(runtime: Runtime, key: str = "pm25") -> list[tuple[datetime, float]]:
    """Stored readings of a datastream key, by time."""
    async with runtime.db.session() as session:
        rows = await session.execute(
            select(Observation.time, Observation.value)
            .join(Datastream, Datastream.id == Observation.datastream_id)
            .where(Datastream.key == key)
            .order_by(Observation.time)
        )
        return [(t, v) for t, v in rows]


async def dead_letters(runtime: Runtime) -> list[DeadLetter]:
    """Every dead letter, oldest first."""
    async with runtime.db.session() as session:
        return list(await session.scalars(select(DeadLetter).order_by(DeadLetter.id)))


async def event_names(runtime: Runtime) -> list[str]:
    """Names of the events in the outbox, in order."""
    async with runtime.db.session() as session:
        return list(await session.scalars(select(OutboxEvent.name).order_by(OutboxEvent.id)))


def metric(name: str, **labels: str) -> float:
    """Current value of a counter sample."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


HOUR_AGO = utc_now().replace(microsecond=0) - timedelta(hours=1)


class TestWrites:
    async def test_a_reading_is_stored_with_the_latest_value_and_last_seen(
        self, runtime: Runtime, make_device: DeviceFactory
    ) -> None:
        await make_device("KK-01")
        result = await ingest_messages(
            runtime, [mqtt("KK-01", {"ts": ms(HOUR_AGO), "values": {"pm25": 35.5, "temp": 30}})]
        )
        assert (result.accepted, result.rejected) == (2, 0)
        assert await observations(runtime) == [(HOUR_AGO, 35.5)]
        async with runtime.db.session() as session:
            stream = await session.scalar(select(Datastream).where(Datastream.key == "pm25"))
            device = await session.scalar(select(Device))
        assert stream is not None
        assert device is not None
        assert (stream.last_value, stream.last_time) == (35.5, HOUR_AGO)
        assert device.last_seen_at is not None
        assert utc_now() - device.last_seen_at < timedelta(minutes=1)
        assert device.is_online

    async def test_the_same_reading_delivered_twice_is_stored_once(
        self, runtime: Runtime, make_device: DeviceFactory
    ) -> None:
        await make_device("KK-01")
        message = mqtt("KK-01", {"ts": ms(HOUR_AGO), "values": {"pm25": 12.0}})
        await ingest_messages(runtime, [message])
        await ingest_messages(runtime, [message])
        await ingest_messages(runtime, [message, message])  # and twice in one batch
        assert await observations(runtime) == [(HOUR_AGO, 12.0)]

    async def test_a_corrected_value_for_the_same_time_replaces_the_old_one(
        self, runtime: Runtime, make_device: DeviceFactory
    ) -> None:
        await make_device("KK-01")
        await ingest_messages(runtime, [mqtt("KK-01", {"ts": ms(HOUR_AGO), "values": {"pm25": 12.0}})])
        await ingest_messages(runtime, [mqtt("KK-01", {"ts": ms(HOUR_AGO), "values": {"pm25": 14.0}})])
        assert await observations(runtime) == [(HOUR_AGO, 14.0)]

    async def test_late_and_out_of_order_readings_are_kept_and_do_not_move_the_latest_value_back(
        self, runtime: Runtime, make_device: DeviceFactory
    ) -> None:
        await make_device("KK-01")
        times = [
            HOUR_AGO,
            HOUR_AGO - timedelta(hours=5),
            HOUR_AGO - timedelta(days=3),
            HOUR_AGO - timedelta(minutes=30),
        ]
        for value, moment in enumerate(times):
            await ingest_messages(runtime, [mqtt("KK-01", {"ts": moment.isoformat(), "values": {"pm25": value}})])
        assert [t for t, _ in await observations(runtime)] == sorted(times)
        async with runtime.db.session() as session:
            stream = await session.scalar(select(Datastream).where(Datastream.key == "pm25"))
        assert stream is not None
        assert (stream.last_time, stream.last_value) == (HOUR_AGO, 0.0)

    async def test_a_batch_of_many_devices_marks_each_touched_hour_for_the_rollup(
        self, runtime: Runtime, make_device: DeviceFactory
    ) -> None:
        await make_device("KK-01")
        await make_device("KK-02")
        base = (utc_now() - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
        batch = [
            mqtt(code, {"ts": ms(base + timedelta(minutes=m)), "values": {"pm25": m, "temp": 25}})
            for code in ("KK-01", "KK-02")
            for m in (0, 10, 70)
        ]
        result = await ingest_messages(runtime, batch)
        assert result.accepted == 12
        async with runtime.db.session() as session:
            dirty = await session.scalar(select(func.count()).select_from(DirtyHour))
        assert dirty == 2 * 2 * 2  # 2 devices x 2 datastreams x 2 hours

    async def test_a_committed_batch_is_announced_with_its_datastreams_and_times(
        self, runtime: Runtime, make_device: DeviceFactory
    ) -> None:
        created = await make_device("KK-01")
        early = HOUR_AGO - timedelta(hours=2)
        await ingest_messages(
            runtime,
            [mqtt("KK-01", [{"ts": ms(early), "values": {"pm25": 1}}, {"ts": ms(HOUR_AGO), "values": {"temp": 2}}])],
        )
        async with runtime.db.session() as session:
            event = await session.scalar(
                select(OutboxEvent).where(OutboxEvent.name == "telemetry.observations_received")
            )
        assert event is not None
        ids = {s.key: s.id for s in created.device.datastreams}
        assert event.payload["datastream_ids"] == sorted([ids["pm25"], ids["temp"]])
        assert event.payload["count"] == 2
        assert datetime.fromisoformat(event.payload["min_time"]) == early
        assert datetime.fromisoformat(event.payload["max_time"]) == HOUR_AGO
        assert event.payload["source"] == "mqtt"

    async def test_the_first_message_of_a_device_announces_it_online_once(
        self, runtime: Runtime, make_device: DeviceFactory
    ) -> None:
        await make_device("KK-01")
        await ingest_messages(runtime, [mqtt("KK-01", {"values": {"pm25": 1}})])
        await ingest_messages(runtime, [mqtt("KK-01", {"values": {"pm25": 2}})])
        assert (await event_names(runtime)).count("telemetry.device_came_online") == 1

    async def test_readings_count_in_the_metrics(self, runtime: Runtime, make_device: DeviceFactory) -> None:
        await make_device("KK-01")
        before = metric("ioc_telemetry_readings_total", source="mqtt")
        await ingest_messages(runtime, [mqtt("KK-01", {"values": {"pm25": 1, "temp": 2, "rh": 3}})])
        assert metric("ioc_telemetry_readings_total", source="mqtt") == before + 3


class TestDeadLetters:
    async def _refused(self, runtime: Runtime, message: InboundMessage, reason: DeadLetterReason) -> DeadLetter:
        before = metric("ioc_telemetry_dead_letters_total", reason=reason.value)
        result = await ingest_messages(runtime, [message])
        letters = await dead_letters(runtime)
        assert [letter.reason for letter in letters] == [reason.value]
        assert result.outcomes[0].dead_letter_ids == [letters[0].id]
        assert metric("ioc_telemetry_dead_letters_total", reason=reason.value) == before + 1
        assert "telemetry.dead_letter_recorded" in await event_names(runtime)
        assert letters[0].message_vi
        assert letters[0].message_en
        return letters[0]

    async def test_malformed_payload_keeps_the_raw_text(self, runtime: Runtime, make_device: DeviceFactory) -> None:
        await make_device("KK-01")
        letter = await self._refused(runtime, mqtt("KK-01", "pm25=12"), DeadLetterReason.MALFORMED_PAYLOAD)
        assert letter.payload == "pm25=12"
        assert (letter.device_code, letter.topic, letter.source) == ("KK-01", "ioc/telemetry/KK-01", "mqtt")

    async def test_unknown_device(self, runtime: Runtime) -> None:
        letter = await self._refused(
            runtime, mqtt("KHONG-CO", {"values": {"pm25": 1}}), DeadLetterReason.UNKNOWN_DEVICE
        )
        assert letter.device_code == "KHONG-CO"
        assert letter.device_id is None

    async def test_disabled_device(self, runtime: Runtime, make_device: DeviceFactory) -> None:
        await make_device("KK-01")
        async with runtime.db.transaction() as session:
            await update_device(session, "KK-01", DeviceUpdate(is_active=False))
        await self._refused(runtime, mqtt("KK-01", {"values": {"pm25": 1}}), DeadLetterReason.DEVICE_DISABLED)

    async def test_unknown_key_refuses_only_that_value(self, runtime: Runtime, make_device: DeviceFactory) -> None:
        await make_device("KK-01")
        letter = await self._refused(
            runtime, mqtt("KK-01", {"values": {"pm25": 1, "voc": 3}}), DeadLetterReason.UNKNOWN_KEY
        )
        assert await observations(runtime) != []
        assert letter.detail["count"] == 1
        assert letter.detail["readings"][0]["key"] == "voc"

    async def test_non_numeric_values(self, runtime: Runtime, make_device: DeviceFactory) -> None:
        await make_device("KK-01")
        letter = await self._refused(
            runtime,
            mqtt("KK-01", '{"values": {"pm25": "12", "temp": NaN, "rh": true}}'),
            DeadLetterReason.NOT_NUMERIC,
        )
        assert letter.detail["count"] == 3
        assert "(và 2 giá trị khác cùng lý do)" in letter.message_vi

    async def test_out_of_range(self, runtime: Runtime, make_device: DeviceFactory) -> None:
        await make_device("KK-01")
        letter = await self._refused(runtime, mqtt("KK-01", {"values": {"rh": 140}}), DeadLetterReason.OUT_OF_RANGE)
        assert "[0, 100]" in letter.message_en

    @pytest.mark.parametrize(
        "ts",
        [
            ms(utc_now() + timedelta(days=2)),  # ahead of the clock (far enough for a long test run)
            ms(datetime(1999, 12, 31, tzinfo=UTC)),  # before 2000
            int(utc_now().timestamp()),  # seconds instead of milliseconds: 1970
            "2026-03-01 10:00",  # no offset
        ],
    )
    async def test_bad_timestamps(self, runtime: Runtime, make_device: DeviceFactory, ts: object) -> None:
        await make_device("KK-01")
        await self._refused(runtime, mqtt("KK-01", {"ts": ts, "values": {"pm25": 1}}), DeadLetterReason.BAD_TIMESTAMP)
        assert await observations(runtime) == []

    async def test_readings_older_than_the_retention_period(self, runtime: Runtime, make_device: DeviceFactory) -> None:
        await make_device(
            "KK-01", streams=(DatastreamCreate(key="pm25", observed_property="PM2.5", retention_days=30),)
        )
        old = utc_now() - timedelta(days=31)
        await self._refused(runtime, mqtt("KK-01", {"ts": ms(old), "values": {"pm25": 1}}), DeadLetterReason.EXPIRED)

    async def test_too_large_payload_is_kept_truncated(self, runtime: Runtime, make_device: DeviceFactory) -> None:
        await make_device("KK-01")
        body = '{"values": {"pm25": 1}, "pad": "' + "x" * (1024 * 1024) + '"}'
        letter = await self._refused(runtime, mqtt("KK-01", body), DeadLetterReason.PAYLOAD_TOO_LARGE)
        assert letter.payload_truncated
        assert len(letter.payload.encode()) == DEAD_LETTER_PAYLOAD_LIMIT
        assert letter.payload_bytes == len(body)

    async def test_nul_bytes_and_invalid_utf8_are_stored_readably(
        self, runtime: Runtime, make_device: DeviceFactory
    ) -> None:
        await make_device("KK-01")
        letter = await self._refused(runtime, mqtt("KK-01", b"\x00\xff{"), DeadLetterReason.MALFORMED_PAYLOAD)
        assert "\x00" not in letter.payload

    async def test_good_and_bad_readings_of_one_message_go_their_own_ways(
        self, runtime: Runtime, make_device: DeviceFactory
    ) -> None:
        await make_device("KK-01")
        result = await ingest_messages(
            runtime, [mqtt("KK-01", {"values": {"pm25": 10, "temp": 99, "rh": 200, "co": 1}})]
        )
        assert (result.accepted, result.rejected) == (1, 3)
        reasons = sorted(letter.reason for letter in await dead_letters(runtime))
        assert reasons == ["out_of_range", "unknown_key"]  # one dead letter per reason

    async def test_a_message_the_database_refuses_becomes_a_dead_letter_and_spares_its_batch(
        self, runtime: Runtime, make_device: DeviceFactory, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        await make_device("KK-01")
        poison = mqtt("KK-01", {"values": {"pm25": 5}})
        good = mqtt("KK-01", {"ts": ms(HOUR_AGO), "values": {"temp": 20}})
        original = repository.write_observations

        async def refuse_the_value_5(session: Any, rows: Any) -> None:
            # Stands in for a row the engine rejects (a constraint or a value its column cannot hold).
            if any(value == 5 for _, _, value, _ in rows):
                raise DataError("INSERT", {}, Exception("value out of range for type double precision"))
            await original(session, rows)

        monkeypatch.setattr(repository, "write_observations", refuse_the_value_5)
        async with runtime.db.session() as session:
            result = await write_and_commit(session, [good, poison])
        assert result.accepted == 1
        assert [letter.reason for letter in await dead_letters(runtime)] == ["storage_rejected"]
        assert await observations(runtime, "temp") == [(HOUR_AGO, 20.0)]


async def test_a_large_batch_takes_the_bulk_path_and_stays_idempotent(
    runtime: Runtime, make_device: DeviceFactory
) -> None:
    """Batches of 200 readings or more are COPied on PostgreSQL; the same rules hold on both engines."""
    await make_device("KK-01")
    start = (utc_now() - timedelta(days=2)).replace(microsecond=0)
    records = [{"ts": ms(start + timedelta(minutes=i)), "values": {"pm25": i % 90, "temp": 25}} for i in range(300)]
    first = await ingest_messages(runtime, [mqtt("KK-01", records)])
    records[10]["values"]["pm25"] = 99.5  # one correction among 299 repeats
    again = await ingest_messages(runtime, [mqtt("KK-01", records)])
    stored = await observations(runtime)
    assert (first.accepted, again.accepted) == (600, 600)
    assert len(stored) == 300
    assert stored[10] == (start + timedelta(minutes=10), 99.5)
    assert stored[11] == (start + timedelta(minutes=11), 11.0)
