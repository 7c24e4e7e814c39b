"""HTTP control API of the standalone sandbox: drive simulated users from curl or a script.

All routes live under ``/sandbox`` on the sandbox's port, take and return JSON, and answer
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}`` (400 bad input, 404
unknown user/group/chat, 409 an action a real client could not do, e.g. pressing a button
the message does not show, or acting before any bot has called the Bot API). Simulated
users always talk to the primary bot: the first token that called the Bot API (or the one
given with ``Sandbox(token=...)``).

=======  ============================================  ===========================================
Method   Path                                          Body / query → result
=======  ============================================  ===========================================
GET      /sandbox                                      → addresses, bot, users, groups
POST     /sandbox/users                                {"name", "username"?, "language_code"?}
                                                       → user
GET      /sandbox/users                                → [user]
POST     /sandbox/users/{user_id}/send                 {"text", "reply_to"?, "group_id"?}
                                                       → the user's message
POST     /sandbox/users/{user_id}/edit                 {"message_id", "text", "chat_id"?}
POST     /sandbox/users/{user_id}/press                {"message_id", "text"? | "data"?,
                                                       "chat_id"?} → {"callback_query_id"}
POST     /sandbox/users/{user_id}/press_forged         {"message_id", "data", "group_id"?}
POST     /sandbox/users/{user_id}/answer_poll          {"message_id", "option_ids", "chat_id"?}
POST     /sandbox/users/{user_id}/retract_vote         {"message_id", "chat_id"?}
POST     /sandbox/users/{user_id}/upload_document      JSON {"filename", "data_base64",
                                                       "mime_type"?, "caption"?, "group_id"?}
                                                       or multipart (part "file" + same fields)
POST     /sandbox/users/{user_id}/upload_photo         JSON {"data_base64", "caption"?,
                                                       "group_id"?} or multipart
POST     /sandbox/users/{user_id}/block                → my_chat_member (kicked) to the bot
POST     /sandbox/users/{user_id}/unblock              → my_chat_member (member) to the bot
GET      /sandbox/users/{user_id}/next?timeout=5       → next bot action in the private chat
                                                       {"kind", "message"} (consumed)
POST     /sandbox/groups                               {"title", "supergroup"?} → group
GET      /sandbox/groups                               → [group]
POST     /sandbox/groups/{chat_id}/members             {"user_id", "admin"?, "owner"?} (join)
DELETE   /sandbox/groups/{chat_id}/members/{user_id}   (leave)
POST     /sandbox/groups/{chat_id}/admins              {"user_id", "admin"?: true} (promote/demote)
POST     /sandbox/groups/{chat_id}/bot                 {"admin"?, "by"?} (add the bot)
DELETE   /sandbox/groups/{chat_id}/bot                 (remove the bot)
POST     /sandbox/groups/{chat_id}/migrate             → {"chat_id": new supergroup id}
GET      /sandbox/groups/{chat_id}/next?timeout=5      → next bot action in the group
GET      /sandbox/chats/{chat_id}/messages             → current messages (user id = private chat)
GET      /sandbox/violations                           → [violation]
POST     /sandbox/violations/take                      → [violation], and clears them
GET      /sandbox/calls?method=&limit=100              → [call] (newest last)
GET      /sandbox/events                               → [event] (expected errors, webhook retries)
GET      /sandbox/callbacks/{query_id}                 → {"answered", "answer"}
POST     /sandbox/faults                               {"method", "times"?, "chat_id"?, "after"?,
                                                       and one
                                                       of "error_code" (+ "description"?,
                                                       "retry_after"?, "flood"?),
                                                       "hang" (+ "deliver"?),
                                                       "drop": true} → the armed fault
GET      /sandbox/faults                               → [armed fault]
DELETE   /sandbox/faults                               disarm all
=======  ============================================  ===========================================

Example::

    curl -s localhost:8081/sandbox/users -d '{"name": "Budi Santoso", "username": "budi"}'
    curl -s localhost:8081/sandbox/users/5000000001/send -d '{"text": "/start"}'
    curl -s 'localhost:8081/sandbox/users/5000000001/next?timeout=5'
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.state import SimulationError

if TYPE_CHECKING:
    from sandbox.server import Sandbox
    from sandbox.users import SimGroup, SimUser

JSON = dict[str, Any]
Route = Callable[[web.Request], Awaitable[Any]]


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _wrap(route: Route) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        try:
            result = await route(request)
        except ControlError as error:
            return web.json_response({"ok": False, "error": str(error)}, status=error.status)
        except SimulationError as error:
            return web.json_response({"ok": False, "error": str(error)}, status=409)
        except AssertionError as error:  # next_message timeouts
            return web.json_response({"ok": False, "error": str(error)}, status=408)
        except (KeyError, ValueError, TypeError) as error:
            return web.json_response({"ok": False, "error": f"bad input: {error}"}, status=400)
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)

    return handler


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_default)


def _default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return repr(value)


class Control:
    """Route handlers bound to one Sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox

    # --- lookups -------------------------------------------------------------------------

    def _user(self, request: web.Request) -> SimUser:
        user = self.sb.users.get(int(request.match_info["user_id"]))
        if user is None:
            raise ControlError(404, "no such user")
        return user

    def _group(self, chat_id: int | str) -> SimGroup:
        group = self.sb.find_group(int(chat_id))
        if group is None:
            raise ControlError(404, "no such group")
        return group

    def _need_bot(self) -> None:
        if not self.sb.world.has_primary:
            raise ControlError(409, "no bot has called the Bot API yet; start your bot first")

    @staticmethod
    async def _body(request: web.Request) -> JSON:
        if not request.body_exists:
            return {}
        try:
            body = await request.json()
        except ValueError:
            raise ControlError(400, "body must be a JSON object") from None
        if not isinstance(body, dict):
            raise ControlError(400, "body must be a JSON object")
        return body

    def _ref(self, user: SimUser, body: JSON) -> JSON | int:
        chat_id = body.get("chat_id")
        if chat_id is None or int(chat_id) == user.chat_id:
            return int(body["message_id"])
        return {"chat": {"id": int(chat_id)}, "message_id": int(body["message_id"])}

    @staticmethod
    def _user_json(user: SimUser) -> JSON:
        return {**user.to_json(), "chat_id": user.chat_id, "started": user.started}

    @staticmethod
    def _group_json(group: SimGroup) -> JSON:
        return {"chat_id": group.chat_id, "title": group.title, "type": group.type}

    # --- overview and users --------------------------------------------------------------

    async def info(self, request: web.Request) -> JSON:
        world = self.sb.world
        bot = world.primary.person.to_json() if world.has_primary else None
        return {
            "api_base_url": self.sb.api_base_url,
            "file_base_url": self.sb.file_base_url,
            "bot": bot,
            "users": [self._user_json(u) for u in self.sb.users.values()] if bot else [],
            "groups": [self._group_json(g) for g in self.sb.groups.values()],
        }

    async def create_user(self, request: web.Request) -> JSON:
        body = await self._body(request)
        user = self.sb.user(
            str(body["name"]),
            username=body.get("username"),
            language_code=body.get("language_code"),
        )
        return {**user.to_json(), "chat_id": user.chat_id}

    async def list_users(self, request: web.Request) -> list[JSON]:
        self._need_bot()
        return [self._user_json(u) for u in self.sb.users.values()]

    async def send(self, request: web.Request) -> JSON:
        self._need_bot()
        user, body = self._user(request), await self._body(request)
        reply_to = body.get("reply_to")
        if body.get("group_id") is not None:
            group = self._group(body["group_id"])
            return await user.send_in(group, str(body["text"]), reply_to=reply_to)
        return await user.send(str(body["text"]), reply_to=reply_to)

    async def edit(self, request: web.Request) -> JSON:
        self._need_bot()
        user, body = self._user(request), await self._body(request)
        return await user.edit(self._ref(user, body), str(body["text"]))

    async def press(self, request: web.Request) -> JSON:
        self._need_bot()
        user, body = self._user(request), await self._body(request)
        query_id = await user.press(self._ref(user, body), body.get("text"), data=body.get("data"))
        return {"callback_query_id": query_id}

    async def press_forged(self, request: web.Request) -> JSON:
        self._need_bot()
        user, body = self._user(request), await self._body(request)
        group = self._group(body["group_id"]) if body.get("group_id") is not None else None
        query_id = await user.press_forged(int(body["message_id"]), str(body["data"]), chat=group)
        return {"callback_query_id": query_id}

    async def answer_poll(self, request: web.Request) -> bool:
        self._need_bot()
        user, body = self._user(request), await self._body(request)
        await user.answer_poll(self._ref(user, body), [int(i) for i in body["option_ids"]])
        return True

    async def retract_vote(self, request: web.Request) -> bool:
        self._need_bot()
        user, body = self._user(request), await self._body(request)
        await user.retract_vote(self._ref(user, body))
        return True

    async def _upload_body(self, request: web.Request) -> tuple[JSON, bytes]:
        if request.content_type == "multipart/form-data":
            form = await request.post()
            fields: JSON = {k: v for k, v in form.items() if isinstance(v, str)}
            part = form.get("file")
            if not isinstance(part, web.FileField):
                raise ControlError(400, 'multipart upload needs a "file" part')
            fields.setdefault("filename", part.filename)
            fields.setdefault("mime_type", part.content_type)
            return fields, part.file.read()
        body = await self._body(request)
        try:
            data = base64.b64decode(body["data_base64"], validate=True)
        except (binascii.Error, KeyError):
            raise ControlError(400, "data_base64 must be base64") from None
        return body, data

    async def upload_document(self, request: web.Request) -> JSON:
        self._need_bot()
        user = self._user(request)
        body, data = await self._upload_body(request)
        group = self._group(body["group_id"]) if body.get("group_id") else None
        return await user.upload_document(
            str(body.get("filename") or "document"),
            data,
            mime_type=body.get("mime_type"),
            caption=body.get("caption"),
            group=group,
        )

    async def upload_photo(self, request: web.Request) -> JSON:
        self._need_bot()
        user = self._user(request)
        body, data = await self._upload_body(request)
        group = self._group(body["group_id"]) if body.get("group_id") else None
        return await user.upload_photo(data, caption=body.get("caption"), group=group)

    async def block(self, request: web.Request) -> bool:
        self._need_bot()
        await self._user(request).block()
        return True

    async def unblock(self, request: web.Request) -> bool:
        self._need_bot()
        await self._user(request).unblock()
        return True

    async def user_next(self, request: web.Request) -> JSON:
        self._need_bot()
        event = await self._user(request).next_message(float(request.query.get("timeout", 5)))
        return {"kind": event.kind, "message": event.message}

    # --- groups --------------------------------------------------------------------------

    async def create_group(self, request: web.Request) -> JSON:
        body = await self._body(request)
        group = self.sb.group(str(body["title"]), supergroup=bool(body.get("supergroup")))
        return self._group_json(group)

    async def list_groups(self, request: web.Request) -> list[JSON]:
        return [self._group_json(g) for g in self.sb.groups.values()]

    async def join(self, request: web.Request) -> bool:
        self._need_bot()
        group, body = self._group(request.match_info["chat_id"]), await self._body(request)
        user = self.sb.users.get(int(body["user_id"]))
        if user is None:
            raise ControlError(404, "no such user")
        await group.add(user, admin=bool(body.get("admin")), owner=bool(body.get("owner")))
        return True

    async def leave(self, request: web.Request) -> bool:
        self._need_bot()
        group = self._group(request.match_info["chat_id"])
        await group.remove(self._user(request))
        return True

    async def set_admin(self, request: web.Request) -> bool:
        self._need_bot()
        group, body = self._group(request.match_info["chat_id"]), await self._body(request)
        user = self.sb.users.get(int(body["user_id"]))
        if user is None:
            raise ControlError(404, "no such user")
        await group.make_admin(user, bool(body.get("admin", True)))
        return True

    async def add_bot(self, request: web.Request) -> bool:
        self._need_bot()
        group, body = self._group(request.match_info["chat_id"]), await self._body(request)
        by = self.sb.users.get(int(body["by"])) if body.get("by") else None
        await group.add_bot(admin=bool(body.get("admin")), by=by)
        return True

    async def remove_bot(self, request: web.Request) -> bool:
        self._need_bot()
        await self._group(request.match_info["chat_id"]).remove_bot()
        return True

    async def migrate(self, request: web.Request) -> JSON:
        self._need_bot()
        group = self._group(request.match_info["chat_id"])
        return {"chat_id": await group.migrate_to_supergroup()}

    async def group_next(self, request: web.Request) -> JSON:
        self._need_bot()
        group = self._group(request.match_info["chat_id"])
        event = await group.next_message(float(request.query.get("timeout", 5)))
        return {"kind": event.kind, "message": event.message}

    # --- records -------------------------------------------------------------------------

    async def messages(self, request: web.Request) -> list[JSON]:
        chat_id = int(request.match_info["chat_id"])
        group = self.sb.find_group(chat_id)
        if group is not None:
            return group.transcript
        if chat_id in self.sb.users:
            self._need_bot()
            return self.sb.users[chat_id].transcript
        raise ControlError(404, "no such chat")

    async def violations(self, request: web.Request) -> list[Any]:
        return [dataclasses.asdict(v) for v in self.sb.violations]

    async def take_violations(self, request: web.Request) -> list[Any]:
        return [dataclasses.asdict(v) for v in self.sb.take_violations()]

    async def calls(self, request: web.Request) -> list[Any]:
        method = request.query.get("method")
        limit = int(request.query.get("limit", 100))
        calls = [c for c in self.sb.calls if method is None or c.method == method]
        return [dataclasses.asdict(c) for c in calls[-limit:]]

    async def events(self, request: web.Request) -> list[Any]:
        return [dataclasses.asdict(e) for e in self.sb.events]

    # --- injected faults (sandbox.faults) --------------------------------------------

    async def add_fault(self, request: web.Request) -> JSON:
        body = await self._body(request)
        allowed = {"method", "times", "after", "chat_id", "error_code", "description"}
        allowed |= {"retry_after", "flood"}
        allowed |= {"hang", "deliver", "drop", "lose_reply"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise ControlError(400, f"unknown fields: {', '.join(unknown)}")

        def number(key: str, kind: type[int] | type[float]) -> Any:
            return kind(body[key]) if body.get(key) is not None else None

        fault = self.sb.inject(
            str(body["method"]),
            error_code=number("error_code", int),
            description=body.get("description"),
            retry_after=number("retry_after", int),
            hang=number("hang", float),
            deliver=bool(body.get("deliver", True)),
            drop=bool(body.get("drop", False)),
            lose_reply=bool(body.get("lose_reply", False)),
            times=int(body.get("times", 1)),
            chat_id=number("chat_id", int),
            after=int(body.get("after", 0)),
            flood=body.get("flood"),
        )
        return fault.to_json()

    async def list_faults(self, request: web.Request) -> list[JSON]:
        return [f.to_json() for f in self.sb.faults.pending]

    async def clear_faults(self, request: web.Request) -> bool:
        self.sb.faults.clear()
        return True

    async def callback(self, request: web.Request) -> JSON:
        record = self.sb.world.callbacks.get(request.match_info["query_id"])
        if record is None:
            raise ControlError(404, "no such callback query")
        return {"answered": record.answered and record.answer is not None, "answer": record.answer}


def setup_control(app: web.Application, sandbox: Sandbox) -> None:
    c = Control(sandbox)
    routes: list[tuple[str, str, Route]] = [
        ("GET", "", c.info),
        ("POST", "/users", c.create_user),
        ("GET", "/users", c.list_users),
        ("POST", "/users/{user_id}/send", c.send),
        ("POST", "/users/{user_id}/edit", c.edit),
        ("POST", "/users/{user_id}/press", c.press),
        ("POST", "/users/{user_id}/press_forged", c.press_forged),
        ("POST", "/users/{user_id}/answer_poll", c.answer_poll),
        ("POST", "/users/{user_id}/retract_vote", c.retract_vote),
        ("POST", "/users/{user_id}/upload_document", c.upload_document),
        ("POST", "/users/{user_id}/upload_photo", c.upload_photo),
        ("POST", "/users/{user_id}/block", c.block),
        ("POST", "/users/{user_id}/unblock", c.unblock),
        ("GET", "/users/{user_id}/next", c.user_next),
        ("POST", "/groups", c.create_group),
        ("GET", "/groups", c.list_groups),
        ("POST", "/groups/{chat_id}/members", c.join),
        ("DELETE", "/groups/{chat_id}/members/{user_id}", c.leave),
        ("POST", "/groups/{chat_id}/admins", c.set_admin),
        ("POST", "/groups/{chat_id}/bot", c.add_bot),
        ("DELETE", "/groups/{chat_id}/bot", c.remove_bot),
        ("POST", "/groups/{chat_id}/migrate", c.migrate),
        ("GET", "/groups/{chat_id}/next", c.group_next),
        ("GET", "/chats/{chat_id}/messages", c.messages),
        ("GET", "/violations", c.violations),
        ("POST", "/violations/take", c.take_violations),
        ("GET", "/calls", c.calls),
        ("GET", "/events", c.events),
        ("GET", "/callbacks/{query_id}", c.callback),
        ("POST", "/faults", c.add_fault),
        ("GET", "/faults", c.list_faults),
        ("DELETE", "/faults", c.clear_faults),
    ]
    for verb, path, route in routes:
        app.router.add_route(verb, f"/sandbox{path}", _wrap(route))
