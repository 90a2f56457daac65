"""One seeded application shared by a test module: demo data of every module, a user per role, planted reports."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.conftest import TEST_SECRET, _empty_all_tables

from ioc.app import create_app
from ioc.core import migrate
from ioc.core.module import SeedContext
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.core.settings import Environment, Settings
from ioc.core.time import local_today
from ioc.modules import identity, org_unit
from ioc.modules.indicator import repository as indicator_repository
from ioc.modules.indicator import seed as indicator_seed
from ioc.modules.indicator import service as indicator_service

PASSWORD = "Mat-khau-123!"
AGENCY_A = "80-SXD"  # Sở Xây dựng: the road category routes its reports there
AGENCY_B = "80-SNNMT"  # Sở Nông nghiệp và Môi trường
# Personal data planted in reports: no anonymous response may ever contain any of these strings.
MARK_NAME = "Trần Dấuvết Qzxk"
MARK_PHONE = "0917 364 825"
MARK_EMAIL = "qzxk.dauvet@example.vn"
PERSONAL_MARKERS = ("Dấuvết", "Qzxk", "qzxk", "917364825", "917 364 825", "364 825", "dauvet")


class Who:
    """The callers of the access matrix (the eight of issue 8)."""

    ANONYMOUS = "anonymous"
    CITIZEN = "citizen"
    HOTLINE = "hotline_operator"
    STAFF_A = "staff_a"
    STAFF_B = "staff_b"
    HEAD_A = "agency_head_a"
    LEADER = "leader"
    ADMIN = "admin"

    ALL = (ANONYMOUS, CITIZEN, HOTLINE, STAFF_A, STAFF_B, HEAD_A, LEADER, ADMIN)


ROLE_OF = {
    Who.CITIZEN: Role.CITIZEN,
    Who.HOTLINE: Role.HOTLINE_OPERATOR,
    Who.STAFF_A: Role.AGENCY_STAFF,
    Who.STAFF_B: Role.AGENCY_STAFF,
    Who.HEAD_A: Role.AGENCY_HEAD,
    Who.LEADER: Role.LEADER,
    Who.ADMIN: Role.ADMIN,
}


@dataclass
class World:
    """The seeded application, its logged-in clients and the ids of the records the tests aim at."""

    app: Any
    runtime: Runtime
    clients: dict[str, httpx.AsyncClient]
    users: dict[str, dict[str, Any]]
    agency_a: int
    agency_b: int
    ids: dict[str, Any] = field(default_factory=dict)
    seconds_to_build: float = 0.0


def anonymous_client(app: Any, base_url: str = "http://testserver") -> httpx.AsyncClient:
    """Return a client without credentials talking to the app in-process."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


async def log_in(app: Any, username: str, password: str = PASSWORD) -> httpx.AsyncClient:
    """Return a client logged in through the API, with the CSRF header set."""
    http = anonymous_client(app)
    response = await http.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    http.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return http


def module_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    """Settings like the suite's, for an application shared by a whole test module."""
    return Settings(
        env=Environment.TEST,
        secret_key=TEST_SECRET,
        database_url=database_url,
        data_dir=data_dir,
        run_background=False,
        log_json=False,
        **overrides,
    )


async def _seed_indicator(ctx: SeedContext) -> None:
    # The module's own seed, with two months of figures instead of two years: the matrix needs rows, not history.
    session = ctx.session
    await indicator_service.sync_from_org_unit(session)
    packs = indicator_service.pack_files()
    for pack in packs.values():
        await indicator_service.load_pack(session, pack)
    catalog = await indicator_repository.load_catalog(session)
    for pack in packs.values():
        for data_set in pack["data_sets"]:
            await indicator_service.assign_reporters(session, catalog, data_set["code"], data_set["reporters"])
    catalog = await indicator_repository.load_catalog(session)
    today = local_today()
    await indicator_seed.seed_figures(session, catalog, indicator_seed.demo_months(today)[-2:], today)


async def seed_light(runtime: Runtime) -> None:
    """Every module's demo seed, indicator's shortened (their events stay in the outbox: no test needs them)."""
    for manifest in runtime.modules:
        if manifest.seed is None:
            continue
        async with runtime.db.transaction() as session:
            ctx = SeedContext(session=session, runtime=runtime)
            await (_seed_indicator(ctx) if manifest.name == "indicator" else manifest.seed(ctx))


async def _create_users(runtime: Runtime, agency_a: int, agency_b: int) -> dict[str, dict[str, Any]]:
    agencies = {Who.STAFF_A: agency_a, Who.STAFF_B: agency_b, Who.HEAD_A: agency_a}
    users: dict[str, dict[str, Any]] = {}
    async with runtime.db.transaction() as session:
        for who, role in ROLE_OF.items():
            user = await identity.create_user(
                session,
                runtime,
                username=f"sec.{who.replace('_', '.')}",
                password=PASSWORD,
                role=role,
                display_name=f"Kiểm thử {who}",
                agency_id=agencies.get(who),
            )
            users[who] = user.model_dump()
    return users


@pytest.fixture(scope="package")
async def world(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """Build the app once per module: every module's demo data, one user per caller, and logged-in clients."""
    started = time.perf_counter()
    migrate.import_all_models()
    settings = module_settings(database_url, tmp_path_factory.mktemp("security") / "data")
    app = create_app(settings)
    clients: dict[str, httpx.AsyncClient] = {}
    try:
        async with app.router.lifespan_context(app):
            runtime: Runtime = app.state.runtime
            await seed_light(runtime)
            async with runtime.db.session() as session:
                agency_a = (await org_unit.get_agency(session, AGENCY_A)).id
                agency_b = (await org_unit.get_agency(session, AGENCY_B)).id
            users = await _create_users(runtime, agency_a, agency_b)
            clients[Who.ANONYMOUS] = anonymous_client(app)
            for who in ROLE_OF:
                clients[who] = await log_in(app, users[who]["username"])
            built = World(app, runtime, clients, users, agency_a, agency_b)
            built.seconds_to_build = time.perf_counter() - started
            yield built
    finally:
        for http in clients.values():
            await http.aclose()
        await _empty_all_tables(database_url)


async def first_id(runtime: Runtime, column: Any, *where: Any) -> Any:
    """Return the first value of a column matching the conditions (None if no row)."""
    async with runtime.db.session() as session:
        return (await session.execute(select(column).where(*where).order_by(column).limit(1))).scalar()
