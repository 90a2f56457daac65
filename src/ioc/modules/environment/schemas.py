"""Request and answer schemas of the environment calculators (AQI, WQI, limit checks) and stations."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from .constants import (
    MAX_SERIES_LENGTH,
    AqiPeriod,
    AqiStandard,
    DischargeColumn,
    LimitPeriod,
    Regulation,
    StationKind,
    WaterClass,
)

HourlySeries = Annotated[list[float | None], Field(max_length=MAX_SERIES_LENGTH)]


class CategoryRead(BaseModel):
    """A category of an index: names, colour as published, meaning and advice in both languages."""

    code: str
    low: int
    high: int
    name_vi: str
    name_en: str
    colour_vi: str
    colour_en: str
    hex: str = Field(description="Màu (hex, như văn bản công bố) / colour as published")
    meaning_vi: str
    meaning_en: str
    advice_general_vi: str = ""
    advice_general_en: str = ""
    advice_sensitive_vi: str = ""
    advice_sensitive_en: str = ""


class NoteRead(BaseModel):
    """Why an input was left out or a rule applied, in both languages."""

    field: str
    rule: str
    message_vi: str
    message_en: str


class AqiCalculateRequest(BaseModel):
    """Concentrations to turn into an air quality index: hourly series, averaged values, or both."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {
                    "standard": "VN_AQI",
                    "period": "day",
                    "values": {"O3_8h": 89.3, "O3_1h": 114.6, "NO2_1h": 130.8, "PM2.5_24h": 55.7},
                },
                {
                    "standard": "VN_AQI",
                    "period": "hour",
                    "hourly": {
                        "PM2.5": [26.9, 24.7, 20.5, 23.5, 19.5, 16.5, 19.0, 16.5, 20.3, 22.4, 19.6, 20.6],
                    },
                    "values": {"O3_1h": 136.1, "NO2_1h": 118.7},
                },
            ]
        },
    )

    standard: AqiStandard = Field(description="VN_AQI (QĐ 1459/QĐ-TCMT) hoặc / or US_AQI (EPA 2024)")
    period: AqiPeriod = Field(description="hour: AQI giờ (Nowcast cho PM) / hourly; day: AQI ngày / daily")
    hourly: dict[str, HourlySeries] = Field(
        default_factory=dict,
        description=(
            "Chuỗi trung bình 1 giờ theo thông số, cũ → mới, null cho giờ thiếu / hourly means per pollutant, "
            "oldest → newest, null for missing hours"
        ),
    )
    values: dict[str, float] = Field(
        default_factory=dict,
        description=(
            "Giá trị đã tính trung bình, khoá <thông số>_<nowcast|1h|8h|24h> / already averaged concentrations "
            "keyed <pollutant>_<nowcast|1h|8h|24h>, e.g. PM2.5_24h, O3_8h"
        ),
    )
    units: dict[str, str] = Field(
        default_factory=dict,
        description=("Đơn vị đã dùng (tuỳ chọn, để kiểm tra) / units used (optional, checked): e.g. {'CO': 'µg/m³'}"),
    )


class AqiCalculation(BaseModel):
    """An air quality index: value, category, dominant pollutant, sub-indices and the inputs it used."""

    standard: AqiStandard
    period: AqiPeriod
    aqi: int
    category: str = Field(description="Mã mức / category code (e.g. good, moderate, poor)")
    category_info: CategoryRead
    dominant: str = Field(description="Thông số có AQI thành phần cao nhất / pollutant with the highest sub-index")
    sub_indices: dict[str, int]
    inputs_used: dict[str, float] = Field(
        description="Nồng độ đã dùng (US AQI: sau khi cắt bớt) / concentrations used (US AQI: after truncation)"
    )
    units: dict[str, str]
    beyond_scale: bool = Field(description="Vượt mức cao nhất của bảng, giữ ở 500 / above the table, held at 500")
    notes: list[NoteRead]


