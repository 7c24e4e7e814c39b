"""Request validation: reject every Bot API call real Telegram would reject.

``check_request`` knows nothing about chats, messages or rate limits; it checks the shape of
a call against the derived spec (types, required and unknown parameters, nested objects)
plus the documented size limits, using Telegram's own error wording where it is known.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from typing import Any

from sandbox import spec
from sandbox.errors import ApiError, UploadedFile, bad_request
from sandbox.formatting import (
    check_link,
    normalize_parse_mode,
    parse_formatted,
    utf16_len,
)

# --- limits the reference states only in prose, or not at all (fallbacks otherwise) ---------

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_MESSAGE_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
MAX_INLINE_BUTTONS_PER_ROW = 8
MIN_POLL_OPTIONS = 2
MAX_POLL_OPTIONS = 12
MAX_POLL_QUESTION = 300
MAX_POLL_OPTION = 100
MAX_POLL_EXPLANATION = 200
MAX_POLL_EXPLANATION_LINE_FEEDS = 2
POLL_OPEN_PERIOD = (5, 2628000)
MAX_CALLBACK_ANSWER = 200
MAX_BOT_COMMANDS = 100
BOT_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
MAX_BOT_COMMAND_DESCRIPTION = 256
POLL_TYPES = ("regular", "quiz")
# Parameters Telegram clamps instead of rejecting (getUpdates.limit=500 just means 100).
CLAMPED_PARAMS = frozenset({"limit"})
# Fields of InlineKeyboardButton that do not choose the button's action.
BUTTON_DECORATION_FIELDS = frozenset({"text", "icon_custom_emoji_id", "style"})
# Text fields that are pure "text" on the wire when the container has a plain "parse_mode".
_PLAIN_PARSE_MODE_FIELDS = ("text", "caption", "message_text", "title")

_BOOL_STRINGS = {"true": True, "false": False, "1": True, "0": False}
_INT_RE = re.compile(r"-?\d+")
_FLOAT_RE = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_ATTACH_RE = re.compile(r"attach://([^\s\"']+)")


def _bound(key: str, fallback: tuple[int, int]) -> tuple[int, int]:
    found = spec.limit(key)
    if found is None:
        return fallback
    return int(found["min"]), int(found["max"])


# Telegram's wording for formatted fields: (owner.field) -> (empty message, too-long message).
_FORMATTED_WORDING: dict[str, tuple[str | None, str]] = {
    "text": ("message text is empty", "message is too long"),
    "message_text": ("message text is empty", "message is too long"),
    "caption": (None, "message caption is too long"),
    "sendPoll.question": (
        "poll question must be non-empty",
        f"poll question length must not exceed {_bound('sendPoll.question', (1, 300))[1]}",
    ),
    "InputPollOption.text": (
        "poll options must be non-empty",
        f"poll options length must not exceed {_bound('InputPollOption.text', (1, 100))[1]}",
    ),
    "sendPoll.explanation": (
        None,
        f"poll explanation length must not exceed {_bound('sendPoll.explanation', (0, 200))[1]}",
    ),
    "ReplyParameters.quote": (None, "quote is too long"),
}

_MISSING_WORDING: dict[str, str] = {
    "chat_id": "chat_id is empty",
    "text": "message text is empty",
    "message_text": "message text is empty",
    "question": "poll question must be non-empty",
}


class _Checker:
    """One validation pass; remembers multipart parts so attach:// references can be checked."""

    def __init__(self, uploads: dict[str, UploadedFile]) -> None:
        self.uploads = uploads

    # --- scalar and structural coercion ------------------------------------------------------

    def value(self, raw: Any, types: list[str], path: str) -> Any:
        # A str from a form can be a number for "Integer or String" (chat_id): try the
        # non-String readings first so "123" becomes 123 and "@channel" stays a String.
        if "Integer" in types and isinstance(raw, str) and _INT_RE.fullmatch(raw.strip()):
            # A numeric id out of the 64-bit range is an error, not a username.
            return _integer(raw, path)
        arrays = [t[len("Array of ") :] for t in types if t.startswith("Array of ")]
        if len(arrays) > 1 and isinstance(raw, list):
            # "Array of InputMediaAudio or Array of InputMediaPhoto...": judge item by item so
            # errors name the offending item rather than the first alternative tried.
            return [self.value(item, arrays, f"{path}[{i}]") for i, item in enumerate(raw)]
        objects = [t for t in types if _is_object_type(t)]
        if len(objects) > 1 and isinstance(raw, dict):
            return self.union(raw, objects, path)
        ordered = sorted(types, key=lambda t: t == "String")
        errors: list[ApiError] = []
        for type_name in ordered:
            try:
                return self.one(raw, type_name, path)
            except _TypeMismatch:
                continue
            except ApiError as error:
                errors.append(error)
        if errors:
            # The value had the right shape for some type but broke its rules: report that.
            raise errors[0]
        raise bad_request(f'field "{path}" must be of type {" or ".join(types)}')

    def one(self, raw: Any, type_name: str, path: str) -> Any:
        if type_name.startswith("Array of "):
            items = self._json(raw, path, list)
            inner = type_name[len("Array of ") :]
            return [self.value(item, [inner], f"{path}[{i}]") for i, item in enumerate(items)]
        if type_name == "Integer":
            return _integer(raw, path)
        if type_name in ("Float", "Float number"):
            return _float(raw)
        if type_name == "Boolean":
            return _boolean(raw)
        if type_name == "String":
            return _string(raw, path)
        if type_name == "InputFile":
            return self._input_file(raw, path)
        type_spec = spec.type_spec(type_name)
        if type_spec is None:
            raise bad_request(f'field "{path}" has unknown type {type_name}')
        if "subtypes" in type_spec:
            return self.union(raw, type_spec["subtypes"], path)
        return self.obj(raw, type_name, path)

    def _json(self, raw: Any, path: str, expected: type) -> Any:
        # Form values were JSON-decoded once in check_request; strings nested in JSON are
        # plain strings, never JSON again.
        if not isinstance(raw, expected):
            raise _TypeMismatch()
        return raw

    def _input_file(self, raw: Any, path: str) -> Any:
        if isinstance(raw, UploadedFile):
            return raw
        if isinstance(raw, str):
            if m := _ATTACH_RE.fullmatch(raw):
                if m[1] not in self.uploads:
                    raise bad_request(f'file "{raw}" referenced by {path} was not uploaded')
            elif not raw:
                raise bad_request(f"{path}: file must be non-empty")
            return raw
        raise _TypeMismatch()

    def union(self, raw: Any, members: list[str], path: str) -> Any:
        object_members = [m for m in members if _is_object_type(m)]
        other_members = [m for m in members if not _is_object_type(m)]
        if isinstance(raw, dict) and object_members:
            return self.obj(raw, _pick_member(raw, object_members, path), path)
        if other_members:
            return self.value(raw, other_members, path)
        raise _TypeMismatch()

    def obj(self, raw: Any, type_name: str, path: str) -> dict[str, Any]:
        if type_name == "KeyboardButton" and isinstance(raw, str):
            # Reply keyboards accept bare strings as text-only buttons.
            raw = {"text": raw}
        raw = self._json(raw, path, dict)
        fields: dict[str, dict[str, Any]] = spec.SPEC["types"][type_name]["fields"]
        typed = self.fields(raw, fields, path, type_name)
        hook = _TYPE_HOOKS.get(type_name)
        if hook is not None:
            hook(self, typed, path)
        _check_limits(type_name, typed, fields, path)
        return typed

    def fields(
        self,
        raw: dict[str, Any],
        fields: dict[str, dict[str, Any]],
        path: str,
        owner: str,
    ) -> dict[str, Any]:
        typed: dict[str, Any] = {}
        for name, value in raw.items():
            where = f"{path}.{name}" if path else name
            if name not in fields:
                raise bad_request(f'unknown field "{name}" in {path or owner}')
            if value is None:
                continue
            field = fields[name]
            typed[name] = self.value(value, field["types"], where)
            if "const" in field and typed[name] != field["const"]:
                raise bad_request(f'field "{where}" must be "{field["const"]}"')
            if "enum" in field and typed[name] not in field["enum"]:
                raise bad_request(f'field "{where}" must be one of {", ".join(field["enum"])}')
        for name, field in fields.items():
            if field["required"] and name not in typed:
                raise bad_request(f'can\'t parse {path or owner}: field "{name}" is required')
        return typed


