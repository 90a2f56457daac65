"""Reactions of the incident module to other modules' events."""

from __future__ import annotations

from ioc.core.events import HandlerContext
from ioc.modules.alarm import AlarmCleared

from . import service


async def on_alarm_cleared(ctx: HandlerContext, event: AlarmCleared) -> None:
    """Note in the command log of the incidents linked to an alarm that the alarm has cleared."""
    await service.note_alarm_cleared(ctx.session, event.alarm_id, event.title, event.occurred_at)
