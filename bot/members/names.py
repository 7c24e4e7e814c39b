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


# Titles written before a name (academic, professional, religious), without their dots.
_TITLES_BEFORE = {
    "dr", "drs", "dra", "drg", "drh", "ir", "prof", "h", "hj", "kh", "hc", "ns", "apt",
    "ust", "ustadz", "ustadzah",
}  # fmt: skip
# Degrees written after a name and typed without their dots ("Budi Santoso SKom").
_DEGREES_AFTER = {
    "se", "sh", "st", "sp", "ak", "mm", "mt", "mh", "ma", "mba", "msc", "bsc", "phd",
    "skom", "spd", "sip", "ssos", "si", "ssi", "skep", "ked", "sked", "sfarm", "sag",
    "shi", "shut", "sst", "amd", "amdkep", "amdkeb", "mpd", "msi", "mkes", "mkom", "map",
    "mak", "mhum", "ns", "apt", "cpa", "dipl",
}  # fmt: skip
# "S.Kom.", "M.M", "A.Md.Kep", "Ph.D.", "Sp.PD": letters in groups joined by dots.
_DOTTED = re.compile(r"[^\W\d_]{1,5}(?:\.[^\W\d_]{1,5})+\.?")


def _bare(word: str) -> str:
    return word.lower().replace(".", "").strip(",")


def first_name(full_name: str) -> str:
    """The first word that is not a title, for friendly greetings."""
    for word in full_name.split():
        if _bare(word) not in _TITLES_BEFORE:
            return word.strip(",")
    return full_name


def name_key(full_name: str) -> str:
    """The name without titles, case, accents, spacing or punctuation: "Dr. H. Siti
    Nur'aini, S.Kom., M.M." and "siti  nuraini" give the same key. Empty when nothing
    but titles is left."""
    text = unicodedata.normalize("NFKD", full_name)
    text = "".join(ch for ch in text if not _is_mark(ch))
    # Indonesian writing puts the degrees after the first comma (EYD); keep what is before.
    text = text.split(",", 1)[0]
    words = [w for w in re.split(r"[\s\-]+", text) if w.strip(".'’`")]
    while words and _bare(words[0]) in _TITLES_BEFORE:
        words.pop(0)
    while len(words) > 1 and (_bare(words[-1]) in _DEGREES_AFTER or _DOTTED.fullmatch(words[-1])):
        words.pop()
    return "".join(ch for ch in "".join(words).casefold() if ch.isalpha())


def same_person(typed: str, listed: str) -> bool:
    """Whether a typed name is the employee list's name, titles, case and spacing aside."""
    key = name_key(typed)
    return bool(key) and key == name_key(listed)
