"""The module loader: declared dependencies, tiers and cycles are checked before anything runs."""

from __future__ import annotations

import pytest

from ioc.core.module import Manifest, ModuleLoadError, load_modules, order_modules

pytestmark = pytest.mark.engine_free  # no database: run once, in the SQLite pass


def _manifest(name: str, tier: int = 1, depends_on: tuple[str, ...] = ()) -> Manifest:
    return Manifest(name=name, tier=tier, title_vi=name, title_en=name, depends_on=depends_on)


def test_modules_come_after_their_dependencies() -> None:
    manifests = {m.name: m for m in (_manifest("c", 2, ("b",)), _manifest("b", 1, ("a",)), _manifest("a", 0))}
    assert [m.name for m in order_modules(manifests)] == ["a", "b", "c"]


def test_unknown_module_is_refused_by_name() -> None:
    with pytest.raises(ModuleLoadError, match="no_such_module"):
        load_modules(["no_such_module"])


def test_dependency_that_is_not_enabled_is_refused() -> None:
    with pytest.raises(ModuleLoadError, match="'b' depends on 'a'"):
        order_modules({"b": _manifest("b", 1, ("a",))})


def test_cyclic_dependencies_are_refused_with_the_cycle() -> None:
    manifests = {"a": _manifest("a", 1, ("b",)), "b": _manifest("b", 1, ("c",)), "c": _manifest("c", 1, ("a",))}
    with pytest.raises(ModuleLoadError, match="cyclic"):
        order_modules(manifests)


def test_dependency_on_a_higher_tier_is_refused() -> None:
    with pytest.raises(ModuleLoadError, match="higher tier"):
        order_modules({"low": _manifest("low", 0, ("high",)), "high": _manifest("high", 3)})


def test_module_enabled_twice_is_refused() -> None:
    with pytest.raises(ModuleLoadError, match="twice"):
        load_modules(["tests.core.samplemod", "tests.core.samplemod"])


def test_third_party_module_loads_by_dotted_path() -> None:
    [manifest] = load_modules(["tests.core.samplemod"])
    assert manifest.name == "samplemod"
