"""The tables. Telegram ids are 64-bit (BigInteger) everywhere."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, ForeignKey, Index, String
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(**kwargs: Any) -> Any:
    return Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), **kwargs))


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

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    full_name: str | None = Field(default=None, sa_column=Column(String(100), nullable=True))
    unit_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("unit.id", ondelete="RESTRICT"), index=True, nullable=True),
    )
    nip: str | None = Field(default=None, sa_column=Column(String(18), nullable=True))
    role: str = Field(default=Role.MEMBER, sa_column=Column(String(16), nullable=False))
    language: str = Field(default="id", sa_column=Column(String(5), nullable=False))
    consent_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    reachable: bool = Field(default=True)
    show_name: bool = Field(default=False)
    deleted_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
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
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    full_name: str | None = Field(default=None, sa_column=Column(String(100), nullable=True))
    opd_id: int | None = Field(default=None)
    unit_id: int | None = Field(default=None)
    nip: str | None = Field(default=None, sa_column=Column(String(18), nullable=True))
    search: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    # The message whose buttons are live; buttons on any other message are stale.
    prompt_message_id: int | None = Field(default=None)
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


class PromptRow(SQLModel, table=True):
    """A reflection prompt for the daily value message."""

    __tablename__ = "prompt"

    id: str = Field(sa_column=Column(String(16), primary_key=True))
    value: str = Field(sa_column=Column(String(2), nullable=False, index=True))
    guideline: str = Field(sa_column=Column(String(3), nullable=False))
    text: str = Field(sa_column=Column(String(500), nullable=False))
    active: bool = Field(default=True)
    updated_at: datetime = _ts(nullable=False)
