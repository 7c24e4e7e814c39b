"""Telegram text formatting in the sandbox: parse modes, explicit entities and
auto-detected entities. The HTML parse mode and UTF-16 lengths are the product's own rules
(``bot.core.telegram_text``); Markdown, entity checks and detection live here, following
TDLib's ``MessageEntity.cpp`` the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from bot.core.telegram_text import (
    _INT64_MAX,
    _TYPE_ORDER,
    TextRuleError,
    _Bytes,
    _finish_entities,
    _is_space,
    _link_entity,
    _units,
    _utf16_offsets,
    check_link,
    parse_html,
    utf16_len,
)
from sandbox.errors import ApiError, bad_request

T = TypeVar("T")


ENTITY_TYPES: frozenset[str] = frozenset(
    {
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "blockquote",
        "expandable_blockquote",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
        "date_time",
    }
)

PARSE_MODES: dict[str, str] = {"html": "HTML", "markdownv2": "MarkdownV2", "markdown": "Markdown"}

_MDV2_RESERVED = frozenset(b"_*[]()~`>#+-=|{}.!")

_MDV2_TYPE_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "code": "Code",
    "pre": "Pre",
    "custom_emoji": "CustomEmoji",
}


def _as_api_error(fn: Callable[..., T], *args: Any) -> T:
    """The product's text rules raise TextRuleError; the sandbox answers it as Telegram does."""
    try:
        return fn(*args)
    except TextRuleError as exc:
        raise ApiError(400, exc.description) from None


