"""Shared pieces of the benchmarks: a figure, a fresh database, the table printer, and the served application."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
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


async def concurrently(
    call: Callable[[int], Awaitable[None]], first: int, count: int, concurrency: int
) -> tuple[float, list[float]]:
    """Run call(first) .. call(first + count - 1) from `concurrency` workers; return calls/s and each call's seconds."""
    numbers = iter(range(first, first + count))
    latencies: list[float] = []

    async def worker() -> None:
        for number in numbers:
            started = time.perf_counter()
            await call(number)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - started), latencies


def p99_ms(latencies: Sequence[float]) -> float:
    """Return the 99th percentile of durations in seconds, in milliseconds."""
    return statistics.quantiles(latencies, n=100)[98] * 1000


def process_tree_cpu(pid: int) -> float:
    """Return the CPU seconds (user + system) used so far by a process and its children (Linux /proc)."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        total += _process_cpu(current)
        try:
            with open(f"/proc/{current}/task/{current}/children") as children:
                pending.extend(int(child) for child in children.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def _process_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return 0.0


BACKENDS_OF_THIS_DATABASE = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


class DatabaseCpu:
    """CPU seconds of the PostgreSQL server processes serving one database (on this machine), between two readings.

    The database's own work per request is part of what 2 cores have to give; SQLite runs inside the callers.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._before: dict[int, float] = {}

    async def _backends(self) -> dict[int, float]:
        engine = create_async_engine(self.url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(text(BACKENDS_OF_THIS_DATABASE))
                pids = [int(pid) for (pid,) in rows]
        finally:
            await engine.dispose()
        return {pid: _process_cpu(pid) for pid in pids if _is_postgres(pid)}

    async def start(self) -> None:
        """Take the first reading."""
        self._before = await self._backends()

    async def seconds(self) -> float | None:
        """Return the CPU seconds used since `start` (new processes count whole); None if the server is elsewhere."""
        after = await self._backends()
        if not after:
            return None
        return sum(cpu - self._before.get(pid, 0.0) for pid, cpu in after.items())


def _is_postgres(pid: int) -> bool:
    # The server may run on another machine or in a container: then its process ids are not ours to read.
    try:
        with open(f"/proc/{pid}/comm") as comm:
            return comm.read().startswith("postgres")
    except OSError:
        return False


SERVER_WORKERS = 2
SERVER_START_SECONDS = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_server(url: str, modules: Sequence[str], port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start uvicorn with SERVER_WORKERS workers on a prepared database (background work off)."""
    variables = {
        **os.environ,
        "IOC_ENV": "test",
        "IOC_SECRET_KEY": secrets.token_urlsafe(32),
        "IOC_DATABASE_URL": url,
        "IOC_MODULES": ",".join(modules),
        "IOC_RUN_BACKGROUND": "false",
        "IOC_LOG_JSON": "false",
        "IOC_LOG_LEVEL": "WARNING",
        **env,
    }
    command = [sys.executable, "-m", "uvicorn", "ioc.app:create_app", "--factory", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(SERVER_WORKERS), "--log-level", "warning", "--no-access-log"]
    # As behind a reverse proxy on the same host: the client's address is taken from X-Forwarded-For.
    command += ["--proxy-headers", "--forwarded-allow-ips", "127.0.0.1"]
    return subprocess.Popen(command, env=variables)  # noqa: S603 - our own interpreter and fixed arguments


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
    """Send one keep-alive request and read the whole answer; return its status and body."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, await reader.readexactly(length)


@dataclass
class Served:
    """The application under uvicorn, and keep-alive connections to it from this process."""

    port: int
    pid: int
    free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]]

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Send a whole HTTP/1.1 request on a free connection; return the answer's status and body."""
        connection = await self.free.get()
        try:
            return await _exchange(*connection, request)
        finally:
            self.free.put_nowait(connection)

    def cpu_seconds(self) -> float:
        """Return the CPU seconds the server's processes have used so far."""
        return process_tree_cpu(self.pid)


@asynccontextmanager
async def served(
    url: str, modules: Sequence[str], connections: int, env: dict[str, str] | None = None
) -> AsyncIterator[Served]:
    """Run the application as in production, uvicorn with SERVER_WORKERS workers, with `connections` open to it.

    The load then comes from this process through a minimal HTTP client, so that the figures are the server's
    and not a client library's.
    """
    port = _free_port()
    server = _start_server(url, modules, port, env or {})
    opened: list[asyncio.StreamWriter] = []
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("uvicorn did not start") from None
                await asyncio.sleep(0.2)
        writer.close()
        free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
        for _ in range(connections):
            connection = await asyncio.open_connection("127.0.0.1", port)
            opened.append(connection[1])
            free.put_nowait(connection)
        yield Served(port=port, pid=server.pid, free=free)
    finally:
        for writer in opened:
            writer.close()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
