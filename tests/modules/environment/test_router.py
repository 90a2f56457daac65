"""The calculator endpoints and the pages, as staff, integrators and citizens meet them."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from markupsafe import escape

from ioc.core.security import Role

AQI = "/api/v1/environment/aqi/calculate"
WQI = "/api/v1/environment/wqi/calculate"
LIMITS = "/api/v1/environment/limits/check"

# Decision 1459/QĐ-TCMT §2.3 and §2.2.2.a (see indices/test_vn_aqi.py).
GUIDE_PM25 = [26.9, 24.7, 20.5, 23.5, 19.5, 16.5, 19.0, 16.5, 20.3, 22.4, 19.6, 20.6]
GUIDE_O3_HOURLY = [
    15.7, 14.2, 17.7, 18.9, 19.3, 15.7, 19.7,
    22.6, 27.1, 29.0, 31.9, 25.3, 34.7, 35.2, 41.6, 45.7, 49.2, 55.8, 69.6, 78.3,
    91.5, 97.7, 81.2, 71.8, 43.5, 34.3, 21.5, 20.5, 19.4, 20.4, 21.3,
]  # fmt: skip


@pytest.fixture
async def staff(login_as: Any) -> httpx.AsyncClient:
    """A logged-in agency officer."""
    client: httpx.AsyncClient = await login_as(Role.AGENCY_STAFF)
    return client


def _problems(response: httpx.Response) -> list[str]:
    return [p["rule"] for p in response.json()["detail"]["problems"]]


# ---------- access ----------


async def test_the_calculator_needs_a_login(client: httpx.AsyncClient) -> None:
    response = await client.post(AQI, json={"standard": "VN_AQI", "period": "day", "values": {"PM2.5_24h": 20}})
    assert response.status_code == 401


async def test_citizens_cannot_use_the_calculator(login_as: Any) -> None:
    citizen = await login_as(Role.CITIZEN)
    response = await citizen.post(AQI, json={"standard": "VN_AQI", "period": "day", "values": {"PM2.5_24h": 20}})
    assert response.status_code == 403
    assert "environment:calculate" in response.json()["message"]


@pytest.mark.parametrize("role", [Role.HOTLINE_OPERATOR, Role.AGENCY_STAFF, Role.AGENCY_HEAD, Role.LEADER, Role.ADMIN])
async def test_staff_roles_hold_the_scope(login_as: Any, role: Role) -> None:
    http = await login_as(role)
    response = await http.post(AQI, json={"standard": "VN_AQI", "period": "day", "values": {"PM2.5_24h": 20}})
    assert response.status_code == 200, response.text
    assert response.json()["aqi"] == 40


async def test_integrators_use_an_api_key(staff: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    created = await staff.post("/api/v1/api-keys", json={"name": "Cổng dữ liệu", "scopes": ["environment:calculate"]})
    assert created.status_code == 201, created.text
    headers = {"Authorization": f"Bearer {created.json()['secret']}"}
    response = await client.post(
        AQI, headers=headers, json={"standard": "US_AQI", "period": "day", "values": {"PM2.5_24h": 35.9}}
    )
    assert response.status_code == 200, response.text
    assert response.json()["aqi"] == 102


# ---------- VN_AQI ----------


async def test_vn_hourly_worked_example_from_the_raw_series(staff: httpx.AsyncClient) -> None:
    """Decision 1459/QĐ-TCMT §2.3.a–b: Nowcast 20,3 from the printed PM2.5 hours; O3 136,1 → 43; NO2 118,7 → 59
    (the guide prints 60, an erratum: Công thức 1 gives 59.35); PM2.5 → 41."""
    response = await staff.post(
        AQI,
        json={
            "standard": "VN_AQI",
            "period": "hour",
            "hourly": {"PM2.5": GUIDE_PM25},
            "values": {"O3_1h": 136.1, "NO2_1h": 118.7},
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["aqi"] == 59
    assert body["category"] == "moderate"
    assert body["dominant"] == "NO2"
    assert body["sub_indices"] == {"PM2.5": 41, "O3": 43, "NO2": 59}
    assert round(body["inputs_used"]["PM2.5_nowcast"], 1) == 20.3
    assert body["inputs_used"]["O3_1h"] == 136.1
    assert body["units"] == {"PM2.5_nowcast": "µg/m³", "O3_1h": "µg/m³", "NO2_1h": "µg/m³"}
    assert body["category_info"]["hex"] == "#FFFF00"
    assert body["category_info"]["name_vi"] == "Trung bình"
    assert body["notes"] == []
    assert body["beyond_scale"] is False


async def test_vn_daily_worked_example_from_averaged_values(staff: httpx.AsyncClient) -> None:
    """Decision 1459/QĐ-TCMT §2.3.c: O3 8h 89,3; O3 1h 114,6; NO2 130,8; PM2.5 55,7 → AQI^d = 110."""
    response = await staff.post(
        AQI,
        json={
            "standard": "VN_AQI",
            "period": "day",
            "values": {"O3_8h": 89.3, "O3_1h": 114.6, "NO2_1h": 130.8, "PM2.5_24h": 55.7},
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["aqi"], body["category"], body["dominant"]) == (110, "poor", "PM2.5")
    assert body["sub_indices"] == {"PM2.5": 110, "O3": 45, "NO2": 65}
    assert body["category_info"]["advice_sensitive_vi"].startswith("Nên giảm các hoạt động mạnh")


async def test_vn_daily_from_hourly_series_and_values(staff: httpx.AsyncClient) -> None:
    """Both input styles together: the O3 series of §2.2.2.a (31 hours) gives a maximum 8-hour mean of 74.4 and a
    maximum 1-hour mean of 97.7; PM2.5 is given as its 24-hour mean."""
    response = await staff.post(
        AQI,
        json={
            "standard": "VN_AQI",
            "period": "day",
            "hourly": {"O3": GUIDE_O3_HOURLY},
            "values": {"PM2.5_24h": 30.0},
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert round(body["inputs_used"]["O3_8h"], 1) == 74.4
    assert body["inputs_used"]["O3_1h"] == 97.7
    assert body["sub_indices"] == {"PM2.5": 60, "O3": 37}  # O3: max(37.19, 30.53)
    assert body["aqi"] == 60


async def test_missing_hours_within_the_rules_still_give_an_index(staff: httpx.AsyncClient) -> None:
    series = [*GUIDE_PM25[:-2], None, 20.6]  # c2 missing: 2 of the 3 latest hours remain
    response = await staff.post(AQI, json={"standard": "VN_AQI", "period": "hour", "hourly": {"pm25": series}})
    assert response.status_code == 200, response.text
    assert response.json()["dominant"] == "PM2.5"


# ---------- US AQI ----------


async def test_us_hourly_from_series(staff: httpx.AsyncClient) -> None:
    """NowCast for PM2.5 (truncated to 0.1 µg/m³), the latest 8-hour O3 mean (ppm) and the current NO2 (ppb)."""
    response = await staff.post(
        AQI,
        json={
            "standard": "US_AQI",
            "period": "hour",
            "hourly": {"PM2.5": [40.0] * 12, "O3": [0.065] * 8, "NO2": [20, 30, 45]},
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["inputs_used"] == {"PM2.5_nowcast": 40.0, "O3_8h": 0.065, "O3_1h": 0.065, "NO2_1h": 45.0}
    assert body["units"]["O3_8h"] == "ppm"
    assert body["units"]["NO2_1h"] == "ppb"
    # 49/19.9 × 4.5 + 101 = 112.1; 49/0.015 × 0.010 + 51 = 83.7; 50/53 × 45 = 42.45
    assert body["sub_indices"] == {"PM2.5": 112, "O3": 84, "NO2": 42}
    assert body["aqi"] == 112
    assert body["category"] == "unhealthy_for_sensitive_groups"


async def test_us_daily_from_values(staff: httpx.AsyncClient) -> None:
    response = await staff.post(
        AQI,
        json={"standard": "US_AQI", "period": "day", "values": {"O3_8h": 0.07853, "PM2.5_24h": 35.9, "CO_8h": 8.4}},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["aqi"], body["dominant"]) == (126, "O3")
    assert body["inputs_used"]["O3_8h"] == 0.078


# ---------- refusals ----------


async def test_unknown_pollutant_is_named_in_both_languages(staff: httpx.AsyncClient) -> None:
    body = {"standard": "VN_AQI", "period": "day", "values": {"PM1_24h": 12, "PM2.5_24h": 20}}
    response = await staff.post(AQI, json=body)
    assert response.status_code == 422
    assert response.json()["error"] == "environment_invalid_input"
    assert _problems(response) == ["unknown_pollutant"]
    assert "không có trong chỉ số" in response.json()["message"]
    problem = response.json()["detail"]["problems"][0]
    assert problem["field"] == "values.PM1_24h"
    assert "'PM1' is not an air quality index pollutant" in problem["message_en"]
    english = await staff.post(AQI, json=body, headers={"Accept-Language": "en"})
    assert english.json()["message"].startswith("'PM1' is not an air quality index pollutant")


async def test_wrong_unit_is_refused(staff: httpx.AsyncClient) -> None:
    response = await staff.post(
        AQI,
        json={"standard": "VN_AQI", "period": "hour", "values": {"CO_1h": 1.2}, "units": {"CO": "mg/m3"}},
    )
    assert response.status_code == 422
    assert _problems(response) == ["wrong_unit"]
    assert "µg/m³" in response.json()["message"]
    assert "kể cả CO" in response.json()["message"]
    accepted = await staff.post(
        AQI,
        json={"standard": "VN_AQI", "period": "day", "values": {"PM10_24h": 40}, "units": {"PM10": "ug/m3"}},
    )
    assert accepted.status_code == 200


async def test_a_unit_mistake_shows_as_an_implausible_value(staff: httpx.AsyncClient) -> None:
    response = await staff.post(AQI, json={"standard": "US_AQI", "period": "day", "values": {"O3_8h": 45}})
    assert response.status_code == 422
    assert _problems(response) == ["implausible_value"]
    assert "ppm" in response.json()["detail"]["problems"][0]["message_en"]


@pytest.mark.parametrize(
    ("standard", "period", "key", "hint"),
    [
        ("VN_AQI", "hour", "PM2.5_24h", "Nowcast"),
        ("VN_AQI", "day", "PM10_nowcast", "24 giờ"),
        ("VN_AQI", "hour", "O3_8h", "O3_1h"),
        ("VN_AQI", "day", "CO_8h", "CO_1h"),
        ("US_AQI", "day", "CO_1h", "CO_8h"),
    ],
)
async def test_wrong_averaging_period_is_refused(
    staff: httpx.AsyncClient, standard: str, period: str, key: str, hint: str
) -> None:
    response = await staff.post(AQI, json={"standard": standard, "period": period, "values": {key: 10}})
    assert response.status_code == 422
    assert _problems(response) == ["wrong_period"]
    assert hint in response.json()["message"]


async def test_insufficient_data_says_which_rule(staff: httpx.AsyncClient) -> None:
    """NowCast needs 2 of the 3 latest hours; VN_AQI needs PM2.5 or PM10 (1459 §2.2.1.a and §2.1.b)."""
    response = await staff.post(
        AQI,
        json={
            "standard": "VN_AQI",
            "period": "hour",
            "hourly": {"PM2.5": [*GUIDE_PM25[:-2], None, None]},
            "values": {"O3_1h": 80},
        },
    )
    assert response.status_code == 422
    assert response.json()["error"] == "environment_insufficient_data"
    assert _problems(response) == ["nowcast_2_of_3", "pm_mandatory"]
    assert "2 trong 3 giờ gần nhất" in response.json()["message"]


async def test_a_short_day_is_refused(staff: httpx.AsyncClient) -> None:
    response = await staff.post(AQI, json={"standard": "VN_AQI", "period": "day", "hourly": {"PM10": [30] * 20}})
    assert response.status_code == 422
    assert _problems(response) == ["day_series_length"]


async def test_an_input_given_twice_is_refused(staff: httpx.AsyncClient) -> None:
    response = await staff.post(
        AQI,
        json={
            "standard": "VN_AQI",
            "period": "hour",
            "hourly": {"PM2.5": GUIDE_PM25},
            "values": {"PM2.5_nowcast": 20.3},
        },
    )
    assert response.status_code == 422
    assert _problems(response) == ["given_twice"]


async def test_other_bad_requests(staff: httpx.AsyncClient) -> None:
    empty = await staff.post(AQI, json={"standard": "VN_AQI", "period": "day"})
    assert _problems(empty) == ["no_input"]
    negative = await staff.post(AQI, json={"standard": "VN_AQI", "period": "day", "values": {"PM2.5_24h": -3}})
    assert _problems(negative) == ["negative"]
    no_suffix = await staff.post(AQI, json={"standard": "VN_AQI", "period": "day", "values": {"PM2.5": 3}})
    assert _problems(no_suffix) == ["averaging_missing"]
    standard = await staff.post(AQI, json={"standard": "EU_AQI", "period": "day", "values": {"PM2.5_24h": 3}})
    assert standard.status_code == 422
    assert standard.json()["error"] == "validation_failed"
    not_a_number = await staff.post(
        AQI,
        content=json.dumps({"standard": "VN_AQI", "period": "day", "values": {"PM2.5_24h": float("nan")}}),
        headers={"Content-Type": "application/json"},
    )
    assert not_a_number.status_code == 422
    too_long = await staff.post(AQI, json={"standard": "VN_AQI", "period": "hour", "hourly": {"PM10": [1] * 200}})
    assert too_long.status_code == 422


# ---------- VN_WQI ----------


async def test_wqi_calculation(staff: httpx.AsyncClient) -> None:
    response = await staff.post(
        WQI,
        json={"values": {"pH": 7, "As": 0.01, "Cd": 0.005, "BOD5": 5, "COD": 10, "N-NH4": 0.3, "Coliform": 5000}},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["wqi"], body["category"], body["formula"]) == (70, "medium", "3")
    assert body["groups"] == {"I": 100.0, "II": None, "III": 86.6, "IV": 87.5, "V": 75.0}
    assert body["category_info"]["hex"] == "#FFFF00"
    assert body["units"]["BOD5"] == "mg/L"


async def test_wqi_minimum_data(staff: httpx.AsyncClient) -> None:
    response = await staff.post(WQI, json={"values": {"pH": 7, "BOD5": 5}})
    assert response.status_code == 422
    assert _problems(response) == ["group_iv_minimum", "three_groups_minimum"]


# ---------- limits ----------


async def test_air_limit_check(staff: httpx.AsyncClient) -> None:
    response = await staff.post(
        LIMITS,
        json={"regulation": "QCVN_05_2023", "period": "24h", "date": "2026-03-01", "values": {"PM2.5": 47, "PM10": 80}},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    (exceedance,) = body["exceedances"]
    assert exceedance == {
        "parameter": "PM2.5",
        "name_vi": "Bụi PM2,5",
        "name_en": "PM2.5",
        "period": "24h",
        "water_class": None,
        "kind": "max",
        "value": 47.0,
        "limit": 45.0,
        "limit_high": None,
        "unit": "µg/Nm³",
        "ratio": 1.044,
        "exceeded": True,
        "regulation": "QCVN 05:2023/BTNMT",
        "citation": "QCVN 05:2023/BTNMT, Bảng 1",
        "confidence": "H",
        "inferred": False,
    }
    assert len(body["checks"]) == 2
    assert body["regulation_name"] == "QCVN 05:2023/BTNMT"


async def test_water_limit_check(staff: httpx.AsyncClient) -> None:
    response = await staff.post(
        LIMITS,
        json={"regulation": "QCVN_08_2023", "water_class": "B", "values": {"BOD5": 7.2, "N-NH4": 0.42, "pH": 7}},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert {e["parameter"] for e in body["exceedances"]} == {"BOD5", "N-NH4"}
    bod = next(e for e in body["exceedances"] if e["parameter"] == "BOD5")
    assert (bod["confidence"], bod["water_class"], bod["limit"]) == ("L", "B", 6.0)
    assert body["classes"] == {"BOD5": "C", "pH": "A"}


async def test_limit_check_refusals(staff: httpx.AsyncClient) -> None:
    mixed = await staff.post(LIMITS, json={"regulation": "QCVN_05_2023", "water_class": "A", "values": {"NO2_1h": 3}})
    assert _problems(mixed) == ["not_for_air"]
    unknown = await staff.post(LIMITS, json={"regulation": "QCVN_08_2023", "values": {"glitter": 3}})
    assert _problems(unknown) == ["unknown_parameter"]


# ---------- pages ----------


async def test_public_index_page_in_vietnamese(client: httpx.AsyncClient) -> None:
    response = await client.get("/moi-truong/chi-so")
    assert response.status_code == 200
    text = response.text
    assert f"<h1>{escape('Chỉ số chất lượng không khí')}</h1>" in text
    for hex_colour in ("#00E400", "#FFFF00", "#FF7E00", "#FF0000", "#8F3F97", "#7E0023", "#3333FF"):
        assert hex_colour in text
    assert str(escape("Những người nhạy cảm gặp phải các vấn đề về sức khỏe")) in text
    assert "<script>" not in text


async def test_public_index_page_in_english(client: httpx.AsyncClient) -> None:
    response = await client.get("/moi-truong/chi-so", params={"lang": "en"})
    assert response.status_code == 200
    assert "<h1>Air quality index</h1>" in response.text
    assert "Unhealthy for Sensitive Groups" in response.text
    assert "project&#39;s translation" in response.text


async def test_calculator_page_needs_the_scope(client: httpx.AsyncClient, login_as: Any) -> None:
    anonymous = await client.get("/environment/calculator", headers={"Accept": "text/html"})
    assert anonymous.status_code in (302, 303, 307)
    assert anonymous.headers["location"].startswith("/login")
    citizen = await login_as(Role.CITIZEN)
    assert (await citizen.get("/environment/calculator", headers={"Accept": "text/html"})).status_code == 403


async def test_calculator_page_for_staff(staff: httpx.AsyncClient) -> None:
    response = await staff.get("/environment/calculator")
    assert response.status_code == 200
    text = response.text
    assert f"<h1>{escape('Tính chỉ số chất lượng không khí')}</h1>" in text
    assert '<script type="module" src="/static/environment/calculator.js"></script>' in text
    assert 'id="aqi-calculator-config"' in text
    assert 'data-input="PM2.5_24h"' in text
    assert 'data-series="PM10"' in text
    home = await staff.get("/")
    assert 'href="/environment/calculator"' in home.text


async def test_static_script_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/static/environment/calculator.js")
    assert response.status_code == 200
    assert "aqi-calculator-config" in response.text
