"""What the bot does when Telegram refuses, limits or does not answer a call, and the last
line of defence for everything else: log without personal data, tell the person briefly.

Telegram's answers, by kind (PTB's BadRequest and TimedOut are NetworkErrors, so the order
of the checks in `kind_of` matters):

* BadRequest: our request was wrong. Logged at ERROR with the method and Telegram's
  description; the person is told it failed and what to do; admins also read the reason.
* Forbidden: the person blocked the bot. They are marked unreachable (as my_chat_member
  does); nothing can be sent to them.
* RetryAfter: the shared rate limiter (bot/delivery/replies.py) has already waited and retried;
  one that still comes through is told to the person with the seconds Telegram asked for.
* TimedOut: the call may have reached Telegram, so it is never repeated blindly; logged,
  and the person is told that our answer may not have arrived.
* NetworkError (a dropped connection, a 5xx): the person is told, if a message gets through.

A callback query is always answered, whatever failed. Flows that keep state across steps
(broadcast, registration, /jadwal, the question import) catch the error themselves, put
their state back where the person can carry on, and then call `recover`.
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from enum import StrEnum
from typing import Any, ParamSpec

from telegram import Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import ApplicationHandlerStop

from bot.core.deps import BotContext
from bot.members import accounts
from handlers.common import HTML, Button, current_member, keyboard, user_language, was_answered

log = logging.getLogger(__name__)

REASON_MAX = 200  # Telegram's descriptions are short; a long one is cut for the log and chat


class Kind(StrEnum):
    BAD_REQUEST = "bad_request"
    FORBIDDEN = "forbidden"
    RETRY_AFTER = "retry_after"
    TIMED_OUT = "timed_out"
    NETWORK = "network"


def kind_of(error: BaseException | None) -> Kind | None:
    """The treatment a Telegram error gets; None for errors that are not Telegram's answer
    to one call (an invalid token, a conflict) and for everything else."""
    if isinstance(error, RetryAfter):
        return Kind.RETRY_AFTER
    if isinstance(error, Forbidden):
        return Kind.FORBIDDEN
    if isinstance(error, TimedOut):
        return Kind.TIMED_OUT
    if isinstance(error, BadRequest | ChatMigrated):
        return Kind.BAD_REQUEST
    if isinstance(error, NetworkError):
        return Kind.NETWORK
    return None


def failed_method(error: BaseException) -> str:
    """The Bot API method that failed, read from PTB's frames (`Bot._post(endpoint, ...)`):
    the exception itself does not carry it."""
    found = "?"
    for frame, _ in traceback.walk_tb(error.__traceback__):
        endpoint = frame.f_locals.get("endpoint")
        if isinstance(endpoint, str) and endpoint:
            found = endpoint
    return found


def reason(error: TelegramError) -> str:
    """Telegram's description (PTB has removed "Bad Request: "), cut to a readable length."""
    text = " ".join(str(error.message).split())
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 1] + "…"


def retry_seconds(error: BaseException) -> int:
    if not isinstance(error, RetryAfter):
        return 0
    value: Any = error._retry_after  # the public property warns of a type change
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return max(1, round(seconds))


def log_failure(error: TelegramError, update_id: int | None) -> Kind | None:
    """One line per failure: the update id, the method, and for a 400 Telegram's
    description, which names our mistake, never the person's data."""
    kind = kind_of(error)
    method = failed_method(error)
    if kind is Kind.BAD_REQUEST:
        log.error("update %s: Telegram refused %s: %s", update_id, method, reason(error))
    elif kind is Kind.FORBIDDEN:
        log.info("update %s: %s refused, the person blocked the bot", update_id, method)
    elif kind is Kind.RETRY_AFTER:
        log.warning(
            "update %s: %s still rate limited after retries (retry_after %s s)",
            update_id,
            method,
            retry_seconds(error),
        )
    elif kind is Kind.TIMED_OUT:
        log.warning(
            "update %s: %s timed out; it may have arrived, not sent again", update_id, method
        )
    elif kind is Kind.NETWORK:
        log.warning(
            "update %s: %s failed, connection trouble: %s", update_id, method, reason(error)
        )
    return kind


async def language(update: Update, ctx: BotContext) -> str:
    """The person's language: the member's choice, else their registration draft's, else
    their Telegram app's."""
    member = await current_member(update, ctx)
    if member is not None:
        return member.language
    user = update.effective_user
    if user is not None:
        draft = await accounts.draft(ctx.db, telegram_user_id=user.id)
        if draft is not None:
            return draft.language
    return user_language(update)


