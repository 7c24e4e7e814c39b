"""The outbox: broadcasts, their delivery rows, and the sender's state changes.

The state machine itself is documented in bot/delivery/sender.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Select, bindparam, cast, func, insert, update
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from db.models import (
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryState,
    Member,
    Role,
    Unit,
    table_of,
    utcnow,
)

OPEN = (DeliveryState.PENDING, DeliveryState.SENDING)
# The error of a row the sender was sending when it stopped (recorded at the next start).
STOPPED_WHILE_SENDING = "stopped while sending"


@dataclass(frozen=True)
class Recipient:
    member_id: int
    chat_id: int
    full_name: str
    unit_name: str
    opd_name: str
    language: str


@dataclass(frozen=True)
class DueRow:
    id: int
    broadcast_id: int
    member_id: int | None
    chat_id: int
    payload: dict[str, Any]
    attempts: int
    paid: bool
    kind: str


@dataclass(frozen=True)
class Outcome:
    """What one send attempt came to; `state` is where the row goes next."""

    id: int
    state: DeliveryState
    message_id: int | None = None
    error: str | None = None
    retry_at: datetime | None = None
    unconfirmed: bool = False
    member_id: int | None = None
    new_chat_id: int | None = None
    old_chat_id: int | None = None
    result: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Progress:
    total: int
    sent: int
    failed: int
    blocked: int
    cancelled: int
    pending: int
    unconfirmed: int
    # Of the unconfirmed, those the bot was sending when it stopped (the others: Telegram
    # took the request and its answer never came).
    unconfirmed_stopped: int = 0

    @property
    def remaining(self) -> int:
        return self.pending

    @property
    def done(self) -> bool:
        return self.pending == 0


@dataclass(frozen=True)
class BroadcastInfo:
    id: int
    kind: str
    status: str
    audience: dict[str, Any]
    content: dict[str, Any]
    total: int
    paid: bool
    created_by: int | None
    created_at: datetime
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    status_chat_id: int | None
    status_message_id: int | None


def _broadcast_info(b: Broadcast) -> BroadcastInfo:
    assert b.id is not None
    return BroadcastInfo(
        id=b.id,
        kind=b.kind,
        status=b.status,
        audience=b.audience,
        content=b.content,
        total=b.total,
        paid=b.paid,
        created_by=b.created_by,
        created_at=b.created_at,
        scheduled_at=b.scheduled_at,
        started_at=b.started_at,
        finished_at=b.finished_at,
        status_chat_id=b.status_chat_id,
        status_message_id=b.status_message_id,
    )


# --- audiences -------------------------------------------------------------------------------


def _audience_query(
    audience: dict[str, Any],
) -> Select[int | None, int, str | None, str, str, str]:
    opd = table_of(Unit).alias("opd")
    # Six columns: SQLAlchemy's own select is typed that far, SQLModel's only to four.
    query = (
        select_columns(
            col(Member.id),
            col(Member.chat_id),
            col(Member.full_name),
            col(Unit.name),
            func.coalesce(opd.c.name, Unit.name),
            col(Member.language),
        )
        .join(Unit, col(Unit.id) == Member.unit_id)
        .outerjoin(opd, opd.c.id == Unit.parent_id)
        .where(col(Member.deleted_at).is_(None), col(Member.reachable))
    )
    kind = audience.get("type", "all")
    if kind == "units":
        ids = [int(i) for i in audience.get("unit_ids", [])]
        # Choosing an OPD means all of its unit kerja.
        query = query.where(col(Unit.id).in_(ids) | col(Unit.parent_id).in_(ids))
    elif kind == "admins":
        query = query.where(col(Member.role).in_([Role.ADMIN, Role.SUPERADMIN]))
    elif kind == "inactive":
        since = datetime.fromisoformat(audience["since"])
        query = query.where(
            col(Member.last_active_at).is_(None) | (col(Member.last_active_at) < since)
        )
    elif kind == "timezone":
        query = query.where(col(Unit.timezone) == audience["timezone"])
    elif kind == "members":
        query = query.where(col(Member.id).in_([int(i) for i in audience.get("member_ids", [])]))
    return query.order_by(col(Member.id))


def audience_members(*, session: Session, audience: dict[str, Any]) -> list[Recipient]:
    rows = session.execute(_audience_query(audience)).all()
    return [Recipient(r[0], r[1], r[2] or "", r[3], r[4], r[5]) for r in rows]


def count_audience(*, session: Session, audience: dict[str, Any]) -> int:
    subquery = _audience_query(audience).subquery()
    return session.exec(select(func.count()).select_from(subquery)).one()


# --- broadcasts ------------------------------------------------------------------------------


def create_broadcast(
    *,
    session: Session,
    kind: str,
    created_by: int | None,
    audience: dict[str, Any],
    content: dict[str, Any],
    paid: bool = False,
    scheduled_at: datetime | None = None,
    status_chat_id: int | None = None,
) -> BroadcastInfo:
    broadcast = Broadcast(
        kind=kind,
        created_by=created_by,
        audience=audience,
        content=content,
        paid=paid,
        scheduled_at=scheduled_at,
        status=BroadcastStatus.SCHEDULED,
        status_chat_id=status_chat_id,
    )
    session.add(broadcast)
    session.flush()
    return _broadcast_info(broadcast)


def enqueue(
    *,
    session: Session,
    broadcast_id: int,
    rows: Sequence[tuple[int | None, int, dict[str, Any]]],
) -> int:
    """All delivery rows of a broadcast in one transaction: (member_id, chat_id, payload)."""
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.status != BroadcastStatus.SCHEDULED:
        return 0
    now = utcnow()
    if rows:
        session.execute(
            insert(Delivery),
            [
                {
                    "broadcast_id": broadcast_id,
                    "member_id": member_id,
                    "chat_id": chat_id,
                    "payload": payload,
                    "state": DeliveryState.PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "unconfirmed": False,
                }
                for member_id, chat_id, payload in rows
            ],
        )
    broadcast.total = len(rows)
    broadcast.status = BroadcastStatus.RUNNING if rows else BroadcastStatus.DONE
    broadcast.started_at = now
    if not rows:
        broadcast.finished_at = now
    return len(rows)


def get_broadcast(*, session: Session, broadcast_id: int) -> BroadcastInfo | None:
    broadcast = session.get(Broadcast, broadcast_id)
    return _broadcast_info(broadcast) if broadcast else None


def set_status_message(
    *, session: Session, broadcast_id: int, chat_id: int, message_id: int
) -> None:
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is not None:
        broadcast.status_chat_id = chat_id
        broadcast.status_message_id = message_id


def list_broadcasts(
    *,
    session: Session,
    limit: int = 10,
    statuses: Iterable[str] | None = None,
    kind: str | None = None,
) -> list[BroadcastInfo]:
    query = select(Broadcast)
    if statuses is not None:
        query = query.where(col(Broadcast.status).in_(list(statuses)))
    if kind is not None:
        query = query.where(Broadcast.kind == kind)
    rows = session.exec(query.order_by(col(Broadcast.id).desc()).limit(limit)).all()
    return [_broadcast_info(b) for b in rows]


def cancel(*, session: Session, broadcast_id: int) -> int | None:
    """Cancel a scheduled or running broadcast; returns the rows cancelled, None if it can't."""
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.status not in (
        BroadcastStatus.SCHEDULED,
        BroadcastStatus.RUNNING,
    ):
        return None
    result = session.exec(
        update(Delivery)
        .where(
            col(Delivery.broadcast_id) == broadcast_id,
            col(Delivery.state) == DeliveryState.PENDING,
        )
        .values(state=DeliveryState.CANCELLED)
    )
    broadcast.status = BroadcastStatus.CANCELLED
    broadcast.finished_at = utcnow()
    return int(result.rowcount or 0)


