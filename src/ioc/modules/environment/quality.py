"""Data-quality flags over a series of readings: flat line, spike, out of range, gap.

No regulation fixes these tests or their thresholds; the defaults below are the project's and every function
takes its thresholds as arguments so that a datastream can carry its own. A flag is advice for the operator
(the decisions ask for QA/QC-checked data before an index is published, 1459 §2.1.a), never a deletion.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .constants import QualityFlagKind

# A sensor repeating the same value for 6 readings in a row (6 hours of hourly means) is suspicious.
DEFAULT_FLAT_RUN = 6
# Hampel filter: a reading further than 3 scaled MADs from the median of its 3 neighbours each side is a spike.
DEFAULT_SPIKE_HALF_WINDOW = 3
DEFAULT_SPIKE_THRESHOLD = 3.0
# Median absolute deviation → standard deviation of a normal distribution.
MAD_SCALE = 1.4826
# A gap is a step longer than 1.5 times the expected interval (tolerates jitter in the clocks).
GAP_TOLERANCE = 1.5


@dataclass(frozen=True)
class Reading:
    """One reading of a datastream; `value` None is a reading the device reported as missing."""

    at: datetime
    value: float | None


@dataclass(frozen=True)
class QualityFlag:
    """A stretch of readings (first…last index, both included) with one problem and its explanation."""

    kind: QualityFlagKind
    first: int
    last: int
    start: datetime
    end: datetime
    message_vi: str
    message_en: str


def _check_order(readings: Sequence[Reading]) -> None:
    for earlier, later in itertools.pairwise(readings):
        if later.at <= earlier.at:
            raise ValueError("readings must be in strictly increasing time order")


def flat_lines(
    readings: Sequence[Reading], *, min_run: int = DEFAULT_FLAT_RUN, tolerance: float = 0.0
) -> list[QualityFlag]:
    """Flag runs of at least `min_run` consecutive values that stay within `tolerance` of each other."""
    if min_run < 2:
        raise ValueError("a flat line needs at least 2 readings")
    _check_order(readings)
    flags: list[QualityFlag] = []
    start = 0
    while start < len(readings):
        first = readings[start].value
        if first is None:
            start += 1
            continue
        low = high = first
        end = start
        while end + 1 < len(readings):
            value = readings[end + 1].value
            if value is None or max(high, value) - min(low, value) > tolerance:
                break
            low, high = min(low, value), max(high, value)
            end += 1
        count = end - start + 1
        if count >= min_run:
            flags.append(
                QualityFlag(
                    QualityFlagKind.FLAT_LINE,
                    start,
                    end,
                    readings[start].at,
                    readings[end].at,
                    f"{count} giá trị liên tiếp không đổi (≈ {first:g}): cảm biến có thể bị treo.",
                    f"{count} consecutive readings unchanged (≈ {first:g}): the sensor may be stuck.",
                )
            )
        start = end + 1
    return flags


def spikes(
    readings: Sequence[Reading],
    *,
    half_window: int = DEFAULT_SPIKE_HALF_WINDOW,
    threshold: float = DEFAULT_SPIKE_THRESHOLD,
    min_delta: float = 0.0,
) -> list[QualityFlag]:
    """Flag readings far from the median of their neighbours (Hampel filter).

    A reading is a spike when |x − median| exceeds both `threshold` scaled MADs of its window and `min_delta`;
    it needs `half_window` present readings on each side, so the ends of the series are not judged.
    """
    if half_window < 1 or threshold <= 0:
        raise ValueError("half_window must be ≥ 1 and threshold > 0")
    _check_order(readings)
    present = [(i, r.value) for i, r in enumerate(readings) if r.value is not None]
    flags: list[QualityFlag] = []
    for position in range(half_window, len(present) - half_window):
        index, value = present[position]
        assert value is not None
        window = [v for _, v in present[position - half_window : position + half_window + 1] if v is not None]
        median = statistics.median(window)
        mad = MAD_SCALE * statistics.median(abs(v - median) for v in window)
        deviation = abs(value - median)
        if deviation > threshold * mad and deviation > min_delta:
            flags.append(
                QualityFlag(
                    QualityFlagKind.SPIKE,
                    index,
                    index,
                    readings[index].at,
                    readings[index].at,
                    f"Giá trị {value:g} lệch đột ngột khỏi trung vị lân cận {median:g}.",
                    f"Value {value:g} jumps away from the neighbouring median {median:g}.",
                )
            )
    return flags


def out_of_range(readings: Sequence[Reading], low: float | None, high: float | None) -> list[QualityFlag]:
    """Flag each run of readings below `low` or above `high` (the datastream's valid range)."""
    _check_order(readings)
    flags: list[QualityFlag] = []
    run: list[int] = []

    def outside(value: float | None) -> bool:
        return value is not None and ((low is not None and value < low) or (high is not None and value > high))

    for index, reading in enumerate([*readings, None]):
        if reading is not None and outside(reading.value):
            run.append(index)
            continue
        if run:
            first, last = run[0], run[-1]
            bounds = f"[{'' if low is None else f'{low:g}'}, {'' if high is None else f'{high:g}'}]"
            flags.append(
                QualityFlag(
                    QualityFlagKind.OUT_OF_RANGE,
                    first,
                    last,
                    readings[first].at,
                    readings[last].at,
                    f"{len(run)} giá trị nằm ngoài khoảng hợp lệ {bounds}.",
                    f"{len(run)} readings outside the valid range {bounds}.",
                )
            )
            run = []
    return flags


def gaps(readings: Sequence[Reading], *, expected_interval: timedelta) -> list[QualityFlag]:
    """Flag missing data: runs of readings without a value, and steps longer than 1.5 × the expected interval."""
    if expected_interval <= timedelta(0):
        raise ValueError("the expected interval must be positive")
    _check_order(readings)
    flags: list[QualityFlag] = []
    index = 0
    while index < len(readings):
        if readings[index].value is None:
            end = index
            while end + 1 < len(readings) and readings[end + 1].value is None:
                end += 1
            count = end - index + 1
            flags.append(
                QualityFlag(
                    QualityFlagKind.GAP,
                    index,
                    end,
                    readings[index].at,
                    readings[end].at,
                    f"{count} lần đo không có giá trị.",
                    f"{count} readings without a value.",
                )
            )
            index = end + 1
            continue
        index += 1
    for position, (earlier, later) in enumerate(itertools.pairwise(readings)):
        step = later.at - earlier.at
        if step > expected_interval * GAP_TOLERANCE:
            missing = round(step / expected_interval) - 1
            flags.append(
                QualityFlag(
                    QualityFlagKind.GAP,
                    position,
                    position + 1,
                    earlier.at,
                    later.at,
                    f"Mất khoảng {missing} lần đo giữa hai thời điểm này.",
                    f"About {missing} readings missing between these two times.",
                )
            )
    return sorted(flags, key=lambda f: (f.start, f.first))


def assess(
    readings: Sequence[Reading],
    *,
    valid_range: tuple[float | None, float | None] | None = None,
    expected_interval: timedelta | None = None,
    flat_run: int = DEFAULT_FLAT_RUN,
    flat_tolerance: float = 0.0,
    spike_threshold: float = DEFAULT_SPIKE_THRESHOLD,
    spike_min_delta: float = 0.0,
) -> list[QualityFlag]:
    """Run every check that its settings allow and return the flags in time order."""
    flags = flat_lines(readings, min_run=flat_run, tolerance=flat_tolerance)
    flags += spikes(readings, threshold=spike_threshold, min_delta=spike_min_delta)
    if valid_range is not None:
        flags += out_of_range(readings, *valid_range)
    if expected_interval is not None:
        flags += gaps(readings, expected_interval=expected_interval)
    return sorted(flags, key=lambda f: (f.start, f.first, f.kind.value))