class _TypeMismatch(Exception):
    """The value cannot be read as this type; another union member may still fit."""


def _is_object_type(name: str) -> bool:
    return not name.startswith("Array of ") and spec.type_spec(name) is not None


def _pick_member(raw: dict[str, Any], members: list[str], path: str) -> str:
    """Choose the union member a JSON object is meant to be (reply_markup, scope, media...)."""
    expanded: list[str] = []
    for member in members:
        subtypes = spec.SPEC["types"][member].get("subtypes")
        if subtypes:
            expanded.extend(s for s in subtypes if _is_object_type(s))
        else:
            expanded.append(member)
    for member in expanded:
        fields = spec.SPEC["types"][member]["fields"]
        consts = {k: f["const"] for k, f in fields.items() if "const" in f}
        if consts and all(raw.get(k) == v for k, v in consts.items()):
            return member
    best, best_score = None, 0
    for member in expanded:
        fields = spec.SPEC["types"][member]["fields"]
        if any("const" in f for f in fields.values()):
            continue  # discriminated members only match through their discriminator
        required = {k for k, f in fields.items() if f["required"]}
        score = len(required & raw.keys()) * 2 + len(fields.keys() & raw.keys())
        if required <= raw.keys() and raw.keys() <= fields.keys():
            return member
        if score > best_score:
            best, best_score = member, score
    if best is None:
        raise bad_request(f"can't parse {path}: object is none of {', '.join(members)}")
    return best


