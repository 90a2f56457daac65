"""Translations: Vietnamese first, English second; catalogs are JSON files per module."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import Request

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LANG_COOKIE = "ioc_lang"
CORE_LOCALE_DIR = Path(__file__).parent / "locale"


class Translator:
    """Looks up message keys in merged catalogs, falling back to Vietnamese, then to the key."""

    def __init__(self) -> None:
        self.catalogs: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}

    def load_dir(self, folder: Path) -> None:
        """Merge `vi.json` and `en.json` from a folder; a key defined twice is an error."""
        for lang in LANGUAGES:
            path = folder / f"{lang}.json"
            if not path.exists():
                continue
            entries: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
            clash = set(entries) & set(self.catalogs[lang])
            if clash:
                raise ValueError(f"translation keys defined twice ({path}): {sorted(clash)[:5]}")
            self.catalogs[lang].update(entries)

    def __call__(self, key: str, lang: str = DEFAULT_LANGUAGE, **params: object) -> str:
        """Translate a key and fill in `{name}` placeholders."""
        text = self.catalogs.get(lang, {}).get(key) or self.catalogs[DEFAULT_LANGUAGE].get(key) or key
        return text.format(**params) if params else text


def request_language(request: Request, default: str = DEFAULT_LANGUAGE) -> str:
    """Pick the language: ?lang=, then the cookie, then Accept-Language, then the default."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    accept = request.headers.get("accept-language", "")
    for part in accept.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return default
