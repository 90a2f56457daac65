"""The house rules, checked on the source (the project's "hassfest").

- the kernel (`ioc.core`) imports no module, nor the app, the command line or the web shell (it may import
  the empty container package `ioc.modules` to discover modules by name);
- a module imports another module only if its manifest declares it in `depends_on`, and only from that
  module's package root (`from ioc.modules.identity import x`, never `ioc.modules.identity.service`);
- inside a module, imports are relative, and relative imports stay inside the module;
- a module never imports the composition root (`ioc.app`, `ioc.cli`);
- every module folder has `__init__.py`, `manifest.py`, `README.md` and a page `docs/modules/<name>.md`;
- every setting and every event is documented.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from ioc.core.events import DomainEvent
from ioc.core.settings import ENV_PREFIX, Settings

pytestmark = pytest.mark.engine_free  # no database: run once, in the SQLite pass

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SRC = PROJECT_ROOT / "src"
MODULES_DIR = SRC / "ioc" / "modules"
DOCS = PROJECT_ROOT / "docs"
MODULES_PACKAGE = "ioc.modules"
KERNEL_PACKAGE = "ioc.core"
# What the kernel must not know about: the modules and everything built on top of it.
OUTSIDE_KERNEL = ("ioc.modules", "ioc.app", "ioc.cli", "ioc.web")
# The composition root assembles modules; a module importing it would import every other module.
COMPOSITION_ROOT = ("ioc.app", "ioc.cli")
REQUIRED_MODULE_FILES = ("__init__.py", "manifest.py", "README.md")

KERNEL_IMPORTS_OUTSIDE = "kernel-imports-outside"
UNDECLARED_DEPENDENCY = "undeclared-dependency"
PAST_PACKAGE_ROOT = "past-package-root"
ABSOLUTE_SELF_IMPORT = "absolute-self-import"
RELATIVE_OUTSIDE_MODULE = "relative-outside-module"
IMPORTS_COMPOSITION_ROOT = "imports-composition-root"


@dataclass(frozen=True)
class Violation:
    """One broken rule at one place in the source."""

    rule: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: [{self.rule}] {self.detail}"


@dataclass(frozen=True)
class Import:
    """One imported name, resolved to an absolute dotted path."""

    line: int
    target: str
    relative: bool


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def is_source_module(dotted: str) -> bool:
    """Tell whether a dotted name is a module or package of the source tree."""
    path = SRC.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def resolve_imports(tree: ast.AST, module: str, is_package: bool, is_module: Callable[[str], bool]) -> Iterator[Import]:
    """Yield every import of a parsed file (type-checking ones included) as absolute dotted names."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(node.lineno, alias.name, relative=False)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if node.level - 1 > len(package):
                    yield Import(node.lineno, "." * node.level + (node.module or ""), relative=True)
                    continue
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            yield Import(node.lineno, target, relative=bool(node.level))
            # `from package import name` imports a submodule when `name` is one.
            for alias in node.names:
                if alias.name != "*" and is_module(f"{target}.{alias.name}"):
                    yield Import(node.lineno, f"{target}.{alias.name}", relative=bool(node.level))


def check_source(
    source: str,
    module: str,
    *,
    is_package: bool = False,
    depends_on: Mapping[str, Collection[str]],
    is_module: Callable[[str], bool] = is_source_module,
    where: str = "",
) -> list[Violation]:
    """Check the imports of one file of the package `ioc` against the house rules."""
    tree = ast.parse(source)
    where = where or module
    violations: list[Violation] = []
    in_kernel = _within(module, KERNEL_PACKAGE)
    own = module.split(".")[2] if _within(module, MODULES_PACKAGE) and module != MODULES_PACKAGE else None
    for item in resolve_imports(tree, module, is_package, is_module):
        at = f"{where}:{item.line}"
        # The container package itself may be imported to discover modules by name (ioc.core.migrate does).
        if in_kernel and item.target != MODULES_PACKAGE and any(_within(item.target, o) for o in OUTSIDE_KERNEL):
            violations.append(Violation(KERNEL_IMPORTS_OUTSIDE, at, f"the kernel imports {item.target}"))
        if own is None:
            continue
        own_package = f"{MODULES_PACKAGE}.{own}"
        if item.relative and not _within(item.target, own_package):
            violations.append(
                Violation(RELATIVE_OUTSIDE_MODULE, at, f"relative import of {item.target}; import it absolutely")
            )
            continue
        if not item.relative and _within(item.target, own_package):
            violations.append(
                Violation(ABSOLUTE_SELF_IMPORT, at, f"absolute import of its own {item.target}; import it relatively")
            )
        if any(_within(item.target, root) for root in COMPOSITION_ROOT):
            violations.append(Violation(IMPORTS_COMPOSITION_ROOT, at, f"a module imports {item.target}"))
        parts = item.target.split(".")
        if _within(item.target, MODULES_PACKAGE) and len(parts) > 2 and parts[2] != own:
            other = parts[2]
            if other not in depends_on.get(own, ()):
                violations.append(
                    Violation(UNDECLARED_DEPENDENCY, at, f"imports module {other!r}, not in depends_on of {own!r}")
                )
            if len(parts) > 3:
                violations.append(
                    Violation(PAST_PACKAGE_ROOT, at, f"imports {item.target}; import from {MODULES_PACKAGE}.{other}")
                )
    return violations


