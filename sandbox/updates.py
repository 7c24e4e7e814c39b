"""Getting updates: long polling with Telegram's conflict rules, and webhook delivery.

Real Telegram only accepts HTTPS webhooks on ports 80, 88, 443 and 8443. The sandbox also
accepts plain ``http://`` on loopback addresses (127.0.0.0/8, ::1, localhost), on any port,
so a bot under test can receive webhooks without certificates; every other URL follows the
real rules.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from sandbox.errors import ApiError, bad_request
from sandbox.registry import Ctx, Reply, method
from sandbox.state import (
    ALL_UPDATE_TYPES,
    DEFAULT_UPDATE_TYPES,
    BotState,
    Webhook,
    World,
    unix_now,
)

JSON = dict[str, Any]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CONFLICT_POLLER = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
WEBHOOK_PORTS = frozenset({80, 88, 443, 8443})
MAX_POLL_TIMEOUT = 50
# How long a poller that lost to a newer one waits before answering 409: a client that
# cancelled its request has usually closed the connection by then, and no one is told.
PREEMPT_GRACE = 0.05


def allowed_types(requested: list[str]) -> frozenset[str]:
    chosen = frozenset(requested) & ALL_UPDATE_TYPES
    return chosen or DEFAULT_UPDATE_TYPES


def confirm(bot: BotState, offset: int | None) -> None:
    if not offset:
        return
    if offset > 0:
        bot.updates = [u for u in bot.updates if u["update_id"] >= offset]
    else:
        # A negative offset keeps the last -offset updates and forgets all earlier ones.
        bot.updates = bot.updates[offset:]


@method("getUpdates")
async def get_updates(ctx: Ctx, p: JSON) -> list[JSON]:
    bot = ctx.bot
    if bot.webhook is not None:
        raise ApiError(409, CONFLICT_WEBHOOK)
    limit = min(max(p.get("limit", 100), 1), 100)
    timeout = min(max(p.get("timeout", 0), 0), MAX_POLL_TIMEOUT)
    if "allowed_updates" in p:
        bot.allowed_updates = allowed_types(p["allowed_updates"])
    bot.poll_generation += 1
    generation = bot.poll_generation
    bot.updates_changed.fire()  # wakes an older poller so it notices it lost
    confirm(bot, p.get("offset"))
    ctx.world.touch()
    deadline = time.monotonic() + timeout
    bot.active_polls += 1
    try:
        while True:
            if bot.poll_generation != generation:
                await _preempted(ctx)
            if bot.webhook is not None:
                raise ApiError(409, CONFLICT_WEBHOOK)
            if bot.updates:
                return bot.updates[:limit]
            if ctx.world.closing:
                return []
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            await bot.updates_changed.wait(remaining)
    finally:
        bot.active_polls -= 1
        bot.last_poll = time.monotonic()


async def _preempted(ctx: Ctx) -> None:
    await asyncio.sleep(PREEMPT_GRACE)
    request = ctx.request
    transport = request.transport if request is not None else None
    if request is not None and (transport is None or transport.is_closing()):
        # The client gave up on this request itself (PTB cancels its long poll on stop).
        raise ApiError(409, CONFLICT_POLLER, violation=False, extra={"note": "client gone"})
    raise ApiError(409, CONFLICT_POLLER)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "http" and _is_loopback(host):
        return
    if parts.scheme != "https" or not host:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    try:
        port = parts.port or 443
    except ValueError:
        raise bad_request("bad webhook: Wrong port number specified in the URL") from None
    if port not in WEBHOOK_PORTS and not _is_loopback(host):
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")


@method("setWebhook")
async def set_webhook(ctx: Ctx, p: JSON) -> Reply:
    bot = ctx.bot
    url = p["url"]
    if not url:
        return await delete_webhook(ctx, p)
    _check_url(url)
    secret = p.get("secret_token")
    if secret is not None and not SECRET_RE.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = min(max(p.get("max_connections", 40), 1), 100)
    allowed = p.get("allowed_updates")
    if allowed is not None:
        bot.allowed_updates = allowed_types(allowed)
    if p.get("drop_pending_updates"):
        bot.updates.clear()
    new = Webhook(url, secret, max_connections, allowed, p.get("ip_address"))
    old = bot.webhook
    if old is not None and (old.url, old.secret_token, old.max_connections) == (
        new.url,
        new.secret_token,
        new.max_connections,
    ):
        if allowed is not None:
            old.allowed_updates = allowed
        return Reply(True, "Webhook is already set")
    bot.webhook = new
    bot.updates_changed.fire()  # a poller still waiting learns it must stop
    start_sender(ctx.world, bot)
    return Reply(True, "Webhook was set")


@method("deleteWebhook")
async def delete_webhook(ctx: Ctx, p: JSON) -> Reply:
    bot = ctx.bot
    if p.get("drop_pending_updates"):
        bot.updates.clear()
    if bot.webhook is None:
        return Reply(True, "Webhook is already deleted")
    bot.webhook = None
    stop_sender(bot)
    return Reply(True, "Webhook was deleted")


@method("getWebhookInfo")
async def get_webhook_info(ctx: Ctx, p: JSON) -> JSON:
    bot = ctx.bot
    hook = bot.webhook
    info: JSON = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(bot.updates),
    }
    if hook is not None:
        info["max_connections"] = hook.max_connections
        if hook.allowed_updates is not None:
            info["allowed_updates"] = hook.allowed_updates
        if hook.ip_address:
            info["ip_address"] = hook.ip_address
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
    return info


# --- webhook delivery ------------------------------------------------------------------------


def start_sender(world: World, bot: BotState) -> None:
    stop_sender(bot)
    bot.webhook_task = asyncio.get_running_loop().create_task(
        _deliver(world, bot), name=f"sandbox-webhook-{bot.id}"
    )


def stop_sender(bot: BotState) -> None:
    if bot.webhook_task is not None:
        bot.webhook_task.cancel()
        bot.webhook_task = None


async def _deliver(world: World, bot: BotState) -> None:
    """Send queued updates one at a time, in order, retrying until the bot accepts each."""
    delay = world.webhook_retry_delay
    failing = False
    while True:
        hook = bot.webhook
        if hook is None:
            return
        if not bot.updates:
            await bot.updates_changed.wait(None)
            continue
        update = bot.updates[0]
        headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
        error: str | None = None
        status = 0
        try:
            assert world.http is not None
            async with world.http.post(
                hook.url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=15)
            ) as response:
                await response.read()
                status = response.status
                if not 200 <= status < 300:
                    error = f"Wrong response from the webhook: {status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = f"Connection failed: {type(exc).__name__}"
        if error is None:
            if bot.updates and bot.updates[0] is update:
                bot.updates.pop(0)
            delay = world.webhook_retry_delay
            failing = False
            world.touch()
            continue
        hook.last_error_date = unix_now()
        hook.last_error_message = error
        if status and not failing:
            # The bot's endpoint answered with an error: that is the bot's bug.
            world.violation("webhook", {"update_id": update["update_id"]}, error)
        elif not failing:
            world.event("webhook_error", error)
        failing = True
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)