def retry_failed(*, session: Session, broadcast_id: int) -> int:
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.status == BroadcastStatus.CANCELLED:
        return 0
    result = session.exec(
        update(Delivery)
        .where(
            col(Delivery.broadcast_id) == broadcast_id,
            col(Delivery.state) == DeliveryState.FAILED,
        )
        .values(state=DeliveryState.PENDING, attempts=0, error=None, next_attempt_at=utcnow())
    )
    count = int(result.rowcount or 0)
    if count:
        broadcast.status = BroadcastStatus.RUNNING
        broadcast.finished_at = None
    return count


def progress(*, session: Session, broadcast_id: int) -> Progress:
    stopped = cast(
        col(Delivery.unconfirmed) & (col(Delivery.error) == STOPPED_WHILE_SENDING), Integer
    )
    rows = session.exec(
        select(
            Delivery.state,
            func.count(),
            func.sum(cast(Delivery.unconfirmed, Integer)),
            func.sum(stopped),
        )
        .where(Delivery.broadcast_id == broadcast_id)
        .group_by(Delivery.state)
    ).all()
    counts = {state: int(n) for state, n, _, _ in rows}
    unconfirmed = sum(int(u or 0) for _, _, u, _ in rows)
    return Progress(
        total=sum(counts.values()),
        sent=counts.get(DeliveryState.SENT, 0),
        failed=counts.get(DeliveryState.FAILED, 0),
        blocked=counts.get(DeliveryState.BLOCKED, 0),
        cancelled=counts.get(DeliveryState.CANCELLED, 0),
        pending=counts.get(DeliveryState.PENDING, 0) + counts.get(DeliveryState.SENDING, 0),
        unconfirmed=unconfirmed,
        unconfirmed_stopped=sum(int(u or 0) for _, _, _, u in rows),
    )


