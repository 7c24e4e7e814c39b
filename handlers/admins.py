"""Roles and the audit log: /admin_tambah, /admin_hapus (superadmin), /admin_daftar, /audit,
/audit_ekspor."""

from __future__ import annotations

import contextlib
import re

from telegram import BotCommandScopeChat, InputFile, Message, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.core.deps import BotApp, BotContext
from bot.members import accounts, audit
from bot.members.accounts import MemberInfo, Role
from bot.members.audit_export import audit_xlsx
from handlers.admin_common import require_admin
from handlers.common import HTML, Button, answer, edit, send
from handlers.help import set_member_menu

CALLBACK = re.compile(r"^adm:(?P<action>add|del):(?P<member_id>\d{1,9})$")
AUDIT_PAGE = re.compile(r"^aud:(?P<kind>[ar]):(?P<page>\d{1,6})(?::(?P<actor>-?\d{1,20}))?$")
AUDIT_ID = re.compile(r"-?\d{1,20}")
AUDIT_ROWS = 20


def register(app: BotApp) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("admin_tambah", add, filters=private))
    app.add_handler(CommandHandler("admin_hapus", remove, filters=private))
    app.add_handler(CommandHandler("admin_daftar", list_admins, filters=private))
    app.add_handler(CommandHandler("audit", show_audit, filters=private))
    app.add_handler(CommandHandler("audit_ekspor", export_audit, filters=private))
    app.add_handler(CallbackQueryHandler(on_button, pattern=r"^adm:"))
    app.add_handler(CallbackQueryHandler(on_audit_page, pattern=r"^aud:"))


async def add(update: Update, ctx: BotContext) -> None:
    admin = await require_admin(update, ctx, "admin_add", superadmin=True)
    if admin is None:
        return
    text = " ".join(ctx.args or [])[:64]
    if not text.strip():
        await send(update, ctx, "admin_add_usage", admin.language)
        return
    found = await accounts.search(ctx.db, text=text)
    candidates = [m for m in found if m.role == Role.MEMBER]
    rows: list[list[Button]] = [
        [(f"{m.full_name} · {m.unit_name or '-'}", f"adm:add:{m.id}")] for m in candidates
    ]
    await send(
        update,
        ctx,
        "admin_candidates",
        admin.language,
        rows=rows,
        query=text,
        count=len(candidates),
    )


async def remove(update: Update, ctx: BotContext) -> None:
    admin = await require_admin(update, ctx, "admin_remove", superadmin=True)
    if admin is None:
        return
    current = [m for m in await accounts.admins(ctx.db) if m.role == Role.ADMIN]
    rows: list[list[Button]] = [
        [(f"{m.full_name} · {m.unit_name or '-'}", f"adm:del:{m.id}")] for m in current
    ]
    await send(update, ctx, "admin_remove_menu", admin.language, rows=rows, count=len(current))


