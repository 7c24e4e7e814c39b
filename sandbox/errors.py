"""Errors the sandbox answers with, shaped like Telegram's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ApiError(Exception):
    """A Bot API error: becomes ``{"ok": false, "error_code": status, "description": ...}``.

    ``violation`` marks errors that real Telegram would also return and that a
    well-behaved bot must never provoke; the server records them so a test fails.
    """

    status: int
    description: str
    retry_after: int | None = None
    migrate_to_chat_id: int | None = None
    violation: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.description)

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        parameters: dict[str, Any] = {}
        if self.retry_after is not None:
            parameters["retry_after"] = self.retry_after
        if self.migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = self.migrate_to_chat_id
        if parameters:
            body["parameters"] = parameters
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    return ApiError(403, f"Forbidden: {detail}")


@dataclass(frozen=True)
class UploadedFile:
    """A file that arrived in a multipart request."""

    filename: str
    content_type: str
    data: bytes
