"""What HR reports read: the maintained scores summed over a period's months and weeks,
plus the few figures only the answers hold (the items most often missed). Never an
individual's row: every function here returns counts per unit or per question."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import case, func
from sqlalchemy import select as select_columns
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from db.models import (
    Appreciation,
    Idea,
    IdeaVote,
    Member,
    MemberDay,
    QuestionRow,
    QuizAnswer,
    Score,
    Story,
    Unit,
    UnitValueScore,
)


@dataclass(frozen=True)
class UnitRow:
    id: int
    code: str
    name: str
    # The unit's OPD; an OPD is its own OPD.
    opd_id: int
    members: int


@dataclass
class UnitFigures:
    """One unit's totals over some periods (months or weeks)."""

    participants: int = 0
    answered: int = 0
    correct: int = 0
    reflections: int = 0
    values: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class MissedItem:
    question_id: str
    value: str
    question: str
    answered: int
    correct: int


def units(*, session: Session) -> list[UnitRow]:
    """Every unit with its current number of registered members (0 for an empty unit)."""
    sizes = dict(
        session.exec(
            select(Member.unit_id, func.count())
            .where(col(Member.deleted_at).is_(None), col(Member.unit_id).is_not(None))
            .group_by(col(Member.unit_id))
        ).all()
    )
    rows = []
    for unit in session.exec(select(Unit).where(col(Unit.active)).order_by(col(Unit.id))).all():
        assert unit.id is not None
        rows.append(
            UnitRow(
                id=unit.id,
                code=unit.code,
                name=unit.name,
                opd_id=unit.parent_id or unit.id,
                members=int(sizes.get(unit.id, 0)),
            )
        )
    return rows


def unit_figures(*, session: Session, periods: list[str]) -> dict[int, UnitFigures]:
    """Per unit, over the given score periods (e.g. three month keys for a quarter): members
    who took part at least once, round answers, correct ones, reflections, and per value."""
    out: dict[int, UnitFigures] = defaultdict(UnitFigures)
    took_part = (col(Score.answered) + col(Score.reflections)) > 0
    for unit_id, participants, answered, correct, reflections in session.execute(
        select_columns(
            col(Score.unit_id),
            func.count(func.distinct(case((took_part, col(Score.member_id))))),
            func.sum(col(Score.answered)),
            func.sum(col(Score.correct)),
            func.sum(col(Score.reflections)),
        )
        .where(col(Score.period).in_(periods), col(Score.unit_id).is_not(None))
        .group_by(col(Score.unit_id))
    ).all():
        figures = out[int(unit_id)]
        figures.participants = int(participants or 0)
        figures.answered = int(answered or 0)
        figures.correct = int(correct or 0)
        figures.reflections = int(reflections or 0)
    for unit_id, value, answered, correct in session.execute(
        select_columns(
            col(UnitValueScore.unit_id),
            col(UnitValueScore.value),
            func.sum(col(UnitValueScore.answered)),
            func.sum(col(UnitValueScore.correct)),
        )
        .where(col(UnitValueScore.period).in_(periods))
        .group_by(col(UnitValueScore.unit_id), col(UnitValueScore.value))
    ).all():
        out[int(unit_id)].values[str(value)] = (int(answered or 0), int(correct or 0))
    # Answers follow the unit the member was in on the day (the per-value rows are kept that
    # way); a member's period row only knows their last unit.
    for figures in out.values():
        figures.answered = sum(a for a, _ in figures.values.values())
        figures.correct = sum(c for _, c in figures.values.values())
    return dict(out)


