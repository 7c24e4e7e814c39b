"""The admin gate: one place decides, refuses politely and writes the attempt to the audit log."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update

from bot.core.deps import BotContext
from bot.members import audit
from bot.members.accounts import ADMIN_ROLES, MemberInfo, Role
from handlers.common import answer, current_member, send, user_language

log = logging.getLogger(__name__)


async def require_admin(
    update: Update, ctx: BotContext, action: str, *, superadmin: bool = False
) -> MemberInfo | None:
    """The admin member, or None after a polite refusal that is logged and audited."""
    member = await current_member(update, ctx)
    roles = (Role.SUPERADMIN,) if superadmin else ADMIN_ROLES
    if member is not None and member.role in roles:
        return member
    refused = "not superadmin" if superadmin else "not admin"
    if await record_refusal(update, ctx, action, {"refused": refused}):
        log.warning("refused %s for a non-admin", action)
    lang = member.language if member else user_language(update)
    if update.callback_query is not None:
        await answer(update, ctx, "admin_only", lang)
    else:
        await send(update, ctx, "admin_only", lang, superadmin=superadmin)
    return None


async def record_refusal(
    update: Update, ctx: BotContext, action: str, detail: dict[str, Any]
) -> bool:
    """Write a refused attempt to the audit log, unless this person is past their limit of
    refusals (`REFUSED_PER_MINUTE`); True when it was written.

    Refusals collapse into one audit line per person a minute already; past the limit they
    are answered as usual but no longer written, so a stranger pressing forged buttons as
    fast as a script can costs the database a few writes, not one each."""
    user_id = update.effective_user.id if update.effective_user else None
    if user_id is not None and ctx.deps.limits.refused.take(user_id):
        return False
    await audit.record(ctx.db, actor_user_id=user_id, action=action, detail=detail, allowed=False)
    return True
