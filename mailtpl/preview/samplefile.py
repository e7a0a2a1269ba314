"""Adding or replacing one set in a ``NAME.preview.json`` while every other byte of the file stays as the
designer wrote it (their order, spacing, and the formatting of the other sets)."""
from __future__ import annotations

import json
from json.decoder import scanstring

_DECODER = json.JSONDecoder()
_SPACE = " \t\r\n"


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in _SPACE:
        at += 1
    return at


def _members(text: str) -> list[tuple[str, int, int, int]]:
    """(key, key start, value start, value end) of each top-level member of a JSON object text."""
    at = _skip(text, 0)
    if text[at:at + 1] != "{":
        raise ValueError("not a JSON object")
    members = []
    at = _skip(text, at + 1)
    while text[at:at + 1] != "}":
        key_start = at
        key, at = scanstring(text, at + 1)
        at = _skip(text, _skip(text, at) + 1)  # past the colon
        _, end = _DECODER.raw_decode(text, at)
        members.append((key, key_start, at, end))
        at = _skip(text, end)
        if text[at:at + 1] == ",":
            at = _skip(text, at + 1)
    return members


def with_set(text: str | None, name: str, data: dict) -> str:
    """``text`` (a sample-data file, or None for a new one) with set ``name`` = ``data``."""
    members = _members(text) if text and text.strip() else []
    indent = "  "
    if members:
        key_start = members[0][1]
        line_start = text.rfind("\n", 0, key_start) + 1
        indent = text[line_start:key_start] if text[line_start:key_start].strip() == "" else ""
    value = json.dumps(data, indent=len(indent) or None, ensure_ascii=False).replace("\n", "\n" + indent)
    for key, _, start, end in reversed(members):  # a duplicate key: JSON keeps the last one
        if key == name:
            return text[:start] + value + text[end:]
    member = f"{json.dumps(name, ensure_ascii=False)}: {value}"
    if not members:
        return "{\n" + indent + member + "\n}\n"
    end = members[-1][3]
    separator = ",\n" + indent if indent else ", "
    return text[:end] + separator + member + text[end:]
