"""Methods about the bot itself, chats, members, pins and bot settings (commands etc.)."""

from __future__ import annotations

import copy
import json
from typing import Any

from sandbox.errors import bad_request
from sandbox.registry import Ctx, method
from sandbox.state import Chat, Member

JSON = dict[str, Any]


# --- the bot ---------------------------------------------------------------------------------


@method("getMe")
async def get_me(ctx: Ctx, p: JSON) -> JSON:
    data = ctx.bot.person.to_json()
    data.update(
        {
            "can_join_groups": True,
            "can_read_all_group_messages": not ctx.world.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
    )
    return data


@method("logOut", "close")
async def log_out(ctx: Ctx, p: JSON) -> bool:
    return True


# --- chats and members -----------------------------------------------------------------------


@method("getChat")
async def get_chat(ctx: Ctx, p: JSON) -> JSON:
    chat = ctx.chat(p["chat_id"], write=False)
    info = chat.to_json()
    info.update(
        {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": chat.type == "private",
                "limited_gifts": chat.type == "private",
                "unique_gifts": chat.type == "private",
                "premium_subscription": chat.type == "private",
                "gifts_from_channels": chat.type == "private",
            },
        }
    )
    if chat.is_group:
        info["permissions"] = {
            "can_send_messages": True,
            "can_send_polls": True,
            "can_send_other_messages": True,
            "can_add_web_page_previews": True,
            "can_invite_users": True,
        }
    if chat.migrated_from is not None:
        info["migrated_from_chat_id"] = chat.migrated_from
    if chat.pinned and chat.pinned[-1] in chat.messages:
        info["pinned_message"] = copy.deepcopy(chat.messages[chat.pinned[-1]])
    return info


def _member(ctx: Ctx, chat: Chat, user_id: int) -> Member:
    member = chat.members.get(user_id)
    if member is not None:
        return member
    person = ctx.world.users.get(user_id)
    if person is None:
        if user_id == ctx.bot.id:
            return Member(ctx.bot.person, "left")
        raise bad_request("user not found")
    if chat.type == "private":
        raise bad_request("user not found")
    return Member(person, "left")


@method("getChatMember")
async def get_chat_member(ctx: Ctx, p: JSON) -> JSON:
    chat = ctx.chat(p["chat_id"], write=False)
    return _member(ctx, chat, p["user_id"]).to_json()


@method("getChatAdministrators")
async def get_chat_administrators(ctx: Ctx, p: JSON) -> list[JSON]:
    chat = ctx.chat(p["chat_id"], write=False)
    if not chat.is_group:
        raise bad_request("there are no administrators in the private chat")
    return [m.to_json() for m in chat.members.values() if m.is_admin]


@method("getChatMemberCount")
async def get_chat_member_count(ctx: Ctx, p: JSON) -> int:
    chat = ctx.chat(p["chat_id"], write=False)
    return sum(1 for m in chat.members.values() if m.present)


@method("leaveChat")
async def leave_chat(ctx: Ctx, p: JSON) -> bool:
    chat = ctx.chat(p["chat_id"], write=False)
    if not chat.is_group:
        raise bad_request("chat member status can't be changed in private chats")
    from sandbox.users import set_bot_status

    set_bot_status(ctx.world, chat, ctx.bot, "left", by=ctx.bot.person)
    return True


# --- pins ------------------------------------------------------------------------------------


def _can_pin(ctx: Ctx, chat: Chat) -> None:
    if chat.is_group:
        member = chat.members.get(ctx.bot.id)
        if member is None or not member.is_admin:
            raise bad_request("not enough rights to manage pinned messages in the chat")


@method("pinChatMessage")
async def pin_chat_message(ctx: Ctx, p: JSON) -> bool:
    chat = ctx.chat(p["chat_id"])
    _can_pin(ctx, chat)
    message = ctx.message(chat, p["message_id"], "message to pin not found")
    if p["message_id"] in chat.pinned:
        chat.pinned.remove(p["message_id"])
    chat.pinned.append(p["message_id"])
    service = chat.add_message(ctx.bot.person, {"pinned_message": copy.deepcopy(message)})
    chat.emit("pin", service)
    ctx.world.touch()
    return True


@method("unpinChatMessage")
async def unpin_chat_message(ctx: Ctx, p: JSON) -> bool:
    chat = ctx.chat(p["chat_id"])
    _can_pin(ctx, chat)
    message_id = p.get("message_id")
    if message_id is None:
        if chat.pinned:
            chat.pinned.pop()
        return True
    if message_id not in chat.messages:
        raise bad_request("message to unpin not found")
    if message_id in chat.pinned:
        chat.pinned.remove(message_id)
    return True


