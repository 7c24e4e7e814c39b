"""The sandbox's HTTP server (Bot API, file downloads, control API) and its Python handle.

Routes:

* ``GET|POST /bot<token>/<method>``: the Bot API. Parameters come from the query string and
  from an ``application/x-www-form-urlencoded``, ``multipart/form-data`` or
  ``application/json`` body, exactly as python-telegram-bot and curl send them.
* ``GET /file/bot<token>/<file_path>``: downloads of files a ``getFile`` call exposed.
* ``/sandbox/...``: the control API (see ``sandbox.control``).

Every request is recorded in ``Sandbox.calls``; every error a careful bot could have
avoided is also recorded in ``Sandbox.violations`` (see ``sandbox`` for the list).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import json
import re
import sys
import time
from typing import Any

import aiohttp
from aiohttp import web

from sandbox.errors import ApiError, UploadedFile, bad_request
from sandbox.faults import Dropped, Fault, Faults, apply, target_chat
from sandbox.methods import dispatch
from sandbox.ratelimit import RateLimits
from sandbox.registry import Ctx, Reply
from sandbox.state import ApiCall, BotMessage, Event, Violation, World, summarize
from sandbox.users import SimGroup, SimUser, expire_callback
from sandbox.validate import check_request

JSON = dict[str, Any]

TOKEN_RE = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{30,50}")
MAX_BODY_BYTES = 60 * 1024 * 1024  # above the 50 MB upload limit, so the method can refuse
POLL_CONSUMER_GRACE = 1.0


async def read_params(request: web.Request) -> JSON:
    """Raw parameters: query string first, then the body (which wins on duplicates)."""
    params: JSON = dict(request.query)
    if not request.body_exists:
        return params
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = json.loads(await request.text())
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("can't parse JSON object")
        params.update(body)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            raise ApiError(413, "Request Entity Too Large") from None
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = UploadedFile(
                    value.filename or key, value.content_type, value.file.read()
                )
            else:
                params[key] = value
    return params


class Sandbox:
    """A strict local Telegram: start it, point a bot at ``api_base_url``, drive users."""

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_username: str = "berakhlak_test_bot",
        bot_first_name: str = "BerAKHLAK Test Bot",
        rate_limits: RateLimits | bool = True,
        callback_timeout: float = 10.0,
        privacy_mode: bool = True,
        webhook_retry_delay: float = 0.2,
        host: str = "127.0.0.1",
        port: int = 0,
        control_api: bool = True,
    ) -> None:
        limits: RateLimits | None
        if rate_limits is True:
            limits = RateLimits()
        elif rate_limits is False:
            limits = None
        else:
            limits = rate_limits
        self.world = World(
            token=token,
            bot_username=bot_username,
            bot_first_name=bot_first_name,
            rate_limits=limits,
            callback_timeout=callback_timeout,
            privacy_mode=privacy_mode,
        )
        self.world.webhook_retry_delay = webhook_retry_delay
        self.host = host
        self.port = port
        self.control_api = control_api
        self.max_calls: int | None = None  # the standalone server keeps only the newest
        self.users: dict[int, SimUser] = {}
        self.groups: dict[int, SimGroup] = {}
        self.faults = Faults()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("*", r"/bot{token}/{method}", self._handle_api)
        app.router.add_get(r"/file/bot{token}/{path:.+}", self._handle_file)
        if self.control_api:
            from sandbox.control import setup_control

            setup_control(app, self)
        return app

    async def start(self) -> Sandbox:
        if self._runner is not None:
            return self
        # handler_cancellation: a client that drops a long poll must not keep it alive.
        runner = web.AppRunner(
            self.build_app(), handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self.port = int(runner.addresses[0][1])
        self._runner = runner
        self._site = site
        self.world.closing = False
        self.world.http = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        world = self.world
        world.closing = True
        for bot in world.bots.values():
            if bot.webhook_task is not None:
                bot.webhook_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await bot.webhook_task
                bot.webhook_task = None
            bot.updates_changed.fire()
        for record in world.callbacks.values():
            if record.timer is not None:
                record.timer.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self._site = None
        if world.http is not None:
            await world.http.close()
            world.http = None

    async def __aenter__(self) -> Sandbox:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- addresses ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``: the token is appended by PTB."""
        return f"{self.base_url}/bot"

    @property
    def file_base_url(self) -> str:
        return f"{self.base_url}/file/bot"

    @property
    def control_url(self) -> str:
        return f"{self.base_url}/sandbox"

    # --- the bot and the people --------------------------------------------------------------

    @property
    def token(self) -> str:
        """The primary bot's token (the configured one, else the first that called)."""
        return self.world.primary_token

    @property
    def bot_username(self) -> str:
        return self.world.primary.person.username or ""

    @property
    def bot_id(self) -> int:
        return self.world.primary.id

    def user(
        self,
        name: str,
        *,
        username: str | None = None,
        language_code: str | None = None,
        last_name: str | None = None,
        bot_token: str | None = None,
    ) -> SimUser:
        """A new simulated user; "Budi Santoso" becomes first_name Budi, last_name Santoso.
        `bot_token`: the bot they talk to, when not the primary one."""
        first, _, rest = name.strip().partition(" ")
        person = self.world.new_user(first, last_name or rest or None, username, language_code)
        user = SimUser(self.world, person, bot_token)
        self.users[person.id] = user
        return user

    def group(self, title: str, *, supergroup: bool = False) -> SimGroup:
        group = SimGroup(self.world, self.world.new_group(title, supergroup=supergroup))
        self.groups[group.chat_id] = group
        return group

    def find_group(self, chat_id: int) -> SimGroup | None:
        for group in self.groups.values():
            if chat_id in (group.chat_id, group.old_chat_id):
                return group
        return None

    # --- records -----------------------------------------------------------------------------

    @property
    def calls(self) -> list[ApiCall]:
        return self.world.calls

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.world.calls if c.method == method]

    @property
    def violations(self) -> list[Violation]:
        return self.world.violations

    @property
    def events(self) -> list[Event]:
        return self.world.events

    def take_violations(self) -> list[Violation]:
        """Return the violations so far and forget them (for tests that provoke them)."""
        taken = list(self.world.violations)
        self.world.violations.clear()
        return taken

    def callback_answer(self, query_id: str) -> JSON | None:
        record = self.world.callbacks.get(query_id)
        return copy.deepcopy(record.answer) if record is not None else None

    async def wait_callback_answer(self, query_id: str, timeout: float = 5.0) -> JSON:  # noqa: ASYNC109 (the documented API)
        """The bot's answerCallbackQuery parameters for a query, waiting for them."""
        record = self.world.callbacks.get(query_id)
        if record is None:
            raise AssertionError(f"unknown callback query {query_id}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not record.answered:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"callback query {query_id} not answered in {timeout:g}s")
            await record.done.wait(remaining)
        if record.answer is None:
            raise AssertionError(f"callback query {query_id} expired unanswered")
        return copy.deepcopy(record.answer)

    async def wait_idle(self, quiet: float = 0.1, timeout: float = 10.0) -> None:  # noqa: ASYNC109 (the documented API)
        """Wait until no request is running, no update waits for a consumer, and nothing
        happened for ``quiet`` seconds (so handlers that answer an update have finished)."""
        world = self.world
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            waiting = [b for b in world.bots.values() if b.updates and self._consumed(b, now)]
            idle_for = now - world.last_activity
            if world.inflight == 0 and not waiting and idle_for >= quiet:
                return
            if now >= deadline:
                raise AssertionError(
                    f"sandbox not idle after {timeout:g}s: {world.inflight} requests running, "
                    f"{sum(len(b.updates) for b in waiting)} updates undelivered"
                )
            await world.activity.wait(max(quiet - idle_for, 0.01))

    @staticmethod
    def _consumed(bot: Any, now: float) -> bool:
        recent = bot.last_poll is not None and now - bot.last_poll < POLL_CONSUMER_GRACE
        return bot.webhook is not None or bot.active_polls > 0 or recent

    async def settle_callbacks(self, grace: float = 1.0) -> None:
        """Give the bot ``grace`` seconds to answer open callback queries, then report the
        rest as violations."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        for record in list(self.world.callbacks.values()):
            while not record.answered and loop.time() < deadline:
                await record.done.wait(deadline - loop.time())
            if not record.answered:
                if record.timer is not None:
                    record.timer.cancel()
                expire_callback(self.world, record)

    def messages_in(self, chat_id: int) -> list[JSON]:
        """Current messages of a chat: a group id or a user id (their chat with the bot)."""
        group = self.world.groups.get(chat_id)
        if group is not None:
            return group.transcript()
        user = self.users.get(chat_id)
        if user is None:
            raise KeyError(chat_id)
        return user.transcript

    # --- HTTP handlers -----------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        world = self.world
        token = request.match_info["token"]
        method = request.match_info["method"]
        started = time.monotonic()
        raw: JSON = {}
        typed: JSON = {}
        bot = None
        counted = False
        try:
            if not TOKEN_RE.fullmatch(token):
                raise ApiError(401, "Unauthorized")
            bot = world.bot(token)
            raw = await read_params(request)
            method, typed = check_request(method, raw)
            if method != "getUpdates":
                counted = True
                world.inflight += 1
                bot.inflight += 1
                world.touch()
                bot.limiter.check_inflight(bot.inflight)
            fault = self.faults.take(method, target_chat(typed, world.callbacks))
            if fault is not None:
                result = await self._inject(Ctx(world, bot, request), method, typed, fault, started)
            elif method == "getUpdates":
                result = await dispatch(Ctx(world, bot, request), method, typed)
            else:
                result = await self._carry_out(Ctx(world, bot, request), method, typed, started)
            body: JSON = {"ok": True}
            if isinstance(result, Reply):
                body["result"] = result.result
                body["description"] = result.description
            else:
                body["result"] = result
            self._record(method, typed, 200, None, body["result"], started, bot)
            return web.json_response(body)
        except ApiError as error:
            params = typed or raw
            self._record(method, params, error.status, error.description, None, started, bot)
            if error.violation:
                world.violation(method, params, error)
            else:
                world.event("expected_error", error.description, method)
            return web.json_response(error.envelope(), status=error.status)
        except Dropped:
            self._record(method, typed or raw, 0, "connection dropped", None, started, bot)
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)  # never reaches the client
        finally:
            if counted:
                world.inflight -= 1
                if bot is not None:
                    bot.inflight -= 1
                world.touch()

    # --- injected faults (sandbox.faults) ------------------------------------------------

    def inject(
        self,
        method: str,
        *,
        error_code: int | None = None,
        description: str | None = None,
        retry_after: int | None = None,
        hang: float | None = None,
        deliver: bool = True,
        drop: bool = False,
        lose_reply: bool = False,
        times: int = 1,
        chat_id: int | None = None,
        after: int = 0,
        flood: str | None = None,
    ) -> Fault:
        """Make the next ``times`` calls of ``method`` (to ``chat_id`` only, if given; the
        first ``after`` of them go through) fail: answer ``error_code``/``description``
        (``retry_after`` for a 429), ``hang`` seconds (then take effect, or drop when
        ``deliver`` is false), ``drop`` the connection, or take effect and then drop it before
        the answer (``lose_reply``). A 429 ``flood`` ("chat" or "global") also holds its
        scope for ``retry_after`` seconds, as Telegram's flood control would."""
        return self.faults.add(
            Fault(
                method,
                times=times,
                chat_id=chat_id,
                error_code=error_code,
                description=description,
                retry_after=retry_after,
                hang=hang,
                deliver=deliver,
                drop=drop,
                lose_reply=lose_reply,
                after=after,
                flood=flood,
            )
        )

    async def refuse_connections(self) -> None:
        """Telegram becomes unreachable: nothing listens on the port (clients get "connection
        refused") and every open connection, long polls included, is closed."""
        if self._site is None or self._runner is None:
            return
        await self._site.stop()
        self._site = None
        # Requests under way are answered first: a connection cut mid-request is a reset
        # after sending (the lose_reply and drop faults), not an unreachable Telegram.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 2.0
        while self.world.inflight and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        server = self._runner.server
        if server is not None:
            for handler in list(server.connections):
                handler.force_close()
        self.world.event("unreachable", "connections refused", "")

    async def accept_connections(self) -> None:
        """Telegram is reachable again, on the same port."""
        if self._site is not None or self._runner is None:
            return
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self._site = site
        self.world.event("unreachable", "connections accepted again", "")

    async def _inject(
        self, ctx: Ctx, method: str, params: JSON, fault: Fault, started: float
    ) -> Any:
        self.world.event("injected_fault", fault.summary(), method)
        scope = fault.scope()
        if scope is not None and fault.retry_after is not None:
            ctx.bot.limiter.hold(scope, fault.retry_after)
        if fault.lose_reply:
            await dispatch(ctx, method, params)
            raise Dropped
        if fault.hang is None or not fault.deliver:
            await apply(fault)  # raises the error, or Dropped (after the wait)
        # Received but answered late: the call takes effect even when the client stopped
        # waiting (aiohttp then cancels this handler), so it runs shielded.
        late = asyncio.ensure_future(self._late(ctx, method, params, fault.hang or 0.0))
        try:
            return await asyncio.shield(late)
        except asyncio.CancelledError:
            late.add_done_callback(
                functools.partial(self._late_done, method, params, started, ctx.bot)
            )
            raise

    async def _carry_out(self, ctx: Ctx, method: str, params: JSON, started: float) -> Any:
        """Telegram carries out a request it has received whole, even if the client is gone
        before the answer (killed, say): the call runs shielded from aiohttp's cancellation,
        which only a long poll should get."""
        call = asyncio.ensure_future(dispatch(ctx, method, params))
        try:
            return await asyncio.shield(call)
        except asyncio.CancelledError:
            call.add_done_callback(
                functools.partial(self._late_done, method, params, started, ctx.bot)
            )
            raise

    @staticmethod
    async def _late(ctx: Ctx, method: str, params: JSON, seconds: float) -> Any:
        await asyncio.sleep(seconds)
        return await dispatch(ctx, method, params)

    def _late_done(
        self, method: str, params: JSON, started: float, bot: Any, task: asyncio.Future[Any]
    ) -> None:
        """Record a hung call that ended after its client left."""
        if task.cancelled():
            return
        error = task.exception()
        if isinstance(error, ApiError):
            self._record(method, params, error.status, error.description, None, started, bot)
            if error.violation:
                self.world.violation(method, params, error)
        elif error is None:
            self._record(method, params, 200, None, task.result(), started, bot)

    def _record(
        self,
        method: str,
        params: JSON,
        status: int,
        description: str | None,
        result: Any,
        started: float,
        bot: Any,
    ) -> None:
        calls = self.world.calls
        if self.max_calls is not None and len(calls) >= self.max_calls:
            del calls[: len(calls) - self.max_calls + 1]
        calls.append(
            ApiCall(
                method=method,
                # Texts stay whole so tests can assert on them; uploads become a summary.
                params=summarize(params, limit=100_000),
                ok=status == 200,
                status=status,
                description=description,
                result=copy.deepcopy(result),
                time=time.time(),
                duration=time.monotonic() - started,
                bot_id=bot.id if bot is not None else None,
            )
        )

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        world = self.world
        token = request.match_info["token"]
        path = request.match_info["path"]
        started = time.monotonic()
        if not TOKEN_RE.fullmatch(token) or token not in world.bots:
            error = ApiError(401, "Unauthorized")
        else:
            record = world.file_paths.get(path)
            if record is not None:
                self._record("downloadFile", {"file_path": path}, 200, None, None, started, None)
                return web.Response(
                    body=record.data, content_type=record.mime_type or "application/octet-stream"
                )
            error = ApiError(404, "Not Found")
        self._record("downloadFile", {"file_path": path}, error.status, error.description, None,
                     started, None)  # fmt: skip
        world.violation("downloadFile", {"file_path": path}, error)
        return web.json_response(error.envelope(), status=error.status)


def report(violation: Violation) -> None:
    print(f"[sandbox] VIOLATION {violation}", file=sys.stderr, flush=True)


def run_standalone(host: str = "127.0.0.1", port: int = 8081, **options: Any) -> None:
    """Serve the sandbox until Ctrl-C; violations are printed to stderr as they happen."""

    async def serve() -> None:
        sandbox = Sandbox(host=host, port=port, **options)
        sandbox.world.on_violation = report
        sandbox.max_calls = 10_000
        await sandbox.start()
        print(f"Bot API base URL:  {sandbox.api_base_url}  (files: {sandbox.file_base_url})")
        print(f"Control API:       {sandbox.control_url}")
        print("Press Ctrl-C to stop.", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await sandbox.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


__all__ = ["BotMessage", "Sandbox", "read_params", "run_standalone"]