def _is_structured(type_name: str) -> bool:
    return type_name.startswith("Array of ") or _is_object_type(type_name)


def _decode_json(value: str, key: str, types: list[str]) -> Any:
    """Form-encoded arrays and objects arrive as JSON text (python-telegram-bot's shape)."""
    try:
        return json.loads(value)
    except ValueError:
        if any(t in ("String", "InputFile") for t in types):
            return value
        raise bad_request(f"can't parse {key} JSON object") from None


def _integer(raw: Any, path: str) -> int:
    if isinstance(raw, bool):
        raise _TypeMismatch()
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, str) and _INT_RE.fullmatch(raw.strip()):
        value = int(raw.strip())
    else:
        raise _TypeMismatch()
    if not INT64_MIN <= value <= INT64_MAX:
        raise bad_request(f'field "{path}" is out of the 64-bit integer range')
    return value


def _float(raw: Any) -> float:
    if isinstance(raw, bool):
        raise _TypeMismatch()
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str) and _FLOAT_RE.fullmatch(raw.strip()):
        return float(raw)
    raise _TypeMismatch()


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str) and raw.strip().lower() in _BOOL_STRINGS:
        return _BOOL_STRINGS[raw.strip().lower()]
    raise _TypeMismatch()


def _string(raw: Any, path: str) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise _TypeMismatch()
    value = raw if isinstance(raw, str) else json.dumps(raw)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_request(f'field "{path}" must be encoded in UTF-8') from None
    return value


# --- limits ----------------------------------------------------------------------------------


def _formatted_keys(field: str, fields: dict[str, Any]) -> tuple[str, str] | None:
    """(parse_mode key, entities key) governing ``field``, if it is a formatted text."""
    if f"{field}_parse_mode" in fields:
        return f"{field}_parse_mode", f"{field}_entities"
    if "parse_mode" in fields and field in _PLAIN_PARSE_MODE_FIELDS:
        present = [f for f in _PLAIN_PARSE_MODE_FIELDS if f in fields]
        if present and present[0] == field:
            for key in ("entities", "caption_entities", f"{field}_entities"):
                if key in fields:
                    return "parse_mode", key
            return "parse_mode", "entities"
    return None


def _check_limits(owner: str, typed: dict[str, Any], fields: dict[str, Any], path: str) -> None:
    for name, value in typed.items():
        where = f"{path}.{name}" if path else name
        if name.endswith("parse_mode") and isinstance(value, str):
            normalize_parse_mode(value)
        key = f"{owner}.{name}"
        bounds = spec.limit(key)
        formatted = _formatted_keys(name, fields) if isinstance(value, str) else None
        if formatted is not None:
            _check_formatted(owner, name, where, typed, formatted, bounds)
            continue
        if bounds is None or key in _HOOK_CHECKED_LIMITS:
            continue
        low, high, unit = bounds["min"], bounds["max"], bounds["unit"]
        if unit == "items" and isinstance(value, list):
            size = len(value)
        elif unit == "characters" and isinstance(value, str):
            size = utf16_len(value)
        elif unit == "bytes" and isinstance(value, str):
            size = len(value.encode("utf-8"))
        elif unit == "value" and isinstance(value, int | float) and name not in CLAMPED_PARAMS:
            if not low <= value <= high:
                raise bad_request(f'field "{where}" must be between {low} and {high}')
            continue
        else:
            continue
        if not low <= size <= high:
            raise bad_request(f'field "{where}" must be {low}-{high} {unit} long')


