"""All ideas as an .xlsx for HR: status, support, help offered and age, with no author
names (the unit says where an idea came from)."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime

from openpyxl import Workbook

from bot.core.deps import Deps
from bot.reports.xlsx import INTEGER, add_sheet
from db.queries import ideas as queries
from db.queries.ideas import IdeaInfo


async def ideas_xlsx(deps: Deps, lang: str) -> tuple[bytes, int]:
    ideas = await deps.db.run(queries.all_ideas)
    now = deps.clock.now()
    header = deps.renderer.label("idea_export_header", lang).split("|")
    data = await asyncio.to_thread(_render, ideas, header, now)
    return data, len(ideas)


def _render(ideas: list[IdeaInfo], header: list[str], now: datetime) -> bytes:
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    rows = [
        [
            i.id,
            i.title,
            i.value,
            i.unit_name,
            i.target_name,
            i.status,
            i.supports,
            i.helpers,
            (now - i.created_at).days,
            i.reason,
        ]
        for i in ideas
    ]
    formats = [INTEGER, None, None, None, None, None, INTEGER, INTEGER, INTEGER, None]
    add_sheet(book, header[0], header[1:], rows, formats, [8, 50, 7, 36, 36, 14, 10, 10, 10, 50])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
