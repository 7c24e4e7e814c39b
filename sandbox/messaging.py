"""Methods that post, change or remove messages, plus files, chat actions and callback answers."""

from __future__ import annotations

import copy
import time
from typing import Any

from sandbox.errors import ApiError, bad_request
from sandbox.formatting import parse_formatted
from sandbox.media import (
    assign_path,
    document_json,
    file_json,
    photo_json,
    resolve_input,
)
from sandbox.registry import Ctx, input_file, method
from sandbox.state import GETFILE_MAX_BYTES, Chat, unix_now

JSON = dict[str, Any]

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
CALLBACK_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
CONTENT_KEYS = ("text", "entities", "caption", "caption_entities", "photo", "document", "poll")
MEDIA_KEYS = ("photo", "document", "poll")
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


# --- shared helpers --------------------------------------------------------------------------


def formatted(p: JSON, key: str, mode_key: str, entities_key: str) -> tuple[str, list[JSON]]:
    return parse_formatted(p[key], p.get(mode_key), p.get(entities_key), detect=True)


def inline_markup(chat: Chat, markup: JSON | None) -> JSON | None:
    """The inline keyboard a message shows; other keyboards belong to the chat's input field."""
    if markup is None:
        return None
    if "inline_keyboard" in markup:
        rows = [row for row in markup["inline_keyboard"] if row]
        return {"inline_keyboard": rows} if rows else None
    chat.reply_keyboard = None if markup.get("remove_keyboard") else copy.deepcopy(markup)
    return None


def without_reply(message: JSON) -> JSON:
    nested = copy.deepcopy(message)
    nested.pop("reply_to_message", None)
    return nested


def check_thread(chat: Chat, p: JSON) -> None:
    # None of the sandbox's chats are forums, so any thread id points nowhere.
    if p.get("message_thread_id"):
        raise bad_request("message thread not found")


def reply_target(chat: Chat, p: JSON) -> JSON | None:
    params = p.get("reply_parameters")
    if not params:
        return None
    if params.get("chat_id") not in (None, chat.id):
        raise bad_request("replies to other chats are not supported by the sandbox")
    target = chat.messages.get(params["message_id"])
    if target is None:
        if params.get("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")
    return target


def post(ctx: Ctx, chat: Chat, fields: JSON, p: JSON) -> JSON:
    """Add a bot message to the chat the way every send method does."""
    check_thread(chat, p)
    target = reply_target(chat, p)
    if target is not None:
        fields["reply_to_message"] = without_reply(target)
    markup = inline_markup(chat, p.get("reply_markup"))
    if markup is not None:
        fields["reply_markup"] = markup
    if p.get("protect_content"):
        fields["has_protected_content"] = True
    message = chat.add_message(ctx.bot.person, fields)
    chat.emit("new", message)
    ctx.world.touch()
    return message


def own_message(ctx: Ctx, p: JSON) -> tuple[Chat, JSON]:
    if "inline_message_id" in p:
        raise bad_request("the sandbox has no inline messages")
    chat = ctx.chat(p["chat_id"])
    message = ctx.message(chat, p["message_id"], "message to edit not found")
    if message.get("from", {}).get("id") != ctx.bot.id:
        raise bad_request("message can't be edited")
    return chat, message


def apply_edit(ctx: Ctx, chat: Chat, message: JSON, changes: JSON) -> JSON:
    """Replace fields (None removes one); refuse edits that change nothing, like Telegram."""
    edited = copy.deepcopy(message)
    for key, value in changes.items():
        if value is None or value == []:
            edited.pop(key, None)
        else:
            edited[key] = copy.deepcopy(value)
    compared = ("text", "entities", "caption", "caption_entities", "reply_markup", "poll")
    if all(edited.get(k) == message.get(k) for k in compared):
        raise bad_request(NOT_MODIFIED)
    edited["edit_date"] = unix_now()
    chat.messages[edited["message_id"]] = edited
    chat.emit("edit", edited)
    ctx.world.touch()
    return edited


# --- sending ---------------------------------------------------------------------------------


@method("sendMessage")
async def send_message(ctx: Ctx, p: JSON) -> JSON:
    chat = ctx.chat(p["chat_id"])
    text, entities = formatted(p, "text", "parse_mode", "entities")
    fields: JSON = {"text": text}
    if entities:
        fields["entities"] = entities
    if p.get("link_preview_options"):
        fields["link_preview_options"] = p["link_preview_options"]
    return post(ctx, chat, fields, p)


def caption_fields(p: JSON) -> JSON:
    fields: JSON = {}
    if p.get("caption"):
        caption, entities = formatted(p, "caption", "parse_mode", "caption_entities")
        fields["caption"] = caption
        if entities:
            fields["caption_entities"] = entities
    if p.get("show_caption_above_media"):
        fields["show_caption_above_media"] = True
    if p.get("has_spoiler"):
        fields["has_media_spoiler"] = True
    return fields


@method("sendPhoto")
async def send_photo(ctx: Ctx, p: JSON) -> JSON:
    chat = ctx.chat(p["chat_id"])
    value = input_file(p, "photo")
    assert value is not None  # required by the spec
    record = await resolve_input(ctx.world, value, "photo", http=ctx.world.http)
    return post(ctx, chat, {"photo": photo_json(record), **caption_fields(p)}, p)


@method("sendDocument")
async def send_document(ctx: Ctx, p: JSON) -> JSON:
    chat = ctx.chat(p["chat_id"])
    value = input_file(p, "document")
    assert value is not None
    record = await resolve_input(ctx.world, value, "document", http=ctx.world.http)
    if isinstance(input_file(p, "thumbnail"), str):
        # Thumbnails cannot be reused: Telegram only takes them as a new multipart upload.
        raise bad_request("thumbnail must be uploaded as a new file")
    return post(ctx, chat, {"document": document_json(record), **caption_fields(p)}, p)


