"""The audit log: every admin action and every refused attempt."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func
from sqlmodel import Session, col, select

from db.models import AuditLog, utcnow

# Refused attempts by one person within this window share one row with a count, so a
# stranger pressing 500 forged buttons writes a few rows, not 500.
COLLAPSE = timedelta(minutes=1)
MAX_ACTIONS = 10  # distinct refused actions named on a collapsed row


def record(
    *,
    session: Session,
    actor_user_id: int | None,
    action: str,
    detail: dict[str, Any] | None = None,
    audience_size: int | None = None,
    allowed: bool = True,
) -> None:
    if not allowed and actor_user_id is not None:
        since = utcnow() - COLLAPSE
        recent = session.exec(
            select(AuditLog)
            .where(
                col(AuditLog.at) >= since,
                AuditLog.actor_user_id == actor_user_id,
                col(AuditLog.allowed).is_(False),
            )
            .order_by(col(AuditLog.id).desc())
            .limit(1)
        ).first()
        if recent is not None:
            actions = list(recent.detail.get("actions", [recent.action]))
            if action not in actions and len(actions) < MAX_ACTIONS:
                actions.append(action)
            # A new dict: SQLAlchemy sees a JSON column change only when it is reassigned.
            recent.detail = {
                **recent.detail,
                "count": int(recent.detail.get("count", 1)) + 1,
                "actions": actions,
            }
            session.add(recent)
            return
    session.add(
        AuditLog(
            actor_user_id=actor_user_id,
            action=action,
            detail=detail or {},
            audience_size=audience_size,
            allowed=allowed,
        )
    )


def latest(*, session: Session, limit: int = 20) -> list[AuditLog]:
    return list(session.exec(select(AuditLog).order_by(col(AuditLog.id).desc()).limit(limit)).all())


def page(
    *, session: Session, allowed: bool, offset: int, limit: int, actor_user_id: int | None = None
) -> tuple[list[AuditLog], int]:
    """One page of admin actions (`allowed`) or of refused attempts, newest first, of one
    person or everyone, and how many there are in all."""
    kind: ColumnElement[bool] = col(AuditLog.allowed).is_(allowed)
    if actor_user_id is not None:
        kind = and_(kind, col(AuditLog.actor_user_id) == actor_user_id)
    entries = session.exec(
        select(AuditLog).where(kind).order_by(col(AuditLog.id).desc()).offset(offset).limit(limit)
    ).all()
    total = session.exec(select(func.count()).select_from(AuditLog).where(kind)).one()
    return list(entries), total


def entries(*, session: Session, allowed: bool, limit: int) -> list[AuditLog]:
    """Admin actions (`allowed`) or refused attempts, newest first, at most `limit`."""
    return list(
        session.exec(
            select(AuditLog)
            .where(col(AuditLog.allowed).is_(allowed))
            .order_by(col(AuditLog.id).desc())
            .limit(limit)
        ).all()
    )
