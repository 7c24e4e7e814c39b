"""The committed spec.json must be exactly what derive_spec makes of the reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox import spec
from sandbox.derive_spec import DEFAULT_API_JSON, SPEC_PATH, derive, dumps


def test_committed_spec_matches_reference() -> None:
    if not DEFAULT_API_JSON.exists():
        pytest.skip(f"Bot API reference not checked out at {DEFAULT_API_JSON}")
    api = json.loads(DEFAULT_API_JSON.read_text(encoding="utf-8"))
    derived = derive(api)
    committed = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    assert derived == committed, "run `python -m sandbox.derive_spec` to refresh spec.json"
    assert dumps(derived) == SPEC_PATH.read_text(encoding="utf-8")


def test_spec_path_is_inside_the_project() -> None:
    assert Path(spec.SPEC_PATH).resolve() == SPEC_PATH.resolve()
    assert "shared" not in SPEC_PATH.resolve().parts


def test_text_limits() -> None:
    assert spec.limit("sendMessage.text") == {
        "min": 1,
        "max": 4096,
        "unit": "characters",
        "after_parsing": True,
    }
    assert spec.limit("sendPhoto.caption")["max"] == 1024  # type: ignore[index]
    assert spec.limit("answerCallbackQuery.text")["max"] == 200  # type: ignore[index]


def test_byte_and_line_feed_limits() -> None:
    assert spec.limit("InlineKeyboardButton.callback_data") == {
        "min": 1,
        "max": 64,
        "unit": "bytes",
    }
    explanation = spec.limit("sendPoll.explanation")
    assert explanation is not None
    assert explanation["max"] == 200
    assert explanation["max_line_feeds"] == 2


def test_item_and_value_limits() -> None:
    assert spec.limit("sendPoll.options") == {"min": 1, "max": 12, "unit": "items"}
    assert spec.limit("setMyCommands.commands") == {"min": 0, "max": 100, "unit": "items"}
    assert spec.limit("sendPoll.open_period") == {"min": 5, "max": 2628000, "unit": "value"}
    # "ISO 3166-1" looks like a range but is not one.
    assert spec.limit("Giveaway.country_codes") is None
    assert spec.limit("nope.nothing") is None


def test_method_names_resolve_case_insensitively() -> None:
    assert spec.resolve_method("sendMessage") == "sendMessage"
    assert spec.resolve_method("sendmessage") == "sendMessage"
    assert spec.resolve_method("SENDMESSAGE") == "sendMessage"
    assert spec.resolve_method("sendMessages") is None


def test_spec_shape() -> None:
    send_message = spec.SPEC["methods"]["sendMessage"]
    assert send_message["returns"] == ["Message"]
    assert send_message["params"]["chat_id"] == {"types": ["Integer", "String"], "required": True}
    assert "subtypes" in spec.SPEC["types"]["BotCommandScope"]
    scope_chat = spec.SPEC["types"]["BotCommandScopeChat"]["fields"]
    assert scope_chat["type"]["const"] == "chat"
    assert "bold" in spec.SPEC["types"]["MessageEntity"]["fields"]["type"]["enum"]


def test_derive_small_reference() -> None:
    api = {
        "version": "Bot API 0.1",
        "methods": {
            "sendThing": {
                "returns": ["Message"],
                "fields": [
                    {
                        "name": "text",
                        "types": ["String"],
                        "required": True,
                        "description": "Text, 2-10 characters after entities parsing",
                    }
                ],
            }
        },
        "types": {
            "Markup": {"subtypes": ["A"]},
            "A": {
                "fields": [
                    {
                        "name": "data",
                        "types": ["String"],
                        "required": False,
                        "description": "Optional. Data, 1-8 bytes",
                    }
                ]
            },
        },
    }
    derived = derive(api)
    assert derived["version"] == "Bot API 0.1"
    assert derived["methods"]["sendThing"]["params"]["text"] == {
        "types": ["String"],
        "required": True,
    }
    assert derived["types"]["Markup"] == {"fields": {}, "subtypes": ["A"]}
    assert derived["limits"] == {
        "A.data": {"min": 1, "max": 8, "unit": "bytes"},
        "sendThing.text": {"min": 2, "max": 10, "unit": "characters", "after_parsing": True},
    }
