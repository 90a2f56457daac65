"""Demo stations and a simulator that makes them publish believable readings.

The values are invented (this is a demo, not measured data) but follow the shapes operators know: a
diurnal temperature and humidity cycle, traffic peaks of PM, NO2 and CO at 7-8 h and 17-19 h, ozone
peaking after noon, dissolved oxygen and pH rising with daylight photosynthesis, a semi-diurnal tide on
the Vàm Cỏ rivers, a pollution episode at an industrial park, a sensor that drifts, and one that has
gone silent. Noise is drawn from a random generator seeded by (seed, device, key, time), so a given hour
always gets the same value and the seeded history is identical on every run.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from ioc.core.time import to_local

from .constants import IngestSource
from .ingest import InboundMessage
from .schemas import DatastreamCreate, DeviceCreate

SEED = 80_2025
HISTORY_DAYS = 7
# The pollution episode of the seeded history starts this many hours before the current hour...
HISTORY_EPISODE_HOURS_AGO = 50
HISTORY_EPISODE_LENGTH_HOURS = 7
# ...and the silent station stopped this many hours before it.
SILENT_SINCE_HOURS = 30
# The drifting sensor's reading grows this much per day (a calibration drift).
DRIFT_PER_DAY = 4.0


class Profile(StrEnum):
    """What surrounds a station; it shapes its readings."""

    URBAN = "urban"
    INDUSTRIAL = "industrial"
    BACKGROUND = "background"
    RIVER_TIDAL = "river_tidal"
    RIVER = "river"
    LAKE = "lake"
    DISCHARGE = "discharge"


@dataclass(frozen=True)
class Quantity:
    """A datastream of the demo: key, observed property, unit and valid range."""

    key: str
    property_vi: str
    property_en: str
    unit_name: str
    unit_symbol: str
    ucum: str
    valid_min: float
    valid_max: float


UG = ("microgram per cubic metre", "µg/m³", "ug/m3")
MG_L = ("milligram per litre", "mg/L", "mg/L")
AIR_QUANTITIES = (
    Quantity("pm25", "Bụi PM2.5", "PM2.5", *UG, 0, 1000),
    Quantity("pm10", "Bụi PM10", "PM10", *UG, 0, 2000),
    Quantity("co", "Cacbon monoxit (CO)", "Carbon monoxide (CO)", *UG, 0, 100_000),
    Quantity("no2", "Nitơ đioxit (NO2)", "Nitrogen dioxide (NO2)", *UG, 0, 2000),
    Quantity("so2", "Lưu huỳnh đioxit (SO2)", "Sulphur dioxide (SO2)", *UG, 0, 2000),
    Quantity("o3", "Ôzôn (O3)", "Ozone (O3)", *UG, 0, 1000),
    Quantity("temp", "Nhiệt độ không khí", "Air temperature", "degree Celsius", "°C", "Cel", -10, 60),
    Quantity("rh", "Độ ẩm tương đối", "Relative humidity", "percent", "%", "%", 0, 100),
)
WATER_QUANTITIES = (
    Quantity("ph", "pH", "pH", "pH unit", "pH", "[pH]", 0, 14),
    Quantity("do", "Oxy hoà tan (DO)", "Dissolved oxygen (DO)", *MG_L, 0, 20),
    Quantity("bod5", "Nhu cầu oxy sinh hoá (BOD5)", "Biochemical oxygen demand (BOD5)", *MG_L, 0, 500),
    Quantity("cod", "Nhu cầu oxy hoá học (COD)", "Chemical oxygen demand (COD)", *MG_L, 0, 1000),
    Quantity("tss", "Chất rắn lơ lửng (TSS)", "Total suspended solids (TSS)", *MG_L, 0, 2000),
    Quantity("nh4", "Amoni (NH4+ tính theo N)", "Ammonium (NH4+ as N)", *MG_L, 0, 100),
    Quantity("level", "Mực nước", "Water level", "metre", "m", "m", -5, 20),
)
# An industrial park's treated effluent at the outfall: what QCVN 40 limits, plus the flow.
WASTEWATER_QUANTITIES = (
    *(q for q in WATER_QUANTITIES if q.key in {"ph", "bod5", "cod", "tss", "nh4"}),
    Quantity("temp", "Nhiệt độ nước thải", "Effluent temperature", "degree Celsius", "°C", "Cel", 0, 80),
    Quantity("flow", "Lưu lượng xả", "Discharge flow", "cubic metre per hour", "m³/h", "m3/h", 0, 5000),
)


@dataclass(frozen=True)
class Station:
    """A demo station: where it is, what it measures, and how it behaves."""

    code: str
    name: str
    lat: float
    lon: float
    profile: Profile
    quantities: tuple[Quantity, ...]
    episode: bool = False
    drifting_key: str | None = None
    silent: bool = False
    senml: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_air(self) -> bool:
        """Tell whether the station measures air."""
        return self.quantities is AIR_QUANTITIES

    @property
    def medium(self) -> str:
        """Return what the station measures: air, (surface) water or wastewater."""
        if self.is_air:
            return "air"
        return "wastewater" if self.profile is Profile.DISCHARGE else "water"


# Places are plausible locations of monitoring stations in the new Tây Ninh (former Tây Ninh and Long An).
STATIONS: tuple[Station, ...] = (
    Station("KK-TANNINH", "Trạm không khí phường Tân Ninh", 11.3105, 106.0982, Profile.URBAN, AIR_QUANTITIES),
    Station("KK-HOATHANH", "Trạm không khí Hòa Thành", 11.2842, 106.1318, Profile.URBAN, AIR_QUANTITIES),
    Station("KK-TRANGBANG", "Trạm không khí KCN Trảng Bàng", 11.0335, 106.3608, Profile.INDUSTRIAL, AIR_QUANTITIES),
    Station(
        "KK-PHUOCDONG",
        "Trạm không khí KCN Phước Đông",
        11.0810,
        106.2905,
        Profile.INDUSTRIAL,
        AIR_QUANTITIES,
        episode=True,
    ),
    Station("KK-TANAN", "Trạm không khí phường Tân An", 10.5362, 106.4135, Profile.URBAN, AIR_QUANTITIES),
    Station("KK-BENLUC", "Trạm không khí Bến Lức (QL1)", 10.6405, 106.4888, Profile.URBAN, AIR_QUANTITIES),
    Station(
        "KK-DUCHOA",
        "Trạm không khí KCN Đức Hòa",
        10.8795,
        106.4205,
        Profile.INDUSTRIAL,
        AIR_QUANTITIES,
        drifting_key="pm25",
    ),
    Station(
        "KK-CANGIUOC", "Trạm không khí Cần Giuộc", 10.6052, 106.6702, Profile.BACKGROUND, AIR_QUANTITIES, silent=True
    ),
    Station(
        "NM-VCD-GODAU",
        "Trạm nước sông Vàm Cỏ Đông (Gò Dầu)",
        11.0902,
        106.2652,
        Profile.RIVER,
        WATER_QUANTITIES,
        senml=True,
    ),
    Station(
        "NM-VCD-BENLUC",
        "Trạm nước sông Vàm Cỏ Đông (Bến Lức)",
        10.6372,
        106.4852,
        Profile.RIVER_TIDAL,
        WATER_QUANTITIES,
        senml=True,
    ),
    Station(
        "NM-VCT-TANAN", "Trạm nước sông Vàm Cỏ Tây (Tân An)", 10.5405, 106.4102, Profile.RIVER_TIDAL, WATER_QUANTITIES
    ),
    Station("NM-DAUTIENG", "Trạm nước hồ Dầu Tiếng", 11.3302, 106.2701, Profile.LAKE, WATER_QUANTITIES),
    Station("NM-RACH-TAYNINH", "Trạm nước rạch Tây Ninh", 11.3003, 106.1004, Profile.RIVER, WATER_QUANTITIES),
    Station("NM-THAYCAI", "Trạm nước kênh Thầy Cai (Đức Hòa)", 10.9003, 106.4502, Profile.RIVER, WATER_QUANTITIES),
    Station(
        "NT-KCN-PHUOCDONG",
        "Trạm nước thải sau xử lý KCN Phước Đông",
        11.0768,
        106.2968,
        Profile.DISCHARGE,
        WASTEWATER_QUANTITIES,
        episode=True,
    ),
)
MEDIUM_VI = {"air": "không khí", "water": "nước mặt", "wastewater": "nước thải"}


def device_create(station: Station) -> DeviceCreate:
    """Return the registration of a demo station."""
    return DeviceCreate(
        code=station.code,
        name=station.name,
        description=f"Trạm quan trắc {MEDIUM_VI[station.medium]} tự động (dữ liệu mô phỏng cho bản trình diễn).",
        lat=station.lat,
        lon=station.lon,
        offline_after_minutes=15,
        properties={"demo": True, "profile": station.profile.value, "medium": station.medium},
        datastreams=[
            DatastreamCreate(
                key=q.key,
                name=q.property_vi,
                observed_property=q.property_en,
                unit_name=q.unit_name,
                unit_symbol=q.unit_symbol,
                unit_definition=f"ucum:{q.ucum}",
                sensor="Mô phỏng / simulated",
                valid_min=q.valid_min,
                valid_max=q.valid_max,
            )
            for q in station.quantities
        ],
    )


def _bump(hour: float, centre: float, width: float) -> float:
    distance = min(abs(hour - centre), 24 - abs(hour - centre))
    return math.exp(-0.5 * (distance / width) ** 2)


def _daylight(hour: float) -> float:
    return max(0.0, math.sin(math.pi * (hour - 6) / 12))


def _noise(station: Station, key: str, moment: datetime, scale: float) -> float:
    rng = random.Random(f"{SEED}:{station.code}:{key}:{int(moment.timestamp())}")  # noqa: S311 - demo data
    return rng.gauss(0.0, scale)


def _episode_factor(
    station: Station, moment: datetime, episode_start: datetime | None, hours: float, ramp_hours: float | None
) -> float:
    """Return 0 outside the episode and up to 1 inside: a quarter sine up, a plateau, a quarter sine down.

    With ramps of half the episode (the default) the shape is one sine hump, as in the hourly history; the
    live run's plume arrives within a minute or two and stays, as a plume does when the wind holds.
    """
    if not station.episode or episode_start is None:
        return 0.0
    elapsed = (moment - episode_start).total_seconds() / 3600
    if elapsed < 0 or elapsed > hours:
        return 0.0
    ramp = hours / 2 if ramp_hours is None else min(ramp_hours, hours / 2)
    edge = min(elapsed, hours - elapsed)
    return math.sin(math.pi / 2 * edge / ramp) if edge < ramp else 1.0


def _effluent(key: str, hour: float, episode: float) -> float:
    """Return a treated effluent's reading: the plant works by day, and a treatment failure is the episode."""
    shift = _bump(hour, 12.0, 3.5)
    # The failure sends COD, TSS and ammonium well over QCVN 40 column B (150, 100 and 10 mg/L).
    levels = {
        "ph": 7.3 - 0.9 * episode,
        "bod5": 22 + 6 * shift + 70 * episode,
        "cod": 68 + 14 * shift + 260 * episode,
        "tss": 42 + 10 * shift + 150 * episode,
        "nh4": 3.8 + 1.2 * shift + 16 * episode,
        "temp": 31 + 2.5 * shift,
        "flow": 160 + 240 * shift,
    }
    return levels.get(key, 0.0)


