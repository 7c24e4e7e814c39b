"""Registration in a private chat: language, consent, name, unit, optional NIP, confirm.

With HR's employee list loaded: language, consent, name, NIP (checked against the list,
which gives the unit), confirm; what the list does not confirm goes to HR as a request
(`bot/members/identity.py`, the admin side in handlers/identity.py).

The draft lives in the database (table `registration`), so the flow resumes where it
was after /start, a stale button or a restart. Callback data is only ever a hint: the
step, the live message and every id are checked again here.
"""

from __future__ import annotations

import logging
import math
import re

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.core.deps import BotApp, BotContext
from bot.core.render import LANGUAGES
from bot.members import accounts, identity, privacy, units
from bot.members.accounts import Registration, Role
from bot.members.identity import NEEDS_UNIT, Refusal
from bot.members.names import check_name
from bot.members.nip import check_nip
from bot.members.unit_search import search_words
from handlers.admin_common import record_refusal
from handlers.common import (
    Button,
    answer,
    close,
    close_id,
    current_member,
    edit,
    send,
    user_language,
)
from handlers.errors import recover, recovers
from handlers.identity import tell_admins

log = logging.getLogger(__name__)

PAGE = 8
MAX_SEARCH = 64

LANG, CONSENT, NAME, UNIT, NIP, CONFIRM = "lang", "consent", "name", "unit", "nip", "confirm"
PENDING = "pending"  # sent to HR for approval (handlers/identity.py answers it)

CALLBACK = re.compile(
    r"^reg:(?:"
    r"(?P<lang>lang):(?P<code>[a-z]{2})"
    r"|(?P<consent>consent):(?P<answer>yes|no)"
    r"|(?P<opdp>opdp):(?P<opd_page>\d{1,3})"
    r"|(?P<opd>opd):(?P<opd_id>\d{1,9})"
    r"|(?P<up>up):(?P<up_opd>\d{1,9}):(?P<up_page>\d{1,3})"
    r"|(?P<unit>unit):(?P<unit_id>\d{1,9})"
    r"|(?P<back>back)"
    r"|(?P<skipnip>skipnip)"
    r"|(?P<save>save)"
    r"|(?P<redo>redo)"
    r"|(?P<hr>hr)"
    r"|(?P<rename>rename)"
    r")$"
)


def register(app: BotApp) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("start", start, filters=private))
    app.add_handler(CommandHandler("ubah_unit", change_unit, filters=private))
    app.add_handler(CallbackQueryHandler(on_button, pattern=r"^reg:"))


# Every step is saved before its question goes out, so after any failure to reach the
# person the draft holds what they entered and /start asks the current question again.
@recovers(then="start")
async def start(update: Update, ctx: BotContext) -> None:
    """Begin registration, or resume it, or greet a member who is already registered."""
    user = update.effective_user
    assert user is not None and update.effective_chat is not None
    member = await current_member(update, ctx)
    draft = await accounts.draft(ctx.db, telegram_user_id=user.id)
    if member is not None and (draft is None or draft.purpose != "change_unit"):
        await send(update, ctx, "already_registered", member.language, member=member)
        return
    if draft is not None:
        await send(update, ctx, "resume", draft.language)
        await prompt(update, ctx, draft)
        return
    draft = Registration(
        telegram_user_id=user.id,
        chat_id=update.effective_chat.id,
        step=LANG,
        language=user_language(update),
    )
    await prompt(update, ctx, draft)


@recovers(then="start")
async def change_unit(update: Update, ctx: BotContext) -> None:
    """/ubah_unit: the unit step of registration, for a member."""
    user = update.effective_user
    assert user is not None and update.effective_chat is not None
    member = await current_member(update, ctx)
    if member is None:
        await send(update, ctx, "not_registered", user_language(update))
        return
    draft = Registration(
        telegram_user_id=user.id,
        chat_id=update.effective_chat.id,
        step=UNIT,
        purpose="change_unit",
        language=member.language,
    )
    await send(update, ctx, "change_unit_intro", member.language, member=member)
    await prompt(update, ctx, draft)