def _check_formatted(
    owner: str,
    name: str,
    where: str,
    typed: dict[str, Any],
    keys: tuple[str, str],
    bounds: dict[str, Any] | None,
) -> None:
    parse_mode_key, entities_key = keys
    text, _entities = parse_formatted(
        typed[name], typed.get(parse_mode_key), typed.get(entities_key)
    )
    if bounds is None:
        return
    length = utf16_len(text)
    empty_msg, long_msg = _FORMATTED_WORDING.get(
        f"{owner}.{name}",
        _FORMATTED_WORDING.get(
            name,
            (
                None,
                f'field "{where}" must be {bounds["min"]}-{bounds["max"]} characters long '
                "after entities parsing",
            ),
        ),
    )
    if length < bounds["min"]:
        raise bad_request(
            empty_msg or f'field "{where}" must be at least {bounds["min"]} characters long'
        )
    if length > bounds["max"]:
        raise bad_request(long_msg)
    max_line_feeds = bounds.get("max_line_feeds")
    if max_line_feeds is not None and text.count("\n") > max_line_feeds:
        raise bad_request(f'field "{where}" must contain at most {max_line_feeds} line feeds')


# --- semantic hooks for objects --------------------------------------------------------------


def _check_inline_keyboard(_checker: _Checker, markup: dict[str, Any], path: str) -> None:
    rows: list[list[dict[str, Any]]] = markup["inline_keyboard"]
    total = 0
    for row in rows:
        if not row:
            raise bad_request("inline keyboard rows must not be empty")
        if len(row) > MAX_INLINE_BUTTONS_PER_ROW:
            raise bad_request(
                f"too many inline keyboard buttons in a row (at most {MAX_INLINE_BUTTONS_PER_ROW})"
            )
        total += len(row)
    if total > MAX_INLINE_BUTTONS:
        raise bad_request("too many inline keyboard buttons")


def _check_inline_button(_checker: _Checker, button: dict[str, Any], path: str) -> None:
    if not button["text"]:
        raise bad_request("can't parse inline keyboard button: button text must be non-empty")
    actions = [k for k in button if k not in BUTTON_DECORATION_FIELDS]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise bad_request(
            "can't parse inline keyboard button: exactly one of the optional fields must be "
            f"used, got {', '.join(actions)}"
        )
    if "callback_data" in button:
        low, high = _bound("InlineKeyboardButton.callback_data", (1, MAX_CALLBACK_DATA_BYTES))
        if not low <= len(button["callback_data"].encode("utf-8")) <= high:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url: str = button["url"]
        if not url.lower().startswith(("http://", "https://", "tg://")) or check_link(url) is None:
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _check_reply_keyboard(_checker: _Checker, markup: dict[str, Any], path: str) -> None:
    for row in markup["keyboard"]:
        if not row:
            raise bad_request("keyboard rows must not be empty")
        for button in row:
            if not button["text"]:
                raise bad_request("can't parse keyboard button: button text must be non-empty")


def _check_bot_command(_checker: _Checker, command: dict[str, Any], path: str) -> None:
    if not BOT_COMMAND_RE.fullmatch(command["command"]):
        raise bad_request("BOT_COMMAND_INVALID")
    low, high = _bound("BotCommand.description", (1, MAX_BOT_COMMAND_DESCRIPTION))
    if not low <= utf16_len(command["description"].strip()) <= high:
        raise bad_request(
            f"BOT_COMMAND_DESCRIPTION_INVALID: description must be {low}-{high} characters long"
        )


_TYPE_HOOKS: dict[str, Callable[[_Checker, dict[str, Any], str], None]] = {
    "InlineKeyboardMarkup": _check_inline_keyboard,
    "InlineKeyboardButton": _check_inline_button,
    "ReplyKeyboardMarkup": _check_reply_keyboard,
    "BotCommand": _check_bot_command,
}
# Limits whose violation the hooks above report with Telegram's own wording.
_HOOK_CHECKED_LIMITS = frozenset(
    {"InlineKeyboardButton.callback_data", "BotCommand.command", "BotCommand.description"}
)


# --- semantic hooks for methods --------------------------------------------------------------


