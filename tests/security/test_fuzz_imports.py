"""Property-based fuzzing of what people and devices send: MQTT payloads, CSV, Excel and GeoJSON imports.

Each parser must either accept the input or refuse it with its own error carrying a reason; any other
exception (which the API would turn into a 500, or the MQTT consumer into a lost message) is a failure.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import select

from ioc.core.errors import ImportFailed
from ioc.modules.indicator import excel
from ioc.modules.org_unit import importers
from ioc.modules.telemetry import InboundMessage, IngestSource, ingest_messages
from ioc.modules.telemetry.models import DeadLetter, Device
from ioc.modules.telemetry.payloads import PayloadError, parse_payload
from ioc.modules.telemetry.service import parse_device_csv

from .conftest import World, first_id

# Enough examples to find the classic crashes (types, nesting, encodings) within a few seconds per parser.
FUZZ = settings(
    max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
# Field names the parsers look at, so that the fuzzer gets past the first checks often.
senml_keys = st.sampled_from(["bn", "bt", "bu", "bv", "n", "u", "v", "vs", "vb", "vd", "s", "t", "ut", "x"])
senml_records = st.lists(st.dictionaries(senml_keys, json_scalars, min_size=1, max_size=5), min_size=1, max_size=4)
product_records = st.fixed_dictionaries(
    {},
    optional={
        "ts": json_scalars | st.sampled_from(["2026-11-01T10:00:00+07:00", "2026-13-45T99:00:00Z", "17619e8"]),
        "values": st.dictionaries(st.text(max_size=8), json_values, max_size=4) | json_values,
    },
)
payloads = st.one_of(
    st.binary(max_size=200),
    json_values.map(json.dumps),
    senml_records.map(json.dumps),
    product_records.map(json.dumps),
    st.lists(product_records, max_size=3).map(json.dumps),
    st.sampled_from(['{"values": {"pm25": NaN}}', '{"values": {"pm25": Infinity}}', "[" * 5000 + "]" * 5000]),
)


@FUZZ
@given(payload=payloads, content_type=st.sampled_from([None, "application/json", "application/senml+json", "x/y"]))
def test_mqtt_payload_parsing_accepts_or_refuses_with_a_reason(payload: Any, content_type: str | None) -> None:
    """Any payload: readings, or a PayloadError with a reason in both languages."""
    try:
        readings: Any = parse_payload(payload, NOW, content_type)
    except PayloadError as exc:
        readings = exc
    if isinstance(readings, PayloadError):
        assert readings.reason
        assert readings.message_vi
        assert readings.message_en
    else:
        assert isinstance(readings, list)


async def test_fuzzed_mqtt_messages_are_stored_or_dead_lettered_with_their_reason(world: World) -> None:
    """A batch of fuzzed messages through real ingestion: every refused one leaves a dead letter with a reason."""
    messages: list[InboundMessage] = []
    device = await first_id(world.runtime, Device.code)
    assert device, "the telemetry demo seed provides devices"

    @settings(max_examples=60, deadline=None, database=None, derandomize=True)
    @given(payload=payloads)
    def collect(payload: Any) -> None:
        messages.append(
            InboundMessage(payload=payload, source=IngestSource.MQTT, device_code=device, topic=f"ioc/t/{device}")
        )

    collect()
    result = await ingest_messages(world.runtime, messages)
    assert len(result.outcomes) == len(messages)
    refused_ids: list[int] = []
    for outcome in result.outcomes:
        for rejection in outcome.rejections:
            assert rejection.reason
            assert rejection.message_vi
            assert rejection.message_en
        if outcome.rejections:
            assert outcome.dead_letter_ids, outcome
            refused_ids.extend(outcome.dead_letter_ids)
    async with world.runtime.db.session() as session:
        stored = list(await session.scalars(select(DeadLetter).where(DeadLetter.id.in_(refused_ids))))
    assert len(stored) == len(set(refused_ids))
    assert all(letter.reason for letter in stored)


DEVICE_COLUMNS = ["device_code", "name", "datastream_key", "observed_property", "unit", "lat", "lon", "x"]
cells = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12) | st.sampled_from(
    ["", "10.5", "-91", "1e400", "nan", "KK-01", "pm25", "=cmd|' /C calc'!A0"]
)


@st.composite
def device_csv(draw: st.DrawFn) -> bytes:
    """A provisioning CSV with a drawn header and rows, sometimes garbage bytes."""
    if draw(st.booleans()) and draw(st.booleans()):
        return draw(st.binary(max_size=300))
    header = draw(st.lists(st.sampled_from(DEVICE_COLUMNS), min_size=1, max_size=8))
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    rows = draw(st.lists(st.lists(cells, min_size=len(header), max_size=len(header) + 1), max_size=5))
    buffer = io.StringIO()
    for row in [header, *rows]:
        buffer.write(delimiter.join(json.dumps(c) if delimiter in c or '"' in c else c for c in row) + "\n")
    return buffer.getvalue().encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"])))


@FUZZ
@given(data=device_csv())
def test_device_provisioning_csv_accepts_or_lists_every_fault(data: bytes) -> None:
    """Any CSV: devices, or DeviceImportFailed listing each fault with its row and reason."""
    try:
        devices: Any = parse_device_csv(data)
    except ImportFailed as exc:
        devices = exc
    if isinstance(devices, ImportFailed):
        errors = devices.detail["errors"]
        assert errors
        assert all(e["message_vi"] and e["message_en"] for e in errors)
    else:
        assert devices


def test_a_csv_field_larger_than_the_csv_module_allows_is_refused_not_crashed() -> None:
    """A 200 kB cell (over the csv module's 128 kB field limit) is a listed fault, not an exception."""
    big = "device_code,name,datastream_key,observed_property\nKK-1," + "x" * 200_000 + ",pm25,pm25\n"
    with pytest.raises(ImportFailed) as refused:
        parse_device_csv(big.encode())
    assert refused.value.detail["errors"]
    records, problems = importers.parse_units_csv(("code,name,level\n80," + "y" * 200_000 + ",province\n").encode())
    assert problems
    assert not records


UNIT_COLUMNS = ["code", "name", "level", "parent_code", "valid_from", "valid_to", "name_en", "zzz"]


@FUZZ
@given(
    header=st.lists(st.sampled_from(UNIT_COLUMNS), min_size=1, max_size=8),
    rows=st.lists(st.lists(cells, max_size=9), max_size=5),
    garbage=st.binary(max_size=100),
)
def test_units_csv_accepts_or_lists_every_fault(header: list[str], rows: list[list[str]], garbage: bytes) -> None:
    """Any units CSV: records, or problems each carrying a reason (nothing raised)."""
    text = "\n".join(",".join(row) for row in [header, *rows])
    for data in (text.encode(), garbage):
        records, problems = importers.parse_units_csv(data)
        assert all(p.message_vi and p.message_en for p in problems)
        assert records or problems


coordinate = st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.text(max_size=3)
geometry = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["Polygon", "MultiPolygon", "Point", "LineString", "GeometryCollection", "Nope"]),
        # A number, a position, a ring, a polygon: each depth a parser may meet, with wrong values mixed in.
        "coordinates": coordinate
        | st.lists(coordinate, max_size=3)
        | st.lists(st.lists(coordinate, max_size=5), max_size=3)
        | st.lists(st.lists(st.lists(coordinate, max_size=5), max_size=3), max_size=2),
    }
)
features = st.fixed_dictionaries(
    {"type": st.sampled_from(["Feature", "feature", "X"])},
    optional={
        "properties": st.none() | st.dictionaries(st.sampled_from(["code", "ma", "name"]), json_scalars, max_size=3),
        "geometry": st.none() | geometry | json_values,
    },
)
collections = st.fixed_dictionaries(
    {"type": st.sampled_from(["FeatureCollection", "Feature"]), "features": st.lists(features, max_size=4)},
    optional={"crs": json_values},
)


