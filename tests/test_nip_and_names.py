from datetime import date

import pytest

from bot.core.render import mask_nip as mask
from bot.members.names import NameProblem, check_name, first_name
from bot.members.nip import NipProblem, check_nip

TODAY = date(2026, 11, 29)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("19860926 201505 1 001", "198609262015051001"),
        ("198609262015051001", "198609262015051001"),
        ("19860926.201505.2.001", "198609262015052001"),
        # PPPK: digits 13-14 are a code, not a month.
        ("199001012021992001", "199001012021992001"),
    ],
)
def test_valid_nips_are_normalised(text: str, expected: str) -> None:
    assert check_nip(text, today=TODAY).nip == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("1986092620150510", NipProblem.LENGTH),
        ("19860926201505100100", NipProblem.LENGTH),
        ("19860926abc5051001", NipProblem.NOT_DIGITS),
        ("１９８６０９２６２０１５０５１００１", NipProblem.NOT_DIGITS),  # full-width digits
        ("198613262015051001", NipProblem.BIRTH_DATE),
        ("198602302015051001", NipProblem.BIRTH_DATE),
        ("203001012015051001", NipProblem.BIRTH_DATE),
        ("198609262015053001", NipProblem.SEX_DIGIT),
        ("198609261999051001", NipProblem.APPOINTMENT),
        ("", NipProblem.LENGTH),
    ],
)
def test_invalid_nips_say_why(text: str, problem: NipProblem) -> None:
    result = check_nip(text, today=TODAY)
    assert result.nip is None
    assert result.problem == problem


def test_mask_hides_birth_date() -> None:
    assert mask("198609262015051001") == "1986**********1001"
    assert "0926" not in mask("198609262015051001")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  budi   santoso ", "budi santoso"),
        ("Dr. Siti Nur'aini, S.Kom.", "Dr. Siti Nur'aini, S.Kom."),
        ("Hj. Ayu-Lestari", "Hj. Ayu-Lestari"),
        ("Ñoño Müller", "Ñoño Müller"),
    ],
)
def test_names_accepted(text: str, expected: str) -> None:
    assert check_name(text).name == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", NameProblem.EMPTY),
        ("   ", NameProblem.EMPTY),
        ("x" * 5000, NameProblem.TOO_LONG),
        ("Budi 123", NameProblem.DIGITS),
        ("😀😀😀", NameProblem.NO_LETTERS),
        ("Budi 😀", NameProblem.SYMBOLS),
        ("<b>Budi</b>", NameProblem.SYMBOLS),
        ("Bu", NameProblem.TOO_SHORT),
    ],
)
def test_names_refused_with_reason(text: str, problem: NameProblem) -> None:
    result = check_name(text)
    assert result.name is None
    assert result.problem == problem


def test_first_name_skips_titles() -> None:
    assert first_name("Dr. Siti Rahayu, S.Kom.") == "Siti"
    assert first_name("Hj. Ayu") == "Ayu"
