"""Fixtures of the org_unit tests: the Tây Ninh demo seeded through the module's own seed function."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ioc.core.module import SeedContext
from ioc.core.runtime import Runtime
from ioc.modules.org_unit.constants import DEMO_PROVINCE_GEOJSON, DEMO_SCHEMATIC_GEOJSON
from ioc.modules.org_unit.seed import seed_demo

DEMO_UNIT_COUNT = 97  # the province and its 96 communes
COMMUNE_COUNT = 96


async def run_seed(runtime: Runtime) -> list[str]:
    """Run the demo seed in its own transaction, as `ioc demo seed` does, and return its messages."""
    async with runtime.db.transaction() as session:
        ctx = SeedContext(session=session, runtime=runtime)
        await seed_demo(ctx)
    await runtime.drain()
    return ctx.messages


@pytest.fixture
async def seeded(runtime: Runtime) -> list[str]:
    """Seed the Tây Ninh demo (province 80, 96 communes, schematic boundaries, agencies)."""
    return await run_seed(runtime)


def load_geojson(path: Path) -> dict[str, Any]:
    """Read a GeoJSON file."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def schematic() -> dict[str, Any]:
    """The committed schematic commune cells."""
    return load_geojson(DEMO_SCHEMATIC_GEOJSON)


@pytest.fixture(scope="session")
def outline() -> dict[str, Any]:
    """The committed province outline."""
    return load_geojson(DEMO_PROVINCE_GEOJSON)