def unconfirmed_recipients(*, session: Session, broadcast_id: int) -> list[tuple[str, str]]:
    """Name and unit of each recipient whose message may or may not have arrived."""
    rows = session.execute(
        select_columns(col(Member.full_name), col(Unit.name))
        .select_from(Delivery)
        .outerjoin(Member, col(Member.id) == Delivery.member_id)
        .outerjoin(Unit, col(Unit.id) == Member.unit_id)
        .where(col(Delivery.broadcast_id) == broadcast_id, col(Delivery.unconfirmed))
        .order_by(col(Unit.name), col(Member.full_name))
    ).all()
    return [(name or "", unit or "") for name, unit in rows]


def resend_unconfirmed(*, session: Session, broadcast_id: int) -> int:
    """Queue the unconfirmed deliveries of a broadcast again (the admin accepted that some
    may get it twice); how many."""
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.status == BroadcastStatus.CANCELLED:
        return 0
    result = session.exec(
        update(Delivery)
        .where(
            col(Delivery.broadcast_id) == broadcast_id,
            col(Delivery.state) == DeliveryState.SENT,
            col(Delivery.unconfirmed),
        )
        .values(
            state=DeliveryState.PENDING,
            unconfirmed=False,
            attempts=0,
            error=None,
            message_id=None,
            sent_at=None,
            next_attempt_at=utcnow(),
        )
    )
    count = int(result.rowcount or 0)
    if count:
        broadcast.status = BroadcastStatus.RUNNING
        broadcast.finished_at = None
    return count


def finish_done(*, session: Session) -> list[int]:
    """Mark running broadcasts with no open rows as done; returns their ids."""
    running = session.exec(
        select(Broadcast.id).where(Broadcast.status == BroadcastStatus.RUNNING)
    ).all()
    finished: list[int] = []
    for broadcast_id in running:
        open_rows = session.exec(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.broadcast_id == broadcast_id, col(Delivery.state).in_(OPEN))
        ).one()
        if open_rows == 0:
            broadcast = session.get(Broadcast, broadcast_id)
            assert broadcast is not None and broadcast.id is not None
            broadcast.status = BroadcastStatus.DONE
            broadcast.finished_at = utcnow()
            finished.append(broadcast.id)
    return finished


# --- the sender's side -----------------------------------------------------------------------


def due(*, session: Session, now: datetime, limit: int, after_id: int = 0) -> list[DueRow]:
    # Plain columns, not ORM objects: the sender reads every row of every broadcast here,
    # and building objects it never changes cost a tenth of its time on PostgreSQL.
    d, b = table_of(Delivery), table_of(Broadcast)
    rows = session.connection().execute(
        select_columns(
            d.c.id,
            d.c.broadcast_id,
            d.c.member_id,
            d.c.chat_id,
            d.c.payload,
            d.c.attempts,
            b.c.paid,
            b.c.kind,
        )
        .join_from(d, b, b.c.id == d.c.broadcast_id)
        .where(
            d.c.state == DeliveryState.PENDING,
            d.c.next_attempt_at <= now,
            d.c.id > after_id,
        )
        .order_by(d.c.id)
        .limit(limit)
    )
    return [
        DueRow(
            id=r.id,
            broadcast_id=r.broadcast_id,
            member_id=r.member_id,
            chat_id=r.chat_id,
            payload=r.payload,
            attempts=r.attempts,
            paid=r.paid,
            kind=r.kind,
        )
        for r in rows
    ]


