"""An admin's broadcast message: placeholders, validation, and the per-recipient payload."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from bot.core.telegram_text import TextRuleError, parse_html, utf16_len

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]+)\s*\}\}")
FIELDS = ("nama", "unit", "opd")
TEXT_MAX = 4096
CAPTION_MAX = 1024
# The longest values a placeholder can take, to check the length before anyone gets it.
# Quotes included: a value that closes an attribute must be caught here, not at send time.
LONGEST = {"nama": "N'\"" * 33 + "N", "unit": "U'\"" * 33 + "U", "opd": "O'\"" * 33 + "O"}
BYTE_OFFSET = re.compile(r" at byte offset (\d+)")
EXCERPT = 30  # characters of the admin's text shown around an HTML error


@dataclass(frozen=True)
class Draft:
    """What the admin composed: HTML text (or a caption) and optionally a file id."""

    html: str
    media: str | None = None  # "photo" | "document"
    file_id: str | None = None


class ComposeError(Exception):
    def __init__(self, problem: str, **detail: Any) -> None:
        super().__init__(problem)
        self.problem = problem
        self.detail = detail


def fill(text: str, values: dict[str, str]) -> str:
    """Fill `{{ nama }}`, `{{ unit }}`, `{{ opd }}`; the values are escaped for HTML, quotes
    too, since a placeholder may sit inside an attribute (`href='…{{ nama }}'`)."""
    return PLACEHOLDER.sub(lambda m: html.escape(values.get(m[1].lower(), ""), quote=True), text)


def validate(draft: Draft) -> None:
    """Raise ComposeError unless every recipient's message will be accepted by Telegram."""
    unknown = sorted({m[1] for m in PLACEHOLDER.finditer(draft.html)} - set(FIELDS))
    if unknown:
        raise ComposeError("placeholder", names=unknown)
    if not draft.html.strip() and draft.media is None:
        raise ComposeError("empty")
    # The admin's own text first: an HTML error is then reported where they typed it, not
    # at an offset in the text filled with the longest values. Placeholders hold no markup.
    try:
        parse_html(draft.html)
    except TextRuleError as exc:
        raise _html_error(draft.html, exc.description) from None
    longest = fill(draft.html, LONGEST)
    try:
        plain, _ = parse_html(longest)
    except TextRuleError as exc:
        raise ComposeError("html", reason=exc.description.removeprefix("Bad Request: ")) from None
    limit = CAPTION_MAX if draft.media else TEXT_MAX
    if utf16_len(plain) > limit:
        raise ComposeError("too_long", length=utf16_len(plain), limit=limit)


def _html_error(text: str, description: str) -> ComposeError:
    """Telegram's parse error, its byte offset turned into a character position (from 1)
    in `text` and a short excerpt around it."""
    reason = description.removeprefix("Bad Request: ").removeprefix("can't parse entities: ")
    found = BYTE_OFFSET.search(reason)
    if found is None:
        return ComposeError("html", reason=reason)
    reason = reason[: found.start()] + reason[found.end() :]
    index = len(text.encode()[: int(found[1])].decode(errors="ignore"))
    start, end = max(0, index - EXCERPT // 2), min(len(text), index + EXCERPT // 2)
    excerpt = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
    return ComposeError("html", reason=reason, position=index + 1, excerpt=excerpt)


def payload(draft: Draft, values: dict[str, str]) -> dict[str, Any]:
    """One delivery's messages, as Bot API parameters (without chat_id)."""
    text = fill(draft.html, values)
    if draft.media == "photo":
        params: dict[str, Any] = {"photo": draft.file_id, "parse_mode": "HTML"}
        method = "sendPhoto"
    elif draft.media == "document":
        params = {"document": draft.file_id, "parse_mode": "HTML"}
        method = "sendDocument"
    else:
        return {
            "messages": [
                {
                    "method": "sendMessage",
                    "params": {
                        "text": text,
                        "parse_mode": "HTML",
                        "link_preview_options": {"is_disabled": True},
                    },
                }
            ]
        }
    if text.strip():
        params["caption"] = text
    else:
        params.pop("parse_mode")
    return {"messages": [{"method": method, "params": params}]}