def _literal_depends_on(manifest_source: str) -> tuple[str, ...] | None:
    """Read `depends_on=(...)` from a manifest's `Manifest(...)` call; None if it is not a literal."""
    for node in ast.walk(ast.parse(manifest_source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if not (isinstance(func, ast.Name) and func.id == "Manifest") and not (
            isinstance(func, ast.Attribute) and func.attr == "Manifest"
        ):
            continue
        for keyword in node.keywords:
            if keyword.arg != "depends_on":
                continue
            try:
                value = ast.literal_eval(keyword.value)
            except ValueError:
                return None
            return tuple(value)
        return ()
    return None


def module_names() -> list[str]:
    """Return the folders of src/ioc/modules that hold a module."""
    return sorted(p.name for p in MODULES_DIR.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def declared_dependencies() -> dict[str, tuple[str, ...]]:
    """Return each module's `depends_on`, parsed from its manifest (imported when not a literal)."""
    result: dict[str, tuple[str, ...]] = {}
    for name in module_names():
        path = MODULES_DIR / name / "manifest.py"
        if not path.is_file():
            result[name] = ()
            continue
        literal = _literal_depends_on(path.read_text(encoding="utf-8"))
        if literal is None:
            literal = tuple(importlib.import_module(f"{MODULES_PACKAGE}.{name}.manifest").manifest.depends_on)
        result[name] = literal
    return result


def _dotted(path: Path) -> tuple[str, bool]:
    relative = path.relative_to(SRC).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def check_tree() -> list[Violation]:
    """Check every Python file of src/ioc."""
    depends_on = declared_dependencies()
    violations: list[Violation] = []
    for path in sorted((SRC / "ioc").rglob("*.py")):
        module, is_package = _dotted(path)
        violations += check_source(
            path.read_text(encoding="utf-8"),
            module,
            is_package=is_package,
            depends_on=depends_on,
            where=str(path.relative_to(PROJECT_ROOT)),
        )
    return violations


@pytest.fixture(scope="module")
def violations() -> list[Violation]:
    """Every violation in the source tree, computed once."""
    return check_tree()


def _report(violations: list[Violation], *rules: str) -> list[str]:
    return [str(v) for v in violations if v.rule in rules]


def test_the_tree_is_scanned() -> None:
    files = list((SRC / "ioc" / "core").glob("*.py"))
    assert len(files) > 10
    assert is_source_module("ioc.core.module")
    assert not is_source_module("ioc.core.no_such_thing")


def test_kernel_imports_no_module(violations: list[Violation]) -> None:
    assert _report(violations, KERNEL_IMPORTS_OUTSIDE) == []


def test_modules_import_only_declared_dependencies(violations: list[Violation]) -> None:
    assert _report(violations, UNDECLARED_DEPENDENCY) == []


def test_modules_import_other_modules_from_their_package_root(violations: list[Violation]) -> None:
    assert _report(violations, PAST_PACKAGE_ROOT) == []


def test_modules_import_themselves_relatively(violations: list[Violation]) -> None:
    assert _report(violations, ABSOLUTE_SELF_IMPORT, RELATIVE_OUTSIDE_MODULE) == []


def test_modules_do_not_import_the_composition_root(violations: list[Violation]) -> None:
    assert _report(violations, IMPORTS_COMPOSITION_ROOT) == []


def test_every_module_has_its_anatomy_and_doc_page() -> None:
    missing = [
        f"src/ioc/modules/{name}/{required}"
        for name in module_names()
        for required in REQUIRED_MODULE_FILES
        if not (MODULES_DIR / name / required).is_file()
    ]
    missing += [f"docs/modules/{name}.md" for name in module_names() if not (DOCS / "modules" / f"{name}.md").is_file()]
    assert missing == []


class TestCheckerCatchesViolations:
    """The checker itself, on synthetic sources: a rule that never fires would pass silently."""

    DEPENDS = {"incident": ("identity",), "identity": ()}  # noqa: RUF012 - read-only test data

    @staticmethod
    def _is_module(dotted: str) -> bool:
        return dotted in {
            "ioc.app",
            "ioc.modules.identity",
            "ioc.modules.identity.service",
            "ioc.modules.org_unit",
            "ioc.modules.incident",
            "ioc.modules.incident.service",
            "ioc.modules.incident.schemas",
        }

    def _rules(self, source: str, module: str, *, is_package: bool = False) -> list[str]:
        found = check_source(source, module, is_package=is_package, depends_on=self.DEPENDS, is_module=self._is_module)
        return [v.rule for v in found]

    def test_kernel_importing_a_module_or_the_app(self) -> None:
        assert self._rules("from ioc.modules import identity\n", "ioc.core.jobs") == [KERNEL_IMPORTS_OUTSIDE]
        assert self._rules("import ioc.modules\n", "ioc.core.migrate") == []
        assert self._rules("import ioc.modules.identity.service\n", "ioc.core.jobs") == [KERNEL_IMPORTS_OUTSIDE]
        assert self._rules("from ..web.shell import render\n", "ioc.core.jobs") == [KERNEL_IMPORTS_OUTSIDE]
        assert self._rules("from .. import app\n", "ioc.core.jobs") == [KERNEL_IMPORTS_OUTSIDE]
        inside_type_checking = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ioc.cli import main\n"
        assert self._rules(inside_type_checking, "ioc.core.jobs") == [KERNEL_IMPORTS_OUTSIDE]
        assert self._rules("from .events import DomainEvent\n", "ioc.core.jobs") == []

    def test_undeclared_dependency(self) -> None:
        assert self._rules("from ioc.modules.org_unit import find_unit\n", "ioc.modules.incident.service") == [
            UNDECLARED_DEPENDENCY
        ]
        assert self._rules("from ioc.modules import org_unit\n", "ioc.modules.incident.service") == [
            UNDECLARED_DEPENDENCY
        ]
        assert self._rules("from ioc.modules.identity import UserRead\n", "ioc.modules.incident.service") == []

    def test_reaching_past_the_package_root(self) -> None:
        assert self._rules("from ioc.modules.identity.service import x\n", "ioc.modules.incident.router") == [
            PAST_PACKAGE_ROOT
        ]
        assert self._rules("from ioc.modules.identity import service\n", "ioc.modules.incident.router") == [
            PAST_PACKAGE_ROOT
        ]
        assert self._rules("import ioc.modules.identity.service\n", "ioc.modules.incident.router") == [
            PAST_PACKAGE_ROOT
        ]

    def test_absolute_import_of_itself(self) -> None:
        assert self._rules("from ioc.modules.incident.schemas import X\n", "ioc.modules.incident.router") == [
            ABSOLUTE_SELF_IMPORT
        ]
        assert self._rules("from ioc.modules.incident import service\n", "ioc.modules.incident.router") == [
            ABSOLUTE_SELF_IMPORT,
            ABSOLUTE_SELF_IMPORT,
        ]
        assert self._rules("from .schemas import X\nfrom . import service\n", "ioc.modules.incident.router") == []
        assert self._rules("from .service import x\n", "ioc.modules.incident", is_package=True) == []

    def test_relative_import_leaving_the_module(self) -> None:
        assert self._rules("from ..identity import UserRead\n", "ioc.modules.incident.router") == [
            RELATIVE_OUTSIDE_MODULE
        ]
        assert self._rules("from ...core.errors import NotFound\n", "ioc.modules.incident.router") == [
            RELATIVE_OUTSIDE_MODULE
        ]

    def test_module_importing_the_composition_root(self) -> None:
        assert self._rules("from ioc.app import create_app\n", "ioc.modules.incident.tasks") == [
            IMPORTS_COMPOSITION_ROOT
        ]

    def test_depends_on_is_read_from_the_manifest(self) -> None:
        manifest = 'manifest = Manifest(name="incident", tier=3, depends_on=("identity", "org_unit"))\n'
        assert _literal_depends_on(manifest) == ("identity", "org_unit")
        assert _literal_depends_on('manifest = Manifest(name="identity", tier=0)\n') == ()
        assert _literal_depends_on("manifest = Manifest(name='x', tier=1, depends_on=DEPS)\n") is None


def test_every_setting_is_documented_in_the_operations_guide() -> None:
    guide = (DOCS / "operations.md").read_text(encoding="utf-8")
    undocumented = [
        f"{ENV_PREFIX}{field.upper()}"
        for field in Settings.model_fields
        if not re.search(rf"\b{ENV_PREFIX}{field.upper()}\b", guide)
    ]
    assert undocumented == []


def test_every_event_is_documented() -> None:
    for name in module_names():
        importlib.import_module(f"{MODULES_PACKAGE}.{name}")
        if (MODULES_DIR / name / "events.py").is_file():
            importlib.import_module(f"{MODULES_PACKAGE}.{name}.events")
    catalogue = (DOCS / "events.md").read_text(encoding="utf-8")
    # Events declared by test helpers live outside the package and are not part of the product.
    product_events = sorted(name for name, cls in DomainEvent.registry.items() if _within(cls.__module__, "ioc"))
    assert [name for name in product_events if f"`{name}`" not in catalogue] == []
