"""HTTP layer of the shared statistics database: dataValueSets, Excel, approval, checks, analytics, pages."""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from openpyxl import Workbook
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.errors import BadRequest, Forbidden, IocError
from ioc.core.http import db_session
from ioc.core.i18n import request_language
from ioc.core.security import Principal, Role, optional_principal
from ioc.core.templating import render
from ioc.core.time import local_today

from . import analytics, excel, figures, imports, metadata, pivot, repository, service
from .constants import (
    API_PREFIX,
    ASYNC_IMPORT_VALUES,
    MAX_IMPORT_BYTES,
    OVERVIEW_RATE_PERIODS,
    PAGE_PATH,
    SCOPE_ACCEPT,
    SCOPE_ADMIN,
    SCOPE_APPROVE,
    SCOPE_ENTER,
    ChangeSource,
    ImportStrategy,
    OutlierMethod,
)
from .deps import require_admin, require_enter, require_read
from .exceptions import BadExpression, BadPeriod, DataSetNotFound, UnitNotKnown
from .periods import InvalidPeriod, PeriodType, parse_period, period_containing
from .schemas import (
    AnalyticsResponse,
    CompletenessRow,
    DataValueRead,
    DataValueSetIn,
    DataValueSetRead,
    HistoryRead,
    ImportRecordRead,
    ImportSummary,
    OutlierRead,
    ReasonInput,
    ReconciliationReport,
    ReportRead,
    TraceRead,
    UnitMappingRead,
    ValueRow,
)

api_router = APIRouter(tags=["indicator"])
page_router = APIRouter(include_in_schema=False)

CSV_TYPES = ("text/csv", "application/csv")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STRATEGY = Query(
    ImportStrategy.ALL_OR_NOTHING,
    alias="importStrategy",
    description="all_or_nothing (mặc định / default) | store_valid: chỉ lưu giá trị hợp lệ / store valid values only",
)
DRY_RUN = Query(False, alias="dryRun", description="chỉ kiểm tra, không lưu / check without storing")
BACKGROUND = Query(
    False,
    alias="async",
    description=(
        f"chạy nền với thanh tiến độ (tự động khi trên {ASYNC_IMPORT_VALUES} giá trị) / "
        f"run in the background with progress (automatic above {ASYNC_IMPORT_VALUES} values)"
    ),
)
IMPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": ImportRecordRead, "description": "nhập nền đã xếp hàng / background import queued"}
}


async def _queue_if_large(
    session: AsyncSession,
    rows: list[ValueRow],
    principal: Principal,
    *,
    background: bool,
    dry_run: bool,
    strategy: ImportStrategy,
    source: ChangeSource,
    vietnamese_numbers: bool = False,
) -> JSONResponse | None:
    """Hand a large (or explicitly background) import to a job; answer 202 with its progress record."""
    if dry_run or not (background or len(rows) > ASYNC_IMPORT_VALUES):
        return None
    record = await imports.start_import(
        session, rows, principal, strategy=strategy, source=source, vietnamese_numbers=vietnamese_numbers
    )
    await session.commit()
    return JSONResponse(
        record.model_dump(mode="json"),
        status_code=202,
        headers={"Location": f"/api/v1/data-value-sets/imports/{record.id}"},
    )


async def _body(request: Request) -> bytes:
    data = await request.body()
    if len(data) > MAX_IMPORT_BYTES:
        raise BadRequest("Tệp quá lớn (tối đa 50 MB).", "The file is too large (at most 50 MB).")
    return data


def rows_from_json(payload: DataValueSetIn) -> list[ValueRow]:
    """Flatten a dataValueSets payload into rows, filling period, unit and agency from the envelope."""
    rows = []
    for index, item in enumerate(payload.data_values, start=1):
        rows.append(
            ValueRow(
                data_element=item.data_element,
                period=item.period or payload.period or "",
                org_unit=item.org_unit or payload.org_unit or "",
                coc=item.category_option_combo,
                agency=item.attribute_option_combo or payload.attribute_option_combo,
                value=item.value,
                comment=item.comment,
                follow_up=item.follow_up,
                row=index,
            )
        )
    return rows


