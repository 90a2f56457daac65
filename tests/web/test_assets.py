"""Static assets: every reference resolves, the vendor build is pinned and idempotent."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.engine_free  # no database: run once, in the SQLite pass

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "ioc" / "web"
STATIC = WEB / "static"


def load_build_script() -> ModuleType:
    """Import scripts/build_assets.py as a module."""
    spec = importlib.util.spec_from_file_location("build_assets", ROOT / "scripts" / "build_assets.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


build_assets = load_build_script()
VENDOR_TARGETS = {f"/static/vendor/{asset.target}" for asset in build_assets.ASSETS}


def static_references() -> dict[str, set[str]]:
    """Return every /static/... URL used by the shell's templates, scripts and styles, by file."""
    found: dict[str, set[str]] = {}
    files = [*WEB.glob("templates/**/*.html"), *STATIC.glob("js/*.js"), *STATIC.glob("css/*.css")]
    for path in files:
        text = path.read_text(encoding="utf-8")
        urls = set(re.findall(r"/static/[\w./-]+\w", text))
        if path.suffix == ".js":
            # Relative module imports and URLs resolved against the script's own location.
            for relative in re.findall(r"""(?:from\s+|import\(\s*|new URL\(\s*)["'](\.\.?/[^"']+)["']""", text):
                urls.add("/" + (path.parent / relative).resolve().relative_to(WEB).as_posix())
        if urls:
            found[str(path.relative_to(ROOT))] = urls
    return found


def test_every_static_reference_resolves() -> None:
    missing = {
        source: sorted(
            url for url in urls if url not in VENDOR_TARGETS and not (WEB / url.lstrip("/").split("#")[0]).is_file()
        )
        for source, urls in static_references().items()
    }
    assert {source: urls for source, urls in missing.items() if urls} == {}


def test_shell_uses_the_vendored_libraries() -> None:
    used = set().union(*static_references().values())
    for needed in (
        "/static/vendor/htmx/htmx.min.js",
        "/static/vendor/leaflet/leaflet-src.esm.js",
        "/static/vendor/leaflet/leaflet.css",
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui/swagger-ui.css",
    ):
        assert needed in used


def test_front_end_packages_are_pinned_exactly_without_registry_addresses() -> None:
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    lock_text = (ROOT / "package-lock.json").read_text(encoding="utf-8")
    locked = build_assets.locked_versions()
    for name, version in package["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} must be pinned to one version"
        assert locked[name] == version
    assert '"resolved"' not in lock_text
    assert all('"integrity"' in lock_text for _ in locked)


@pytest.fixture
def fake_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with a lockfile and an installed node_modules holding every asset the build copies."""
    packages = {asset.package for asset in build_assets.ASSETS}
    lock = {"packages": {"": {}, **{f"node_modules/{name}": {"version": "1.0.0"} for name in packages}}}
    (tmp_path / "package-lock.json").write_text(json.dumps(lock), encoding="utf-8")
    for name in packages:
        folder = tmp_path / "node_modules" / name
        folder.mkdir(parents=True)
        (folder / "package.json").write_text(json.dumps({"version": "1.0.0"}), encoding="utf-8")
    for asset in build_assets.ASSETS:
        source = tmp_path / "node_modules" / asset.package / asset.source
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(f"{asset.package}:{asset.source}", encoding="utf-8")
    vendor = tmp_path / "vendor"
    monkeypatch.setattr(build_assets, "ROOT", tmp_path)
    monkeypatch.setattr(build_assets, "LOCKFILE", tmp_path / "package-lock.json")
    monkeypatch.setattr(build_assets, "NODE_MODULES", tmp_path / "node_modules")
    monkeypatch.setattr(build_assets, "VENDOR", vendor)
    monkeypatch.setattr(build_assets, "STAMP", vendor / "versions.json")
    return tmp_path


def test_vendor_build_is_idempotent_and_removes_stale_files(fake_project: Path) -> None:
    assert not build_assets.node_modules_stale()
    assert build_assets.build() == len(build_assets.ASSETS) + 1  # every asset and the version stamp
    assert build_assets.vendor_up_to_date()
    assert build_assets.build() == 0

    stray = fake_project / "vendor" / "old-lib" / "old.js"
    stray.parent.mkdir()
    stray.write_text("old", encoding="utf-8")
    assert build_assets.build() == 1
    assert not stray.exists()
    assert not stray.parent.exists()


def test_vendor_is_stale_when_the_lockfile_moves_on(fake_project: Path) -> None:
    build_assets.build()
    lock_path = fake_project / "package-lock.json"
    lock = json.loads(lock_path.read_text(encoding="utf-8"))
    lock["packages"]["node_modules/leaflet"]["version"] = "2.0.0"
    lock_path.write_text(json.dumps(lock), encoding="utf-8")
    assert build_assets.node_modules_stale()
    assert not build_assets.vendor_up_to_date()
    assert build_assets.main(["--check"]) == 1
