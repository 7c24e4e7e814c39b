"""What the leaderboards read: per-unit totals for one period from the maintained scores
(one row per member at most), never the answers themselves."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from db.models import Member, MemberDay, QuizAnswer, Score, Unit, UnitValueScore


@dataclass(frozen=True)
class UnitStats:
    """One unit's totals for a period: what the fair ranking (bot.boards.ranking) needs."""

    unit_id: int
    name: str
    # The parent OPD; for an OPD-level unit opd_id == unit_id.
    opd_id: int
    opd_name: str
    active_members: int
    participants: int
    # Round answers + reflections + streak bonuses; practice excluded.
    points: int
    answered: int
    correct: int
    # value code -> (answered, correct)
    values: dict[str, tuple[int, int]]


def unit_stats(*, session: Session, period: str) -> list[UnitStats]:
    units = {u.id: u for u in session.exec(select(Unit)).all()}
    sizes = {
        # The query leaves out members without a unit; the test tells the type checker so.
        unit_id: size
        for unit_id, size in session.exec(
            select(Member.unit_id, func.count())
            .where(col(Member.deleted_at).is_(None), col(Member.unit_id).is_not(None))
            .group_by(col(Member.unit_id))
        ).all()
        if unit_id is not None
    }
    totals = {
        row[0]: row[1:]
        # Five columns: SQLAlchemy's own select is typed that far, SQLModel's only to four.
        for row in session.execute(
            select_columns(
                col(Score.unit_id),
                func.sum(case(((col(Score.answered) + Score.reflections) > 0, 1), else_=0)),
                func.sum(Score.points),
                func.sum(Score.answered),
                func.sum(Score.correct),
            )
            .where(col(Score.period) == period)
            .group_by(col(Score.unit_id))
        ).all()
    }
    values: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for unit_id, value, answered, correct in session.exec(
        select(
            UnitValueScore.unit_id,
            UnitValueScore.value,
            UnitValueScore.answered,
            UnitValueScore.correct,
        ).where(UnitValueScore.period == period)
    ).all():
        values[unit_id][value] = (answered, correct)
    stats = []
    for unit_id, size in sizes.items():
        unit = units.get(unit_id)
        if unit is None or not size:
            continue
        opd = units.get(unit.parent_id) if unit.parent_id else unit
        participants, points, answered, correct = totals.get(unit_id, (0, 0, 0, 0))
        stats.append(
            UnitStats(
                unit_id=unit_id,
                name=unit.name,
                opd_id=opd.id if opd and opd.id else unit_id,
                opd_name=opd.name if opd else unit.name,
                active_members=size,
                participants=min(int(participants or 0), size),
                points=int(points or 0),
                answered=int(answered or 0),
                correct=int(correct or 0),
                values=values.get(unit_id, {}),
            )
        )
    return stats


@dataclass(frozen=True)
class MemberStanding:
    points_week: int
    points_month: int
    points_all: int
    practice_points: int
    rank_in_unit: int | None
    unit_size: int
    values: dict[str, tuple[int, int]]


def member_standing(
    *, session: Session, member_id: int, unit_id: int | None, week: str, month: str
) -> MemberStanding:
    rows = {
        s.period: s
        for s in session.exec(
            select(Score).where(
                Score.member_id == member_id, col(Score.period).in_([week, month, "all"])
            )
        ).all()
    }

    def points(period: str) -> int:
        return rows[period].points if period in rows else 0

    rank = None
    size = 0
    if unit_id is not None:
        size = session.exec(
            select(func.count()).where(Member.unit_id == unit_id, col(Member.deleted_at).is_(None))
        ).one()
        mine = points(month)
        ahead = session.exec(
            select(func.count()).where(
                Score.period == month, Score.unit_id == unit_id, Score.points > mine
            )
        ).one()
        rank = int(ahead) + 1
    values: dict[str, tuple[int, int]] = {}
    for value, answered, correct in session.exec(
        select(
            QuizAnswer.value,
            func.count(),
            func.sum(case((col(QuizAnswer.correct), 1), else_=0)),
        )
        .where(QuizAnswer.member_id == member_id, col(QuizAnswer.practice).is_(False))
        .group_by(QuizAnswer.value)
    ).all():
        values[value] = (int(answered), int(correct or 0))
    return MemberStanding(
        points_week=points(week),
        points_month=points(month),
        points_all=points("all"),
        practice_points=rows["all"].practice_points if "all" in rows else 0,
        rank_in_unit=rank,
        unit_size=size,
        values=values,
    )


def top_named(*, session: Session, unit_id: int, period: str, limit: int = 3) -> list[str]:
    """First names of the unit's top members in the period, only those who opted in."""
    rows = session.exec(
        select(Member.full_name)
        .join(Score, col(Score.member_id) == Member.id)
        .where(
            Score.period == period,
            Member.unit_id == unit_id,
            Member.show_name,
            col(Member.deleted_at).is_(None),
            Score.points > 0,
        )
        .order_by(col(Score.points).desc(), col(Member.id))
        .limit(limit)
    ).all()
    return [(name or "").split()[0] for name in rows if name]


def linked_groups(*, session: Session, timezone: str | None = None) -> list[tuple[int, int]]:
    """(unit id, group chat id) of every unit with a linked group, optionally in one zone."""
    query = select(Unit.id, Unit.group_chat_id).where(col(Unit.group_chat_id).is_not(None))
    if timezone is not None:
        query = query.where(Unit.timezone == timezone)
    return [(u, g) for u, g in session.exec(query).all() if u is not None and g is not None]


def linked_unit(*, session: Session, chat_id: int) -> int | None:
    """The unit whose board this group shows, or None."""
    return session.exec(select(Unit.id).where(Unit.group_chat_id == chat_id)).first()


def link_group(*, session: Session, unit_id: int, chat_id: int) -> str:
    """Make the group show this unit's board (and no other's); the unit's name."""
    for other in session.exec(select(Unit).where(Unit.group_chat_id == chat_id)).all():
        other.group_chat_id = None  # one group shows one unit's board
        session.add(other)
    unit = session.get(Unit, unit_id)
    assert unit is not None
    unit.group_chat_id = chat_id
    session.add(unit)
    return unit.name


def shields_used(*, session: Session, member_id: int, month_start: date, month_end: date) -> int:
    return session.exec(
        select(func.count()).where(
            MemberDay.member_id == member_id,
            MemberDay.kind == "shield",
            col(MemberDay.day) >= month_start,
            col(MemberDay.day) <= month_end,
        )
    ).one()
