"""Public warnings: authoring, two-person approval, CAP 1.2 and Atom, citizens' subscriptions and delivery.

Other modules use only what is re-exported here.
"""

from __future__ import annotations

from .constants import Category, Certainty, MsgType, Severity, Urgency, WarningState
from .events import (
    WarningDrafted,
    WarningEvent,
    WarningExpired,
    WarningPublished,
    WarningRejected,
    WarningSubmitted,
)
from .exceptions import WarningNotFound
from .schemas import WarningKpis, WarningPublic
from .service import current_warnings, get_public, kpis

__all__ = [
    "Category",
    "Certainty",
    "MsgType",
    "Severity",
    "Urgency",
    "WarningDrafted",
    "WarningEvent",
    "WarningExpired",
    "WarningKpis",
    "WarningNotFound",
    "WarningPublic",
    "WarningPublished",
    "WarningRejected",
    "WarningState",
    "WarningSubmitted",
    "current_warnings",
    "get_public",
    "kpis",
]
