"""Injected faults: the next calls of a method fail as asked, and none is a violation."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from sandbox import Sandbox
from tests.sandbox.helpers import Api


async def started(sandbox: Sandbox, name: str) -> object:
    user = sandbox.user(name)
    await user.send("/start")
    return user


async def test_an_error_hits_the_next_calls_to_one_chat_only(api: Api, sandbox: Sandbox) -> None:
    budi = await started(sandbox, "Budi Santoso")
    rina = await started(sandbox, "Rina Marlina")
    sandbox.inject(
        "sendMessage",
        error_code=400,
        description="can't parse entities: injected",
        times=2,
        chat_id=budi.chat_id,  # type: ignore[attr-defined]
    )
    await api.ok("sendMessage", chat_id=rina.chat_id, text="untuk Rina")  # type: ignore[attr-defined]
    for _ in range(2):
        body = await api.error("sendMessage", 400, chat_id=budi.chat_id, text="x")  # type: ignore[attr-defined]
        assert body["description"] == "Bad Request: can't parse entities: injected"
    await api.ok("sendMessage", chat_id=budi.chat_id, text="sudah pulih")  # type: ignore[attr-defined]
    assert sandbox.faults.pending == []
    assert sandbox.violations == []
    assert [c.status for c in sandbox.calls_to("sendMessage")] == [200, 400, 400, 200]
    assert [e.method for e in sandbox.events if e.kind == "injected_fault"] == ["sendMessage"] * 2


async def test_after_lets_the_first_calls_through(api: Api, sandbox: Sandbox) -> None:
    user = await started(sandbox, "Dewi Lestari")
    chat = user.chat_id  # type: ignore[attr-defined]
    sandbox.inject("sendMessage", error_code=500, after=2, chat_id=chat)
    await api.ok("sendMessage", chat_id=chat, text="satu")
    await api.ok("sendMessage", chat_id=chat, text="dua")
    await api.error("sendMessage", 500, chat_id=chat, text="tiga")
    await api.ok("sendMessage", chat_id=chat, text="empat")
    assert sandbox.faults.pending == []


async def test_forbidden_retry_after_and_server_errors(api: Api, sandbox: Sandbox) -> None:
    user = await started(sandbox, "Sri Wahyuni")
    chat = user.chat_id  # type: ignore[attr-defined]
    sandbox.inject("sendMessage", error_code=403)
    body = await api.error("sendMessage", 403, chat_id=chat, text="x")
    assert body["description"] == "Forbidden: bot was blocked by the user"
    sandbox.inject("sendMessage", error_code=429, retry_after=7)
    body = await api.error("sendMessage", 429, chat_id=chat, text="x")
    assert body["parameters"] == {"retry_after": 7}
    # The sandbox's own flood control knows nothing of it: sending at once is no violation.
    await api.ok("sendMessage", chat_id=chat, text="langsung")
    sandbox.inject("getMe", error_code=500)
    await api.error("getMe", 500)
    assert sandbox.violations == []


async def test_a_dropped_connection_and_a_hang(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    user = await started(sandbox, "Andi")
    chat = user.chat_id  # type: ignore[attr-defined]
    url = f"/bot{sandbox.token}/sendMessage"
    sandbox.inject("sendMessage", drop=True)
    with pytest.raises(httpx.RemoteProtocolError):
        await http.post(url, data={"chat_id": chat, "text": "hilang"})
    # A hang the client gives up on still delivers, as Telegram may have done.
    sandbox.inject("sendMessage", hang=0.5)
    with pytest.raises(httpx.ReadTimeout):
        await http.post(url, data={"chat_id": chat, "text": "terlambat"}, timeout=0.1)
    sandbox.inject("sendMessage", hang=0.2, deliver=False)
    with pytest.raises(httpx.RemoteProtocolError):
        await http.post(url, data={"chat_id": chat, "text": "tidak pernah"})
    await asyncio.sleep(0.6)
    texts = [m.get("text") for m in user.transcript if m["from"]["is_bot"]]  # type: ignore[attr-defined]
    assert texts == ["terlambat"]
    statuses = [(c.params.get("text"), c.status) for c in sandbox.calls_to("sendMessage")]
    assert ("hilang", 0) in statuses and ("tidak pernah", 0) in statuses
    assert ("terlambat", 200) in statuses
    assert sandbox.violations == []


async def test_answer_callback_query_faults_follow_the_pressed_chat(
    api: Api, sandbox: Sandbox
) -> None:
    user = await started(sandbox, "Maya")
    chat = user.chat_id  # type: ignore[attr-defined]
    keyboard = {"inline_keyboard": [[{"text": "Ya", "callback_data": "ya"}]]}
    message = await api.ok("sendMessage", chat_id=chat, text="Setuju?", reply_markup=keyboard)
    sandbox.inject("answerCallbackQuery", error_code=500, chat_id=chat)
    query = await user.press(message["message_id"], "Ya")  # type: ignore[attr-defined]
    await api.error("answerCallbackQuery", 500, callback_query_id=query)
    await api.ok("answerCallbackQuery", callback_query_id=query)
    assert sandbox.callback_answer(query) == {}  # answered once, with no text


async def test_ptb_raises_the_matching_exception(ptb_app, sandbox: Sandbox) -> None:  # type: ignore[no-untyped-def]
    user = await started(sandbox, "Joko")
    chat = user.chat_id  # type: ignore[attr-defined]
    bot = ptb_app.bot
    cases: list[tuple[dict[str, object], type[Exception]]] = [
        ({"error_code": 400, "description": "message is too long"}, BadRequest),
        ({"error_code": 403}, Forbidden),
        ({"error_code": 429, "retry_after": 3}, RetryAfter),
        ({"error_code": 500}, NetworkError),
        ({"drop": True}, NetworkError),
    ]
    for fault, kind in cases:
        sandbox.inject("sendMessage", chat_id=chat, **fault)  # type: ignore[arg-type]
        with pytest.raises(kind) as raised:
            await bot.send_message(chat, "x")
        assert type(raised.value) is kind
    sandbox.inject("sendMessage", chat_id=chat, hang=0.6)
    with pytest.raises(TimedOut):
        await bot.send_message(chat, "lambat", read_timeout=0.2)
    await asyncio.sleep(0.6)
    assert [m.get("text") for m in user.transcript if m["from"]["is_bot"]] == ["lambat"]  # type: ignore[attr-defined]


async def test_the_control_api_arms_lists_and_clears(http: httpx.AsyncClient) -> None:
    armed = await http.post(
        "/sandbox/faults",
        json={"method": "sendMessage", "error_code": 429, "retry_after": 2, "times": 3},
    )
    assert armed.status_code == 200
    assert armed.json()["result"]["times"] == 3
    listed = (await http.get("/sandbox/faults")).json()["result"]
    assert [(f["method"], f["error_code"], f["retry_after"]) for f in listed] == [
        ("sendMessage", 429, 2)
    ]
    for bad in (
        {"method": "sendMessage"},  # no action
        {"method": "sendMessage", "error_code": 400, "drop": True},  # two actions
        {"method": "sendMessage", "error_code": 429},  # a 429 needs retry_after
        {"method": "sendMessage", "drop": True, "colour": "red"},
    ):
        response = await http.post("/sandbox/faults", json=bad)
        assert response.status_code == 400, bad
    assert (await http.delete("/sandbox/faults")).json() == {"ok": True, "result": True}
    assert (await http.get("/sandbox/faults")).json()["result"] == []
