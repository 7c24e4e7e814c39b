"""A fast lane for quiz votes received by long polling.

A quiz round brings thousands of `poll_answer` updates within seconds. Turning each into
a PTB `Update` and trying it against every handler costs more than recording it, so the
getUpdates response is split before PTB parses it: votes go straight to the vote
handler (`handlers.quiz.handle_answers`, the same code the PollAnswerHandler runs in webhook
mode), and the rest goes on to PTB as usual. The update ids stay whole: when the last
update of a response is a vote, an empty update with its id takes its place, so the
updater's offset moves past it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from telegram._utils.types import JSONDict
from telegram.request import HTTPXRequest

VoteSink = Callable[[list[JSONDict]], None]


class VoteSplittingRequest(HTTPXRequest):
    """The request object for getUpdates only (PTB keeps a separate one for it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sink: VoteSink | None = None

    # PTB declares it a staticmethod but calls it through the instance (self.parse_json_payload),
    # which is what lets a subclass see its own state here.
    def parse_json_payload(self, payload: bytes) -> JSONDict:  # type: ignore[override]
        data = HTTPXRequest.parse_json_payload(payload)
        updates = data.get("result")
        if self.sink is None or not isinstance(updates, list) or not updates:
            return data
        votes = [u for u in updates if isinstance(u, dict) and "poll_answer" in u]
        if not votes:
            return data
        rest = [u for u in updates if not (isinstance(u, dict) and "poll_answer" in u)]
        last = updates[-1]
        if isinstance(last, dict) and "poll_answer" in last:
            rest.append({"update_id": last["update_id"]})
        self.sink(votes)
        return {**data, "result": rest}
