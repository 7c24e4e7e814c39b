"""/cerita (tell a story of service: text or a photo with a caption, its value, consent)
and /cerita_tinjau for admins and unit heads (approve, suggest an edit, decline); publishing
to the public channel is for admins only."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.core.deps import BotApp, BotContext
from bot.delivery.progress import start_broadcast
from bot.ideas.rules import clean
from bot.members import accounts, audit, unit_heads
from bot.members.accounts import ADMIN_ROLES, MemberInfo
from bot.stories import rules, service
from handlers.admin_common import record_refusal, require_admin
from handlers.common import (
    Button,
    answer,
    close,
    conversation,
    current_member,
    edit,
    keyboard,
    query_message,
    send,
    user_language,
)

log = logging.getLogger(__name__)

KEY = "story"
VALUE = r"^cer:v:(?P<value>[A-Z]{2})\Z"
CONSENT = r"^cer:c:(?P<choice>[pi])\Z"
SUBMIT = r"^cer:(?P<choice>go|no)\Z"
REVIEW = r"^cer:(?P<action>ok|ed|no|pub):(?P<id>\d{1,9})\Z"
STATUS = {"ok": rules.APPROVED, "ed": rules.REVISE, "no": rules.DECLINED}


def register(app: BotApp) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("cerita", start, filters=private))
    app.add_handler(CommandHandler("cerita_tinjau", next_review, filters=private))
    app.add_handler(CallbackQueryHandler(on_value, pattern=VALUE))
    app.add_handler(CallbackQueryHandler(on_consent, pattern=CONSENT))
    app.add_handler(CallbackQueryHandler(on_submit, pattern=SUBMIT))
    app.add_handler(CallbackQueryHandler(on_review, pattern=REVIEW))


def composing(ctx: BotContext) -> bool:
    """Whether this person's next message is their story, or an admin's reason."""
    state = conversation(ctx, KEY)
    return state is not None and state.get("step") in ("text", "reason")


async def start(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    if member is None:
        await send(update, ctx, "not_registered", user_language(update))
        return
    assert ctx.user_data is not None
    ctx.user_data[KEY] = {"step": "text"}
    await send(update, ctx, "story_ask", member.language, limit=rules.TEXT_MAX)


async def on_message(update: Update, ctx: BotContext, member: MemberInfo) -> None:
    """The story (a text, or a photo with its caption), or an admin's reason."""
    message = update.effective_message
    state = conversation(ctx, KEY)
    assert message is not None and state is not None and ctx.user_data is not None
    lang = member.language
    if state["step"] == "reason":
        ctx.user_data.pop(KEY, None)
        # Asked again: a head may have been removed since they pressed the button.
        if await _reviewer(update, ctx, state["id"]) is not None:
            reason = clean(message.text or "")[: rules.REASON_MAX]
            await _reviewed(update, ctx, member, state["id"], state["status"], reason or None)
        return
    photo = message.photo[-1].file_id if message.photo else None
    text = clean(message.text or message.caption or "")
    if len(text) < rules.TEXT_MIN or len(text) > rules.TEXT_MAX:
        await send(update, ctx, "story_invalid", lang, length=len(text), photo=bool(photo))
        return
    state.update(step="value", text=text, photo=photo)
    rows: list[list[Button]] = [[(v.name, f"cer:v:{v.code}")] for v in ctx.deps.content.values]
    await send(update, ctx, "story_ask_value", lang, rows=rows)


