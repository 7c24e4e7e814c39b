"""The tables. Telegram ids are 64-bit (BigInteger) everywhere."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy import (
    inspect as inspect_model,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out: SQLite keeps no zone and would hand back naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    # SQLAlchemy's signature: the dialect is not needed to attach or convert a zone.
    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:  # noqa: ARG002
        if value is not None and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:  # noqa: ARG002
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def _ts(**kwargs: Any) -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), **kwargs))


class Role(StrEnum):
    MEMBER = "member"
    ADMIN = "admin"
    SUPERADMIN = "superadmin"


class Unit(SQLModel, table=True):
    """An OPD (no parent) or a unit kerja (parent is its OPD): two levels, one table."""

    __tablename__ = "unit"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(String(24), unique=True, nullable=False))
    name: str = Field(sa_column=Column(String(100), nullable=False))
    parent_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("unit.id", ondelete="RESTRICT"), index=True, nullable=True),
    )
    timezone: str = Field(default="Asia/Jakarta", sa_column=Column(String(40), nullable=False))
    group_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    active: bool = Field(default=True)
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)


class Member(SQLModel, table=True):
    """A registered ASN. Personal fields become NULL when the member deletes their data."""

    __tablename__ = "member"
    __table_args__ = (
        # Unit sizes for the leaderboards count live members per unit from this index alone.
        Index("ix_member_unit_deleted", "unit_id", "deleted_at"),
        # One NIP, one account, whatever the code above does (two presses at once); an
        # erased member's NIP is NULL and frees it.
        Index(
            "uq_member_nip",
            "nip",
            unique=True,
            sqlite_where=sql_text("nip IS NOT NULL"),
            postgresql_where=sql_text("nip IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    full_name: str | None = Field(default=None, sa_column=Column(String(100), nullable=True))
    unit_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("unit.id", ondelete="RESTRICT"), nullable=True),
    )
    nip: str | None = Field(default=None, sa_column=Column(String(18), nullable=True))
    role: str = Field(default=Role.MEMBER, sa_column=Column(String(16), nullable=False))
    language: str = Field(default="id", sa_column=Column(String(5), nullable=False))
    consent_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    reachable: bool = Field(default=True)
    show_name: bool = Field(default=False)
    # Last quiz answer or reflection; "has not answered this week" reads it.
    last_active_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    deleted_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)


class Registration(SQLModel, table=True):
    """Where a user is in the registration (or unit change) flow; survives restarts."""

    __tablename__ = "registration"

    telegram_user_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    step: str = Field(sa_column=Column(String(16), nullable=False))
    purpose: str = Field(default="register", sa_column=Column(String(16), nullable=False))
    language: str = Field(default="id", sa_column=Column(String(5), nullable=False))
    consent_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    full_name: str | None = Field(default=None, sa_column=Column(String(100), nullable=True))
    opd_id: int | None = Field(default=None)
    unit_id: int | None = Field(default=None)
    nip: str | None = Field(default=None, sa_column=Column(String(18), nullable=True))
    search: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    # The message whose buttons are live; buttons on any other message are stale.
    prompt_message_id: int | None = Field(default=None)
    # Why the employee list did not confirm this person (bot/members/identity.py), so HR
    # must approve: unknown, name, taken, none (no NIP) or unit (a move elsewhere).
    verify: str | None = Field(default=None, sa_column=Column(String(8), nullable=True))
    # When the request went to HR (step "pending"); it also tells one request from the next.
    requested_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    updated_at: datetime = _ts(nullable=False)


class Employee(SQLModel, table=True):
    """HR's employee list (`berakhlak pegawai import`): who may register with which NIP,
    under which name and in which unit. Replaced whole by each import."""

    __tablename__ = "employee"

    id: int | None = Field(default=None, primary_key=True)
    nip: str = Field(sa_column=Column(String(18), unique=True, nullable=False))
    full_name: str = Field(sa_column=Column(String(100), nullable=False))
    unit_code: str = Field(sa_column=Column(String(24), nullable=False))
    updated_at: datetime = _ts(nullable=False)


class AuditLog(SQLModel, table=True):
    """Who did what, when, to how many. Never holds a member's personal data in clear."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(nullable=False)
    actor_user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    action: str = Field(sa_column=Column(String(48), nullable=False))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    audience_size: int | None = Field(default=None)
    allowed: bool = Field(default=True)


