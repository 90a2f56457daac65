"""The runtime: settings, database, modules and background workers of one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text

from .audit import install_audit
from .calendar import WorkingCalendar
from .db import Database
from .events import Subscription
from .i18n import CORE_LOCALE_DIR, Translator
from .jobs import JobRunner, JobSpec
from .live import LiveFeed
from .metrics import JOBS_DEAD, JOBS_PENDING, OUTBOX_PENDING
from .models import Job, OutboxEvent
from .module import DemoActivity, Manifest, NavEntry, Scope, load_modules
from .outbox import DELIVER_JOB_SPEC, InProcessTransport, NatsTransport, OutboxDispatcher, Transport
from .security import Authenticator, Principal, Role
from .settings import Settings
from .templating import build_environment

if TYPE_CHECKING:
    from jinja2 import Environment

log = logging.getLogger(__name__)

SHELL_DIR = Path(__file__).resolve().parent.parent / "web"
KERNEL_SCOPES = (
    Scope("calendar:write", "Ghi ngày nghỉ, ngày làm bù", "Record holidays and make-up working days", (Role.ADMIN,)),
    Scope(
        "live:read",
        "Xem luồng sự kiện trực tiếp",
        "Watch the live event stream",
        (Role.HOTLINE_OPERATOR, Role.AGENCY_STAFF, Role.AGENCY_HEAD, Role.LEADER, Role.ADMIN),
    ),
)


class Runtime:
    """Wires the kernel to the enabled modules; one per process (and one per test app)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.modules: list[Manifest] = load_modules(settings.modules)
        self.db = Database(settings.resolved_database_url)
        install_audit(self.db.sync_session_class)
        self.translator = Translator()
        self.translator.load_dir(CORE_LOCALE_DIR)
        for manifest in self.modules:
            if manifest.locale_dir:
                self.translator.load_dir(manifest.locale_dir)
        self.templates: Environment = build_environment(
            SHELL_DIR / "templates",
            {m.name: m.templates_dir for m in self.modules if m.templates_dir is not None},
        )
        self.subscriptions: list[Subscription] = [s for m in self.modules for s in m.subscriptions]
        self.subscriptions_by_name = {s.name: s for s in self.subscriptions}
        if len(self.subscriptions_by_name) != len(self.subscriptions):
            raise ValueError("two subscriptions share a name")
        specs: dict[str, JobSpec] = {DELIVER_JOB_SPEC.name: DELIVER_JOB_SPEC}
        for manifest in self.modules:
            for spec in manifest.jobs:
                if spec.name in specs:
                    raise ValueError(f"job {spec.name!r} is declared twice")
                specs[spec.name] = spec
        self.jobs = JobRunner(self, specs)
        self.transport: Transport
        if settings.event_transport == "nats":
            self.transport = NatsTransport(self, settings.nats_url, settings.nats_stream)
        else:
            self.transport = InProcessTransport(self)
        self.dispatcher = OutboxDispatcher(self, self.transport)
        self.live = LiveFeed(self.db)
        self.calendar = WorkingCalendar()
        self.authenticator: Authenticator | None = None
        self.db.on_commit(self._after_commit)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._demo_tasks: list[asyncio.Task[None]] = []

    def _after_commit(self) -> None:
        self.dispatcher.wake()
        self.live.wake()

    @property
    def scopes(self) -> list[Scope]:
        """Return every scope the kernel and the enabled modules define."""
        return [*KERNEL_SCOPES, *(scope for m in self.modules for scope in m.scopes)]

    def scopes_for_role(self, role: Role) -> frozenset[str]:
        """Return the scopes a role holds by default."""
        return frozenset(scope.name for scope in self.scopes if role in scope.roles)

    def module(self, name: str) -> Manifest | None:
        """Return an enabled module's manifest by name."""
        return next((m for m in self.modules if m.name == name), None)

    def navigation(self, principal: Principal | None, lang: str) -> list[NavEntry]:
        """Return the navigation entries visible to the caller, in order."""
        entries = [entry for m in self.modules for entry in m.nav]
        visible = [e for e in entries if e.scope is None or (principal is not None and principal.has(e.scope))]
        return sorted(visible, key=lambda e: (e.order, e.label(lang)))

    async def check_database(self) -> None:
        """Run a trivial query; raise if the database cannot be reached."""
        async with self.db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def load_calendar(self) -> None:
        """Load the yearly calendar overrides from the database."""
        await self.calendar.load_overrides(self.db)

    async def refresh_gauges(self) -> None:
        """Update the gauges that are read from the database at scrape time."""
        async with self.db.session() as session:
            OUTBOX_PENDING.set(
                await session.scalar(select(func.count()).where(OutboxEvent.published_at.is_(None))) or 0
            )
            JOBS_PENDING.set(await session.scalar(select(func.count()).where(Job.status == "pending")) or 0)
            JOBS_DEAD.set(await session.scalar(select(func.count()).where(Job.status == "dead")) or 0)

    async def start(self) -> None:
        """Run the modules' start-up hooks and, if enabled, the background workers."""
        await self.load_calendar()
        for manifest in self.modules:
            if manifest.on_startup is not None:
                await manifest.on_startup(self)
        if not self.settings.run_background:
            return
        await self.transport.start()
        self._stop.clear()
        self._tasks = [
            asyncio.create_task(self.dispatcher.run_forever(self._stop), name="outbox"),
            asyncio.create_task(self.jobs.run_forever(self._stop), name="jobs"),
            asyncio.create_task(self.live.run_forever(self._stop), name="live"),
        ]
        if self.settings.demo_activity:
            self._demo_tasks = [
                asyncio.create_task(self._demo_activity(m.name, m.demo_activity), name=f"demo:{m.name}")
                for m in self.modules
                if m.demo_activity is not None
            ]

    async def _demo_activity(self, module: str, activity: DemoActivity) -> None:
        """Run a module's demo activity; a failure is logged and ends only that module's activity."""
        log.info("demo activity started: %s", module)
        try:
            await activity(self)
        except Exception:
            log.exception("demo activity failed: %s", module)

    async def stop(self) -> None:
        """Stop the demo activity and the modules' own work, then the background workers, and close connections."""
        for task in self._demo_tasks:
            task.cancel()
        for task in self._demo_tasks:
            with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
                await asyncio.wait_for(task, timeout=5)
        self._demo_tasks.clear()
        for manifest in reversed(self.modules):
            if manifest.on_shutdown is not None:
                try:
                    await manifest.on_shutdown(self)
                except Exception:
                    log.exception("module shutdown hook failed", extra={"ioc_module": manifest.name})
        self._stop.set()
        self.dispatcher.wake()
        self.jobs.wake()
        self.live.wake()
        for task in self._tasks:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(task, timeout=5)
        self._tasks.clear()
        if self.settings.run_background:
            await self.transport.stop()
        await self.db.dispose()

    async def drain(self, rounds: int = 20) -> None:
        """Publish and deliver everything pending now (used by commands and tests)."""
        for _ in range(rounds):
            published = await self.dispatcher.dispatch_pending()
            ran = await self.jobs.run_due()
            if not published and not ran:
                return