def value_at(
    station: Station,
    quantity: Quantity,
    moment: datetime,
    *,
    episode_start: datetime | None = None,
    episode_hours: float = HISTORY_EPISODE_LENGTH_HOURS,
    episode_ramp_hours: float | None = None,
    drift_origin: datetime | None = None,
) -> float:
    """Return the simulated reading of a quantity at a station at a moment."""
    local = to_local(moment)
    hour = local.hour + local.minute / 60
    traffic = _bump(hour, 7.5, 1.2) + _bump(hour, 18.0, 1.5)
    night = _bump(hour, 3.0, 3.0)  # shallow night boundary layer keeps particles near the ground
    sun = _daylight(hour)
    industrial = station.profile is Profile.INDUSTRIAL
    urban = station.profile is Profile.URBAN
    episode = _episode_factor(station, moment, episode_start, episode_hours, episode_ramp_hours)
    key = quantity.key
    base: float
    if station.profile is Profile.DISCHARGE:
        base = _effluent(key, hour, episode)
    elif key == "pm25":
        base = (18 if station.profile is Profile.BACKGROUND else 26) + 22 * traffic * urban + 10 * night
        base += 8 * industrial + 170 * episode
    elif key == "pm10":
        base = 35 + 35 * traffic * urban + 14 * night + 20 * industrial + 240 * episode
    elif key == "co":
        base = 900 + 2200 * traffic * urban + 400 * night + 300 * industrial + 6000 * episode
    elif key == "no2":
        base = 18 + 45 * traffic * urban + 12 * industrial + 90 * episode
    elif key == "so2":
        # A boiler burning high-sulphur fuel without its scrubber: about 510 µg/m³ at the plateau, over the
        # 1-hour limit of QCVN 05:2023/BTNMT Bảng 1 (350 µg/Nm³) and in VN_AQI's "poor" band (Decision 1459
        # Bảng 2: 350-550 µg/m³), so that the episode raises a QCVN 05 exceedance while PM2.5 turns it red.
        base = 8 + 25 * industrial + 6 * urban + 480 * episode
    elif key == "o3":
        base = 20 + 85 * sun + 10 * (station.profile is Profile.BACKGROUND)
    elif key == "temp":
        base = 27.0 + 5.0 * math.sin(2 * math.pi * (hour - 9) / 24)
    elif key == "rh":
        base = 74.0 - 16.0 * math.sin(2 * math.pi * (hour - 9) / 24)
    elif key == "ph":
        base = 7.0 + 0.35 * sun - (0.4 if station.profile is Profile.RIVER_TIDAL else 0.0)
    elif key == "do":
        base = 4.6 + 2.2 * sun + (1.0 if station.profile is Profile.LAKE else 0.0)
    elif key == "bod5":
        base = 5.0 + (2.5 if station.code == "NM-THAYCAI" else 0.0)
    elif key == "cod":
        base = 14.0 + (8.0 if station.code == "NM-THAYCAI" else 0.0)
    elif key == "tss":
        base = 45.0 if station.profile is not Profile.LAKE else 12.0
    elif key == "nh4":
        base = 0.35 + (0.6 if station.code == "NM-THAYCAI" else 0.0)
    elif key == "level":
        if station.profile is Profile.RIVER_TIDAL:
            hours = moment.timestamp() / 3600
            base = 0.4 + 1.1 * math.sin(2 * math.pi * hours / 12.42) + 0.3 * math.sin(2 * math.pi * hours / 24.84)
        elif station.profile is Profile.LAKE:
            base = 1.0 + 0.02 * math.sin(2 * math.pi * moment.timestamp() / 86400)  # a reservoir barely moves
        else:
            base = 1.2
    else:
        base = 0.0
    scale = max(abs(base) * 0.06, 0.05)
    result = base + _noise(station, key, moment, scale)
    if key == station.drifting_key and drift_origin is not None:
        result += DRIFT_PER_DAY * max((moment - drift_origin).total_seconds(), 0) / 86400
    result = min(max(result, quantity.valid_min), quantity.valid_max)
    return round(result, 2 if quantity.valid_max <= 100 else 1)


