"""The simulator's shapes that the demo relies on: the effluent outfall fails during the episode, and only then."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ioc.modules.telemetry.simulator import STATIONS, LiveRun, Station

pytestmark = pytest.mark.engine_free  # no database: run once, in the SQLite pass

# QCVN 40:2011/BTNMT Bảng 1, column B (the demo outfall's column), with Kq = Kf = 1.
COLUMN_B = {"cod": 150.0, "tss": 100.0, "nh4": 10.0, "bod5": 50.0}


def _outfall() -> Station:
    return next(s for s in STATIONS if s.medium == "wastewater")


def _effluent(run: LiveRun, moment: datetime) -> dict[str, float]:
    outfall = _outfall()
    payload = next(body for station, body in run.messages(moment) if station.code == outfall.code)
    values: dict[str, float] = json.loads(payload)["values"]
    return values


def test_the_outfall_is_registered_as_wastewater_with_what_qcvn_40_limits() -> None:
    outfall = _outfall()
    assert outfall.code == "NT-KCN-PHUOCDONG"
    assert {"ph", "bod5", "cod", "tss", "nh4", "temp"} <= {q.key for q in outfall.quantities}
    assert sum(s.medium == "air" for s in STATIONS) == 8
    assert sum(s.medium == "water" for s in STATIONS) == 6


def test_the_live_episode_sends_the_effluent_over_column_b_and_back() -> None:
    started = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 9:00 in Tây Ninh
    run = LiveRun(started=started)
    before = _effluent(run, started + timedelta(seconds=30))
    peak = _effluent(run, started + run.episode_delay + run.episode_length / 2)
    after = _effluent(run, started + run.episode_delay + run.episode_length + timedelta(minutes=5))
    for key, limit in COLUMN_B.items():
        assert before[key] < limit, (key, before[key])
        assert after[key] < limit, (key, after[key])
    for key in ("cod", "tss", "nh4"):
        assert peak[key] > COLUMN_B[key], (key, peak[key])
