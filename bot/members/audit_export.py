"""The audit log as an .xlsx for HR: admin actions and refused attempts on two sheets,
newest first. Names are the actors' current names (an erased member shows only the
pseudonym id); any text that starts like a formula stays text (`add_sheet`)."""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook

from bot.core.deps import Deps
from bot.reports.xlsx import INTEGER, add_sheet
from db.models import AuditLog
from db.queries import audit as queries
from db.queries import members

# Per sheet: five years of a busy instansi's admin work fits; a flood of refusals is
# already collapsed per person and minute (db/queries/audit.py).
MAX_ROWS = 100_000
DETAIL_CHARS = 2000  # an Excel cell holds 32,767; a detail is a few dozen normally
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"


@dataclass(frozen=True)
class AuditFile:
    data: bytes
    actions: int
    refused: int


async def audit_xlsx(deps: Deps, lang: str) -> AuditFile:
    actions = await deps.db.run(queries.entries, allowed=True, limit=MAX_ROWS)
    refused = await deps.db.run(queries.entries, allowed=False, limit=MAX_ROWS)
    ids = [e.actor_user_id for e in actions + refused if e.actor_user_id is not None]
    names = await deps.db.run(members.names_of, telegram_user_ids=ids)
    words = deps.renderer
    header = words.label("audit_export_header", lang).split("|")
    titles = (words.label("audit_sheet_actions", lang), words.label("audit_sheet_refused", lang))
    data = await asyncio.to_thread(_render, actions, refused, names, header, titles)
    return AuditFile(data, len(actions), len(refused))


def _row(entry: AuditLog, names: dict[int, str]) -> list[Any]:
    actor = entry.actor_user_id
    detail = {k: v for k, v in entry.detail.items() if k not in ("actions", "count")}
    return [
        # Excel has no time zones: UTC, as the header says.
        entry.at.replace(tzinfo=None),
        actor,
        names.get(actor) if actor is not None else None,
        ", ".join(entry.detail.get("actions") or [entry.action]),
        entry.audience_size,
        int(entry.detail.get("count", 1)),
        json.dumps(detail, ensure_ascii=False, sort_keys=True)[:DETAIL_CHARS] if detail else None,
    ]


def _render(
    actions: list[AuditLog],
    refused: list[AuditLog],
    names: dict[int, str],
    header: list[str],
    titles: tuple[str, str],
) -> bytes:
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    formats = [DATE_FORMAT, "0", None, None, INTEGER, INTEGER, None]
    widths = [20, 16, 36, 40, 12, 12, 60]
    for title, entries in zip(titles, (actions, refused), strict=True):
        add_sheet(book, title, header, [_row(e, names) for e in entries], formats, widths)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
