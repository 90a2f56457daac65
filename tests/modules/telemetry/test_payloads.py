"""Reading device payloads: the product's JSON format (ISO 8601 or epoch ms) and SenML (RFC 8428)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ioc.modules.telemetry.constants import MAX_PAYLOAD_BYTES, DeadLetterReason
from ioc.modules.telemetry.payloads import NonFinite, PayloadError, parse_payload, parse_timestamp

NOW = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)


def _by_key(readings: list) -> dict:  # type: ignore[type-arg]
    return {r.key: r for r in readings}


class TestProductFormat:
    def test_one_object_with_iso_time_gives_one_reading_per_value(self) -> None:
        readings = parse_payload(b'{"ts": "2026-03-01T11:30:00+07:00", "values": {"pm25": 35.2, "temp": 29}}', NOW)
        by_key = _by_key(readings)
        assert set(by_key) == {"pm25", "temp"}
        assert by_key["pm25"].value == 35.2
        assert by_key["pm25"].time == datetime(2026, 3, 1, 4, 30, tzinfo=UTC)  # stored in UTC

    def test_epoch_milliseconds(self) -> None:
        (reading,) = parse_payload('{"ts": 1772341200000, "values": {"pm25": 1}}', NOW)
        assert reading.time == datetime(2026, 3, 1, 5, 0, tzinfo=UTC)

    def test_a_list_of_objects_keeps_each_record_time(self) -> None:
        body = json.dumps(
            [
                {"ts": "2026-03-01T04:00:00Z", "values": {"pm25": 10}},
                {"ts": "2026-03-01T03:00:00Z", "values": {"pm25": 12}},
            ]
        )
        readings = parse_payload(body, NOW)
        assert [(r.index, r.time.hour if r.time else None, r.value) for r in readings] == [(0, 4, 10), (1, 3, 12)]

    def test_missing_time_means_received_now(self) -> None:
        (reading,) = parse_payload('{"values": {"pm25": 5}}', NOW)
        assert reading.time is None
        assert reading.time_problem is None

    def test_an_empty_values_object_is_a_heartbeat(self) -> None:
        assert parse_payload('{"ts": 1772341200000, "values": {}}', NOW) == []

    @pytest.mark.parametrize(
        ("ts", "fragment"),
        [("2026-03-01T11:30:00", "offset"), ("hôm qua", "ISO 8601"), ([1], "list"), (1e30, "out of range")],
    )
    def test_unreadable_timestamps_stay_on_the_reading(self, ts: object, fragment: str) -> None:
        (reading,) = parse_payload(json.dumps({"ts": ts, "values": {"pm25": 5}}), NOW)
        assert reading.time is None
        assert reading.time_problem is not None
        assert fragment in reading.time_problem[1]

    def test_nan_and_infinity_are_kept_as_non_numbers(self) -> None:
        by_key = _by_key(parse_payload('{"values": {"a": NaN, "b": Infinity, "c": "12"}}', NOW))
        assert isinstance(by_key["a"].value, NonFinite)
        assert isinstance(by_key["b"].value, NonFinite)
        assert by_key["c"].value == "12"


class TestMalformed:
    @pytest.mark.parametrize(
        "body",
        [
            b"",
            b"   ",
            b"\xff\xfe",
            b"{not json",
            b"42",
            b'"text"',
            b"[]",
            b'{"ts": 1}',
            b'{"values": [1, 2]}',
            b"[1, 2]",
        ],
    )
    def test_payloads_that_cannot_be_read_as_a_whole(self, body: bytes) -> None:
        with pytest.raises(PayloadError) as caught:
            parse_payload(body, NOW)
        assert caught.value.reason is DeadLetterReason.MALFORMED_PAYLOAD
        assert caught.value.message_vi
        assert caught.value.message_en

    def test_too_large(self) -> None:
        with pytest.raises(PayloadError) as caught:
            parse_payload(b" " * (MAX_PAYLOAD_BYTES + 1), NOW)
        assert caught.value.reason is DeadLetterReason.PAYLOAD_TOO_LARGE

    def test_a_senml_content_type_with_an_object_is_refused(self) -> None:
        with pytest.raises(PayloadError):
            parse_payload('{"n": "pm25", "v": 1}', NOW, content_type="application/senml+json")


class TestSenML:
    def test_rfc_8428_base_name_base_time_and_relative_times(self) -> None:
        # The shape of RFC 8428 §5.1.2 (multiple data points over time with a base name and base time).
        pack = [
            {"bn": "urn:dev:ow:10e2073a01080063:", "bt": 1.772341200e9, "bu": "Cel", "n": "temp", "v": 23.1},
            {"n": "temp", "t": 10, "v": 23.4},
            {"n": "rh", "u": "%RH", "t": 10, "v": 61},
        ]
        readings = parse_payload(json.dumps(pack), NOW)
        assert [r.key for r in readings] == ["urn:dev:ow:10e2073a01080063:temp"] * 2 + [
            "urn:dev:ow:10e2073a01080063:rh"
        ]
        assert readings[0].names[:2] == ("urn:dev:ow:10e2073a01080063:temp", "temp")
        assert readings[0].time == datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
        assert readings[1].time == datetime(2026, 3, 1, 5, 0, 10, tzinfo=UTC)
        assert (readings[0].unit, readings[2].unit) == ("Cel", "%RH")

    def test_times_below_2_pow_28_are_relative_to_now(self) -> None:
        readings = parse_payload('[{"n": "pm25", "v": 1, "t": -60}, {"n": "pm25", "v": 2}]', NOW)
        assert readings[0].time == NOW - timedelta(seconds=60)
        assert readings[1].time is None  # no time: now

    def test_base_value_is_added(self) -> None:
        (reading,) = parse_payload('[{"bn": "dev/", "bv": 100, "n": "level", "v": 2.5}]', NOW)
        assert reading.value == 102.5
        assert reading.names == ("dev/level", "level")

    def test_string_and_boolean_values_are_not_numbers(self) -> None:
        by_key = _by_key(parse_payload('[{"n": "a", "vs": "ok"}, {"n": "b", "vb": true}, {"n": "c"}]', NOW))
        assert by_key["a"].value == "ok"
        assert by_key["b"].value is True
        assert by_key["c"].value is None  # a name without a value is kept, to be refused, not dropped

    def test_a_record_without_name_is_malformed(self) -> None:
        with pytest.raises(PayloadError):
            parse_payload('[{"v": 1}]', NOW)


def test_parse_timestamp_accepts_z_and_offsets() -> None:
    assert parse_timestamp("2026-03-01T05:00:00Z")[0] == NOW
    assert parse_timestamp("2026-03-01T12:00:00+07:00")[0] == NOW
    assert parse_timestamp(None) == (None, None)
