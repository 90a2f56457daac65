"""The Vietnamese lunar calendar (âm lịch), computed astronomically for UTC+7.

The rules of the Vietnamese calendar are those of the Chinese one, applied to the civil day of Vietnam:

* a month begins on the day (UTC+7) that contains the instant of a new moon;
* lunar month 11 is the month that contains the winter solstice;
* when 13 months, not 12, begin between two consecutive months 11, the first of them that contains no
  major solar term (trung khí: the Sun's apparent longitude crossing a multiple of 30°) is a leap month
  and takes the number of the month before it.

Because the day boundary is one hour earlier than in China, the two calendars differ whenever a new
moon or a major term falls between 23:00 and 24:00 UTC+7 (Tết 1985 was on 21 January in Vietnam and on
20 February in China). Vietnam has used UTC+7 for its calendar since 1968; this module applies UTC+7 to
every year, which is what the product needs for deadlines and anniversaries.

New moons follow Jean Meeus, *Astronomical Algorithms* (2nd ed.), chapter 49; the Sun's apparent
longitude follows chapter 25 with the truncated VSOP87 series of appendix III; ΔT follows the
polynomials of Espenak and Meeus. The result is reliable for 1900–2100. The only fragile cases are
the few months whose new moon falls within a minute of midnight (UTC+7), such as June 1944, July 1967
or May 2054: there the first day depends on seconds of ephemeris and ΔT, and calendars computed with
other models may start the month one day apart. No Tết or Giỗ Tổ in that range is affected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

VIETNAM_UTC_OFFSET_HOURS = 7.0
"""The time zone whose civil day delimits lunar days in Vietnam."""

# Gregorian years accepted. The ΔT model and the series hold well beyond 1900–2100, the range checked
# against published calendars; further out the day of a new moon would become guesswork.
MIN_YEAR = 1800
MAX_YEAR = 2200

SYNODIC_MONTH = 29.530588861
"""Mean length of a lunation, in days."""

# Julian Day Number of date.fromordinal(0): converts between `date.toordinal()` and JDN.
_JDN_MINUS_ORDINAL = 1721425
# Julian Ephemeris Day of the mean new moon of 2000-01-06, lunation k = 0 in Meeus' numbering.
_NEW_MOON_EPOCH_JDE = 2451550.09766
_J2000 = 2451545.0
_DAYS_PER_CENTURY = 36525.0
_SECONDS_PER_DAY = 86400.0
_WINTER_SOLSTICE_TERM = 9  # index of the 30° sector starting at 270°

# Meeus table 49.A: periodic terms of the true new moon, as (coefficient, power of E, multiples of
# M, M', F, Ω) where M is the Sun's mean anomaly, M' the Moon's, F the Moon's argument of latitude
# and Ω the longitude of the ascending node.
_NEW_MOON_TERMS: tuple[tuple[float, int, int, int, int, int], ...] = (
    (-0.40720, 0, 0, 1, 0, 0),
    (0.17241, 1, 1, 0, 0, 0),
    (0.01608, 0, 0, 2, 0, 0),
    (0.01039, 0, 0, 0, 2, 0),
    (0.00739, 1, -1, 1, 0, 0),
    (-0.00514, 1, 1, 1, 0, 0),
    (0.00208, 2, 2, 0, 0, 0),
    (-0.00111, 0, 0, 1, -2, 0),
    (-0.00057, 0, 0, 1, 2, 0),
    (0.00056, 1, 1, 2, 0, 0),
    (-0.00042, 0, 0, 3, 0, 0),
    (0.00042, 1, 1, 0, 2, 0),
    (0.00038, 1, 1, 0, -2, 0),
    (-0.00024, 1, -1, 2, 0, 0),
    (-0.00017, 0, 0, 0, 0, 1),
    (-0.00007, 0, 2, 1, 0, 0),
    (0.00004, 0, 0, 2, -2, 0),
    (0.00004, 0, 3, 0, 0, 0),
    (0.00003, 0, 1, 1, -2, 0),
    (0.00003, 0, 0, 2, 2, 0),
    (-0.00003, 0, 1, 1, 2, 0),
    (0.00003, 0, -1, 1, 2, 0),
    (-0.00002, 0, -1, 1, -2, 0),
    (-0.00002, 0, 1, 3, 0, 0),
    (0.00002, 0, 0, 4, 0, 0),
)

# Meeus chapter 49: the fourteen planetary arguments A1..A14 (degrees, as constant + rate * k) and
# the amplitude of their sine, in days.
_PLANETARY_TERMS: tuple[tuple[float, float, float], ...] = (
    (299.77, 0.107408, 0.000325),
    (251.88, 0.016321, 0.000165),
    (251.83, 26.651886, 0.000164),
    (349.42, 36.412478, 0.000126),
    (84.66, 18.206239, 0.000110),
    (141.74, 53.303771, 0.000062),
    (207.14, 2.453732, 0.000060),
    (154.84, 7.306860, 0.000056),
    (34.52, 27.261239, 0.000047),
    (207.19, 0.121824, 0.000042),
    (291.34, 1.844379, 0.000040),
    (161.72, 24.198154, 0.000037),
    (239.56, 25.513099, 0.000035),
    (331.55, 3.592518, 0.000023),
)

# Meeus appendix III: VSOP87 series of the Earth's heliocentric longitude, truncated.
# Each series is (A, B, C) with the term A * cos(B + C * tau), tau in Julian millennia from J2000.0,
# the result in 1e-8 radian. Series n is multiplied by tau ** n.
_EARTH_LONGITUDE_SERIES: tuple[tuple[tuple[float, float, float], ...], ...] = (
    (
        (175347046.0, 0.0, 0.0),
        (3341656.0, 4.6692568, 6283.07585),
        (34894.0, 4.6261, 12566.1517),
        (3497.0, 2.7441, 5753.3849),
        (3418.0, 2.8289, 3.5231),
        (3136.0, 3.6277, 77713.7715),
        (2676.0, 4.4181, 7860.4194),
        (2343.0, 6.1352, 3930.2097),
        (1324.0, 0.7425, 11506.7698),
        (1273.0, 2.0371, 529.691),
        (1199.0, 1.1096, 1577.3435),
        (990.0, 5.233, 5884.927),
        (902.0, 2.045, 26.298),
        (857.0, 3.508, 398.149),
        (780.0, 1.179, 5223.694),
        (753.0, 2.533, 5507.553),
        (505.0, 4.583, 18849.228),
        (492.0, 4.205, 775.523),
        (357.0, 2.92, 0.067),
        (317.0, 5.849, 11790.629),
        (284.0, 1.899, 796.298),
        (271.0, 0.315, 10977.079),
        (243.0, 0.345, 5486.778),
        (206.0, 4.806, 2544.314),
        (205.0, 1.869, 5573.143),
        (202.0, 2.458, 6069.777),
        (156.0, 0.833, 213.299),
        (132.0, 3.411, 2942.463),
        (126.0, 1.083, 20.775),
        (115.0, 0.645, 0.98),
        (103.0, 0.636, 4694.003),
        (102.0, 0.976, 15720.839),
        (102.0, 4.267, 7.114),
        (99.0, 6.21, 2146.17),
        (98.0, 0.68, 155.42),
        (86.0, 5.98, 161000.69),
        (85.0, 1.3, 6275.96),
        (85.0, 3.67, 71430.7),
        (80.0, 1.81, 17260.15),
        (79.0, 3.04, 12036.46),
        (75.0, 1.76, 5088.63),
        (74.0, 3.5, 3154.69),
        (74.0, 4.68, 801.82),
        (70.0, 0.83, 9437.76),
        (62.0, 3.98, 8827.39),
        (61.0, 1.82, 7084.9),
        (57.0, 2.78, 6286.6),
        (56.0, 4.39, 14143.5),
        (56.0, 3.47, 6279.55),
        (52.0, 0.19, 12139.55),
        (52.0, 1.33, 1748.02),
        (51.0, 0.28, 5856.48),
        (49.0, 0.49, 1194.45),
        (41.0, 5.37, 8429.24),
        (41.0, 2.4, 19651.05),
        (39.0, 6.17, 10447.39),
        (37.0, 6.04, 10213.29),
        (37.0, 2.57, 1059.38),
        (36.0, 1.71, 2352.87),
        (36.0, 1.78, 6812.77),
        (33.0, 0.59, 17789.85),
        (30.0, 0.44, 83996.85),
        (30.0, 2.74, 1349.87),
        (25.0, 3.16, 4690.48),
    ),
    (
        (628331966747.0, 0.0, 0.0),
        (206059.0, 2.678235, 6283.07585),
        (4303.0, 2.6351, 12566.1517),
        (425.0, 1.59, 3.523),
        (119.0, 5.796, 26.298),
        (109.0, 2.966, 1577.344),
        (93.0, 2.59, 18849.23),
        (72.0, 1.14, 529.69),
        (68.0, 1.87, 398.15),
        (67.0, 4.41, 5507.55),
        (59.0, 2.89, 5223.69),
        (56.0, 2.17, 155.42),
        (45.0, 0.4, 796.3),
        (36.0, 0.47, 775.52),
        (29.0, 2.65, 7.11),
        (21.0, 5.34, 0.98),
        (19.0, 1.85, 5486.78),
        (19.0, 4.97, 213.3),
        (17.0, 2.99, 6275.96),
        (16.0, 0.03, 2544.31),
        (16.0, 1.43, 2146.17),
        (15.0, 1.21, 10977.08),
        (12.0, 2.83, 1748.02),
        (12.0, 3.26, 5088.63),
        (12.0, 5.27, 1194.45),
        (12.0, 2.08, 4694.0),
        (11.0, 0.77, 553.57),
        (10.0, 1.3, 6286.6),
        (10.0, 4.24, 1349.87),
        (9.0, 2.7, 242.73),
        (9.0, 5.64, 951.72),
        (8.0, 5.3, 2352.87),
        (6.0, 2.65, 9437.76),
        (6.0, 4.67, 4690.48),
    ),
    (
        (52919.0, 0.0, 0.0),
        (8720.0, 1.0721, 6283.0758),
        (309.0, 0.867, 12566.152),
        (27.0, 0.05, 3.52),
        (16.0, 5.19, 26.3),
        (16.0, 3.68, 155.42),
        (10.0, 0.76, 18849.23),
        (9.0, 2.06, 77713.77),
        (7.0, 0.83, 775.52),
        (5.0, 4.66, 1577.34),
        (4.0, 1.03, 7.11),
        (4.0, 3.44, 5573.14),
        (3.0, 5.14, 796.3),
        (3.0, 6.05, 5507.55),
        (3.0, 1.19, 242.73),
        (3.0, 6.12, 529.69),
        (3.0, 0.31, 398.15),
        (3.0, 2.28, 553.57),
        (2.0, 4.38, 5223.69),
        (2.0, 3.75, 0.98),
    ),
    (
        (289.0, 5.844, 6283.076),
        (35.0, 0.0, 0.0),
        (17.0, 5.49, 12566.15),
        (3.0, 5.2, 155.42),
        (1.0, 4.72, 3.52),
        (1.0, 5.3, 18849.23),
        (1.0, 5.97, 242.73),
    ),
    (
        (114.0, 3.142, 0.0),
        (8.0, 4.13, 6283.08),
        (1.0, 3.84, 12566.15),
    ),
    ((1.0, 3.14, 0.0),),
)


@dataclass(frozen=True, slots=True)
class LunarDate:
    """A date of the Vietnamese lunar calendar; `leap` marks the day as in the leap month (tháng nhuận)."""

    year: int
    month: int
    day: int
    leap: bool = False

    def __str__(self) -> str:
        """Format as Vietnamese calendars print it, e.g. "10/3/2024" or "1/2 nhuận/2023"."""
        suffix = " nhuận" if self.leap else ""
        return f"{self.day}/{self.month}{suffix}/{self.year}"


@dataclass(frozen=True, slots=True)
class _Month:
    """One lunar month: its lunation number, its name and its first day (JDN) and length."""

    k: int
    year: int
    month: int
    leap: bool
    start: int
    length: int


def julian_day_number(d: date) -> int:
    """Return the Julian Day Number of a Gregorian date."""
    return d.toordinal() + _JDN_MINUS_ORDINAL


def date_from_jdn(jdn: int) -> date:
    """Return the Gregorian date of a Julian Day Number."""
    return date.fromordinal(jdn - _JDN_MINUS_ORDINAL)


def delta_t_seconds(year: float) -> float:
    """Return ΔT = TT − UT in seconds for a decimal year (Espenak and Meeus polynomials)."""
    # Dynamical time (TT) drives the ephemerides; civil time follows the Earth's rotation (UT).
    # The difference is ~1 minute today; its uncertainty after 2020 is far below the precision that
    # matters here (which day a new moon falls on).
    if year < 1860:
        t = year - 1800
        return (
            13.72
            - 0.332447 * t
            + 0.0068612 * t**2
            + 0.0041116 * t**3
            - 0.00037436 * t**4
            + 0.0000121272 * t**5
            - 0.0000001699 * t**6
            + 0.000000000875 * t**7
        )
    if year < 1900:
        t = year - 1860
        return 7.62 + 0.5737 * t - 0.251754 * t**2 + 0.01680668 * t**3 - 0.0004473624 * t**4 + t**5 / 233174
    if year < 1920:
        t = year - 1900
        return -2.79 + 1.494119 * t - 0.0598939 * t**2 + 0.0061966 * t**3 - 0.000197 * t**4
    if year < 1941:
        t = year - 1920
        return 21.20 + 0.84493 * t - 0.076100 * t**2 + 0.0020936 * t**3
    if year < 1961:
        t = year - 1950
        return 29.07 + 0.407 * t - t**2 / 233 + t**3 / 2547
    if year < 1986:
        t = year - 1975
        return 45.45 + 1.067 * t - t**2 / 260 - t**3 / 718
    if year < 2005:
        t = year - 2000
        return 63.86 + 0.3345 * t - 0.060374 * t**2 + 0.0017275 * t**3 + 0.000651814 * t**4 + 0.00002373599 * t**5
    if year < 2050:
        t = year - 2000
        return 62.92 + 0.32217 * t + 0.005589 * t**2
    u = (year - 1820) / 100
    if year < 2150:
        return -20 + 32 * u**2 - 0.5628 * (2150 - year)
    return -20 + 32 * u**2


def _decimal_year(jd: float) -> float:
    return 2000.0 + (jd - _J2000) / 365.25


def _ut_to_tt(jd_ut: float) -> float:
    return jd_ut + delta_t_seconds(_decimal_year(jd_ut)) / _SECONDS_PER_DAY


def _tt_to_ut(jde: float) -> float:
    return jde - delta_t_seconds(_decimal_year(jde)) / _SECONDS_PER_DAY


def new_moon_jde(k: int) -> float:
    """Return the instant (Julian Ephemeris Day, TT) of new moon number `k` (k = 0 on 2000-01-06)."""
    t = k / 1236.85
    jde = _NEW_MOON_EPOCH_JDE + SYNODIC_MONTH * k + 0.00015437 * t**2 - 0.000000150 * t**3 + 0.00000000073 * t**4
    # The eccentricity of the Earth's orbit decreases slowly; terms involving M scale with E.
    e = 1 - 0.002516 * t - 0.0000074 * t**2
    sun_anomaly = math.radians(2.5534 + 29.10535670 * k - 0.0000014 * t**2 - 0.00000011 * t**3)
    moon_anomaly = math.radians(201.5643 + 385.81693528 * k + 0.0107582 * t**2 + 0.00001238 * t**3 - 0.000000058 * t**4)
    latitude_arg = math.radians(160.7108 + 390.67050284 * k - 0.0016118 * t**2 - 0.00000227 * t**3 + 0.000000011 * t**4)
    node = math.radians(124.7746 - 1.56375588 * k + 0.0020672 * t**2 + 0.00000215 * t**3)
    for coefficient, e_power, m, mp, f, om in _NEW_MOON_TERMS:
        argument = m * sun_anomaly + mp * moon_anomaly + f * latitude_arg + om * node
        jde += coefficient * e**e_power * math.sin(argument)
    for index, (constant, rate, amplitude) in enumerate(_PLANETARY_TERMS):
        argument_degrees = constant + rate * k
        if index == 0:
            argument_degrees -= 0.009173 * t**2
        jde += amplitude * math.sin(math.radians(argument_degrees))
    return jde


def sun_apparent_longitude(jde: float) -> float:
    """Return the Sun's apparent geocentric longitude in degrees [0, 360) at a Julian Ephemeris Day."""
    tau = (jde - _J2000) / (10 * _DAYS_PER_CENTURY)
    t = tau * 10
    earth_longitude = 0.0
    for power, series in enumerate(_EARTH_LONGITUDE_SERIES):
        earth_longitude += sum(a * math.cos(b + c * tau) for a, b, c in series) * tau**power
    # Heliocentric longitude of the Earth + 180° = geocentric longitude of the Sun.
    longitude = math.degrees(earth_longitude / 1e8) + 180.0
    # VSOP87 uses the dynamical ecliptic; shift to the FK5 system (-0.09033").
    longitude -= 0.09033 / 3600
    # Nutation in longitude (Meeus chapter 22, 0.5" accuracy) moves the equinox we measure from.
    node = math.radians(125.04452 - 1934.136261 * t)
    sun_mean = math.radians(280.4665 + 36000.7698 * t)
    moon_mean = math.radians(218.3165 + 481267.8813 * t)
    nutation = (
        -17.20 * math.sin(node)
        - 1.32 * math.sin(2 * sun_mean)
        - 0.23 * math.sin(2 * moon_mean)
        + 0.21 * math.sin(2 * node)
    )
    # Aberration: -20.4898" / R, with the Sun's distance R from its mean anomaly (good to 1e-4 AU).
    anomaly = math.radians(357.52911 + 35999.05029 * t)
    distance = 1.000140 - 0.016708 * math.cos(anomaly) - 0.000139 * math.cos(2 * anomaly)
    longitude += (nutation - 20.4898 / distance) / 3600
    return longitude % 360.0


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year} is outside the supported range {MIN_YEAR}–{MAX_YEAR}")


