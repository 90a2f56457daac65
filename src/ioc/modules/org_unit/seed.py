"""Demo data: Tây Ninh (code 80) since 1 July 2025, its 96 communes, schematic boundaries and agencies."""

from __future__ import annotations

import csv
import io

from ioc.core.module import SeedContext

from . import service
from .constants import (
    DEMO_COMMUNES_CSV,
    DEMO_PROVINCE_GEOJSON,
    DEMO_SCHEMATIC_GEOJSON,
    REFORM_2025,
    AgencyKind,
    GeometrySource,
    UnitLevel,
)
from .importers import UnitRecord
from .schemas import AgencyCreate, OrgUnitCreate

PROVINCE_CODE = "80"
PROVINCE_NAME = "Tỉnh Tây Ninh"
PROVINCE_NAME_EN = "Tây Ninh Province"
PROVINCE_CODE_PROPERTY = "ma_tinh_gso"  # the outline file names the province by its GSO code here

# Unit types of the 2025 commune level and their English words.
UNIT_TYPE_EN = {"xã": "Commune", "phường": "Ward", "đặc khu": "Special Zone"}

# Provincial bodies that exist in every province after the 2025 reorganisation (Decree 45/2025/ND-CP on
# provincial specialised agencies; the 2025 Law on Inspection for the provincial inspectorate). Bodies
# that only some provinces set up (Sở Dân tộc và Tôn giáo, Sở Ngoại vụ) are left out until confirmed
# for Tây Ninh. Contacts are left empty on purpose: administrators enter the real office contacts.
PROVINCIAL_AGENCIES: tuple[tuple[str, str, str, AgencyKind], ...] = (
    (
        "80-VPUBND",
        "Văn phòng Ủy ban nhân dân tỉnh",
        "Office of the Provincial People's Committee",
        AgencyKind.DEPARTMENT,
    ),
    ("80-SNV", "Sở Nội vụ", "Department of Home Affairs", AgencyKind.DEPARTMENT),
    ("80-STP", "Sở Tư pháp", "Department of Justice", AgencyKind.DEPARTMENT),
    ("80-STC", "Sở Tài chính", "Department of Finance", AgencyKind.DEPARTMENT),
    ("80-SCT", "Sở Công Thương", "Department of Industry and Trade", AgencyKind.DEPARTMENT),
    (
        "80-SNNMT",
        "Sở Nông nghiệp và Môi trường",
        "Department of Agriculture and Environment",
        AgencyKind.DEPARTMENT,
    ),
    ("80-SXD", "Sở Xây dựng", "Department of Construction", AgencyKind.DEPARTMENT),
    ("80-SKHCN", "Sở Khoa học và Công nghệ", "Department of Science and Technology", AgencyKind.DEPARTMENT),
    (
        "80-SVHTTDL",
        "Sở Văn hóa, Thể thao và Du lịch",
        "Department of Culture, Sports and Tourism",
        AgencyKind.DEPARTMENT,
    ),
    ("80-SGDDT", "Sở Giáo dục và Đào tạo", "Department of Education and Training", AgencyKind.DEPARTMENT),
    ("80-SYT", "Sở Y tế", "Department of Health", AgencyKind.DEPARTMENT),
    ("80-TTR", "Thanh tra tỉnh", "Provincial Inspectorate", AgencyKind.DEPARTMENT),
    ("80-CA", "Công an tỉnh", "Provincial Police", AgencyKind.POLICE),
)


def _bare_name(name: str, unit_type: str) -> str:
    """Strip the unit type from an official name ("Xã Hưng Điền" → "Hưng Điền")."""
    prefix = unit_type + " "
    return name[len(prefix) :] if name.lower().startswith(prefix.lower()) else name


def demo_communes() -> list[dict[str, str]]:
    """Return the 96 communes of the official list (code, name, unit_type...), in the official order."""
    with io.StringIO(DEMO_COMMUNES_CSV.read_text(encoding="utf-8")) as handle:
        rows = list(csv.DictReader(handle))
    return sorted(rows, key=lambda row: int(row["stt_cv1027"]))


def demo_units() -> list[UnitRecord]:
    """Return the province and its communes as unit records."""
    units = [
        OrgUnitCreate(
            code=PROVINCE_CODE,
            name=PROVINCE_NAME,
            name_en=PROVINCE_NAME_EN,
            level=UnitLevel.PROVINCE,
            unit_type="tỉnh",
            valid_from=REFORM_2025,
        )
    ]
    for row in demo_communes():
        bare = _bare_name(row["name"], row["unit_type"])
        english = UNIT_TYPE_EN.get(row["unit_type"])
        units.append(
            OrgUnitCreate(
                code=row["code"],
                name=row["name"],
                name_en=f"{bare} {english}" if english else None,
                level=UnitLevel.COMMUNE,
                unit_type=row["unit_type"],
                parent_code=PROVINCE_CODE,
                valid_from=REFORM_2025,
            )
        )
    # Row numbers as in an equivalent import file (header = row 1), should a check ever point at one.
    return [UnitRecord(row=index + 2, unit=unit) for index, unit in enumerate(units)]


def demo_agencies() -> list[AgencyCreate]:
    """Return the provincial agencies (whole province) and one People's Committee per commune."""
    agencies = [
        AgencyCreate(code=code, name=name, name_en=name_en, kind=kind, unit_codes=[PROVINCE_CODE])
        for code, name, name_en, kind in PROVINCIAL_AGENCIES
    ]
    for row in demo_communes():
        bare = _bare_name(row["name"], row["unit_type"])
        english = UNIT_TYPE_EN.get(row["unit_type"], "")
        agencies.append(
            AgencyCreate(
                code=f"UBND-{row['code']}",
                name=f"UBND {row['unit_type']} {bare}",
                name_en=f"People's Committee of {bare} {english}".strip(),
                kind=AgencyKind.COMMUNE_COMMITTEE,
                unit_codes=[row["code"]],
            )
        )
    return agencies


async def seed_demo(ctx: SeedContext) -> None:
    """Load the demo province, communes, boundaries and agencies; running it again changes nothing."""
    session = ctx.session
    units = await service.upsert_units(session, demo_units())
    outline = await service.import_boundaries_geojson(
        session,
        DEMO_PROVINCE_GEOJSON.read_bytes(),
        code_property=PROVINCE_CODE_PROPERTY,
        source=GeometrySource.REFERENCE,
    )
    cells = await service.import_boundaries_geojson(
        session, DEMO_SCHEMATIC_GEOJSON.read_bytes(), source=GeometrySource.SCHEMATIC
    )
    agencies = demo_agencies()
    changed_agencies = 0
    for agency in agencies:
        changed_agencies += await service.upsert_agency(session, agency)
    total = units.created + units.updated + units.unchanged
    ctx.say(
        f"org_unit: {total} đơn vị hành chính / administrative units ({units.created} mới / new, "
        f"{units.updated} cập nhật / updated); {outline.updated + cells.updated} ranh giới cập nhật / boundaries "
        f"updated (xã/phường là sơ đồ minh hoạ / communes are schematic); {len(agencies)} cơ quan / agencies "
        f"({changed_agencies} mới hoặc thay đổi / new or changed)."
    )