def rows_from_csv(data: bytes) -> list[ValueRow]:
    """Read DHIS2 CSV columns: dataelement, period, orgunit, catoptcombo, attroptcombo, value, …, comment, followup."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest("Tệp CSV phải mã hóa UTF-8.", "The CSV file must be UTF-8 encoded.") from exc
    rows = []
    reader = csv.reader(io.StringIO(text))
    for number, record in enumerate(reader, start=1):
        if number == 1 and record and record[0].strip().lower() in ("dataelement", "data_element", "de"):
            continue  # the header row is ignored, as in DHIS2
        if not any(cell.strip() for cell in record):
            continue
        cells = [*record, *[""] * 10][:10]
        rows.append(
            ValueRow(
                data_element=cells[0].strip(),
                period=cells[1].strip(),
                org_unit=cells[2].strip(),
                coc=cells[3].strip() or None,
                agency=cells[4].strip() or None,
                value=cells[5],
                comment=cells[8].strip() or None,
                follow_up=cells[9].strip().lower() in ("true", "1"),
                row=number,
                columns={
                    "dataElement": "A",
                    "period": "B",
                    "orgUnit": "C",
                    "categoryOptionCombo": "D",
                    "attributeOptionCombo": "E",
                    "value": "F",
                },
            )
        )
    return rows


@api_router.post(
    "/data-value-sets",
    response_model=ImportSummary,
    responses=IMPORT_RESPONSES,
    summary="Nhập số liệu (dataValueSets JSON hoặc CSV) / Import data values",
)
async def post_data_value_sets(
    request: Request,
    strategy: ImportStrategy = STRATEGY,
    dry_run: bool = DRY_RUN,
    background: bool = BACKGROUND,
    principal: Principal = Depends(require_enter),
    session: AsyncSession = Depends(db_session),
) -> Any:
    """Import values in DHIS2's dataValueSets JSON (or CSV) shape, using our codes."""
    data = await _body(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in CSV_TYPES:
        rows = rows_from_csv(data)
        source = ChangeSource.CSV
    else:
        try:
            payload = DataValueSetIn.model_validate_json(data)
        except ValidationError as exc:
            raise BadRequest(
                "Nội dung không phải dataValueSets JSON hợp lệ.",
                "The body is not valid dataValueSets JSON.",
                errors=[{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()[:20]],
            ) from exc
        rows = rows_from_json(payload)
        source = ChangeSource.JSON
    queued = await _queue_if_large(
        session, rows, principal, background=background, dry_run=dry_run, strategy=strategy, source=source
    )
    if queued is not None:
        return queued
    catalog = await repository.load_catalog(session)
    summary = await service.import_rows(
        session, catalog, rows, principal, strategy=strategy, source=source, dry_run=dry_run
    )
    await session.commit()
    return summary


@api_router.get(
    "/data-value-sets/imports/{import_id}",
    response_model=ImportRecordRead,
    summary="Tiến độ và kết quả lượt nhập nền / Progress and result of a background import",
)
async def get_import(
    import_id: int,
    principal: Principal = Depends(require_enter),
    session: AsyncSession = Depends(db_session),
) -> ImportRecordRead:
    """Return how far a background import got and, when done, its summary with every refused row and cell."""
    return await imports.get_import(session, import_id, principal)


@api_router.get("/data-value-sets", response_model=DataValueSetRead, summary="Xuất số liệu / Export data values")
async def get_data_value_sets(
    data_set: str = Query(..., alias="dataSet", max_length=60),
    period: list[str] = Query(..., max_length=20),
    org_unit: str = Query(..., alias="orgUnit", max_length=20),
    children: bool = Query(False, description="kèm các đơn vị cấp dưới / include the units below"),
    _principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> DataValueSetRead:
    """Export the values of a data set for periods and a unit (and its children)."""
    catalog = await repository.load_catalog(session)
    ds = catalog.data_sets.get(data_set)
    if ds is None:
        raise DataSetNotFound(data_set)
    periods = []
    for iso in period:
        try:
            periods.append(parse_period(iso))
        except InvalidPeriod as exc:
            raise BadPeriod(iso, ds.period_type) from exc
    unit = catalog.current_unit(org_unit)
    if unit is None:
        raise UnitNotKnown(org_unit)
    unit_ids = [unit.id]
    if children:
        unit_ids = sorted((await repository.descendants(session, [unit.id]))[unit.id])
    ids = await repository.period_ids(session, [p.iso for p in periods])
    isos = {v: k for k, v in ids.items()}
    values = await repository.values_for(session, ds.element_ids, list(ids.values()), unit_ids)
    return DataValueSetRead(
        data_set=ds.code,
        data_values=[
            DataValueRead(
                data_element=catalog.elements_by_id[de].code,
                period=isos[pe],
                org_unit=catalog.units_by_id[ou].code,
                category_option_combo=catalog.coc_codes[co],
                attribute_option_combo=catalog.agency_codes.get(ag, str(ag)),
                value=service.shown_value(num, text) or "",
                comment=comment,
                follow_up=follow,
                stored_by=by,
                last_updated=updated,
            )
            for de, pe, ou, co, ag, num, text, comment, follow, by, updated in values
        ],
    )


@api_router.get(f"{API_PREFIX}/data-sets", summary="Danh sách bộ biểu mẫu / Data sets")
async def list_data_sets(
    _principal: Principal = Depends(require_read), session: AsyncSession = Depends(db_session)
) -> list[dict[str, Any]]:
    """List the data sets with their frequency and elements."""
    catalog = await repository.load_catalog(session)
    return [
        {
            "code": ds.code,
            "name": ds.name,
            "name_en": ds.name_en,
            "pack": ds.pack,
            "period_type": ds.period_type,
            "timely_days": ds.timely_days,
            "expiry_days": ds.expiry_days,
            "elements": [catalog.elements_by_id[e].code for e in ds.element_ids],
        }
        for ds in catalog.data_sets.values()
    ]


@api_router.get(f"{API_PREFIX}/data-sets/{{code}}/template.xlsx", summary="Tải mẫu Excel / Excel template")
async def download_template(
    code: str,
    period: str = Query(..., max_length=20),
    org_unit: str = Query(..., alias="orgUnit", max_length=20),
    principal: Principal = Depends(require_enter),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Generate the Excel template of a data set for one unit and period, filled with the stored values."""
    catalog = await repository.load_catalog(session)
    key = service.report_key(catalog, code, period, org_unit, None, principal)
    ids = await repository.period_ids(session, [key.period.iso])
    existing: dict[tuple[int, int], str] = {}
    if ids:
        for de, _pe, _ou, co, _ag, num, text, *_rest in await repository.values_for(
            session, key.data_set.element_ids, list(ids.values()), [key.unit.id], key.agency_id
        ):
            existing[(de, co)] = service.shown_value(num, text) or ""
    content = excel.build_template(
        catalog, key.data_set, key.unit, key.period, catalog.agency_codes.get(key.agency_id, ""), existing
    )
    name = f"{key.data_set.code}_{key.unit.code}_{key.period.iso}.xlsx"
    return Response(content, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@api_router.post(
    f"{API_PREFIX}/excel",
    response_model=ImportSummary,
    responses=IMPORT_RESPONSES,
    summary="Nộp mẫu Excel / Upload a filled template",
)
async def upload_template(
    request: Request,
    strategy: ImportStrategy = STRATEGY,
    dry_run: bool = DRY_RUN,
    background: bool = BACKGROUND,
    principal: Principal = Depends(require_enter),
    session: AsyncSession = Depends(db_session),
) -> Any:
    """Read a filled template (multipart field `file`, or the raw body) and import it with row/cell errors."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise BadRequest("Thiếu tệp (trường 'file').", "The file is missing (field 'file').")
        data = await upload.read()
        if len(data) > MAX_IMPORT_BYTES:
            raise BadRequest("Tệp quá lớn (tối đa 50 MB).", "The file is too large (at most 50 MB).")
        form_strategy = form.get("importStrategy")
        if isinstance(form_strategy, str) and form_strategy in ImportStrategy.__members__.values():
            strategy = ImportStrategy(form_strategy)
        background = background or form.get("async") in ("true", "1", "on")
    else:
        data = await _body(request)
    _meta, rows = excel.read_template(data)
    queued = await _queue_if_large(
        session,
        rows,
        principal,
        background=background,
        dry_run=dry_run,
        strategy=strategy,
        source=ChangeSource.EXCEL,
        vietnamese_numbers=True,
    )
    if queued is not None:
        return queued
    catalog = await repository.load_catalog(session)
    summary = await service.import_rows(
        session,
        catalog,
        rows,
        principal,
        strategy=strategy,
        source=ChangeSource.EXCEL,
        dry_run=dry_run,
        vietnamese_numbers=True,
    )
    await session.commit()
    return summary


ACTIONS = {
    "submit": SCOPE_ENTER,
    "approve": SCOPE_APPROVE,
    "return": SCOPE_APPROVE,
    "accept": SCOPE_ACCEPT,
    "unlock": SCOPE_ACCEPT,
}


@api_router.get(f"{API_PREFIX}/reports/{{data_set}}/{{period}}/{{org_unit}}", response_model=ReportRead)
async def get_report(
    data_set: str,
    period: str,
    org_unit: str,
    agency: str | None = Query(None, max_length=40),
    principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> ReportRead:
    """Return the completion and approval state of one report."""
    catalog = await repository.load_catalog(session)
    key = service.report_key(catalog, data_set, period, org_unit, agency, principal)
    return await service.get_report(session, catalog, key)


@api_router.post(f"{API_PREFIX}/reports/{{data_set}}/{{period}}/{{org_unit}}/{{action}}", response_model=ReportRead)
async def report_action(
    data_set: str,
    period: str,
    org_unit: str,
    action: str,
    request: Request,
    agency: str | None = Query(None, max_length=40),
    principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> ReportRead:
    """Submit, approve (agency head), return, accept (province) or unlock (with a reason) a report."""
    scope = ACTIONS.get(action)
    if scope is None:
        raise BadRequest(f"Thao tác '{action}' không có.", f"No action '{action}'.")
    if not principal.has(scope):
        raise Forbidden(f"Bạn không có quyền '{action}'.", f"You may not '{action}'.", scope=scope)
    reason = None
    if action in ("unlock", "return"):
        try:
            reason = ReasonInput.model_validate_json(await request.body()).reason
        except ValidationError as exc:
            raise BadRequest(
                "Cần nêu lý do (ít nhất 3 ký tự).", "A reason is required (3 characters or more)."
            ) from exc
    catalog = await repository.load_catalog(session)
    key = service.report_key(catalog, data_set, period, org_unit, agency, principal)
    result = await service.transition(session, catalog, key, action, principal, reason)
    await session.commit()
    return result


@api_router.get(f"{API_PREFIX}/completeness", response_model=list[CompletenessRow])
async def get_completeness(
    data_set: str = Query(..., alias="dataSet", max_length=60),
    period: str = Query(..., max_length=20),
    _principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> list[CompletenessRow]:
    """Reporting rate, on-time rate and who is late, for a data set and period."""
    catalog = await repository.load_catalog(session)
    ds = catalog.data_sets.get(data_set)
    if ds is None:
        raise DataSetNotFound(data_set)
    try:
        pe = parse_period(period)
    except InvalidPeriod as exc:
        raise BadPeriod(period, ds.period_type) from exc
    if pe.type.value != ds.period_type:
        raise BadPeriod(period, ds.period_type)
    return await service.completeness(session, catalog, ds, pe)


@api_router.get(f"{API_PREFIX}/outliers", response_model=list[OutlierRead])
async def get_outliers(
    data_set: str = Query(..., alias="dataSet", max_length=60),
    period: str = Query(..., max_length=20),
    method: OutlierMethod = Query(OutlierMethod.Z_SCORE),
    threshold: float | None = Query(None, gt=0, le=100),
    _principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> list[OutlierRead]:
    """Outliers of a data set in one period, by z-score, modified z-score or stored min–max bounds."""
    catalog = await repository.load_catalog(session)
    ds = catalog.data_sets.get(data_set)
    if ds is None:
        raise DataSetNotFound(data_set)
    try:
        pe = parse_period(period)
    except InvalidPeriod as exc:
        raise BadPeriod(period, ds.period_type) from exc
    units = sorted({u for (d, u) in catalog.sources if d == ds.id})
    return await service.outliers(session, catalog, ds, pe, units, method, threshold)


@api_router.get(f"{API_PREFIX}/reconciliation", response_model=ReconciliationReport)
async def get_reconciliation(
    period: str = Query(..., max_length=20),
    agency: str | None = Query(None, max_length=40),
    principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> ReconciliationReport:
    """The reconciliation report of an agency (default: the caller's) for one period."""
    catalog = await repository.load_catalog(session)
    if agency is None and principal.role in (Role.AGENCY_STAFF, Role.AGENCY_HEAD):
        agency = catalog.agency_codes.get(principal.agency_id or 0)
    return await service.reconciliation(session, catalog, period, agency)


@api_router.get(f"{API_PREFIX}/history", response_model=list[HistoryRead])
async def get_history(
    data_element: str = Query(..., alias="dataElement", max_length=60),
    period: str = Query(..., max_length=20),
    org_unit: str = Query(..., alias="orgUnit", max_length=20),
    coc: str = Query("default", alias="categoryOptionCombo", max_length=120),
    agency: str | None = Query(None, max_length=40),
    principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> list[HistoryRead]:
    """Every change of one value: who, when, old, new."""
    catalog = await repository.load_catalog(session)
    element = catalog.elements.get(data_element)
    ds_ids = catalog.sets_of_element.get(element.id, []) if element else []
    if element is None or not ds_ids:
        raise BadExpression(f"Không có chỉ tiêu '{data_element}'.", f"No data element '{data_element}'.")
    key = service.report_key(catalog, catalog.data_sets_by_id[ds_ids[0]].code, period, org_unit, agency, principal)
    coc_id = catalog.cocs.get((element.combo_id, coc))
    ids = await repository.period_ids(session, [key.period.iso])
    if coc_id is None or key.period.iso not in ids:
        return []
    value_id = await repository.find_value_id(
        session, (element.id, ids[key.period.iso], key.unit.id, coc_id, key.agency_id)
    )
    if value_id is None:
        return []
    return [
        HistoryRead(
            old_value=h.old_value,
            new_value=h.new_value,
            changed_by=h.changed_by,
            changed_at=h.changed_at,
            source=h.source,
            after_approval=h.after_approval,
        )
        for h in await repository.value_history(session, value_id)
    ]


@api_router.get("/analytics", response_model=AnalyticsResponse, summary="Phân tích số liệu / Analytics")
async def get_analytics(
    dimension: list[str] = Query(..., max_length=4000, description="dx:…, pe:…, ou:…"),
    filter: list[str] = Query([], max_length=4000, description="pe:… hoặc/or ou:…"),
    remap: bool = Query(False, description="quy số liệu đơn vị cũ về đơn vị mới / re-aggregate pre-2025 units"),
    format: str = Query("json", pattern="^(json|xlsx)$"),
    include_metadata: bool = Query(
        False,
        alias="includeMetadata",
        description="kèm tỷ lệ báo cáo và tình trạng kiểm tra của từng ô (meta.cells) / completeness and rule status",
    ),
    _principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> Any:
    """Answer dx × pe × ou with rows and headers, like DHIS2's analytics API; `format=xlsx` for Excel."""
    catalog = await repository.load_catalog(session)
    query = analytics.parse_query(catalog, await repository.indicators(session), dimension, filter, remap)
    query.include_metadata = include_metadata and format == "json"
    result = await analytics.run(session, catalog, query)
    if format == "xlsx":
        book = Workbook()
        sheet = book.active
        assert sheet is not None  # a new workbook always has an active sheet
        sheet.append([h.column for h in result.headers] + ["Tên / Name"])
        for row in result.rows:
            sheet.append([row[0], row[1], row[2], float(row[3]), result.meta["items"][row[0]]["name"]])
        out = io.BytesIO()
        book.save(out)
        return Response(
            out.getvalue(), media_type=XLSX, headers={"Content-Disposition": 'attachment; filename="analytics.xlsx"'}
        )
    return result


PIVOT_FORMATS = "^(json|xlsx|csv)$"


async def _pivot(
    session: AsyncSession, dx: list[str], pe: list[str], ou: list[str], split: bool, remap: bool
) -> pivot.Pivot:
    catalog = await repository.load_catalog(session)
    indicators = await repository.indicators(session)
    return await pivot.build(
        session,
        catalog,
        indicators,
        pivot.split_items(dx),
        pivot.split_items(pe),
        pivot.split_items(ou),
        split=split,
        remap=remap,
    )


@api_router.get(f"{API_PREFIX}/pivot", summary="Bảng tổng hợp có dòng tổng / Pivot table with totals")
async def get_pivot(
    dx: list[str] = Query(..., max_length=4000, description="chỉ số, chỉ tiêu hoặc CHỈ_TIÊU.PHÂN_TỔ / data items"),
    pe: list[str] = Query(..., max_length=2000, description="kỳ hoặc kỳ tương đối / periods or relative periods"),
    ou: list[str] = Query(..., max_length=2000, description="đơn vị, LEVEL-…, CHILDREN-… / units"),
    split: bool = Query(False, description="tách theo phân tổ / one row per disaggregation"),
    remap: bool = Query(False, description="quy số liệu đơn vị cũ về đơn vị mới / re-aggregate pre-2025 units"),
    format: str = Query("json", pattern=PIVOT_FORMATS),
    _principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> Any:
    """Rows data item × unit, columns periods, a total per row and a total row per item; JSON, Excel or CSV."""
    table = await _pivot(session, dx, pe, ou, split, remap)
    if format == "xlsx":
        return Response(
            pivot.to_xlsx(table),
            media_type=XLSX,
            headers={"Content-Disposition": 'attachment; filename="bang-tong-hop.xlsx"'},
        )
    if format == "csv":
        return Response(
            pivot.to_csv(table),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="bang-tong-hop.csv"'},
        )
    return {
        "periods": table.periods,
        "remap": table.remap,
        "rows": [
            {
                "dx": r.dx,
                "name": r.dx_name,
                "ou": r.ou,
                "unit_name": r.ou_name,
                "values": r.values,
                "total": r.total,
                "is_total": r.is_total,
            }
            for r in table.rows
        ],
    }


async def _trace(session: AsyncSession, dx: str, pe: str, ou: str, remap: bool = False) -> TraceRead:
    catalog = await repository.load_catalog(session)
    item = analytics.dx_item(catalog, await repository.indicators(session), dx)
    try:
        period = parse_period(pe)
    except InvalidPeriod as exc:
        raise BadExpression(f"Kỳ '{pe}' không hợp lệ.", f"Period '{pe}' is not valid.", period=pe) from exc
    unit = catalog.current_unit(ou)
    if unit is None:
        raise UnitNotKnown(ou)
    reports = await figures.trace(session, catalog, [item.numerator, item.denominator], period, unit, remap)
    return TraceRead(dx=dx, period=period.iso, org_unit=unit.code, remap=remap, reports=reports)


@api_router.get(
    f"{API_PREFIX}/trace",
    response_model=TraceRead,
    summary="Nguồn của một số liệu / The submissions behind a figure",
)
async def get_trace(
    dx: str = Query(..., max_length=120, description="chỉ số, chỉ tiêu hoặc CHỈ_TIÊU.PHÂN_TỔ / data item"),
    pe: str = Query(..., max_length=20),
    ou: str = Query(..., max_length=20),
    remap: bool = Query(False, description="kèm báo cáo của đơn vị cũ được quy đổi / include re-aggregated old units"),
    _principal: Principal = Depends(require_read),
    session: AsyncSession = Depends(db_session),
) -> TraceRead:
    """List the reports (agency, status, who submitted, approved, accepted and when) whose values make a figure."""
    return await _trace(session, dx, pe, ou, remap)


@api_router.get(f"{API_PREFIX}/unit-mapping", response_model=list[UnitMappingRead])
async def get_unit_mapping(
    _principal: Principal = Depends(require_read), session: AsyncSession = Depends(db_session)
) -> list[UnitMappingRead]:
    """The old→new unit mapping used to re-aggregate history, with each row's verification state."""
    return [
        UnitMappingRead(
            old_code=oc,
            old_name=on,
            new_code=nc,
            new_name=nn,
            merge_type=m.merge_type,
            weight=m.weight,
            verified=m.verified,
        )
        for m, oc, on, nc, nn in await repository.list_mappings(session)
    ]


@api_router.post(f"{API_PREFIX}/unit-mapping/{{new_code}}/verify")
async def verify_unit_mapping(
    new_code: str,
    principal: Principal = Depends(require_admin),
    session: AsyncSession = Depends(db_session),
) -> dict[str, int]:
    """Record that the province confirmed the mapping of one new unit."""
    from ioc.core.time import utc_now

    catalog = await repository.load_catalog(session)
    unit = catalog.current_unit(new_code)
    if unit is None:
        raise UnitNotKnown(new_code)
    changed = await repository.set_mapping_verified(session, [unit.id], principal.name, utc_now())
    await session.commit()
    return {"verified": changed}


def _metadata_read(kind: metadata.Kind, row: Any) -> dict[str, Any]:
    return {f.name: getattr(row, f.name) for f in kind.fields if hasattr(row, f.name)} | {"id": row.id}


async def _metadata_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await _body(request) or b"{}")
    except (ValueError, RecursionError) as exc:
        raise BadRequest("Nội dung phải là JSON.", "The body must be JSON.") from exc
    if not isinstance(body, dict):
        raise BadRequest("Nội dung phải là một đối tượng JSON.", "The body must be a JSON object.")
    return {k: ("on" if v is True else "" if v is False else v) for k, v in body.items()}


@api_router.get(f"{API_PREFIX}/metadata/{{kind}}", summary="Danh mục siêu dữ liệu / Metadata of one kind")
async def list_metadata(
    kind: str, _principal: Principal = Depends(require_read), session: AsyncSession = Depends(db_session)
) -> list[dict[str, Any]]:
    """List the data elements, disaggregations (combos), data sets, rules or indicators."""
    spec = metadata.get_kind(kind)
    return [_metadata_read(spec, row) for row in await metadata.list_items(session, spec)]


@api_router.post(f"{API_PREFIX}/metadata/{{kind}}", status_code=201, summary="Tạo siêu dữ liệu / Create metadata")
async def create_metadata(
    kind: str,
    request: Request,
    _principal: Principal = Depends(require_admin),
    session: AsyncSession = Depends(db_session),
) -> dict[str, Any]:
    """Create one item; every field is checked and each error is named (422 with `detail.fields`)."""
    spec = metadata.get_kind(kind)
    row = await metadata.save(session, spec, None, await _metadata_body(request))
    await session.commit()
    return _metadata_read(spec, row)


@api_router.put(f"{API_PREFIX}/metadata/{{kind}}/{{code}}", summary="Sửa siêu dữ liệu / Update metadata")
async def update_metadata(
    kind: str,
    code: str,
    request: Request,
    _principal: Principal = Depends(require_admin),
    session: AsyncSession = Depends(db_session),
) -> dict[str, Any]:
    """Update one item (the code stays); changes that would orphan stored figures are refused."""
    spec = metadata.get_kind(kind)
    row = await metadata.save(session, spec, code, await _metadata_body(request))
    await session.commit()
    return _metadata_read(spec, row)


# --- pages ----------------------------------------------------------------------------------------------------


def _page_principal(principal: Principal | None, scope: str) -> Principal:
    if principal is None or not principal.has(scope):
        raise Forbidden("Bạn không có quyền xem trang này.", "You may not see this page.")
    return principal


@page_router.get(PAGE_PATH, response_class=HTMLResponse)
async def home_page(
    request: Request,
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> HTMLResponse:
    """The statistics home: content packs, data sets and what to do."""
    user = _page_principal(principal, "indicator:read")
    catalog = await repository.load_catalog(session)
    packs = service.pack_files()
    return render(
        request,
        "indicator/home.html",
        {"packs": packs, "data_sets": list(catalog.data_sets.values()), "can_admin": user.has(SCOPE_ADMIN)},
    )


def _default_period(kind: PeriodType) -> str:
    return period_containing(kind, local_today()).previous().iso


@page_router.get(f"{PAGE_PATH}/entry", response_class=HTMLResponse)
async def entry_page(
    request: Request,
    ds: str = Query(..., max_length=60),
    pe: str | None = Query(None, max_length=20),
    ou: str | None = Query(None, max_length=20),
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> HTMLResponse:
    """The entry form of a data set for one unit and period, generated from the data set."""
    user = _page_principal(principal, "indicator:read")
    catalog = await repository.load_catalog(session)
    data_set = catalog.data_sets.get(ds)
    if data_set is None:
        raise DataSetNotFound(ds)
    kind = PeriodType(data_set.period_type)
    period = pe or _default_period(kind)
    my_units = sorted(
        {
            catalog.units_by_id[u].code
            for (d, u), agencies in catalog.sources.items()
            if d == data_set.id and (user.role is Role.ADMIN or user.role is Role.LEADER or user.agency_id in agencies)
        }
    )
    unit_code = ou or (my_units[0] if my_units else "")
    key = service.report_key(catalog, data_set.code, period, unit_code, None, user)
    report = await service.get_report(session, catalog, key)
    ids = await repository.period_ids(session, [key.period.iso])
    values: dict[str, str] = {}
    if ids:
        for de, _pe, _ou, co, _ag, num, text, *_rest in await repository.values_for(
            session, data_set.element_ids, list(ids.values()), [key.unit.id], key.agency_id
        ):
            values[f"{catalog.elements_by_id[de].code}:{catalog.coc_codes[co]}"] = service.shown_value(num, text) or ""
    lang = request_language(request, "vi")
    rows = []
    for element_id in data_set.element_ids:
        element = catalog.elements_by_id[element_id]
        cells = [
            {"coc": catalog.coc_codes[c], "label": catalog.coc_names[c][1 if lang == "en" else 0]}
            for c in catalog.cocs_of_combo.get(element.combo_id, [])
        ]
        rows.append({"element": element, "cells": cells})
    violations = await service.rule_violations(
        session, catalog, {(data_set.id, key.period.iso, key.unit.id, key.agency_id)}
    )
    return render(
        request,
        "indicator/entry.html",
        {
            "data_set": data_set,
            "period": key.period,
            "unit": key.unit,
            "agency": catalog.agency_codes.get(key.agency_id, ""),
            "report": report,
            "rows": rows,
            "values": values,
            "violations": violations,
            "units": my_units,
            "locked": report.status != "open",
            "can_enter": user.has(SCOPE_ENTER) and report.status == "open",
            "can_approve": user.has(SCOPE_APPROVE) and report.status == "submitted",
            "can_accept": user.has(SCOPE_ACCEPT) and report.status == "approved",
            "can_unlock": user.has(SCOPE_ACCEPT) and report.status != "open",
        },
    )


@page_router.get(f"{PAGE_PATH}/overview/{{pack}}", response_class=HTMLResponse)
async def overview_page(
    request: Request,
    pack: str,
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> HTMLResponse:
    """The leaders' overview of one content pack: its headline indicators over the last 12 months."""
    _page_principal(principal, "indicator:read")
    content = service.get_pack(pack)
    catalog = await repository.load_catalog(session)
    indicators = {i.code: i for i in await repository.indicators(session, pack)}
    codes = [c for c in content.get("overview", []) if c in indicators]
    today = local_today()
    last = period_containing(PeriodType.MONTHLY, today).previous()
    months = [last.shift(-i) for i in range(11, -1, -1)]
    quarters = sorted({period_containing(PeriodType.QUARTERLY, m.start) for m in months if m.end <= last.end})
    cards = []
    province = catalog.current_unit("80")
    if province is not None and codes:
        query = analytics.parse_query(
            catalog,
            list(indicators.values()),
            [f"dx:{';'.join(codes)}", f"pe:{';'.join(m.iso for m in months + quarters)}", f"ou:{province.code}"],
            [],
            remap=True,
        )
        result = await analytics.run(session, catalog, query)
        series: dict[str, dict[str, float]] = {}
        for dx, pe, _ou, value in result.rows:
            series.setdefault(dx, {})[pe] = float(value)
        lang = request_language(request, "vi")
        for code in codes:
            points = series.get(code, {})
            monthly = [(m.iso, points[m.iso]) for m in months if m.iso in points]
            quarterly = [(q.iso, points[q.iso]) for q in quarters if q.iso in points]
            shown = monthly or quarterly
            ind = indicators[code]
            cards.append(
                {
                    "code": code,
                    "name": ind.name_en if lang == "en" else ind.name,
                    "unit": ind.unit_label,
                    "decimals": ind.decimals,
                    "points": shown,
                    "latest": shown[-1] if shown else None,
                    "previous": shown[-2] if len(shown) > 1 else None,
                    "higher_is_better": ind.higher_is_better,
                }
            )
    rates = await service.rate_history(session, catalog, pack, OVERVIEW_RATE_PERIODS, today)
    return render(
        request,
        "indicator/overview.html",
        {
            "pack": content,
            "cards": cards,
            "completeness": [r.periods[-1] for r in rates],
            "rates": rates,
            "mapping_verified": False,
            "province": province.code if province else "",
        },
    )


@page_router.get(f"{PAGE_PATH}/pivot", response_class=HTMLResponse)
async def pivot_page(
    request: Request,
    dx: list[str] = Query([], max_length=4000),
    pe: str = Query("LAST_12_MONTHS", max_length=2000),
    ou: list[str] = Query([], max_length=2000),
    split: bool = Query(False),
    remap: bool = Query(False),
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> HTMLResponse:
    """The pivot and chart builder: pick data items, periods and units, see the table with totals and a chart."""
    _page_principal(principal, "indicator:read")
    catalog = await repository.load_catalog(session)
    indicators = await repository.indicators(session)
    chosen_units = pivot.split_items(ou) or ["80"]
    table: pivot.Pivot | None = None
    error: IocError | None = None
    if pivot.split_items(dx):
        try:
            table = await _pivot(session, dx, [pe], chosen_units, split, remap)
        except IocError as exc:
            error = exc  # shown above the form, in the page language, with the form kept as filled
    params = [("dx", d) for d in pivot.split_items(dx)] + [("pe", pe)] + [("ou", u) for u in chosen_units]
    params += [("split", "true")] if split else []
    params += [("remap", "true")] if remap else []
    lang = request_language(request, "vi")
    return render(
        request,
        "indicator/pivot.html",
        {
            "options": pivot.options(catalog, indicators),
            "chosen": {"dx": pivot.split_items(dx), "pe": pe, "ou": chosen_units, "split": split, "remap": remap},
            "table": table,
            "chart": pivot.chart_data(table) if table else None,
            "error": error.message(lang) if error else None,
            "export_query": urlencode(params),
        },
    )


def _admin_page(principal: Principal | None) -> Principal:
    return _page_principal(principal, SCOPE_ADMIN)


@page_router.get(f"{PAGE_PATH}/admin", response_class=HTMLResponse)
async def admin_home_page(
    request: Request,
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """The metadata administration: a list per kind (data elements first)."""
    _admin_page(principal)
    return RedirectResponse(f"{PAGE_PATH}/admin/elements", status_code=303)


@page_router.get(f"{PAGE_PATH}/admin/{{kind}}", response_class=HTMLResponse)
async def admin_list_page(
    request: Request,
    kind: str,
    saved: str | None = Query(None, max_length=60),
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> HTMLResponse:
    """The items of one kind of metadata, with links to edit them and to add one."""
    _admin_page(principal)
    spec = metadata.get_kind(kind)
    return render(
        request,
        "indicator/admin.html",
        {
            "kinds": metadata.KINDS,
            "kind": spec,
            "items": await metadata.list_items(session, spec),
            "saved": saved,
            "form": None,
        },
    )


async def _admin_form(
    request: Request,
    session: AsyncSession,
    spec: metadata.Kind,
    original: str | None,
    values: dict[str, Any],
    errors: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "indicator/admin.html",
        {
            "kinds": metadata.KINDS,
            "kind": spec,
            "form": values,
            "original": original,
            "choices": await metadata.choices(session),
            "errors": errors or {},
        },
        status_code=status_code,
    )


@page_router.get(f"{PAGE_PATH}/admin/{{kind}}/new", response_class=HTMLResponse)
async def admin_new_page(
    request: Request,
    kind: str,
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> HTMLResponse:
    """An empty form for a new item."""
    _admin_page(principal)
    spec = metadata.get_kind(kind)
    return await _admin_form(request, session, spec, None, await metadata.form_values(session, spec, None))


@page_router.get(f"{PAGE_PATH}/admin/{{kind}}/{{code}}", response_class=HTMLResponse)
async def admin_edit_page(
    request: Request,
    kind: str,
    code: str,
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> HTMLResponse:
    """The form of a stored item."""
    _admin_page(principal)
    spec = metadata.get_kind(kind)
    row = next((r for r in await metadata.list_items(session, spec) if r.code == code), None)
    if row is None:
        raise metadata.MetadataNotFound(spec.title, code)
    return await _admin_form(request, session, spec, code, await metadata.form_values(session, spec, row))


@page_router.post(f"{PAGE_PATH}/admin/{{kind}}", response_class=HTMLResponse)
async def admin_save_page(
    request: Request,
    kind: str,
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> Response:
    """Save a form; errors are shown beside their fields, in the page language, with the values kept."""
    _admin_page(principal)
    spec = metadata.get_kind(kind)
    form = await request.form()
    values: dict[str, Any] = {
        key: (form.getlist(key) if key == "elements" else form.get(key)) for key in form if key != "csrf_token"
    }
    original = str(values.pop("original", "") or "") or None
    try:
        row = await metadata.save(session, spec, original, values)
    except metadata.MetadataInvalid as exc:
        await session.rollback()
        errors = {name: {"vi": vi, "en": en} for name, (vi, en) in exc.errors.items()}
        if original is not None:
            values["code"] = original
        return await _admin_form(request, session, spec, original, values, errors, status_code=422)
    await session.commit()
    return RedirectResponse(f"{PAGE_PATH}/admin/{spec.slug}?{urlencode({'saved': row.code})}", status_code=303)


@page_router.get(f"{PAGE_PATH}/trace", response_class=HTMLResponse)
async def trace_page(
    request: Request,
    dx: str = Query(..., max_length=120),
    pe: str = Query(..., max_length=20),
    ou: str = Query(..., max_length=20),
    remap: bool = Query(False),
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> HTMLResponse:
    """The reports behind one figure of the overview, with who submitted, approved and accepted them."""
    _page_principal(principal, "indicator:read")
    return render(request, "indicator/trace.html", {"trace": await _trace(session, dx, pe, ou, remap)})


@page_router.get(f"{PAGE_PATH}/imports/{{import_id}}", response_class=HTMLResponse)
async def import_page(
    request: Request,
    import_id: int,
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> HTMLResponse:
    """The progress bar of a background import, then its row and cell error report."""
    user = _page_principal(principal, SCOPE_ENTER)
    return render(request, "indicator/import.html", {"record": await imports.get_import(session, import_id, user)})


@page_router.get(f"{PAGE_PATH}/reconciliation", response_class=HTMLResponse)
async def reconciliation_page(
    request: Request,
    pe: str | None = Query(None, max_length=20),
    agency: str | None = Query(None, max_length=40),
    principal: Principal | None = Depends(optional_principal),
    session: AsyncSession = Depends(db_session),
) -> HTMLResponse:
    """The reconciliation report page of an agency and period."""
    user = _page_principal(principal, "indicator:read")
    catalog = await repository.load_catalog(session)
    period = pe or _default_period(PeriodType.MONTHLY)
    if agency is None and user.role in (Role.AGENCY_STAFF, Role.AGENCY_HEAD):
        agency = catalog.agency_codes.get(user.agency_id or 0)
    report = await service.reconciliation(session, catalog, period, agency or None)
    return render(
        request, "indicator/reconciliation.html", {"report": report, "period": period, "agency": agency or ""}
    )