@FUZZ
@given(document=collections | json_values, garbage=st.binary(max_size=60))
def test_boundaries_geojson_accepts_or_lists_every_fault(document: Any, garbage: bytes) -> None:
    """Any GeoJSON: boundary records, or problems each carrying a reason (nothing raised)."""
    for data in (json.dumps(document).encode(), garbage, b"[" * 100_000):
        records, problems = importers.parse_boundaries_geojson(data, "code")
        assert all(p.message_vi and p.message_en for p in problems)
        assert records or problems


def _workbook(meta: dict[str, Any], rows: list[list[Any]], sheets: tuple[str, str]) -> bytes:
    book = Workbook()
    info = book.active
    assert info is not None
    info.title = sheets[0]
    for key, value in meta.items():
        info.append([key, value])
    entry = book.create_sheet(sheets[1])
    for _ in range(excel.HEADER_ROW - 1):
        entry.append([])
    entry.append([title for title, _width in excel.HEADERS])
    for row in rows:
        entry.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# Text a spreadsheet can hold (openpyxl itself refuses control characters when writing the file).
excel_text = st.text(alphabet=st.characters(min_codepoint=32, blacklist_categories=["Cs"]), max_size=10)
excel_cells = st.none() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | excel_text


@settings(max_examples=15, deadline=None, database=None, derandomize=True)
@given(
    meta=st.fixed_dictionaries(
        {"marker": st.sampled_from([excel.MARKER, "x"]), "version": st.sampled_from([excel.TEMPLATE_VERSION, "0"])},
        optional={"data_set": excel_cells, "period": excel_cells, "org_unit": excel_cells},
    ),
    rows=st.lists(st.lists(excel_cells, max_size=8), max_size=4),
    sheets=st.sampled_from([(excel.META_SHEET, excel.ENTRY_SHEET), ("A", excel.ENTRY_SHEET)]),
    flip=st.none() | st.integers(min_value=0, max_value=4000),
)
def test_indicator_excel_accepts_or_refuses_with_a_reason(
    meta: dict[str, Any], rows: list[list[Any]], sheets: tuple[str, str], flip: int | None
) -> None:
    """Any workbook (also a corrupted one): its rows, or NotATemplate / ImportFailed saying why."""
    data = bytearray(_workbook(meta, rows, sheets))
    if flip is not None and flip < len(data):
        data[flip] ^= 0xFF
    try:
        excel.read_template(bytes(data))
    except ImportFailed as exc:
        refusal: ImportFailed | None = exc
    else:
        refusal = None
    assert refusal is None or (refusal.message_vi and refusal.message_en)


def test_an_excel_decompression_bomb_is_refused_before_it_is_expanded() -> None:
    """A real template whose entry sheet inflates to 300 MB (from under 2 MB) is refused without loading it."""
    template = zipfile.ZipFile(
        io.BytesIO(_workbook({"marker": excel.MARKER}, [], (excel.META_SHEET, excel.ENTRY_SHEET)))
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in template.infolist():
            if item.filename != "xl/worksheets/sheet2.xml":
                bomb.writestr(item, template.read(item))
                continue
            with bomb.open(item.filename, "w", force_zip64=True) as sheet:
                sheet.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
                for _ in range(300):
                    sheet.write(b" " * (1024 * 1024))
                sheet.write(b"</sheetData></worksheet>")
    assert len(buffer.getvalue()) < 2 * 1024 * 1024
    with pytest.raises(ImportFailed) as refused:
        excel.read_template(buffer.getvalue())
    assert "giải nén" in refused.value.message_vi
