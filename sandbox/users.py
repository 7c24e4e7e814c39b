"""Simulated Telegram users and groups: the Python API tests drive the bot with.

Everything a user does becomes the update real Telegram would send (message, callback_query,
poll_answer, my_chat_member...), queued for the sandbox's primary bot. Actions a real client
could not perform (pressing a button that is not there, voting in a closed poll) raise
``SimulationError``, an ``AssertionError``, so the test fails at the line that tried.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from sandbox.formatting import detect_entities
from sandbox.media import document_json, guess_mime, image_size, photo_json
from sandbox.polls import cast_vote, retract_vote
from sandbox.state import (
    BotMessage,
    BotState,
    CallbackRecord,
    Chat,
    Member,
    Person,
    SimulationError,
    World,
    unix_now,
)

JSON = dict[str, Any]
MessageRef = BotMessage | JSON | int
CALLBACK_ID_BASE = 6_100_000_000_000_000_000


# --- delivery --------------------------------------------------------------------------------


def bot_by_id(world: World, bot_id: int) -> BotState | None:
    token = world.bot_tokens_by_id.get(bot_id)
    return world.bots.get(token) if token else None


def _addressed_command(text: str, username: str | None) -> bool:
    if not text.startswith("/"):
        return False
    command = text.split(maxsplit=1)[0]
    if "@" not in command:
        return True
    return bool(username) and command.split("@", 1)[1].lower() == (username or "").lower()


def bot_receives(world: World, bot: BotState, chat: Chat, message: JSON) -> bool:
    """Group privacy mode: commands, replies to the bot and service messages only."""
    member = chat.members.get(bot.id)
    if member is None or not member.present:
        return False
    if not world.privacy_mode or member.is_admin:
        return True
    body = message.get("text") or message.get("caption")
    if body is None:
        return not any(k in message for k in ("photo", "document", "poll"))
    if _addressed_command(body, bot.person.username):
        return True
    replied = message.get("reply_to_message", {})
    return bool(replied.get("from", {}).get("id") == bot.id)


def deliver(world: World, chat: Chat, message: JSON, kind: str = "message") -> None:
    if chat.type == "private":
        bot = bot_by_id(world, chat.bot_id or 0)
        if bot is not None:
            world.enqueue(bot, kind, message)
        return
    for bot in list(world.bots.values()):
        if bot_receives(world, bot, chat, message):
            world.enqueue(bot, kind, message)


def _member_update(
    world: World, bot: BotState, chat: Chat, by: Person, old: JSON, new: JSON, kind: str
) -> None:
    world.enqueue(
        bot,
        kind,
        {
            "chat": chat.to_json(),
            "from": by.to_json(),
            "date": unix_now(),
            "old_chat_member": old,
            "new_chat_member": new,
        },
    )


def set_bot_status(world: World, chat: Chat, bot: BotState, status: str, *, by: Person) -> None:
    """Change the bot's membership in a group and tell it with my_chat_member."""
    previous = chat.members.get(bot.id)
    old = previous.to_json() if previous else {"status": "left", "user": bot.person.to_json()}
    if previous is not None and previous.present and status in ("left", "kicked"):
        chat.add_message(by, {"left_chat_member": bot.person.to_json()})
    chat.members[bot.id] = Member(bot.person, status)
    _member_update(world, bot, chat, by, old, chat.members[bot.id].to_json(), "my_chat_member")
    if status in ("member", "administrator") and not (previous and previous.present):
        joined = chat.add_message(by, {"new_chat_members": [bot.person.to_json()]})
        deliver(world, chat, joined)


def _announce_member(world: World, chat: Chat, by: Person, old: JSON, new: JSON) -> None:
    for bot in list(world.bots.values()):
        member = chat.members.get(bot.id)
        if member is not None and member.present:
            _member_update(world, bot, chat, by, old, new, "chat_member")


# --- observing what the bot does -------------------------------------------------------------


