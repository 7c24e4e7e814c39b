"""The Bot API reference the sandbox validates against (derived by ``derive_spec``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).with_name("spec.json")

SPEC: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))

# Telegram matches method names case-insensitively ("sendmessage" works).
_METHODS_BY_LOWER: dict[str, str] = {name.lower(): name for name in SPEC["methods"]}


def resolve_method(name: str) -> str | None:
    """Canonical spelling of a Bot API method name, or None when it does not exist."""
    return _METHODS_BY_LOWER.get(name.lower())


def limit(key: str) -> dict[str, Any] | None:
    """Bounds stated in the reference, keyed ``"sendMessage.text"`` or ``"Type.field"``."""
    return SPEC["limits"].get(key)


def method_params(method: str) -> dict[str, dict[str, Any]]:
    return SPEC["methods"][method]["params"]


def type_spec(name: str) -> dict[str, Any] | None:
    return SPEC["types"].get(name)