@recovers(then="start")
async def on_text(update: Update, ctx: BotContext, draft: Registration) -> None:
    """A typed message while a draft is open (routed here by handlers.messages)."""
    message = update.effective_message
    assert message is not None
    lang = draft.language
    if message.text is None:
        await send(update, ctx, "expected_text", lang, step=draft.step)
        await prompt(update, ctx, draft)
        return
    text = message.text
    if draft.step == NAME:
        result = check_name(text)
        if result.name is None:
            await send(
                update, ctx, "name_invalid", lang, problem=result.problem, length=result.length
            )
            return
        draft.full_name = result.name
        # With the employee list the unit comes from it, so the NIP is asked next.
        draft.step = NIP if await identity.list_loaded(ctx.db) else UNIT
        await prompt(update, ctx, draft)
    elif draft.step == UNIT:
        await search_unit(update, ctx, draft, text)
    elif draft.step == NIP:
        check = check_nip(text, today=ctx.deps.clock.today(ctx.deps.settings.default_timezone))
        if check.nip is None:
            await send(update, ctx, "nip_invalid", lang, problem=check.problem, length=check.length)
            return
        if await identity.list_loaded(ctx.db):
            await verify_nip(update, ctx, draft, check.nip)
            return
        if await accounts.nip_taken(ctx.db, nip=check.nip, telegram_user_id=draft.telegram_user_id):
            # Without the employee list a NIP proves nothing; at least it opens one account.
            await send(update, ctx, "nip_taken", lang)
            return
        draft.nip = check.nip
        draft.step = CONFIRM
        if draft.prompt_message_id is not None:
            # The NIP question's "Lewati" button is answered by the typed NIP.
            await close_id(ctx, draft.chat_id, draft.prompt_message_id)
        await prompt(update, ctx, draft)
    elif draft.step == PENDING:
        await send(update, ctx, "hr_request_waiting", lang)
    else:
        # Steps answered with buttons: point at them again rather than guess.
        await send(update, ctx, "use_buttons", lang)
        await prompt(update, ctx, draft)


async def verify_nip(update: Update, ctx: BotContext, draft: Registration, nip: str) -> None:
    """Match the typed NIP and name against the employee list: on to the summary with the
    listed unit, or a polite refusal whose buttons ask HR (or fix the name)."""
    verdict = await identity.verify(
        ctx.db, nip=nip, name=draft.full_name or "", telegram_user_id=draft.telegram_user_id
    )
    draft.nip = nip
    draft.unit_id, draft.opd_id = verdict.unit_id, verdict.opd_id
    if draft.prompt_message_id is not None:
        # The question's (or the last refusal's) buttons are answered by the typed NIP.
        await close_id(ctx, draft.chat_id, draft.prompt_message_id)
        draft.prompt_message_id = None
    if verdict.refusal is None:
        draft.verify = None
        draft.step = CONFIRM
        await prompt(update, ctx, draft)
        return
    await refuse(update, ctx, draft, verdict.refusal)


async def refuse(update: Update, ctx: BotContext, draft: Registration, refusal: Refusal) -> None:
    """Say why the list does not confirm the person; the draft stays at the NIP step."""
    draft.verify = refusal
    draft.step = NIP
    await accounts.save_draft(ctx.db, draft=draft)
    # Audited as a refused attempt (collapsed per person and minute), without the NIP.
    await record_refusal(update, ctx, "identity_refused", {"reason": refusal.value})
    lang = draft.language
    rows = [[(ctx.renderer.label("hr_request", lang), "reg:hr")]]
    if refusal == Refusal.NAME:
        rows.append([(ctx.renderer.label("hr_rename", lang), "reg:rename")])
    sent = await send(update, ctx, "identity_refused", lang, rows=rows, problem=refusal.value)
    await _save(ctx, draft, sent)


