"""What makes an idea acceptable, and how it moves from status to status."""

from __future__ import annotations

import hashlib
import re
import unicodedata

TITLE_MAX = 100
DESCRIPTION_MAX = 1000
PER_DAY = 3  # ideas one person may give in 24 hours
DUPLICATE_DAYS = 7  # the same text again within a week is refused

NEW, REVIEW, ACCEPTED, WORKING, DONE, DECLINED = (
    "baru",
    "ditinjau",
    "diterima",
    "dikerjakan",
    "terealisasi",
    "ditunda",
)
# Where an admin may move an idea from each status; "ditunda" (belum dapat dilaksanakan)
# needs a reason and can be reopened for review.
MOVES: dict[str, tuple[str, ...]] = {
    NEW: (REVIEW, DECLINED),
    REVIEW: (ACCEPTED, DECLINED),
    ACCEPTED: (WORKING, DECLINED),
    WORKING: (DONE, DECLINED),
    DECLINED: (REVIEW,),
    DONE: (),
}
STATUSES = (NEW, REVIEW, ACCEPTED, WORKING, DONE, DECLINED)
OPEN = (NEW, REVIEW, ACCEPTED, WORKING)
# Points when an idea is realised: the author, and each colleague who offered to help.
AUTHOR_POINTS = 20
HELPER_POINTS = 10


def clean(text: str) -> str:
    """One line of plain text: control characters out, runs of spaces as one."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def fingerprint(title: str, description: str) -> str:
    """The same idea whatever its case, spacing and punctuation."""
    words = re.findall(r"\w+", f"{title} {description}".casefold())
    return hashlib.sha256(" ".join(words).encode()).hexdigest()


def problem_with_title(title: str) -> str | None:
    if not title:
        return "empty"
    if len(title) > TITLE_MAX:
        return "too_long"
    return None


def problem_with_description(description: str) -> str | None:
    if len(description) < 10:
        return "too_short"
    if len(description) > DESCRIPTION_MAX:
        return "too_long"
    return None
