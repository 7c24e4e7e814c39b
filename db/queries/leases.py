"""Leases among worker processes on one PostgreSQL (README "Many instansi").

A worker holds `worker:<id>` while it lives and `bot:<code>` for each bot it runs; both
expire `ttl` seconds after the last renewal, by the database's clock. A bot whose lease has
expired (its worker died or lost the database) is taken by another, one row at a time with
SKIP LOCKED so two workers never take the same bot."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col

from db.models import Lease, table_of

LEASE = table_of(Lease)
BOT = "bot:"
WORKER = "worker:"


def beat(*, session: Session, worker: str, ttl: float) -> int:
    """Renew the worker's own lease; the number of live workers, this one included."""
    expires = func.now() + timedelta(seconds=ttl)
    statement = insert(LEASE).values(name=WORKER + worker, holder=worker, expires_at=expires)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[LEASE.c.name], set_={"holder": worker, "expires_at": expires}
        )
    )
    # Workers gone for long are forgotten, so the table stays as small as the deployment.
    session.execute(
        delete(LEASE).where(
            col(Lease.name).startswith(WORKER),
            col(Lease.expires_at) < func.now() - timedelta(hours=1),
        )
    )
    live = select(func.count()).where(
        col(Lease.name).startswith(WORKER), col(Lease.expires_at) > func.now()
    )
    return int(session.execute(live).scalar_one())


def renew(*, session: Session, worker: str, ttl: float) -> set[str]:
    """Extend the worker's bot leases; the codes of the bots it still holds."""
    rows = session.execute(
        update(LEASE)
        .where(
            LEASE.c.holder == worker,
            LEASE.c.name.startswith(BOT),
            LEASE.c.expires_at > func.now(),
        )
        .values(expires_at=func.now() + timedelta(seconds=ttl))
        .returning(LEASE.c.name)
    ).scalars()
    return {name.removeprefix(BOT) for name in rows}


def take(
    *, session: Session, worker: str, codes: Sequence[str], most: int, ttl: float
) -> list[str]:
    """Take up to `most` of these bots whose lease is free or expired; the codes taken."""
    if most <= 0 or not codes:
        return []
    names = [BOT + code for code in codes]
    session.execute(insert(LEASE).values([{"name": n} for n in names]).on_conflict_do_nothing())
    free = (
        session.execute(
            select(LEASE.c.name)
            .where(
                LEASE.c.name.in_(names),
                or_(LEASE.c.holder.is_(None), LEASE.c.expires_at <= func.now()),
            )
            .order_by(LEASE.c.name)
            .limit(most)
            .with_for_update(skip_locked=True)
        )
        .scalars()
        .all()
    )
    if not free:
        return []
    session.execute(
        update(LEASE)
        .where(LEASE.c.name.in_(free))
        .values(holder=worker, expires_at=func.now() + timedelta(seconds=ttl))
    )
    return [name.removeprefix(BOT) for name in free]


def release(*, session: Session, worker: str, codes: Sequence[str] | None = None) -> None:
    """Give bots back at once (a clean stop, a rebalance): another worker need not wait for
    them to expire. None: every bot the worker holds, and its own lease."""
    held = LEASE.c.holder == worker
    if codes is None:
        session.execute(update(LEASE).where(held, LEASE.c.name.startswith(BOT)).values(holder=None))
        session.execute(delete(LEASE).where(LEASE.c.name == WORKER + worker))
        return
    names = [BOT + code for code in codes]
    session.execute(update(LEASE).where(and_(held, LEASE.c.name.in_(names))).values(holder=None))


def holders(*, session: Session) -> dict[str, str | None]:
    """Each bot's current holder (None: free or expired): for tests, benches and health."""
    rows = session.execute(
        select(LEASE.c.name, LEASE.c.holder, LEASE.c.expires_at > func.now()).where(
            LEASE.c.name.startswith(BOT)
        )
    ).all()
    return {name.removeprefix(BOT): holder if live else None for name, holder, live in rows}
