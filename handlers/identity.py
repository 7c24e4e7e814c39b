"""HR's side of verified identity: a registration (or a move to another unit) that the
employee list did not confirm reaches every admin with two buttons; one admin's answer
decides it, is audited, and the person is told.

Button data `hr:ok:<telegram id>:<request time>` (or `hr:no:`): the request time tells
one request from a later one by the same person, so an old button never decides a new one.
"""

from __future__ import annotations

import logging
import re

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler

from bot.core.deps import BotApp, BotContext
from bot.members import accounts, audit, identity, units
from bot.members.accounts import Registration, Role
from handlers.admin_common import record_refusal, require_admin
from handlers.common import HTML, Button, answer, edit, keyboard

log = logging.getLogger(__name__)

CALLBACK = re.compile(r"^hr:(?P<verdict>ok|no):(?P<user>\d{1,20}):(?P<at>\d{1,12})$")


def register(app: BotApp) -> None:
    app.add_handler(CallbackQueryHandler(on_review, pattern=r"^hr:"))


async def tell_admins(ctx: BotContext, draft: Registration) -> None:
    """Every admin gets the request with approve/decline buttons in their private chat."""
    assert draft.requested_at is not None
    at = int(draft.requested_at.timestamp())
    unit = await units.unit(ctx.db, unit_id=draft.unit_id) if draft.unit_id else None
    facts = await identity.request_facts(ctx.db, draft=draft)
    listed = (
        await units.unit(ctx.db, unit_id=facts.listed_unit_id) if facts.listed_unit_id else None
    )
    for admin in await accounts.admins(ctx.db):
        lang = admin.language
        rows: list[list[Button]] = [
            [
                (ctx.renderer.label("hr_approve", lang), f"hr:ok:{draft.telegram_user_id}:{at}"),
                (ctx.renderer.label("hr_decline", lang), f"hr:no:{draft.telegram_user_id}:{at}"),
            ]
        ]
        text = ctx.renderer.text(
            "hr_request_admin",
            lang,
            draft=draft,
            unit=unit,
            member_name=facts.member_name,
            listed_name=facts.listed_name,
            holder_name=facts.holder_name,
            listed_unit=listed.name if listed else None,
        )
        try:
            await ctx.bot.send_message(
                admin.chat_id, text, parse_mode=HTML, reply_markup=keyboard(rows)
            )
        except TelegramError as exc:
            # One admin who blocked the bot must not keep the others from hearing of it.
            log.info("HR request notice not delivered: %s", exc)


async def on_review(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    admin = await require_admin(update, ctx, "registration_review")
    if admin is None:
        return
    match = CALLBACK.fullmatch(query.data or "")
    if match is None:
        await answer(update, ctx, "button_unknown", admin.language)
        return
    user_id = int(match["user"])
    if user_id == admin.telegram_user_id and admin.role != Role.SUPERADMIN:
        # An admin's own move (or identity) is another admin's decision, or HR's top.
        await record_refusal(update, ctx, "registration_review", {"refused": "own request"})
        await answer(update, ctx, "hr_own_request", admin.language)
        return
    draft = await accounts.draft(ctx.db, telegram_user_id=user_id)
    if draft is None or draft.step != "pending" or draft.requested_at is None:
        await answer(update, ctx, "hr_decided", admin.language)
        return
    at = draft.requested_at
    if int(at.timestamp()) != int(match["at"]):
        await answer(update, ctx, "hr_decided", admin.language)
        return
    message = query.message if isinstance(query.message, Message) else None
    change_unit = draft.purpose == "change_unit"
    # A move's draft holds no name: the member's is shown on the decided message.
    member_now = await accounts.member(ctx.db, telegram_user_id=user_id)
    name = draft.full_name or (member_now.full_name if member_now else None)
    if match["verdict"] == "no":
        if not await identity.decline(ctx.db, telegram_user_id=user_id, requested_at=at):
            await answer(update, ctx, "hr_decided", admin.language)
            return
        await answer(update, ctx)
        await audit.record(
            ctx.db,
            actor_user_id=admin.telegram_user_id,
            action="unit_change_declined" if change_unit else "registration_declined",
            detail={"reason": draft.verify},
            audience_size=1,
        )
        await edit(
            message,
            ctx,
            "hr_request_decided",
            admin.language,
            approved=False,
            admin=admin.full_name,
            name=name,
        )
        await _tell(ctx, draft, "hr_request_declined", change_unit=change_unit)
        return
    superadmins = set(ctx.deps.settings.superadmin_ids)
    role = Role.SUPERADMIN if user_id in superadmins else Role.MEMBER
    approved = await identity.approve(ctx.db, telegram_user_id=user_id, requested_at=at, role=role)
    if approved is None:
        # Withdrawn meanwhile, or the chosen unit left the roster.
        await answer(update, ctx, "hr_decided", admin.language)
        return
    await answer(update, ctx)
    member = approved.member
    await audit.record(
        ctx.db,
        actor_user_id=admin.telegram_user_id,
        action="unit_change_approved" if approved.moved_unit else "registration_approved",
        detail={
            "member_id": member.id,
            "reason": draft.verify,
            **({"nip_from_member_id": approved.nip_from} if approved.nip_from else {}),
        },
        audience_size=1,
    )
    await edit(
        message,
        ctx,
        "hr_request_decided",
        admin.language,
        approved=True,
        admin=admin.full_name,
        name=name or member.full_name,
    )
    if approved.moved_unit:
        unit = await units.unit(ctx.db, unit_id=member.unit_id or 0)
        await _tell(ctx, draft, "unit_changed", unit=unit)
        if ctx.deps.programme is not None:
            await ctx.deps.programme.member_joined()  # the unit may lie in a new zone
        return
    await _tell(ctx, draft, "registered", member=member)
    refresh = ctx.deps.refresh_commands
    if refresh is not None:
        try:
            await refresh(member)  # their menu, and their zone's programme jobs
        except TelegramError as exc:
            log.info("menu not refreshed: %s", exc)


async def _tell(ctx: BotContext, draft: Registration, template: str, **context: object) -> None:
    """The person hears HR's answer; if they blocked the bot, the decision still stands."""
    try:
        await ctx.bot.send_message(
            draft.chat_id,
            ctx.renderer.text(template, draft.language, **context),
            parse_mode=HTML,
        )
    except TelegramError as exc:
        log.info("HR decision notice not delivered: %s", exc)
