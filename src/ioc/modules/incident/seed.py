"""Demo incidents: a flood in a ward, a pollution spill near an industrial park and a closed festival crowd."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ioc.core.module import SeedContext
from ioc.core.security import Principal, PrincipalKind, Role
from ioc.core.time import utc_now
from ioc.modules import org_unit

from . import repository, service
from .constants import IncidentType, LogKind, Severity, TaskStatus
from .schemas import CloseInput, IncidentCreate, LogCreate, TaskCreate, TaskStatusUpdate

TAN_NINH = "25459"  # Phường Tân Ninh
TRANG_BANG = "25708"  # Phường Trảng Bàng, beside the Trảng Bàng industrial park and the Vàm Cỏ Đông
NINH_THANH = "25567"  # Phường Ninh Thạnh, at the foot of Núi Bà Đen


@dataclass(frozen=True)
class DemoTask:
    """A task of a demo incident and how far its agency got."""

    agency_code: str
    title: str
    hours: float
    status: TaskStatus = TaskStatus.ASSIGNED
    result: str = ""


@dataclass(frozen=True)
class DemoIncident:
    """One demo incident's story."""

    unit_code: str
    title: str
    description: str
    incident_type: IncidentType
    severity: Severity
    hours_ago: float
    address: str
    tasks: tuple[DemoTask, ...]
    orders: tuple[str, ...]
    ticked: int
    summary: str = ""


DEMO: tuple[DemoIncident, ...] = (
    DemoIncident(
        unit_code=TAN_NINH,
        title="Ngập sâu sau mưa lớn tại khu dân cư phường Tân Ninh",
        description="Mưa lớn kéo dài hơn 2 giờ, nước ngập 40–60 cm trên nhiều tuyến đường nội ô, "
        "một số hộ dân vùng trũng bị nước tràn vào nhà.",
        incident_type=IncidentType.FLOODING,
        severity=Severity.MAJOR,
        hours_ago=3,
        address="Khu vực đường Cách Mạng Tháng Tám, phường Tân Ninh",
        tasks=(
            DemoTask(f"UBND-{TAN_NINH}", "Hỗ trợ di dời người và tài sản các hộ vùng trũng", 2, TaskStatus.IN_PROGRESS),
            DemoTask("80-SXD", "Bố trí máy bơm tiêu úng, khơi thông cống thoát nước", 4),
        ),
        orders=(
            "Yêu cầu UBND phường Tân Ninh cử lực lượng xung kích hỗ trợ người dân ngay.",
            "Đề nghị Công an phường phân luồng giao thông tại các điểm ngập sâu.",
        ),
        ticked=3,
    ),
    DemoIncident(
        unit_code=TRANG_BANG,
        title="Nghi xả thải gây cá chết trên sông Vàm Cỏ Đông đoạn qua Trảng Bàng",
        description="Người dân báo nước sông đổi màu, có mùi hôi và cá chết dạt vào bờ gần khu công nghiệp.",
        incident_type=IncidentType.POLLUTION_SPILL,
        severity=Severity.CRITICAL,
        hours_ago=1.5,
        address="Bờ sông Vàm Cỏ Đông, phường Trảng Bàng",
        tasks=(
            DemoTask("80-SNNMT", "Lấy mẫu nước, xác định nguồn xả thải", 3),
            DemoTask(f"UBND-{TRANG_BANG}", "Thông báo người dân không sử dụng nước sông, thu gom cá chết", 2),
        ),
        orders=("Yêu cầu các doanh nghiệp trong khu công nghiệp kiểm tra hệ thống xử lý nước thải.",),
        ticked=1,
    ),
    DemoIncident(
        unit_code=NINH_THANH,
        title="Đông người dự lễ hội Xuân Núi Bà Đen",
        description="Lượng khách hành hương tăng đột biến dịp cuối tuần, ùn tắc tại cổng vào khu du lịch.",
        incident_type=IncidentType.MASS_GATHERING,
        severity=Severity.MINOR,
        hours_ago=30,
        address="Khu du lịch quốc gia Núi Bà Đen",
        tasks=(
            DemoTask(
                "80-CA",
                "Bố trí lực lượng giữ trật tự, phân luồng giao thông",
                2,
                TaskStatus.DONE,
                "Đã bố trí 40 cán bộ, chiến sĩ; giao thông thông suốt sau 45 phút.",
            ),
            DemoTask(
                "80-SYT",
                "Bố trí tổ y tế cấp cứu tại chân núi",
                3,
                TaskStatus.DONE,
                "Đã sơ cứu 12 trường hợp say nắng, không có ca nặng.",
            ),
        ),
        orders=("Yêu cầu Ban quản lý khu du lịch điều tiết lượng khách lên cáp treo.",),
        ticked=7,
        summary="Sự cố được kiểm soát trong ngày; không có thiệt hại về người. Đề nghị Ban quản lý khu du lịch "
        "bổ sung phương án phân luồng cho các ngày cao điểm lễ hội.",
    ),
)


