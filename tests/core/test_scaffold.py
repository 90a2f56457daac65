"""`ioc module new`: a new module starts with the full anatomy, works once enabled, and passes the gates."""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from tests.test_architecture import check_source

import ioc.modules
from ioc.app import create_app
from ioc.cli import main
from ioc.core.scaffold import ScaffoldError, create_module, python_literal
from ioc.core.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MODULES_DIR = Path(ioc.modules.__path__[0])
TITLE_VI = 'Quan trắc "thử" nước'
TITLE_EN = "Water test"
ANATOMY = (
    "__init__.py",
    "manifest.py",
    "models.py",
    "schemas.py",
    "repository.py",
    "service.py",
    "router.py",
    "deps.py",
    "events.py",
    "handlers.py",
    "tasks.py",
    "exceptions.py",
    "constants.py",
    "templates/index.html",
    "locale/vi.json",
    "locale/en.json",
    "README.md",
)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False, timeout=600
    )


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Generate a module into the real package folder (so that it imports), tests and docs into tmp_path."""
    # As long as a name may be, so that every generated line is checked against the line length.
    name = f"scaffoldtest_{uuid.uuid4().hex[:17]}"
    root = tmp_path / "project"
    (root / "src" / "ioc").mkdir(parents=True)
    # The package must be importable as ioc.modules.<name>; its tests and doc page stay out of the tree.
    (root / "src" / "ioc" / "modules").symlink_to(MODULES_DIR, target_is_directory=True)
    try:
        create_module(root, name, title_vi=TITLE_VI, title_en=TITLE_EN)
        # The import system caches folder listings; a package created a moment ago must be found.
        importlib.invalidate_caches()
        yield name, root
    finally:
        shutil.rmtree(MODULES_DIR / name, ignore_errors=True)
        for loaded in [m for m in sys.modules if m == f"ioc.modules.{name}" or m.startswith(f"ioc.modules.{name}.")]:
            del sys.modules[loaded]


def test_the_module_has_the_standard_anatomy(generated: tuple[str, Path]) -> None:
    name, root = generated
    package = MODULES_DIR / name
    for path in ANATOMY:
        assert (package / path).is_file(), path
    assert (root / "tests" / "modules" / name / f"test_{name}.py").is_file()
    assert (root / "docs" / "modules" / f"{name}.md").is_file()
    assert "ioc db revision -m" in (package / "models.py").read_text(encoding="utf-8")
    assert '{% extends "base.html" %}' in (package / "templates" / "index.html").read_text(encoding="utf-8")


async def test_enabled_module_shows_its_page_endpoint_and_navigation(
    generated: tuple[str, Path], settings: Settings
) -> None:
    name, _root = generated
    app = create_app(settings.model_copy(update={"modules": [*settings.modules, name]}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http,
    ):
        home = await http.get("/")
        assert home.status_code == 200
        assert f'href="/{name}"' in home.text
        assert "Quan trắc &#34;thử&#34; nước" in home.text
        page = await http.get(f"/{name}")
        assert page.status_code == 200
        assert "<h1>Quan trắc &#34;thử&#34; nước</h1>" in page.text
        english = await http.get(f"/{name}", params={"lang": "en"})
        assert "<h1>Water test</h1>" in english.text
        status = await http.get(f"/api/v1/{name}/status")
        assert status.status_code == 200
        assert status.json()["database_ok"] is True
        assert status.json()["title_vi"] == TITLE_VI


@pytest.mark.engine_free  # static checks of generated files: the same on every engine
def test_generated_code_follows_the_house_rules(generated: tuple[str, Path]) -> None:
    name, root = generated
    package = MODULES_DIR / name
    for path in sorted(package.rglob("*.py")):
        dotted = ".".join(["ioc", "modules", name, *path.relative_to(package).with_suffix("").parts])
        is_package = path.name == "__init__.py"
        module = dotted.removesuffix(".__init__")
        source = path.read_text(encoding="utf-8")
        assert check_source(source, module, is_package=is_package, depends_on={name: ()}) == [], path.name
    assert (root / "docs" / "modules" / f"{name}.md").is_file()
    assert (package / "README.md").is_file()


@pytest.mark.engine_free  # static checks of generated files: the same on every engine
def test_generated_code_passes_ruff(generated: tuple[str, Path]) -> None:
    name, root = generated
    targets = [str(MODULES_DIR / name), str(root / "tests")]
    config = str(PROJECT_ROOT / "pyproject.toml")
    lint = _run("ruff", "check", "--no-cache", "--config", config, *targets)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatting = _run("ruff", "format", "--check", "--no-cache", "--config", config, *targets)
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr


@pytest.mark.engine_free  # static checks of generated files: the same on every engine
def test_generated_code_passes_mypy_strict(generated: tuple[str, Path]) -> None:
    name, root = generated
    # Imported project code is type-checked by its own gate; only the generated files are judged here.
    result = _run(
        "mypy", "--strict", "--follow-imports=silent", str(MODULES_DIR / name), str(root / "tests" / "modules" / name)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout


def test_generated_tests_pass(generated: tuple[str, Path]) -> None:
    name, root = generated
    result = _run(
        "pytest",
        "-q",
        "-p",
        "tests.conftest",
        "-c",
        str(PROJECT_ROOT / "pyproject.toml"),
        "--rootdir",
        str(PROJECT_ROOT),
        "-p",
        "no:cacheprovider",
        str(root / "tests" / "modules" / name),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "4 passed" in result.stdout


@pytest.mark.parametrize(
    "name",
    [
        "WaterQuality",
        "water-quality",
        "chất_lượng",
        "1st_module",
        "_private",
        "double__underscore",
        "trailing_",
        "",
        "a" * 31,
        "class",
        "match",
        "statistics",
        "json",
        "api",
        "static",
        "core",
    ],
)
def test_bad_names_are_refused_and_nothing_is_written(tmp_path: Path, name: str) -> None:
    (tmp_path / "src" / "ioc" / "modules").mkdir(parents=True)
    with pytest.raises(ScaffoldError) as caught:
        create_module(tmp_path, name, title_vi=None, title_en=None)
    assert " / " in str(caught.value)  # Vietnamese, then English
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_invalid_name_suggests_a_valid_one(tmp_path: Path) -> None:
    (tmp_path / "src" / "ioc" / "modules").mkdir(parents=True)
    with pytest.raises(ScaffoldError, match="'chat_luong_nuoc'"):
        create_module(tmp_path, "Chất lượng nước", title_vi=None, title_en=None)


def test_existing_module_is_refused() -> None:
    existing = sorted(p.name for p in MODULES_DIR.iterdir() if (p / "manifest.py").is_file())
    assert existing, "no module in src/ioc/modules to test against"
    with pytest.raises(ScaffoldError, match=r"đã tồn tại\. / Module .* already exists"):
        create_module(PROJECT_ROOT, existing[0], title_vi=None, title_en=None)


def test_existing_tests_or_docs_are_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "src" / "ioc" / "modules").mkdir(parents=True)
    doc = tmp_path / "docs" / "modules" / "water_quality.md"
    doc.parent.mkdir(parents=True)
    doc.write_text("notes kept by hand\n", encoding="utf-8")
    with pytest.raises(ScaffoldError, match=re.escape("docs/modules/water_quality.md")):
        create_module(tmp_path, "water_quality", title_vi=None, title_en=None)
    assert doc.read_text(encoding="utf-8") == "notes kept by hand\n"
    assert not (tmp_path / "src" / "ioc" / "modules" / "water_quality").exists()


def test_root_without_the_package_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="src/ioc/modules"):
        create_module(tmp_path, "water_quality", title_vi=None, title_en=None)


@pytest.mark.parametrize("title", ["Dòng một\nDòng hai", "Quan trắc " * 9, '"' * 40 + "'" * 39])
def test_multiline_or_long_title_is_refused(tmp_path: Path, title: str) -> None:
    (tmp_path / "src" / "ioc" / "modules").mkdir(parents=True)
    with pytest.raises(ScaffoldError, match="one line"):
        create_module(tmp_path, "water_quality", title_vi=title, title_en=None)


@pytest.mark.parametrize("text", ["Nước", 'Sông "Vàm Cỏ"', "it's", "a \\ b", 'both \' and " and "'])
def test_titles_become_valid_python_literals(text: str) -> None:
    assert eval(python_literal(text)) == text  # noqa: S307 - evaluating a literal we generated is the test


def test_command_creates_the_module(tmp_path: Path) -> None:
    (tmp_path / "src" / "ioc" / "modules").mkdir(parents=True)
    result = CliRunner().invoke(
        main,
        ["module", "new", "water_quality", "--root", str(tmp_path), "--title-vi", "Chất lượng nước"],
    )
    assert result.exit_code == 0, result.output
    assert "src/ioc/modules/water_quality/manifest.py" in result.output
    assert "IOC_MODULES" in result.output
    vi = (tmp_path / "src" / "ioc" / "modules" / "water_quality" / "locale" / "vi.json").read_text(encoding="utf-8")
    assert '"water_quality.title": "Chất lượng nước"' in vi
    en = (tmp_path / "src" / "ioc" / "modules" / "water_quality" / "locale" / "en.json").read_text(encoding="utf-8")
    assert '"water_quality.title": "Water quality"' in en


def test_command_explains_a_refused_name(tmp_path: Path) -> None:
    (tmp_path / "src" / "ioc" / "modules").mkdir(parents=True)
    result = CliRunner().invoke(main, ["module", "new", "statistics", "--root", str(tmp_path)])
    assert result.exit_code == 2
    assert "thư viện chuẩn" in result.output
    assert "standard library" in result.output
    assert not (tmp_path / "src" / "ioc" / "modules" / "statistics").exists()