class QuestionRow(SQLModel, table=True):
    """A quiz item. Retired (active=False), never deleted, so past answers stay true."""

    __tablename__ = "question"

    id: str = Field(sa_column=Column(String(16), primary_key=True))
    value: str = Field(sa_column=Column(String(2), nullable=False, index=True))
    guideline: str = Field(sa_column=Column(String(3), nullable=False))
    difficulty: int
    kind: str = Field(sa_column=Column(String(12), nullable=False))
    scene: str | None = Field(default=None, sa_column=Column(String(1000), nullable=True))
    question: str = Field(sa_column=Column(String(300), nullable=False))
    options: list[str] = Field(sa_column=Column(JSON, nullable=False))
    correct: int
    explanation: str = Field(sa_column=Column(String(200), nullable=False))
    source: str = Field(default="bank", sa_column=Column(String(8), nullable=False))
    active: bool = Field(default=True)
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)
    # A two-step case: the soal sent right after this one is answered. A soal some active
    # soal names here is a follow-up and is never chosen on its own. No foreign key: the
    # content loader checks the link, and a sync writes both rows in one flush.
    follow_up: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))


class PromptRow(SQLModel, table=True):
    """A reflection prompt for the daily value message."""

    __tablename__ = "prompt"

    id: str = Field(sa_column=Column(String(16), primary_key=True))
    value: str = Field(sa_column=Column(String(2), nullable=False, index=True))
    guideline: str = Field(sa_column=Column(String(3), nullable=False))
    text: str = Field(sa_column=Column(String(500), nullable=False))
    active: bool = Field(default=True)
    updated_at: datetime = _ts(nullable=False)


class BroadcastStatus(StrEnum):
    SCHEDULED = "scheduled"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


class Broadcast(SQLModel, table=True):
    """One message for many recipients: an HR announcement, or a scheduled round."""

    __tablename__ = "broadcast"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="broadcast", sa_column=Column(String(16), nullable=False))
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    audience: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # What every recipient gets before their own placeholders are filled in.
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(
        default=BroadcastStatus.RUNNING, sa_column=Column(String(12), nullable=False)
    )
    paid: bool = Field(default=False)
    scheduled_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    total: int = Field(default=0)
    status_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    status_message_id: int | None = Field(default=None)
    created_at: datetime = _ts(nullable=False)
    started_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    finished_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


class Delivery(SQLModel, table=True):
    """One message to one chat: the outbox row the sender works through (see bot/delivery)."""

    __tablename__ = "delivery"
    __table_args__ = (
        Index("ix_delivery_due", "state", "next_attempt_at"),
        Index("ix_delivery_broadcast_state", "broadcast_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(
        sa_column=Column(ForeignKey("broadcast.id", ondelete="CASCADE"), nullable=False)
    )
    member_id: int | None = Field(
        default=None, sa_column=Column(ForeignKey("member.id", ondelete="SET NULL"), nullable=True)
    )
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default=DeliveryState.PENDING, sa_column=Column(String(10), nullable=False))
    attempts: int = Field(default=0)
    next_attempt_at: datetime = _ts(nullable=False)
    message_id: int | None = Field(default=None)
    # True when a crash left the row "sending": Telegram may or may not have it (see bot/delivery).
    unconfirmed: bool = Field(default=False)
    error: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class QuizPoll(SQLModel, table=True):
    """A quiz poll as sent: a `poll_answer` names only the poll, so who and what is kept here."""

    __tablename__ = "quiz_poll"
    # What an answer's foreign key points at (the poll id alone is already unique).
    __table_args__ = (Index("uq_quiz_poll_member", "poll_id", "member_id", unique=True),)

    poll_id: str = Field(sa_column=Column(String(64), primary_key=True))
    member_id: int = Field(
        sa_column=Column(ForeignKey("member.id", ondelete="CASCADE"), index=True, nullable=False)
    )
    question_id: str = Field(
        sa_column=Column(ForeignKey("question.id", ondelete="RESTRICT"), nullable=False)
    )
    practice: bool = Field(default=False)
    # The quiz round (a broadcast of kind "quiz") it belongs to; None for practice.
    round_id: int | None = Field(
        default=None,
        sa_column=Column(
            ForeignKey("broadcast.id", ondelete="SET NULL"), index=True, nullable=True
        ),
    )
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    message_id: int
    sent_at: datetime = _ts(nullable=False)
    # Shown position -> the option's index in the bank (bot/quiz/shuffle.py); None for
    # polls sent before options were shuffled, shown in the bank's order.
    shown_order: list[int] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Two-step cases (bot/quiz/followups.py). On a first step: the follow-up question to send
    # once it is answered (cleared if it cannot be sent). On a follow-up: the first step's
    # poll. A round's total counts a planned follow-up before it is sent, so the member's
    # result waits for it.
    follow_up: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    follows: str | None = Field(
        default=None, sa_column=Column(String(64), nullable=True, index=True)
    )


