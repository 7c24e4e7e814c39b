"""pytest fixtures for the sandbox; enable with ``pytest_plugins = ["sandbox.pytest_plugin"]``.

* ``bot_token``: a valid-looking token; the sandbox's primary bot uses it.
* ``sandbox``: a started ``Sandbox``. Options come from ``@pytest.mark.sandbox(**kwargs)``
  (e.g. ``rate_limits=False``, ``callback_timeout=2``). At teardown it gives the bot a short
  grace to answer open callback queries, stops, and fails the test listing every violation
  the test did not take with ``sandbox.take_violations()``.
* ``ptb_app_factory``: ``await ptb_app_factory(token=None, webhook=False, webhook_port=None,
  secret_token=..., configure=None, setup=None)`` builds a real ``telegram.ext.Application``
  wired to the sandbox (real ``HTTPXRequest``; ``configure(builder)`` may add e.g. a rate
  limiter, ``setup(app)`` may add handlers), initializes it, starts polling (or a webhook
  server on ``http://127.0.0.1:<port>/telegram`` with ``secret_token``) and starts it. All
  built apps are stopped and shut down at teardown, after a grace for callback answers.
* ``ptb_app``: one such application, polling with a short timeout. Add handlers to it in the
  test; PTB reads its handler table per update.
"""

from __future__ import annotations

import contextlib
import datetime as dtm
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from sandbox.server import Sandbox

TEST_TOKEN = "7000000001:AAHsandbox-test-token_0123456789abc"
CALLBACK_GRACE = 1.0
POLL_TIMEOUT = dtm.timedelta(seconds=2)
WEBHOOK_SECRET = "sandbox-webhook-secret_42"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sandbox(**options): keyword arguments for the sandbox fixture's Sandbox"
    )


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def bot_token() -> str:
    return TEST_TOKEN


@pytest.fixture
async def sandbox(request: pytest.FixtureRequest, bot_token: str) -> AsyncIterator[Sandbox]:
    marker = request.node.get_closest_marker("sandbox")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    sb = Sandbox(token=bot_token, **options)
    await sb.start()
    try:
        yield sb
    finally:
        await sb.settle_callbacks(CALLBACK_GRACE)
        await sb.stop()
    if sb.violations:
        listing = "\n".join(f"  - {v}" for v in sb.violations)
        pytest.fail(
            f"{len(sb.violations)} Telegram API violation(s) (real Telegram would reject "
            f"these; call sandbox.take_violations() in tests that provoke them on purpose):\n"
            f"{listing}",
            pytrace=False,
        )


AppFactory = Callable[..., Awaitable[Any]]


@pytest.fixture
async def ptb_app_factory(sandbox: Sandbox, bot_token: str) -> AsyncIterator[AppFactory]:
    from telegram.ext import Application, ApplicationBuilder

    apps: list[Application[Any, Any, Any, Any, Any, Any]] = []

    async def build(
        *,
        token: str | None = None,
        webhook: bool = False,
        webhook_port: int | None = None,
        secret_token: str = WEBHOOK_SECRET,
        configure: Callable[[ApplicationBuilder[Any, Any, Any, Any, Any, Any]], Any] | None = None,
        setup: Callable[[Application[Any, Any, Any, Any, Any, Any]], Any] | None = None,
    ) -> Application[Any, Any, Any, Any, Any, Any]:
        builder = (
            ApplicationBuilder()
            .token(token or bot_token)
            .base_url(sandbox.api_base_url)
            .base_file_url(sandbox.file_base_url)
        )
        if configure is not None:
            configure(builder)
        app = builder.build()
        if setup is not None:
            setup(app)
        await app.initialize()
        apps.append(app)
        assert app.updater is not None
        if webhook:
            port = webhook_port or free_port()
            await app.updater.start_webhook(
                listen="127.0.0.1",
                port=port,
                url_path="telegram",
                webhook_url=f"http://127.0.0.1:{port}/telegram",
                secret_token=secret_token,
            )
        else:
            await app.updater.start_polling(timeout=POLL_TIMEOUT)
        await app.start()
        return app

    yield build
    # Let the bots answer callback queries they already received before stopping them.
    await sandbox.settle_callbacks(CALLBACK_GRACE)
    for app in reversed(apps):
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()


@pytest.fixture
async def ptb_app(ptb_app_factory: AppFactory) -> Any:
    return await ptb_app_factory()
