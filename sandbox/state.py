"""The sandbox's in-memory world: bots, people, chats, messages, polls, files and records.

Everything lives in one event loop, so nothing here needs locks; ``Signal`` wakes the
coroutines (long polls, webhook senders, simulated users) that wait for a change.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from sandbox.errors import ApiError, bad_request
from sandbox.ratelimit import RateLimiter, RateLimits

JSON = dict[str, Any]

# Update types Telegram delivers when allowed_updates is empty or was never set.
ALL_UPDATE_TYPES: frozenset[str] = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
        "managed_bot",
    }
)
DEFAULT_UPDATE_TYPES: frozenset[str] = ALL_UPDATE_TYPES - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}

FIRST_USER_ID = 5_000_000_001
FIRST_GROUP_NUMBER = 4_000_000_001
FIRST_SUPERGROUP_NUMBER = 2_000_000_001
GETFILE_MAX_BYTES = 20 * 1024 * 1024


class SimulationError(AssertionError):
    """A simulated user tried something a real Telegram client cannot do."""


def unix_now() -> int:
    return int(time.time())


class Signal:
    """A broadcast wake-up: every waiter present when ``fire`` runs is released."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float | None) -> None:
        """Return when fired or after ``seconds`` (None: no limit), whichever is first."""
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)


@dataclass
class Person:
    """A Telegram account: a simulated user or a bot."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_json(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


ADMIN_RIGHTS: tuple[str, ...] = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_pin_messages",
)


@dataclass
class Member:
    """Membership of one person in a group; status uses Telegram's names."""

    person: Person
    status: str  # creator | administrator | member | left | kicked

    @property
    def present(self) -> bool:
        return self.status in ("creator", "administrator", "member")

    @property
    def is_admin(self) -> bool:
        return self.status in ("creator", "administrator")

    def to_json(self) -> JSON:
        data: JSON = {"status": self.status, "user": self.person.to_json()}
        if self.status == "creator":
            data["is_anonymous"] = False
        elif self.status == "administrator":
            data.update({"can_be_edited": False, "is_anonymous": False})
            data.update(dict.fromkeys(ADMIN_RIGHTS, True))
            data["can_promote_members"] = False
        elif self.status == "kicked":
            data["until_date"] = 0
        return data