@lru_cache(maxsize=16384)
def _new_moon_day(k: int, offset_hours: float) -> int:
    """JDN of the civil day, in the given time zone, that contains new moon `k`."""
    jd_local = _tt_to_ut(new_moon_jde(k)) + offset_hours / 24
    return math.floor(jd_local + 0.5)


@lru_cache(maxsize=16384)
def _term_sector(jdn: int, offset_hours: float) -> int:
    """Index (0–11) of the 30° sector that the Sun is in when the civil day `jdn` begins."""
    # A month [start, next start) contains a major term exactly when the sector at the start of its
    # first day differs from the sector at the start of the next month's first day.
    jd_ut = jdn - 0.5 - offset_hours / 24
    return math.floor(sun_apparent_longitude(_ut_to_tt(jd_ut)) / 30) % 12


def _lunation_starting_on_or_before(jdn: int, offset_hours: float) -> int:
    """Number of the lunation whose first day is the latest one not after `jdn`."""
    k = math.floor((jdn - _NEW_MOON_EPOCH_JDE) / SYNODIC_MONTH)
    while _new_moon_day(k + 1, offset_hours) <= jdn:
        k += 1
    while _new_moon_day(k, offset_hours) > jdn:
        k -= 1
    return k


@lru_cache(maxsize=1024)
def _month_11(gregorian_year: int, offset_hours: float) -> int:
    """Number of the lunation of lunar month 11, the month containing the winter solstice of that year."""
    k = _lunation_starting_on_or_before(julian_day_number(date(gregorian_year, 12, 31)), offset_hours)
    # The month that starts last before 31 December contains the solstice (~21 December) unless the Sun
    # had already passed 270° when it began; then the solstice is in the month before.
    if _term_sector(_new_moon_day(k, offset_hours), offset_hours) >= _WINTER_SOLSTICE_TERM:
        k -= 1
    return k


