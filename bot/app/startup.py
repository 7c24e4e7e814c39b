"""What runs before the bot takes updates, on every start path (`run`, the demo, the CLI,
the tests): migrations, the content check, the content sync and the roles from the
configuration. `build_application` takes only the `Prepared` this returns, so no start
path can skip a step."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field

from bot.core.config import Settings
from content.check import check_all
from content.loader import Content
from db.engine import Database
from db.migrate import exclusive, upgrade
from db.queries.content import SyncResult, sync_bank
from db.queries.members import RoleChange, sync_superadmins

log = logging.getLogger(__name__)


class InvalidContent(Exception):
    """The content files break a rule; the message is the same report as `content check`."""


# Only `prepare` holds this, so a `Prepared` cannot be made by hand around the steps.
_PROOF = object()


@dataclass(frozen=True)
class Prepared:
    """A database made ready for these settings and this content."""

    settings: Settings
    content: Content
    bank: SyncResult
    roles: tuple[RoleChange, ...]
    _proof: object = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._proof is not _PROOF:
            raise TypeError("a Prepared comes from bot.app.startup.prepare() only")


@functools.cache
def checked_content() -> Content:
    """The content files, checked once per process (they do not change while it runs)."""
    content, problems = check_all()
    if problems:
        report = "\n".join(str(p) for p in problems)
        raise InvalidContent(f"{len(problems)} problem(s) in content/:\n{report}")
    return content


def prepare(settings: Settings) -> Prepared:
    """Migrate, check the content (raising `InvalidContent` with file, item and rule), load
    the question bank and prompts, and make the superadmins those SUPERADMIN_IDS lists.

    Blocking: call it before the event loop starts, or through `asyncio.to_thread`.
    Holidays are read from the checked content into the calendar, not stored."""
    content = checked_content()
    # Several workers may start at once on one PostgreSQL: one prepares, the others wait.
    with exclusive(settings.database_url):
        upgrade(settings.database_url)
        db = Database(settings.database_url, workers=1)
        try:
            bank = db.run_sync(sync_bank, questions=content.questions, prompts=content.prompts)
            roles = db.run_sync(sync_superadmins, superadmin_ids=settings.superadmin_ids)
        finally:
            db.close()
    log.info(
        "content synced: %s added, %s updated, %s retired", bank.added, bank.updated, bank.retired
    )
    for change in roles:
        # The Telegram id is not personal data in the sense of a name, but still stays out.
        log.warning("role changed by SUPERADMIN_IDS: %s -> %s", change.old, change.new)
    return Prepared(settings, content, bank, tuple(roles), _PROOF)
