"""Shared tools of the resilience tests: real processes on free ports, a cuttable proxy, a numbered publisher.

Everything here starts real programs (`ioc run`, `mosquitto`, `nats-server`) and kills them for real; each
helper stops what it started, so that a failing test leaves no process behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from ioc.core import migrate

from ..conftest import IN_CI, TEST_SECRET
from ..support.tcp_proxy import TcpProxy

__all__ = [
    "MQTT_HOST",
    "IocProcess",
    "NumberedPublisher",
    "ServerProcess",
    "TcpProxy",
    "eventually",
    "free_port",
    "mosquitto_process",
    "nats_process",
    "remove_mqtt_session",
    "stamp_head",
    "unique_mqtt",
]

MQTT_HOST = "127.0.0.1"
# A cold `ioc run` imports every module; on a busy two-core machine that alone takes several seconds.
READY_TIMEOUT = 90.0


def free_port() -> int:
    """Return a TCP port nobody listens on now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def eventually(
    check: Callable[[], Awaitable[bool]],
    within: float,
    what: str,
    step: float = 0.1,
    detail: Callable[[], Awaitable[str]] | None = None,
) -> float:
    """Wait until an async check passes; return the seconds it took, or fail naming what did not happen."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not await check():
        if loop.time() - started > within:
            extra = f" ({await detail()})" if detail is not None else ""
            raise AssertionError(f"not within {within:.0f} s: {what}{extra}")
        await asyncio.sleep(step)
    return loop.time() - started


async def stamp_head(url: str) -> None:
    """Mark a schema built from the models as migrated, so that `ioc run` accepts it."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
            )
            await conn.execute(text("DELETE FROM alembic_version"))
            await conn.execute(
                text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": migrate.head_revision()}
            )
    finally:
        await engine.dispose()


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class IocProcess:
    """One `ioc run` subprocess with its own port, environment and log file."""

    workdir: Path
    database_url: str
    extra_env: dict[str, str] = field(default_factory=dict)
    name: str = "ioc"
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        """Return the base URL of the process."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """Return the file that receives the process's output."""
        return self.workdir / f"{self.name}.log"

    def environment(self) -> dict[str, str]:
        """Return the environment of the subprocess: no IOC_ variable of the caller leaks in."""
        env = {key: value for key, value in os.environ.items() if not key.upper().startswith("IOC_")}
        env.update(
            {
                "IOC_ENV": "test",
                "IOC_SECRET_KEY": TEST_SECRET,
                "IOC_DATABASE_URL": self.database_url,
                "IOC_DATA_DIR": str(self.workdir / "data"),
                "IOC_LOG_JSON": "false",
                "IOC_LOG_LEVEL": "WARNING",
                **self.extra_env,
            }
        )
        return env

    def start(self) -> None:
        """Start the process (again, on the same port after a crash) without waiting for it."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        ioc = Path(sys.executable).with_name("ioc")
        log = self.log_path.open("ab")
        log.write(f"\n--- start {self.starts + 1} ---\n".encode())
        log.flush()
        # cwd is the test's own folder: a developer's .env in the project root must not configure it.
        self.proc = subprocess.Popen(
            [str(ioc), "run", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=self.workdir,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.starts += 1

    async def wait_ready(self, within: float = READY_TIMEOUT) -> float:
        """Wait until /readyz answers 200; return the seconds it took, or fail with the log's tail."""
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=2.0) as http:
            while True:
                if self.proc is None or self.proc.poll() is not None:
                    raise AssertionError(f"{self.name} exited before it was ready:\n{_tail(self.log_path)}")
                try:
                    if (await http.get(self.url + "/readyz")).status_code == 200:
                        return time.monotonic() - started
                except httpx.TransportError:
                    pass
                if time.monotonic() - started > within:
                    raise AssertionError(f"{self.name} not ready within {within:.0f} s:\n{_tail(self.log_path)}")
                await asyncio.sleep(0.1)

    async def started(self) -> float:
        """Start and wait until ready; return the seconds to readiness."""
        self.start()
        return await self.wait_ready()

    def kill(self) -> None:
        """`kill -9`: no shutdown hook runs, nothing is flushed or acknowledged."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def terminate(self) -> None:
        """Ask the process to stop (SIGTERM) without waiting, so that several can stop at once."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), killing the process if it does not end in time."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_text(self) -> str:
        """Return everything the process wrote."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class ServerProcess:
    """A private broker process on a free port, killed and started again by the test."""

    name: str
    argv: Sequence[str]
    port: int
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None

    def _spawn(self) -> subprocess.Popen[bytes]:
        with (self.workdir / f"{self.name}.log").open("ab") as log:
            return subprocess.Popen(list(self.argv), cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)

    async def start(self, within: float = 20.0) -> None:
        """Start the server and wait until its port accepts connections."""
        self.proc = self._spawn()
        deadline = time.monotonic() + within
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{_tail(self.workdir / f'{self.name}.log')}")
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} did not listen on {self.port}") from None
                await asyncio.sleep(0.05)

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """Send a signal and wait for the process to end."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def _binary(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/local/bin") / name) if p.exists()), None
    )
    if found is None:
        message = f"{name} is not installed"
        if IN_CI:
            pytest.fail(message + " (CI=true: the resilience tests need it)")
        pytest.skip(message)
    return found


