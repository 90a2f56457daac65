"""The pivot builder (totals, split, Excel and CSV), tracing re-aggregated old units, the overview's reporting
rates, and metadata editing by administrators (inline errors, refused changes, audit)."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import delete, select

from ioc.core.models import AuditEntry
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.modules.indicator import repository, service
from ioc.modules.indicator.constants import ALL_COCS, ChangeSource, ImportStrategy
from ioc.modules.indicator.models import Rollup
from ioc.modules.indicator.schemas import ValueRow

from .conftest import COMMUNE, OTHER_COMMUNE, World
from .test_router import last_month

# Two old communes merged (fully) into Phường Tân Ninh 25459 in 2025, per the old→new reference table.
OLD_INTO_COMMUNE = ("25459", "25462")


async def _store(runtime: Runtime, world: World, rows: list[ValueRow], old_units: bool = False) -> None:
    async with runtime.db.transaction() as session:
        catalog = await repository.load_catalog(session)
        if old_units:
            await service.assign_old_unit_reporters(session, catalog, "TTHC_MONTHLY")
            catalog = await repository.load_catalog(session)
        summary = await service.import_rows(
            session,
            catalog,
            rows,
            world.admin,
            strategy=ImportStrategy.ALL_OR_NOTHING,
            source=ChangeSource.JSON,
            check_calendar=False,
        )
    assert summary.refused == 0, summary.conflicts


def _row(de: str, pe: str, ou: str, value: float, coc: str | None = None) -> ValueRow:
    return ValueRow(data_element=de, period=pe, org_unit=ou, coc=coc, value=value)


async def test_pivot_totals_exports_trace_of_old_units_and_overview_rates(
    login_as: Any, runtime: Runtime, world: World
) -> None:
    rows = []
    for unit, base in ((COMMUNE, 10), (OTHER_COMMUNE, 20)):
        for month, extra in (("202507", 0), ("202508", 1)):
            rows += [
                _row("TTHC_RECEIVED", month, unit, base + extra, "ONLINE"),
                _row("TTHC_RECEIVED", month, unit, 10, "IN_PERSON"),
                _row("TTHC_RESOLVED", month, unit, 6, "EARLY"),
                _row("TTHC_RESOLVED", month, unit, 2, "ON_TIME"),
                _row("TTHC_RESOLVED", month, unit, 2, "LATE"),
            ]
    rows += [_row("TTHC_RECEIVED", "202506", old, 7, "ONLINE") for old in OLD_INTO_COMMUNE]
    await _store(runtime, world, rows, old_units=True)
    async with runtime.db.transaction() as session:
        # As a database written before the totals layer: the start-up backfill rebuilds it, once.
        await session.execute(delete(Rollup).where(Rollup.coc_id == ALL_COCS))
        assert await repository.backfill_rollup_totals(session) > 0
        assert await repository.backfill_rollup_totals(session) == 0
    leader = await login_as(Role.LEADER)

    # Nested periods (a quarter and its months) and units (the province and its communes): each total counts a
    # value once, and a rate's total is the rate of the totals.
    params = {
        "dx": "TTHC_RECEIVED;TTHC_ONTIME_RATE",
        "pe": "202507;202508;2025Q3",
        "ou": ["80", COMMUNE, OTHER_COMMUNE],
    }
    answer = await leader.get("/api/v1/indicator/pivot", params=params)
    assert answer.status_code == 200, answer.text
    table = answer.json()
    assert table["periods"] == ["202507", "202508", "2025Q3"]
    by_key = {(r["dx"], r["ou"]): r for r in table["rows"]}
    assert len(table["rows"]) == 8  # 2 items × (3 units + their total)
    assert (by_key[("TTHC_RECEIVED", "80")]["values"], by_key[("TTHC_RECEIVED", "80")]["total"]) == ([50, 52, 102], 102)
    assert (by_key[("TTHC_RECEIVED", COMMUNE)]["values"], by_key[("TTHC_RECEIVED", COMMUNE)]["total"]) == (
        [20, 21, 41],
        41,
    )
    total = by_key[("TTHC_RECEIVED", "TOTAL")]
    assert (total["is_total"], total["values"], total["total"]) == (True, [50, 52, 102], 102)
    rate_total = by_key[("TTHC_ONTIME_RATE", "TOTAL")]
    assert (rate_total["values"], rate_total["total"]) == ([80, 80, 80], 80)  # (6+2)/10, not a sum of rates

    split = await leader.get(
        "/api/v1/indicator/pivot", params={"dx": "TTHC_RECEIVED", "pe": "202507", "ou": COMMUNE, "split": "true"}
    )
    split_rows = {r["dx"]: r["values"][0] for r in split.json()["rows"]}
    assert split_rows == {
        "TTHC_RECEIVED": 20,
        "TTHC_RECEIVED.CARRIED_OVER": None,
        "TTHC_RECEIVED.ONLINE": 10,
        "TTHC_RECEIVED.IN_PERSON": 10,
        "TTHC_RECEIVED.POSTAL": None,
    }

    excel = await leader.get("/api/v1/indicator/pivot", params={**params, "format": "xlsx"})
    assert excel.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(excel.content))["Bang tong hop"]
    assert [c.value for c in sheet[1]] == [
        "Mã / Code",
        "Dữ liệu / Data",
        "Đơn vị / Unit",
        *table["periods"],
        "Tổng / Total",
    ]
    assert [c.value for c in sheet[2]][3:] == [50, 52, 102, 102]
    exported = await leader.get("/api/v1/indicator/pivot", params={**params, "format": "csv"})
    lines = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert len(lines) == 9
    assert lines[2][0] == "TTHC_RECEIVED"
    assert lines[2][3:] == ["20", "21", "41", "41"]
    bad = await leader.get("/api/v1/indicator/pivot", params={"dx": "TTHC_RECEIVED", "pe": "2025-13", "ou": "80"})
    assert bad.status_code == 422
    assert "không hợp lệ" in bad.json()["message"]

    page = await leader.get("/indicators/pivot", params={**params, "pe": "202507;202508;2025Q3"})
    assert page.status_code == 200
    assert 'id="ind-pivot-data"' in page.text
    assert "data-pivot-table" in page.text
    export = "/api/v1/indicator/pivot?dx=TTHC_RECEIVED&amp;dx=TTHC_ONTIME_RATE&amp;pe=202507%3B202508%3B2025Q3"
    assert f'href="{export}&amp;ou=80&amp;ou={COMMUNE}&amp;ou={OTHER_COMMUNE}&format=xlsx"' in page.text
    assert page.text.count("data-total") == 2
    refused = await leader.get("/indicators/pivot", params={"dx": "TTHC_RECEIVED", "pe": "2025-13", "ou": "80"})
    assert "data-pivot-error" in refused.text
    assert "Kỳ &#39;2025-13&#39; không hợp lệ" in refused.text

    # The 2025-06 figure of the commune exists only through the two old communes merged into it.
    trace_params = {"dx": "TTHC_RECEIVED", "pe": "202506", "ou": COMMUNE}
    plain = (await leader.get("/api/v1/indicator/trace", params=trace_params)).json()
    assert plain["reports"] == []
    remapped = (await leader.get("/api/v1/indicator/trace", params={**trace_params, "remap": "true"})).json()
    assert remapped["remap"] is True
    old = {r["org_unit"]: r for r in remapped["reports"]}
    assert set(old) == set(OLD_INTO_COMMUNE)
    assert all(r["old_unit"] and r["weight"] == 1.0 and COMMUNE in r["mapped_to"] for r in old.values())
    assert all(r["mapping_verified"] is False and r["values"] == 1 for r in old.values())
    province = (
        await leader.get("/api/v1/indicator/trace", params={**trace_params, "ou": "80", "remap": "true"})
    ).json()
    assert {r["org_unit"] for r in province["reports"] if r["old_unit"]} == set(OLD_INTO_COMMUNE)
    trace_page = await leader.get("/indicators/trace", params={**trace_params, "remap": "true"})
    assert trace_page.text.count("data-old-unit") == 2
    assert "chưa xác nhận" in trace_page.text

    # Reporting rates on the overview: one of the two commune committees submitted last month, on time.
    staff = await login_as(Role.AGENCY_STAFF, agency_id=world.commune_agency)
    month = last_month()
    balanced = {("CARRIED_OVER", 10), ("ONLINE", 30), ("IN_PERSON", 20)}
    body = {
        "dataSet": "TTHC_MONTHLY",
        "period": month,
        "orgUnit": COMMUNE,
        "dataValues": [
            *({"dataElement": "TTHC_RECEIVED", "categoryOptionCombo": c, "value": str(v)} for c, v in balanced),
            {"dataElement": "TTHC_RESOLVED", "categoryOptionCombo": "ON_TIME", "value": "50"},
            {"dataElement": "TTHC_IN_PROGRESS", "categoryOptionCombo": "WITHIN", "value": "10"},
        ],
    }
    assert (await staff.post("/api/v1/data-value-sets", json=body)).status_code == 200
    submitted = await staff.post(f"/api/v1/indicator/reports/TTHC_MONTHLY/{month}/{COMMUNE}/submit")
    assert submitted.status_code == 200, submitted.text
    async with runtime.db.session() as session:
        history = await service.rate_history(session, await repository.load_catalog(session), "tthc", 6)
    monthly = next(h for h in history if h.data_set.code == "TTHC_MONTHLY")
    assert [r.period for r in monthly.periods][-1] == month
    assert len(monthly.periods) == 6
    assert (monthly.periods[-1].expected, monthly.periods[-1].actual) == (2, 1)
    assert [(r.agency, r.reporting_rate) for r in monthly.agencies] == [
        (f"UBND-{OTHER_COMMUNE}", 0.0),
        (f"UBND-{COMMUNE}", 100.0),
    ]
    overview = await leader.get("/indicators/overview/tthc")
    assert overview.status_code == 200
    assert f'data-rate="TTHC_MONTHLY:{month}"' in overview.text
    assert 'data-agency-rates="TTHC_MONTHLY"' in overview.text
    assert f'data-agency="UBND-{COMMUNE}"' in overview.text
    assert "remap=true" in overview.text  # the overview's figures are re-aggregated, and so is their trace


async def test_administrators_edit_metadata_with_field_errors_refusals_and_audit(
    login_as: Any, runtime: Runtime, world: World
) -> None:
    admin = await login_as(Role.ADMIN)
    leader = await login_as(Role.LEADER)
    api = "/api/v1/indicator/metadata"
    element = {"code": "TEST_VISITS", "name": "Lượt khám thử", "value_type": "integer", "aggregation_type": "sum"}
    assert (await leader.post(f"{api}/elements", json={**element, "combo": "default"})).status_code == 403

    wrong = await admin.post(f"{api}/elements", json={"code": "1x", "name": "", "value_type": "so", "combo": "default"})
    assert wrong.status_code == 422
    fields = wrong.json()["detail"]["fields"]
    assert set(fields) == {"code", "name", "value_type", "aggregation_type"}
    assert fields["name"]["vi"] == "Vui lòng nhập tên (tiếng Việt)."

    combo = {
        "code": "test_sex",
        "name": "Giới tính",
        "categories": "sex | Giới tính | Sex: M = Nam / Male; F = Nữ / Female",
    }
    assert (await admin.post(f"{api}/combos", json=combo)).status_code == 201
    created = await admin.post(f"{api}/elements", json={**element, "combo": "test_sex"})
    assert created.status_code == 201, created.text
    duplicate = await admin.post(f"{api}/elements", json={**element, "combo": "test_sex"})
    assert duplicate.json()["detail"]["fields"]["code"]["vi"] == "Mã 'TEST_VISITS' đã có."
    data_set = {"code": "TEST_DS", "name": "Biểu thử", "period_type": "monthly", "timely_days": 5}
    assert (await admin.post(f"{api}/data-sets", json={**data_set, "elements": ["TEST_VISITS"]})).status_code == 201
    rule = {"code": "TEST_RULE", "data_set": "TEST_DS", "name": "Nữ ≤ tổng", "operator": "less_than_or_equal_to"}
    unknown = await admin.post(f"{api}/rules", json={**rule, "left": "#{NOPE.F}", "right": "#{TEST_VISITS}"})
    assert unknown.json()["detail"]["fields"]["left"]["vi"] == "Không có chỉ tiêu: NOPE."
    broken = await admin.post(f"{api}/rules", json={**rule, "left": "#{TEST_VISITS.F} +", "right": "#{TEST_VISITS}"})
    assert "cú pháp" in broken.json()["detail"]["fields"]["left"]["vi"]
    good_rule = {**rule, "left": "#{TEST_VISITS.F}", "right": "#{TEST_VISITS}", "importance": "high"}
    assert (await admin.post(f"{api}/rules", json=good_rule)).status_code == 201
    share = {"code": "TEST_SHARE", "name": "Tỷ lệ nữ", "numerator": "#{TEST_VISITS.F}", "denominator": "#{TEST_VISITS}"}
    assert (await admin.post(f"{api}/indicators", json={**share, "factor": 100, "decimals": 1})).status_code == 201
    async with runtime.db.session() as session:
        catalog = await repository.load_catalog(session)
    assert catalog.elements["TEST_VISITS"].combo_code == "test_sex"
    assert [catalog.coc_codes[c] for c in catalog.cocs_of_combo[catalog.elements["TEST_VISITS"].combo_id]] == ["M", "F"]
    assert [catalog.elements_by_id[e].code for e in catalog.data_sets["TEST_DS"].element_ids] == ["TEST_VISITS"]

    # Stored figures are never orphaned: another disaggregation, or dropping a cell that holds values, is refused.
    await _store(runtime, world, [_row("TTHC_RECEIVED", "202507", COMMUNE, 5, "ONLINE")])
    received = (await admin.get(f"{api}/elements")).json()
    current = next(e for e in received if e["code"] == "TTHC_RECEIVED")
    moved = await admin.put(f"{api}/elements/TTHC_RECEIVED", json={**current, "combo": "default"})
    assert moved.status_code == 422
    assert set(moved.json()["detail"]["fields"]) == {"combo"}
    renamed = await admin.put(
        f"{api}/elements/TTHC_RECEIVED", json={**current, "combo": "tthc_received", "name": "Hồ sơ tiếp nhận (sửa)"}
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Hồ sơ tiếp nhận (sửa)"
    shrunk = "channel | Kênh | Channel: CARRIED_OVER = Kỳ trước / Carried over; POSTAL = Bưu chính / Postal"
    dropped = await admin.put(f"{api}/combos/tthc_received", json={"name": "Kênh", "categories": shrunk})
    assert "ONLINE" in dropped.json()["detail"]["fields"]["categories"]["vi"]
    grown = "sex | Giới tính | Sex: M = Nam / Male; F = Nữ / Female; X = Khác / Other"
    assert (
        await admin.put(f"{api}/combos/test_sex", json={"name": "Giới tính", "categories": grown})
    ).status_code == 200
    assert (await admin.put(f"{api}/elements/NOPE", json=element)).status_code == 404

    async with runtime.db.session() as session:
        audited = (
            await session.execute(
                select(AuditEntry.entity_type, AuditEntry.action).where(AuditEntry.entity_type.like("indicator_%"))
            )
        ).all()
    kinds = {(entity, str(action)) for entity, action in audited}
    for table in ("indicator_data_element", "indicator_category_combo", "indicator_category_option_combo"):
        assert any(entity == table for entity, _action in kinds), table
    assert any(e == "indicator_data_element" and "update" in a for e, a in kinds)
    assert any(e == "indicator_data_set_element" for e, _a in kinds)

    # The pages: a list, a form with inline validation, errors beside fields, and a redirect once saved.
    listing = await admin.get("/indicators/admin/elements")
    assert listing.status_code == 200
    assert 'data-code="TEST_VISITS"' in listing.text
    form = await admin.get("/indicators/admin/elements/TEST_VISITS")
    assert "data-validate" in form.text
    assert 'name="original" value="TEST_VISITS"' in form.text
    refused = await admin.post(
        "/indicators/admin/data-sets",
        data={"code": "TEST_DS2", "name": "", "period_type": "monthly", "timely_days": "x"},
    )
    assert refused.status_code == 422
    assert "Vui lòng nhập tên (tiếng Việt)." in refused.text
    assert "Phải là một số." in refused.text
    assert "Chọn ít nhất một chỉ tiêu." in refused.text
    saved = await admin.post(
        "/indicators/admin/data-sets",
        data={
            "code": "TEST_DS2",
            "name": "Biểu thử 2",
            "period_type": "quarterly",
            "timely_days": "10",
            "elements": ["TEST_VISITS", "TTHC_WITHDRAWN"],
        },
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/indicators/admin/data-sets?saved=TEST_DS2"
    async with runtime.db.session() as session:
        catalog = await repository.load_catalog(session)
    assert [catalog.elements_by_id[e].code for e in catalog.data_sets["TEST_DS2"].element_ids] == [
        "TEST_VISITS",
        "TTHC_WITHDRAWN",
    ]
    assert (await leader.get("/indicators/admin/elements")).status_code == 403
