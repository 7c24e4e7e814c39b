"""Logging as LOG_LEVEL asks, with no token and no member's personal data at any level."""

from __future__ import annotations

import logging
import re

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Libraries whose DEBUG lines carry what members wrote and who they are: PTB dumps every
# update and every API answer (names, usernames, message text), httpx/httpcore the request
# URL (which holds the bot token) and headers. They stay at INFO whatever LOG_LEVEL says.
CHATTY = (
    "telegram",
    "httpx",
    "httpcore",
    "hpack",
    "aiohttp",
    "apscheduler",
    "asyncio",
)

# A bot token anywhere in a line (as in .../bot123:AA.../getMe), as a last line of defence.
TOKEN = re.compile(r"\d{5,20}:[A-Za-z0-9_-]{30,}")


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if TOKEN.search(message):
            record.msg = TOKEN.sub("<token>", message)
            record.args = None
        return True


def configure(level: str = "INFO") -> None:
    root = logging.getLogger()
    root.setLevel(level)
    if not root.handlers:
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(stream)
    for handler in root.handlers:
        if not any(isinstance(f, RedactTokens) for f in handler.filters):
            handler.addFilter(RedactTokens())
    floor = max(logging.getLevelName(level), logging.INFO)
    for name in CHATTY:
        logging.getLogger(name).setLevel(floor)
    # httpx logs every request URL at INFO, and the URL carries the bot token.
    logging.getLogger("httpx").setLevel(max(floor, logging.WARNING))
    # fpdf2 subsets the font of every report and fontTools logs each glyph table at INFO.
    logging.getLogger("fontTools").setLevel(max(floor, logging.WARNING))
