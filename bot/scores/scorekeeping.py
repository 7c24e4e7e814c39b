"""Scoring recorded answers: moments after an answer is recorded (`bot.quiz.answers`),
it is added to its member's and unit's scores, marks the member's day as active (which
may earn the streak bonus) and moves the question's Leitner box.

Answers are scored in the order they were recorded, in batches, each batch in one
transaction together with marking its answers scored: an answer is scored exactly once,
whatever stops the bot in between. Scores, days and boxes are the same as if each answer
had been scored alone the moment it came.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text, update
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from bot.core.calendar import WorkCalendar
from bot.programme.activity import local_day
from bot.quiz.selection import next_box
from bot.scores.scoring import PointRules, streak, streak_bonus
from db import bulk
from db.models import Member, MemberDay, QuestionBox, QuizAnswer, Unit, table_of
from db.queries import scores

# Answers per transaction: large enough that a burst is scored in a few statements, small
# enough that a writer waiting behind it never waits long.
BATCH = 2000

# SQLAlchemy's own select: SQLModel's is typed for four columns at most.
_UNSCORED = (
    select_columns(
        col(QuizAnswer.id),
        col(QuizAnswer.member_id),
        col(QuizAnswer.question_id),
        col(QuizAnswer.value),
        col(QuizAnswer.correct),
        col(QuizAnswer.practice),
        col(QuizAnswer.points),
        col(QuizAnswer.answered_at),
        col(Member.unit_id),
        col(Member.last_active_at),
        col(Unit.timezone),
        col(QuestionBox.box),
    )
    .select_from(QuizAnswer)
    .join(Member, col(Member.id) == QuizAnswer.member_id)
    .outerjoin(Unit, col(Unit.id) == Member.unit_id)
    .outerjoin(
        QuestionBox,
        (col(QuestionBox.member_id) == QuizAnswer.member_id)
        & (col(QuestionBox.question_id) == QuizAnswer.question_id),
    )
    # Word for word the partial index's condition: SQLite uses the index only for that
    # very expression (SQLAlchemy's own rendering, `scored = 0`, scans the whole table).
    .where(text("NOT quiz_answer.scored"))
    .order_by(col(QuizAnswer.id))
)


class AlreadyScored(RuntimeError):
    """A batch's answers were scored by another writer; nothing of the batch is written."""


def score_answers(
    *, session: Session, rules: PointRules, calendar: WorkCalendar, limit: int = BATCH
) -> int:
    """Score up to `limit` answers not scored yet, oldest first. Returns how many."""
    conn = session.connection()
    answers = conn.execute(_UNSCORED.limit(limit)).all()
    if not answers:
        return 0
    batch = _ScoreBatch(conn, answers, calendar)
    for answer in answers:
        batch.score(answer, rules, calendar)
    batch.write(session)
    return len(answers)


def _day(answer: Any) -> date:
    """The answer's day in the member's time zone (their unit's, or Jakarta's)."""
    return local_day(answer.answered_at, answer.timezone or "Asia/Jakarta")


