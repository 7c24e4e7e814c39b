"""Read-only counts for `berakhlak health`: what is loaded, and what the outbox still owes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.models import Delivery, DeliveryState, PromptRow, QuestionRow

OPEN = (DeliveryState.PENDING, DeliveryState.SENDING)


@dataclass(frozen=True)
class ContentCounts:
    questions: int
    prompts: int


@dataclass(frozen=True)
class Backlog:
    open: int
    """Rows not settled yet: pending (due or waiting for a retry) or being sent."""
    due: int
    """Pending rows whose time has come."""
    oldest_due: datetime | None
    """When the longest-waiting due row became due."""


def content_counts(*, session: Session) -> ContentCounts:
    questions = session.exec(
        select(func.count()).select_from(QuestionRow).where(col(QuestionRow.active))
    ).one()
    prompts = session.exec(
        select(func.count()).select_from(PromptRow).where(col(PromptRow.active))
    ).one()
    return ContentCounts(questions=int(questions), prompts=int(prompts))


def backlog(*, session: Session, now: datetime) -> Backlog:
    # Both queries walk ix_delivery_due (state, next_attempt_at), not the whole table.
    open_rows = session.exec(
        select(func.count()).select_from(Delivery).where(col(Delivery.state).in_(OPEN))
    ).one()
    due, oldest = session.exec(
        select(func.count(), func.min(Delivery.next_attempt_at)).where(
            Delivery.state == DeliveryState.PENDING, Delivery.next_attempt_at <= now
        )
    ).one()
    # min() keeps the column's type, so SQLite's text comes back as an aware datetime too.
    return Backlog(open=int(open_rows), due=int(due), oldest_due=oldest)
