"""Raw-HTTP Bot API client used by the sandbox tests."""

from __future__ import annotations

import json
from typing import Any

import httpx


def form_value(value: Any) -> str:
    """Encode one parameter as PTB does: nested values as JSON, booleans in lower case."""
    if isinstance(value, dict | list | bool):
        return json.dumps(value)
    return str(value)


class Api:
    """A minimal Bot API client over httpx (form-encoded POSTs unless told otherwise)."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.token = token

    async def raw(
        self, method: str, token: str | None = None, **params: Any
    ) -> tuple[int, dict[str, Any]]:
        data = {k: form_value(v) for k, v in params.items()}
        response = await self.client.post(f"/bot{token or self.token}/{method}", data=data)
        return response.status_code, response.json()

    async def ok(self, method: str, **params: Any) -> Any:
        status, body = await self.raw(method, **params)
        assert status == 200 and body["ok"], body
        return body["result"]

    async def error(self, method: str, status: int, **params: Any) -> dict[str, Any]:
        got, body = await self.raw(method, **params)
        assert got == status, body
        assert body["ok"] is False and body["error_code"] == status, body
        return body
