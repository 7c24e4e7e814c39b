"""A small real python-telegram-bot bot running clean against the sandbox."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PollAnswerHandler,
    filters,
)

from sandbox import Sandbox
from sandbox.pytest_plugin import WEBHOOK_SECRET, free_port

votes: list[tuple[int, tuple[int, ...]]] = []


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Setuju", callback_data="agree")],
         [InlineKeyboardButton("Tolak", callback_data="refuse")]]
    )  # fmt: skip
    await update.effective_message.reply_text(
        f"Halo <b>{update.effective_user.first_name}</b>! Setuju dengan nilai BerAKHLAK?",
        parse_mode="HTML",
        reply_markup=keyboard,
    )


async def choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Tercatat")
    await query.edit_message_text("Terima kasih, pilihan: " + str(query.data))


async def quiz(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None
    await context.bot.send_poll(
        update.effective_chat.id,
        "Apa arti huruf A pertama?",
        ["Akuntabel", "Adaptif"],
        is_anonymous=False,
    )


async def poll_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    answer = update.poll_answer
    assert answer is not None and answer.user is not None
    votes.append((answer.user.id, tuple(answer.option_ids)))
    await context.bot.send_message(answer.user.id, f"Jawaban diterima: {answer.option_ids}")


async def echo_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.document is not None
    file = await message.document.get_file()
    data = await file.download_as_bytearray()
    await message.reply_document(
        bytes(data).upper(), filename="balasan.txt", caption=f"{len(data)} byte diterima"
    )


def install(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("kuis", quiz))
    app.add_handler(CallbackQueryHandler(choice))
    app.add_handler(PollAnswerHandler(poll_answer))
    app.add_handler(MessageHandler(filters.Document.ALL, echo_file))


async def conversation(sandbox: Sandbox) -> None:
    votes.clear()
    budi = sandbox.user("Budi Santoso", username="budi", language_code="id")
    await budi.send("/start")
    greeting = await budi.next_message()
    assert greeting.text == "Halo Budi! Setuju dengan nilai BerAKHLAK?"
    assert greeting.entities == [{"type": "bold", "offset": 5, "length": 4}]
    assert greeting.buttons == [["Setuju"], ["Tolak"]]

    query_id = await budi.press(greeting, "Setuju")
    assert await sandbox.wait_callback_answer(query_id) == {"text": "Tercatat"}
    edited = await budi.next_message()
    assert (edited.kind, edited.message_id) == ("edit", greeting.message_id)
    assert edited.text == "Terima kasih, pilihan: agree" and edited.buttons == []

    await budi.send("/kuis")
    poll = await budi.next_message()
    assert poll.poll is not None and poll.poll["is_anonymous"] is False
    await budi.answer_poll(poll, [0])
    confirmation = await budi.next_message()
    assert confirmation.text == "Jawaban diterima: (0,)"
    assert votes == [(budi.id, (0,))]

    await budi.upload_document("catatan.txt", b"integritas", mime_type="text/plain")
    echoed = await budi.next_message()
    assert echoed.caption == "10 byte diterima"
    assert echoed.document is not None and echoed.document["file_name"] == "balasan.txt"
    assert sandbox.world.files[echoed.document["file_id"]].data == b"INTEGRITAS"
    await sandbox.wait_idle()


async def test_bot_runs_clean_with_polling(sandbox: Sandbox, ptb_app_factory: Any) -> None:
    await ptb_app_factory(setup=install)
    await conversation(sandbox)
    assert sandbox.violations == []


async def test_bot_runs_clean_with_webhook(sandbox: Sandbox, ptb_app_factory: Any) -> None:
    port = free_port()
    await ptb_app_factory(setup=install, webhook=True, webhook_port=port)
    info = sandbox.calls_to("setWebhook")[-1]
    assert info.params["secret_token"] == WEBHOOK_SECRET
    await conversation(sandbox)
    # PTB accepted every delivery, so the sandbox sent the secret header; without or with a
    # wrong one PTB refuses the request.
    async with httpx.AsyncClient() as client:
        url = f"http://127.0.0.1:{port}/telegram"
        chat = {"id": 1, "type": "private"}
        update = {"update_id": 999, "message": {"message_id": 1, "date": 0, "chat": chat}}
        wrong = await client.post(
            url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
        )
        missing = await client.post(url, json=update)
    assert wrong.status_code == 403 and missing.status_code == 403
    assert sandbox.violations == []


async def test_ptb_app_fixture_polls(sandbox: Sandbox, ptb_app: Any) -> None:
    install(ptb_app)
    await conversation(sandbox)


@pytest.mark.sandbox(callback_timeout=0.3)
async def test_a_bot_that_never_answers_is_caught(sandbox: Sandbox, ptb_app: Any) -> None:
    async def silent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.edit_message_text("no answer")

    ptb_app.add_handler(CommandHandler("start", start))
    ptb_app.add_handler(CallbackQueryHandler(silent))
    user = sandbox.user("Budi Santoso")
    await user.send("/start")
    await user.press(await user.next_message(), "Tolak")
    assert (await user.next_message()).text == "no answer"
    await sandbox.wait_idle(quiet=0.5)
    [violation] = sandbox.take_violations()
    assert "not answered within" in violation.description
