"""Ideas and the votes on them: what /ide, /ide_daftar and the weekly digest read and write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from db.models import Idea, IdeaVote, Member, Unit


@dataclass(frozen=True)
class IdeaInfo:
    id: int
    author_id: int | None
    author_name: str | None
    unit_id: int | None
    unit_name: str | None
    target_unit_id: int | None
    target_name: str | None  # None: the whole instansi
    value: str
    title: str
    description: str
    status: str
    reason: str | None
    created_at: datetime
    supports: int
    helpers: int


def _infos(session: Session, ideas: list[Idea]) -> list[IdeaInfo]:
    ids = [i.id for i in ideas if i.id is not None]
    counts: dict[tuple[int, str], int] = {}
    if ids:
        for idea_id, kind, n in session.exec(
            select(IdeaVote.idea_id, IdeaVote.kind, func.count())
            .where(col(IdeaVote.idea_id).in_(ids))
            .group_by(col(IdeaVote.idea_id), col(IdeaVote.kind))
        ).all():
            counts[(idea_id, kind)] = int(n)
    unit_ids = {u for i in ideas for u in (i.unit_id, i.target_unit_id) if u is not None}
    units = (
        {u.id: u.name for u in session.exec(select(Unit).where(col(Unit.id).in_(unit_ids))).all()}
        if unit_ids
        else {}
    )
    author_ids = {i.author_id for i in ideas if i.author_id is not None}
    names = (
        {
            m.id: m.full_name
            for m in session.exec(select(Member).where(col(Member.id).in_(author_ids))).all()
        }
        if author_ids
        else {}
    )
    out = []
    for i in ideas:
        assert i.id is not None
        out.append(
            IdeaInfo(
                id=i.id,
                author_id=i.author_id,
                author_name=names.get(i.author_id) if i.author_id else None,
                unit_id=i.unit_id,
                unit_name=units.get(i.unit_id) if i.unit_id else None,
                target_unit_id=i.target_unit_id,
                target_name=units.get(i.target_unit_id) if i.target_unit_id else None,
                value=i.value,
                title=i.title,
                description=i.description,
                status=i.status,
                reason=i.reason,
                created_at=i.created_at,
                supports=counts.get((i.id, "support"), 0),
                helpers=counts.get((i.id, "help"), 0),
            )
        )
    return out


def create_idea(
    *,
    session: Session,
    author_id: int,
    unit_id: int | None,
    target_unit_id: int | None,
    value: str,
    title: str,
    description: str,
    fingerprint: str,
    now: datetime,
) -> IdeaInfo:
    idea = Idea(
        author_id=author_id,
        unit_id=unit_id,
        target_unit_id=target_unit_id,
        value=value,
        title=title,
        description=description,
        fingerprint=fingerprint,
        created_at=now,
        updated_at=now,
    )
    session.add(idea)
    session.flush()
    return _infos(session, [idea])[0]


def get_idea(*, session: Session, idea_id: int) -> IdeaInfo | None:
    idea = session.get(Idea, idea_id)
    return _infos(session, [idea])[0] if idea is not None else None


def same_idea(*, session: Session, fingerprint: str, since: datetime) -> IdeaInfo | None:
    """An idea with the same text written since `since`, by anyone."""
    idea = session.exec(
        select(Idea)
        .where(col(Idea.fingerprint) == fingerprint, col(Idea.created_at) >= since)
        .order_by(col(Idea.id))
        .limit(1)
    ).first()
    return _infos(session, [idea])[0] if idea is not None else None


def count_by_author(*, session: Session, author_id: int, since: datetime) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(Idea)
            .where(col(Idea.author_id) == author_id, col(Idea.created_at) >= since)
        ).one()
    )


def ideas_for(
    *,
    session: Session,
    unit_ids: list[int],
    since: datetime | None = None,
    changed_since: datetime | None = None,
    statuses: list[str] | None = None,
    limit: int = 10,
    offset: int = 0,
) -> list[IdeaInfo]:
    """Ideas addressed to these units or to the whole instansi, or written in them; newest
    first."""
    query = select(Idea).where(
        or_(
            col(Idea.target_unit_id).is_(None),
            col(Idea.target_unit_id).in_(unit_ids),
            col(Idea.unit_id).in_(unit_ids),
        )
    )
    if since is not None:
        query = query.where(col(Idea.created_at) >= since)
    if changed_since is not None:
        query = query.where(col(Idea.updated_at) >= changed_since)
    if statuses is not None:
        query = query.where(col(Idea.status).in_(statuses))
    ideas = session.exec(
        query.order_by(col(Idea.created_at).desc(), col(Idea.id).desc()).offset(offset).limit(limit)
    ).all()
    return _infos(session, list(ideas))


def toggle_vote(
    *,
    session: Session,
    idea_id: int,
    member_id: int,
    kind: str,
    now: datetime,
    cross_generation: bool | None = None,
) -> bool:
    """Add the vote, or withdraw it when it is there; True when it is there now."""
    existing = session.get(IdeaVote, (idea_id, member_id, kind))
    if existing is not None:
        session.delete(existing)
        return False
    vote = IdeaVote(
        idea_id=idea_id,
        member_id=member_id,
        kind=kind,
        created_at=now,
        cross_generation=cross_generation,
    )
    try:
        with session.begin_nested():
            session.add(vote)
    except IntegrityError:
        # A double tap: the first press added it.
        return True
    return True


def voters(*, session: Session, idea_id: int, kind: str) -> list[int]:
    """Member ids who voted this way, oldest first."""
    return list(
        session.exec(
            select(IdeaVote.member_id)
            .where(col(IdeaVote.idea_id) == idea_id, col(IdeaVote.kind) == kind)
            .order_by(col(IdeaVote.created_at))
        ).all()
    )


def set_status(
    *,
    session: Session,
    idea_id: int,
    expected: str,
    status: str,
    reason: str | None,
    now: datetime,
) -> bool:
    """Move the idea on, only from the status the admin saw (two admins pressing at once
    move it once)."""
    idea = session.get(Idea, idea_id)
    if idea is None or idea.status != expected:
        return False
    idea.status = status
    idea.reason = reason
    idea.updated_at = now
    session.add(idea)
    return True


def all_ideas(*, session: Session, limit: int = 100_000) -> list[IdeaInfo]:
    """Every idea, oldest first (for HR's spreadsheet)."""
    ideas = session.exec(select(Idea).order_by(col(Idea.id)).limit(limit)).all()
    return _infos(session, list(ideas))


def help_crossings_since(
    *, session: Session, unit_ids: list[int], since: datetime
) -> tuple[int, int, int]:
    """Offers of help made since then on ideas written in these units: how many, how many
    from a member of another unit, and how many across generations (counts only)."""
    helper = aliased(Member)
    other_unit = col(helper.unit_id).is_not(None) & (col(helper.unit_id) != col(Idea.unit_id))
    row = session.exec(
        select(
            func.count(),
            func.coalesce(func.sum(case((other_unit, 1), else_=0)), 0),
            func.coalesce(
                func.sum(case((col(IdeaVote.cross_generation).is_(True), 1), else_=0)), 0
            ),
        )
        .select_from(Idea)
        .join(IdeaVote, col(IdeaVote.idea_id) == col(Idea.id))
        .join(helper, col(helper.id) == col(IdeaVote.member_id))
        .where(
            col(Idea.unit_id).in_(unit_ids),
            col(IdeaVote.kind) == "help",
            col(IdeaVote.created_at) >= since,
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])
