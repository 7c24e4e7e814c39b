"""The admin gate: one place decides, refuses politely and writes the attempt to the audit log."""

from __future__ import annotations

import logging

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
    user_id = update.effective_user.id if update.effective_user else None
    # Refusals collapse into one audit line per person a minute already; past the per-person
    # limit they are answered the same but no longer written, so a stranger pressing forged
    # buttons as fast as a script can costs the database a few writes, not one each.
    if user_id is None or not ctx.deps.limits.refused.take(user_id):
        await audit.record(
            ctx.db,
            actor_user_id=user_id,
            action=action,
            detail={"refused": "not superadmin" if superadmin else "not admin"},
            allowed=False,
        )
        log.warning("refused %s for a non-admin", action)
    lang = member.language if member else user_language(update)
    if update.callback_query is not None:
        await answer(update, ctx, "admin_only", lang)
    else:
        await send(update, ctx, "admin_only", lang, superadmin=superadmin)
    return None
