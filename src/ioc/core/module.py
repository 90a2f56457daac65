"""Module manifests and the loader that checks dependencies and orders modules."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter

from .events import Audience, Subscription
from .jobs import JobSpec
from .security import Role
from .time import PROVINCE_TZ

if TYPE_CHECKING:
    import click
    from sqlalchemy.ext.asyncio import AsyncSession

    from .runtime import Runtime
    from .security import Principal

BUILTIN_PACKAGE = "ioc.modules"


class ModuleLoadError(Exception):
    """The enabled modules cannot be loaded as configured."""


@dataclass(frozen=True)
class Scope:
    """A permission a module defines, and the roles that hold it by default."""

    name: str
    description_vi: str
    description_en: str
    roles: tuple[Role, ...] = (Role.ADMIN,)


@dataclass(frozen=True)
class NavEntry:
    """A link in the navigation; shown only to callers holding `scope` (None: everyone)."""

    path: str
    label_vi: str
    label_en: str
    scope: str | None = None
    icon: str = "•"
    order: int = 100
    section: str = "desk"  # desk | admin | public

    def label(self, lang: str) -> str:
        """Return the label in the requested language."""
        return self.label_en if lang == "en" else self.label_vi


@dataclass
class SeedContext:
    """What a demo seed gets: a session in the seeding transaction and the runtime."""

    session: AsyncSession
    runtime: Runtime
    messages: list[str] = field(default_factory=list)

    def say(self, message: str) -> None:
        """Report progress to the person who ran the seed."""
        self.messages.append(message)


@dataclass(frozen=True)
class PictureContext:
    """What a KPI tile or a map layer is computed for: the caller, the moment and an optional commune drill-down."""

    session: AsyncSession
    principal: Principal | None
    now: datetime
    lang: str = "vi"
    unit_code: str | None = None  # a unit's code: only what happens inside that unit


@dataclass(frozen=True)
class KpiValue:
    """A KPI figure with the same figure for the previous period, to show the trend."""

    value: float | None
    previous: float | None = None
    unit: str = ""  # "%", "µg/m³", "" for counts
    status: str = "normal"  # normal | good | warning | critical: how the tile is coloured
    higher_is_better: bool = True


@dataclass(frozen=True)
class KpiTile:
    """A tile a module offers to the operations picture; `compute` answers for one context."""

    key: str  # "<module>.<figure>", stable: wall layouts refer to it
    label_vi: str
    label_en: str
    compute: Callable[[PictureContext], Awaitable[KpiValue]]
    link: str = ""  # the page with the detail behind the figure
    scope: str | None = None  # None: public figure
    order: int = 100

    def label(self, lang: str) -> str:
        """Return the label in the requested language."""
        return self.label_en if lang == "en" else self.label_vi


@dataclass(frozen=True)
class MapLayer:
    """A map layer a module offers; `features` answers a GeoJSON FeatureCollection (compact properties)."""

    key: str  # "<module>.<layer>"
    label_vi: str
    label_en: str
    features: Callable[[PictureContext], Awaitable[dict[str, Any]]]
    scope: str | None = None  # None: public layer (no personal data in properties)
    order: int = 100
    default_on: bool = True
    link: str = ""  # a feature's detail page filled from its properties when it has no `url`, e.g. "/x/{code}"

    def label(self, lang: str) -> str:
        """Return the label in the requested language."""
        return self.label_en if lang == "en" else self.label_vi


@dataclass(frozen=True)
class FeedEntry:
    """An event a module shows in the operations picture's live feed, and how the feed presents it."""

    event: str  # a registered DomainEvent name, "<module>.<verb>"
    # None: the event's own audience; "staff" keeps a public event off the anonymous feed (never the reverse).
    audience: Audience | None = None
    critical: bool = False  # every occurrence deserves the attention cue (flashing frame, optional tone)
    severity_field: str = ""  # else critical when this payload field holds one of `critical_values`
    critical_values: tuple[str, ...] = ("critical", "extreme", "severe", "emergency")
    link: str = ""  # a path filled from the payload, e.g. "/alarms/{alarm_id}"; a payload `url` wins


