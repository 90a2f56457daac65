"""Text folding for accent-insensitive search of Vietnamese names."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Return lower-case text without diacritics ("Xã Hưng Điền" → "xa hung dien")."""
    # đ/Đ is a letter of its own, not d plus a mark, so NFD does not strip it.
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", bare).strip().lower()


def fold_header(text: str) -> str:
    """Return a CSV header as a snake_case key without diacritics ("Mã cấp trên" → "ma_cap_tren")."""
    return re.sub(r"[^a-z0-9]+", "_", fold(text)).strip("_")