def payload(station: Station, moment: datetime, values: dict[str, float]) -> str:
    """Return a message as the station sends it: SenML for some water stations, the JSON format otherwise."""
    if station.senml:
        base = [{"bn": f"urn:dev:ioc:{station.code}:", "bt": round(moment.timestamp(), 3)}]
        return json.dumps(base + [{"n": key, "v": value} for key, value in values.items()])
    return json.dumps({"ts": int(moment.timestamp() * 1000), "values": values})


def readings(
    station: Station,
    moment: datetime,
    *,
    episode_start: datetime | None = None,
    episode_hours: float = HISTORY_EPISODE_LENGTH_HOURS,
    episode_ramp_hours: float | None = None,
    drift_origin: datetime | None = None,
) -> dict[str, float]:
    """Return every quantity of a station at a moment."""
    return {
        q.key: value_at(
            station,
            q,
            moment,
            episode_start=episode_start,
            episode_hours=episode_hours,
            episode_ramp_hours=episode_ramp_hours,
            drift_origin=drift_origin,
        )
        for q in station.quantities
    }


def history_messages(now: datetime, days: int = HISTORY_DAYS) -> Iterator[InboundMessage]:
    """Yield hourly messages of every station for the past days, as if they had been received live."""
    end = now.replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    episode_start = end - timedelta(hours=HISTORY_EPISODE_HOURS_AGO)
    silent_since = end - timedelta(hours=SILENT_SINCE_HOURS)
    moment = start
    while moment <= end:
        for station in STATIONS:
            if station.silent and moment > silent_since:
                continue
            values = readings(station, moment, episode_start=episode_start, drift_origin=start)
            yield InboundMessage(
                payload=payload(station, moment, values),
                source=IngestSource.EMBEDDED,
                device_code=station.code,
                received_at=moment + timedelta(seconds=5),
            )
        moment += timedelta(hours=1)
    # A last reading a minute ago, so that the stations show as online right after seeding.
    recent = now - timedelta(minutes=1)
    for station in STATIONS:
        if not station.silent:
            values = readings(station, recent, episode_start=episode_start, drift_origin=start)
            yield InboundMessage(
                payload=payload(station, recent, values),
                source=IngestSource.EMBEDDED,
                device_code=station.code,
                received_at=now,
            )