def mosquitto_process(workdir: Path) -> ServerProcess:
    """A private Mosquitto that keeps its sessions on disk, like a production broker (persistence on)."""
    port = free_port()
    store = workdir / "mosquitto"
    store.mkdir(parents=True, exist_ok=True)
    config = workdir / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
        f"persistence_location {store}/\n"
        # Mosquitto drops privileges to a 'mosquitto' user when started as root; keep ours, who owns the folder.
        f"user {getpass.getuser()}\n"
    )
    return ServerProcess("mosquitto", [_binary("mosquitto"), "-c", str(config)], port, workdir)


def nats_process(workdir: Path) -> ServerProcess:
    """A private NATS server with JetStream storing its streams in a folder of the test."""
    port = free_port()
    store = workdir / "jetstream"
    store.mkdir(parents=True, exist_ok=True)
    argv = [_binary("nats-server"), "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store)]
    return ServerProcess("nats-server", argv, port, workdir)


def remove_mqtt_session(port: int, client_id: str) -> None:
    """Drop a persistent session the product left on a broker (a clean-session connection replaces it)."""
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    try:
        client.connect(MQTT_HOST, port)
    except OSError:
        return
    client.loop_start()
    client.disconnect()
    client.loop_stop()


def unique_mqtt(prefix: str = "ioc-res") -> tuple[str, str]:
    """Return a client id and a topic prefix of one test, so that runs never see each other's messages."""
    tag = uuid.uuid4().hex[:12]
    return f"{prefix}-{tag}", f"{prefix}/{tag}/telemetry"


class NumberedPublisher:
    """Publishes readings 0..count-1 with QoS 1 at a steady rate, remembering which the broker acknowledged.

    A reading is "acknowledged" when its PUBACK came back: from then on the broker owns it, and the product
    must store it exactly once whatever happens to the product or the broker afterwards.
    """

    def __init__(self, port: int, topic_prefix: str, devices: Sequence[str], count: int, rate: float) -> None:
        self.port = port
        self.topic_prefix = topic_prefix
        self.devices = list(devices)
        self.count = count
        self.interval = 1.0 / rate
        # Readings are an hour old, one per 10 ms, so that (datastream, time) names each reading.
        self.base_ms = int(time.time() * 1000) - 3_600_000
        self.sent = 0
        self._infos: list[tuple[int, paho.MQTTMessageInfo]] = []
        self._thread = threading.Thread(target=self._run, name="numbered-publisher", daemon=True)
        self._stop = threading.Event()
        self._client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
        # The broker may be restarted under us: keep every unacknowledged message, however many.
        self._client.max_queued_messages_set(0)
        self._client.reconnect_delay_set(1, 2)
        # Message ids of the PUBACKs received; ids are not reused within one run (fewer than 65535 messages).
        self._acked_mids: set[int] = set()
        self._client.on_publish = self._on_publish

    def _on_publish(self, _client: paho.Client, _userdata: object, mid: int, _reason: object, _props: object) -> None:
        self._acked_mids.add(mid)

    def device(self, number: int) -> str:
        """Return the device that sends reading `number`."""
        return self.devices[number % len(self.devices)]

    def time_ms(self, number: int) -> int:
        """Return the phenomenon time of reading `number` in epoch milliseconds."""
        return self.base_ms + number * 10

    def start(self) -> None:
        """Connect and start publishing in a thread."""
        self._client.connect(MQTT_HOST, self.port)
        self._client.loop_start()
        self._thread.start()

    def _run(self) -> None:
        next_at = time.monotonic()
        for number in range(self.count):
            if self._stop.is_set():
                return
            body = json.dumps({"ts": self.time_ms(number), "values": {"seq": number}})
            info = self._client.publish(f"{self.topic_prefix}/{self.device(number)}", body, qos=1)
            self._infos.append((number, info))
            self.sent = number + 1
            next_at += self.interval
            pause = next_at - time.monotonic()
            if pause > 0:
                time.sleep(pause)

    @property
    def finished(self) -> bool:
        """Tell whether every reading was handed to the client."""
        return not self._thread.is_alive()

    def acknowledged(self) -> set[int]:
        """Return the numbers of the readings the broker has acknowledged so far."""
        acked = set(self._acked_mids)
        return {number for number, info in list(self._infos) if info.mid in acked}

    async def wait_sent(self, within: float = 60.0) -> None:
        """Wait until every reading was handed over and no more acknowledgements are coming."""
        await asyncio.to_thread(self._thread.join, within)

        async def all_acknowledged() -> bool:
            return len(self.acknowledged()) >= self.sent

        # Readings the broker never acknowledges (lost in a broker restart) are allowed: stop waiting for them.
        with contextlib.suppress(AssertionError):
            await eventually(all_acknowledged, within=15, what="acknowledgements", step=0.05)

    def close(self) -> None:
        """Stop publishing and disconnect."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._client.disconnect()
        self._client.loop_stop()
