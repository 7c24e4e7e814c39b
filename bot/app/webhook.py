"""Limits on PTB's webhook server (tornado), which PTB itself does not expose.

Tornado reads a request body of up to 100 MB by default before PTB's handler can check
the secret token, so anyone who finds the URL could make the bot read and hold that much.
Tornado's `HTTPServer` is configurable class-wide: the cap set here applies to the server
PTB creates in `run_webhook`, and a request announcing a longer body is closed unread."""

from __future__ import annotations

from tornado.httpserver import HTTPServer


def cap_request_bodies(max_bytes: int) -> None:
    """Every tornado HTTP server created after this reads at most `max_bytes` of body."""
    HTTPServer.configure(None, max_body_size=max_bytes)