@dataclass
class LiveRun:
    """The state of a live simulation: when it started and when its pollution episode happens.

    The episode is long and strong enough for what the environment module judges by the hour (the mean of the
    hour so far): within about five minutes PM2.5 near 200 µg/m³ lifts the NowCast past 80 µg/m³ (VN_AQI "bad",
    red; Decision 1459 Bảng 2) and the hour's SO2 mean passes the 1-hour limit of QCVN 05:2023/BTNMT Bảng 1
    (350 µg/Nm³), an exceedance. An hour is a plausible length for a plume episode; the server's demo
    starts a new one every two hours.
    """

    started: datetime
    episode: bool = True
    episode_delay: timedelta = timedelta(minutes=1)
    episode_length: timedelta = timedelta(minutes=60)
    episode_ramp: timedelta = timedelta(minutes=1)

    def messages(self, moment: datetime) -> list[tuple[Station, str]]:
        """Return (station, payload) for every station that is still talking."""
        episode_start = self.started + self.episode_delay if self.episode else None
        hours = self.episode_length.total_seconds() / 3600
        ramp_hours = self.episode_ramp.total_seconds() / 3600
        drift_origin = self.started - timedelta(days=HISTORY_DAYS)
        return [
            (
                station,
                payload(
                    station,
                    moment,
                    readings(
                        station,
                        moment,
                        episode_start=episode_start,
                        episode_hours=hours,
                        episode_ramp_hours=ramp_hours,
                        drift_origin=drift_origin,
                    ),
                ),
            )
            for station in STATIONS
            if not station.silent
        ]
