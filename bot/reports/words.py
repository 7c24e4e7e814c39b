"""The report's words and numbers in the reader's language: labels from content/templates,
Indonesian number formats (72,5 %)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.core import numbers
from bot.reports.figures import SILENT_DAYS, SILENT_SHARE, Period, SilentUnit

Label = Callable[..., str]


@dataclass(frozen=True)
class Words:
    label: Label  # key, **context -> text
    decimal: str  # "," in Indonesian, "." in English

    def __call__(self, key: str, **context: Any) -> str:
        return self.label(key, **context)

    def paragraph(self, key: str, **context: Any) -> str:
        """A text longer than a label may be (`key_1`, `key_2`, ...), joined."""
        parts: list[str] = []
        while True:
            try:
                parts.append(self(f"{key}_{len(parts) + 1}", **context))
            except KeyError:
                return " ".join(parts)

    @property
    def lang(self) -> str:
        return "id" if self.decimal == "," else "en"

    def percent(self, share: float | None) -> str:
        if share is None:
            return "–"
        return numbers.number(100 * share, 1, self.lang) + " %"

    def change(self, now: float | None, before: float | None) -> str:
        if now is None or before is None:
            return "–"
        points = 100 * (now - before)
        text = ("+" if points >= 0 else "") + numbers.number(points, 1, self.lang)
        return f"{text} poin" if self.decimal == "," else f"{text} pts"

    def number(self, n: int) -> str:
        return numbers.number(n, 0, self.lang)

    def period(self, period: Period) -> str:
        year = period.start.year
        if period.kind == "month":
            months = self("report_months").split(",")
            return f"{months[period.start.month - 1]} {year}"
        if period.kind == "quarter":
            q = ("I", "II", "III", "IV")[(period.start.month - 1) // 3]
            return self("report_quarter", q=q, year=year)
        return self("report_year", year=year)

    def silent_reason(self, unit: SilentUnit) -> str:
        if unit.reason == "quiet":
            return self("report_silent_quiet", days=SILENT_DAYS)
        return self("report_silent_low", share=int(SILENT_SHARE * 100))
