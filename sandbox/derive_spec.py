"""Derive the sandbox's compact Bot API spec from the machine-readable reference.

Run ``python -m sandbox.derive_spec [PATH_TO_api.json]``; it rewrites
``sandbox/spec.json``. The sandbox reads only that derived file at run time so the
project does not depend on where the reference happens to be checked out.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).with_name("spec.json")
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_API_JSON = REPO_ROOT.parent / "shared" / "telegram-bot-api" / "api.json"

# Ranges of text size; "Bytes" is capitalised in a few InlineQueryResult descriptions.
_TEXT_RANGE = re.compile(r"(\d+)-(\d+) (characters|bytes)\b", re.IGNORECASE)
_TEXT_UP_TO = re.compile(r"\bup to (\d+) characters\b", re.IGNORECASE)
_LINE_FEEDS = re.compile(r"\bat most (\d+) line feeds\b", re.IGNORECASE)
# Array sizes: "1-100 identifiers", "2-10 items", "1-12 answer options", "up to 10 items",
# "At most 100 commands can be specified".
_ITEMS_RANGE = re.compile(r"\b(\d+)-(\d+) (?:[a-z]+ ){0,2}?[a-z]+\b")
_ITEMS_UP_TO = re.compile(r"\bup to (\d+) (?:items|identifiers)\b", re.IGNORECASE)
_ITEMS_AT_MOST = re.compile(r"\bat most (\d+) (?:[\w ]+?) can be specified\b", re.IGNORECASE)
# Numeric values: "Values between 1-100 are accepted", "...; 1-100. Defaults", "..., 5-2628000.",
# "Must be between 1 and 360".
_VALUE_RANGE = re.compile(r"(?:between |; |, )(\d+)-(\d+)(?=$|[.,]| are accepted)")
_VALUE_BETWEEN = re.compile(r"\b[Mm]ust be between (\d+) and (\d+)\b")
# Discriminators of union members: "Scope type, must be chat", 'always "emoji"'.
_CONST = re.compile(r'(?:must be|always) "?([a-z_]+)"?\s*\.?$')
_ENUM_INTRO = re.compile(r'(?:can be|one of|either)\s+"', re.IGNORECASE)
_QUOTED = re.compile(r'"([^"]*)"')
_TOKEN = re.compile(r"[A-Za-z0-9_]+")


def _field_limit(types: list[str], description: str) -> dict[str, Any] | None:
    is_array = any(t.startswith("Array of") for t in types)
    is_number = not is_array and any(t in ("Integer", "Float") for t in types)
    limit: dict[str, Any] = {}
    if is_array:
        if m := _ITEMS_RANGE.search(description):
            limit = {"min": int(m[1]), "max": int(m[2]), "unit": "items"}
        elif m := _ITEMS_UP_TO.search(description) or _ITEMS_AT_MOST.search(description):
            limit = {"min": 0, "max": int(m[1]), "unit": "items"}
    elif is_number and "0x7FFFFFFF" not in description:
        # 0x7FFFFFFF is a sentinel outside the range (live locations), so no plain bound.
        # Several ranges (Dice.value) depend on another field; they are not a plain bound.
        ranges = _VALUE_RANGE.findall(description) or _VALUE_BETWEEN.findall(description)
        if len(ranges) == 1:
            low, high = ranges[0]
            limit = {"min": int(low), "max": int(high), "unit": "value"}
    elif "String" in types:
        if m := _TEXT_RANGE.search(description):
            limit = {"min": int(m[1]), "max": int(m[2]), "unit": m[3].lower()}
        elif m := _TEXT_UP_TO.search(description):
            limit = {"min": 0, "max": int(m[1]), "unit": "characters"}
        if limit and "after entities parsing" in description:
            limit["after_parsing"] = True
        if m := _LINE_FEEDS.search(description):
            limit["max_line_feeds"] = int(m[1])
    if limit and limit["min"] > limit["max"]:
        # "ISO 3166-1 alpha-2" reads like a range but is not one.
        return None
    return limit or None


def _field_extras(field: dict[str, Any]) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    if field["types"] != ["String"]:
        return extras
    description: str = field["description"]
    if field["name"] in ("type", "source", "status") and (m := _CONST.search(description)):
        extras["const"] = m[1]
    elif _ENUM_INTRO.search(description):
        quoted = _QUOTED.findall(description)
        # Only lists of plain tokens: emoji and MIME-type lists are too irregular to trust.
        if quoted and all(_TOKEN.fullmatch(q) for q in quoted):
            extras["enum"] = list(dict.fromkeys(quoted))
    return extras


def _fields(
    owner: str, raw_fields: list[dict[str, Any]], limits: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    fields: dict[str, dict[str, Any]] = {}
    for field in raw_fields:
        entry: dict[str, Any] = {"types": list(field["types"]), "required": bool(field["required"])}
        entry.update(_field_extras(field))
        fields[field["name"]] = entry
        if limit := _field_limit(field["types"], field["description"]):
            limits[f"{owner}.{field['name']}"] = limit
    return fields


def derive(api: dict[str, Any]) -> dict[str, Any]:
    """Reduce api.json to what request validation needs (types, requiredness, limits)."""
    limits: dict[str, Any] = {}
    methods: dict[str, Any] = {}
    for name, method in api["methods"].items():
        methods[name] = {
            "params": _fields(name, method.get("fields", []), limits),
            "returns": list(method.get("returns", [])),
        }
    types: dict[str, Any] = {}
    for name, type_ in api["types"].items():
        entry: dict[str, Any] = {"fields": _fields(name, type_.get("fields", []), limits)}
        if "subtypes" in type_:
            entry["subtypes"] = list(type_["subtypes"])
        types[name] = entry
    return {
        "version": api.get("version"),
        "methods": methods,
        "types": types,
        "limits": dict(sorted(limits.items())),
    }


def dumps(spec: dict[str, Any]) -> str:
    # One compact line per method/type keeps the committed file diffable yet small.
    lines = ["{", f'"version": {json.dumps(spec["version"])},']
    for section in ("methods", "types", "limits"):
        items = list(spec[section].items())
        lines.append(f'"{section}": {{')
        for i, (key, value) in enumerate(items):
            comma = "," if i < len(items) - 1 else ""
            compact = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            lines.append(f"{json.dumps(key)}: {compact}{comma}")
        lines.append("}," if section != "limits" else "}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    source = Path(args[0]) if args else DEFAULT_API_JSON
    api = json.loads(source.read_text(encoding="utf-8"))
    spec = derive(api)
    SPEC_PATH.write_text(dumps(spec), encoding="utf-8")
    print(
        f"wrote {SPEC_PATH} ({spec['version']}: {len(spec['methods'])} methods, "
        f"{len(spec['types'])} types, {len(spec['limits'])} limits)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
