"""`ioc module new`: create a module with the standard anatomy, its tests and its documentation page.

The files come from `scaffold_templates/` (string.Template, `${name}` placeholders), so that what a new
module starts from can be read and changed as ordinary files.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
import unicodedata
from pathlib import Path
from string import Template

TEMPLATES_DIR = Path(__file__).resolve().parent / "scaffold_templates"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
# Table and index names start with the module name and PostgreSQL cuts identifiers at 63 characters.
MAX_NAME_LENGTH = 30
MAX_TITLE_LENGTH = 80
# Titles are written as Python literals on one line; with escapes they must still fit ruff's 120 columns.
MAX_TITLE_LITERAL_LENGTH = 100
# Names the kernel, the shell or the URL space already use: a module of that name would shadow them.
RESERVED_NAMES = frozenset(
    {
        "admin",
        "api",
        "app",
        "cli",
        "core",
        "docs",
        "healthz",
        "lang",
        "login",
        "logout",
        "metrics",
        "migrations",
        "modules",
        "openapi",
        "readyz",
        "shell",
        "static",
        "web",
    }
)

# Template (under TEMPLATES_DIR) -> target path under the project root; "{name}" is the module name.
MODULE_FILES = (
    "__init__.py",
    "manifest.py",
    "constants.py",
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
    "templates/index.html",
    "locale/vi.json",
    "locale/en.json",
    "README.md",
)
OTHER_FILES = (
    ("tests/conftest.py.tmpl", "tests/modules/{name}/conftest.py"),
    ("tests/test_module.py.tmpl", "tests/modules/{name}/test_{name}.py"),
    ("docs/module.md.tmpl", "docs/modules/{name}.md"),
)


class ScaffoldError(Exception):
    """The module cannot be created as asked; the message says why in Vietnamese and English."""


def _suggestion(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name).strip("_")


def check_name(name: str) -> None:
    """Refuse a module name that is not a short snake_case identifier free for a new module."""
    if not NAME_PATTERN.fullmatch(name):
        hint = _suggestion(name)
        also = f" Gợi ý / try: {hint!r}." if hint and NAME_PATTERN.fullmatch(hint) else ""
        raise ScaffoldError(
            f"Tên module {name!r} không hợp lệ: chỉ dùng chữ thường không dấu, chữ số và dấu gạch dưới, bắt đầu "
            f"bằng chữ cái (ví dụ water_quality). / Invalid module name {name!r}: use lowercase ASCII letters, "
            f"digits and single underscores, starting with a letter (e.g. water_quality).{also}"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise ScaffoldError(
            f"Tên module {name!r} dài quá {MAX_NAME_LENGTH} ký tự. / "
            f"Module name {name!r} is longer than {MAX_NAME_LENGTH} characters."
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ScaffoldError(
            f"{name!r} là từ khoá của Python, không dùng làm tên module được. / "
            f"{name!r} is a Python keyword and cannot name a module."
        )
    if name in sys.stdlib_module_names:
        raise ScaffoldError(
            f"{name!r} trùng tên một thư viện chuẩn của Python; hãy chọn tên khác (ví dụ thêm tiền tố). / "
            f"{name!r} is the name of a Python standard library module; choose another (e.g. add a prefix)."
        )
    if name in RESERVED_NAMES:
        raise ScaffoldError(
            f"{name!r} đã được hệ thống dùng (đường dẫn hoặc gói lõi). / "
            f"{name!r} is already used by the kernel or the shell (a package or a URL path)."
        )


def _title(value: str | None, fallback: str, language: str) -> str:
    title = (value or "").strip() or fallback
    too_long = len(title) > MAX_TITLE_LENGTH or len(python_literal(title)) > MAX_TITLE_LITERAL_LENGTH
    if too_long or any(unicodedata.category(char).startswith("C") for char in title):
        raise ScaffoldError(
            f"Tiêu đề ({language}) phải là một dòng, tối đa {MAX_TITLE_LENGTH} ký tự. / "
            f"The {language} title must be one line of at most {MAX_TITLE_LENGTH} characters."
        )
    return title


def python_literal(text: str) -> str:
    """Write a string literal the way `ruff format` would: double quotes unless single ones escape less."""
    body = json.dumps(text, ensure_ascii=False)[1:-1]  # JSON escapes are valid Python escapes
    if text.count('"') > text.count("'"):
        return "'" + body.replace('\\"', '"').replace("'", "\\'") + "'"
    return '"' + body + '"'


def _class_name(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _plan(root: Path, name: str) -> list[tuple[Path, Path]]:
    modules_dir = root / "src" / "ioc" / "modules"
    if not modules_dir.is_dir():
        raise ScaffoldError(
            f"Không thấy thư mục src/ioc/modules trong {root}; hãy chạy lệnh ở thư mục gốc của dự án hoặc dùng "
            f"--root. / No src/ioc/modules under {root}: run from the project root or pass --root."
        )
    if (modules_dir / name).exists():
        raise ScaffoldError(f"Module {name!r} đã tồn tại. / Module {name!r} already exists.")
    plan = [(TEMPLATES_DIR / "module" / f"{path}.tmpl", modules_dir / name / path) for path in MODULE_FILES]
    plan += [(TEMPLATES_DIR / source, root / target.format(name=name)) for source, target in OTHER_FILES]
    existing = [str(target.relative_to(root)) for _source, target in plan if target.exists()]
    if existing:
        raise ScaffoldError(
            f"Các tệp sau đã có, không ghi đè: {', '.join(existing)}. / "
            f"These files already exist and are not overwritten: {', '.join(existing)}."
        )
    return plan


def create_module(root: Path, name: str, *, title_vi: str | None, title_en: str | None) -> list[Path]:
    """Create the module `name` under `root` (package, tests, doc page) and return the files written."""
    check_name(name)
    fallback = name.replace("_", " ").capitalize()
    vi = _title(title_vi, fallback, "vi")
    en = _title(title_en, fallback, "en")
    plan = _plan(root, name)
    values = {
        "name": name,
        "class_name": _class_name(name),
        "title_vi": vi,
        "title_en": en,
        "title_vi_literal": python_literal(vi),
        "title_en_literal": python_literal(en),
        "title_vi_json": json.dumps(vi, ensure_ascii=False),
        "title_en_json": json.dumps(en, ensure_ascii=False),
    }
    texts = [(target, Template(source.read_text(encoding="utf-8")).substitute(values)) for source, target in plan]
    written: list[Path] = []
    new_dirs: list[Path] = []
    try:
        for target, text in texts:
            missing = [p for p in (target.parent, *target.parent.parents) if not p.exists()]
            target.parent.mkdir(parents=True, exist_ok=True)
            new_dirs.extend(reversed(missing))
            target.write_text(text, encoding="utf-8")
            written.append(target)
    except OSError as exc:
        # Leave nothing half-made behind: a second attempt must not find "already exists".
        for path in written:
            path.unlink(missing_ok=True)
        for folder in reversed(new_dirs):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise ScaffoldError(f"Không ghi được tệp / cannot write files: {exc}") from exc
    return written