def weekly_participants(*, session: Session, weeks: list[str]) -> dict[int, dict[str, int]]:
    """unit id -> week key -> members of that unit who took part that week."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for unit_id, week, count in session.execute(
        select_columns(col(Score.unit_id), col(Score.period), func.count())
        .where(
            col(Score.period).in_(weeks),
            col(Score.unit_id).is_not(None),
            (col(Score.answered) + col(Score.reflections)) > 0,
        )
        .group_by(col(Score.unit_id), col(Score.period))
    ).all():
        out[int(unit_id)][str(week)] = int(count)
    return dict(out)


def last_activity(*, session: Session) -> dict[int, datetime | None]:
    """unit id -> the latest activity of any of its current members."""
    return {
        int(unit_id): last
        for unit_id, last in session.exec(
            select(Member.unit_id, func.max(Member.last_active_at))
            .where(col(Member.deleted_at).is_(None), col(Member.unit_id).is_not(None))
            .group_by(col(Member.unit_id))
        ).all()
        if unit_id is not None
    }


def active_days(*, session: Session, start: date, end: date, unit_ids: list[int]) -> int:
    """Working days members of these units took part on, summed (streak days)."""
    return int(
        session.exec(
            select(func.count())
            .select_from(MemberDay)
            .join(Member, col(Member.id) == col(MemberDay.member_id))
            .where(
                col(MemberDay.kind) == "active",
                col(MemberDay.day) >= start,
                col(MemberDay.day) < end,
                col(Member.unit_id).in_(unit_ids),
            )
        ).one()
    )


def most_missed(
    *,
    session: Session,
    start: datetime,
    end: datetime,
    unit_ids: list[int],
    minimum: int,
    limit: int = 5,
) -> list[MissedItem]:
    """The round questions answered at least `minimum` times in the period by members of
    these units, lowest share correct first."""
    answered = func.count()
    correct = func.sum(case((col(QuizAnswer.correct), 1), else_=0))
    rows = session.execute(
        select_columns(col(QuizAnswer.question_id), answered, correct)
        .join(Member, col(Member.id) == col(QuizAnswer.member_id))
        .where(
            col(QuizAnswer.practice).is_(False),
            col(QuizAnswer.answered_at) >= start,
            col(QuizAnswer.answered_at) < end,
            col(Member.unit_id).in_(unit_ids),
        )
        .group_by(col(QuizAnswer.question_id))
        .having(answered >= minimum)
    ).all()
    ranked = sorted(rows, key=lambda r: (int(r[2] or 0) / int(r[1]), r[0]))[:limit]
    texts = {
        q.id: q
        for q in session.exec(
            select(QuestionRow).where(col(QuestionRow.id).in_([r[0] for r in ranked]))
        ).all()
    }
    out = []
    for question_id, count, right in ranked:
        question = texts.get(question_id)
        out.append(
            MissedItem(
                question_id=question_id,
                value=question.value if question else "",
                question=question.question if question else "",
                answered=int(count),
                correct=int(right or 0),
            )
        )
    return out


@dataclass
class Community:
    """Per unit in a period: ideas given and realised, service stories told and published,
    thanks received and offers of help on its ideas (and how many of each crossed units, or
    generations)."""

    ideas: int = 0
    realised: int = 0
    stories: int = 0
    published: int = 0
    thanks: int = 0
    thanks_cross_unit: int = 0
    thanks_cross_generation: int = 0
    # Offers of help on the unit's ideas, and how many came from another unit.
    help: int = 0
    help_cross_unit: int = 0
    help_cross_generation: int = 0


def community(
    *, session: Session, start: datetime, end: datetime
) -> tuple[dict[int, Community], dict[str, int]]:
    """unit id -> its counts, and the stories told per value."""
    out: dict[int, Community] = defaultdict(Community)
    for unit_id, n in session.exec(
        select(Idea.unit_id, func.count())
        .where(col(Idea.created_at) >= start, col(Idea.created_at) < end)
        .group_by(col(Idea.unit_id))
    ).all():
        if unit_id is not None:
            out[unit_id].ideas = int(n)
    for unit_id, n in session.exec(
        select(Idea.unit_id, func.count())
        .where(
            col(Idea.status) == "terealisasi",
            col(Idea.updated_at) >= start,
            col(Idea.updated_at) < end,
        )
        .group_by(col(Idea.unit_id))
    ).all():
        if unit_id is not None:
            out[unit_id].realised = int(n)
    by_value: dict[str, int] = defaultdict(int)
    for unit_id, value, status in session.exec(
        select(Story.unit_id, Story.value, Story.status).where(
            col(Story.created_at) >= start, col(Story.created_at) < end
        )
    ).all():
        by_value[value] += 1
        if unit_id is not None:
            out[unit_id].stories += 1
            out[unit_id].published += status == "terbit"
    for unit_id, giver_unit, crossed in session.exec(
        select(
            Appreciation.receiver_unit_id,
            Appreciation.giver_unit_id,
            Appreciation.cross_generation,
        ).where(col(Appreciation.created_at) >= start, col(Appreciation.created_at) < end)
    ).all():
        if unit_id is None:
            continue
        row = out[unit_id]
        row.thanks += 1
        row.thanks_cross_unit += giver_unit is not None and giver_unit != unit_id
        row.thanks_cross_generation += bool(crossed)
    helper = aliased(Member)
    for idea_unit, helper_unit, crossed in session.exec(
        select(Idea.unit_id, helper.unit_id, IdeaVote.cross_generation)
        .join(IdeaVote, col(IdeaVote.idea_id) == col(Idea.id))
        .join(helper, col(helper.id) == col(IdeaVote.member_id))
        .where(
            col(IdeaVote.kind) == "help",
            col(IdeaVote.created_at) >= start,
            col(IdeaVote.created_at) < end,
        )
    ).all():
        if idea_unit is None:
            continue
        out[idea_unit].help += 1
        out[idea_unit].help_cross_unit += helper_unit is not None and helper_unit != idea_unit
        out[idea_unit].help_cross_generation += bool(crossed)
    return dict(out), dict(by_value)
