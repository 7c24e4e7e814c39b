"""The webhook: a secret that cannot be guessed, and bodies capped before they are read."""

from __future__ import annotations

import httpx
import pytest
from telegram import Update
from telegram.ext import TypeHandler
from tornado.httpserver import HTTPServer

from bot.app.webhook import cap_request_bodies
from bot.core.config import ConfigError, load_settings
from sandbox.pytest_plugin import free_port
from tests.utils import eventually

SECRET = "s" * 40


def test_a_short_secret_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPDATE_MODE", "webhook")
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.go.id/telegram")
    monkeypatch.setenv("WEBHOOK_SECRET", "rahasia-123")
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET: 32-256") as caught:
        load_settings()
    assert "rahasia-123" not in str(caught.value)
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    assert load_settings().webhook_secret is not None


async def test_a_large_body_is_refused_unread(ptb_app_factory) -> None:  # type: ignore[no-untyped-def]
    seen: list[int] = []

    async def record(update: Update, _: object) -> None:
        seen.append(update.update_id)

    cap_request_bodies(64 * 1024)
    try:
        port = free_port()
        await ptb_app_factory(
            webhook=True,
            webhook_port=port,
            secret_token=SECRET,
            setup=lambda app: app.add_handler(TypeHandler(Update, record)),
        )
    finally:
        HTTPServer.configure(None)  # other tests' servers keep tornado's defaults
    url = f"http://127.0.0.1:{port}/telegram"
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with httpx.AsyncClient(timeout=10) as client:
        small = await client.post(url, content=b'{"update_id": 1}', headers=headers)
        assert small.status_code == 200
        wrong = await client.post(
            url,
            content=b'{"update_id": 2}',
            headers={**headers, "X-Telegram-Bot-Api-Secret-Token": "x"},
        )
        assert wrong.status_code == 403
        huge = b'{"update_id": 3, "x": "' + b"a" * (5 * 1024 * 1024) + b'"}'
        # Tornado closes the connection as soon as it reads the Content-Length.
        with pytest.raises(httpx.HTTPError):
            await client.post(url, content=huge, headers=headers)
        # The server still answers afterwards.
        after = await client.post(url, content=b'{"update_id": 4}', headers=headers)
        assert after.status_code == 200
    await eventually(lambda: seen == [1, 4])