def _actor(runtime_scopes: frozenset[str], name: str, role: Role, agency_id: int | None = None) -> Principal:
    return Principal(
        kind=PrincipalKind.USER,
        id=None,
        name=name,
        role=role,
        scopes=runtime_scopes,
        display_name=name,
        agency_id=agency_id,
    )


async def _point(ctx: SeedContext, unit_code: str) -> tuple[float | None, float | None]:
    """Return the centre of a unit's box when the unit holds it (schematic demo cells), else no point."""
    unit = await org_unit.get_unit(ctx.session, unit_code)
    if unit is None or unit.bbox is None:
        return None, None
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in unit.bbox)
    lat, lon = round((min_lat + max_lat) / 2, 6), round((min_lon + max_lon) / 2, 6)
    located = await org_unit.locate_point(ctx.session, lat, lon)
    return (lat, lon) if located is not None and located.code == unit_code else (None, None)


async def _tell(ctx: SeedContext, story: DemoIncident, now: datetime) -> None:
    runtime = ctx.runtime
    commander = _actor(runtime.scopes_for_role(Role.LEADER), "Trực ban IOC (demo)", Role.LEADER)
    start = now - timedelta(hours=story.hours_ago)
    lat, lon = await _point(ctx, story.unit_code)
    incident = await service.create_incident(
        ctx.session,
        IncidentCreate(
            title=story.title,
            description=story.description,
            incident_type=story.incident_type,
            severity=story.severity,
            lat=lat,
            lon=lon,
            unit_code=story.unit_code,
            address=story.address,
        ),
        commander,
        now=start,
    )
    moment = start + timedelta(minutes=5)
    for order in story.orders:
        await service.append_log(
            ctx.session, incident.id, LogCreate(kind=LogKind.ORDER, text=order), commander, now=moment
        )
        moment += timedelta(minutes=3)
    for step in incident.checklist[: story.ticked]:
        await service.tick(ctx.session, incident.id, step.id, True, commander, now=moment)
        moment += timedelta(minutes=2)
    for demo_task in story.tasks:
        task = await service.assign_task(
            ctx.session,
            runtime,
            incident.id,
            TaskCreate(agency_code=demo_task.agency_code, title=demo_task.title, due_hours=demo_task.hours),
            commander,
            now=moment,
        )
        staff = _actor(
            runtime.scopes_for_role(Role.AGENCY_STAFF),
            f"Cán bộ {demo_task.agency_code}",
            Role.AGENCY_STAFF,
            task.agency_id,
        )
        if demo_task.status in (TaskStatus.IN_PROGRESS, TaskStatus.DONE):
            await service.update_task(
                ctx.session,
                runtime,
                task.id,
                TaskStatusUpdate(status=TaskStatus.IN_PROGRESS),
                staff,
                now=moment + timedelta(minutes=10),
            )
        if demo_task.status is TaskStatus.DONE:
            await service.update_task(
                ctx.session,
                runtime,
                task.id,
                TaskStatusUpdate(status=TaskStatus.DONE, result=demo_task.result),
                staff,
                now=moment + timedelta(minutes=70),
            )
        moment += timedelta(minutes=4)
    if story.summary:
        await service.close_incident(
            ctx.session,
            incident.id,
            CloseInput(summary=story.summary),
            commander,
            now=now - timedelta(hours=story.hours_ago - 6),
        )


async def seed_demo(ctx: SeedContext) -> None:
    """Create the demo incidents once (nothing is added when incidents exist)."""
    if await repository.count_active(ctx.session, None) or (await repository.list_incidents_count(ctx.session)):
        ctx.say("incident: đã có sự cố, không tạo thêm / incidents exist already, no demo incidents added.")
        return
    now = utc_now()
    created = 0
    for story in DEMO:
        try:
            await org_unit.get_agency(ctx.session, f"UBND-{story.unit_code}")
        except org_unit.AgencyNotFound:
            continue  # the org_unit demo is not loaded; the stories need its agencies
        await _tell(ctx, story, now)
        created += 1
    ctx.say(f"incident: {created} sự cố demo / demo incidents.")
