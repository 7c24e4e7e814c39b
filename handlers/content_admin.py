"""HR's question bank workflow: /soal_template, upload a filled sheet, preview, import;
/soal_ekspor."""

from __future__ import annotations

import asyncio
import logging

from telegram import Document, InputFile, Message, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.core.deps import BotApp, BotContext, PendingImport
from bot.members import audit
from bot.members.accounts import ADMIN_ROLES
from bot.quiz import bank
from bot.quiz.message import send_quiz
from bot.quiz.poll import quiz_payload
from content.loader import Question
from content.xlsx import MAX_BYTES, SheetRejected, export_bytes, parse_sheet, template_bytes
from handlers import broadcast, messages
from handlers.admin_common import require_admin
from handlers.common import HTML, answer, current_member, edit, send
from handlers.errors import recover

log = logging.getLogger(__name__)

PREVIEW = 3
MAX_ERRORS_SHOWN = 25
MB = 1024 * 1024


def register(app: BotApp) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("soal_template", send_template, filters=private))
    app.add_handler(CommandHandler("soal_ekspor", export, filters=private))
    app.add_handler(MessageHandler(private & filters.Document.ALL, on_document))
    app.add_handler(CallbackQueryHandler(on_confirm, pattern=r"^soal:"))


async def send_template(update: Update, ctx: BotContext) -> None:
    admin = await require_admin(update, ctx, "content_template")
    if admin is None:
        return
    assert update.effective_chat is not None
    await ctx.bot.send_document(
        update.effective_chat.id,
        InputFile(await asyncio.to_thread(template_bytes), filename="templat_soal_berakhlak.xlsx"),
        caption=ctx.renderer.text("content_template", admin.language),
        parse_mode=HTML,
    )


async def export(update: Update, ctx: BotContext) -> None:
    admin = await require_admin(update, ctx, "content_export")
    if admin is None:
        return
    assert update.effective_chat is not None
    questions = await bank.active_questions(ctx.db)
    await audit.record(
        ctx.db,
        actor_user_id=admin.telegram_user_id,
        action="content_export",
        audience_size=len(questions),
    )
    await ctx.bot.send_document(
        update.effective_chat.id,
        InputFile(
            await asyncio.to_thread(export_bytes, questions), filename="bank_soal_berakhlak.xlsx"
        ),
        caption=ctx.renderer.text("content_exported", admin.language, count=len(questions)),
        parse_mode=HTML,
    )


async def on_document(update: Update, ctx: BotContext) -> None:
    message = update.effective_message
    assert message is not None and message.document is not None
    member = await current_member(update, ctx)
    if member is None or member.role not in ADMIN_ROLES or broadcast.composing(ctx):
        # Only admins upload spreadsheets; anyone else (or an admin attaching a document
        # to a broadcast) goes the ordinary way.
        await messages.on_message(update, ctx)
        return
    admin = member
    lang = admin.language
    document: Document = message.document
    if document.file_size is not None and document.file_size > MAX_BYTES:
        await send(
            update,
            ctx,
            "content_rejected",
            lang,
            errors=[
                ctx.renderer.label(
                    "content_too_big", lang, mb=document.file_size // MB, max_mb=MAX_BYTES // MB
                )
            ],
            more=0,
        )
        return
    data = bytes(await (await document.get_file()).download_as_bytearray())
    guideline_codes = ctx.deps.content.guideline_codes
    ids = await bank.ids_in_use(ctx.db)
    numbers = await bank.next_hr_numbers(ctx.db)
    links = await bank.links(ctx.db)
    reserved = frozenset(qid for qid, source in ids.items() if source == "bank")
    try:
        questions = await _parse(ctx, data, guideline_codes, reserved, numbers, links)
    except SheetRejected as rejected:
        errors = [str(e) for e in rejected.errors]
        await send(
            update,
            ctx,
            "content_rejected",
            lang,
            errors=errors[:MAX_ERRORS_SHOWN],
            more=max(0, len(errors) - MAX_ERRORS_SHOWN),
        )
        return
    ctx.deps.pending_imports[admin.telegram_user_id] = PendingImport(
        document.file_unique_id, questions
    )
    new = sum(1 for q in questions if q.id not in ids)
    try:
        await _preview(update, ctx, message.chat_id, lang, questions, new)
    except TelegramError as exc:
        # Its confirm button may never have arrived: nothing waits for it, the admin sends
        # the file again.
        ctx.deps.pending_imports.pop(admin.telegram_user_id, None)
        await recover(update, ctx, exc, notice="content_preview_failed", show_reason=True)


async def _preview(
    update: Update,
    ctx: BotContext,
    chat_id: int,
    lang: str,
    questions: list[Question],
    new: int,
) -> None:
    await send(
        update,
        ctx,
        "content_preview_intro",
        lang,
        count=len(questions),
        new=new,
        updated=len(questions) - new,
        shown=min(PREVIEW, len(questions)),
    )
    for question in questions[:PREVIEW]:
        await send_quiz(ctx.bot, chat_id, quiz_payload(question), ctx.renderer, lang)
    rows = [
        [(ctx.renderer.label("import_confirm", lang, count=len(questions)), "soal:ok")],
        [(ctx.renderer.label("cancel", lang), "soal:no")],
    ]
    await send(update, ctx, "content_confirm", lang, rows=rows, count=len(questions))


async def _parse(
    ctx: BotContext,
    data: bytes,
    guideline_codes: dict[str, str],
    reserved: frozenset[str],
    numbers: dict[str, int],
    links: dict[str, str | None],
) -> list[Question]:
    # openpyxl parses in Python for hundreds of milliseconds: keep it off the event loop.
    return await asyncio.to_thread(
        parse_sheet,
        data,
        guideline_codes,
        reserved_ids=reserved,
        next_id=numbers,
        stored_links=links,
    )


async def on_confirm(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    admin = await require_admin(update, ctx, "content_import")
    if admin is None:
        return
    message = query.message if isinstance(query.message, Message) else None
    pending = ctx.deps.pending_imports.get(admin.telegram_user_id)
    if query.data not in ("soal:ok", "soal:no") or pending is None:
        await answer(update, ctx, "button_stale", admin.language)
        return
    # Answered before the import is taken: if that fails, the button still works.
    await answer(update, ctx)
    ctx.deps.pending_imports.pop(admin.telegram_user_id, None)
    if query.data == "soal:no":
        await edit(message, ctx, "content_cancelled", admin.language)
        return
    result = await bank.import_questions(ctx.db, questions=pending.questions)
    await audit.record(
        ctx.db,
        actor_user_id=admin.telegram_user_id,
        action="content_import",
        detail={"added": result.added, "updated": result.updated},
        audience_size=len(pending.questions),
    )
    log.info("content import: %s added, %s updated", result.added, result.updated)
    try:
        await edit(message, ctx, "content_imported", admin.language, result=result)
    except TelegramError as exc:
        await recover(update, ctx, exc, then="done")  # the questions are imported
