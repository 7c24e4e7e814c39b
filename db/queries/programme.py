"""The programme: its slots, the pause switch, and the runs that make every send happen once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import NotRequired, TypedDict

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.models import Member, ProgrammeRun, ProgrammeSlot, Setting, Unit, utcnow

DAILY, QUIZ, LEADERBOARD = "nilai", "kuis", "peringkat"
# For admins, not members: the monthly report (on the month's first day the slot occurs)
# and the Monday alert on units that went quiet. They run once, in the instansi's zone.
REPORT, SILENT = "laporan", "sepi"
ADMIN_SLOTS = (REPORT, SILENT)
SLOT_ORDER = (DAILY, QUIZ, LEADERBOARD, REPORT, SILENT)


class SlotDefaults(TypedDict):
    time: str
    days: list[int]
    questions: NotRequired[int]


# The sensible default: the value at 07:30 on working days, quizzes Tuesday and Thursday
# at 10:00, the weekly leaderboard on Friday at 15:00, all in each unit's local time; the
# admins' monthly report on the first working day at 08:00 and the silent-units alert on
# Monday at 08:00, in the instansi's zone.
DEFAULT_SLOTS: dict[str, SlotDefaults] = {
    DAILY: {"time": "07:30", "days": [1, 2, 3, 4, 5]},
    QUIZ: {"time": "10:00", "days": [2, 4], "questions": 3},
    LEADERBOARD: {"time": "15:00", "days": [5]},
    REPORT: {"time": "08:00", "days": [1, 2, 3, 4, 5]},
    SILENT: {"time": "08:00", "days": [1]},
}


@dataclass(frozen=True)
class Slot:
    key: str
    time: str
    days: tuple[int, ...]
    enabled: bool
    questions: int
    window_minutes: int | None

    @property
    def hour_minute(self) -> tuple[int, int]:
        hour, minute = self.time.split(":")
        return int(hour), int(minute)


def _slot(row: ProgrammeSlot) -> Slot:
    return Slot(
        key=row.key,
        time=row.time,
        days=tuple(sorted(int(d) for d in row.days)),
        enabled=row.enabled,
        questions=row.questions,
        window_minutes=row.window_minutes,
    )


def ensure_defaults(*, session: Session) -> None:
    existing = set(session.exec(select(ProgrammeSlot.key)).all())
    for key, fields in DEFAULT_SLOTS.items():
        if key not in existing:
            session.add(ProgrammeSlot(key=key, **fields))


def slots(*, session: Session) -> list[Slot]:
    rows = {r.key: _slot(r) for r in session.exec(select(ProgrammeSlot)).all()}
    return [rows[k] for k in SLOT_ORDER if k in rows]


def get_slot(*, session: Session, key: str) -> Slot | None:
    row = session.get(ProgrammeSlot, key)
    return _slot(row) if row else None


def update_slot(
    *,
    session: Session,
    key: str,
    by: int | None,
    time: str | None = None,
    days: list[int] | None = None,
    enabled: bool | None = None,
    questions: int | None = None,
    window_minutes: int | bool | None = False,
) -> Slot | None:
    """Change a slot; `window_minutes=False` leaves the window as it is."""
    row = session.get(ProgrammeSlot, key)
    if row is None:
        return None
    if time is not None:
        row.time = time
    if days is not None:
        row.days = sorted(set(days))
    if enabled is not None:
        row.enabled = enabled
    if questions is not None:
        row.questions = questions
    if window_minutes is not False:
        row.window_minutes = window_minutes
    row.updated_by = by
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return _slot(row)


PAUSED = "paused"


def paused(*, session: Session) -> bool:
    row = session.get(Setting, PAUSED)
    return bool(row and row.value.get("on"))


def set_paused(*, session: Session, on: bool, by: int | None) -> bool:
    """Returns whether anything changed."""
    row = session.get(Setting, PAUSED)
    was = bool(row and row.value.get("on"))
    if row is None:
        row = Setting(key=PAUSED)
    row.value = {"on": on, "by": by}
    row.updated_at = utcnow()
    session.add(row)
    return was != on


def zones_in_use(*, session: Session) -> list[str]:
    """The zones of units that have members: only there does a slot reach anyone. A zone
    gains its jobs when its first member registers (`Programme.member_joined`)."""
    zones = session.exec(
        select(Unit.timezone)
        .join(Member, col(Member.unit_id) == Unit.id)
        .where(col(Member.deleted_at).is_(None))
        .distinct()
    ).all()
    return sorted(zones)


def claim_run(
    *,
    session: Session,
    slot: str,
    timezone: str,
    local_date: date,
    due_at: datetime,
    status: str,
    late_seconds: int = 0,
) -> int | None:
    """Insert the run; None if this slot already ran (or was skipped) that day in that zone."""
    run = ProgrammeRun(
        slot=slot,
        timezone=timezone,
        local_date=local_date,
        due_at=due_at,
        status=status,
        late_seconds=late_seconds,
    )
    try:
        with session.begin_nested():
            session.add(run)
    except IntegrityError:
        return None
    return run.id


def has_run(*, session: Session, slot: str, timezone: str, local_date: date) -> bool:
    return (
        session.exec(
            select(ProgrammeRun.id).where(
                ProgrammeRun.slot == slot,
                ProgrammeRun.timezone == timezone,
                ProgrammeRun.local_date == local_date,
            )
        ).first()
        is not None
    )


def set_run_broadcast(*, session: Session, run_id: int, broadcast_id: int) -> None:
    run = session.get(ProgrammeRun, run_id)
    if run is not None:
        run.broadcast_id = broadcast_id
        session.add(run)


def runs(*, session: Session, slot: str | None = None) -> list[ProgrammeRun]:
    query = select(ProgrammeRun).order_by(col(ProgrammeRun.id))
    if slot is not None:
        query = query.where(ProgrammeRun.slot == slot)
    return list(session.exec(query).all())