class QuizAnswer(SQLModel, table=True):
    """One answer per poll: the first vote counts; a retraction is logged, not stored."""

    __tablename__ = "quiz_answer"
    __table_args__ = (
        # One check for both: the poll exists and was sent to this member.
        ForeignKeyConstraint(
            ["poll_id", "member_id"],
            ["quiz_poll.poll_id", "quiz_poll.member_id"],
            name="fk_quiz_answer_poll_member",
            ondelete="CASCADE",
        ),
        Index("ix_quiz_answer_member", "member_id", "answered_at"),
        # The answers still to be added to the scores: few at any time, found at once.
        Index(
            "ix_quiz_answer_unscored",
            "id",
            sqlite_where=sql_text("NOT scored"),
            postgresql_where=sql_text("NOT scored"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    poll_id: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    # The poll's member: the foreign key below holds both to the poll row.
    member_id: int = Field(sa_column=Column(Integer, nullable=False))
    question_id: str = Field(sa_column=Column(String(16), nullable=False))
    value: str = Field(default="", sa_column=Column(String(2), nullable=False))
    option: int
    correct: bool
    seconds: int
    practice: bool = Field(default=False)
    round_id: int | None = Field(default=None)
    points: int = Field(default=0)
    answered_at: datetime = _ts(nullable=False)
    # Recorded first, scored moments later in a batch (bot/scores/scorekeeping.py).
    scored: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )


class ProgrammeSlot(SQLModel, table=True):
    """One line of the programme: what goes out, at what local time, on which weekdays.

    Keys are fixed (`nilai`, `kuis`, `peringkat`) so job ids are deterministic."""

    __tablename__ = "programme_slot"

    key: str = Field(sa_column=Column(String(16), primary_key=True))
    time: str = Field(sa_column=Column(String(5), nullable=False))  # "HH:MM", unit-local
    # ISO weekdays, 1 = Monday; holidays are skipped whatever this says.
    days: list[int] = Field(sa_column=Column(JSON, nullable=False))
    enabled: bool = Field(default=True)
    questions: int = Field(default=3)
    # Minutes a quiz round stays open; None = until the next round.
    window_minutes: int | None = Field(default=None)
    updated_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    updated_at: datetime = _ts(nullable=False)


class Setting(SQLModel, table=True):
    """Small programme-wide switches an admin changes at run time (e.g. paused)."""

    __tablename__ = "setting"

    key: str = Field(sa_column=Column(String(32), primary_key=True))
    value: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _ts(nullable=False)


class ProgrammeRun(SQLModel, table=True):
    """One slot on one local date in one time zone, claimed before anything is sent: the
    unique key is what makes a missed send go out late at most once."""

    __tablename__ = "programme_run"
    __table_args__ = (UniqueConstraint("slot", "timezone", "local_date", name="uq_programme_run"),)

    id: int | None = Field(default=None, primary_key=True)
    slot: str = Field(sa_column=Column(String(16), nullable=False))
    timezone: str = Field(sa_column=Column(String(40), nullable=False))
    local_date: date = Field(sa_column=Column(Date, nullable=False))
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: str = Field(sa_column=Column(String(12), nullable=False))  # sent | skipped
    late_seconds: int = Field(default=0)
    broadcast_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("broadcast.id", ondelete="SET NULL"), nullable=True),
    )
    created_at: datetime = _ts(nullable=False)