def open_rows(*, session: Session) -> int:
    """Rows not yet settled (pending, even if not due yet, or sending)."""
    return session.exec(
        select(func.count()).select_from(Delivery).where(col(Delivery.state).in_(OPEN))
    ).one()


def mark_sending(*, session: Session, ids: Sequence[int]) -> set[int]:
    """Claim rows that are still pending; a row cancelled meanwhile is not claimed."""
    if not ids:
        return set()
    table = table_of(Delivery)
    # On the connection, past the ORM's execute path: this runs for every few rows sent.
    claimed = (
        session.connection()
        .execute(
            update(table)
            .where(table.c.id.in_(list(ids)), table.c.state == DeliveryState.PENDING)
            .values(state=DeliveryState.SENDING, attempts=table.c.attempts + 1)
            .returning(table.c.id)
        )
        .scalars()
    )
    return set(claimed)


def record(*, session: Session, outcomes: Sequence[Outcome]) -> None:
    """Write a batch of send results in one transaction."""
    now = utcnow()
    table = table_of(Delivery)
    # The common case, plain sends, in one executemany without the ORM's bookkeeping.
    plain = [
        {"b_id": o.id, "b_message_id": o.message_id}
        for o in outcomes
        if o.state == DeliveryState.SENT and not o.unconfirmed and o.new_chat_id is None
    ]
    if plain:
        session.connection().execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                state=DeliveryState.SENT,
                message_id=bindparam("b_message_id"),
                sent_at=now,
                error=None,
            ),
            plain,
        )
    params = []
    for o in outcomes:
        if o.state == DeliveryState.SENT and not o.unconfirmed and o.new_chat_id is None:
            continue
        values: dict[str, Any] = {"id": o.id, "state": o.state, "error": o.error}
        if o.state == DeliveryState.SENT:
            values.update(message_id=o.message_id, sent_at=now, unconfirmed=o.unconfirmed)
        if o.retry_at is not None:
            values["next_attempt_at"] = o.retry_at
        if o.new_chat_id is not None:
            values["chat_id"] = o.new_chat_id
        params.append(values)
    if params:
        session.execute(update(Delivery), params)
    unreachable = [
        o.member_id for o in outcomes if o.state == DeliveryState.BLOCKED and o.member_id
    ]
    if unreachable:
        session.execute(
            update(Member)
            .where(col(Member.id).in_(unreachable))
            .values(reachable=False, updated_at=now)
        )
    for o in outcomes:
        if o.new_chat_id is not None and o.old_chat_id is not None:
            migrate_chat(session=session, old_chat_id=o.old_chat_id, new_chat_id=o.new_chat_id)


def migrate_chat(*, session: Session, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: every open row and the unit's link follow it."""
    session.execute(
        update(Delivery)
        .where(
            col(Delivery.chat_id) == old_chat_id,
            col(Delivery.state) == DeliveryState.PENDING,
        )
        .values(chat_id=new_chat_id)
    )
    session.execute(
        update(Unit).where(col(Unit.group_chat_id) == old_chat_id).values(group_chat_id=new_chat_id)
    )


def recover(*, session: Session) -> int:
    """After a crash: rows left "sending" count as sent, unconfirmed (never sent twice)."""
    result = session.exec(
        update(Delivery)
        .where(col(Delivery.state) == DeliveryState.SENDING)
        .values(
            state=DeliveryState.SENT,
            unconfirmed=True,
            sent_at=utcnow(),
            error=STOPPED_WHILE_SENDING,
        )
    )
    return int(result.rowcount or 0)


def fail_waiting(*, session: Session, reason: str) -> int:
    """Telegram stayed unreachable too long: every pending row fails with the reason."""
    result = session.exec(
        update(Delivery)
        .where(col(Delivery.state) == DeliveryState.PENDING)
        .values(state=DeliveryState.FAILED, error=reason)
    )
    return int(result.rowcount or 0)


def retry_time(attempts: int, *, base: float = 2.0, cap: float = 300.0) -> datetime:
    return utcnow() + timedelta(seconds=min(cap, base**attempts))
