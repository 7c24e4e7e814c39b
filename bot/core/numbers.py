"""Numbers and clock times as the reader writes them: 1.234,5 and 12.00 in Indonesian,
1,234.5 and 12:00 in English. Templates use them as the `num` and `clock` filters, the
report through `bot.reports.words`: one formatter for every text a person reads."""

from __future__ import annotations

_ID_SEPARATORS = str.maketrans(",.", ".,")


def number(value: float, digits: int = 0, lang: str = "id") -> str:
    """`value` rounded to `digits` decimals, with the language's separators."""
    text = f"{value:,.{digits}f}"
    return text.translate(_ID_SEPARATORS) if lang == "id" else text


def clock(hh_mm: str, lang: str = "id") -> str:
    """A time of day stored as "HH:MM", as the language writes it."""
    return hh_mm.replace(":", ".") if lang == "id" else hh_mm