class _ChatObserver:
    """Reads the bot's actions in one chat, in order, each at most once."""

    _world: World
    _cursor: int

    def _chat(self) -> Chat:
        raise NotImplementedError

    @property
    def transcript(self) -> list[JSON]:
        """Every message in the chat (user's and bot's), current versions, oldest first."""
        return self._chat().transcript()

    def pending(self) -> list[BotMessage]:
        """Bot actions not yet consumed by next_message, without consuming them."""
        return list(self._chat().events[self._cursor :])

    async def next_message(self, timeout: float = 5.0) -> BotMessage:  # noqa: ASYNC109 (the documented API)
        """The next message the bot sent, edited, deleted or pinned in this chat."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            chat = self._chat()
            if self._cursor < len(chat.events):
                event = chat.events[self._cursor]
                self._cursor += 1
                return event
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(self._timeout_report(chat, timeout))
            await chat.changed.wait(remaining)

    async def expect_silence(self, within: float = 0.3) -> None:
        """Assert the bot does nothing in this chat for ``within`` seconds."""
        await asyncio.sleep(within)
        extra = self.pending()
        if extra:
            raise AssertionError(f"expected no message from the bot, got {extra}")

    def _timeout_report(self, chat: Chat, timeout: float) -> str:
        world = self._world
        failed = [
            f"  {c.method} -> {c.status} {c.description}"
            for c in world.calls[-50:]
            if not c.ok and _call_chat(c.params) in (chat.id, None)
        ][-5:]
        lines = [
            f"no message from the bot in chat {chat.id} within {timeout:g}s",
            "recent transcript:",
            chat.render_transcript(),
        ]
        if failed:
            lines += ["recent failed API calls:", *failed]
        if world.violations:
            lines += ["violations so far:", *(f"  {v}" for v in world.violations[-5:])]
        return "\n".join(lines)


def _call_chat(params: JSON) -> int | None:
    value = params.get("chat_id")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _ref(message: MessageRef, default_chat: int) -> tuple[int, int]:
    if isinstance(message, BotMessage):
        return message.chat_id, message.message_id
    if isinstance(message, dict):
        return int(message["chat"]["id"]), int(message["message_id"])
    return default_chat, int(message)


# --- users -----------------------------------------------------------------------------------


class SimUser(_ChatObserver):
    """A person using Telegram; talks to the sandbox's primary bot, or to the bot whose token
    it was made with (a deployment of several bots, one per instansi)."""

    def __init__(self, world: World, person: Person, bot_token: str | None = None) -> None:
        self._world = world
        self.person = person
        self._cursor = 0
        self._bot_token = bot_token

    def __repr__(self) -> str:
        return f"SimUser({self.person.full_name!r}, id={self.id})"

    @property
    def id(self) -> int:
        return self.person.id

    @property
    def chat_id(self) -> int:
        """The private chat with the bot; Telegram gives it the user's id."""
        return self.person.id

    @property
    def first_name(self) -> str:
        return self.person.first_name

    @property
    def last_name(self) -> str | None:
        return self.person.last_name

    @property
    def username(self) -> str | None:
        return self.person.username

    @property
    def language_code(self) -> str | None:
        return self.person.language_code

    def to_json(self) -> JSON:
        return self.person.to_json()

    @property
    def bot(self) -> BotState:
        if self._bot_token is not None:
            return self._world.bot(self._bot_token)
        return self._world.primary

    def _chat(self) -> Chat:
        return self._world.private_chat(self.bot, self.person)

    @property
    def started(self) -> bool:
        return self._chat().started

    def start_quietly(self) -> None:
        """The user pressed Start long ago: the bot may write to them, and no update comes
        now (for audiences of hundreds, whose /start the test does not need to see)."""
        self._chat().started = True

    @property
    def blocked(self) -> bool:
        return self._chat().blocked

    @property
    def reply_keyboard(self) -> JSON | None:
        """The reply keyboard (or force_reply) the bot last showed in the private chat."""
        return self._chat().reply_keyboard

    # --- chats the user can act in ---------------------------------------------------------

    def _chat_by_id(self, chat_id: int) -> Chat:
        if chat_id == self.chat_id:
            chat = self._chat()
            if chat.blocked:
                raise SimulationError(f"{self} blocked the bot; call unblock() first")
            return chat
        chat = self._world.groups.get(chat_id)
        if chat is None:
            raise SimulationError(f"no chat {chat_id} in the sandbox")
        member = chat.members.get(self.id)
        if member is None or not member.present:
            raise SimulationError(f"{self} is not a member of {chat.title!r}")
        if chat.migrated_to is not None:
            raise SimulationError(f"{chat.title!r} was migrated to {chat.migrated_to}")
        return chat

    def _write(self, chat: Chat, fields: JSON, reply_to: MessageRef | None) -> JSON:
        if reply_to is not None:
            reply_to = _ref(reply_to, chat.id)[1]
            target = chat.messages.get(reply_to)
            if target is None:
                raise SimulationError(f"message {reply_to} does not exist in chat {chat.id}")
            fields["reply_to_message"] = {
                k: v for k, v in target.items() if k != "reply_to_message"
            }
        if chat.type == "private":
            chat.started = True
        message = chat.add_message(self.person, fields)
        deliver(self._world, chat, message)
        return message

    @staticmethod
    def _text_fields(text: str) -> JSON:
        if not text:
            raise SimulationError("Telegram clients do not send empty messages")
        fields: JSON = {"text": text}
        entities = detect_entities(text)
        if entities:
            fields["entities"] = entities
        return fields

    # --- actions ---------------------------------------------------------------------------

    async def send(self, text: str, *, reply_to: MessageRef | None = None) -> JSON:
        """Send text to the bot in the private chat; returns the user's Message."""
        message = self._write(self._chat_by_id(self.chat_id), self._text_fields(text), reply_to)
        await asyncio.sleep(0)
        return message

    async def send_in(
        self, group: SimGroup, text: str, *, reply_to: MessageRef | None = None
    ) -> JSON:
        chat = self._chat_by_id(group.chat_id)
        message = self._write(chat, self._text_fields(text), reply_to)
        await asyncio.sleep(0)
        return message

    async def edit(self, message: MessageRef, text: str) -> JSON:
        """Edit one of the user's own messages (an edited_message update)."""
        chat_id, message_id = _ref(message, self.chat_id)
        chat = self._chat_by_id(chat_id)
        current = chat.messages.get(message_id)
        if current is None or current["from"]["id"] != self.id:
            raise SimulationError("users can only edit their own existing messages")
        current.pop("entities", None)
        current.update(self._text_fields(text))
        current["edit_date"] = unix_now()
        deliver(self._world, chat, current, "edited_message")
        await asyncio.sleep(0)
        return dict(current)

    async def press(
        self, message: MessageRef, text: str | None = None, *, data: str | None = None
    ) -> str:
        """Press the inline button (by text or callback data) the message shows right now."""
        if (text is None) == (data is None):
            raise TypeError("pass exactly one of text or data")
        chat_id, message_id = _ref(message, self.chat_id)
        chat = self._chat_by_id(chat_id)
        current = chat.messages.get(message_id)
        if current is None:
            raise SimulationError(f"message {message_id} is gone; there is nothing to press")
        rows = current.get("reply_markup", {}).get("inline_keyboard", [])
        buttons = [b for row in rows for b in row]
        match = [
            b
            for b in buttons
            if (text is not None and b["text"] == text)
            or (data is not None and b.get("callback_data") == data)
        ]
        if not match:
            shown = [[b["text"] for b in row] for row in rows]
            wanted = f"text {text!r}" if text is not None else f"data {data!r}"
            raise SimulationError(
                f"message {message_id} has no button with {wanted}; it shows {shown}"
            )
        button = match[0]
        if "callback_data" not in button:
            raise SimulationError(f"button {button['text']!r} does not send a callback query")
        return self._callback(chat, current, button["callback_data"])

    async def press_forged(
        self, message_id: int, data: str, *, chat: SimGroup | None = None
    ) -> str:
        """A hostile client's callback query: any data, for any message id."""
        target = self._chat_by_id(chat.chat_id if chat else self.chat_id)
        message = target.messages.get(message_id)
        if message is None:
            # Telegram reports messages it cannot show as InaccessibleMessage (date 0).
            message = {"chat": target.to_json(), "message_id": message_id, "date": 0}
        return self._callback(target, message, data)

    def _callback(self, chat: Chat, message: JSON, data: str) -> str:
        world = self._world
        bot = self.bot
        query_id = str(CALLBACK_ID_BASE + world.new_id())
        update = world.enqueue(
            bot,
            "callback_query",
            {
                "id": query_id,
                "from": self.person.to_json(),
                "message": message,
                "chat_instance": str(abs(chat.id * 7919 + bot.id) % 10**18),
                "data": data,
            },
        )
        if update is not None:
            record = CallbackRecord(
                id=query_id,
                bot_id=bot.id,
                user_id=self.id,
                chat_id=chat.id,
                message_id=int(message["message_id"]),
                data=data,
                created=time.monotonic(),
            )
            world.callbacks[query_id] = record
            loop = asyncio.get_running_loop()
            record.timer = loop.call_later(world.callback_timeout, expire_callback, world, record)
        return query_id

    def _poll(self, message: MessageRef) -> tuple[Chat, Any]:
        chat_id, message_id = _ref(message, self.chat_id)
        chat = self._chat_by_id(chat_id)
        current = chat.messages.get(message_id)
        if current is None or "poll" not in current:
            raise SimulationError(f"message {message_id} is not a poll")
        return chat, self._world.polls[current["poll"]["id"]]

    async def answer_poll(self, message: MessageRef, option_ids: Sequence[int]) -> None:
        chat, record = self._poll(message)
        bot = bot_by_id(self._world, record.bot_id) or self.bot
        cast_vote(self._world, bot, chat, self.person, record, list(option_ids))
        await asyncio.sleep(0)

    async def retract_vote(self, message: MessageRef) -> None:
        chat, record = self._poll(message)
        bot = bot_by_id(self._world, record.bot_id) or self.bot
        retract_vote(self._world, bot, chat, self.person, record)
        await asyncio.sleep(0)

    def _caption(self, caption: str | None) -> JSON:
        if not caption:
            return {}
        fields: JSON = {"caption": caption}
        entities = detect_entities(caption)
        if entities:
            fields["caption_entities"] = entities
        return fields

    async def upload_document(
        self,
        filename: str,
        data: bytes,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        group: SimGroup | None = None,
    ) -> JSON:
        """Send a file as a document (users may send up to 2 GB; getFile serves ≤ 20 MB)."""
        if not data:
            raise SimulationError("Telegram clients do not send empty files")
        record = self._world.new_file(
            "document", data, file_name=filename, mime_type=mime_type or guess_mime(filename, None)
        )
        chat = self._chat_by_id(group.chat_id if group else self.chat_id)
        fields = {"document": document_json(record), **self._caption(caption)}
        message = self._write(chat, fields, None)
        await asyncio.sleep(0)
        return message

    async def upload_photo(
        self, data: bytes, *, caption: str | None = None, group: SimGroup | None = None
    ) -> JSON:
        size = image_size(data)
        if size is None:
            raise SimulationError("upload_photo needs PNG, JPEG, GIF or WebP bytes")
        record = self._world.new_file(
            "photo", data, mime_type="image/jpeg", width=size[0], height=size[1]
        )
        chat = self._chat_by_id(group.chat_id if group else self.chat_id)
        message = self._write(chat, {"photo": photo_json(record), **self._caption(caption)}, None)
        await asyncio.sleep(0)
        return message

    async def block(self) -> None:
        await self._set_blocked(True)

    async def unblock(self) -> None:
        await self._set_blocked(False)

    async def _set_blocked(self, blocked: bool) -> None:
        chat = self._chat()
        if chat.blocked == blocked:
            raise SimulationError(f"{self} has {'already' if blocked else 'not'} blocked the bot")
        chat.blocked = blocked
        bot = self.bot
        member = {"status": "member", "user": bot.person.to_json()}
        kicked = {"status": "kicked", "user": bot.person.to_json(), "until_date": 0}
        old, new = (member, kicked) if blocked else (kicked, member)
        _member_update(self._world, bot, chat, self.person, old, new, "my_chat_member")
        await asyncio.sleep(0)


