"""Jinja2 environment shared by the shell and every module's templates."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape

from .i18n import request_language
from .time import to_local

if TYPE_CHECKING:
    from .runtime import Runtime


def format_local(value: Any, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """Show a UTC time in the province's time zone, Vietnamese style (dd/mm/yyyy)."""
    return to_local(value).strftime(fmt) if value else ""


def format_number(value: float | int | None, lang: str = "vi", digits: int = 0) -> str:
    """Format a number with Vietnamese separators (1.234,5) or English ones (1,234.5)."""
    if value is None:
        return ""
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".") if lang == "vi" else text


def build_environment(shell_templates: Path, module_templates: dict[str, Path]) -> Environment:
    """Create the environment: shell templates by name, module templates under `<module>/`."""
    loader = ChoiceLoader(
        [
            FileSystemLoader(str(shell_templates)),
            PrefixLoader({name: FileSystemLoader(str(path)) for name, path in module_templates.items()}),
        ]
    )
    env = Environment(loader=loader, autoescape=select_autoescape(["html", "xml"]), enable_async=False)
    env.filters["local"] = format_local
    env.filters["number"] = format_number
    return env


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render a page with the shell's common context (language, user, navigation, CSRF token)."""
    runtime: Runtime = request.app.state.runtime
    lang = request_language(request, runtime.settings.default_language)
    principal = getattr(request.state, "principal", None)
    base: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "t": lambda key, **params: runtime.translator(key, lang, **params),
        "user": principal,
        "nav": runtime.navigation(principal, lang),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "settings": runtime.settings,
        "modules": runtime.modules,
    }
    base.update(context or {})
    html = runtime.templates.get_template(template).render(base)
    return HTMLResponse(html, status_code=status_code)