async def on_value(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    state = conversation(ctx, KEY)
    lang = member.language if member else user_language(update)
    assert ctx.matches
    value = ctx.matches[0]["value"]
    if (
        member is None
        or state is None
        or state.get("step") != "value"
        or value not in ctx.deps.content.value_codes
    ):
        await answer(update, ctx, "button_stale", lang)
        return
    await answer(update, ctx)
    state.update(step="consent", value=value)
    label = ctx.renderer.label
    rows: list[list[Button]] = [
        [(label("story_publish", lang), "cer:c:p")],
        [(label("story_internal", lang), "cer:c:i")],
    ]
    await edit(query_message(update), ctx, "story_ask_consent", lang, rows=rows)


async def on_consent(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    state = conversation(ctx, KEY)
    lang = member.language if member else user_language(update)
    assert ctx.matches
    if member is None or state is None or state.get("step") != "consent":
        await answer(update, ctx, "button_stale", lang)
        return
    await answer(update, ctx)
    state.update(step="confirm", publish=ctx.matches[0]["choice"] == "p")
    rows: list[list[Button]] = [
        [(ctx.renderer.label("story_send", lang), "cer:go")],
        [(ctx.renderer.label("cancel", lang), "cer:no")],
    ]
    await edit(
        query_message(update),
        ctx,
        "story_preview",
        lang,
        rows=rows,
        text=state["text"],
        photo=bool(state["photo"]),
        publish=state["publish"],
        flags=rules.personal_data_flags(state["text"]),
    )


async def on_submit(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    state = conversation(ctx, KEY)
    lang = member.language if member else user_language(update)
    assert ctx.matches
    if member is None or state is None or state.get("step") != "confirm":
        await answer(update, ctx, "button_stale", lang)
        return
    assert ctx.user_data is not None
    ctx.user_data.pop(KEY, None)
    await answer(update, ctx)
    await close(query_message(update), ctx)
    if ctx.matches[0]["choice"] == "no":
        await send(update, ctx, "story_cancelled", lang)
        return
    story = await service.submit(
        ctx.deps,
        member,
        service.Draft(state["text"], state["photo"], state["value"], state["publish"]),
    )
    await send(update, ctx, "story_submitted", lang, id=story.id)


# --- review (admins, and unit heads for their units' stories) ---------------------------------


async def next_review(update: Update, ctx: BotContext) -> None:
    """The oldest story waiting: any for an admin, their units' for a unit head."""
    member = await current_member(update, ctx)
    headed = await unit_heads.units_headed(ctx.db, member) if member is not None else frozenset()
    if member is None or (member.role not in ADMIN_ROLES and not headed):
        await require_admin(update, ctx, "story_review")  # refuses politely and audits
        return
    admin = member
    only = None if member.role in ADMIN_ROLES else headed
    story, waiting = await service.next_to_review(ctx.deps, only)
    if story is None:
        await send(update, ctx, "story_none", admin.language, head=only is not None)
        return
    label = ctx.renderer.label
    lang = admin.language
    rows: list[list[Button]] = [
        [(label("story_approve", lang), f"cer:ok:{story.id}")],
        [(label("story_suggest", lang), f"cer:ed:{story.id}")],
        [(label("story_decline", lang), f"cer:no:{story.id}")],
    ]
    value = ctx.deps.content.value(story.value)
    await send(
        update,
        ctx,
        "story_review",
        lang,
        rows=rows,
        story=story,
        value=value.name if value else story.value,
        waiting=waiting,
    )


async def _reviewer(
    update: Update, ctx: BotContext, story_id: int, *, publish: bool = False
) -> MemberInfo | None:
    """An admin, or for a review (never publishing) the head of the story's unit. Anyone
    else is refused politely and the attempt audited."""
    member = await current_member(update, ctx)
    if member is not None and member.role in ADMIN_ROLES:
        return member
    action = "story_publish" if publish else "story_review"
    if member is None or not await unit_heads.is_head(ctx.db, member):
        await require_admin(update, ctx, action)  # refuses politely and audits
        return None
    story = await service.story(ctx.deps, story_id)
    if (
        not publish
        and story is not None
        and await unit_heads.may_review(ctx.db, member, story.unit_id)
    ):
        return member
    await record_refusal(
        update,
        ctx,
        action,
        {
            "refused": "publishing is for admins" if publish else "not head of the story's unit",
            "story_id": story_id,
        },
    )
    log.warning("refused %s for a unit head", action)
    label = "story_publish_refused" if publish else "story_review_refused"
    if update.callback_query is not None:
        await answer(update, ctx, label, member.language)
    else:
        await send_label(update, ctx, label, member.language)
    return None


async def send_label(update: Update, ctx: BotContext, label: str, lang: str) -> None:
    assert update.effective_chat is not None
    await ctx.bot.send_message(update.effective_chat.id, ctx.renderer.label(label, lang))


async def on_review(update: Update, ctx: BotContext) -> None:
    assert ctx.matches and ctx.user_data is not None and update.effective_chat is not None
    action, story_id = ctx.matches[0]["action"], int(ctx.matches[0]["id"])
    admin = await _reviewer(update, ctx, story_id, publish=action == "pub")
    if admin is None:
        return
    lang = admin.language
    if action == "pub":
        broadcast_id = await service.publish(
            ctx.deps, story_id, admin=admin, chat_id=update.effective_chat.id
        )
        if broadcast_id is None:
            await answer(update, ctx, "story_not_publishable", lang)
            return
        await answer(update, ctx, "story_publishing", lang)
        await close(query_message(update), ctx)
        await audit.record(
            ctx.db,
            actor_user_id=admin.telegram_user_id,
            action="story_publish",
            detail={"story_id": story_id, "broadcast_id": broadcast_id},
        )
        await start_broadcast(ctx.bot, ctx.deps, broadcast_id)
        await _tell_author(ctx, story_id)
        return
    status = STATUS[action]
    if status in (rules.REVISE, rules.DECLINED):
        ctx.user_data[KEY] = {"step": "reason", "id": story_id, "status": status}
        await answer(update, ctx)
        await close(query_message(update), ctx)
        await send(update, ctx, "story_ask_reason", lang, id=story_id, status=status)
        return
    await _reviewed(update, ctx, admin, story_id, status, None)


async def _reviewed(
    update: Update,
    ctx: BotContext,
    admin: MemberInfo,
    story_id: int,
    status: str,
    reason: str | None,
) -> None:
    story = await service.review(ctx.deps, story_id, status=status, reason=reason)
    lang = admin.language
    if story is None:
        if update.callback_query is not None:
            await answer(update, ctx, "story_stale", lang)
        else:
            await send(update, ctx, "story_stale_text", lang)
        return
    await answer(update, ctx)
    await close(query_message(update), ctx)
    head = admin.role not in ADMIN_ROLES
    await audit.record(
        ctx.db,
        actor_user_id=admin.telegram_user_id,
        action="story_review",
        detail={"story_id": story_id, "status": status, "as": "unit_head" if head else "admin"},
    )
    rows: list[list[Button]] = []
    publish = [[(ctx.renderer.label("story_publish_now", lang), f"cer:pub:{story.id}")]]
    if service.publishable(story, ctx.deps) and not head:
        rows = publish
    await send(
        update,
        ctx,
        "story_reviewed",
        lang,
        rows=rows,
        story=story,
        channel=ctx.deps.settings.public_channel_id is not None,
        head=head,
    )
    await _tell_author(ctx, story_id)
    if head and service.publishable(story, ctx.deps):
        await _ask_admins_to_publish(ctx, story, admin)


async def _ask_admins_to_publish(
    ctx: BotContext, story: service.StoryInfo, head: MemberInfo
) -> None:
    """Publishing stays with HR: a story a unit head approved, with consent, goes to each
    admin with the button to publish it (the first press publishes it, once)."""
    value = ctx.deps.content.value(story.value)
    for admin in await accounts.admins(ctx.db):
        lang = admin.language
        text = ctx.renderer.text(
            "story_to_publish",
            lang,
            story=story,
            head=head.full_name,
            value=value.name if value else story.value,
        )
        button = [[(ctx.renderer.label("story_publish_now", lang), f"cer:pub:{story.id}")]]
        try:
            await ctx.bot.send_message(
                admin.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=keyboard(button)
            )
        except TelegramError as exc:
            log.info("story publishing request not delivered: %s", type(exc).__name__)


async def _tell_author(ctx: BotContext, story_id: int) -> None:
    story = await service.story(ctx.deps, story_id)
    if story is None or story.author_id is None:
        return
    author = await accounts.member_by_id(ctx.db, member_id=story.author_id)
    if author is None:
        return
    text = ctx.renderer.text("story_status", author.language, story=story)
    try:
        await ctx.bot.send_message(author.chat_id, text, parse_mode=ParseMode.HTML)
    except TelegramError as exc:
        log.info("story status notice not delivered: %s", type(exc).__name__)
