"""Template rendering in a Jinja2 sandbox: `{{ name }}` placeholders, nothing reaches Python internals."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, UndefinedError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from .exceptions import TemplateInvalid

# StrictUndefined: a missing parameter is an error, never an empty string in a message to a citizen.
_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
_TEMPLATE_CACHE_SIZE = 256


def _is_private(name: object) -> bool:
    return isinstance(name, str) and name.startswith("_")


def check_template(source: str) -> None:
    """Refuse a template that does not compile or reaches for underscore attributes."""
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateInvalid(
            f"Mẫu tin sai cú pháp (dòng {exc.lineno}): {exc.message}",
            f"Template syntax error (line {exc.lineno}): {exc.message}",
        ) from exc
    names: list[object] = [node.attr for node in tree.find_all(nodes.Getattr)]
    names += [getattr(node.arg, "value", None) for node in tree.find_all(nodes.Getitem)]
    # `x|attr("__class__")` is the filter spelling of the same trick.
    names += [
        getattr(node.args[0], "value", None)
        for node in tree.find_all(nodes.Filter)
        if node.name == "attr" and node.args
    ]
    for name in names:
        if _is_private(name):
            raise TemplateInvalid(
                f"Mẫu tin không được truy cập thuộc tính nội bộ ({name}).",
                f"Templates may not access internal attributes ({name}).",
            )


@lru_cache(maxsize=_TEMPLATE_CACHE_SIZE)
def _compile(source: str) -> Template:
    return _ENV.from_string(source)


def render_text(source: str, params: dict[str, Any]) -> str:
    """Render a template with parameters; any problem becomes TemplateInvalid with the reason."""
    try:
        return _compile(source).render(params)
    except SecurityError as exc:
        raise _unsafe(exc) from exc
    except UndefinedError as exc:
        raise TemplateInvalid(
            f"Thiếu tham số cho mẫu tin: {exc.message}", f"Missing template parameter: {exc.message}"
        ) from exc
    except TemplateSyntaxError as exc:
        raise TemplateInvalid(
            f"Mẫu tin sai cú pháp (dòng {exc.lineno}): {exc.message}",
            f"Template syntax error (line {exc.lineno}): {exc.message}",
        ) from exc
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateInvalid(
            f"Không hiển thị được mẫu tin: {type(exc).__name__}: {exc}",
            f"Cannot render the template: {type(exc).__name__}: {exc}",
        ) from exc


def _unsafe(exc: Exception) -> TemplateInvalid:
    return TemplateInvalid(
        f"Mẫu tin bị hộp cát từ chối (truy cập không an toàn): {exc}",
        f"The template sandbox refused an unsafe access: {exc}",
    )
