"""Real local peers for notification tests: an SMTP sink and an HTTP receiver, and settings pointing at them."""

from __future__ import annotations

import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import update

from ioc.core.models import Job
from ioc.core.runtime import Runtime
from ioc.core.settings import Settings
from ioc.core.time import utc_now

REFUSED_DOMAIN = "refused.example"
DEFERRED_DOMAIN = "deferred.example"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass
class SmtpSink:
    """Messages the local SMTP server accepted."""

    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)


class _SinkHandler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:  # noqa: N802
        if address.endswith("@" + REFUSED_DOMAIN):
            return "550 5.1.1 mailbox unavailable"
        if address.endswith("@" + DEFERRED_DOMAIN):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.sink.messages.append(message)
        self.sink.raw.append(envelope.original_content or envelope.content)
        self.sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """Run an SMTP server on 127.0.0.1 and a free port for one test."""
    sink = SmtpSink(port=free_port())
    controller = Controller(_SinkHandler(sink), hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@dataclass
class ReceivedRequest:
    """One request the HTTP receiver got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class PlannedAnswer:
    """What the receiver answers to the next request."""

    status: int = 200
    body: str = '{"ok": true}'
    delay: float = 0.0


class HttpReceiver:
    """A local HTTP server that records requests and answers from a plan (then 200)."""

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.plan: list[PlannedAnswer] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.requests.append(
                        ReceivedRequest("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    answer = receiver.plan.pop(0) if receiver.plan else PlannedAnswer()
                if answer.delay:
                    threading.Event().wait(answer.delay)
                payload = answer.body.encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A short poll interval keeps shutdown (once per test) quick.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def url(self, path: str) -> str:
        """Return the absolute URL of a path on this receiver."""
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def answer(self, *answers: int | PlannedAnswer) -> None:
        """Queue the answers to the next requests (a bare number is a status with the default body)."""
        with self.lock:
            self.plan.extend(a if isinstance(a, PlannedAnswer) else PlannedAnswer(status=a) for a in answers)


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    """Run an HTTP receiver on 127.0.0.1 and a free port for one test."""
    receiver = HttpReceiver()
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


@pytest.fixture
def settings(settings: Settings, smtp_sink: SmtpSink, http_receiver: HttpReceiver) -> Settings:
    """Point e-mail at the SMTP sink and the SMS gateway at the HTTP receiver."""
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_sink.port,
            "smtp_sender": "Trung tâm IOC <ioc@tayninh.example>",
            "sms_gateway_url": http_receiver.url("/sms/send"),
            "sms_gateway_token": "sms-gateway-token-123",
        }
    )


JobsDue = Callable[[], Awaitable[int]]


@pytest.fixture
def make_jobs_due(runtime: Runtime) -> JobsDue:
    """Return a function that moves pending jobs' run time into the past, instead of sleeping through a backoff."""

    async def move() -> int:
        async with runtime.db.transaction() as session:
            result = await session.execute(
                update(Job).where(Job.status == "pending").values(run_at=utc_now() - timedelta(seconds=1))
            )
        return int(getattr(result, "rowcount", 0))

    return move


@pytest.fixture
def unused_port() -> int:
    """Return a local port nothing listens on (a peer that is down)."""
    return free_port()
