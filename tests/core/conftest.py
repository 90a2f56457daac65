"""Fixtures for kernel tests: a runtime with only the kernel-test module enabled."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ioc.core.runtime import Runtime
from ioc.core.settings import Settings

from .samplemod import manifest as sample

SAMPLE_MODULE = "tests.core.samplemod"


@pytest.fixture
def kernel_settings(settings: Settings) -> Settings:
    """Settings with only the kernel-test module enabled."""
    return settings.model_copy(update={"modules": [SAMPLE_MODULE]})


@pytest.fixture
async def kernel_runtime(kernel_settings: Settings) -> AsyncIterator[Runtime]:
    """A started runtime without background workers; tests drive the outbox and jobs."""
    sample.FAILURES_LEFT.update(handler=0, job=0)
    runtime = Runtime(kernel_settings)
    await runtime.start()
    yield runtime
    await runtime.stop()