@lru_cache(maxsize=1024)
def _months_between_solstices(gregorian_year: int, offset_hours: float) -> tuple[_Month, ...]:
    """The months from month 11 of the previous Gregorian year up to (excluding) month 11 of this one."""
    first = _month_11(gregorian_year - 1, offset_hours)
    count = _month_11(gregorian_year, offset_hours) - first
    leap_index = -1
    if count == 13:
        # Thirteen months hold only twelve major terms, so at least one month has none; the first
        # such month after month 11 is the leap month.
        for index in range(1, 13):
            start = _new_moon_day(first + index, offset_hours)
            following = _new_moon_day(first + index + 1, offset_hours)
            if _term_sector(start, offset_hours) == _term_sector(following, offset_hours):
                leap_index = index
                break
    months: list[_Month] = []
    number = 10
    year = gregorian_year - 1
    for index in range(count):
        k = first + index
        leap = index == leap_index
        if not leap:
            number = number % 12 + 1
            if number == 1:
                year = gregorian_year
        start = _new_moon_day(k, offset_hours)
        length = _new_moon_day(k + 1, offset_hours) - start
        months.append(_Month(k=k, year=year, month=number, leap=leap, start=start, length=length))
    return tuple(months)


def solar_to_lunar(d: date, *, utc_offset_hours: float = VIETNAM_UTC_OFFSET_HOURS) -> LunarDate:
    """Convert a Gregorian date to the Vietnamese lunar calendar."""
    _check_year(d.year)
    jdn = julian_day_number(d)
    k = _lunation_starting_on_or_before(jdn, utc_offset_hours)
    gregorian_year = d.year if k < _month_11(d.year, utc_offset_hours) else d.year + 1
    months = _months_between_solstices(gregorian_year, utc_offset_hours)
    month = months[k - months[0].k]
    return LunarDate(year=month.year, month=month.month, day=jdn - month.start + 1, leap=month.leap)


