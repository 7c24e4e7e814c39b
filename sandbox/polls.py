"""Polls: sendPoll / stopPoll and the votes simulated users cast."""

from __future__ import annotations

import copy
import time
from typing import Any

from sandbox.errors import bad_request
from sandbox.formatting import parse_formatted
from sandbox.messaging import inline_markup, post
from sandbox.registry import Ctx, method
from sandbox.state import BotState, Chat, Person, PollRecord, SimulationError, World, unix_now

JSON = dict[str, Any]

POLL_ID_BASE = 5_400_000_000_000_000_000


def _new_poll_id(world: World) -> str:
    return str(POLL_ID_BASE + world.new_id())


@method("sendPoll")
async def send_poll(ctx: Ctx, p: JSON) -> JSON:
    chat = ctx.chat(p["chat_id"])
    question, question_entities = parse_formatted(
        p["question"], p.get("question_parse_mode"), p.get("question_entities")
    )
    options: list[JSON] = []
    for index, option in enumerate(p["options"]):
        text, entities = parse_formatted(
            option["text"], option.get("text_parse_mode"), option.get("text_entities")
        )
        item: JSON = {"persistent_id": str(index + 1), "text": text, "voter_count": 0}
        if entities:
            item["text_entities"] = entities
        options.append(item)
    texts = [o["text"] for o in options]
    if len(set(texts)) != len(texts):
        raise bad_request("POLL_OPTION_DUPLICATE")
    poll_type = p.get("type", "regular")
    poll: JSON = {
        "id": _new_poll_id(ctx.world),
        "question": question,
        "options": options,
        "total_voter_count": 0,
        "is_closed": bool(p.get("is_closed", False)),
        "is_anonymous": bool(p.get("is_anonymous", True)),
        "type": poll_type,
        "allows_multiple_answers": bool(p.get("allows_multiple_answers", False)),
        "allows_revoting": bool(p.get("allows_revoting", poll_type != "quiz")),
        "members_only": bool(p.get("members_only", False)),
    }
    if question_entities:
        poll["question_entities"] = question_entities
    if poll_type == "quiz":
        poll["correct_option_ids"] = list(p["correct_option_ids"])
    if p.get("explanation"):
        explanation, entities = parse_formatted(
            p["explanation"], p.get("explanation_parse_mode"), p.get("explanation_entities")
        )
        poll["explanation"] = explanation
        if entities:
            poll["explanation_entities"] = entities
    if p.get("open_period"):
        poll["open_period"] = p["open_period"]
        poll["close_date"] = unix_now() + p["open_period"]
    elif p.get("close_date"):
        if p["close_date"] - time.time() < 5:
            raise bad_request("close_date must be at least 5 seconds in the future")
        poll["close_date"] = p["close_date"]
    message = post(ctx, chat, {"poll": poll}, p)
    register_poll(ctx, chat, message)
    return message


def register_poll(ctx: Ctx, chat: Chat, message: JSON) -> None:
    poll = message["poll"]
    ctx.world.polls[poll["id"]] = PollRecord(
        copy.deepcopy(poll), chat.id, message["message_id"], ctx.bot.id
    )


def clone_poll(ctx: Ctx, poll: JSON) -> JSON:
    """A copied poll is a new poll with the same settings and no votes."""
    fresh = copy.deepcopy(poll)
    fresh["id"] = _new_poll_id(ctx.world)
    fresh["total_voter_count"] = 0
    for option in fresh["options"]:
        option["voter_count"] = 0
    return fresh


@method("stopPoll")
async def stop_poll(ctx: Ctx, p: JSON) -> JSON:
    chat = ctx.chat(p["chat_id"])
    message = ctx.message(chat, p["message_id"], "message with poll to stop not found")
    if "poll" not in message:
        raise bad_request("message with poll to stop not found")
    if message.get("from", {}).get("id") != ctx.bot.id:
        raise bad_request("message can't be edited")
    record = ctx.world.polls[message["poll"]["id"]]
    if record.poll["is_closed"]:
        raise bad_request("poll has already been closed")
    record.poll["is_closed"] = True
    edited = copy.deepcopy(message)
    edited["poll"] = copy.deepcopy(record.poll)
    markup = inline_markup(chat, p.get("reply_markup"))
    if markup is None:
        edited.pop("reply_markup", None)
    else:
        edited["reply_markup"] = markup
    edited["edit_date"] = unix_now()
    chat.messages[edited["message_id"]] = edited
    chat.emit("edit", edited)
    ctx.world.enqueue(ctx.bot, "poll", record.poll)
    return copy.deepcopy(record.poll)


# --- votes from simulated users --------------------------------------------------------------


def _close_if_expired(world: World, bot: BotState, record: PollRecord) -> None:
    close_date = record.poll.get("close_date")
    if not record.poll["is_closed"] and close_date is not None and time.time() >= close_date:
        record.poll["is_closed"] = True
        world.enqueue(bot, "poll", record.poll)


def _publish(world: World, bot: BotState, chat: Chat, record: PollRecord) -> None:
    message = chat.messages.get(record.message_id)
    if message is not None:
        message["poll"] = copy.deepcopy(record.poll)
    world.enqueue(bot, "poll", record.poll)


def _answer_update(world: World, bot: BotState, user: Person, record: PollRecord) -> None:
    if record.poll["is_anonymous"]:
        return  # anonymous polls only ever report counts
    ids = record.votes.get(user.id, [])
    world.enqueue(
        bot,
        "poll_answer",
        {
            "poll_id": record.poll["id"],
            "user": user.to_json(),
            "option_ids": ids,
            "option_persistent_ids": [record.poll["options"][i]["persistent_id"] for i in ids],
        },
    )


def cast_vote(
    world: World, bot: BotState, chat: Chat, user: Person, record: PollRecord, ids: list[int]
) -> None:
    _close_if_expired(world, bot, record)
    poll = record.poll
    if poll["is_closed"]:
        raise SimulationError("the poll is closed; Telegram clients cannot vote in it")
    if not ids:
        raise SimulationError("pick at least one option (use retract_vote to take a vote back)")
    if len(set(ids)) != len(ids) or not all(0 <= i < len(poll["options"]) for i in ids):
        raise SimulationError(f"option ids {ids} do not exist in this poll")
    if len(ids) > 1 and not poll["allows_multiple_answers"]:
        raise SimulationError("this poll allows only one answer")
    if user.id in record.votes:
        raise SimulationError("already voted; call retract_vote first (as the client requires)")
    for index in ids:
        poll["options"][index]["voter_count"] += 1
    poll["total_voter_count"] += 1
    record.votes[user.id] = sorted(ids)
    _answer_update(world, bot, user, record)
    _publish(world, bot, chat, record)


def retract_vote(world: World, bot: BotState, chat: Chat, user: Person, record: PollRecord) -> None:
    _close_if_expired(world, bot, record)
    poll = record.poll
    if poll["is_closed"]:
        raise SimulationError("the poll is closed; votes can no longer be retracted")
    if poll["type"] == "quiz" or not poll.get("allows_revoting", True):
        raise SimulationError("votes in this poll cannot be retracted")
    previous = record.votes.pop(user.id, None)
    if previous is None:
        raise SimulationError("this user has not voted in the poll")
    for index in previous:
        poll["options"][index]["voter_count"] -= 1
    poll["total_voter_count"] -= 1
    _answer_update(world, bot, user, record)
    _publish(world, bot, chat, record)
