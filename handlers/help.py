"""/bantuan and the command menus Telegram shows (setMyCommands per scope)."""

from __future__ import annotations

import contextlib

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import CommandHandler, filters

from bot.core.deps import BotApp, BotContext, Deps
from bot.core.render import LANGUAGES, Renderer
from bot.members import unit_heads
from bot.members.accounts import MemberInfo, Role
from handlers.common import current_member, send, user_language

# (command, label key) by audience; the descriptions are labels in content/templates.
MEMBER_COMMANDS = [
    "bantuan",
    "kuis",
    "nilai",
    "skor",
    "peringkat",
    "cuti",
    "tampilkan_nama",
    "ide",
    "ide_daftar",
    "apresiasi",
    "cerita",
    "profil",
    "ubah_unit",
    "bahasa",
    "data_saya",
    "hapus_data",
]
GUEST_COMMANDS = ["start", "bantuan"]
ADMIN_COMMANDS = [
    "broadcast",
    "broadcast_daftar",
    "broadcast_batal",
    "jadwal",
    "kirim_nilai_sekarang",
    "kirim_kuis_sekarang",
    "jeda",
    "lanjut",
    "statistik",
    "laporan",
    "cerita_tinjau",
    "ide_ekspor",
    "analisis_soal",
    "soal_template",
    "soal_ekspor",
    "admin_daftar",
    "kepala_unit",
    "audit",
    "audit_ekspor",
]
# A unit head (named by an admin) reviews their unit's stories; ideas move from /ide_daftar.
HEAD_COMMANDS = ["cerita_tinjau"]
SUPERADMIN_COMMANDS = ["admin_tambah", "admin_hapus"]
GROUP_COMMANDS = ["bantuan"]


def register(app: BotApp) -> None:
    app.add_handler(CommandHandler("bantuan", help_command, filters=filters.ChatType.PRIVATE))


def commands_for(member: MemberInfo | None, *, head: bool = False) -> list[str]:
    if member is None:
        return GUEST_COMMANDS
    if member.role == Role.SUPERADMIN:
        return MEMBER_COMMANDS + ADMIN_COMMANDS + SUPERADMIN_COMMANDS
    if member.role == Role.ADMIN:
        return MEMBER_COMMANDS + ADMIN_COMMANDS
    return MEMBER_COMMANDS + (HEAD_COMMANDS if head else [])


async def help_command(update: Update, ctx: BotContext) -> None:
    member = await current_member(update, ctx)
    lang = member.language if member else user_language(update)
    head = member is not None and await unit_heads.is_head(ctx.db, member)
    names = commands_for(member, head=head)
    commands = [(name, ctx.renderer.label(f"cmd_{name}", lang)) for name in names]
    await send(update, ctx, "help", lang, commands=commands, member=member)


def _menu(renderer: Renderer, names: list[str], lang: str) -> list[BotCommand]:
    return [BotCommand(name, renderer.label(f"cmd_{name}", lang)) for name in names]


async def set_default_menus(bot: Bot, deps: Deps) -> None:
    """Menus for everyone in private chats and in groups, per language."""
    for lang in LANGUAGES:
        code = "" if lang == "id" else lang
        await bot.set_my_commands(
            _menu(deps.renderer, GUEST_COMMANDS + MEMBER_COMMANDS[1:], lang),
            scope=BotCommandScopeAllPrivateChats(),
            language_code=code or None,
        )
        await bot.set_my_commands(
            _menu(deps.renderer, GROUP_COMMANDS, lang),
            scope=BotCommandScopeAllGroupChats(),
            language_code=code or None,
        )


async def set_member_menu(bot: Bot, deps: Deps, member: MemberInfo, *, head: bool = False) -> None:
    """Admins and unit heads see their commands in their own chat's menu; members see the
    default."""
    if member.role not in (Role.ADMIN, Role.SUPERADMIN) and not head:
        return
    # A menu is a convenience; never let it break registration.
    with contextlib.suppress(TelegramError):
        await bot.set_my_commands(
            _menu(deps.renderer, commands_for(member, head=head), member.language),
            scope=BotCommandScopeChat(member.chat_id),
        )
