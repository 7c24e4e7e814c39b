"""Appreciation between colleagues: what /apresiasi counts, writes and reads back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from db.models import Appreciation, Member


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


def shown_this_week(
    *, session: Session, unit_ids: list[int], since: datetime
) -> list[tuple[str, str, str]]:
    """(giver, receiver, value) of the thanks received in these units since then, where
    both people allow their first name on the board (`show_name`)."""
    giver = aliased(Member)
    receiver = aliased(Member)
    rows = session.exec(
        select(giver.full_name, receiver.full_name, Appreciation.value)
        .join(giver, col(giver.id) == col(Appreciation.giver_id))
        .join(receiver, col(receiver.id) == col(Appreciation.receiver_id))
        .where(
            col(Appreciation.receiver_unit_id).in_(unit_ids),
            col(Appreciation.created_at) >= since,
            col(giver.show_name),
            col(receiver.show_name),
            col(giver.deleted_at).is_(None),
            col(receiver.deleted_at).is_(None),
        )
        .order_by(col(Appreciation.id))
        .limit(8)
    ).all()
    return [((g or "").split()[0], (r or "").split()[0], v) for g, r, v in rows if g and r]


def crossings_since(
    *, session: Session, unit_ids: list[int], since: datetime
) -> tuple[int, int, int]:
    """Thanks received in these units since then: how many, how many from another unit, and
    how many between generations (counts only: no name, no birth year)."""
    row = session.exec(
        select(
            func.count(),
            func.coalesce(
                func.sum(
                    case(
                        (
                            col(Appreciation.giver_unit_id).is_not(None)
                            & (col(Appreciation.giver_unit_id) != Appreciation.receiver_unit_id),
                            1,
                        ),
                        else_=0,
                    )
                ),
                0,
            ),
            func.coalesce(
                func.sum(case((col(Appreciation.cross_generation).is_(True), 1), else_=0)), 0
            ),
        ).where(
            col(Appreciation.receiver_unit_id).in_(unit_ids),
            col(Appreciation.created_at) >= since,
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])
