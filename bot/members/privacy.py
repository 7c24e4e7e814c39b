"""UU 27/2022 for a person: erase everything (/hapus_data), their own data as a file
(/data_saya), and the retention periods the daily job enforces."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from bot.core.config import Settings
from db.engine import Database
from db.queries import privacy as queries
from db.queries.privacy import Erased as Erased
from db.queries.privacy import Removed as Removed

log = logging.getLogger(__name__)


async def erase(db: Database, *, telegram_user_id: int) -> Erased:
    """Erase the person everywhere, then leave no copy in the database's files."""
    erased = await db.run(queries.erase_person, telegram_user_id=telegram_user_id)
    await db.run(queries.scrub_files)
    return erased


async def export(db: Database, *, telegram_user_id: int, now: datetime) -> bytes | None:
    """The person's data as UTF-8 JSON, or None when nothing is stored about them."""
    data = await db.run(queries.export_person, telegram_user_id=telegram_user_id)
    if data is None:
        return None
    document = {"diekspor_pada": now.isoformat(), **data}
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


@dataclass(frozen=True)
class Policy:
    """What the consent text tells a person: who holds their data, and for how long."""

    instansi: str
    controller: str
    answers_years: str  # "2", "1,5": years as a person reads them
    audit_years: str
    delivery_days: int
    draft_days: int


def policy(settings: Settings) -> Policy:
    return Policy(
        instansi=settings.instansi_name,
        controller=settings.data_controller,
        answers_years=_years(settings.retention_answers_days),
        audit_years=_years(settings.retention_audit_days),
        delivery_days=settings.retention_delivery_days,
        draft_days=settings.draft_expiry_days,
    )


def _years(days: int) -> str:
    return f"{days / 365:.1f}".removesuffix(".0").replace(".", ",")


async def enforce_retention(db: Database, settings: Settings, *, now: datetime) -> Removed:
    """Remove what is older than its retention period; `now` from the injected clock."""
    limits = queries.retention_limits(
        now,
        answers_days=settings.retention_answers_days,
        audit_days=settings.retention_audit_days,
        delivery_days=settings.retention_delivery_days,
        draft_days=settings.draft_expiry_days,
    )
    removed = await db.run(queries.enforce_retention, limits=limits)
    if removed.any:
        log.info("retention: %s", vars(removed))
        await db.run(queries.scrub_files)
    return removed
