"""The sandbox rejects what Telegram rejects, with Telegram's wording where it is known."""

from __future__ import annotations

import json
from typing import Any

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
    ReplyKeyboardMarkup,
)
from telegram.request import BaseRequest, RequestData

from sandbox.errors import ApiError, UploadedFile
from sandbox.formatting import (
    detect_entities,
    parse_formatted,
    parse_html,
    parse_markdown_v2,
    utf16_len,
)
from sandbox.validate import check_request, formatted_texts


def rejects(method: str, params: dict[str, Any]) -> str:
    with pytest.raises(ApiError) as caught:
        check_request(method, params)
    assert caught.value.status == 400
    return caught.value.description


def keyboard(rows: list[list[dict[str, Any]]]) -> str:
    return json.dumps({"inline_keyboard": rows})


def button(data: str = "x") -> dict[str, Any]:
    return {"text": "Tombol", "callback_data": data}


def poll(**extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "chat_id": "42",
        "question": "Nilai inti ASN?",
        "options": json.dumps([{"text": "BerAKHLAK"}, {"text": "Lainnya"}]),
    }
    params.update(extra)
    return params


# --- requests python-telegram-bot actually produces -----------------------------------------


class CapturingRequest(BaseRequest):
    """Records what PTB would put on the wire instead of sending it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **_: Any
    ) -> tuple[int, bytes]:
        params: dict[str, Any] = dict(request_data.json_parameters) if request_data else {}
        if request_data is not None and request_data.contains_files:
            for name, part in (request_data.multipart_data or {}).items():
                if name not in params:
                    params[name] = UploadedFile(part[0] or name, part[2], part[1])
        self.calls.append((url.rsplit("/", 1)[-1], params))
        return 200, b'{"ok": true, "result": true}'


async def test_requests_shaped_like_ptb_pass() -> None:
    request = CapturingRequest()
    bot = Bot("123:abc", request=request, get_updates_request=CapturingRequest())
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Mulai", callback_data="start:1")],
            [InlineKeyboardButton("Situs", url="https://menpan.go.id")],
        ]
    )
    calls = [
        bot.send_message(
            42,
            "<b>Halo</b> &amp; selamat datang",
            parse_mode="HTML",
            reply_markup=markup,
            disable_web_page_preview=True,
            reply_to_message_id=3,
        ),
        bot.send_message(42, "Pilih", reply_markup=ReplyKeyboardMarkup([["A", "B"]])),
        bot.edit_message_text(
            "t", chat_id=42, message_id=3, entities=[MessageEntity("bold", 0, 1)]
        ),
        bot.set_my_commands([BotCommand("start", "Mulai")], scope=BotCommandScopeChat(42)),
        bot.send_poll(42, "Q?", ["a", "b"], type="quiz", correct_option_ids=[1], explanation="x"),
        bot.answer_callback_query("123", text="ok", show_alert=True),
        bot.send_document(
            42, b"data", filename="laporan.txt", caption="<i>c</i>", parse_mode="HTML"
        ),
        bot.delete_message(42, 3),
    ]
    for call in calls:
        await call  # the fake "true" result fits these return types well enough
    assert len(request.calls) == len(calls)
    for method, params in request.calls:
        canonical, typed = check_request(method, params)
        assert canonical == method
        assert set(typed) == set(params)
    sent = check_request(*request.calls[0])[1]
    assert sent["chat_id"] == 42
    assert sent["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "start:1"
    assert sent["link_preview_options"] == {"is_disabled": True}
    document = check_request(*request.calls[6])[1]
    assert isinstance(document["document"], UploadedFile)


def test_json_body_values_pass() -> None:
    name, typed = check_request(
        "sendmessage",
        {
            "chat_id": -1001234567890,
            "text": "hi",
            "disable_notification": True,
            "reply_markup": {"inline_keyboard": [[button()]]},
        },
    )
    assert name == "sendMessage"
    assert typed["chat_id"] == -1001234567890
    assert typed["reply_markup"] == {"inline_keyboard": [[button()]]}


def test_form_encoded_json_reply_markup_accepted() -> None:
    _, typed = check_request(
        "sendMessage",
        {"chat_id": "42", "text": "x", "reply_markup": keyboard([[button(), button("y")]])},
    )
    assert typed["reply_markup"]["inline_keyboard"][0][1]["callback_data"] == "y"
    _, typed = check_request(
        "sendMessage",
        {"chat_id": "@kanal", "text": "x", "reply_markup": '{"remove_keyboard": true}'},
    )
    assert typed["chat_id"] == "@kanal"
    assert typed["reply_markup"] == {"remove_keyboard": True}


def test_booleans_from_forms() -> None:
    for raw, expected in (("true", True), ("false", False), ("True", True), ("0", False)):
        _, typed = check_request(
            "sendMessage", {"chat_id": "1", "text": "x", "disable_notification": raw}
        )
        assert typed["disable_notification"] is expected


# --- parameters ------------------------------------------------------------------------------


def test_unknown_method_is_404() -> None:
    with pytest.raises(ApiError) as caught:
        check_request("sendMessages", {})
    assert (caught.value.status, caught.value.description) == (404, "Not Found")


def test_unknown_parameter() -> None:
    assert rejects("sendMessage", {"chat_id": "1", "text": "x", "txt": "y"}) == (
        'Bad Request: unknown parameter "txt"'
    )


def test_missing_chat_id() -> None:
    assert rejects("sendMessage", {"text": "x"}) == "Bad Request: chat_id is empty"
    assert rejects("sendMessage", {"chat_id": "", "text": "x"}) == "Bad Request: chat_id is empty"


def test_missing_or_blank_text() -> None:
    assert rejects("sendMessage", {"chat_id": "1"}) == "Bad Request: message text is empty"
    assert rejects("sendMessage", {"chat_id": "1", "text": " \n "}) == (
        "Bad Request: message text is empty"
    )
    assert rejects("sendMessage", {"chat_id": "1", "text": "<b> </b>", "parse_mode": "HTML"}) == (
        "Bad Request: message text is empty"
    )


def test_missing_other_required_parameter_names_it() -> None:
    assert "callback_query_id" in rejects("answerCallbackQuery", {"text": "x"})


def test_wrong_types() -> None:
    assert "disable_notification" in rejects(
        "sendMessage", {"chat_id": "1", "text": "x", "disable_notification": "maybe"}
    )
    assert "message_thread_id" in rejects(
        "sendMessage", {"chat_id": "1", "text": "x", "message_thread_id": "abc"}
    )
    assert "Integer" in rejects("deleteMessage", {"chat_id": "1", "message_id": "1.5"})
    assert "reply_markup" in rejects(
        "sendMessage", {"chat_id": "1", "text": "x", "reply_markup": "[1, 2]"}
    )


def test_integer_ids_must_fit_in_64_bits() -> None:
    assert "64-bit" in rejects("sendMessage", {"chat_id": str(2**63), "text": "x"})
    check_request("sendMessage", {"chat_id": str(-(2**63)), "text": "x"})


def test_broken_json_object() -> None:
    assert rejects("sendMessage", {"chat_id": "1", "text": "x", "reply_markup": "{oops"}) == (
        "Bad Request: can't parse reply_markup JSON object"
    )


def test_nested_objects_are_checked() -> None:
    assert "object is none of InlineKeyboardMarkup" in rejects(
        "sendMessage", {"chat_id": "1", "text": "x", "reply_markup": '{"foo": 1}'}
    )
    markup = json.dumps({"inline_keyboard": [[button()]], "foo": 1})
    assert rejects("sendMessage", {"chat_id": "1", "text": "x", "reply_markup": markup}) == (
        'Bad Request: unknown field "foo" in reply_markup'
    )
    assert 'field "chat_id" is required' in rejects(
        "setMyCommands",
        {"commands": '[{"command": "a", "description": "b"}]', "scope": '{"type": "chat"}'},
    )
    assert "scope" in rejects(
        "setMyCommands",
        {"commands": '[{"command": "a", "description": "b"}]', "scope": '{"type": "nobody"}'},
    )


def test_edit_needs_a_message_identifier() -> None:
    assert rejects("editMessageText", {"text": "x"}) == (
        "Bad Request: message identifier is not specified"
    )
    check_request("editMessageText", {"text": "x", "inline_message_id": "abc"})


# --- text and formatting ---------------------------------------------------------------------


def test_5000_character_text_is_too_long() -> None:
    assert rejects("sendMessage", {"chat_id": "1", "text": "a" * 5000}) == (
        "Bad Request: message is too long"
    )
    check_request("sendMessage", {"chat_id": "1", "text": "a" * 4096})


def test_length_is_counted_after_entity_parsing() -> None:
    check_request(
        "sendMessage", {"chat_id": "1", "text": "<b>" + "a" * 4096 + "</b>", "parse_mode": "HTML"}
    )


def test_emoji_length_counts_utf16_units() -> None:
    assert utf16_len("😀") == 2
    assert utf16_len("é") == 1
    check_request("sendMessage", {"chat_id": "1", "text": "😀" * 2048})
    assert rejects("sendMessage", {"chat_id": "1", "text": "😀" * 2049}) == (
        "Bad Request: message is too long"
    )
    _, entities = parse_html("😀<b>x😀</b>")
    assert entities == [{"type": "bold", "offset": 2, "length": 3}]


def test_caption_too_long() -> None:
    assert rejects("sendPhoto", {"chat_id": "1", "photo": "file-id", "caption": "c" * 1025}) == (
        "Bad Request: message caption is too long"
    )


def test_br_tag_rejected() -> None:
    assert rejects(
        "sendMessage", {"chat_id": "1", "text": "Baris<br>baru", "parse_mode": "HTML"}
    ) == ('Bad Request: can\'t parse entities: Unsupported start tag "br" at byte offset 5')


def test_html_unbalanced_tags() -> None:
    def error(text: str) -> str:
        return rejects("sendMessage", {"chat_id": "1", "text": text, "parse_mode": "HTML"})

    prefix = "Bad Request: can't parse entities: "
    assert error("<b>tebal") == prefix + 'Can\'t find end tag corresponding to start tag "b"'
    assert error("tebal</b>") == prefix + "Unexpected end tag at byte offset 5"
    assert error("<b>x</i>") == (
        prefix + 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'
    )
    assert error("1 < 2") == prefix + 'Unsupported start tag "" at byte offset 2'
    assert error("1<2") == prefix + "Unclosed start tag at byte offset 1"
    # Byte offsets count UTF-8 bytes of the input.
    assert error("é<p>") == prefix + 'Unsupported start tag "p" at byte offset 2'


def test_escaped_html_accepted() -> None:
    text, entities = parse_formatted("&lt;b&gt; &amp; <b>tebal</b> AT&T &nbsp;", "HTML", None)
    assert text == "<b> & tebal AT&T &nbsp;"
    assert entities == [{"type": "bold", "offset": 6, "length": 5}]
    check_request(
        "sendMessage", {"chat_id": "1", "text": "Q&amp;A <b>x</b> &lt;3", "parse_mode": "HTML"}
    )


def test_html_entities_of_every_kind() -> None:
    text, entities = parse_html(
        '<a href="https://menpan.go.id">l</a><a href="tg://user?id=7">u</a>'
        '<pre><code class="language-python">p</code></pre><code>c<b>x</b></code>'
        '<span class="tg-spoiler">s</span><blockquote expandable>q</blockquote>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji><u>_</u><s>-</s><i></i>'
    )
    assert text == "lupcxsq👍_-"
    assert entities == [
        {"type": "text_link", "offset": 0, "length": 1, "url": "https://menpan.go.id/"},
        {"type": "text_mention", "offset": 1, "length": 1, "user": {"id": 7}},
        {"type": "pre", "offset": 2, "length": 1, "language": "python"},
        {"type": "code", "offset": 3, "length": 2},
        {"type": "spoiler", "offset": 5, "length": 1},
        {"type": "expandable_blockquote", "offset": 6, "length": 1},
        {
            "type": "custom_emoji",
            "offset": 7,
            "length": 2,
            "custom_emoji_id": "5368324170671202286",
        },
        {"type": "underline", "offset": 9, "length": 1},
        {"type": "strikethrough", "offset": 10, "length": 1},
    ]


def test_parse_mode_values() -> None:
    for mode in ("HTML", "html", "MarkdownV2", "markdownv2", "Markdown", ""):
        check_request("sendMessage", {"chat_id": "1", "text": "x", "parse_mode": mode})
    assert rejects("sendMessage", {"chat_id": "1", "text": "x", "parse_mode": "HTML5"}) == (
        "Bad Request: unsupported parse_mode"
    )


def test_markdown_v2_reserved_characters() -> None:
    assert rejects(
        "sendMessage", {"chat_id": "1", "text": "Selesai.", "parse_mode": "MarkdownV2"}
    ) == (
        "Bad Request: can't parse entities: Character '.' is reserved and must be escaped "
        "with the preceding '\\'"
    )
    text, entities = parse_markdown_v2("*b* _i_ __u__ ~s~ ||p|| `c` [l](https://x.id) Selesai\\.")
    assert text == "b i u s p c l Selesai."
    assert [e["type"] for e in entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
    ]


def test_explicit_entities_must_lie_within_text() -> None:
    assert "outside" in rejects(
        "sendMessage",
        {"chat_id": "1", "text": "ab", "entities": '[{"type": "bold", "offset": 1, "length": 5}]'},
    )
    assert "entities[0].type" in rejects(
        "sendMessage",
        {"chat_id": "1", "text": "ab", "entities": '[{"type": "shiny", "offset": 0, "length": 1}]'},
    )


def test_detect_entities() -> None:
    assert detect_entities("/start") == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert detect_entities("😀 /help@berakhlak_bot @someone #BerAKHLAK https://x.id/a.") == [
        {"type": "bot_command", "offset": 3, "length": 19},
        {"type": "mention", "offset": 23, "length": 8},
        {"type": "hashtag", "offset": 32, "length": 10},
        {"type": "url", "offset": 43, "length": 14},
    ]
    assert detect_entities("a/b and 1/2 and #123") == []


def test_formatted_texts_for_the_server() -> None:
    _, typed = check_request(
        "sendMessage", {"chat_id": "1", "text": "/menu <b>x</b>", "parse_mode": "HTML"}
    )
    assert formatted_texts("sendMessage", typed) == {
        "text": (
            "/menu x",
            [
                {"type": "bot_command", "offset": 0, "length": 5},
                {"type": "bold", "offset": 6, "length": 1},
            ],
        )
    }


# --- inline keyboards ------------------------------------------------------------------------


def test_70_byte_callback_data() -> None:
    assert rejects(
        "sendMessage", {"chat_id": "1", "text": "x", "reply_markup": keyboard([[button("a" * 70)]])}
    ) == ("Bad Request: BUTTON_DATA_INVALID")
    # 64 bytes is fine, but 22 two-byte characters (44 chars, 66 bytes) are not.
    check_request(
        "sendMessage", {"chat_id": "1", "text": "x", "reply_markup": keyboard([[button("a" * 64)]])}
    )
    assert rejects(
        "sendMessage", {"chat_id": "1", "text": "x", "reply_markup": keyboard([[button("é" * 33)]])}
    ) == ("Bad Request: BUTTON_DATA_INVALID")


def test_101_buttons() -> None:
    rows = [[button(f"{r}-{c}") for c in range(5)] for r in range(20)] + [[button("last")]]
    assert rejects(
        "sendMessage", {"chat_id": "1", "text": "x", "reply_markup": keyboard(rows)}
    ) == ("Bad Request: too many inline keyboard buttons")
    check_request("sendMessage", {"chat_id": "1", "text": "x", "reply_markup": keyboard(rows[:-1])})


def test_9_buttons_in_a_row() -> None:
    row = [button(str(i)) for i in range(9)]
    assert "too many inline keyboard buttons in a row" in rejects(
        "sendMessage", {"chat_id": "1", "text": "x", "reply_markup": keyboard([row])}
    )
    check_request("sendMessage", {"chat_id": "1", "text": "x", "reply_markup": keyboard([row[:8]])})


def test_button_needs_exactly_one_action() -> None:
    def error(rows: list[list[dict[str, Any]]]) -> str:
        return rejects("sendMessage", {"chat_id": "1", "text": "x", "reply_markup": keyboard(rows)})

    assert error([[{"text": "a"}]]) == (
        "Bad Request: can't parse inline keyboard button: "
        "Text buttons are unallowed in the inline keyboard"
    )
    assert "exactly one" in error([[{"text": "a", "callback_data": "x", "url": "https://x.id"}]])
    assert "rows must not be empty" in error([[]])
    assert "Wrong HTTP URL" in error([[{"text": "a", "url": "ftp://x.id"}]])
    assert 'unknown field "colour"' in error([[{**button(), "colour": "red"}]])


# --- polls -----------------------------------------------------------------------------------


def test_valid_polls_pass() -> None:
    check_request("sendPoll", poll())
    check_request("sendPoll", poll(type="quiz", correct_option_ids="[0]", explanation="a\nb\nc"))
    check_request(
        "sendPoll",
        poll(type="quiz", correct_option_ids="[0, 1]", allows_multiple_answers="true"),
    )


def test_250_character_explanation() -> None:
    params = poll(type="quiz", correct_option_ids="[0]", explanation="e" * 250)
    assert rejects("sendPoll", params) == "Bad Request: poll explanation length must not exceed 200"


def test_explanation_with_3_line_feeds() -> None:
    params = poll(type="quiz", correct_option_ids="[0]", explanation="a\nb\nc\nd")
    assert "at most 2 line feeds" in rejects("sendPoll", params)


def test_quiz_needs_valid_correct_options() -> None:
    assert "correct_option_ids" in rejects("sendPoll", poll(type="quiz"))
    for ids in ("[2]", "[-1]", "[1, 0]", "[0, 0]"):
        assert "wrong correct option ids" in rejects(
            "sendPoll", poll(type="quiz", correct_option_ids=ids, allows_multiple_answers="true")
        )
    assert "wrong correct option ids" in rejects(
        "sendPoll", poll(type="quiz", correct_option_ids="[0, 1]")
    )


def test_poll_sizes() -> None:
    assert rejects("sendPoll", poll(options='[{"text": "a"}]')) == (
        "Bad Request: poll must have at least 2 option"
    )
    assert rejects("sendPoll", poll(question="q" * 301)) == (
        "Bad Request: poll question length must not exceed 300"
    )
    options = json.dumps([{"text": "o" * 101}, {"text": "b"}])
    assert rejects("sendPoll", poll(options=options)) == (
        "Bad Request: poll options length must not exceed 100"
    )
    too_many = json.dumps([{"text": str(i)} for i in range(13)])
    assert "12" in rejects("sendPoll", poll(options=too_many))


def test_poll_open_period() -> None:
    assert "open_period" in rejects("sendPoll", poll(open_period="3"))
    assert "together" in rejects("sendPoll", poll(open_period="60", close_date="1900000000"))
    check_request("sendPoll", poll(open_period="60"))


# --- other methods ---------------------------------------------------------------------------


def test_answer_callback_query_text_limit() -> None:
    check_request("answerCallbackQuery", {"callback_query_id": "1", "text": "t" * 200})
    assert "0-200" in rejects("answerCallbackQuery", {"callback_query_id": "1", "text": "t" * 201})


def test_set_my_commands() -> None:
    def commands(*items: tuple[str, str]) -> str:
        return json.dumps([{"command": c, "description": d} for c, d in items])

    check_request("setMyCommands", {"commands": commands(("start", "Mulai"), ("nilai_2", "x"))})
    assert rejects("setMyCommands", {"commands": commands(("Start", "Mulai"))}) == (
        "Bad Request: BOT_COMMAND_INVALID"
    )
    assert rejects("setMyCommands", {"commands": commands(("a" * 33, "x"))}) == (
        "Bad Request: BOT_COMMAND_INVALID"
    )
    assert "BOT_COMMAND_DESCRIPTION_INVALID" in rejects(
        "setMyCommands", {"commands": commands(("start", ""))}
    )
    many = commands(*[(f"c{i}", "d") for i in range(101)])
    assert "commands" in rejects("setMyCommands", {"commands": many})


def test_attached_files_must_be_uploaded() -> None:
    media = json.dumps(
        [{"type": "photo", "media": "attach://foto1"}, {"type": "photo", "media": "file-id"}]
    )
    upload = UploadedFile("a.jpg", "image/jpeg", b"jpeg")
    _, typed = check_request("sendMediaGroup", {"chat_id": "1", "media": media, "foto1": upload})
    assert typed["foto1"] is upload
    assert "attach://foto1" in rejects("sendMediaGroup", {"chat_id": "1", "media": media})
