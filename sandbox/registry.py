"""The table of implemented Bot API methods and the context each implementation receives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sandbox.errors import ApiError, UploadedFile, bad_request
from sandbox.state import BotState, Chat, World

JSON = dict[str, Any]


@dataclass
class Ctx:
    """One API request: the world, the calling bot and (for long polls) the HTTP request."""

    world: World
    bot: BotState
    request: web.Request | None = None

    def chat(self, chat_id: int | str, *, write: bool = True) -> Chat:
        return self.world.resolve_chat(self.bot, chat_id, write=write)

    def message(self, chat: Chat, message_id: int, missing: str) -> JSON:
        message = chat.messages.get(message_id)
        if message is None:
            raise bad_request(missing)
        return message


@dataclass
class Reply:
    """A successful result that also carries Telegram's informational ``description``."""

    result: Any
    description: str


Handler = Callable[[Ctx, JSON], Awaitable[Any]]
HANDLERS: dict[str, Handler] = {}


def method(*names: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for name in names:
            HANDLERS[name] = handler
        return handler

    return register


def input_file(params: JSON, key: str) -> UploadedFile | str | None:
    """A file parameter: an upload (direct or via attach://), a file_id or a URL."""
    value = params.get(key)
    if isinstance(value, str) and value.startswith("attach://"):
        attached = params.get(value.removeprefix("attach://"))
        if not isinstance(attached, UploadedFile):
            raise bad_request(f'file "{value}" referenced by {key} was not uploaded')
        return attached
    if value is None or isinstance(value, UploadedFile | str):
        return value
    raise bad_request(f'field "{key}" must be of type InputFile or String')


def not_implemented(name: str) -> ApiError:
    # Real Telegram knows the method; the sandbox does not model it yet. Flag it loudly so
    # a test never passes while skipping behaviour nobody checked.
    return bad_request(f"the sandbox does not model {name} yet")
