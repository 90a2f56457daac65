"""Pure, typed calculation of the air and water quality indices (no database, no HTTP)."""

from __future__ import annotations

from . import us_aqi, vn_aqi, vn_wqi
from .common import AqiResult, Category, NowcastResult, nowcast, round_half_up, summarise_day
from .vn_wqi import WqiResult

__all__ = [
    "AqiResult",
    "Category",
    "NowcastResult",
    "WqiResult",
    "nowcast",
    "round_half_up",
    "summarise_day",
    "us_aqi",
    "vn_aqi",
    "vn_wqi",
]