async def ask_hr(
    update: Update, ctx: BotContext, draft: Registration, message: Message | None
) -> None:
    """ "Minta persetujuan HR": on to the unit (when the list cannot give it) or the summary."""
    await close(message, ctx)
    if draft.purpose == "change_unit":
        await send_request(update, ctx, draft)
        return
    if draft.verify is None:
        # Pressed under the NIP question: no NIP to check.
        draft.verify, draft.nip = Refusal.NO_NIP, None
    if draft.verify in NEEDS_UNIT or draft.unit_id is None:
        draft.unit_id = draft.opd_id = None
        draft.step = UNIT
    else:
        draft.step = CONFIRM
    await prompt(update, ctx, draft)


async def send_request(update: Update, ctx: BotContext, draft: Registration) -> None:
    """Park the draft as a request and tell every admin (handlers/identity.py)."""
    draft.step = PENDING
    draft.requested_at = ctx.deps.clock.now()
    draft.prompt_message_id = None
    await accounts.save_draft(ctx.db, draft=draft)
    await send(update, ctx, "hr_request_sent", draft.language)
    await tell_admins(ctx, draft)


async def search_unit(update: Update, ctx: BotContext, draft: Registration, text: str) -> None:
    query = " ".join(text.split())
    if not query or len(query) > MAX_SEARCH:
        await send(update, ctx, "unit_search_invalid", draft.language, limit=MAX_SEARCH)
        return
    found = await units.search(ctx.db, words=search_words(query), limit=PAGE)
    rows: list[list[Button]] = [[(u.name, f"reg:unit:{u.id}")] for u in found]
    rows.append([(ctx.renderer.label("unit_list", draft.language), "reg:opdp:0")])
    sent = await send(
        update,
        ctx,
        "unit_search_results",
        draft.language,
        rows=rows,
        query=query,
        results=found,
    )
    await _save(ctx, draft, sent)