def _parse_error(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


def _reserved_error(c: int) -> ApiError:
    return _parse_error(
        f"Character '{chr(c)}' is reserved and must be escaped with the preceding '\\'"
    )


def _skip_pre_opening(src: _Bytes, i: int) -> tuple[int, str]:
    """Handle the language tag and first newline after an opening ```; returns (i, language)."""
    language = ""
    language_end = i
    while not _is_space(src[language_end]) and src[language_end] != ord("`"):
        language_end += 1
    if i != language_end and language_end < src.size and src[language_end] != ord("`"):
        language = src.text(i, language_end)
        i = language_end
    if src[i] in (ord("\n"), ord("\r")):
        if src[i + 1] in (ord("\n"), ord("\r")) and src[i] != src[i + 1]:
            i += 2
        else:
            i += 1
    return i, language


# One branch per MarkdownV2 token, as Telegram's own parser has them.
def parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:  # noqa: C901
    """Telegram's MarkdownV2 (without the ``>`` blockquote syntax)."""
    src = _as_api_error(_Bytes, text)
    out = bytearray()
    entities: list[dict[str, Any]] = []
    utf16 = 0
    # (type, argument, utf16 offset, byte offset in input, byte position in ``out``)
    stack: list[tuple[str, str, int, int, int]] = []
    i = 0
    while i < src.size:
        c = src[i]
        if c == ord("\\") and 0 < src[i + 1] <= 126:
            out.append(src[i + 1])
            utf16 += 1
            i += 2
            continue
        in_code = bool(stack) and stack[-1][0] in ("code", "pre")
        reserved = c == ord("`") if in_code else c in _MDV2_RESERVED
        if not reserved:
            out.append(c)
            utf16 += _units(c)
            i += 1
            continue

        closing = False
        if stack:
            kind = stack[-1][0]
            closing = {
                "bold": c == ord("*"),
                "italic": c == ord("_") and src[i + 1] != ord("_"),
                "code": c == ord("`"),
                "pre": c == ord("`") and src[i + 1] == ord("`") and src[i + 2] == ord("`"),
                "text_link": c == ord("]"),
                "custom_emoji": c == ord("]"),
                "underline": c == ord("_") and src[i + 1] == ord("_"),
                "strikethrough": c == ord("~"),
                "spoiler": c == ord("|") and src[i + 1] == ord("|"),
            }[kind]

        if not closing:
            start = i
            argument = ""
            if c == ord("_"):
                if src[i + 1] == ord("_"):
                    kind = "underline"
                    i += 1
                else:
                    kind = "italic"
            elif c == ord("*"):
                kind = "bold"
            elif c == ord("~"):
                kind = "strikethrough"
            elif c == ord("|"):
                if src[i + 1] != ord("|"):
                    raise _reserved_error(c)
                kind = "spoiler"
                i += 1
            elif c == ord("["):
                kind = "text_link"
            elif c == ord("`"):
                if src[i + 1] == ord("`") and src[i + 2] == ord("`"):
                    kind = "pre"
                    i, argument = _skip_pre_opening(src, i + 3)
                    i -= 1
                else:
                    kind = "code"
            elif c == ord("!") and src[i + 1] == ord("["):
                kind = "custom_emoji"
                i += 1
            else:
                raise _reserved_error(c)
            stack.append((kind, argument, utf16, start, len(out)))
            i += 1
            continue

        kind, argument, start_utf16, _start, start_pos = stack.pop()
        entity: dict[str, Any] | None = None
        length = utf16 - start_utf16
        if kind == "underline" or kind == "spoiler":
            i += 1
        elif kind == "pre":
            i += 2
        if kind in ("text_link", "custom_emoji"):
            if src[i + 1] != ord("("):
                if kind == "custom_emoji":
                    raise _parse_error("Custom emoji entity must contain a tg://emoji URL")
                url = out[start_pos:].decode("utf-8", errors="replace")
            else:
                i += 2
                url_start = i
                url_bytes = bytearray()
                while i < src.size and src[i] != ord(")"):
                    if src[i] == ord("\\") and 0 < src[i + 1] <= 126:
                        url_bytes.append(src[i + 1])
                        i += 2
                        continue
                    url_bytes.append(src[i])
                    i += 1
                if src[i] != ord(")"):
                    raise _parse_error(f"Can't find end of a URL at byte offset {url_start}")
                url = url_bytes.decode("utf-8", errors="replace")
            if kind == "custom_emoji":
                m = re.fullmatch(r"tg://emoji\?id=(\d+)", url)
                if not m or not 0 < int(m[1]) <= _INT64_MAX:
                    raise _parse_error("Custom emoji entity must contain a tg://emoji URL")
                entity = {"type": kind, "offset": start_utf16, "length": length}
                entity["custom_emoji_id"] = m[1]
            else:
                entity = _link_entity(start_utf16, length, url)
        else:
            entity = {"type": kind, "offset": start_utf16, "length": length}
            if kind == "pre" and argument:
                entity["language"] = argument
        if entity is not None and length > 0:
            entities.append(entity)
        i += 1
    if stack:
        kind, _argument, _utf16, start, _pos = stack[-1]
        name = _MDV2_TYPE_NAMES[kind]
        if kind == "pre" and _argument:
            name = "PreCode"
        raise _parse_error(f"Can't find end of {name} entity at byte offset {start}")
    return out.decode("utf-8"), _finish_entities(entities)


# --- legacy Markdown -------------------------------------------------------------------------


def parse_markdown(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's legacy Markdown: *bold* _italic_ `code` ```pre``` [text](url)."""
    src = _as_api_error(_Bytes, text)
    out = bytearray()
    entities: list[dict[str, Any]] = []
    utf16 = 0
    markers = (ord("_"), ord("*"), ord("`"), ord("["))
    i = 0
    while i < src.size:
        c = src[i]
        if c == ord("\\") and src[i + 1] in markers:
            out.append(src[i + 1])
            utf16 += 1
            i += 2
            continue
        if c not in markers:
            out.append(c)
            utf16 += _units(c)
            i += 1
            continue
        begin = i
        end_char = ord("]") if c == ord("[") else c
        is_pre = False
        language = ""
        i += 1
        if c == ord("`") and src[i] == ord("`") and src[i + 1] == ord("`"):
            is_pre = True
            i, language = _skip_pre_opening(src, i + 2)
        start_utf16 = utf16
        start_pos = len(out)
        while i < src.size and (
            src[i] != end_char
            or (is_pre and not (src[i + 1] == ord("`") and src[i + 2] == ord("`")))
        ):
            out.append(src[i])
            utf16 += _units(src[i])
            i += 1
        if i >= src.size:
            raise _parse_error(f"Can't find end of the entity starting at byte offset {begin}")
        length = utf16 - start_utf16
        if c == ord("["):
            if src[i + 1] != ord("("):
                url = out[start_pos:].decode("utf-8", errors="replace")
            else:
                i += 2
                url_start = i
                while i < src.size and src[i] != ord(")"):
                    i += 1
                url = src.text(url_start, i)
            if length and (entity := _link_entity(start_utf16, length, url)) is not None:
                entities.append(entity)
        elif length:
            kind = {ord("_"): "italic", ord("*"): "bold"}.get(c, "pre" if is_pre else "code")
            entity = {"type": kind, "offset": start_utf16, "length": length}
            if is_pre and language:
                entity["language"] = language
            entities.append(entity)
        if is_pre:
            i += 2
        i += 1
    return out.decode("utf-8"), _finish_entities(entities)


# --- explicit entities, trimming and dispatch ------------------------------------------------


def check_entities(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validate explicit MessageEntity dicts against ``text``; returns them sorted."""
    total = utf16_len(text)
    checked: list[dict[str, Any]] = []
    for index, entity in enumerate(entities):
        if not isinstance(entity, dict):
            raise bad_request(f"can't parse entities: entity {index} must be an object")
        kind = entity.get("type")
        if kind not in ENTITY_TYPES:
            raise bad_request(f"can't parse entities: unsupported entity type {kind!r}")
        offset, length = entity.get("offset"), entity.get("length")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (offset, length)):
            raise bad_request(f"can't parse entities: entity {index} needs integer offset/length")
        assert isinstance(offset, int) and isinstance(length, int)
        if offset < 0 or length < 0 or offset + length > total:
            raise bad_request(
                f"can't parse entities: entity {index} ({kind} at {offset}+{length}) is outside "
                f"the text of length {total}"
            )
        required = {"text_link": "url", "text_mention": "user", "custom_emoji": "custom_emoji_id"}
        if kind in required and not entity.get(required[kind]):
            raise bad_request(f'can\'t parse entities: {kind} entity needs "{required[kind]}"')
        if kind == "text_link" and check_link(str(entity["url"])) is None:
            raise bad_request(f"can't parse entities: wrong URL {entity['url']!r}")
        if length:
            checked.append(dict(entity))
    checked.sort(key=lambda e: (e["offset"], -e["length"], _TYPE_ORDER.get(e["type"], 99)))
    return checked


_TRIM_CHARS = " \t\r\n"


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip surrounding whitespace as Telegram does, keeping entity offsets consistent."""
    stripped = text.strip(_TRIM_CHARS)
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip(_TRIM_CHARS))])
    new_total = utf16_len(stripped)
    result: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, new_total)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


