"""Fixtures of the indicator tests: the Tây Ninh units and agencies, the content packs, reporters, users."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ioc.core.runtime import Runtime
from ioc.core.security import Principal, PrincipalKind, Role
from ioc.core.settings import Settings
from ioc.modules import org_unit
from ioc.modules.indicator import repository, service
from ioc.modules.org_unit import seed as org_unit_seed
from ioc.modules.org_unit import service as org_unit_service

COMMUNE = "25459"  # Phường Tân Ninh
OTHER_COMMUNE = "27727"  # Xã Hưng Điền


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Enable indicator (and what it needs) on top of the modules the suite runs with."""
    wanted = [m for m in ("identity", "org_unit", "notification", "indicator") if m not in settings.modules]
    return settings.model_copy(update={"modules": [*settings.modules, *wanted]})


@dataclass
class World:
    """What the tests work with: agency ids and principals."""

    commune_agency: int
    other_agency: int
    finance_agency: int
    staff: Principal
    head: Principal
    other_staff: Principal
    leader: Principal
    admin: Principal


def principal(role: Role, agency_id: int | None, name: str, scopes: frozenset[str]) -> Principal:
    """Build a principal as identity would, with the scopes its role holds."""
    return Principal(kind=PrincipalKind.USER, id=1, name=name, role=role, agency_id=agency_id, scopes=scopes)


@pytest.fixture
async def world(runtime: Runtime) -> World:
    """Load the Tây Ninh units and agencies, the content packs, and assign the reporters."""
    async with runtime.db.transaction() as session:
        # org_unit's demo units, the provincial agencies and two communes' committees; no boundary files.
        await org_unit_service.upsert_units(session, org_unit_seed.demo_units())
        for agency in org_unit_seed.demo_agencies():
            if agency.code.startswith("80-") or agency.code in (f"UBND-{COMMUNE}", f"UBND-{OTHER_COMMUNE}"):
                await org_unit_service.upsert_agency(session, agency)
        await service.sync_from_org_unit(session)
        packs = service.pack_files()
        for pack in packs.values():
            await service.load_pack(session, pack)
        catalog = await repository.load_catalog(session)
        for pack in packs.values():
            for ds in pack["data_sets"]:
                await service.assign_reporters(session, catalog, ds["code"], ds["reporters"])
        commune = await org_unit.get_agency(session, f"UBND-{COMMUNE}")
        other = await org_unit.get_agency(session, f"UBND-{OTHER_COMMUNE}")
        finance = await org_unit.get_agency(session, "80-STC")

    def scopes(role: Role) -> frozenset[str]:
        return frozenset(s.name for m in runtime.modules for s in m.scopes if role in s.roles)

    return World(
        commune_agency=commune.id,
        other_agency=other.id,
        finance_agency=finance.id,
        staff=principal(Role.AGENCY_STAFF, commune.id, "can_bo", scopes(Role.AGENCY_STAFF)),
        head=principal(Role.AGENCY_HEAD, commune.id, "chu_tich", scopes(Role.AGENCY_HEAD)),
        other_staff=principal(Role.AGENCY_STAFF, other.id, "can_bo_khac", scopes(Role.AGENCY_STAFF)),
        leader=principal(Role.LEADER, None, "lanh_dao", scopes(Role.LEADER)),
        admin=principal(Role.ADMIN, None, "quan_tri", scopes(Role.ADMIN)),
    )
