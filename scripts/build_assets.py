"""Copy the pinned front-end libraries from node_modules into the shell's static/vendor folder.

Usage:
    python scripts/build_assets.py          install (npm ci) when needed, then copy
    python scripts/build_assets.py --check  exit 1 if static/vendor is missing or out of date (no network)

The versions come from package-lock.json; static/vendor is a build output and is not committed.
Running the script twice changes nothing the second time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKFILE = ROOT / "package-lock.json"
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "src" / "ioc" / "web" / "static" / "vendor"
STAMP = VENDOR / "versions.json"


@dataclass(frozen=True)
class Asset:
    """One file to copy: from node_modules/<package>/<source> to vendor/<target>."""

    package: str
    source: str
    target: str


ASSETS: tuple[Asset, ...] = (
    Asset("leaflet", "dist/leaflet-src.esm.js", "leaflet/leaflet-src.esm.js"),
    Asset("leaflet", "dist/leaflet.css", "leaflet/leaflet.css"),
    Asset("leaflet", "dist/images/layers.png", "leaflet/images/layers.png"),
    Asset("leaflet", "dist/images/layers-2x.png", "leaflet/images/layers-2x.png"),
    Asset("leaflet", "dist/images/marker-icon.png", "leaflet/images/marker-icon.png"),
    Asset("leaflet", "dist/images/marker-icon-2x.png", "leaflet/images/marker-icon-2x.png"),
    Asset("leaflet", "dist/images/marker-shadow.png", "leaflet/images/marker-shadow.png"),
    Asset("leaflet", "LICENSE", "leaflet/LICENSE"),
    Asset("htmx.org", "dist/htmx.min.js", "htmx/htmx.min.js"),
    Asset("htmx.org", "LICENSE", "htmx/LICENSE"),
    Asset("swagger-ui-dist", "swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js"),
    Asset("swagger-ui-dist", "swagger-ui.css", "swagger-ui/swagger-ui.css"),
    Asset("swagger-ui-dist", "LICENSE", "swagger-ui/LICENSE"),
    Asset("swagger-ui-dist", "NOTICE", "swagger-ui/NOTICE"),
    Asset("uplot", "dist/uPlot.esm.js", "uplot/uPlot.esm.js"),
    Asset("uplot", "dist/uPlot.min.css", "uplot/uPlot.min.css"),
    Asset("uplot", "LICENSE", "uplot/LICENSE"),
    # Fonts with Vietnamese glyphs for the PDF reports (documents are made on the server, offline).
    Asset("dejavu-fonts-ttf", "ttf/DejaVuSans.ttf", "fonts/DejaVuSans.ttf"),
    Asset("dejavu-fonts-ttf", "ttf/DejaVuSans-Bold.ttf", "fonts/DejaVuSans-Bold.ttf"),
    Asset("dejavu-fonts-ttf", "LICENSE", "fonts/LICENSE"),
)


class BuildError(Exception):
    """The assets cannot be built as asked."""


def locked_versions() -> dict[str, str]:
    """Return the version of every package pinned in package-lock.json."""
    lock = json.loads(LOCKFILE.read_text(encoding="utf-8"))
    prefix = "node_modules/"
    return {
        path[len(prefix) :]: entry["version"]
        for path, entry in lock.get("packages", {}).items()
        if path.startswith(prefix) and "version" in entry
    }


def installed_version(package: str) -> str | None:
    """Return the version of a package in node_modules, or None when it is not installed."""
    manifest = NODE_MODULES / package / "package.json"
    if not manifest.is_file():
        return None
    version: str = json.loads(manifest.read_text(encoding="utf-8")).get("version", "")
    return version


def node_modules_stale() -> bool:
    """Tell whether node_modules is missing a locked package or holds another version of one."""
    return any(installed_version(name) != version for name, version in locked_versions().items())


def npm_ci() -> None:
    """Install exactly what the lockfile pins; install scripts stay off (no telemetry, no downloads)."""
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError("npm không có trên máy / npm is not installed; install Node.js 20 or newer")
    command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"]
    print("$ " + " ".join(command[1:]), flush=True)
    result = subprocess.run(command, cwd=ROOT, check=False)  # noqa: S603 - fixed arguments, npm from PATH
    if result.returncode != 0:
        raise BuildError(f"npm ci thất bại / npm ci failed (exit {result.returncode})")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def expected_stamp() -> dict[str, str]:
    """Return the package versions the vendor folder must have been built from."""
    versions = locked_versions()
    return {package: versions[package] for package in sorted({asset.package for asset in ASSETS})}


def vendor_up_to_date() -> bool:
    """Tell whether static/vendor holds every asset, built from the locked versions."""
    if not STAMP.is_file():
        return False
    stamp = json.loads(STAMP.read_text(encoding="utf-8"))
    return stamp == expected_stamp() and all((VENDOR / asset.target).is_file() for asset in ASSETS)


def copy_assets() -> int:
    """Copy changed assets into static/vendor, remove files no longer listed; return how many changed."""
    changed = 0
    wanted = {VENDOR / asset.target for asset in ASSETS} | {STAMP}
    for asset in ASSETS:
        source = NODE_MODULES / asset.package / asset.source
        if not source.is_file():
            raise BuildError(f"thiếu tệp / missing file {source.relative_to(ROOT)}")
        target = VENDOR / asset.target
        if target.is_file() and _digest(target) == _digest(source):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        changed += 1
    if VENDOR.is_dir():
        for path in sorted(VENDOR.rglob("*"), reverse=True):
            if path.is_file() and path not in wanted:
                path.unlink()
                changed += 1
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    stamp = json.dumps(expected_stamp(), indent=2, sort_keys=True) + "\n"
    if not STAMP.is_file() or STAMP.read_text(encoding="utf-8") != stamp:
        STAMP.write_text(stamp, encoding="utf-8")
        changed += 1
    return changed


def build() -> int:
    """Install the locked packages when needed and refresh static/vendor; return how many files changed."""
    if node_modules_stale():
        npm_ci()
        if node_modules_stale():
            raise BuildError("node_modules vẫn khác package-lock.json / node_modules still differs from the lockfile")
    return copy_assets()


def main(argv: list[str] | None = None) -> int:
    """Run the build or the check from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that static/vendor is up to date")
    args = parser.parse_args(argv)
    try:
        if args.check:
            if vendor_up_to_date():
                print("static/vendor: up to date")
                return 0
            print("static/vendor: missing or stale; run `python scripts/build_assets.py`", file=sys.stderr)
            return 1
        changed = build()
    except BuildError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"static/vendor: {changed} file(s) updated" if changed else "static/vendor: up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
