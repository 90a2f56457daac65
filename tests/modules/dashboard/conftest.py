"""Fixtures of the `dashboard` tests: the dashboard and a test module offering tiles and layers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.modules.dashboard.picturemod import manifest as picturemod

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
