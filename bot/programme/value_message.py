"""The value of the day as a message to everyone in an audience, through the outbox."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from bot.core.deps import Deps
from bot.core.render import Renderer
from bot.delivery.broadcasts import allow_paid
from bot.programme.daily import DailyValue, daily_value
from db.queries import outbox

log = logging.getLogger(__name__)

DAILY_KIND = "nilai"


def daily_text(renderer: Renderer, lang: str, today: DailyValue) -> str:
    return renderer.text(
        "value_of_the_day",
        lang,
        value=today.value,
        guideline=today.guideline,
        prompt=today.prompt,
        reply_hint=True,
    )


async def send_daily(
    deps: Deps, audience: dict[str, Any], *, day: date, created_by: int | None = None
) -> tuple[int | None, int]:
    """The value message for `day` to everyone in the audience; (broadcast id, recipients).
    No recipients, no broadcast: nothing is stored for a send that reaches nobody."""
    recipients = await deps.db.run(outbox.audience_members, audience=audience)
    if not recipients:
        return None, 0
    today = daily_value(deps.content, deps.calendar, day)
    texts = {lang: daily_text(deps.renderer, lang, today) for lang in ("id", "en")}
    content = {
        "day": today.day.isoformat(),
        "value": today.value.code,
        "guideline": today.guideline.code,
        "prompt_id": today.prompt.id if today.prompt else "",
    }
    info = await deps.db.run(
        outbox.create_broadcast,
        kind=DAILY_KIND,
        created_by=created_by,
        audience=audience,
        content=content,
        paid=deps.settings.paid_broadcast,
    )
    rows = [
        (
            r.member_id,
            r.chat_id,
            {
                "messages": allow_paid(
                    [
                        {
                            "method": "sendMessage",
                            "params": {
                                "text": texts.get(r.language, texts["id"]),
                                "parse_mode": "HTML",
                            },
                        }
                    ],
                    on=deps.settings.paid_broadcast,
                )
            },
        )
        for r in recipients
    ]
    count = await deps.db.run(outbox.enqueue, broadcast_id=info.id, rows=rows)
    if deps.sender is not None:
        deps.sender.wake()
    log.info("daily value %s for %s: %d queued", today.value.code, day, count)
    return info.id, count
