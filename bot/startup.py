"""What runs before the bot takes updates: migrations, the content check, the content sync."""

from __future__ import annotations

import logging

from content.check import check_all
from content.loader import Content
from db.engine import Database
from db.migrate import upgrade
from db.queries.content import SyncResult, sync_bank

log = logging.getLogger(__name__)


class InvalidContent(Exception):
    """The content files break a rule; the message is the same report as `content check`."""


def checked_content() -> Content:
    content, problems = check_all()
    if problems:
        report = "\n".join(str(p) for p in problems)
        raise InvalidContent(f"{len(problems)} problem(s) in content/:\n{report}")
    return content


def prepare_database(database_url: str, content: Content) -> SyncResult:
    """Upgrade the schema and load the question bank and prompts into the database."""
    upgrade(database_url)
    db = Database(database_url, workers=1)
    try:
        result = db.run_sync(sync_bank, questions=content.questions, prompts=content.prompts)
    finally:
        db.close()
    log.info(
        "content synced: %s added, %s updated, %s retired",
        result.added,
        result.updated,
        result.retired,
    )
    return result
