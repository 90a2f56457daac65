"""Fixtures of the citizen_report tests: the module enabled, the Tây Ninh demo units, categories, photos."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select, update

from ioc.core.jobs import JobStatus
from ioc.core.models import Job, OutboxEvent
from ioc.core.module import SeedContext
from ioc.core.runtime import Runtime
from ioc.core.security import Principal, PrincipalKind, Role
from ioc.core.settings import Settings
from ioc.modules import org_unit
from ioc.modules.citizen_report import service
from ioc.modules.citizen_report.photos import MediaStore
from ioc.modules.citizen_report.schemas import CategoryCreate, ReportCreate, SubmitResult

# Phường Tân Ninh (25459) in the schematic demo cells, and a second point 100 m north of it.
TAN_NINH = "25459"
INSIDE = (11.61507, 105.86238)
NEAR = (11.61597, 105.86238)
FAR_IN_OTHER_COMMUNE = (11.579215, 105.95258972)  # Phường Bình Minh (25480)
OUTSIDE = (21.0285, 105.8542)  # Hà Nội
ROAD_AGENCY = "80-SXD"
COMMUNE_AGENCY = f"UBND-{TAN_NINH}"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Enable citizen_report (and what it needs) on top of the modules the suite runs with."""
    wanted = [m for m in ("org_unit", "notification", "citizen_report") if m not in settings.modules]
    return settings.model_copy(update={"modules": [*settings.modules, *wanted]})


@pytest.fixture
async def units(runtime: Runtime) -> None:
    """Seed the Tây Ninh demo units, schematic communes and agencies (org_unit's own seed)."""
    manifest = runtime.module("org_unit")
    assert manifest is not None
    assert manifest.seed is not None
    async with runtime.db.transaction() as session:
        await manifest.seed(SeedContext(session=session, runtime=runtime))


@dataclass
class Categories:
    """The categories the tests use."""

    road: str = "o-ga"  # Sở Xây dựng, photo required, 8 h / 5 days
    waste: str = "rac-thai"  # the commune committee, with questions


@pytest.fixture
async def categories(runtime: Runtime, units: None) -> Categories:
    """Create a road category (fixed agency, photo required) and a waste category (commune, questions)."""
    async with runtime.db.transaction() as session:
        await service.create_category(
            session,
            CategoryCreate(
                code="o-ga",
                name="Ổ gà, hư hỏng mặt đường",
                name_en="Potholes",
                default_agency_code=ROAD_AGENCY,
                accept_hours=8,
                resolve_days=5,
                photo_required=True,
            ),
        )
        await service.create_category(
            session,
            CategoryCreate(
                code="rac-thai",
                name="Rác thải, vệ sinh môi trường",
                name_en="Waste",
                accept_hours=4,
                resolve_days=3,
                reopen_window_days=7,
                attributes=[
                    {
                        "code": "volume",
                        "datatype": "singlevaluelist",
                        "required": True,
                        "description": "Khối lượng rác",
                        "order": 1,
                        "values": [{"key": "small", "name": "Ít"}, {"key": "large", "name": "Nhiều"}],
                    },
                    {"code": "since", "datatype": "datetime", "required": False, "order": 2},
                ],
            ),
        )
    return Categories()


def jpeg_bytes(
    width: int = 640, height: int = 480, *, gps: tuple[float, float] | None = None, color: str = "#7a8c99"
) -> bytes:
    """Return a real JPEG made by Pillow, with an EXIF GPS position when asked."""
    image = Image.new("RGB", (width, height), color)
    buffer = io.BytesIO()
    if gps is None:
        image.save(buffer, format="JPEG", quality=80)
        return buffer.getvalue()
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make: proves that other tags are stripped too

    def dms(value: float) -> tuple[float, float, float]:
        degrees = int(value)
        minutes_full = (value - degrees) * 60
        minutes = int(minutes_full)
        return (float(degrees), float(minutes), round((minutes_full - minutes) * 60, 4))

    exif.get_ifd(0x8825).update({1: "N", 2: dms(gps[0]), 3: "E", 4: dms(gps[1])})
    image.save(buffer, format="JPEG", quality=80, exif=exif)
    return buffer.getvalue()


def image_bytes(fmt: str, width: int = 400, height: int = 300, mode: str = "RGB") -> bytes:
    """Return a real image of a format Pillow writes (PNG, WEBP, HEIF...)."""
    image = Image.new(mode, (width, height), (20, 120, 200, 128) if mode == "RGBA" else (20, 120, 200))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def principal(runtime: Runtime, role: Role, agency_id: int | None = None, name: str = "tester") -> Principal:
    """Return a principal of a role with that role's scopes (for calling the service directly)."""
    return Principal(
        kind=PrincipalKind.USER,
        id=None,
        name=name,
        role=role,
        scopes=runtime.scopes_for_role(role),
        agency_id=agency_id,
    )


async def agency_id(runtime: Runtime, code: str) -> int:
    """Return an agency's integer id from org_unit."""
    async with runtime.db.session() as session:
        return (await org_unit.get_agency(session, code)).id


Submit = Callable[..., Awaitable[SubmitResult]]


@pytest.fixture
def submit(runtime: Runtime, categories: Categories) -> Submit:
    """Return a function that submits a report through the service and commits it."""

    async def run(
        category: str = "rac-thai",
        point: tuple[float, float] = INSIDE,
        *,
        now: datetime | None = None,
        as_principal: Principal | None = None,
        **fields: Any,
    ) -> SubmitResult:
        data = {
            "category_code": category,
            "description": "Rác thải đổ trộm bên lề đường, bốc mùi nhiều ngày.",
            "lat": point[0],
            "lon": point[1],
            "attributes": {"volume": "large"} if category == "rac-thai" else {},
            **fields,
        }
        store = MediaStore.under(runtime.settings.data_dir)
        async with runtime.db.transaction() as session:
            return await service.submit(
                session,
                runtime,
                ReportCreate.model_validate(data),
                principal=as_principal,
                client_ip=None,
                store=store,
                now=now,
            )

    return run


async def events_named(runtime: Runtime, name: str) -> list[dict[str, Any]]:
    """Return the payloads of the outbox events of a name, oldest first."""
    async with runtime.db.session() as session:
        rows = await session.scalars(select(OutboxEvent).where(OutboxEvent.name == name).order_by(OutboxEvent.id))
        return [row.payload for row in rows]


async def move_jobs_to_the_past(runtime: Runtime, name: str, when: datetime) -> int:
    """Make pending jobs of a name due at `when` (a past moment), as if time had passed."""
    async with runtime.db.transaction() as session:
        result = await session.execute(
            update(Job).where(Job.name == name, Job.status == JobStatus.PENDING).values(run_at=when)
        )
        return int(getattr(result, "rowcount", 0))


async def pending_jobs(runtime: Runtime, name: str) -> list[Job]:
    """Return the pending jobs of a name."""
    async with runtime.db.session() as session:
        rows = await session.scalars(select(Job).where(Job.name == name, Job.status == JobStatus.PENDING))
        return list(rows)