@recovers(then="start")
async def on_button(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    user = update.effective_user
    draft = await accounts.draft(ctx.db, telegram_user_id=user.id)
    match = CALLBACK.fullmatch(query.data or "")
    lang = draft.language if draft else user_language(update)
    if match is None:
        log.warning("unknown registration callback ignored")
        await answer(update, ctx, "button_unknown", lang)
        return
    if update.effective_chat is None or update.effective_chat.type != "private":
        await answer(update, ctx, "button_stale", lang)
        return
    message = query.message if isinstance(query.message, Message) else None
    live = (
        draft is not None and message is not None and draft.prompt_message_id == message.message_id
    )
    if draft is None or not live:
        # The live message is still in the chat; a notice is enough, and re-sending the
        # prompt for every stale press would flood the chat.
        await answer(update, ctx, "button_stale", lang)
        return
    await _dispatch(update, ctx, draft, match, message)


async def _dispatch(
    update: Update,
    ctx: BotContext,
    draft: Registration,
    match: re.Match[str],
    message: Message | None,
) -> None:
    lang = draft.language
    step = draft.step
    if match["lang"] and step == LANG and match["code"] in LANGUAGES:
        draft.language = match["code"]
        await answer(update, ctx)
        await close(message, ctx)
        draft.step = CONSENT
        await prompt(update, ctx, draft)
    elif match["consent"] and step == CONSENT:
        await answer(update, ctx)
        if match["answer"] == "no":
            await accounts.drop_draft(ctx.db, telegram_user_id=draft.telegram_user_id)
            try:
                await edit(message, ctx, "consent_declined", lang)
            except TelegramError as exc:
                await recover(update, ctx, exc, then="done")  # nothing is kept either way
            return
        draft.consent_at = ctx.deps.clock.now()
        await close(message, ctx)
        draft.step = NAME
        await prompt(update, ctx, draft)
    elif match["opdp"] and step == UNIT:
        await answer(update, ctx)
        await show_opd_page(update, ctx, draft, int(match["opd_page"]), message)
    elif match["opd"] and step == UNIT:
        await choose_opd(update, ctx, draft, int(match["opd_id"]), message)
    elif match["up"] and step == UNIT:
        await answer(update, ctx)
        await show_unit_page(
            update, ctx, draft, int(match["up_opd"]), int(match["up_page"]), message
        )
    elif match["back"] and step == UNIT:
        await answer(update, ctx)
        await show_opd_page(update, ctx, draft, 0, message)
    elif match["unit"] and step == UNIT:
        await choose_unit(update, ctx, draft, int(match["unit_id"]), message)
    elif match["hr"] and (
        (step == NIP and (draft.verify or await identity.list_loaded(ctx.db)))
        or (step == UNIT and draft.verify == Refusal.UNIT)
    ):
        # Only where the bot offered it: never a way around the list's absence.
        await answer(update, ctx)
        await ask_hr(update, ctx, draft, message)
    elif match["rename"] and step == NIP and draft.verify == Refusal.NAME:
        await answer(update, ctx)
        await close(message, ctx)
        draft.step = NAME
        draft.full_name = draft.nip = draft.verify = None
        draft.opd_id = draft.unit_id = None
        await prompt(update, ctx, draft)
    elif match["skipnip"] and step == NIP and not await identity.list_loaded(ctx.db):
        await answer(update, ctx)
        await close(message, ctx)
        draft.nip = None
        draft.step = CONFIRM
        await prompt(update, ctx, draft)
    elif match["save"] and step == CONFIRM:
        await answer(update, ctx)
        await finish(update, ctx, draft, message)
    elif match["redo"] and step == CONFIRM:
        await answer(update, ctx)
        await edit(message, ctx, "redo", lang)
        draft.step = NAME
        draft.full_name = draft.nip = draft.verify = None
        draft.opd_id = draft.unit_id = None
        await prompt(update, ctx, draft)
    else:
        await answer(update, ctx, "button_stale", lang)


async def prompt(update: Update, ctx: BotContext, draft: Registration) -> None:
    """Send the question of the draft's current step as a new live message.

    The draft is saved before the message goes out, so whoever sees the question (the
    person, or a test) finds the database already there.
    """
    lang = draft.language
    await accounts.save_draft(ctx.db, draft=draft)
    sent: Message | None
    if draft.step == LANG:
        rows = [
            [(ctx.renderer.label(f"lang_{code}", lang), f"reg:lang:{code}") for code in LANGUAGES]
        ]
        sent = await send(update, ctx, "welcome", lang, rows=rows)
    elif draft.step == CONSENT:
        rows = [
            [(ctx.renderer.label("consent_yes", lang), "reg:consent:yes")],
            [(ctx.renderer.label("consent_no", lang), "reg:consent:no")],
        ]
        policy = privacy.policy(ctx.deps.settings)
        sent = await send(update, ctx, "consent", lang, rows=rows, policy=policy)
    elif draft.step == NAME:
        verified = await identity.list_loaded(ctx.db)
        sent = await send(update, ctx, "ask_name", lang, verified=verified)
    elif draft.step == UNIT:
        sent = await _send_opd_page(update, ctx, draft, 0)
    elif draft.step == NIP:
        verified = await identity.list_loaded(ctx.db)
        if verified:
            # The NIP cannot be skipped; without one, HR decides.
            rows = [[(ctx.renderer.label("hr_request", lang), "reg:hr")]]
            draft.verify = draft.nip = None
        else:
            rows = [[(ctx.renderer.label("skip_nip", lang), "reg:skipnip")]]
        sent = await send(update, ctx, "ask_nip", lang, rows=rows, verified=verified)
    elif draft.step == PENDING:
        sent = await send(update, ctx, "hr_request_waiting", lang)
    else:
        unit = await units.unit(ctx.db, unit_id=draft.unit_id or 0)
        save = "hr_send" if draft.verify else "save"
        rows = [
            [(ctx.renderer.label(save, lang), "reg:save")],
            [(ctx.renderer.label("redo", lang), "reg:redo")],
        ]
        sent = await send(update, ctx, "summary", lang, rows=rows, draft=draft, unit=unit)
    await _save(ctx, draft, sent)


async def _save(ctx: BotContext, draft: Registration, sent: Message | None) -> None:
    """Remember the message whose buttons are live now."""
    if sent is not None and sent.reply_markup is not None:
        draft.prompt_message_id = sent.message_id
        await accounts.save_draft(ctx.db, draft=draft)


def _page_rows(
    ctx: BotContext, lang: str, items: list[Button], page: int, nav: str, back: bool
) -> tuple[list[list[Button]], int, int]:
    pages = max(1, math.ceil(len(items) / PAGE))
    page = min(max(page, 0), pages - 1)
    rows: list[list[Button]] = [[item] for item in items[page * PAGE : (page + 1) * PAGE]]
    navigation: list[Button] = []
    if page > 0:
        navigation.append((ctx.renderer.label("prev", lang), f"{nav}{page - 1}"))
    if page < pages - 1:
        navigation.append((ctx.renderer.label("next", lang), f"{nav}{page + 1}"))
    if navigation:
        rows.append(navigation)
    if back:
        rows.append([(ctx.renderer.label("back", lang), "reg:back")])
    return rows, page, pages


async def _opd_screen(
    ctx: BotContext, draft: Registration, page: int
) -> tuple[list[list[Button]], dict[str, int]]:
    opds = await units.opds(ctx.db)
    items = [(u.name, f"reg:opd:{u.id}") for u in opds]
    rows, page, pages = _page_rows(ctx, draft.language, items, page, "reg:opdp:", back=False)
    return rows, {"page": page + 1, "pages": pages}


async def _send_opd_page(
    update: Update, ctx: BotContext, draft: Registration, page: int
) -> Message | None:
    rows, info = await _opd_screen(ctx, draft, page)
    if not rows:
        # HR has not loaded the roster yet: say so instead of showing an empty list.
        await send(update, ctx, "no_units", draft.language)
        return None
    return await send(
        update, ctx, "ask_opd", draft.language, rows=rows, purpose=draft.purpose, **info
    )


async def show_opd_page(
    update: Update, ctx: BotContext, draft: Registration, page: int, message: Message | None
) -> None:
    rows, info = await _opd_screen(ctx, draft, page)
    await edit(message, ctx, "ask_opd", draft.language, rows=rows, purpose=draft.purpose, **info)
    draft.opd_id = None
    await accounts.save_draft(ctx.db, draft=draft)


async def choose_opd(
    update: Update, ctx: BotContext, draft: Registration, opd_id: int, message: Message | None
) -> None:
    opd = await units.unit(ctx.db, unit_id=opd_id)
    if opd is None or opd.parent_id is not None:
        await answer(update, ctx, "button_stale", draft.language)
        return
    children = await units.children(ctx.db, opd_id=opd_id)
    if not children:
        await choose_unit(update, ctx, draft, opd_id, message)
        return
    await answer(update, ctx)
    await show_unit_page(update, ctx, draft, opd_id, 0, message)


async def show_unit_page(
    update: Update,
    ctx: BotContext,
    draft: Registration,
    opd_id: int,
    page: int,
    message: Message | None,
) -> None:
    opd = await units.unit(ctx.db, unit_id=opd_id)
    children = await units.children(ctx.db, opd_id=opd_id)
    if opd is None or not children:
        await show_opd_page(update, ctx, draft, 0, message)
        return
    items = [(u.name, f"reg:unit:{u.id}") for u in children]
    rows, page, pages = _page_rows(ctx, draft.language, items, page, f"reg:up:{opd_id}:", back=True)
    await edit(
        message, ctx, "ask_unit", draft.language, rows=rows, opd=opd, page=page + 1, pages=pages
    )
    draft.opd_id = opd_id
    await accounts.save_draft(ctx.db, draft=draft)


async def choose_unit(
    update: Update, ctx: BotContext, draft: Registration, unit_id: int, message: Message | None
) -> None:
    unit = await units.unit(ctx.db, unit_id=unit_id)
    children = await units.children(ctx.db, opd_id=unit_id) if unit else []
    if unit is None or children:
        # A forged id, a unit removed meanwhile, or an OPD that has unit kerja.
        await answer(update, ctx, "button_stale", draft.language)
        return
    await answer(update, ctx)
    await edit(message, ctx, "unit_chosen", draft.language, unit=unit)
    draft.unit_id = unit.id
    draft.opd_id = unit.parent_id or unit.id
    if draft.purpose == "change_unit" and await identity.list_loaded(ctx.db):
        member = await accounts.member(ctx.db, telegram_user_id=draft.telegram_user_id)
        listed = await identity.listed_unit(ctx.db, nip=member.nip if member else None)
        if listed != unit.id:
            # Only the listed unit is the member's to choose; another needs HR.
            await refuse_move(update, ctx, draft, unit, listed)
            return
    if draft.purpose == "change_unit":
        await accounts.move_to_unit(
            ctx.db, telegram_user_id=draft.telegram_user_id, unit_id=unit.id
        )
        await send(update, ctx, "unit_changed", draft.language, unit=unit)
        if ctx.deps.programme is not None:
            await ctx.deps.programme.member_joined()  # the unit may lie in a new zone
        return
    # A request to HR already has what the list could not give; on to the summary.
    draft.step = CONFIRM if draft.verify else NIP
    await prompt(update, ctx, draft)


async def refuse_move(
    update: Update, ctx: BotContext, draft: Registration, unit: units.UnitInfo, listed: int | None
) -> None:
    listed_unit = await units.unit(ctx.db, unit_id=listed) if listed else None
    draft.verify = Refusal.UNIT
    await accounts.save_draft(ctx.db, draft=draft)
    await record_refusal(update, ctx, "unit_change_refused", {"unit_id": unit.id})
    lang = draft.language
    rows = [[(ctx.renderer.label("hr_request", lang), "reg:hr")]]
    sent = await send(
        update,
        ctx,
        "unit_change_refused",
        lang,
        rows=rows,
        unit=unit,
        listed=listed_unit.name if listed_unit else None,
    )
    await _save(ctx, draft, sent)


async def finish(
    update: Update, ctx: BotContext, draft: Registration, message: Message | None
) -> None:
    if draft.verify:
        await send_request(update, ctx, draft)
        return
    if await identity.list_loaded(ctx.db):
        # The list may have been loaded or replaced since the NIP was checked: again.
        verdict = None
        if draft.nip:
            verdict = await identity.verify(
                ctx.db,
                nip=draft.nip,
                name=draft.full_name or "",
                telegram_user_id=draft.telegram_user_id,
            )
        if verdict is None or verdict.refusal is not None:
            await close(message, ctx)
            draft.prompt_message_id = None
            if verdict is None or verdict.refusal is None:
                draft.step = NIP
                await prompt(update, ctx, draft)
            else:
                draft.unit_id, draft.opd_id = verdict.unit_id, verdict.opd_id
                await refuse(update, ctx, draft, verdict.refusal)
            return
        draft.unit_id, draft.opd_id = verdict.unit_id, verdict.opd_id
        await accounts.save_draft(ctx.db, draft=draft)
    elif draft.nip and await accounts.nip_taken(
        ctx.db, nip=draft.nip, telegram_user_id=draft.telegram_user_id
    ):
        # Someone registered the same NIP between the question and this press.
        draft.nip = None
        draft.step = NIP
        await send(update, ctx, "nip_taken", draft.language)
        await prompt(update, ctx, draft)
        return
    superadmins = set(ctx.deps.settings.superadmin_ids)
    role = Role.SUPERADMIN if draft.telegram_user_id in superadmins else Role.MEMBER
    try:
        member = await accounts.complete_registration(
            ctx.db, telegram_user_id=draft.telegram_user_id, role=role
        )
    except identity.NipTaken:
        # Another account took the NIP at the same moment: the database's index refused.
        draft.nip = None
        draft.step = NIP
        await send(update, ctx, "nip_taken", draft.language)
        await prompt(update, ctx, draft)
        return
    if member is None:
        # The chosen unit disappeared between the summary and the press: choose again.
        draft.step = UNIT
        await send(update, ctx, "unit_gone", draft.language)
        await prompt(update, ctx, draft)
        return
    try:
        await close(message, ctx)
        await send(update, ctx, "registered", member.language, member=member)
        refresh = ctx.deps.refresh_commands
        if refresh is not None:
            await refresh(member)
    except TelegramError as exc:
        await recover(update, ctx, exc, then="done")  # the member is stored
