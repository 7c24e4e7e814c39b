"""The audit log: every admin action and every refused attempt."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from db.models import AuditLog


def record(
    *,
    session: Session,
    actor_user_id: int | None,
    action: str,
    detail: dict[str, Any] | None = None,
    audience_size: int | None = None,
    allowed: bool = True,
) -> None:
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
