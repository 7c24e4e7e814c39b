"""A strict, local Telegram Bot API server for tests, the demo and development.

``Sandbox`` runs the Bot API over real HTTP (``api_base_url`` / ``file_base_url`` for
python-telegram-bot), simulated users and groups that drive the bot (``sb.user(...)``,
``sb.group(...)``) and a control API for the standalone server (``sandbox.control``).

Violations, recorded in ``Sandbox.violations`` (the pytest fixture fails the test on any
left over), are the errors a careful bot can avoid:

* every 400 Bad Request (validation, unknown parameter, chat not found, message not
  modified, message to edit/delete not found, callback query too old or answered twice...),
  401 (malformed or mismatched token), 404 (unknown method, unknown file path), 409 (two
  overlapping getUpdates, getUpdates while a webhook is set), 413 (upload over 50 MB) and
  every 429 (flood limits, ignored retry_after, over 100 concurrent requests);
* callback queries left unanswered for ``callback_timeout`` seconds (default 10);
* a webhook endpoint that answers with a non-2xx status.

Not violations (recorded in ``Sandbox.events`` only): 403 "bot was blocked by the user",
403 "bot can't initiate conversation with a user", 403 "bot is not a member of / was kicked
from the group chat", 400 "group chat was upgraded to a supergroup chat" (the bot is meant to
follow ``migrate_to_chat_id``), webhook connection failures, a getUpdates superseded after
its own client had already gone away, and every fault a test injected on purpose
(``Sandbox.inject``, see ``sandbox.faults``).
"""

from sandbox.errors import ApiError, UploadedFile
from sandbox.faults import Fault
from sandbox.ratelimit import RateLimits
from sandbox.server import Sandbox, run_standalone
from sandbox.state import ApiCall, BotMessage, Event, SimulationError, Violation, make_token
from sandbox.users import SimGroup, SimUser

__all__ = [
    "ApiCall",
    "ApiError",
    "BotMessage",
    "Event",
    "Fault",
    "RateLimits",
    "Sandbox",
    "SimGroup",
    "SimUser",
    "SimulationError",
    "UploadedFile",
    "Violation",
    "make_token",
    "run_standalone",
]
