"""What we accept as a person's full name."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

MAX_NAME = 100
MIN_NAME = 3


class NameProblem(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    TOO_SHORT = "too_short"
    DIGITS = "digits"
    SYMBOLS = "symbols"
    NO_LETTERS = "no_letters"


@dataclass(frozen=True)
class NameCheck:
    name: str | None
    problem: NameProblem | None = None
    length: int = 0


# Letters in any script, spaces and the punctuation of Indonesian names and degrees
# ("Dr. Siti Nur'aini, S.Kom.", "Hj. Ayu-Lestari").
_ALLOWED_PUNCT = set(" .,'’-`")


def check_name(text: str | None) -> NameCheck:
    raw = unicodedata.normalize("NFC", text or "")
    name = " ".join(raw.split())
    if not name:
        return NameCheck(None, NameProblem.EMPTY)
    length = len(name)
    if length > MAX_NAME:
        return NameCheck(None, NameProblem.TOO_LONG, length)
    if any(ch.isdigit() for ch in name):
        return NameCheck(None, NameProblem.DIGITS, length)
    letters = sum(1 for ch in name if ch.isalpha())
    if letters == 0:
        return NameCheck(None, NameProblem.NO_LETTERS, length)
    if any(not (ch.isalpha() or ch in _ALLOWED_PUNCT or _is_mark(ch)) for ch in name):
        return NameCheck(None, NameProblem.SYMBOLS, length)
    if letters < MIN_NAME - 1 or length < MIN_NAME:
        return NameCheck(None, NameProblem.TOO_SHORT, length)
    return NameCheck(re.sub(r"\s*,\s*", ", ", name), None, length)


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch).startswith("M")


def first_name(full_name: str) -> str:
    """The first word that is not a title, for friendly greetings."""
    titles = {"dr.", "drs.", "dra.", "ir.", "h.", "hj.", "prof.", "dr", "ir", "h", "hj"}
    for word in full_name.split():
        if word.lower() not in titles:
            return word.strip(",")
    return full_name