def normalize_parse_mode(parse_mode: str | None) -> str | None:
    """Canonical parse mode name, None for plain text; rejects unknown modes."""
    if parse_mode is None or parse_mode == "":
        return None
    canonical = PARSE_MODES.get(parse_mode.lower())
    if canonical is None:
        raise bad_request("unsupported parse_mode")
    return canonical


def parse_formatted(
    text: str,
    parse_mode: str | None,
    entities: list[dict[str, Any]] | None,
    *,
    detect: bool = False,
) -> tuple[str, list[dict[str, Any]]]:
    """Text and entities as Telegram would store them.

    ``detect=True`` adds the url/mention/hashtag/bot_command entities Telegram finds on its
    own, which is what the sent Message shows; length checks do not need them.
    """
    mode = normalize_parse_mode(parse_mode)
    if mode == "HTML":
        plain, found = _as_api_error(parse_html, text)
    elif mode == "MarkdownV2":
        plain, found = parse_markdown_v2(text)
    elif mode == "Markdown":
        plain, found = parse_markdown(text)
    else:
        _as_api_error(_Bytes, text)  # rejects lone surrogates, which are not valid UTF-8
        plain, found = text, check_entities(text, entities or [])
    plain, found = _trim(plain, found)
    if detect:
        found = merge_detected(plain, found)
    return plain, found


# --- auto-detected entities ------------------------------------------------------------------

_URL_TAIL_PUNCT = ".,;:!?'\")]}"
_DETECT = re.compile(
    r"(?P<bot_command>(?<![\w/@#$<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/@]))"
    r"|(?P<url>(?<![\w@/.])(?:https?://|tg://|www\.)[^\s<>\"]+"
    r"|(?<![\w@/.])(?:[A-Za-z0-9-]+\.)+(?:com|org|net|id|io|me|co|info|gov|app|dev|org\.id)"
    r"(?:/[^\s<>\"]*)?(?![\w.]))"
    r"|(?P<mention>(?<![\w@/])@[A-Za-z0-9_]{3,32}(?![\w@]))"
    r"|(?P<hashtag>(?<![\w#/])#\w*[^\W\d]\w*)",
    re.IGNORECASE,
)


def detect_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram finds in plain text: bot_command, url, mention and hashtag."""
    offsets = _utf16_offsets(text)
    found: list[dict[str, Any]] = []
    for m in _DETECT.finditer(text):
        kind = m.lastgroup
        assert kind is not None
        start, end = m.span()
        if kind == "url":
            while end > start and text[end - 1] in _URL_TAIL_PUNCT:
                end -= 1
        if kind == "hashtag" and utf16_len(text[start:end]) > 257:
            continue
        if end > start:
            length = offsets[end] - offsets[start]
            found.append({"type": kind, "offset": offsets[start], "length": length})
    return found


def merge_detected(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add auto-detected entities that do not clash with code, pre or links."""
    blocked = [
        (e["offset"], e["offset"] + e["length"])
        for e in entities
        if e["type"] in ("code", "pre", "text_link", "text_mention", "custom_emoji")
    ]
    merged = list(entities)
    for entity in detect_entities(text):
        start, end = entity["offset"], entity["offset"] + entity["length"]
        if all(end <= b_start or start >= b_end for b_start, b_end in blocked):
            merged.append(entity)
    merged.sort(key=lambda e: (e["offset"], -e["length"], _TYPE_ORDER.get(e["type"], 99)))
    return merged
