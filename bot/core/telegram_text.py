"""Telegram's text rules the product must follow: its HTML parse mode and UTF-16 lengths.

The parser follows TDLib's ``MessageEntity.cpp`` closely (byte-level scan of the UTF-8
input, same error texts, same byte offsets), so a text is refused here exactly when
Telegram would refuse it, e.g. ``&nbsp;`` and a bare ``&`` stay literal text while an
unescaped ``<`` is an error. The test Telegram (``sandbox/``) uses the same rules.
"""

from __future__ import annotations

import re
from typing import Any


class TextRuleError(Exception):
    """Telegram would answer 400 with this description (e.g. can't parse entities: ...)."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


def bad_request(detail: str) -> TextRuleError:
    return TextRuleError(f"Bad Request: {detail}")


_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
}
# Entities whose contents Telegram shows verbatim: nested formatting inside is dropped.
_VERBATIM_TYPES = frozenset({"code", "pre"})
# Tie-break for entities sharing offset and length, mirroring TDLib's type priorities
# (outer entities first).
_TYPE_ORDER = {
    name: index
    for index, name in enumerate(
        [
            "blockquote",
            "expandable_blockquote",
            "pre",
            "code",
            "text_link",
            "text_mention",
            "bold",
            "italic",
            "underline",
            "strikethrough",
            "spoiler",
            "custom_emoji",
        ]
    )
}

_INT64_MAX = 2**63 - 1


def utf16_len(s: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's lengths and entity offsets."""
    return len(s) + sum(1 for ch in s if ord(ch) > 0xFFFF)


def _utf16_offsets(s: str) -> list[int]:
    """UTF-16 offset of every code point index of ``s`` (plus one past the end)."""
    offsets = [0] * (len(s) + 1)
    total = 0
    for index, ch in enumerate(s):
        offsets[index] = total
        total += 2 if ord(ch) > 0xFFFF else 1
    offsets[len(s)] = total
    return offsets


def _parse_error(detail: str) -> TextRuleError:
    return bad_request(f"can't parse entities: {detail}")


# --- byte helpers mirroring TDLib's null-terminated CSlice scanning -------------------------


def _is_space(c: int) -> bool:
    return c in (0x20, 0x09, 0x0D, 0x0A, 0x00, 0x0B)


def _is_alpha(c: int) -> bool:
    return 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A


def _is_digit(c: int) -> bool:
    return 0x30 <= c <= 0x39


def _is_hex(c: int) -> bool:
    return _is_digit(c) or 0x41 <= c <= 0x46 or 0x61 <= c <= 0x66


def _units(c: int) -> int:
    """UTF-16 units contributed by this UTF-8 byte (0 for continuation bytes)."""
    if c & 0xC0 == 0x80:
        return 0
    return 2 if c >= 0xF0 else 1


class _Bytes:
    __slots__ = ("data", "size")

    def __init__(self, text: str) -> None:
        try:
            self.data = text.encode("utf-8")
        except UnicodeEncodeError:
            raise bad_request("text must be encoded in UTF-8") from None
        self.size = len(self.data)

    def __getitem__(self, index: int) -> int:
        return self.data[index] if index < self.size else 0

    def text(self, start: int, end: int) -> str:
        return self.data[start:end].decode("utf-8", errors="replace")


def _decode_html_entity(src: _Bytes, pos: int) -> tuple[int, int]:
    """Return (code point, position after the entity), or (0, pos) if not an entity."""
    end = pos + 1
    res = 0
    if src[pos + 1] == ord("#"):
        end += 1
        if src[pos + 2] == ord("x"):
            end += 1
            while _is_hex(src[end]):
                res = res * 16 + int(chr(src[end]), 16)
                end += 1
                if res >= 0x10FFFF:
                    return 0, pos
        else:
            while _is_digit(src[end]):
                res = res * 10 + src[end] - 0x30
                end += 1
                if res >= 0x10FFFF:
                    return 0, pos
        if res == 0 or res >= 0x10FFFF or end - pos >= 10 or 0xD800 <= res <= 0xDFFF:
            return 0, pos
    else:
        while _is_alpha(src[end]):
            end += 1
        name = src.text(pos + 1, end)
        named = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}.get(name)
        if named is None:
            # Telegram keeps unsupported entities such as "&nbsp;" as literal text.
            return 0, pos
        res = ord(named)
    if src[end] == ord(";"):
        end += 1
    return res, end


# --- links -----------------------------------------------------------------------------------

