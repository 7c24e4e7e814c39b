"""The sandbox over real HTTP: wire formats, rejections, updates, state and limits."""

from __future__ import annotations

import asyncio
import json
import struct
import time
import zlib

import httpx
import pytest
from aiohttp import web

from sandbox import RateLimits, Sandbox, SimulationError
from sandbox.pytest_plugin import free_port
from tests.sandbox.helpers import Api

KEYBOARD = {"inline_keyboard": [[{"text": "Setuju", "callback_data": "yes"}]]}


def png(width: int = 2, height: int = 3) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


async def started_user(sandbox: Sandbox, name: str = "Budi Santoso") -> object:
    user = sandbox.user(name, username=name.split()[0].lower(), language_code="id")
    await user.send("/start")
    return user


# --- wire format, identity, routing ----------------------------------------------------------


async def test_get_me_answers_with_the_token_id(api: Api, sandbox: Sandbox) -> None:
    me = await api.ok("getMe")
    assert me["id"] == int(sandbox.token.split(":")[0])
    assert me["is_bot"] is True
    assert me["username"] == "berakhlak_test_bot"
    assert me["can_join_groups"] is True


async def test_method_names_are_case_insensitive_and_get_works(
    http: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    response = await http.get(f"/bot{sandbox.token}/GETME")
    assert response.status_code == 200 and response.json()["result"]["is_bot"] is True


async def test_malformed_token_is_unauthorized(api: Api, sandbox: Sandbox) -> None:
    status, body = await api.raw("getMe", token="12345:short")
    assert status == 401
    assert body == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert [v.status for v in sandbox.take_violations()] == [401]


async def test_unknown_method_is_not_found(api: Api, sandbox: Sandbox) -> None:
    body = await api.error("sendTelepathy", 404, chat_id=1)
    assert body["description"] == "Not Found"
    assert sandbox.take_violations()[0].status == 404


async def test_json_body_and_query_string_are_accepted(
    http: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    user = await started_user(sandbox)
    sent = await http.post(
        f"/bot{sandbox.token}/sendMessage",
        json={"chat_id": user.chat_id, "text": "json", "reply_markup": KEYBOARD},
    )
    assert sent.json()["result"]["reply_markup"] == KEYBOARD
    queried = await http.get(
        f"/bot{sandbox.token}/sendMessage", params={"chat_id": user.chat_id, "text": "query"}
    )
    assert queried.json()["result"]["text"] == "query"


async def test_unknown_parameter_is_rejected(api: Api, sandbox: Sandbox) -> None:
    user = await started_user(sandbox)
    body = await api.error("sendMessage", 400, chat_id=user.chat_id, text="hi", colour="red")
    assert "colour" in body["description"]
    assert len(sandbox.take_violations()) == 1


# --- validation rejections -------------------------------------------------------------------


async def test_callback_data_over_64_bytes_is_rejected(api: Api, sandbox: Sandbox) -> None:
    user = await started_user(sandbox)
    markup = {"inline_keyboard": [[{"text": "x", "callback_data": "a" * 70}]]}
    body = await api.error("sendMessage", 400, chat_id=user.chat_id, text="hi", reply_markup=markup)
    assert body["description"].startswith("Bad Request:")
    assert len(sandbox.take_violations()) == 1


async def test_br_tag_in_html_is_rejected(api: Api, sandbox: Sandbox) -> None:
    user = await started_user(sandbox)
    body = await api.error(
        "sendMessage", 400, chat_id=user.chat_id, text="a<br>b", parse_mode="HTML"
    )
    assert body["description"].startswith("Bad Request: can't parse entities:")
    sandbox.take_violations()


async def test_text_over_4096_characters_is_rejected(api: Api, sandbox: Sandbox) -> None:
    user = await started_user(sandbox)
    body = await api.error("sendMessage", 400, chat_id=user.chat_id, text="x" * 5000)
    assert body["description"] == "Bad Request: message is too long"
    sandbox.take_violations()


async def test_poll_explanation_over_200_characters_is_rejected(api: Api, sandbox: Sandbox) -> None:
    user = await started_user(sandbox)
    await api.error(
        "sendPoll",
        400,
        chat_id=user.chat_id,
        question="Q?",
        options=[{"text": "a"}, {"text": "b"}],
        type="quiz",
        correct_option_ids=[0],
        explanation="e" * 250,
    )
    assert len(sandbox.take_violations()) == 1


# --- chats and users -------------------------------------------------------------------------


async def test_forbidden_for_never_started_and_blocked_users(api: Api, sandbox: Sandbox) -> None:
    stranger = sandbox.user("Siti Aminah")
    body = await api.error("sendMessage", 403, chat_id=stranger.chat_id, text="hi")
    assert body["description"] == "Forbidden: bot can't initiate conversation with a user"
    user = await started_user(sandbox)
    await user.block()
    body = await api.error("sendMessage", 403, chat_id=user.chat_id, text="hi")
    assert body["description"] == "Forbidden: bot was blocked by the user"
    # Expected behaviour, not the bot's fault: events, not violations.
    assert sandbox.violations == []
    assert [e.kind for e in sandbox.events].count("expected_error") == 2
    await user.unblock()
    await api.ok("sendMessage", chat_id=user.chat_id, text="welcome back")


async def test_unknown_chat_is_not_found(api: Api, sandbox: Sandbox) -> None:
    body = await api.error("sendMessage", 400, chat_id=-123456, text="hi")
    assert body["description"] == "Bad Request: chat not found"
    sandbox.take_violations()


async def test_message_ids_are_per_chat_and_shared_by_user_and_bot(
    api: Api, sandbox: Sandbox
) -> None:
    budi = await started_user(sandbox)
    siti = await started_user(sandbox, "Siti Aminah")
    first = await api.ok("sendMessage", chat_id=budi.chat_id, text="one")
    mine = await budi.send("two", reply_to=first["message_id"])
    third = await api.ok("sendMessage", chat_id=budi.chat_id, text="three")
    other = await api.ok("sendMessage", chat_id=siti.chat_id, text="other")
    assert [first["message_id"], mine["message_id"], third["message_id"]] == [2, 3, 4]
    assert other["message_id"] == 2
    assert mine["reply_to_message"]["text"] == "one"
    assert [m["message_id"] for m in budi.transcript] == [1, 2, 3, 4]


async def test_edit_rules(api: Api, sandbox: Sandbox) -> None:
    user = await started_user(sandbox)
    sent = await api.ok("sendMessage", chat_id=user.chat_id, text="Halo", reply_markup=KEYBOARD)
    mid = sent["message_id"]
    body = await api.error(
        "editMessageText", 400, chat_id=user.chat_id, message_id=mid, text="Halo",
        reply_markup=KEYBOARD,
    )  # fmt: skip
    assert body["description"].startswith("Bad Request: message is not modified")
    edited = await api.ok("editMessageText", chat_id=user.chat_id, message_id=mid, text="Halo")
    assert "reply_markup" not in edited and "edit_date" in edited  # keyboard dropped
    await api.ok("deleteMessage", chat_id=user.chat_id, message_id=mid)
    body = await api.error("editMessageText", 400, chat_id=user.chat_id, message_id=mid, text="x")
    assert body["description"] == "Bad Request: message to edit not found"
    body = await api.error("deleteMessage", 400, chat_id=user.chat_id, message_id=mid)
    assert body["description"] == "Bad Request: message to delete not found"
    body = await api.error("editMessageText", 400, chat_id=user.chat_id, message_id=1, text="x")
    assert body["description"] == "Bad Request: message can't be edited"
    assert len(sandbox.take_violations()) == 4
    kinds = [(await user.next_message()).kind for _ in range(3)]
    assert kinds == ["new", "edit", "delete"]


# --- callback queries ------------------------------------------------------------------------


async def test_press_and_answer_rules(api: Api, sandbox: Sandbox) -> None:
    user = await started_user(sandbox)
    await api.ok("sendMessage", chat_id=user.chat_id, text="Setuju?", reply_markup=KEYBOARD)
    reply = await user.next_message()
    with pytest.raises(SimulationError, match="no button"):
        await user.press(reply, "Tolak")
    query_id = await user.press(reply, "Setuju")
    updates = await api.ok("getUpdates", offset=-1)
    assert updates[0]["callback_query"]["data"] == "yes"
    assert updates[0]["callback_query"]["message"]["message_id"] == reply.message_id
    await api.ok("answerCallbackQuery", callback_query_id=query_id, text="Terima kasih")
    assert sandbox.callback_answer(query_id) == {"text": "Terima kasih"}
    body = await api.error("answerCallbackQuery", 400, callback_query_id=query_id)
    assert "query is too old" in body["description"]
    await api.error("answerCallbackQuery", 400, callback_query_id="12345")
    assert len(sandbox.take_violations()) == 2


async def test_press_uses_the_current_keyboard(api: Api, sandbox: Sandbox) -> None:
    user = await started_user(sandbox)
    sent = await api.ok("sendMessage", chat_id=user.chat_id, text="?", reply_markup=KEYBOARD)
    reply = await user.next_message()
    await api.ok("editMessageReplyMarkup", chat_id=user.chat_id, message_id=sent["message_id"])
    with pytest.raises(SimulationError):
        await user.press(reply, "Setuju")
    forged = await user.press_forged(sent["message_id"], data="admin:delete_all")
    await api.ok("answerCallbackQuery", callback_query_id=forged)


@pytest.mark.sandbox(callback_timeout=0.2)
async def test_unanswered_callback_query_is_a_violation(api: Api, sandbox: Sandbox) -> None:
    user = await started_user(sandbox)
    await api.ok("sendMessage", chat_id=user.chat_id, text="?", reply_markup=KEYBOARD)
    await user.press(await user.next_message(), "Setuju")
    await asyncio.sleep(0.4)
    taken = sandbox.take_violations()
    assert len(taken) == 1 and "not answered within" in taken[0].description


# --- getUpdates ------------------------------------------------------------------------------


async def test_long_poll_holds_until_an_update_arrives(api: Api, sandbox: Sandbox) -> None:
    user = sandbox.user("Budi Santoso")
    poll = asyncio.create_task(api.ok("getUpdates", timeout=5))
    await asyncio.sleep(0.3)
    assert not poll.done()
    started = time.monotonic()
    await user.send("/start")
    updates = await poll
    assert time.monotonic() - started < 1
    assert updates[0]["message"]["text"] == "/start"
    assert updates[0]["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]


async def test_long_poll_times_out_empty(api: Api) -> None:
    started = time.monotonic()
    assert await api.ok("getUpdates", timeout=1) == []
    assert 0.9 < time.monotonic() - started < 3


async def test_offset_negative_offset_and_limit(api: Api, sandbox: Sandbox) -> None:
    user = sandbox.user("Budi Santoso")
    for text in ("a", "b", "c", "d"):
        await user.send(text)
    updates = await api.ok("getUpdates", limit=2)
    assert [u["message"]["text"] for u in updates] == ["a", "b"]
    ids = [u["update_id"] for u in updates]
    updates = await api.ok("getUpdates", offset=ids[1] + 1)
    assert [u["message"]["text"] for u in updates] == ["c", "d"]
    updates = await api.ok("getUpdates", offset=-1)
    assert [u["message"]["text"] for u in updates] == ["d"]
    # The negative offset forgot everything before the last update.
    assert [u["message"]["text"] for u in await api.ok("getUpdates")] == ["d"]
    assert await api.ok("getUpdates", offset=updates[0]["update_id"] + 1) == []


async def test_overlapping_pollers_conflict(api: Api, sandbox: Sandbox) -> None:
    older = asyncio.create_task(api.raw("getUpdates", timeout=5))
    await asyncio.sleep(0.2)
    newer = asyncio.create_task(api.raw("getUpdates", timeout=1))
    status, body = await older
    assert status == 409
    assert body["description"] == (
        "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running"
    )
    assert (await newer)[0] == 200
    assert [v.status for v in sandbox.take_violations()] == [409]


async def test_get_updates_conflicts_with_webhook(api: Api, sandbox: Sandbox) -> None:
    port = free_port()
    result = await api.raw("setWebhook", url=f"http://127.0.0.1:{port}/hook")
    assert result[1]["description"] == "Webhook was set"
    body = await api.error("getUpdates", 409)
    assert "can't use getUpdates method while webhook is active" in body["description"]
    await api.ok("deleteWebhook")
    await api.ok("getUpdates")
    sandbox.take_violations()


async def test_allowed_updates_filters(api: Api, sandbox: Sandbox) -> None:
    user = await started_user(sandbox)
    await api.ok("getUpdates", offset=-1)
    updates = await api.ok("getUpdates", offset=-1, allowed_updates=["callback_query"])
    await api.ok("getUpdates", offset=updates[-1]["update_id"] + 1)
    await user.send("ignored")
    await api.ok("sendMessage", chat_id=user.chat_id, text="?", reply_markup=KEYBOARD)
    query = await user.press(await user.next_message(), "Setuju")
    updates = await api.ok("getUpdates")
    assert [next(k for k in u if k != "update_id") for u in updates] == ["callback_query"]
    await api.ok("answerCallbackQuery", callback_query_id=query)


# --- webhooks --------------------------------------------------------------------------------


async def test_webhook_delivery_in_order_with_secret_and_retries(
    api: Api, sandbox: Sandbox
) -> None:
    received: list[tuple[str | None, dict]] = []
    failures = {"left": 2}

    async def hook(request: web.Request) -> web.Response:
        if failures["left"]:
            failures["left"] -= 1
            return web.Response(status=500)
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await api.ok("setWebhook", url=f"http://127.0.0.1:{port}/hook", secret_token="s3cr3t_-X")
        user = sandbox.user("Budi Santoso")
        for text in ("1", "2", "3"):
            await user.send(text)
        for _ in range(100):
            if len(received) == 3:
                break
            await asyncio.sleep(0.05)
        assert [u["message"]["text"] for _, u in received] == ["1", "2", "3"]
        assert {secret for secret, _ in received} == {"s3cr3t_-X"}
        info = await api.ok("getWebhookInfo")
        assert info["pending_update_count"] == 0
        assert info["last_error_message"].startswith("Wrong response from the webhook: 500")
        # A webhook that answers 500 is the bot's bug.
        assert [v.method for v in sandbox.take_violations()] == ["webhook"]
    finally:
        await api.ok("deleteWebhook")
        await runner.cleanup()


async def test_webhook_url_rules(api: Api, sandbox: Sandbox) -> None:
    body = await api.error("setWebhook", 400, url="http://example.com/hook")
    assert (
        body["description"] == "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
    )
    body = await api.error("setWebhook", 400, url="https://example.com:8080/hook")
    assert "ports 80, 88, 443 or 8443" in body["description"]
    await api.error("setWebhook", 400, url="https://example.com/hook", secret_token="no spaces")
    assert len(sandbox.take_violations()) == 3
    info = await api.ok("getWebhookInfo")
    assert info == {"url": "", "has_custom_certificate": False, "pending_update_count": 0}


# --- rate limits -----------------------------------------------------------------------------


async def test_private_chat_burst_limit_and_ignored_retry_after(api: Api, sandbox: Sandbox) -> None:
    user = await started_user(sandbox)
    for i in range(10):
        await api.ok("sendMessage", chat_id=user.chat_id, text=f"m{i}")
    body = await api.error("sendMessage", 429, chat_id=user.chat_id, text="too many")
    assert body["description"].startswith("Too Many Requests: retry after ")
    assert body["parameters"]["retry_after"] >= 1
    await api.error("sendMessage", 429, chat_id=user.chat_id, text="again")
    taken = sandbox.take_violations()
    assert [v.note for v in taken] == [None, "ignored retry_after"]


async def test_global_limit_of_30_per_second(api: Api, sandbox: Sandbox) -> None:
    users = [await started_user(sandbox, f"User {i}") for i in range(4)]
    results = await asyncio.gather(
        *(api.raw("sendMessage", chat_id=u.chat_id, text=str(i)) for i in range(8) for u in users)
    )
    statuses = sorted(status for status, _ in results)
    assert statuses.count(200) == 30 and statuses.count(429) == 2
    assert len(sandbox.take_violations()) == 2


@pytest.mark.sandbox(rate_limits=RateLimits(group_per_window=3, group_window_seconds=60))
async def test_group_limit(api: Api, sandbox: Sandbox) -> None:
    admin = sandbox.user("Ani Admin")
    group = sandbox.group("Tim Dukcapil")
    await group.add(admin, admin=True)
    await group.add_bot()
    for i in range(3):
        await api.ok("sendMessage", chat_id=group.chat_id, text=str(i))
    body = await api.error("sendMessage", 429, chat_id=group.chat_id, text="x")
    assert 50 <= body["parameters"]["retry_after"] <= 60
    sandbox.take_violations()


# --- groups ----------------------------------------------------------------------------------


async def test_group_privacy_commands_and_migration(api: Api, sandbox: Sandbox) -> None:
    budi = sandbox.user("Budi Santoso", username="budi")
    group = sandbox.group("Tim Dukcapil")
    await group.add(budi, admin=True)
    await group.add_bot(by=budi)
    await budi.send_in(group, "ngobrol biasa")
    await budi.send_in(group, "/peringkat@berakhlak_test_bot")
    await budi.send_in(group, "/peringkat@other_bot")
    updates = await api.ok("getUpdates")
    kinds = [(next(k for k in u if k != "update_id")) for u in updates]
    assert kinds == ["my_chat_member", "message", "message"]
    assert updates[1]["message"]["new_chat_members"][0]["is_bot"] is True
    assert updates[2]["message"]["text"] == "/peringkat@berakhlak_test_bot"
    await api.ok("getUpdates", offset=updates[-1]["update_id"] + 1)

    old_id = group.chat_id
    new_id = await group.migrate_to_supergroup()
    assert str(new_id).startswith("-100")
    body = await api.error("sendMessage", 400, chat_id=old_id, text="hi")
    assert body["description"] == "Bad Request: group chat was upgraded to a supergroup chat"
    assert body["parameters"] == {"migrate_to_chat_id": new_id}
    assert sandbox.violations == []  # the expected path, not a violation
    await api.ok("sendMessage", chat_id=new_id, text="hi")
    assert (await group.next_message()).text == "hi"
    updates = await api.ok("getUpdates")
    assert updates[0]["message"]["migrate_to_chat_id"] == new_id
    assert updates[1]["message"]["migrate_from_chat_id"] == old_id


async def test_chat_info_members_and_pins(api: Api, sandbox: Sandbox) -> None:
    budi = sandbox.user("Budi Santoso", username="budi")
    group = sandbox.group("Tim", supergroup=True)
    await group.add(budi, owner=True)
    await group.add_bot()
    chat = await api.ok("getChat", chat_id=group.chat_id)
    assert chat["type"] == "supergroup" and chat["title"] == "Tim"
    member = await api.ok("getChatMember", chat_id=group.chat_id, user_id=budi.id)
    assert member["status"] == "creator"
    assert await api.ok("getChatMemberCount", chat_id=group.chat_id) == 2
    admins = await api.ok("getChatAdministrators", chat_id=group.chat_id)
    assert [a["user"]["id"] for a in admins] == [budi.id]
    sent = await api.ok("sendMessage", chat_id=group.chat_id, text="pin me")
    body = await api.error(
        "pinChatMessage", 400, chat_id=group.chat_id, message_id=sent["message_id"]
    )
    assert "not enough rights" in body["description"]
    sandbox.take_violations()
    await group.set_bot_admin()
    await api.ok("pinChatMessage", chat_id=group.chat_id, message_id=sent["message_id"])
    await api.ok("leaveChat", chat_id=group.chat_id)
    body = await api.error("sendMessage", 403, chat_id=group.chat_id, text="x")
    assert body["description"] == "Forbidden: bot is not a member of the supergroup chat"


# --- files -----------------------------------------------------------------------------------


async def test_multipart_upload_get_file_and_download(
    http: httpx.AsyncClient, api: Api, sandbox: Sandbox
) -> None:
    user = await started_user(sandbox)
    content = b"NIP;Nama\n1;Budi\n"
    response = await http.post(
        f"/bot{sandbox.token}/sendDocument",
        data={"chat_id": str(user.chat_id), "caption": "Rekap"},
        files={"document": ("rekap.csv", content, "text/csv")},
    )
    document = response.json()["result"]["document"]
    assert document["file_name"] == "rekap.csv" and document["file_size"] == len(content)
    file = await api.ok("getFile", file_id=document["file_id"])
    download = await http.get(f"/file/bot{sandbox.token}/{file['file_path']}")
    assert download.content == content
    again = await api.ok("sendDocument", chat_id=user.chat_id, document=document["file_id"])
    assert again["document"]["file_unique_id"] == document["file_unique_id"]
    body = await api.error("sendDocument", 400, chat_id=user.chat_id, document="nonsense")
    assert body["description"] == "Bad Request: wrong file identifier/HTTP URL specified"
    photo = await http.post(
        f"/bot{sandbox.token}/sendPhoto",
        data={"chat_id": str(user.chat_id)},
        files={"photo": ("p.png", png(4, 5), "image/png")},
    )
    sizes = photo.json()["result"]["photo"]
    assert (sizes[-1]["width"], sizes[-1]["height"]) == (4, 5)
    not_image = await http.post(
        f"/bot{sandbox.token}/sendPhoto",
        data={"chat_id": str(user.chat_id)},
        files={"photo": ("p.png", b"not an image", "image/png")},
    )
    assert not_image.status_code == 400
    assert len(sandbox.take_violations()) == 2


async def test_user_uploads_and_the_20_mb_get_file_limit(api: Api, sandbox: Sandbox) -> None:
    user = await started_user(sandbox)
    small = await user.upload_document("soal.xlsx", b"PK\x03\x04data", caption="soal")
    assert small["document"]["mime_type"].endswith("spreadsheetml.sheet")
    file = await api.ok("getFile", file_id=small["document"]["file_id"])
    assert file["file_path"].endswith(".xlsx")
    big = await user.upload_document("big.bin", b"\0" * (20 * 1024 * 1024 + 1))
    body = await api.error("getFile", 400, file_id=big["document"]["file_id"])
    assert body["description"] == "Bad Request: file is too big"
    photo = await user.upload_photo(png(), caption="foto")
    await api.ok("getFile", file_id=photo["photo"][-1]["file_id"])
    sandbox.take_violations()


# --- polls -----------------------------------------------------------------------------------


async def test_polls_votes_and_stop(api: Api, sandbox: Sandbox) -> None:
    user = await started_user(sandbox)
    other = await started_user(sandbox, "Siti Aminah")
    sent = await api.ok(
        "sendPoll",
        chat_id=user.chat_id,
        question="Nilai inti?",
        options=[{"text": "Berorientasi Pelayanan"}, {"text": "Akuntabel"}],
        is_anonymous=False,
    )
    poll_message = await user.next_message()
    assert poll_message.poll["options"][0]["voter_count"] == 0
    await api.ok("getUpdates", offset=-1)
    await user.answer_poll(poll_message, [1])
    with pytest.raises(SimulationError):
        await other.answer_poll(poll_message, [0])  # not their chat
    updates = await api.ok("getUpdates", offset=-2)
    answer = next(u["poll_answer"] for u in updates if "poll_answer" in u)
    assert answer["option_ids"] == [1] and answer["user"]["id"] == user.id
    assert user.transcript[-1]["poll"]["options"][1]["voter_count"] == 1
    await user.retract_vote(poll_message)
    await user.answer_poll(poll_message, [0])
    stopped = await api.ok("stopPoll", chat_id=user.chat_id, message_id=sent["message_id"])
    assert stopped["is_closed"] is True and stopped["total_voter_count"] == 1
    with pytest.raises(SimulationError, match="closed"):
        await user.retract_vote(poll_message)
    body = await api.error("stopPoll", 400, chat_id=user.chat_id, message_id=sent["message_id"])
    assert body["description"] == "Bad Request: poll has already been closed"
    sandbox.take_violations()


# --- commands --------------------------------------------------------------------------------


async def test_commands_per_scope_and_language(api: Api) -> None:
    commands = [{"command": "start", "description": "Mulai"}]
    await api.ok("setMyCommands", commands=commands, language_code="id")
    assert await api.ok("getMyCommands") == []
    assert await api.ok("getMyCommands", language_code="id") == commands
    scope = {"type": "all_private_chats"}
    await api.ok("setMyCommands", commands=commands, scope=scope)
    assert await api.ok("getMyCommands", scope=scope) == commands
    await api.ok("deleteMyCommands", scope=scope)
    assert await api.ok("getMyCommands", scope=scope) == []


# --- control API -----------------------------------------------------------------------------


async def test_control_api_drives_users(
    http: httpx.AsyncClient, api: Api, sandbox: Sandbox
) -> None:
    await api.ok("getMe")  # a bot has connected
    created = (await http.post("/sandbox/users", json={"name": "Budi Santoso"})).json()["result"]
    uid = created["id"]
    assert created["first_name"] == "Budi" and created["last_name"] == "Santoso"
    sent = await http.post(f"/sandbox/users/{uid}/send", json={"text": "/start"})
    assert sent.json()["result"]["text"] == "/start"
    await api.ok("sendMessage", chat_id=uid, text="Halo", reply_markup=KEYBOARD)
    nxt = (await http.get(f"/sandbox/users/{uid}/next", params={"timeout": 2})).json()
    assert nxt["result"]["kind"] == "new"
    pressed = await http.post(
        f"/sandbox/users/{uid}/press",
        json={"message_id": nxt["result"]["message"]["message_id"], "text": "Setuju"},
    )
    query_id = pressed.json()["result"]["callback_query_id"]
    await api.ok("answerCallbackQuery", callback_query_id=query_id)
    missing = await http.post(f"/sandbox/users/{uid}/press", json={"message_id": 99, "text": "x"})
    assert missing.status_code == 409
    messages = (await http.get(f"/sandbox/chats/{uid}/messages")).json()["result"]
    assert [m["message_id"] for m in messages] == [1, 2]
    group = (await http.post("/sandbox/groups", json={"title": "Tim"})).json()["result"]
    joined = await http.post(f"/sandbox/groups/{group['chat_id']}/members", json={"user_id": uid})
    assert joined.json()["ok"] is True
    await http.post(f"/sandbox/groups/{group['chat_id']}/bot", json={})
    calls = (await http.get("/sandbox/calls", params={"method": "sendMessage"})).json()
    assert len(calls["result"]) == 1
    await api.error("sendMessage", 400, chat_id=-1, text="x")
    taken = (await http.post("/sandbox/violations/take")).json()["result"]
    assert taken[0]["description"] == "Bad Request: chat not found"
    assert json.dumps(taken)


# --- more methods and user actions -----------------------------------------------------------


async def test_user_edits_blocks_and_chat_actions(api: Api, sandbox: Sandbox) -> None:
    user = await started_user(sandbox)
    sent = await user.send("typo")
    await user.edit(sent, "fixed #berakhlak")
    await user.block()
    updates = await api.ok("getUpdates")
    assert updates[1]["message"]["text"] == "typo"
    edited = updates[2]["edited_message"]
    assert edited["text"] == "fixed #berakhlak" and "edit_date" in edited
    assert edited["entities"] == [{"type": "hashtag", "offset": 6, "length": 10}]
    member = updates[3]["my_chat_member"]
    assert member["old_chat_member"]["status"] == "member"
    assert member["new_chat_member"]["status"] == "kicked"
    await user.unblock()
    assert await api.ok("sendChatAction", chat_id=user.chat_id, action="typing") is True
    await api.error("sendChatAction", 400, chat_id=user.chat_id, action="dancing")
    chat = await api.ok("getChat", chat_id=user.chat_id)
    assert chat["type"] == "private" and chat["first_name"] == "Budi"
    sandbox.take_violations()


async def test_copy_forward_and_delete_many(api: Api, sandbox: Sandbox) -> None:
    budi = await started_user(sandbox)
    siti = await started_user(sandbox, "Siti Aminah")
    original = await budi.send("Laporan harian")
    copied = await api.ok(
        "copyMessage", chat_id=siti.chat_id, from_chat_id=budi.chat_id,
        message_id=original["message_id"],
    )  # fmt: skip
    assert copied == {"message_id": 2}
    forwarded = await api.ok(
        "forwardMessage", chat_id=siti.chat_id, from_chat_id=budi.chat_id,
        message_id=original["message_id"],
    )  # fmt: skip
    assert forwarded["forward_origin"]["sender_user"]["id"] == budi.id
    assert [m.get("text") for m in siti.transcript[-2:]] == ["Laporan harian"] * 2
    assert await api.ok("deleteMessages", chat_id=siti.chat_id, message_ids=[2, 3, 99]) is True
    assert [m["message_id"] for m in siti.transcript] == [1]


async def test_bot_upload_over_50_mb_is_too_large(
    http: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    user = await started_user(sandbox)
    response = await http.post(
        f"/bot{sandbox.token}/sendDocument",
        data={"chat_id": str(user.chat_id)},
        files={"document": ("big.bin", b"\0" * (50 * 1024 * 1024 + 1), "application/zip")},
    )
    assert response.status_code == 413
    assert response.json()["description"] == "Request Entity Too Large"
    sandbox.take_violations()


async def test_paid_broadcast_uses_the_higher_global_limit(api: Api, sandbox: Sandbox) -> None:
    users = [await started_user(sandbox, f"User {i}") for i in range(5)]
    results = await asyncio.gather(
        *(
            api.raw("sendMessage", chat_id=u.chat_id, text=str(i), allow_paid_broadcast=True)
            for i in range(8)
            for u in users
        )
    )
    assert all(status == 200 for status, _ in results)


@pytest.mark.sandbox(rate_limits=RateLimits(max_inflight=2))
async def test_too_many_concurrent_requests(api: Api, sandbox: Sandbox) -> None:
    await started_user(sandbox)
    results = await asyncio.gather(*(api.raw("getMe") for _ in range(30)))
    statuses = {status for status, _ in results}
    assert 200 in statuses
    if 429 in statuses:  # concurrency on loopback is not guaranteed, the limit is
        assert all(v.note == "too many concurrent requests" for v in sandbox.take_violations())


async def test_wait_idle_and_silence(api: Api, sandbox: Sandbox) -> None:
    user = await started_user(sandbox)
    await api.ok("getUpdates", offset=-1)
    await sandbox.wait_idle(quiet=0.05)
    await user.expect_silence(0.05)
    await api.ok("sendMessage", chat_id=user.chat_id, text="hi")
    assert [m.text for m in user.pending()] == ["hi"]
    with pytest.raises(AssertionError, match="expected no message"):
        await user.expect_silence(0.01)
    await user.next_message()
    with pytest.raises(AssertionError, match="recent transcript"):
        await user.next_message(timeout=0.05)


async def test_chat_member_updates_and_inaccessible_messages(api: Api, sandbox: Sandbox) -> None:
    await api.ok("getUpdates", allowed_updates=["message", "chat_member", "callback_query"])
    budi = await started_user(sandbox)
    siti = sandbox.user("Siti Aminah")
    group = sandbox.group("Tim")
    await group.add(budi, admin=True)
    await group.add_bot(admin=True)
    await group.add(siti)
    await group.remove(siti)
    query = await budi.press_forged(424242, data="forged")
    updates = await api.ok("getUpdates")
    kinds = [next(k for k in u if k != "update_id") for u in updates]
    assert kinds.count("chat_member") == 2
    assert updates[-1]["callback_query"]["message"]["date"] == 0  # InaccessibleMessage
    await api.ok("answerCallbackQuery", callback_query_id=query)


async def test_reply_parameters(api: Api, sandbox: Sandbox) -> None:
    user = await started_user(sandbox)
    body = await api.error(
        "sendMessage", 400, chat_id=user.chat_id, text="x", reply_parameters={"message_id": 99}
    )
    assert body["description"] == "Bad Request: message to be replied not found"
    sandbox.take_violations()
    lenient = {"message_id": 99, "allow_sending_without_reply": True}
    sent = await api.ok("sendMessage", chat_id=user.chat_id, text="x", reply_parameters=lenient)
    assert "reply_to_message" not in sent
    sent = await api.ok(
        "sendMessage", chat_id=user.chat_id, text="y", reply_parameters={"message_id": 1}
    )
    assert sent["reply_to_message"]["text"] == "/start"
