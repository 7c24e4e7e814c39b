"""A member's reflection: any text a registered member sends when nothing else is asked.

A reply to a daily value message is filed under that message's prompt; other text under
today's value (the member's local day)."""

from __future__ import annotations

from telegram import Update

from bot.core.deps import BotContext
from bot.members import accounts
from bot.members.accounts import MemberInfo
from bot.programme import reflections
from bot.programme.daily import daily_value
from handlers.common import send, within_limit

MAX_LENGTH = 1000


async def on_reflection(update: Update, ctx: BotContext, member: MemberInfo) -> None:
    message = update.effective_message
    assert message is not None
    text = (message.text or "").strip()
    if not text:
        await send(update, ctx, "reflection_empty", member.language)
        return
    if len(text) > MAX_LENGTH:
        await send(
            update, ctx, "reflection_too_long", member.language, length=len(text), limit=MAX_LENGTH
        )
        return
    deps = ctx.deps
    if not await within_limit(update, ctx, deps.limits.reflection, member.language, "reflection"):
        return
    target = None
    if message.reply_to_message is not None:
        target = await reflections.reply_target(
            ctx.db,
            member_id=member.id,
            message_id=message.reply_to_message.message_id,
        )
    if target is not None:
        broadcast_id, content = target
        value = deps.content.value(content.get("value", "")) or deps.content.values[0]
        prompt_id = content.get("prompt_id", "")
    else:
        tz = await accounts.zone(ctx.db, member_id=member.id)
        today = daily_value(deps.content, deps.calendar, deps.clock.today(tz))
        broadcast_id, value = None, today.value
        prompt_id = today.prompt.id if today.prompt else ""
    points = await reflections.record(
        deps,
        member_id=member.id,
        text=text,
        prompt_id=prompt_id,
        value=value.code,
        broadcast_id=broadcast_id,
    )
    await send(update, ctx, "reflection_saved", member.language, value=value, points=points)