class Reflection(SQLModel, table=True):
    """A member's reply to the daily value message."""

    __tablename__ = "reflection"
    __table_args__ = (Index("ix_reflection_member", "member_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(
        sa_column=Column(ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    prompt_id: str = Field(sa_column=Column(String(16), nullable=False))
    value: str = Field(sa_column=Column(String(2), nullable=False))
    broadcast_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("broadcast.id", ondelete="SET NULL"), nullable=True),
    )
    local_date: date = Field(sa_column=Column(Date, nullable=False))
    text: str = Field(sa_column=Column(String(1000), nullable=False))
    points: int = Field(default=0)
    created_at: datetime = _ts(nullable=False)


class QuestionBox(SQLModel, table=True):
    """Per member and question: the Leitner box and when it was last sent."""

    __tablename__ = "question_box"

    member_id: int = Field(
        sa_column=Column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    question_id: str = Field(sa_column=Column(String(16), primary_key=True))
    value: str = Field(sa_column=Column(String(2), nullable=False))
    box: int = Field(default=0)
    due: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    cycle: int = Field(default=0)
    last_sent: date = Field(sa_column=Column(Date, nullable=False))


class MemberDay(SQLModel, table=True):
    """A member's working day that counts for the streak: active (took part) or shielded
    (/cuti). One row per member and day, written on the first activity of the day."""

    __tablename__ = "member_day"

    member_id: int = Field(
        sa_column=Column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    day: date = Field(sa_column=Column(Date, primary_key=True))
    kind: str = Field(default="active", sa_column=Column(String(8), nullable=False))


class Score(SQLModel, table=True):
    """Maintained totals per member and period ("all", "M2026-11", "W2026-11-23"), kept in
    the transaction that records each answer or reflection so leaderboards read at most one
    row per member instead of millions of answers."""

    __tablename__ = "score"
    # Covering: a board sums one period per unit from the index alone, never the table
    # (bench/leaderboard.py: 50,000 members, 5M answers, well under 200 ms).
    __table_args__ = (
        Index(
            "ix_score_board", "period", "unit_id", "points", "answered", "correct", "reflections"
        ),
    )

    member_id: int = Field(
        sa_column=Column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    period: str = Field(sa_column=Column(String(12), primary_key=True))
    unit_id: int | None = Field(default=None)
    points: int = Field(default=0)
    answered: int = Field(default=0)
    correct: int = Field(default=0)
    reflections: int = Field(default=0)
    practice_points: int = Field(default=0)


class UnitValueScore(SQLModel, table=True):
    """Round answers and correct answers per unit, period and value: a team's accuracy per
    value without reading its answers. A member's own accuracy is read from quiz_answer."""

    __tablename__ = "unit_value_score"
    __table_args__ = (Index("ix_unit_value_score_period", "period"),)

    unit_id: int = Field(
        sa_column=Column(ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True)
    )
    period: str = Field(sa_column=Column(String(12), primary_key=True))
    value: str = Field(sa_column=Column(String(2), primary_key=True))
    answered: int = Field(default=0)
    correct: int = Field(default=0)


class Idea(SQLModel, table=True):
    """A member's idea for their unit, another unit or the whole instansi, carried through
    baru -> ditinjau -> diterima -> dikerjakan -> terealisasi (or ditunda, with a reason)."""

    __tablename__ = "idea"
    __table_args__ = (
        Index("ix_idea_target_created", "target_unit_id", "created_at"),
        Index("ix_idea_author_created", "author_id", "created_at"),
        # The Friday post counts the help offered on the ideas written in a unit.
        Index("ix_idea_unit_created", "unit_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # SET NULL: an erased author's idea stays, without them.
    author_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
    )
    # The author's unit when they wrote it; the target is a unit or None (whole instansi).
    unit_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("unit.id", ondelete="SET NULL"), nullable=True),
    )
    target_unit_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("unit.id", ondelete="SET NULL"), nullable=True),
    )
    value: str = Field(sa_column=Column(String(2), nullable=False))
    title: str = Field(sa_column=Column(String(100), nullable=False))
    description: str = Field(sa_column=Column(String(1000), nullable=False))
    # Whitespace and case folded: the same idea twice in a week is refused.
    fingerprint: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    status: str = Field(default="baru", sa_column=Column(String(12), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(String(300), nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class IdeaVote(SQLModel, table=True):
    """One person's support for an idea, or their offer to help ("saya mau bantu")."""

    __tablename__ = "idea_vote"

    idea_id: int = Field(
        sa_column=Column(ForeignKey("idea.id", ondelete="CASCADE"), primary_key=True)
    )
    member_id: int = Field(
        sa_column=Column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    )
    kind: str = Field(sa_column=Column(String(8), primary_key=True))  # support | help
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # For an offer of help, when both NIPs are known: the helper's generation differs from
    # the author's. Never the birth years.
    cross_generation: bool | None = Field(default=None)


class Appreciation(SQLModel, table=True):
    """One colleague thanking another for living a value. `weight` is what it counts for
    after the anti-gaming rules (0 for the same pair again within a week)."""

    __tablename__ = "appreciation"
    __table_args__ = (
        Index("ix_appreciation_giver_created", "giver_id", "created_at"),
        Index("ix_appreciation_receiver_created", "receiver_id", "created_at"),
        # The Friday post: the week's thanks received in a unit.
        Index("ix_appreciation_receiver_unit_created", "receiver_unit_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    giver_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
    )
    receiver_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
    )
    giver_unit_id: int | None = Field(default=None)
    receiver_unit_id: int | None = Field(default=None)
    value: str = Field(sa_column=Column(String(2), nullable=False))
    reason: str = Field(sa_column=Column(String(200), nullable=False))
    weight: float = Field(default=1.0)
    points: int = Field(default=0)
    # Known only when both NIPs are: the generations differ. Never the birth years.
    cross_generation: bool | None = Field(default=None)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Story(SQLModel, table=True):
    """A member's story of service, reviewed, then published to the instansi's public
    channel with the author's consent and theirs for anyone named or pictured."""

    __tablename__ = "story"
    __table_args__ = (Index("ix_story_status_created", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    author_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
    )
    unit_id: int | None = Field(default=None)
    value: str = Field(sa_column=Column(String(2), nullable=False))
    text: str = Field(sa_column=Column(String(1000), nullable=False))
    photo_file_id: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    # diajukan -> disetujui -> terbit, or perbaiki (an edit suggested) or ditolak.
    status: str = Field(default="diajukan", sa_column=Column(String(12), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(String(300), nullable=True))
    # What the review step found that may be a citizen's personal data: nik, phone, address.
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    consent_author: bool = Field(default=False)
    consent_others: bool = Field(default=False)
    broadcast_id: int | None = Field(default=None)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class UnitHead(SQLModel, table=True):
    """The head of a unit (kepala unit), named by an admin: moves the ideas addressed to
    their unit and reviews the stories of its members (an OPD's head: its unit kerja too).
    One head per unit; a person may head more than one."""

    __tablename__ = "unit_head"

    unit_id: int = Field(
        sa_column=Column(ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True)
    )
    member_id: int = Field(
        sa_column=Column(ForeignKey("member.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Instansi(SQLModel, table=True):
    """An instansi served by this deployment besides the default one (README "Many
    instansi"). Kept in the default instansi's database only; its own data lives in a
    schema or file of its own (db/tenancy.py)."""

    __tablename__ = "instansi"

    code: str = Field(sa_column=Column(String(30), primary_key=True))
    name: str = Field(sa_column=Column(String(100), nullable=False))
    data_controller: str = Field(sa_column=Column(String(100), nullable=False))
    # The bot's id (the token's first part) is not secret; the token is kept encrypted.
    bot_id: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    token_cipher: str = Field(sa_column=Column(String(400), nullable=False))
    superadmin_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Settings of its own (time zone default, limits), over the deployment's.
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    disabled: bool = Field(default=False)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Lease(SQLModel, table=True):
    """Who runs what, among the worker processes on one PostgreSQL: `bot:<code>` is held by
    the worker that runs that instansi's bot, `worker:<id>` by a worker while it lives. The
    expiry is the database's clock, so workers need not agree on theirs."""

    __tablename__ = "lease"

    name: str = Field(sa_column=Column(String(80), primary_key=True))
    holder: str | None = Field(default=None, sa_column=Column(String(80), nullable=True))
    expires_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


def table_of(model: type[SQLModel]) -> Table:
    """A model's Core table (SQLModel declares no `__table__` a type checker can see)."""
    return cast(Table, inspect_model(model).local_table)