@dataclass(frozen=True)
class ChartWindow:
    """The time range a chart is drawn over: its buckets (hours or days in the province's time zone)."""

    range: str  # the picker's value: "24h", "7d", "30d", "90d"
    bucket: timedelta
    starts: tuple[datetime, ...]  # bucket starts, contiguous, oldest first; the last one holds `until`
    until: datetime

    @property
    def since(self) -> datetime:
        """Return the start of the first bucket."""
        return self.starts[0] if self.starts else self.until

    def slot(self, moment: datetime) -> int | None:
        """Return the index of the bucket holding a moment, or None outside the window."""
        if not self.starts or moment < self.starts[0]:
            return None
        # The province keeps no daylight saving time: buckets are of equal length from the first start.
        index = int((moment - self.starts[0]) // self.bucket)
        return index if index < len(self.starts) else None

    def day_slot(self, day: date) -> int | None:
        """Return the index of the bucket holding the start of a local day (daily figures)."""
        return self.slot(datetime.combine(day, time(0), tzinfo=PROVINCE_TZ))


@dataclass(frozen=True)
class ChartLine:
    """One line of a chart: its label and a value per point (None for a gap)."""

    label: str
    values: list[float | None]


@dataclass(frozen=True)
class ChartPlot:
    """What a chart provider answers: lines over the window's buckets, or over points of its own (e.g. months)."""

    lines: list[ChartLine]
    times: tuple[datetime, ...] | None = None  # None: the window's bucket starts
    bucket: timedelta | None = None  # with `times`: how long each point stands for


@dataclass(frozen=True)
class ChartSource:
    """A chart a module offers to the operations picture; `plot` answers for one context and time window."""

    key: str  # "<module>.<chart>", stable: wall layouts refer to it
    label_vi: str
    label_en: str
    plot: Callable[[PictureContext, ChartWindow], Awaitable[ChartPlot]]
    unit: str = ""  # of the values: "%", "VN_AQI", "" for counts
    link: str = ""  # the page with the detail behind the chart
    scope: str | None = None  # None: public chart
    order: int = 100

    def label(self, lang: str) -> str:
        """Return the label in the requested language."""
        return self.label_en if lang == "en" else self.label_vi


SeedHook = Callable[[SeedContext], Awaitable[None]]
StartupHook = Callable[["Runtime"], Awaitable[None]]
ShutdownHook = Callable[["Runtime"], Awaitable[None]]
DemoActivity = Callable[["Runtime"], Awaitable[None]]


@dataclass(frozen=True)
class Manifest:
    """Everything the kernel needs to know about a module to plug it in."""

    name: str
    tier: int
    title_vi: str
    title_en: str
    depends_on: tuple[str, ...] = ()
    api_router: APIRouter | None = None
    page_router: APIRouter | None = None
    subscriptions: tuple[Subscription, ...] = ()
    jobs: tuple[JobSpec, ...] = ()
    scopes: tuple[Scope, ...] = ()
    nav: tuple[NavEntry, ...] = ()
    seed: SeedHook | None = None
    on_startup: StartupHook | None = None
    # Called when the runtime stops, in reverse module order, before background workers and connections end.
    on_shutdown: ShutdownHook | None = None
    # A long-running coroutine that makes the demo look alive (simulated readings, new reports); started with the
    # background workers when IOC_DEMO_ACTIVITY is true (`ioc run --demo-activity`), cancelled when the runtime stops.
    demo_activity: DemoActivity | None = None
    commands: tuple[click.Command, ...] = ()
    package_dir: Path | None = None
    kpis: tuple[KpiTile, ...] = ()
    map_layers: tuple[MapLayer, ...] = ()
    feed: tuple[FeedEntry, ...] = ()
    charts: tuple[ChartSource, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def title(self, lang: str) -> str:
        """Return the module title in the requested language."""
        return self.title_en if lang == "en" else self.title_vi

    @property
    def templates_dir(self) -> Path | None:
        """Return the module's templates folder, if it has one."""
        if self.package_dir is None:
            return None
        folder = self.package_dir / "templates"
        return folder if folder.is_dir() else None

    @property
    def locale_dir(self) -> Path | None:
        """Return the module's translations folder, if it has one."""
        if self.package_dir is None:
            return None
        folder = self.package_dir / "locale"
        return folder if folder.is_dir() else None


def import_path(name: str) -> str:
    """Return the package that holds a module: built-ins by short name, others by dotted path."""
    return name if "." in name else f"{BUILTIN_PACKAGE}.{name}"


def _import_manifest(name: str) -> Manifest:
    package = import_path(name)
    try:
        module = importlib.import_module(f"{package}.manifest")
    except ModuleNotFoundError as exc:
        if exc.name and (package.startswith(exc.name) or exc.name.startswith(package)):
            raise ModuleLoadError(
                f"Module không tồn tại / unknown module: {name!r} (no package {package}.manifest)"
            ) from exc
        raise
    manifest = getattr(module, "manifest", None)
    if not isinstance(manifest, Manifest):
        raise ModuleLoadError(f"{package}.manifest has no `manifest = Manifest(...)`")
    if manifest.name != name.rsplit(".", 1)[-1]:
        raise ModuleLoadError(f"{package}.manifest names itself {manifest.name!r}, expected {name!r}")
    return manifest


def order_modules(manifests: dict[str, Manifest]) -> list[Manifest]:
    """Sort manifests so that every module comes after its dependencies; refuse missing or cyclic ones."""
    for manifest in manifests.values():
        for dep in manifest.depends_on:
            if dep not in manifests:
                raise ModuleLoadError(
                    f"Module {manifest.name!r} cần module {dep!r} nhưng {dep!r} chưa được bật / "
                    f"module {manifest.name!r} depends on {dep!r}, which is not enabled"
                )
            if manifests[dep].tier > manifest.tier:
                raise ModuleLoadError(
                    f"module {manifest.name!r} (tier {manifest.tier}) depends on {dep!r} from a higher tier"
                )
    ordered: list[Manifest] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = " → ".join([*path[path.index(name) :], name])
            raise ModuleLoadError(f"Phụ thuộc vòng / cyclic module dependency: {cycle}")
        state[name] = "visiting"
        for dep in manifests[name].depends_on:
            visit(dep, [*path, name])
        state[name] = "done"
        ordered.append(manifests[name])

    for name in sorted(manifests, key=lambda n: (manifests[n].tier, n)):
        visit(name, [])
    return ordered


def load_modules(names: list[str]) -> list[Manifest]:
    """Import the enabled modules' manifests and return them in dependency order."""
    if len(set(names)) != len(names):
        raise ModuleLoadError(f"a module is enabled twice: {names}")
    manifests: dict[str, Manifest] = {}
    for name in names:
        manifest = _import_manifest(name)
        manifests[manifest.name] = manifest
    return order_modules(manifests)
