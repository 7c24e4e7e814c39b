"""Check the sandbox's answers against the Bot API reference (spec.json): every object has its
required fields, no field the reference does not define, and values of the stated types."""

from __future__ import annotations

from typing import Any

from sandbox import spec


class Mismatch(AssertionError):
    pass


def check(value: Any, types: list[str], path: str) -> None:
    errors: list[str] = []
    for type_name in types:
        try:
            _one(value, type_name, path)
            return
        except Mismatch as error:
            errors.append(str(error))
    raise Mismatch(" | ".join(errors))


def _one(value: Any, type_name: str, path: str) -> None:
    if type_name.startswith("Array of "):
        if not isinstance(value, list):
            raise Mismatch(f"{path}: expected a list")
        for i, item in enumerate(value):
            check(item, [type_name.removeprefix("Array of ")], f"{path}[{i}]")
        return
    scalar = {
        "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "String": lambda v: isinstance(v, str),
        "Boolean": lambda v: isinstance(v, bool),
        "True": lambda v: v is True,
        "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    }
    if type_name in scalar:
        if not scalar[type_name](value):
            raise Mismatch(f"{path}: {value!r} is not {type_name}")
        return
    type_spec = spec.type_spec(type_name)
    if type_spec is None:
        raise Mismatch(f"{path}: unknown type {type_name}")
    if "subtypes" in type_spec:
        check(value, type_spec["subtypes"], path)
        return
    if not isinstance(value, dict):
        raise Mismatch(f"{path}: expected {type_name} object")
    fields = type_spec["fields"]
    for key, item in value.items():
        if key not in fields:
            raise Mismatch(f"{path}: {type_name} has no field {key!r}")
        field = fields[key]
        check(item, field["types"], f"{path}.{key}")
        if "const" in field and item != field["const"]:
            raise Mismatch(f"{path}.{key}: must be {field['const']!r}")
        if "enum" in field and item not in field["enum"]:
            raise Mismatch(f"{path}.{key}: {item!r} not in enum")
    for key, field in fields.items():
        if field["required"] and key not in value:
            raise Mismatch(f"{path}: {type_name} lacks required {key!r}")


def check_result(method: str, result: Any) -> None:
    returns = spec.SPEC["methods"][method]["returns"]
    check(result, returns, method)
