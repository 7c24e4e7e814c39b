"""Appreciation between colleagues: what /apresiasi counts, writes and reads back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from db.models import Appreciation


def given_since(*, session: Session, giver_id: int, since: datetime) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(Appreciation)
            .where(col(Appreciation.giver_id) == giver_id, col(Appreciation.created_at) >= since)
        ).one()
    )


def pair_since(*, session: Session, giver_id: int, receiver_id: int, since: datetime) -> int:
    """Thanks from this giver to this receiver since then."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Appreciation)
            .where(
                col(Appreciation.giver_id) == giver_id,
                col(Appreciation.receiver_id) == receiver_id,
                col(Appreciation.created_at) >= since,
            )
        ).one()
    )


def exchanges_since(*, session: Session, a: int, b: int, since: datetime) -> int:
    """Thanks between the two, either way, since then."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Appreciation)
            .where(
                or_(
                    (col(Appreciation.giver_id) == a) & (col(Appreciation.receiver_id) == b),
                    (col(Appreciation.giver_id) == b) & (col(Appreciation.receiver_id) == a),
                ),
                col(Appreciation.created_at) >= since,
            )
        ).one()
    )


def points_received_since(*, session: Session, receiver_id: int, since: datetime) -> int:
    return int(
        session.exec(
            select(func.coalesce(func.sum(Appreciation.points), 0)).where(
                col(Appreciation.receiver_id) == receiver_id,
                col(Appreciation.created_at) >= since,
            )
        ).one()
    )


def record(*, session: Session, appreciation: Appreciation) -> int:
    session.add(appreciation)
    session.flush()
    assert appreciation.id is not None
    return appreciation.id
