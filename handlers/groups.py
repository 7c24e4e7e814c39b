"""Group chats: the bot answers only commands addressed to it (/cmd@bot)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.core.deps import BotApp, BotContext
from handlers import scores
from handlers.common import HTML


class _AddressedToBot(filters.MessageFilter):
    """A command written as /cmd@this_bot; plain /cmd in a group may be meant for another bot."""

    def filter(self, message: Message) -> bool:
        text = message.text or ""
        first = text.split(maxsplit=1)[0].lower() if text.strip() else ""
        username = (message.get_bot().username or "").lower()
        return bool(username) and first.startswith("/") and first.endswith(f"@{username}")


ADDRESSED = _AddressedToBot(name="AddressedToBot")


def register(app: BotApp) -> None:
    addressed = filters.ChatType.GROUPS & ADDRESSED
    # PTB's CommandHandler reads "/skor@this_bot" as /skor; ADDRESSED keeps a bare /skor,
    # which may be meant for another bot in the group, out.
    app.add_handler(CommandHandler("skor", scores.score, filters=addressed))
    app.add_handler(CommandHandler("peringkat", scores.ranking, filters=addressed))
    app.add_handler(CommandHandler("daftarkan_grup", scores.link_group, filters=addressed))
    app.add_handler(MessageHandler(addressed & filters.COMMAND, other_command))


async def other_command(update: Update, ctx: BotContext) -> None:
    """/bantuan@bot gets the group help; any other command points to the private chat."""
    message = update.effective_message
    assert message is not None and message.text is not None
    command = message.text.split(maxsplit=1)[0].split("@")[0].lower()
    link = f"https://t.me/{ctx.deps.bot_username}?start=grup"
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(ctx.renderer.label("open_private", "id"), url=link)]]
    )
    template = "group_help" if command == "/bantuan" else "group_private_only"
    await message.reply_text(
        ctx.renderer.text(template, "id"), parse_mode=HTML, reply_markup=markup
    )
