"""Schemas of the telemetry module: what the API reads and writes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .constants import (
    DATASTREAM_KEY_PATTERN,
    DEFAULT_OFFLINE_AFTER_MINUTES,
    DEFAULT_RETENTION_DAYS,
    DEVICE_CODE_PATTERN,
    MAX_RETENTION_DAYS,
    DeadLetterReason,
    DeviceStatus,
    IngestSource,
    Resolution,
)


class ImportProblem(BaseModel):
    """One fault of a provisioning file; `row` is the spreadsheet row (header = 1)."""

    row: int | None = None
    column: str | None = None
    message_vi: str
    message_en: str


class DatastreamCreate(BaseModel):
    """A datastream to declare on a device."""

    key: str = Field(pattern=DATASTREAM_KEY_PATTERN, description="Tên giá trị trong bản tin / payload key, e.g. pm25")
    name: str = Field("", max_length=200)
    observed_property: str = Field(min_length=1, max_length=120, description="Đại lượng quan trắc / observed property")
    observed_property_definition: str = Field("", max_length=300, description="URI định nghĩa / definition URI")
    unit_name: str = Field("", max_length=60, description="Tên đơn vị / unit name, e.g. microgram per cubic metre")
    unit_symbol: str = Field("", max_length=30, description="Ký hiệu đơn vị / unit symbol, e.g. µg/m³")
    unit_definition: str = Field("", max_length=300, description="URI của đơn vị (UCUM, QUDT) / unit definition URI")
    sensor: str = Field("", max_length=200, description="Cảm biến / sensor name or model")
    valid_min: float | None = Field(None, description="Giá trị nhỏ nhất hợp lệ / lowest valid value")
    valid_max: float | None = Field(None, description="Giá trị lớn nhất hợp lệ / highest valid value")
    retention_days: int = Field(DEFAULT_RETENTION_DAYS, ge=1, le=MAX_RETENTION_DAYS)

    @model_validator(mode="after")
    def _range_is_ordered(self) -> DatastreamCreate:
        if self.valid_min is not None and self.valid_max is not None and self.valid_min > self.valid_max:
            raise ValueError("valid_min > valid_max")
        return self


class DatastreamRead(BaseModel):
    """A datastream with its latest value."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    device_id: int
    device_code: str
    key: str
    name: str
    observed_property: str
    observed_property_definition: str
    unit_name: str
    unit_symbol: str
    unit_definition: str
    sensor: str
    valid_min: float | None
    valid_max: float | None
    retention_days: int
    last_value: float | None
    last_time: datetime | None


class DeviceCreate(BaseModel):
    """A device to register, with its datastreams."""

    code: str = Field(pattern=DEVICE_CODE_PATTERN, description="Mã thiết bị, cũng là cấp cuối của chủ đề MQTT")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=4000)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    offline_after_minutes: int = Field(DEFAULT_OFFLINE_AFTER_MINUTES, ge=1, le=7 * 24 * 60)
    properties: dict[str, Any] = Field(default_factory=dict)
    datastreams: list[DatastreamCreate] = Field(default_factory=list)

    @model_validator(mode="after")
    def _location_is_complete(self) -> DeviceCreate:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together")
        keys = [stream.key for stream in self.datastreams]
        if len(set(keys)) != len(keys):
            raise ValueError("datastream keys repeat")
        return self


class DeviceUpdate(BaseModel):
    """Changes to a device; fields left out stay as they are."""

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=4000)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    offline_after_minutes: int | None = Field(None, ge=1, le=7 * 24 * 60)
    is_active: bool | None = None
    properties: dict[str, Any] | None = None


class DeviceRead(BaseModel):
    """A device, its status and its datastreams with their latest values."""

    id: int
    code: str
    name: str
    description: str
    lat: float | None
    lon: float | None
    unit_code: str | None
    offline_after_minutes: int
    last_seen_at: datetime | None
    status: DeviceStatus
    is_active: bool
    properties: dict[str, Any]
    created_at: datetime
    datastreams: list[DatastreamRead] = Field(default_factory=list)


class DeviceToken(BaseModel):
    """A device token, shown once: only its digest is stored."""

    device_code: str
    token: str


class DeviceCreated(BaseModel):
    """A new device and its token (shown once)."""

    device: DeviceRead
    token: str


class DeviceFilters(BaseModel):
    """Filters of the device list."""

    q: str | None = Field(None, max_length=100, description="Mã hoặc tên / code or name")
    status: DeviceStatus | None = None
    unit_code: str | None = Field(None, max_length=20)


class DeviceImportReport(BaseModel):
    """What a provisioning file did; the tokens of new devices are shown only here."""

    created: list[DeviceToken]
    updated: list[str]
    datastreams_created: int
    datastreams_updated: int


class DeadLetterRead(BaseModel):
    """A refused message or group of readings, with its reason and raw payload."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    received_at: datetime
    source: IngestSource
    topic: str | None
    device_code: str | None
    device_id: int | None
    reason: DeadLetterReason
    message_vi: str
    message_en: str
    payload: str
    payload_bytes: int
    payload_truncated: bool
    detail: dict[str, Any]


class DeadLetterFilters(BaseModel):
    """Filters of the dead-letter list."""

    reason: DeadLetterReason | None = None
    device_code: str | None = Field(None, max_length=64)
    source: IngestSource | None = None


class IngestRejection(BaseModel):
    """One refused reading (or the whole message when `key` is None) and why."""

    index: int | None = Field(None, description="Vị trí bản ghi trong bản tin / position of the record")
    key: str | None = None
    time: datetime | None = None
    reason: DeadLetterReason
    message_vi: str
    message_en: str


class IngestResult(BaseModel):
    """The outcome of one HTTP batch: accepted and refused readings, and the dead letters kept."""

    accepted: int
    rejected: int
    dead_letter_ids: list[int]
    rejections: list[IngestRejection]
    rejections_truncated: bool = False


class SeriesPoint(BaseModel):
    """One point of a series: a raw reading, or an hourly or daily bucket (value = mean)."""

    time: datetime = Field(description="Thời điểm, hoặc đầu khoảng (UTC) / time, or bucket start (UTC)")
    value: float
    count: int | None = None
    min: float | None = None
    max: float | None = None
    day: date | None = Field(None, description="Ngày theo giờ Việt Nam (độ phân giải ngày) / local day")


class Series(BaseModel):
    """Observations of one datastream over a period at the resolution chosen."""

    datastream_id: int
    key: str
    unit_symbol: str
    resolution: Resolution
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    points: list[SeriesPoint]
