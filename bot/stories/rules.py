"""What a story may hold: a length, and no citizen's personal data. The check flags what
looks like a NIK, a phone number or a street address, for the author and the reviewer."""

from __future__ import annotations

import re

TEXT_MIN = 30
TEXT_MAX = 1000
REASON_MAX = 300

SUBMITTED, REVISE, APPROVED, DECLINED, PUBLISHED = (
    "diajukan",
    "perbaiki",
    "disetujui",
    "ditolak",
    "terbit",
)

# Sixteen digits, as a NIK is written (alone, or in groups of four with spaces or dots).
NIK = re.compile(r"(?<!\d)(?:\d[ .-]?){15}\d(?!\d)")
# Indonesian mobile and landline numbers: 08.., +62 8.., 62 8.., (0354) 68...
PHONE = re.compile(
    r"(?<!\d)(?:\+?62[ .-]?|0)(?:8\d{1,2}|\(?\d{2,4}\)?)[ .-]?\d{3,4}[ .-]?\d{3,5}(?!\d)"
)
# A street with its name, or an RT/RW.
ADDRESS = re.compile(
    r"\b(?:jl|jln|jalan|gg|gang)\.?\s+[A-Za-z]\w+|\bRT\.?\s*\d{1,3}\s*/\s*RW\.?\s*\d{1,3}",
    re.IGNORECASE,
)


def personal_data_flags(text: str) -> list[str]:
    """Which kinds of a citizen's personal data the text seems to hold."""
    flags = []
    if NIK.search(text):
        flags.append("nik")
    # A NIK's digits would also read as a phone number: look for phones without them.
    if PHONE.search(NIK.sub(" ", text)):
        flags.append("phone")
    if ADDRESS.search(text):
        flags.append("address")
    return flags
