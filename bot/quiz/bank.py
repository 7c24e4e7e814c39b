"""HR's question bank in the database: what is active, the ids in use, and imports."""

from __future__ import annotations

from collections.abc import Sequence

from content.loader import Question
from db.engine import Database
from db.queries import content as queries

# Handlers use this type from here, never from db.
from db.queries.content import SyncResult as SyncResult


async def active_questions(db: Database) -> list[Question]:
    """Every active question, by id."""
    return await db.run(queries.active_questions)


async def ids_in_use(db: Database) -> dict[str, str]:
    """Every question id in use, with its source ("bank" or "hr")."""
    return await db.run(queries.bank_ids)


async def links(db: Database) -> dict[str, str | None]:
    """Every active question's follow-up (two-step cases), for checking an import's links."""
    return await db.run(queries.question_links)


async def next_hr_numbers(db: Database) -> dict[str, int]:
    """The highest `<VALUE>-H<n>` number per value, for numbering new HR items."""
    return await db.run(queries.next_hr_numbers)


async def import_questions(db: Database, *, questions: Sequence[Question]) -> SyncResult:
    """Add or update HR's questions by id, all in one transaction."""
    return await db.run(queries.import_questions, questions=questions)