def _find_month(year: int, month: int, leap: bool, offset_hours: float) -> _Month:
    if not 1 <= month <= 12:
        raise ValueError(f"lunar month must be 1–12, got {month}")
    _check_year(year)
    # Months 1–10 of lunar year Y lie between the solstices of Y-1 and Y; months 11 and 12 after that.
    gregorian_year = year if month < 11 else year + 1
    for candidate in _months_between_solstices(gregorian_year, offset_hours):
        if (candidate.year, candidate.month, candidate.leap) == (year, month, leap):
            return candidate
    raise ValueError(f"lunar year {year} has no leap month {month}")


def lunar_to_solar(
    year: int, month: int, day: int, leap: bool = False, *, utc_offset_hours: float = VIETNAM_UTC_OFFSET_HOURS
) -> date:
    """Convert a Vietnamese lunar date to the Gregorian calendar; invalid dates raise ValueError."""
    found = _find_month(year, month, leap, utc_offset_hours)
    if not 1 <= day <= found.length:
        raise ValueError(f"lunar month {month}/{year} has {found.length} days, got day {day}")
    return date_from_jdn(found.start + day - 1)


def lunar_month_length(
    year: int, month: int, leap: bool = False, *, utc_offset_hours: float = VIETNAM_UTC_OFFSET_HOURS
) -> int:
    """Return the number of days (29 or 30) of a lunar month."""
    return _find_month(year, month, leap, utc_offset_hours).length


def leap_month(year: int, *, utc_offset_hours: float = VIETNAM_UTC_OFFSET_HOURS) -> int | None:
    """Return the number of the leap month of a lunar year, or None when the year has none."""
    _check_year(year)
    for gregorian_year in (year, year + 1):
        for month in _months_between_solstices(gregorian_year, utc_offset_hours):
            if month.leap and month.year == year:
                return month.month
    return None


def lunar_new_year(year: int, *, utc_offset_hours: float = VIETNAM_UTC_OFFSET_HOURS) -> date:
    """Return the Gregorian date of Tết Nguyên đán (1/1 lunar) of a year."""
    return lunar_to_solar(year, 1, 1, utc_offset_hours=utc_offset_hours)


def lunar_new_year_eve(year: int, *, utc_offset_hours: float = VIETNAM_UTC_OFFSET_HOURS) -> date:
    """Return the last day of the lunar year before Tết of `year` (29 or 30 of month 12)."""
    return lunar_new_year(year, utc_offset_hours=utc_offset_hours) - timedelta(days=1)