@method("unpinAllChatMessages")
async def unpin_all_chat_messages(ctx: Ctx, p: JSON) -> bool:
    chat = ctx.chat(p["chat_id"])
    _can_pin(ctx, chat)
    chat.pinned.clear()
    return True


# --- commands --------------------------------------------------------------------------------


def _scope_key(ctx: Ctx, p: JSON) -> tuple[str, str]:
    scope = p.get("scope") or {"type": "default"}
    if "chat_id" in scope:
        chat = ctx.chat(scope["chat_id"], write=False)
        if scope["type"] in ("chat_administrators", "chat_member") and not chat.is_group:
            raise bad_request("can't use this scope in private chats")
        scope = {**scope, "chat_id": chat.id}
    return json.dumps(scope, sort_keys=True), p.get("language_code", "")


@method("setMyCommands")
async def set_my_commands(ctx: Ctx, p: JSON) -> bool:
    key = _scope_key(ctx, p)
    if p["commands"]:
        ctx.bot.commands[key] = copy.deepcopy(p["commands"])
    else:
        ctx.bot.commands.pop(key, None)
    return True


@method("getMyCommands")
async def get_my_commands(ctx: Ctx, p: JSON) -> list[JSON]:
    return copy.deepcopy(ctx.bot.commands.get(_scope_key(ctx, p), []))


@method("deleteMyCommands")
async def delete_my_commands(ctx: Ctx, p: JSON) -> bool:
    ctx.bot.commands.pop(_scope_key(ctx, p), None)
    return True


# --- names, descriptions, menu button, default rights ----------------------------------------


def _text_setter(field: str) -> None:
    async def setter(ctx: Ctx, p: JSON) -> bool:
        ctx.bot.texts[f"{field}:{p.get('language_code', '')}"] = p.get(field, "")
        return True

    name = "setMy" + "".join(part.title() for part in field.split("_"))
    method(name)(setter)


for _field in ("name", "description", "short_description"):
    _text_setter(_field)


@method("getMyName")
async def get_my_name(ctx: Ctx, p: JSON) -> JSON:
    name = ctx.bot.texts.get(f"name:{p.get('language_code', '')}")
    return {"name": name or ctx.bot.person.first_name}


@method("getMyDescription")
async def get_my_description(ctx: Ctx, p: JSON) -> JSON:
    return {"description": ctx.bot.texts.get(f"description:{p.get('language_code', '')}", "")}


@method("getMyShortDescription")
async def get_my_short_description(ctx: Ctx, p: JSON) -> JSON:
    key = f"short_description:{p.get('language_code', '')}"
    return {"short_description": ctx.bot.texts.get(key, "")}


@method("setChatMenuButton")
async def set_chat_menu_button(ctx: Ctx, p: JSON) -> bool:
    chat_id = None
    if "chat_id" in p:
        chat_id = ctx.chat(p["chat_id"], write=False).id
    ctx.bot.menu_buttons[chat_id] = copy.deepcopy(p.get("menu_button") or {"type": "default"})
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(ctx: Ctx, p: JSON) -> JSON:
    chat_id = ctx.chat(p["chat_id"], write=False).id if "chat_id" in p else None
    button = ctx.bot.menu_buttons.get(chat_id) or ctx.bot.menu_buttons.get(None)
    return copy.deepcopy(button or {"type": "commands"})


@method("setMyDefaultAdministratorRights")
async def set_default_rights(ctx: Ctx, p: JSON) -> bool:
    ctx.bot.default_admin_rights[bool(p.get("for_channels"))] = copy.deepcopy(p.get("rights") or {})
    return True


@method("getMyDefaultAdministratorRights")
async def get_default_rights(ctx: Ctx, p: JSON) -> JSON:
    stored = ctx.bot.default_admin_rights.get(bool(p.get("for_channels")), {})
    rights = {
        "is_anonymous": False,
        "can_manage_chat": False,
        "can_delete_messages": False,
        "can_manage_video_chats": False,
        "can_restrict_members": False,
        "can_promote_members": False,
        "can_change_info": False,
        "can_invite_users": False,
        "can_post_stories": False,
        "can_edit_stories": False,
        "can_delete_stories": False,
    }
    rights.update(stored)
    return rights
