"""Fixtures of the `environment` tests: the suite's settings with this module enabled."""

from __future__ import annotations

import pytest

from ioc.core.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Enable the module on top of the modules the suite runs with."""
    if "environment" in settings.modules:
        return settings
    return settings.model_copy(update={"modules": [*settings.modules, "environment"]})
