"""Errors of the `environment` module: every rejected input says which rule it broke, in Vietnamese and English."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ioc.core.errors import ValidationFailed


@dataclass(frozen=True)
class Problem:
    """One reason an input cannot be used: where it is, the rule it breaks, and why in both languages."""

    field: str
    rule: str
    message_vi: str
    message_en: str

    def as_dict(self) -> dict[str, Any]:
        """Return the problem as it appears in a 422 answer."""
        return {"field": self.field, "rule": self.rule, "message_vi": self.message_vi, "message_en": self.message_en}


def _summary(problems: Sequence[Problem]) -> tuple[str, str]:
    first = problems[0]
    if len(problems) == 1:
        return first.message_vi, first.message_en
    others = len(problems) - 1
    return (
        f"{first.message_vi.rstrip('.')} (và {others} lỗi khác, xem chi tiết).",
        f"{first.message_en.rstrip('.')} (and {others} more; see the detail).",
    )


class CalculationRejected(ValidationFailed):
    """The inputs of a calculation are unknown, in the wrong unit or period, or out of range."""

    code = "environment_invalid_input"

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("a rejection needs at least one problem")
        self.problems = tuple(problems)
        message_vi, message_en = _summary(problems)
        super().__init__(message_vi, message_en, problems=[p.as_dict() for p in problems])


class InsufficientData(CalculationRejected):
    """The inputs are valid but too few for the standard's minimum-data rules."""

    code = "environment_insufficient_data"