class _ScoreBatch:
    """What a batch reads up front, the state it changes as each answer is scored in turn,
    and the rows it writes at the end."""

    def __init__(self, conn: Connection, answers: Sequence[Any], calendar: WorkCalendar) -> None:
        self.boxes = {(a.member_id, a.question_id): a.box for a in answers if a.box is not None}
        self.days = self._read_days(
            conn,
            {(a.member_id, _day(a)) for a in answers if not a.practice},
            calendar,
        )
        self.new_days: dict[tuple[int, date], None] = {}
        self.activated_days: dict[tuple[int, date], None] = {}
        self.changes: list[scores.ScoreChange] = []
        self.moved_boxes: dict[tuple[int, str], tuple[int, date]] = {}
        self.last_active: dict[int, datetime] = {}
        self.ids: list[int] = []

    @staticmethod
    def _read_days(
        conn: Connection, pairs: set[tuple[int, date]], calendar: WorkCalendar
    ) -> dict[int, dict[date, str]]:
        """Member days: the answered days, and the streak window of members whose day may be
        new (only those can earn the bonus, which needs their last 400 days)."""
        days: dict[int, dict[date, str]] = {}
        if not pairs:
            return days
        for member_id, day, kind in conn.execute(
            select(MemberDay.member_id, col(MemberDay.day), MemberDay.kind).where(
                col(MemberDay.member_id).in_({m for m, _ in pairs}),
                col(MemberDay.day).in_({d for _, d in pairs}),
            )
        ):
            days.setdefault(member_id, {})[day] = kind
        streaking = {
            m for m, d in pairs if days.get(m, {}).get(d) != "active" and calendar.is_working_day(d)
        }
        if streaking:
            since = min(d for _, d in pairs) - timedelta(days=400)
            for member_id, day, kind in conn.execute(
                select(MemberDay.member_id, col(MemberDay.day), MemberDay.kind).where(
                    col(MemberDay.member_id).in_(streaking), col(MemberDay.day) >= since
                )
            ):
                days.setdefault(member_id, {})[day] = kind
        return days

    def score(self, answer: Any, rules: PointRules, calendar: WorkCalendar) -> None:
        self.ids.append(answer.id)
        member_id: int = answer.member_id
        day = _day(answer)
        if answer.practice:
            change = scores.ScoreChange(
                member_id=member_id, unit_id=answer.unit_id, day=day, practice_points=answer.points
            )
        else:
            bonus = self._take_part(member_id, day, rules, calendar)
            change = scores.ScoreChange(
                member_id=member_id,
                unit_id=answer.unit_id,
                day=day,
                points=answer.points + bonus,
                answered=1,
                correct=int(answer.correct),
                value=answer.value,
            )
        self.changes.append(change)
        key = (member_id, answer.question_id)
        if key in self.boxes:
            moved = next_box(self.boxes[key], answer.correct, day)
            self.boxes[key] = moved[0]
            self.moved_boxes[key] = moved
        # Never back in time: a reflection may have come after this answer.
        last = self.last_active.get(member_id, answer.last_active_at)
        if last is None or answer.answered_at > last:
            self.last_active[member_id] = answer.answered_at

    def _take_part(
        self, member_id: int, day: date, rules: PointRules, calendar: WorkCalendar
    ) -> int:
        """Mark the day as active; on the first activity of a working day, the streak bonus
        (as `bot.programme.activity` does for a reflection, on the days read up front)."""
        days = self.days.setdefault(member_id, {})
        kind = days.get(day)
        if kind == "active":
            return 0
        if kind is None:
            self.new_days[(member_id, day)] = None
        else:
            self.activated_days[(member_id, day)] = None  # a shielded day now counts as active
        days[day] = "active"
        if not calendar.is_working_day(day):
            return 0
        since = day - timedelta(days=400)
        active = {d for d, k in days.items() if d >= since and k == "active"}
        shields = {d for d, k in days.items() if d >= since and k != "active"}
        return streak_bonus(rules, streak(active, shields, calendar, day))

    def write(self, session: Session) -> None:
        """The batch's rows: one statement per table (see `bulk.bulk_insert`), after
        claiming its answers. Should another writer have scored one of them meanwhile
        (a second bot process), the claim fails and the whole batch is rolled back."""
        claimed = session.connection().execute(
            update(QuizAnswer)
            .where(col(QuizAnswer.id).in_(self.ids), ~col(QuizAnswer.scored))
            .values(scored=True)
        )
        if claimed.rowcount != len(self.ids):
            raise AlreadyScored(f"{len(self.ids) - claimed.rowcount} answers were scored meanwhile")
        bulk.bulk_insert(
            session,
            table_of(MemberDay),
            [{"member_id": m, "day": d, "kind": "active"} for m, d in self.new_days],
        )
        bulk.bulk_update(
            session,
            table_of(MemberDay),
            ("member_id", "day"),
            [{"member_id": m, "day": d, "kind": "active"} for m, d in self.activated_days],
        )
        scores.add_scores(session=session, changes=self.changes)
        bulk.bulk_update(
            session,
            table_of(QuestionBox),
            ("member_id", "question_id"),
            [
                {"member_id": m, "question_id": q, "box": box, "due": due}
                for (m, q), (box, due) in self.moved_boxes.items()
            ],
        )
        bulk.bulk_update(
            session,
            table_of(Member),
            ("id",),
            [{"id": m, "last_active_at": at} for m, at in self.last_active.items()],
        )
