"""Fixtures of the `dashboard` tests: the dashboard, a test module offering tiles, layers and charts, and the
fixtures of the modules whose charts the picture shows (their own seeding, reused)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.modules.citizen_report.conftest import categories, submit, units  # noqa: F401 (fixtures of the module charts)
from tests.modules.dashboard.picturemod import manifest as picturemod
from tests.modules.environment.conftest import make_station  # noqa: F401 (fixture)
from tests.modules.indicator.conftest import world  # noqa: F401 (fixture)

from ioc.core.settings import Settings

PICTUREMOD = "tests.modules.dashboard.picturemod"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Enable the dashboard, what it needs and the test module on top of the suite's modules."""
    wanted = [m for m in ("identity", "org_unit", "dashboard", PICTUREMOD) if m not in settings.modules]
    return settings.model_copy(update={"modules": [*settings.modules, *wanted]})


@pytest.fixture(autouse=True)
def points() -> Iterator[list[tuple[float, float, str, str]]]:
    """The test layer's points, emptied after each test."""
    picturemod.POINTS.clear()
    yield picturemod.POINTS
    picturemod.POINTS.clear()
