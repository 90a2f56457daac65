"""Modules' demo activity: started with the background workers when enabled, cancelled when the runtime stops."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ioc.core.runtime import Runtime
from ioc.core.settings import Settings

from .demomod import manifest as demo


def _demo_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("demo:") and not t.done()]


@pytest.fixture
def demo_settings(settings: Settings) -> Settings:
    """Only the demo-activity test module; background work and demo activity on."""
    demo.CALLS.clear()
    demo.STARTED.clear()
    return settings.model_copy(
        update={"modules": ["tests.core.demomod"], "run_background": True, "demo_activity": True}
    )


async def test_demo_activity_starts_with_the_runtime_and_is_cancelled_on_stop(
    demo_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ioc.core.runtime")  # the start is logged, as in a served process
    runtime = Runtime(demo_settings)
    await runtime.start()
    try:
        await asyncio.wait_for(demo.STARTED.wait(), timeout=5)
        assert [t.get_name() for t in _demo_tasks()] == ["demo:demomod"]
    finally:
        await runtime.stop()
    assert demo.CALLS == ["started", "cancelled"]
    assert _demo_tasks() == []
    assert "demo activity started: demomod" in caplog.text


@pytest.mark.parametrize("off", [{"demo_activity": False}, {"run_background": False}])
async def test_demo_activity_runs_only_when_enabled_with_background_work(
    demo_settings: Settings, off: dict[str, bool]
) -> None:
    runtime = Runtime(demo_settings.model_copy(update=off))
    await runtime.start()
    await asyncio.sleep(0.05)
    assert _demo_tasks() == []
    await runtime.stop()
    assert demo.CALLS == []