@dataclass
class BotMessage:
    """What a simulated user observes of the bot: a new message, an edit or a deletion."""

    kind: str  # "new" | "edit" | "delete" | "pin"
    message: JSON

    def __getitem__(self, key: str) -> Any:
        if key == "kind":
            return self.kind
        return self.message[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.kind if key == "kind" else self.message.get(key, default)

    @property
    def message_id(self) -> int:
        return int(self.message["message_id"])

    @property
    def chat_id(self) -> int:
        return int(self.message["chat"]["id"])

    @property
    def text(self) -> str | None:
        return self.message.get("text")

    @property
    def entities(self) -> list[JSON]:
        return list(self.message.get("entities", []))

    @property
    def caption(self) -> str | None:
        return self.message.get("caption")

    @property
    def reply_markup(self) -> JSON | None:
        return self.message.get("reply_markup")

    @property
    def poll(self) -> JSON | None:
        return self.message.get("poll")

    @property
    def photo(self) -> list[JSON] | None:
        return self.message.get("photo")

    @property
    def document(self) -> JSON | None:
        return self.message.get("document")

    @property
    def buttons(self) -> list[list[str]]:
        """Inline keyboard button texts, row by row."""
        markup = self.reply_markup or {}
        return [[b["text"] for b in row] for row in markup.get("inline_keyboard", [])]

    def __repr__(self) -> str:
        body = self.text if self.text is not None else self.caption
        return f"BotMessage({self.kind} #{self.message_id}: {body!r}, buttons={self.buttons})"


class Chat:
    """A private chat (one per bot and user) or a group/supergroup shared by all bots."""

    def __init__(
        self,
        chat_id: int,
        chat_type: str,
        *,
        title: str | None = None,
        partner: Person | None = None,
        bot_id: int | None = None,
    ) -> None:
        self.id = chat_id
        self.type = chat_type
        self.title = title
        self.partner = partner  # the user of a private chat
        self.bot_id = bot_id  # the bot of a private chat
        self.members: dict[int, Member] = {}
        self.messages: dict[int, JSON] = {}
        self.next_message_id = 1
        self.migrated_to: int | None = None
        self.migrated_from: int | None = None
        self.started = False  # private chats: the user pressed Start
        self.blocked = False  # private chats: the user blocked the bot
        self.events: list[BotMessage] = []
        self.changed = Signal()
        self.pinned: list[int] = []
        self.reply_keyboard: JSON | None = None  # last non-inline keyboard the bot sent

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def to_json(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type}
        if self.type == "private" and self.partner is not None:
            data["first_name"] = self.partner.first_name
            if self.partner.last_name:
                data["last_name"] = self.partner.last_name
            if self.partner.username:
                data["username"] = self.partner.username
        else:
            data["title"] = self.title
        return data

    def add_message(self, sender: Person, fields: JSON, *, date: int | None = None) -> JSON:
        message: JSON = {
            "message_id": self.next_message_id,
            "from": sender.to_json(),
            "chat": self.to_json(),
            "date": date if date is not None else unix_now(),
        }
        message.update(fields)
        self.next_message_id += 1
        self.messages[message["message_id"]] = message
        self.changed.fire()
        return message

    def emit(self, kind: str, message: JSON) -> None:
        """Record something the bot did, for ``next_message`` consumers."""
        self.events.append(BotMessage(kind, copy.deepcopy(message)))
        self.changed.fire()

    def transcript(self) -> list[JSON]:
        return [copy.deepcopy(m) for m in self.messages.values()]

    def render_transcript(self, last: int = 12) -> str:
        lines = []
        for message in list(self.messages.values())[-last:]:
            sender = message.get("from", {}).get("username") or message.get("from", {}).get(
                "first_name", "?"
            )
            body = message.get("text") or message.get("caption") or _service_summary(message)
            markup = message.get("reply_markup", {}).get("inline_keyboard")
            buttons = f" buttons={[[b['text'] for b in r] for r in markup]}" if markup else ""
            lines.append(f"  #{message['message_id']} {sender}: {body!r}{buttons}")
        return "\n".join(lines) or "  (no messages)"


def _service_summary(message: JSON) -> str:
    for key in ("poll", "photo", "document", "new_chat_members", "left_chat_member"):
        if key in message:
            return f"<{key}>"
    return "<service message>"


@dataclass
class FileRecord:
    file_id: str
    file_unique_id: str
    kind: str  # "document" | "photo"
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    file_path: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class PollRecord:
    poll: JSON
    chat_id: int
    message_id: int
    bot_id: int
    votes: dict[int, list[int]] = field(default_factory=dict)


@dataclass
class CallbackRecord:
    id: str
    bot_id: int
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created: float
    answered: bool = False
    answer: JSON | None = None
    timer: asyncio.TimerHandle | None = None
    done: Signal = field(default_factory=Signal)


@dataclass
class Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class ApiCall:
    """One Bot API request as the sandbox saw it (tokens are never stored)."""

    method: str
    params: JSON
    ok: bool
    status: int
    description: str | None
    result: Any
    time: float
    duration: float
    bot_id: int | None


@dataclass
class Violation:
    """A request real Telegram would reject (or a duty the bot skipped)."""

    method: str
    params: JSON
    description: str
    status: int
    time: float
    note: str | None = None

    def __str__(self) -> str:
        note = f" [{self.note}]" if self.note else ""
        return f"{self.method}({_short(self.params)}) -> {self.status} {self.description}{note}"


@dataclass
class Event:
    """Something notable that is not a violation (expected 403s, webhook retries...)."""

    kind: str
    description: str
    time: float
    method: str | None = None


def _short(params: JSON) -> str:
    parts = []
    for key, value in params.items():
        text = repr(value)
        parts.append(f"{key}={text[:60] + '…' if len(text) > 60 else text}")
    return ", ".join(parts)


class BotState:
    """Everything Telegram keeps per bot token."""

    def __init__(self, token: str, person: Person, limits: RateLimits | None) -> None:
        self.token = token
        self.person = person
        self.updates: list[JSON] = []
        self.next_update_id = 1
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self.webhook: Webhook | None = None
        self.webhook_task: asyncio.Task[None] | None = None
        self.poll_generation = 0
        self.active_polls = 0
        self.last_poll: float | None = None
        self.inflight = 0
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.private_chats: dict[int, Chat] = {}
        self.limiter = RateLimiter(limits)
        self.updates_changed = Signal()
        self.texts: dict[str, str] = {}  # name/description/short_description per language
        self.menu_buttons: dict[int | None, JSON] = {}
        self.default_admin_rights: dict[bool, JSON] = {}

    @property
    def id(self) -> int:
        return self.person.id


def summarize(params: JSON, limit: int = 200) -> JSON:
    """Params for records: uploads reduced to a description, long strings cut."""
    from sandbox.errors import UploadedFile

    out: JSON = {}
    for key, value in params.items():
        if isinstance(value, UploadedFile):
            out[key] = f"<upload {value.filename!r}, {len(value.data)} bytes>"
        elif isinstance(value, bytes):
            out[key] = f"<{len(value)} bytes>"
        elif isinstance(value, str) and len(value) > limit:
            out[key] = value[:limit] + f"…(+{len(value) - limit})"
        else:
            out[key] = value
    return out


class World:
    """All sandbox state shared by the HTTP server, the methods and the simulated users."""

    def __init__(
        self,
        *,
        token: str | None,
        bot_username: str,
        bot_first_name: str,
        rate_limits: RateLimits | None,
        callback_timeout: float,
        privacy_mode: bool,
    ) -> None:
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.rate_limits = rate_limits
        self.callback_timeout = callback_timeout
        self.privacy_mode = privacy_mode
        self.webhook_retry_delay = 0.2
        self.closing = False  # set on shutdown so held long polls return at once
        self._primary_token = token
        self.bots: dict[str, BotState] = {}
        self.bot_tokens_by_id: dict[int, str] = {}
        self.users: dict[int, Person] = {}
        self.groups: dict[int, Chat] = {}
        self.files: dict[str, FileRecord] = {}
        self.file_paths: dict[str, FileRecord] = {}
        self.polls: dict[str, PollRecord] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.calls: list[ApiCall] = []
        self.violations: list[Violation] = []
        self.events: list[Event] = []
        self.inflight = 0
        self.http: aiohttp.ClientSession | None = None  # set by the server while running
        self.on_violation: Callable[[Violation], None] | None = None
        self.last_activity = time.monotonic()
        self.activity = Signal()
        self._user_ids = itertools.count(FIRST_USER_ID)
        self._group_numbers = itertools.count(FIRST_GROUP_NUMBER)
        self._supergroup_numbers = itertools.count(FIRST_SUPERGROUP_NUMBER)
        self._file_numbers = itertools.count(1)
        self._ids = itertools.count(1)

    # --- bots -----------------------------------------------------------------------------

    @property
    def primary_token(self) -> str:
        """The token simulated users talk to: the configured one, else the first seen."""
        if self._primary_token is None:
            if self.bots:
                self._primary_token = next(iter(self.bots))
            else:
                self._primary_token = make_token()
        return self._primary_token

    @property
    def has_primary(self) -> bool:
        return self._primary_token is not None or bool(self.bots)

    @property
    def primary(self) -> BotState:
        return self.bot(self.primary_token)

    def bot(self, token: str) -> BotState:
        """The bot for a well-formed token, created on first use."""
        state = self.bots.get(token)
        if state is not None:
            return state
        bot_id = int(token.split(":", 1)[0])
        if bot_id in self.bot_tokens_by_id:
            # Same bot id with another secret part: Telegram rejects the token.
            raise ApiError(401, "Unauthorized")
        if self._primary_token is None:
            self._primary_token = token
        if token == self._primary_token:
            person = Person(bot_id, self.bot_first_name, username=self.bot_username, is_bot=True)
        else:
            person = Person(bot_id, f"Bot {bot_id}", username=f"bot{bot_id}_bot", is_bot=True)
        state = BotState(token, person, self.rate_limits)
        self.bots[token] = state
        self.bot_tokens_by_id[bot_id] = token
        return state

    # --- ids --------------------------------------------------------------------------------

    def new_id(self) -> int:
        return next(self._ids)

    def new_user(
        self,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
    ) -> Person:
        person = Person(next(self._user_ids), first_name, last_name, username, language_code)
        self.users[person.id] = person
        return person

    def new_group(self, title: str, *, supergroup: bool) -> Chat:
        if supergroup:
            chat_id = -int(f"100{next(self._supergroup_numbers)}")
            chat = Chat(chat_id, "supergroup", title=title)
        else:
            chat = Chat(-next(self._group_numbers), "group", title=title)
        self.groups[chat.id] = chat
        return chat

    def new_file(
        self,
        kind: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> FileRecord:
        number = next(self._file_numbers)
        prefix = "AgACAgUAAxk" if kind == "photo" else "BQACAgUAAxk"
        record = FileRecord(
            file_id=f"{prefix}{number:06d}{secrets.token_urlsafe(24)}",
            file_unique_id=f"AQAD{number:06d}{secrets.token_urlsafe(6)}",
            kind=kind,
            data=data,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self.files[record.file_id] = record
        return record

    # --- chats ------------------------------------------------------------------------------

    def private_chat(self, bot: BotState, user: Person) -> Chat:
        chat = bot.private_chats.get(user.id)
        if chat is None:
            chat = Chat(user.id, "private", partner=user, bot_id=bot.id)
            chat.members[user.id] = Member(user, "member")
            chat.members[bot.id] = Member(bot.person, "member")
            bot.private_chats[user.id] = chat
        return chat

    def resolve_chat(self, bot: BotState, chat_id: int | str, *, write: bool = True) -> Chat:
        """The chat a request targets, or the error Telegram gives for it.

        ``write`` asks whether the bot may post there (blocked users etc.); reads such as
        getChat only need the chat to be known to the bot.
        """
        if isinstance(chat_id, str):
            stripped = chat_id.strip()
            if stripped.lstrip("-").isdigit():
                chat_id = int(stripped)
            else:
                raise bad_request("chat not found")
        if chat_id > 0:
            chat = bot.private_chats.get(chat_id)
            user = self.users.get(chat_id)
            if chat is None or not chat.started:
                if user is not None and write:
                    raise expected_forbidden("bot can't initiate conversation with a user")
                raise bad_request("chat not found")
            if write and chat.blocked:
                raise expected_forbidden("bot was blocked by the user")
            return chat
        chat = self.groups.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=chat.migrated_to,
                violation=False,
            )
        member = chat.members.get(bot.id)
        kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
        if member is None or member.status == "left":
            if member is None and not write:
                raise bad_request("chat not found")
            raise expected_forbidden(f"bot is not a member of the {kind}")
        if member.status == "kicked":
            raise expected_forbidden(f"bot was kicked from the {kind}")
        return chat

    # --- updates ----------------------------------------------------------------------------

    def enqueue(self, bot: BotState, kind: str, payload: JSON) -> JSON | None:
        """Queue an update for the bot unless its allowed_updates filter drops it."""
        if kind not in bot.allowed_updates:
            self.event("update_filtered", f"{kind} update dropped by allowed_updates")
            return None
        update: JSON = {"update_id": bot.next_update_id, kind: copy.deepcopy(payload)}
        bot.next_update_id += 1
        bot.updates.append(update)
        bot.updates_changed.fire()
        self.touch()
        return update

    # --- records ----------------------------------------------------------------------------

    def touch(self) -> None:
        self.last_activity = time.monotonic()
        self.activity.fire()

    def violation(
        self, method: str, params: JSON, error: ApiError | str, *, note: str | None = None
    ) -> Violation:
        if isinstance(error, ApiError):
            record = Violation(
                method,
                summarize(params),
                error.description,
                error.status,
                time.time(),
                note or error.extra.get("note"),
            )
        else:
            record = Violation(method, summarize(params), error, 0, time.time(), note)
        self.violations.append(record)
        if self.on_violation is not None:
            self.on_violation(record)
        return record

    def event(self, kind: str, description: str, method: str | None = None) -> None:
        self.events.append(Event(kind, description, time.time(), method))


def expected_forbidden(detail: str) -> ApiError:
    """A 403 a careful bot cannot foresee (the user blocked it, it was removed)."""
    return ApiError(403, f"Forbidden: {detail}", violation=False)


def make_token(bot_id: int | None = None) -> str:
    """A token shaped like BotFather's: ``<digits>:<35 chars of [A-Za-z0-9_-]>``."""
    number = bot_id if bot_id is not None else 7_000_000_000 + secrets.randbelow(999_999_999)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    secret = "AA" + "".join(secrets.choice(alphabet) for _ in range(33))
    return f"{number}:{secret}"