def expire_callback(world: World, record: CallbackRecord) -> None:
    """Timer callback: a query the bot left unanswered is a violation (the client spins)."""
    if record.answered or record.id not in world.callbacks:
        return
    world.violation(
        "answerCallbackQuery",
        {"callback_query_id": record.id, "data": record.data},
        f"callback query not answered within {world.callback_timeout:g}s",
    )
    record.answered = True  # reported once; a late answer now gets Telegram's 400
    record.answer = None


# --- groups ----------------------------------------------------------------------------------


class SimGroup(_ChatObserver):
    """A group or supergroup of simulated users, optionally with the bot in it."""

    def __init__(self, world: World, chat: Chat) -> None:
        self._world = world
        self._chat_id = chat.id
        self.old_chat_id: int | None = None
        self._cursor = 0

    def __repr__(self) -> str:
        return f"SimGroup({self.title!r}, id={self.chat_id})"

    def _chat(self) -> Chat:
        return self._world.groups[self._chat_id]

    @property
    def chat_id(self) -> int:
        return self._chat_id

    @property
    def title(self) -> str:
        return self._chat().title or ""

    @property
    def type(self) -> str:
        return self._chat().type

    def _actor(self, by: SimUser | None) -> Person:
        if by is not None:
            return by.person
        chat = self._chat()
        present = [m for m in chat.members.values() if m.present and not m.person.is_bot]
        admins = [m for m in present if m.is_admin]
        if not present:
            raise SimulationError(f"{self} has no users; add one before the bot")
        return (admins or present)[0].person

    async def add(self, user: SimUser, *, admin: bool = False, owner: bool = False) -> None:
        chat = self._chat()
        previous = chat.members.get(user.id)
        if previous is not None and previous.present:
            raise SimulationError(f"{user} is already in {self}")
        old = previous.to_json() if previous else {"status": "left", "user": user.to_json()}
        status = "creator" if owner else "administrator" if admin else "member"
        chat.members[user.id] = Member(user.person, status)
        joined = chat.add_message(user.person, {"new_chat_members": [user.to_json()]})
        deliver(self._world, chat, joined)
        _announce_member(self._world, chat, user.person, old, chat.members[user.id].to_json())
        await asyncio.sleep(0)

    async def remove(self, user: SimUser) -> None:
        chat = self._chat()
        member = chat.members.get(user.id)
        if member is None or not member.present:
            raise SimulationError(f"{user} is not in {self}")
        old = member.to_json()
        chat.members[user.id] = Member(user.person, "left")
        left = chat.add_message(user.person, {"left_chat_member": user.to_json()})
        deliver(self._world, chat, left)
        _announce_member(self._world, chat, user.person, old, chat.members[user.id].to_json())
        await asyncio.sleep(0)

    async def make_admin(self, user: SimUser, admin: bool = True) -> None:
        chat = self._chat()
        member = chat.members.get(user.id)
        if member is None or not member.present:
            raise SimulationError(f"{user} is not in {self}")
        old = member.to_json()
        member.status = "administrator" if admin else "member"
        _announce_member(self._world, chat, self._actor(None), old, member.to_json())
        await asyncio.sleep(0)

    async def add_bot(
        self, *, admin: bool = False, by: SimUser | None = None, token: str | None = None
    ) -> None:
        chat = self._chat()
        bot = self._world.bot(token) if token else self._world.primary
        member = chat.members.get(bot.id)
        if member is not None and member.present:
            raise SimulationError("the bot is already in the group")
        status = "administrator" if admin else "member"
        set_bot_status(self._world, chat, bot, status, by=self._actor(by))
        await asyncio.sleep(0)

    async def set_bot_admin(self, admin: bool = True, *, by: SimUser | None = None) -> None:
        chat = self._chat()
        bot = self._world.primary
        member = chat.members.get(bot.id)
        if member is None or not member.present:
            raise SimulationError("the bot is not in the group")
        set_bot_status(
            self._world, chat, bot, "administrator" if admin else "member", by=self._actor(by)
        )
        await asyncio.sleep(0)

    async def remove_bot(self, *, by: SimUser | None = None) -> None:
        chat = self._chat()
        bot = self._world.primary
        member = chat.members.get(bot.id)
        if member is None or not member.present:
            raise SimulationError("the bot is not in the group")
        # Removing from a supergroup bans; from a basic group it just removes.
        status = "kicked" if chat.type == "supergroup" else "left"
        set_bot_status(self._world, chat, bot, status, by=self._actor(by))
        await asyncio.sleep(0)

    async def migrate_to_supergroup(self, *, by: SimUser | None = None) -> int:
        """Upgrade the group; returns the new ``-100…`` chat id (the old id stops working)."""
        world = self._world
        old = self._chat()
        if old.type != "group":
            raise SimulationError("only basic groups can be migrated")
        actor = self._actor(by)
        new = world.new_group(old.title or "", supergroup=True)
        new.members = {uid: Member(m.person, m.status) for uid, m in old.members.items()}
        new.migrated_from = old.id
        moved = old.add_message(actor, {"migrate_to_chat_id": new.id})
        old.migrated_to = new.id
        deliver(world, old, moved)
        arrived = new.add_message(actor, {"migrate_from_chat_id": old.id})
        deliver(world, new, arrived)
        self.old_chat_id = old.id
        self._chat_id = new.id
        self._cursor = 0
        await asyncio.sleep(0)
        return new.id