def _check_send_poll(params: dict[str, Any]) -> None:
    options: list[dict[str, Any]] = params["options"]
    _low, high = _bound("sendPoll.options", (1, MAX_POLL_OPTIONS))
    # The reference says 1-12 but Telegram refuses single-option polls.
    if len(options) < MIN_POLL_OPTIONS:
        raise bad_request(f"poll must have at least {MIN_POLL_OPTIONS} option")
    if len(options) > high:
        raise bad_request(f"poll can't have more than {high} options")
    poll_type = params.get("type", "regular")
    if poll_type not in POLL_TYPES:
        raise bad_request("wrong poll type specified")
    if poll_type == "quiz":
        ids: list[int] = params.get("correct_option_ids") or []
        if not ids:
            raise bad_request("quiz poll must have correct_option_ids specified")
        in_range = all(0 <= i < len(options) for i in ids)
        increasing = all(a < b for a, b in itertools.pairwise(ids))
        if not in_range or not increasing:
            raise bad_request("wrong correct option ids specified")
        if len(ids) > 1 and not params.get("allows_multiple_answers"):
            raise bad_request("wrong correct option ids specified: quiz with one answer")
    if "open_period" in params and "close_date" in params:
        raise bad_request("open_period and close_date can't be used together")
    if "open_period" in params:
        low, high = _bound("sendPoll.open_period", POLL_OPEN_PERIOD)
        if not low <= params["open_period"] <= high:
            raise bad_request(f"open_period must be between {low} and {high}")


def _check_message_identifier(params: dict[str, Any]) -> None:
    """chat_id+message_id or inline_message_id, as the edit methods require."""
    if "inline_message_id" in params:
        return
    if "chat_id" not in params and "message_id" not in params:
        raise bad_request("message identifier is not specified")
    if "chat_id" not in params:
        raise bad_request("chat_id is empty")
    if "message_id" not in params:
        raise bad_request("message identifier is not specified")


_METHOD_HOOKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "sendPoll": _check_send_poll,
}


# --- entry point -----------------------------------------------------------------------------


def check_request(method: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Validate one Bot API call; returns (canonical method name, typed parameters).

    Raises ``ApiError`` exactly where Telegram would answer with an error.
    """
    name = spec.resolve_method(method)
    if name is None:
        raise ApiError(404, "Not Found")
    fields = spec.method_params(name)
    # Multipart parts referenced via attach://<name> arrive as extra parameters.
    attached = {
        m[1]
        for key, value in params.items()
        if isinstance(value, str | dict | list)
        and key in fields
        and any(_is_structured(t) or t == "InputFile" for t in fields[key]["types"])
        for m in _ATTACH_RE.finditer(value if isinstance(value, str) else json.dumps(value))
    }
    uploads = {
        k: v
        for k, v in params.items()
        if isinstance(v, UploadedFile) and k not in fields and k in attached
    }
    if missing := sorted(attached - uploads.keys()):
        raise bad_request(f'file "attach://{missing[0]}" is referenced but was not uploaded')
    checker = _Checker(uploads)
    raw: dict[str, Any] = {}
    for key, value in params.items():
        if key in uploads:
            continue
        if key not in fields:
            raise bad_request(f'unknown parameter "{key}"')
        # Empty form values mean "not given" to Telegram, like a missing parameter.
        if value is None or (value == "" and fields[key]["types"] != ["String"]):
            continue
        if value == "" and fields[key]["required"]:
            continue
        raw[key] = value
    for key, field in fields.items():
        if field["required"] and key not in raw:
            raise bad_request(_MISSING_WORDING.get(key, f'parameter "{key}" is required'))

    typed: dict[str, Any] = {}
    for key, value in raw.items():
        types: list[str] = fields[key]["types"]
        if isinstance(value, str) and any(_is_structured(t) for t in types):
            value = _decode_json(value, key, types)
        typed[key] = checker.value(value, types, key)
        field = fields[key]
        if "enum" in field and typed[key] not in field["enum"]:
            raise bad_request(f'parameter "{key}" must be one of {", ".join(field["enum"])}')

    if {"inline_message_id", "chat_id", "message_id"} <= fields.keys():
        _check_message_identifier(typed)
    hook = _METHOD_HOOKS.get(name)
    if hook is not None:
        hook(typed)
    _check_limits(name, typed, fields, "")
    typed.update(uploads)
    return name, typed


def formatted_texts(method: str, typed: dict[str, Any]) -> dict[str, tuple[str, list[dict]]]:
    """Parsed top-level texts of a validated call, e.g. {"text": (plain, entities)}.

    Entities include those Telegram detects on its own (urls, commands...), as in the
    Message it returns.
    """
    fields = spec.method_params(method)
    result: dict[str, tuple[str, list[dict]]] = {}
    for name, value in typed.items():
        keys = _formatted_keys(name, fields) if isinstance(value, str) else None
        if keys is not None:
            result[name] = parse_formatted(
                value, typed.get(keys[0]), typed.get(keys[1]), detect=True
            )
    return result