class WqiCalculateRequest(BaseModel):
    """One water sample's measurements, keyed by parameter (pH, DO + temperature or DO_percent, BOD5, …)."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {
                    "values": {
                        "pH": 7.2,
                        "DO": 6.4,
                        "temperature": 28.0,
                        "BOD5": 5.0,
                        "COD": 12.0,
                        "N-NH4": 0.25,
                        "P-PO4": 0.12,
                        "Coliform": 3200,
                    }
                }
            ]
        },
    )

    values: dict[str, float] = Field(min_length=1)
    weighted: bool = Field(False, description="Dùng Công thức 5 (có trọng số) / use the weighted Công thức 5")


class WqiCalculation(BaseModel):
    """A VN_WQI value with its category, group values, sub-indices and formula."""

    wqi: int
    category: str
    category_info: CategoryRead
    formula: str = Field(description="Công thức 3, 4 hoặc 5 của QĐ 1460 / formula 3, 4 or 5 of Decision 1460")
    groups: dict[str, float | None]
    sub_indices: dict[str, float]
    inputs_used: dict[str, float]
    units: dict[str, str]
    notes: list[NoteRead]


class LimitCheckRequest(BaseModel):
    """Values to compare with QCVN 05:2023 (air, by period) or QCVN 08:2023 (surface water, by level)."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {"regulation": "QCVN_05_2023", "period": "24h", "date": "2026-03-01", "values": {"PM2.5": 47.0}},
                {"regulation": "QCVN_08_2023", "water_class": "B", "values": {"BOD5": 7.2, "N-NH4": 0.42}},
                {"regulation": "QCVN_40_2011", "column": "B", "kq": 0.9, "kf": 1.0, "values": {"COD": 160}},
            ]
        },
    )

    regulation: Regulation
    values: dict[str, float] = Field(min_length=1)
    period: LimitPeriod | None = Field(None, description="QCVN 05: 1h, 8h, 24h, year")
    water_class: WaterClass | None = Field(None, description="QCVN 08 Bảng 2: A, B hoặc / or C")
    date: dt.date | None = Field(None, description="Ngày đo (mặc định hôm nay) / measurement date (default today)")
    column: DischargeColumn | None = Field(None, description="QCVN 40:2011 Bảng 1: cột A hoặc / or B")
    kq: float | None = Field(None, description="QCVN 40:2011 hệ số nguồn tiếp nhận / receiving-water coefficient Kq")
    kf: float | None = Field(None, description="QCVN 40:2011 hệ số lưu lượng xả / discharge-flow coefficient Kf")


class LimitCheckRead(BaseModel):
    """One value compared with one limit."""

    parameter: str
    name_vi: str
    name_en: str
    period: LimitPeriod | None
    water_class: WaterClass | None
    kind: str = Field(description="max, min hoặc / or range")
    value: float
    limit: float = Field(description="Giá trị giới hạn đã so / the limit compared with")
    limit_high: float | None = Field(None, description="Cận trên của khoảng (pH) / upper end of a range")
    unit: str
    ratio: float | None = Field(description="Giá trị / giới hạn / value ÷ limit")
    exceeded: bool
    regulation: str
    citation: str
    confidence: str = Field(description="H, M hoặc / or L (độ tin cậy của bảng / confidence of the table)")
    inferred: bool = Field(description="Ô suy ra từ ô lân cận / cell inferred from its neighbours")


class LimitCheckResult(BaseModel):
    """The exceedances (and all comparisons) of one check request."""

    regulation: Regulation
    regulation_name: str
    date: dt.date
    period: LimitPeriod | None
    water_class: WaterClass | None
    exceedances: list[LimitCheckRead]
    checks: list[LimitCheckRead]
    not_checked: list[NoteRead]
    classes: dict[str, WaterClass | None] = Field(
        default_factory=dict, description="Mức A–D đạt được theo Bảng 2 / level met per Bảng 2 parameter"
    )


# --- stations ---------------------------------------------------------------------------------------------------