@method("copyMessage")
async def copy_message(ctx: Ctx, p: JSON) -> JSON:
    message = _duplicate(ctx, p, forwarding=False)
    return {"message_id": message["message_id"]}


@method("forwardMessage")
async def forward_message(ctx: Ctx, p: JSON) -> JSON:
    return _duplicate(ctx, p, forwarding=True)


def _duplicate(ctx: Ctx, p: JSON, *, forwarding: bool) -> JSON:
    from sandbox.polls import clone_poll, register_poll

    source = ctx.chat(p["from_chat_id"], write=False)
    verb = "forwarded" if forwarding else "copied"
    original = ctx.message(
        source, p["message_id"], f"message to {'forward' if forwarding else 'copy'} not found"
    )
    content = {k: copy.deepcopy(original[k]) for k in CONTENT_KEYS if k in original}
    if original.get("has_protected_content") or not content:
        raise bad_request(f"message can't be {verb}")
    chat = ctx.chat(p["chat_id"])
    if "poll" in content:
        content["poll"] = clone_poll(ctx, content["poll"])
    if forwarding:
        content["forward_origin"] = {
            "type": "user",
            "sender_user": original["from"],
            "date": original["date"],
        }
    elif "caption" in p:
        content.pop("caption", None)
        content.pop("caption_entities", None)
        content.update(caption_fields(p))
    message = post(ctx, chat, content, p)
    if "poll" in content:
        register_poll(ctx, chat, message)
    return message


# --- editing and deleting --------------------------------------------------------------------


@method("editMessageText")
async def edit_message_text(ctx: Ctx, p: JSON) -> JSON:
    chat, message = own_message(ctx, p)
    if "text" not in message:
        raise bad_request("there is no text in the message to edit")
    text, entities = formatted(p, "text", "parse_mode", "entities")
    markup = inline_markup(chat, p.get("reply_markup"))
    return apply_edit(
        ctx, chat, message, {"text": text, "entities": entities, "reply_markup": markup}
    )


@method("editMessageCaption")
async def edit_message_caption(ctx: Ctx, p: JSON) -> JSON:
    chat, message = own_message(ctx, p)
    if not any(k in message for k in MEDIA_KEYS if k != "poll"):
        raise bad_request("there is no caption in the message to edit")
    changes: JSON = {"caption": None, "caption_entities": None}
    changes.update(caption_fields(p))
    changes["reply_markup"] = inline_markup(chat, p.get("reply_markup"))
    return apply_edit(ctx, chat, message, changes)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(ctx: Ctx, p: JSON) -> JSON:
    chat, message = own_message(ctx, p)
    return apply_edit(
        ctx, chat, message, {"reply_markup": inline_markup(chat, p.get("reply_markup"))}
    )


def _delete_one(ctx: Ctx, chat: Chat, message_id: int) -> None:
    message = ctx.message(chat, message_id, "message to delete not found")
    own = message.get("from", {}).get("id") == ctx.bot.id
    if chat.is_group and not own:
        member = chat.members.get(ctx.bot.id)
        if member is None or not member.is_admin:
            raise bad_request("message can't be deleted")
    if time.time() - message["date"] > 48 * 3600:
        raise bad_request("message can't be deleted")
    del chat.messages[message_id]
    if message_id in chat.pinned:
        chat.pinned.remove(message_id)
    chat.emit("delete", message)
    ctx.world.touch()


@method("deleteMessage")
async def delete_message(ctx: Ctx, p: JSON) -> bool:
    chat = ctx.chat(p["chat_id"], write=False)
    _delete_one(ctx, chat, p["message_id"])
    return True


@method("deleteMessages")
async def delete_messages(ctx: Ctx, p: JSON) -> bool:
    chat = ctx.chat(p["chat_id"], write=False)
    deleted = 0
    for message_id in p["message_ids"]:
        try:
            _delete_one(ctx, chat, message_id)
            deleted += 1
        except ApiError:
            continue  # Telegram skips the ones it cannot delete
    if not deleted:
        raise bad_request("message to delete not found")
    return True


# --- files, actions, callback answers --------------------------------------------------------


@method("getFile")
async def get_file(ctx: Ctx, p: JSON) -> JSON:
    record = ctx.world.files.get(p["file_id"])
    if record is None:
        raise bad_request("invalid file_id")
    if record.size > GETFILE_MAX_BYTES:
        raise bad_request("file is too big")
    assign_path(ctx.world, record)
    return file_json(record)


@method("sendChatAction")
async def send_chat_action(ctx: Ctx, p: JSON) -> bool:
    chat = ctx.chat(p["chat_id"])
    check_thread(chat, p)
    if p["action"] not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


@method("answerCallbackQuery")
async def answer_callback_query(ctx: Ctx, p: JSON) -> bool:
    world = ctx.world
    record = world.callbacks.get(p["callback_query_id"])
    too_late = record is not None and time.monotonic() - record.created > world.callback_timeout
    if record is None or record.bot_id != ctx.bot.id or record.answered or too_late:
        raise bad_request(CALLBACK_TOO_OLD)
    if p.get("url"):
        # Only game or t.me ?start= links are allowed; the sandbox has neither.
        raise bad_request("URL_INVALID")
    record.answered = True
    record.answer = {k: p[k] for k in ("text", "show_alert", "url", "cache_time") if k in p}
    if record.timer is not None:
        record.timer.cancel()
    record.done.fire()
    world.touch()
    return True
