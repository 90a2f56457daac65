"""Shared pieces of the benchmarks: a figure, a fresh database, and the table printer."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from ioc.core import migrate

POSTGRES_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@dataclass
class Figure:
    """One measured figure, its target and, where it applies, the raw engine's figure for comparison."""

    name: str
    value: float
    unit: str
    target: str = ""
    raw: float | None = None

    @property
    def ratio(self) -> float | None:
        """Return value / raw, when a raw engine figure was measured."""
        return self.value / self.raw if self.raw else None


def engine_choice() -> str:
    """Return the engine asked for with BENCH_DATABASE (sqlite or postgresql)."""
    return os.environ.get("BENCH_DATABASE", "sqlite")


@asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """Create an empty, migrated database on the chosen engine and drop it afterwards."""
    if engine_choice() == "postgresql":
        name = f"ioc_bench_{uuid.uuid4().hex[:8]}"
        admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        try:
            await asyncio.to_thread(migrate.upgrade, url)
            yield url
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await admin.dispose()
    else:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
            await asyncio.to_thread(migrate.upgrade, url)
            yield url


def print_table(figures: list[Figure]) -> None:
    """Print the figures as one aligned table."""
    header = ("figure", "value", "target", "raw engine", "ratio")
    rows = [
        (
            f.name,
            f"{f.value:,.1f} {f.unit}",
            f.target,
            f"{f.raw:,.1f} {f.unit}" if f.raw else "",
            f"{f.ratio:.2f}" if f.ratio else "",
        )
        for f in figures
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


def write_json(figures: list[Figure], path: Path) -> None:
    """Write the figures as JSON for machines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = [{**asdict(f), "ratio": f.ratio} for f in figures]
    path.write_text(json.dumps({"engine": engine_choice(), "figures": payload}, indent=2), encoding="utf-8")
