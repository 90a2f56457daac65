"""Fixtures of the warning tests: the module enabled, Tây Ninh demo units, real SMTP and HTTP peers, users."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import xmlschema
from sqlalchemy import update
from tests.modules.notification.conftest import HttpReceiver, SmtpSink, http_receiver, smtp_sink

from ioc.core.models import Job
from ioc.core.module import SeedContext
from ioc.core.runtime import Runtime
from ioc.core.security import Principal, PrincipalKind, Role
from ioc.core.settings import Settings
from ioc.core.time import utc_now
from ioc.modules import org_unit

__all__ = ["http_receiver", "smtp_sink"]

CAP_DIR = Path(__file__).parent / "cap"
# Three communes of the schematic demo boundaries (org_unit's seed).
TAN_NINH = "25459"
BINH_MINH = "25480"


@pytest.fixture(scope="session")
def cap_schema() -> xmlschema.XMLSchema:
    """Load the official CAP 1.2 schema (copied into tests/modules/warning/cap)."""
    return xmlschema.XMLSchema(str(CAP_DIR / "CAP-v1.2.xsd"))


@pytest.fixture
def settings(settings: Settings, smtp_sink: SmtpSink, http_receiver: HttpReceiver) -> Settings:
    """Enable warning and its dependencies; e-mail goes to the local SMTP sink."""
    wanted = [m for m in ("org_unit", "notification", "alarm", "warning") if m not in settings.modules]
    return settings.model_copy(
        update={
            "modules": [*settings.modules, *wanted],
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_sink.port,
            "smtp_sender": "Trung tâm IOC <ioc@tayninh.example>",
            "sms_gateway_url": http_receiver.url("/sms/send"),
            "sms_gateway_token": "sms-gateway-token-123",
            "public_base_url": "https://ioc.tayninh.example",
        }
    )


@dataclass
class Communes:
    """Three communes of the demo province that have boundaries."""

    codes: list[str]
    other: str  # a fourth commune, not warned


@pytest.fixture
async def communes(runtime: Runtime) -> Communes:
    """Seed the Tây Ninh demo units (org_unit's own seed) and pick three communes with boundaries."""
    manifest = runtime.module("org_unit")
    assert manifest is not None
    assert manifest.seed is not None
    async with runtime.db.transaction() as session:
        await manifest.seed(SeedContext(session=session, runtime=runtime))
    async with runtime.db.session() as session:
        units = await org_unit.children(session, runtime.settings.province_code)
    with_geometry = [u.code for u in units if u.has_geometry]
    third, other = [code for code in with_geometry if code not in (TAN_NINH, BINH_MINH)][:2]
    return Communes(codes=[TAN_NINH, BINH_MINH, third], other=other)


def principal(role: Role, name: str) -> Principal:
    """Return a principal with the scopes the manifests give to a role."""
    from ioc.modules.warning.manifest import manifest

    scopes = frozenset(scope.name for scope in manifest.scopes if role in scope.roles)
    return Principal(kind=PrincipalKind.USER, id=None, name=name, role=role, scopes=scopes, display_name=name)


@pytest.fixture
def author() -> Principal:
    """An agency officer who writes warnings."""
    return principal(Role.AGENCY_STAFF, "tac.gia")


@pytest.fixture
def approver() -> Principal:
    """An agency head who approves them."""
    return principal(Role.AGENCY_HEAD, "lanh.dao")


def warning_body(unit_codes: list[str], **overrides: Any) -> dict[str, Any]:
    """Return a complete, valid warning input."""
    body: dict[str, Any] = {
        "category": "Env",
        "response_type": "Avoid",
        "urgency": "Expected",
        "severity": "Severe",
        "certainty": "Observed",
        "event_vi": "Ô nhiễm không khí",
        "event_en": "Air pollution",
        "headline_vi": "Cảnh báo bụi mịn PM2.5 ở mức rất xấu",
        "headline_en": "Very unhealthy PM2.5 levels",
        "description_vi": "Chỉ số VN_AQI vượt 200 tại các trạm quan trắc & khu công nghiệp.",
        "description_en": "VN_AQI above 200 at the monitoring stations & industrial parks.",
        "instruction_vi": "Hạn chế ra ngoài, đeo khẩu trang.",
        "instruction_en": "Stay indoors, wear a mask.",
        "expires_at": (utc_now() + timedelta(hours=12)).isoformat(),
        "unit_codes": unit_codes,
    }
    body.update(overrides)
    return body


Drain = Callable[[], Awaitable[None]]


@pytest.fixture
def drain(runtime: Runtime) -> Drain:
    """Return a function that runs every event and job now, including retries waiting for their backoff."""

    async def run() -> None:
        for _ in range(4):
            await runtime.drain()
            async with runtime.db.transaction() as session:
                await session.execute(
                    update(Job).where(Job.status == "pending").values(run_at=utc_now() - timedelta(seconds=1))
                )
        await runtime.drain()

    return run


ClientFactory = Callable[..., Awaitable[httpx.AsyncClient]]


# A point inside Phường Tân Ninh in the schematic demo boundaries (lat, lon).
INSIDE_TAN_NINH = (11.61507, 105.86238)