class StationRead(BaseModel):
    """A monitoring station with its datastreams per parameter and its current index (no personal data)."""

    id: int
    code: str
    name: str
    name_en: str | None = None
    kind: StationKind
    lat: float | None
    lon: float | None
    unit_code: str | None
    device_code: str | None
    water_class: str | None
    discharge_column: str | None = None
    kq: float | None = None
    kf: float | None = None
    us_aqi: bool = Field(False, description="Tính thêm US AQI / also compute the US EPA AQI")
    is_active: bool = True
    datastreams: dict[str, int] = Field(description="Thông số → luồng dữ liệu / parameter → telemetry datastream id")
    index_standard: str | None = None
    index_value: int | None = None
    index_category: str | None = None
    index_colour: str | None = None
    index_dominant: str | None = None
    index_at: dt.datetime | None = None
    us_index_value: int | None = None
    us_index_category: str | None = None
    day_index_value: int | None = Field(None, description="VN_AQI ngày gần nhất / latest daily VN_AQI")
    day_index_category: str | None = None
    day_index_day: dt.date | None = None
    open_exceedances: int = 0

    def display_name(self, lang: str) -> str:
        """Return the station's name in a language (the Vietnamese one when no English name is set)."""
        return self.name_en if lang == "en" and self.name_en else self.name


class StationFields(BaseModel):
    """What a person may set on a station; checked by the service, which names every problem in Vietnamese."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = Field(max_length=200, description="Tên trạm (tiếng Việt) / station name (Vietnamese)")
    name_en: str | None = Field(None, max_length=200, description="Tên tiếng Anh / English name")
    kind: StationKind
    lat: float | None = Field(None, description="Vĩ độ / latitude (mặc định vị trí thiết bị / default: the device's)")
    lon: float | None = Field(None, description="Kinh độ / longitude")
    water_class: WaterClass | None = Field(None, description="Nước mặt: mức QCVN 08:2023 Bảng 2 / surface water level")
    discharge_column: DischargeColumn | None = Field(
        None, description="Nước thải: cột QCVN 40:2011 / wastewater column"
    )
    kq: float | None = Field(None, description="Nước thải: hệ số Kq / wastewater Kq")
    kf: float | None = Field(None, description="Nước thải: hệ số Kf / wastewater Kf")
    us_aqi: bool = Field(False, description="Không khí: tính thêm US AQI / air: also compute the US AQI")
    datastreams: dict[str, int] | None = Field(
        None,
        description=(
            "Thông số → mã luồng dữ liệu telemetry; bỏ trống để nối theo khoá của thiết bị / parameter → telemetry "
            "datastream id; leave out to link the device's datastreams by key"
        ),
    )


class StationCreate(StationFields):
    """A station to register, on a telemetry device (datastreams linked by key) or on chosen datastreams."""

    code: str = Field(max_length=64, description="Mã trạm / station code")
    device_code: str | None = Field(None, max_length=64, description="Mã thiết bị telemetry / telemetry device code")


class StationUpdate(StationFields):
    """A station's new settings (every field is replaced; the code and device stay)."""

    is_active: bool = True


class ExceedanceRead(BaseModel):
    """A period during which a parameter broke its QCVN limit (still open when ended_at is None)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    station_id: int
    parameter: str
    regulation: str
    period: str
    limit_value: float
    unit: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    first_value: float
    peak_value: float


class IndexPoint(BaseModel):
    """One hour of a station's index."""

    hour: dt.datetime
    value: int
    category: str


class ParameterLatest(BaseModel):
    """The newest reading of one parameter of a station."""

    parameter: str
    datastream_id: int
    unit: str
    value: float | None
    time: dt.datetime | None


class PublicStation(BaseModel):
    """An air station as the public sees it: where it is and its current index."""

    code: str
    name: str
    lat: float | None
    lon: float | None
    standard: str | None
    value: int | None
    category: str | None
    colour: str | None
    dominant: str | None
    at: dt.datetime | None
    us_value: int | None = Field(None, description="US AQI giờ, nếu trạm bật / hourly US AQI where enabled")
    us_category: str | None = None
    us_colour: str | None = None
    day_value: int | None = Field(None, description="VN_AQI ngày gần nhất / latest daily VN_AQI")
    day_category: str | None = None
    day_colour: str | None = None
    day: dt.date | None = None
