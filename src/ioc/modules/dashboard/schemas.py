"""Schemas of the `dashboard` module: tiles, layers, charts, feed items and wall layouts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .constants import (
    DEFAULT_ROTATE_SECONDS,
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_ROTATE_SECONDS,
    MAX_SCREENS,
    MIN_ROTATE_SECONDS,
    CellKind,
    Trend,
)


class KpiTileRead(BaseModel):
    """One KPI tile as computed for the caller; `error` is set instead of a value when it failed."""

    key: str = Field(description="Mã ô chỉ số / tile key, '<module>.<figure>'")
    module: str
    label: str
    link: str = ""
    value: float | None = None
    previous: float | None = None
    previous_at: datetime | None = Field(
        None,
        description="khi số so sánh được chụp (khi mô-đun không tự tính kỳ trước) / when the compared figure was taken",
    )
    unit: str = ""
    status: str = "normal"
    higher_is_better: bool = True
    trend: Trend | None = Field(None, description="so với kỳ trước / against the previous period")
    change: float | None = Field(None, description="chênh lệch so với kỳ trước / difference to the previous period")
    error: str | None = Field(None, description="lỗi khi tính ô này / why this tile could not be computed")


class KpiBoard(BaseModel):
    """Every tile the caller may see, computed at one moment."""

    computed_at: datetime
    unit_code: str | None = None
    tiles: list[KpiTileRead]


class LayerRead(BaseModel):
    """A map layer of the catalogue, with how many items it holds now."""

    key: str
    module: str
    label: str
    default_on: bool
    count: int | None = Field(None, description="số đối tượng / items on the layer (clusters counted by size)")
    error: str | None = None
    url: str = Field(description="GeoJSON của lớp / the layer's GeoJSON")


class LayerCatalogue(BaseModel):
    """The layers the caller may see."""

    computed_at: datetime
    unit_code: str | None = None
    layers: list[LayerRead]


class ChartRead(BaseModel):
    """A chart of the catalogue: an event count, a module's chart or a KPI tile's history."""

    key: str
    label: str
    module: str = Field("", description="mô-đun cung cấp biểu đồ (rỗng: đếm sự kiện) / module offering the chart")
    unit: str = Field("", description="đơn vị của giá trị / unit of the values")
    link: str = Field("", description="trang chi tiết / the detail page")


class ChartSeries(BaseModel):
    """One line of a chart."""

    label: str
    values: list[float | None]


class ChartData(BaseModel):
    """A chart's points: bucket start times (Unix seconds) and one or more series."""

    key: str
    label: str
    range: str
    bucket_seconds: int
    times: list[int]
    series: list[ChartSeries]
    unit: str = Field("", description="đơn vị của giá trị / unit of the values")
    link: str = Field("", description="trang chi tiết / the detail page")
    error: str | None = Field(None, description="lỗi khi tính biểu đồ này / why this chart could not be computed")


class UnitHistoryRow(BaseModel):
    """How many events of one kind happened in a unit over the range, and over the range before it."""

    name: str = Field(description="tên sự kiện / event name")
    module: str
    label: str
    count: int
    previous: int = Field(description="kỳ trước cùng độ dài / the previous period of the same length")
    trend: Trend | None = None
    change: int = 0


class UnitHistory(BaseModel):
    """What happened in one unit across the services over a time range, counted on the server."""

    unit_code: str
    range: str
    since: datetime
    until: datetime
    rows: list[UnitHistoryRow]
    index: ChartData | None = Field(None, description="chỉ số trạm quan trắc theo thời gian / station index trend")


class FeedItem(BaseModel):
    """A recent event, as the live feed shows it."""

    id: int
    name: str
    label: str
    text: str
    critical: bool
    occurred_at: datetime
    link: str = ""
    payload: dict[str, Any] = Field(default_factory=dict)


class WallCell(BaseModel):
    """A cell of a wall screen: what it shows and how many columns it spans."""

    model_config = ConfigDict(extra="forbid")

    kind: CellKind
    key: str = Field("", max_length=120, description="ô chỉ số hoặc biểu đồ / the tile or chart key")
    span: int = Field(1, ge=1, le=MAX_COLUMNS)
    rows: int = Field(1, ge=1, le=3)

    @model_validator(mode="after")
    def _needs_key(self) -> WallCell:
        if self.kind in (CellKind.KPI, CellKind.CHART) and not self.key:
            raise ValueError(f"a '{self.kind}' cell needs a key")
        return self


class WallScreen(BaseModel):
    """One screen of a wall; the wall rotates between its screens."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field("", max_length=80)
    columns: int = Field(3, ge=1, le=MAX_COLUMNS)
    cells: list[WallCell] = Field(min_length=1, max_length=MAX_CELLS)


class WallLayout(BaseModel):
    """What a wall shows: its screens and how long each stays before the next."""

    model_config = ConfigDict(extra="forbid")

    rotate_seconds: int = Field(DEFAULT_ROTATE_SECONDS, ge=0, le=MAX_ROTATE_SECONDS)
    screens: list[WallScreen] = Field(min_length=1, max_length=MAX_SCREENS)

    @model_validator(mode="after")
    def _rotation_bounds(self) -> WallLayout:
        if 0 < self.rotate_seconds < MIN_ROTATE_SECONDS:
            raise ValueError(f"rotate_seconds is 0 (no rotation) or at least {MIN_ROTATE_SECONDS}")
        return self


class WallLayoutRead(BaseModel):
    """The layout a wall shows for a role, and where it comes from."""

    wall: str
    role: str = Field(description="vai trò; rỗng = mọi vai trò / role; empty: every role")
    saved: bool = Field(description="đã lưu (không phải mặc định) / saved, not the default")
    layout: WallLayout
    updated_at: datetime | None = None
    updated_by: str | None = None


class WallSummary(BaseModel):
    """A saved layout in the list of walls."""

    wall: str
    role: str
    screens: int
    updated_at: datetime
