"""Service stories: what /cerita and its review write and read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.models import Member, Story, Unit


@dataclass(frozen=True)
class StoryInfo:
    id: int
    author_id: int | None
    author_name: str | None
    unit_id: int | None
    unit_name: str | None
    value: str
    text: str
    photo_file_id: str | None
    status: str
    reason: str | None
    flags: list[str]
    consent_author: bool
    consent_others: bool
    broadcast_id: int | None
    created_at: datetime


def _info(session: Session, story: Story) -> StoryInfo:
    assert story.id is not None
    author = session.get(Member, story.author_id) if story.author_id else None
    unit = session.get(Unit, story.unit_id) if story.unit_id else None
    return StoryInfo(
        id=story.id,
        author_id=story.author_id,
        author_name=author.full_name if author else None,
        unit_id=story.unit_id,
        unit_name=unit.name if unit else None,
        value=story.value,
        text=story.text,
        photo_file_id=story.photo_file_id,
        status=story.status,
        reason=story.reason,
        flags=list(story.flags),
        consent_author=story.consent_author,
        consent_others=story.consent_others,
        broadcast_id=story.broadcast_id,
        created_at=story.created_at,
    )


def create_story(*, session: Session, story: Story) -> StoryInfo:
    session.add(story)
    session.flush()
    return _info(session, story)


def get_story(*, session: Session, story_id: int) -> StoryInfo | None:
    story = session.get(Story, story_id)
    return _info(session, story) if story is not None else None


def next_submitted(
    *, session: Session, unit_ids: list[int] | None = None
) -> tuple[StoryInfo | None, int]:
    """The oldest story waiting for review, and how many wait; only from these units when
    given."""
    query = select(Story).where(col(Story.status) == "diajukan")
    if unit_ids is not None:
        query = query.where(col(Story.unit_id).in_(unit_ids))
    first = session.exec(query.order_by(col(Story.id)).limit(1)).first()
    waiting = session.exec(select(func.count()).select_from(query.subquery())).one()
    return (_info(session, first) if first is not None else None), int(waiting)


def set_status(
    *,
    session: Session,
    story_id: int,
    expected: str,
    status: str,
    reason: str | None,
    now: datetime,
    broadcast_id: int | None = None,
) -> bool:
    """Move the story on only from the status the reviewer saw."""
    story = session.get(Story, story_id)
    if story is None or story.status != expected:
        return False
    story.status = status
    story.reason = reason
    story.updated_at = now
    if broadcast_id is not None:
        story.broadcast_id = broadcast_id
    session.add(story)
    return True


def published_since(*, session: Session, unit_ids: list[int], since: datetime) -> list[StoryInfo]:
    stories = session.exec(
        select(Story)
        .where(
            col(Story.status) == "terbit",
            col(Story.unit_id).in_(unit_ids),
            col(Story.updated_at) >= since,
        )
        .order_by(col(Story.id))
        .limit(10)
    ).all()
    return [_info(session, s) for s in stories]
