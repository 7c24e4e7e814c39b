"""NIP (Nomor Induk Pegawai): validation and masking. A NIP is personal data (UU PDP)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class NipProblem(StrEnum):
    """Why a NIP was refused; each has its own message in the templates."""

    NOT_DIGITS = "not_digits"
    LENGTH = "length"
    BIRTH_DATE = "birth_date"
    SEX_DIGIT = "sex_digit"
    APPOINTMENT = "appointment"


@dataclass(frozen=True)
class NipCheck:
    nip: str | None
    problem: NipProblem | None = None
    length: int = 0


def normalize(text: str) -> str:
    # People copy NIPs with the customary spaces or dots ("19860926 201505 1 001").
    return re.sub(r"[\s.\-]", "", text)


def check_nip(text: str, *, today: date) -> NipCheck:
    """Validate the shape BERAKHLAK.md describes; PPPK numbers may carry any code in 13-14."""
    value = normalize(text)
    if not value:
        return NipCheck(None, NipProblem.LENGTH, 0)
    if not value.isascii() or not value.isdigit():
        return NipCheck(None, NipProblem.NOT_DIGITS, len(value))
    if len(value) != 18:
        return NipCheck(None, NipProblem.LENGTH, len(value))
    try:
        birth = date(int(value[0:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return NipCheck(None, NipProblem.BIRTH_DATE, 18)
    if birth.year < 1940 or birth > today:
        return NipCheck(None, NipProblem.BIRTH_DATE, 18)
    if value[14] not in "12":
        return NipCheck(None, NipProblem.SEX_DIGIT, 18)
    appointed = int(value[8:12])
    if appointed < birth.year + 17 or appointed > today.year + 1:
        return NipCheck(None, NipProblem.APPOINTMENT, 18)
    return NipCheck(value, None, 18)