_TG_USER_LINK = re.compile(r"tg://user\?id=(\d+)", re.IGNORECASE)
_HOST = re.compile(r"(?:[A-Za-z0-9\-_]+\.)+[A-Za-z0-9\-]{2,}|localhost|\d{1,3}(?:\.\d{1,3}){3}")
_HTTP_URL = re.compile(
    r"(?:(?P<scheme>https?)://)?(?:[^\s/@:]+(?::[^\s/@]*)?@)?(?P<host>[^\s/:?#]+)"
    r"(?::(?P<port>\d{1,5}))?(?P<rest>[/?#]\S*)?",
    re.IGNORECASE,
)


def link_user_id(url: str) -> int | None:
    """User id of a ``tg://user?id=<id>`` link (a text mention), else None."""
    m = _TG_USER_LINK.fullmatch(url.strip())
    if not m:
        return None
    user_id = int(m[1])
    return user_id if 0 < user_id <= _INT64_MAX else None


def check_link(url: str) -> str | None:
    """Normalised link as Telegram stores it in text_link entities, or None if invalid."""
    url = url.strip()
    lowered = url.lower()
    if lowered.startswith(("tg:", "ton:")):
        scheme, _, rest = url.partition(":")
        rest = rest.removeprefix("//")
        return f"{scheme.lower()}://{rest}" if rest else None
    m = _HTTP_URL.fullmatch(url)
    if not m or not _HOST.fullmatch(m["host"]):
        return None
    if m["port"] and not 0 < int(m["port"]) < 65536:
        return None
    scheme = (m["scheme"] or "http").lower()
    rest = m["rest"] or "/"
    prefix = url[: m.start("host")]
    if m["scheme"]:
        prefix = prefix[len(m["scheme"]) + 3 :]
    return f"{scheme}://{prefix}{m['host']}{':' + m['port'] if m['port'] else ''}{rest}"


def _link_entity(offset: int, length: int, url: str) -> dict[str, Any] | None:
    user_id = link_user_id(url)
    if user_id is not None:
        return {"type": "text_mention", "offset": offset, "length": length, "user": {"id": user_id}}
    checked = check_link(url)
    if checked is None:
        # Telegram silently drops links it cannot parse rather than failing the request.
        return None
    return {"type": "text_link", "offset": offset, "length": length, "url": checked}


