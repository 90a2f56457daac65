"""Data-quality flags over a series of readings: flat line, spike, out of range, gap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ioc.modules.environment import QualityFlagKind, Reading, assess, flat_lines, gaps, out_of_range, spikes

START = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def series(*values: float | None, step: timedelta = HOUR) -> list[Reading]:
    return [Reading(START + i * step, v) for i, v in enumerate(values)]


def test_a_stuck_sensor_is_a_flat_line() -> None:
    readings = series(10, 11, 12.5, 12.5, 12.5, 12.5, 12.5, 12.5, 13, 14)
    (flag,) = flat_lines(readings)
    assert (flag.kind, flag.first, flag.last) == (QualityFlagKind.FLAT_LINE, 2, 7)
    assert flag.start == START + 2 * HOUR
    assert "6" in flag.message_vi


def test_a_short_plateau_is_not_a_flat_line() -> None:
    assert flat_lines(series(1, 2, 2, 2, 2, 2, 3)) == []


def test_flat_line_tolerance() -> None:
    readings = series(5.0, 5.01, 4.99, 5.0, 5.02, 5.0)
    assert flat_lines(readings) == []
    assert len(flat_lines(readings, tolerance=0.05)) == 1


def test_a_spike_stands_out_from_its_neighbours() -> None:
    readings = series(20, 21, 19, 22, 180, 21, 20, 22, 21)
    (flag,) = spikes(readings)
    assert (flag.kind, flag.first) == (QualityFlagKind.SPIKE, 4)
    assert "180" in flag.message_en


def test_a_steady_rise_is_not_a_spike() -> None:
    assert spikes(series(*range(0, 100, 10))) == []


def test_spike_minimum_delta() -> None:
    readings = series(20, 20, 20, 21, 20, 20, 20)
    assert len(spikes(readings)) == 1
    assert spikes(readings, min_delta=5) == []


def test_out_of_range_runs() -> None:
    readings = series(5, -1, -2, 5, 5, 1200, 5)
    flags = out_of_range(readings, 0, 1000)
    assert [(f.first, f.last) for f in flags] == [(1, 2), (5, 5)]
    assert all(f.kind is QualityFlagKind.OUT_OF_RANGE for f in flags)


def test_gaps_from_missing_values_and_missing_timestamps() -> None:
    readings = [
        Reading(START, 1.0),
        Reading(START + HOUR, None),
        Reading(START + 2 * HOUR, None),
        Reading(START + 3 * HOUR, 1.0),
        Reading(START + 7 * HOUR, 1.0),
    ]
    flags = gaps(readings, expected_interval=HOUR)
    assert [(f.first, f.last) for f in flags] == [(1, 2), (3, 4)]
    assert "3" in flags[1].message_en  # three hourly readings missing between 03:00 and 07:00


def test_clock_jitter_is_not_a_gap() -> None:
    readings = [Reading(START, 1.0), Reading(START + timedelta(minutes=70), 1.0)]
    assert gaps(readings, expected_interval=HOUR) == []


def test_readings_must_be_in_time_order() -> None:
    with pytest.raises(ValueError, match="increasing"):
        flat_lines([Reading(START, 1.0), Reading(START, 2.0)])


def test_assess_runs_every_check_in_time_order() -> None:
    readings = series(20, 21, 19, 22, 180, 21, 20, None, 7, 7, 7, 7, 7, 7, 2000)
    flags = assess(readings, valid_range=(0, 1000), expected_interval=HOUR)
    kinds = [f.kind for f in flags]
    assert kinds == [
        QualityFlagKind.SPIKE,
        QualityFlagKind.GAP,
        QualityFlagKind.FLAT_LINE,
        QualityFlagKind.OUT_OF_RANGE,
    ]