async def on_button(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    admin = await require_admin(update, ctx, "admin_role_button", superadmin=True)
    if admin is None:
        return
    match = CALLBACK.fullmatch(query.data or "")
    message = query.message if isinstance(query.message, Message) else None
    if match is None:
        await answer(update, ctx, "button_unknown", admin.language)
        return
    target = await accounts.member_by_id(ctx.db, member_id=int(match["member_id"]))
    adding = match["action"] == "add"
    wanted_from = Role.MEMBER if adding else Role.ADMIN
    if target is None or target.role != wanted_from:
        await answer(update, ctx, "button_stale", admin.language)
        return
    await answer(update, ctx)
    new_role = Role.ADMIN if adding else Role.MEMBER
    changed = await accounts.set_role(ctx.db, member_id=target.id, role=new_role)
    assert changed is not None
    await audit.record(
        ctx.db,
        actor_user_id=admin.telegram_user_id,
        action="admin_add" if adding else "admin_remove",
        detail={"member_id": target.id},
        audience_size=1,
    )
    await _refresh_menu(ctx, changed)
    await edit(message, ctx, "admin_role_changed", admin.language, member=changed, adding=adding)


async def _refresh_menu(ctx: BotContext, member: MemberInfo) -> None:
    if member.role == Role.MEMBER:
        with contextlib.suppress(TelegramError):  # a menu is a convenience
            await ctx.bot.delete_my_commands(scope=BotCommandScopeChat(member.chat_id))
        return
    await set_member_menu(ctx.bot, ctx.deps, member)


async def list_admins(update: Update, ctx: BotContext) -> None:
    admin = await require_admin(update, ctx, "admin_list")
    if admin is None:
        return
    admins = await accounts.admins(ctx.db)
    await send(update, ctx, "admin_list", admin.language, admins=admins)


async def show_audit(update: Update, ctx: BotContext) -> None:
    admin = await require_admin(update, ctx, "audit")
    if admin is None:
        return
    # /audit NAMA or /audit 123456789: one person's entries (a Telegram id also finds
    # strangers and erased members' pseudonyms, which no name search can).
    text = " ".join(ctx.args or []).strip()[:64]
    actor: int | None = None
    if AUDIT_ID.fullmatch(text):
        actor = int(text)
    elif text:
        found = await accounts.search(ctx.db, text=text)
        if len(found) != 1:
            await send(update, ctx, "audit_person_which", admin.language, count=len(found))
            return
        actor = found[0].telegram_user_id
    page = await audit.page(ctx.db, refused=False, page=1, per_page=AUDIT_ROWS, actor=actor)
    rows = _audit_rows(ctx, admin, page)
    await send(update, ctx, "audit", admin.language, rows=rows, **_view(ctx, page))


async def export_audit(update: Update, ctx: BotContext) -> None:
    """/audit_ekspor: the whole log as an .xlsx, actions and refusals on separate sheets."""
    admin = await require_admin(update, ctx, "audit_export")
    if admin is None:
        return
    assert update.effective_chat is not None
    # Recorded first, so the file shows this export too: reading the log is an action.
    await audit.record(ctx.db, actor_user_id=admin.telegram_user_id, action="audit_export")
    exported = await audit_xlsx(ctx.deps, admin.language)
    await ctx.bot.send_document(
        update.effective_chat.id,
        InputFile(exported.data, filename="audit_berakhlak.xlsx"),
        caption=ctx.renderer.text(
            "audit_exported", admin.language, actions=exported.actions, refused=exported.refused
        ),
        parse_mode=HTML,
    )


async def on_audit_page(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    admin = await require_admin(update, ctx, "audit")
    if admin is None:
        return
    match = AUDIT_PAGE.match(query.data or "")
    if match is None:
        await answer(update, ctx, "button_stale", admin.language)
        return
    await answer(update, ctx)
    page = await audit.page(
        ctx.db,
        refused=match["kind"] == "r",
        page=int(match["page"]),
        per_page=AUDIT_ROWS,
        actor=int(match["actor"]) if match["actor"] else None,
    )
    message = query.message if isinstance(query.message, Message) else None
    await edit(
        message,
        ctx,
        "audit",
        admin.language,
        rows=_audit_rows(ctx, admin, page),
        **_view(ctx, page),
    )


def _view(ctx: BotContext, page: audit.AuditPage) -> dict[str, object]:
    return {
        "entries": page.entries,
        "names": page.names,
        "tz": ctx.deps.settings.default_timezone,
        "refused": page.refused,
        "page": page.page,
        "pages": page.pages,
        "other": page.other,
        "person": None if page.actor is None else (page.names.get(page.actor) or page.actor),
    }


def _audit_rows(ctx: BotContext, admin: MemberInfo, page: audit.AuditPage) -> list[list[Button]]:
    kind = "r" if page.refused else "a"
    lang = admin.language
    who = "" if page.actor is None else f":{page.actor}"
    navigation: list[Button] = []
    if page.page > 1:
        navigation.append((ctx.renderer.label("prev", lang), f"aud:{kind}:{page.page - 1}{who}"))
    if page.page < page.pages:
        navigation.append((ctx.renderer.label("next", lang), f"aud:{kind}:{page.page + 1}{who}"))
    other = "a" if page.refused else "r"
    label = "audit_show_actions" if page.refused else "audit_show_refused"
    switch = (ctx.renderer.label(label, lang, n=page.other), f"aud:{other}:1{who}")
    return [navigation, [switch]]