async def recover(
    update: Update,
    ctx: BotContext,
    error: TelegramError,
    *,
    then: str = "retry",
    notice: str = "telegram_failed",
    rows: Sequence[Sequence[Button]] = (),
    show_reason: bool = False,
    **context: Any,
) -> Kind | None:
    """Treat a Telegram error met while handling a person's action (see the module's
    docstring); the caller has already put its own state right.

    `then` says in the notice what to do next (see telegram_failed.html); a flow with its
    own wording passes `notice`, and `rows` for its buttons. Admin flows set `show_reason`:
    Telegram's description ("can't parse entities: ...") tells an admin what to fix.
    """
    kind = log_failure(error, update.update_id)
    chat = update.effective_chat
    user = update.effective_user
    if kind is Kind.FORBIDDEN:
        if chat is not None and chat.type == "private" and user is not None:
            await accounts.set_reachable(ctx.db, telegram_user_id=user.id, reachable=False)
        await _answer_query(update, ctx, None)
        return kind
    lang = await language(update, ctx)
    seconds = retry_seconds(error)
    if kind is Kind.RETRY_AFTER:
        toast: str | None = ctx.renderer.label("failed_wait", lang, n=seconds)
    elif kind is Kind.TIMED_OUT:
        toast = None  # it may have worked: no "failed" notice on the button
    else:
        toast = ctx.renderer.label("failed_toast", lang)
    await _answer_query(update, ctx, toast)
    if chat is None or (kind is Kind.RETRY_AFTER and chat.type != "private"):
        return kind  # a limited group gets no more messages from us
    text = ctx.renderer.text(
        notice,
        lang,
        kind=str(kind) if kind else "network",
        seconds=seconds,
        reason=reason(error) if show_reason else None,
        then=then,
        **context,
    )
    try:
        await ctx.bot.send_message(chat.id, text, parse_mode=HTML, reply_markup=keyboard(rows))
    except TelegramError as again:
        # Nothing more can reach them now; the state is consistent, so they can carry on.
        log.warning(
            "update %s: the notice could not be sent either: %s",
            update.update_id,
            type(again).__name__,
        )
    return kind


async def _answer_query(update: Update, ctx: BotContext, text: str | None) -> None:
    query = update.callback_query
    if query is None or was_answered(ctx, query.id):
        return
    ctx.deps.answered_queries.append(query.id)
    try:
        await query.answer(text=text)
    except TelegramError as exc:
        log.info("update %s: callback answer failed: %s", update.update_id, type(exc).__name__)


P = ParamSpec("P")


def recovers(
    then: str,
) -> Callable[[Callable[P, Coroutine[Any, Any, None]]], Callable[P, Coroutine[Any, Any, None]]]:
    """A handler whose flow is safe to leave at any Telegram failure (its state is saved
    before each message goes out): treat the error and tell the person `then`."""

    # Coroutine functions, as PTB's handlers take them.
    def wrap(
        handler: Callable[P, Coroutine[Any, Any, None]],
    ) -> Callable[P, Coroutine[Any, Any, None]]:
        @functools.wraps(handler)
        async def run(*args: P.args, **kwargs: P.kwargs) -> None:
            try:
                await handler(*args, **kwargs)
            except TelegramError as error:
                if kind_of(error) is None:
                    raise
                update, ctx = args[0], args[1]
                assert isinstance(update, Update) and isinstance(ctx, BotContext)
                await recover(update, ctx, error, then=then)

        return run

    return wrap


async def on_error(update: object, ctx: BotContext) -> None:
    error = ctx.error
    if error is not None and ctx.db.defer(error):
        # The database is unavailable: the update is handled again once it is back
        # (bot/app/updates.py), and until then the person is kept waiting, not told off.
        raise ApplicationHandlerStop
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, TelegramError) and kind_of(error) is not None:
        if isinstance(update, Update):
            await recover(update, ctx, error)
        else:
            log_failure(error, update_id)  # a job's call: nobody to tell
        return
    # Only the error's type and the update id: messages and names are personal data.
    # Where it failed, not what it was told: the frames name code, while the exception's
    # message could quote a member's input, so it stays out of the log.
    frames = "".join(traceback.format_tb(error.__traceback__)) if error else ""
    log.error("update %s failed: %s\n%s", update_id, type(error).__name__, frames)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        # Callback queries are always answered, in groups too.
        await _answer_query(update, ctx, None)
        return
    try:
        await _answer_query(update, ctx, None)
        await ctx.bot.send_message(
            update.effective_chat.id, ctx.renderer.text("error", "id"), parse_mode=HTML
        )
    except TelegramError:
        pass
