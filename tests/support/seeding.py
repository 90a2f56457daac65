"""A module's own demo seed, run by a test that needs the data it creates (the Tây Ninh units, for instance)."""

from __future__ import annotations

from ioc.core.module import SeedContext
from ioc.core.runtime import Runtime


async def seed_module(runtime: Runtime, name: str) -> None:
    """Run an enabled module's demo seed in a transaction of its own."""
    manifest = runtime.module(name)
    assert manifest is not None, f"module {name} is not enabled"
    assert manifest.seed is not None, f"module {name} has no seed"
    async with runtime.db.transaction() as session:
        await manifest.seed(SeedContext(session=session, runtime=runtime))