# --- HTML ------------------------------------------------------------------------------------


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode: returns plain text and MessageEntity dicts."""
    src = _Bytes(text)
    out = bytearray()
    entities: list[dict[str, Any]] = []
    utf16 = 0
    # (tag name, argument, utf16 offset, byte position in ``out``)
    stack: list[tuple[str, str, int, int]] = []
    i = 0
    while i < src.size:
        c = src[i]
        if c == ord("&"):
            ch, after = _decode_html_entity(src, i)
            if ch:
                out += chr(ch).encode("utf-8")
                utf16 += 2 if ch > 0xFFFF else 1
                i = after
                continue
        if c != ord("<"):
            out.append(c)
            utf16 += _units(c)
            i += 1
            continue

        begin = i
        i += 1
        if src[i] != ord("/"):
            while not _is_space(src[i]) and src[i] != ord(">"):
                i += 1
            if src[i] == 0:
                raise _parse_error(f"Unclosed start tag at byte offset {begin}")
            tag = src.text(begin + 1, i).lower()
            if tag not in _HTML_TAGS:
                raise _parse_error(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument, i = _parse_html_attributes(src, i, tag, begin)
            if tag == "span" and argument != "spoiler":
                raise _parse_error(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
                )
            stack.append((tag, argument, utf16, len(out)))
        else:
            if not stack:
                raise _parse_error(f"Unexpected end tag at byte offset {begin}")
            while not _is_space(src[i]) and src[i] != ord(">"):
                i += 1
            end_tag = src.text(begin + 2, i).lower()
            while _is_space(src[i]) and src[i] != 0:
                i += 1
            if src[i] != ord(">"):
                raise _parse_error(f"Unclosed end tag at byte offset {begin}")
            tag, argument, start_utf16, start_pos = stack.pop()
            if end_tag and end_tag != tag:
                raise _parse_error(
                    f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", '
                    f'found "</{end_tag}>"'
                )
            if utf16 > start_utf16:
                inner = bytes(out[start_pos:])
                length = utf16 - start_utf16
                _close_html_entity(entities, tag, argument, start_utf16, length, inner)
        i += 1  # past ">"
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.decode("utf-8"), _finish_entities(entities)


# One branch per rule of Telegram's attribute parser, in its order: split, it reads worse.
def _parse_html_attributes(src: _Bytes, i: int, tag: str, begin: int) -> tuple[str, int]:  # noqa: C901
    argument = ""
    while src[i] != ord(">"):
        while src[i] != 0 and _is_space(src[i]):
            i += 1
        if src[i] == ord(">"):
            break
        name_start = i
        while not _is_space(src[i]) and src[i] != ord("=") and src[i] != ord(">"):
            i += 1
        name = src.text(name_start, i)
        if not name:
            raise _parse_error(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
        while src[i] != 0 and _is_space(src[i]):
            i += 1
        if src[i] != ord("="):
            if tag == "blockquote" and name == "expandable":
                # The one attribute Telegram accepts without a value.
                argument = "1"
                continue
            if src[i] == 0:
                raise _parse_error(f"Unclosed start tag at byte offset {begin}")
            raise _parse_error(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {begin}"
            )
        i += 1
        while src[i] != 0 and _is_space(src[i]):
            i += 1
        if src[i] == 0:
            raise _parse_error(f'Unclosed start tag "{tag}" at byte offset {begin}')
        value = bytearray()
        if src[i] not in (ord("'"), ord('"')):
            token_start = i
            while _is_alpha(src[i]) or _is_digit(src[i]) or src[i] in (ord("."), ord("-")):
                i += 1
            value += src.data[token_start:i].lower()
            if not _is_space(src[i]) and src[i] != ord(">"):
                raise _parse_error(f"Unexpected end of name token at byte offset {token_start}")
        else:
            quote = src[i]
            i += 1
            while src[i] != quote and src[i] != 0:
                if src[i] == ord("&"):
                    ch, after = _decode_html_entity(src, i)
                    if ch:
                        value += chr(ch).encode("utf-8")
                        i = after
                        continue
                value.append(src[i])
                i += 1
            if src[i] == quote:
                i += 1
        if src[i] == 0:
            raise _parse_error(f"Unclosed start tag at byte offset {begin}")
        decoded = value.decode("utf-8", errors="replace")
        if tag == "a" and name == "href":
            argument = decoded
        elif tag == "code" and name == "class" and decoded.startswith("language-"):
            argument = decoded[len("language-") :]
        elif tag == "span" and name == "class" and decoded.startswith("tg-"):
            argument = decoded[len("tg-") :]
        elif tag == "tg-emoji" and name == "emoji-id":
            argument = decoded
        elif tag == "blockquote" and name == "expandable":
            argument = "1"
    return argument, i


def _close_html_entity(
    entities: list[dict[str, Any]],
    tag: str,
    argument: str,
    offset: int,
    length: int,
    inner: bytes,
) -> None:
    if tag in _SIMPLE_TAG_TYPES:
        entities.append({"type": _SIMPLE_TAG_TYPES[tag], "offset": offset, "length": length})
    elif tag == "span":
        entities.append({"type": "spoiler", "offset": offset, "length": length})
    elif tag == "tg-emoji":
        if not argument.isdigit() or not 0 < int(argument) <= _INT64_MAX:
            raise _parse_error("Invalid custom emoji identifier specified")
        entities.append(
            {
                "type": "custom_emoji",
                "offset": offset,
                "length": length,
                "custom_emoji_id": argument,
            }
        )
    elif tag == "a":
        url = argument or inner.decode("utf-8", errors="replace")
        if (entity := _link_entity(offset, length, url)) is not None:
            entities.append(entity)
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and (last["offset"], last["length"]) == (offset, length)
            and last.get("language")
        ):
            # <pre><code class="language-x">...</code></pre> is a single pre entity.
            last["type"] = "pre"
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif tag == "code":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "pre"
            and (last["offset"], last["length"]) == (offset, length)
            and argument
        ):
            last["language"] = argument
        else:
            code: dict[str, Any] = {"type": "code", "offset": offset, "length": length}
            if argument:
                code["language"] = argument
            entities.append(code)
    elif tag == "blockquote":
        kind = "expandable_blockquote" if argument == "1" else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})


def _finish_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sort like Telegram, drop empty entities and formatting nested in code/pre."""
    for entity in entities:
        if entity["type"] == "code":
            # Only <pre> carries a language; a lone <code class="language-x"> is plain code.
            entity.pop("language", None)
    result = [e for e in entities if e["length"] > 0]
    result.sort(key=lambda e: (e["offset"], -e["length"], _TYPE_ORDER.get(e["type"], 99)))
    kept: list[dict[str, Any]] = []
    verbatim_end = -1
    for entity in result:
        if entity["offset"] < verbatim_end:
            continue
        kept.append(entity)
        if entity["type"] in _VERBATIM_TYPES:
            verbatim_end = entity["offset"] + entity["length"]
    return kept


# --- MarkdownV2 ------------------------------------------------------------------------------
