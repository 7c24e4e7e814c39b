"""UU 27/2022 in the database: erasing a person everywhere, their own data as one
document, and the retention periods.

A person's Telegram user id is also their private chat's id, so both are looked for in
every column that holds one. What stays after an erasure holds a pseudonym instead: the
member row's own negative id, which no Telegram account can have, so an admin's past
actions still read as "one person did these" and anonymous totals still add up.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, cast, delete, or_, update
from sqlmodel import Session, col, select

from db.models import (
    Appreciation,
    AuditLog,
    Broadcast,
    Delivery,
    DeliveryState,
    Employee,
    Idea,
    IdeaVote,
    Member,
    MemberDay,
    ProgrammeSlot,
    QuestionRow,
    QuizAnswer,
    QuizPoll,
    Reflection,
    Registration,
    Score,
    Story,
    Unit,
    UnitHead,
    utcnow,
)

# Pseudonyms for people who never became members (a refused stranger, an abandoned
# draft): far below any member's negated id, random so the id cannot be recomputed.
_STRANGER_BASE = 10**12


@dataclass(frozen=True)
class Erased:
    member: bool  # a registered member was erased
    draft: bool  # an unfinished registration was deleted


def erase_person(*, session: Session, telegram_user_id: int) -> Erased:
    """Remove everything that identifies this Telegram account; keep anonymous rows.

    The member row keeps its unit and dates for anonymous totals; its name, NIP, consent
    and ids go. Delivery rows lose the message text (it can hold the name) and the chat
    id, and any not yet sent are cancelled; quiz polls, broadcasts, programme slots and
    audit entries get the pseudonym; reflections lose their words; the draft is deleted.
    """
    member = session.exec(
        select(Member).where(
            Member.telegram_user_id == telegram_user_id, col(Member.deleted_at).is_(None)
        )
    ).first()
    draft = session.get(Registration, telegram_user_id)
    if draft is not None:
        session.delete(draft)
    if member is None:
        pseudonym = -(_STRANGER_BASE + secrets.randbelow(_STRANGER_BASE))
        _pseudonymise(session, telegram_user_id, None, pseudonym)
        return Erased(member=False, draft=draft is not None)
    assert member.id is not None
    pseudonym = -member.id
    _pseudonymise(session, telegram_user_id, member, pseudonym)
    _forget_in_group_posts(session, member)
    member.telegram_user_id = pseudonym
    member.chat_id = pseudonym
    member.full_name = None
    member.nip = None
    member.consent_at = None
    member.reachable = False
    member.show_name = False
    member.deleted_at = member.updated_at = utcnow()
    session.add(member)
    # A reflection is the member's own words: its text goes; the row (value, day, points)
    # stays for the anonymous totals.
    session.execute(
        update(Reflection).where(col(Reflection.member_id) == member.id).values(text="")
    )
    # The same for their own words elsewhere: the reasons of thanks they gave or received
    # (a reason names or describes them), and their service stories, which leave the
    # review queue. Their ideas stay as the unit's ideas: the author link goes.
    session.execute(
        update(Appreciation)
        .where(
            (col(Appreciation.giver_id) == member.id) | (col(Appreciation.receiver_id) == member.id)
        )
        .values(reason="")
    )
    session.execute(
        update(Story)
        .where(col(Story.author_id) == member.id)
        .values(text="", photo_file_id=None, status="ditolak", reason=None, author_id=None)
    )
    session.execute(update(Idea).where(col(Idea.author_id) == member.id).values(author_id=None))
    # A role is the person's: whatever units they headed have no head until an admin names one.
    session.execute(delete(UnitHead).where(col(UnitHead.member_id) == member.id))
    return Erased(member=True, draft=draft is not None)


def _pseudonymise(
    session: Session, telegram_user_id: int, member: Member | None, pseudonym: int
) -> None:
    ids = {telegram_user_id} | ({member.chat_id} if member is not None else set())
    mine: ColumnElement[bool] = col(Delivery.chat_id).in_(ids)
    if member is not None:
        mine = or_(mine, col(Delivery.member_id) == member.id)
    session.execute(
        update(Delivery)
        .where(mine, col(Delivery.state) == DeliveryState.PENDING)
        .values(state=DeliveryState.CANCELLED)
    )
    session.execute(update(Delivery).where(mine).values(chat_id=pseudonym, payload={}))
    if member is not None:
        session.execute(
            update(QuizPoll).where(col(QuizPoll.member_id) == member.id).values(chat_id=pseudonym)
        )
    session.execute(
        update(QuizPoll).where(col(QuizPoll.chat_id).in_(ids)).values(chat_id=pseudonym)
    )
    session.execute(
        update(Broadcast)
        .where(col(Broadcast.created_by) == telegram_user_id)
        .values(created_by=pseudonym)
    )
    session.execute(
        update(Broadcast)
        .where(col(Broadcast.status_chat_id).in_(ids))
        .values(status_chat_id=pseudonym)
    )
    session.execute(
        update(ProgrammeSlot)
        .where(col(ProgrammeSlot.updated_by) == telegram_user_id)
        .values(updated_by=pseudonym)
    )
    session.execute(
        update(AuditLog)
        .where(col(AuditLog.actor_user_id) == telegram_user_id)
        .values(actor_user_id=pseudonym)
    )


def _forget_in_group_posts(session: Session, member: Member) -> None:
    """A group's board names members who opted in by first name; the texts of posts already
    sent that carry this member's first name go (a namesake's post loses its text too,
    which costs nothing: a sent post's text is kept only for the retention period)."""
    first = (member.full_name or "").split(" ")[0]
    if len(first) < 2:
        return
    # As stored: JSON escapes every non-ASCII letter (\u00e9), so match that form.
    stored = json.dumps(first)[1:-1]
    pattern = "%" + stored.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    finished = col(Delivery.state).notin_([DeliveryState.PENDING, DeliveryState.SENDING])
    session.execute(
        update(Delivery)
        .where(
            col(Delivery.chat_id) < 0,
            finished,
            cast(col(Delivery.payload), String).like(pattern, escape="\\"),
        )
        .values(payload={})
    )


def scrub_files(*, session: Session) -> None:
    """SQLite keeps deleted and overwritten values in free pages and in the write-ahead
    log until they are reused: rebuild the file and empty the log, so an erased name is
    gone from the disk too. PostgreSQL's autovacuum reclaims dead rows by itself."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    # Outside any transaction: this session has written nothing, so none is open.
    connection.exec_driver_sql("PRAGMA secure_delete=ON")
    connection.exec_driver_sql("VACUUM")
    connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


# --- the person's own data ------------------------------------------------------------------


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_person(*, session: Session, telegram_user_id: int) -> dict[str, Any] | None:
    """Everything stored about this person, keyed in Indonesian; None when nothing is."""
    member = session.exec(
        select(Member).where(
            Member.telegram_user_id == telegram_user_id, col(Member.deleted_at).is_(None)
        )
    ).first()
    draft = session.get(Registration, telegram_user_id)
    if member is None and draft is None:
        return None
    data: dict[str, Any] = {"id_telegram": telegram_user_id}
    if draft is not None:
        data["pendaftaran_belum_selesai"] = {
            "nama_lengkap": draft.full_name,
            "nip": draft.nip,
            "unit_kerja": _unit_name(session, draft.unit_id),
            "bahasa": draft.language,
            "waktu_persetujuan": _when(draft.consent_at),
            "diperbarui": _when(draft.updated_at),
            # A request HR has yet to approve, and why the employee list did not confirm it.
            "menunggu_persetujuan_hr": draft.step == "pending",
            "alasan_persetujuan_hr": draft.verify,
        }
    if member is None:
        return data
    assert member.id is not None
    unit = session.get(Unit, member.unit_id) if member.unit_id else None
    opd = session.get(Unit, unit.parent_id) if unit and unit.parent_id else None
    data["profil"] = {
        "nama_lengkap": member.full_name,
        "nip": member.nip,
        "unit_kerja": unit.name if unit else None,
        "opd": opd.name if opd else None,
        "peran": member.role,
        "kepala_unit": [
            name
            for name in session.exec(
                select(Unit.name)
                .join(UnitHead, col(UnitHead.unit_id) == col(Unit.id))
                .where(col(UnitHead.member_id) == member.id)
                .order_by(col(Unit.name))
            ).all()
        ],
        "bahasa": member.language,
        "nama_tampil_di_papan": member.show_name,
        "waktu_persetujuan": _when(member.consent_at),
        "terdaftar_sejak": _when(member.created_at),
        "aktif_terakhir": _when(member.last_active_at),
    }
    listed = (
        session.exec(select(Employee).where(Employee.nip == member.nip)).first()
        if member.nip
        else None
    )
    if listed is not None:
        # HR's own record of the person, as loaded by `berakhlak pegawai import`.
        data["daftar_pegawai"] = {
            "nip": listed.nip,
            "nama": listed.full_name,
            "kode_unit": listed.unit_code,
        }
    answers = session.exec(
        select(QuizAnswer, QuestionRow.question)
        .join(QuestionRow, col(QuestionRow.id) == QuizAnswer.question_id, isouter=True)
        .where(QuizAnswer.member_id == member.id)
        .order_by(col(QuizAnswer.answered_at))
    ).all()
    data["jawaban_kuis"] = [
        {
            "waktu": _when(a.answered_at),
            "kode_soal": a.question_id,
            "soal": question,
            "nilai": a.value,
            "pilihan": a.option + 1,
            "benar": a.correct,
            "detik": a.seconds,
            "latihan": a.practice,
            "poin": a.points,
        }
        for a, question in answers
    ]
    reflections = session.exec(
        select(Reflection)
        .where(Reflection.member_id == member.id)
        .order_by(col(Reflection.created_at))
    ).all()
    data["refleksi"] = [
        {
            "tanggal": _when(r.local_date),
            "nilai": r.value,
            "kode_pertanyaan": r.prompt_id,
            "teks": r.text,
            "poin": r.points,
        }
        for r in reflections
    ]
    scores = session.exec(
        select(Score).where(Score.member_id == member.id).order_by(col(Score.period))
    ).all()
    data["skor"] = [
        {
            "periode": s.period,
            "poin": s.points,
            "soal_dijawab": s.answered,
            "jawaban_benar": s.correct,
            "refleksi": s.reflections,
            "poin_latihan": s.practice_points,
        }
        for s in scores
    ]
    days = session.exec(
        select(MemberDay).where(MemberDay.member_id == member.id).order_by(col(MemberDay.day))
    ).all()
    data["hari_aktif_dan_cuti"] = [{"tanggal": _when(d.day), "jenis": d.kind} for d in days]
    data |= _contributions(session, member.id)
    return data


def _contributions(session: Session, member_id: int) -> dict[str, Any]:
    """What the person wrote for others to read: ideas, appreciations, service stories."""
    ideas = session.exec(
        select(Idea).where(Idea.author_id == member_id).order_by(col(Idea.created_at))
    ).all()
    votes = session.exec(select(IdeaVote).where(IdeaVote.member_id == member_id)).all()
    given = session.exec(
        select(Appreciation)
        .where(Appreciation.giver_id == member_id)
        .order_by(col(Appreciation.created_at))
    ).all()
    received = session.exec(
        select(Appreciation)
        .where(Appreciation.receiver_id == member_id)
        .order_by(col(Appreciation.created_at))
    ).all()
    stories = session.exec(
        select(Story).where(Story.author_id == member_id).order_by(col(Story.created_at))
    ).all()
    return {
        "ide": [
            {
                "waktu": _when(i.created_at),
                "judul": i.title,
                "uraian": i.description,
                "nilai": i.value,
                "status": i.status,
            }
            for i in ideas
        ],
        "dukungan_ide": [
            {"id_ide": v.idea_id, "jenis": v.kind, "waktu": _when(v.created_at)} for v in votes
        ],
        "apresiasi_diberikan": [
            {"waktu": _when(a.created_at), "nilai": a.value, "alasan": a.reason} for a in given
        ],
        # The giver is a colleague: their identity is theirs, the words are about this person.
        "apresiasi_diterima": [
            {"waktu": _when(a.created_at), "nilai": a.value, "alasan": a.reason} for a in received
        ],
        "cerita_layanan": [
            {"waktu": _when(st.created_at), "teks": st.text, "status": st.status} for st in stories
        ],
    }


def _unit_name(session: Session, unit_id: int | None) -> str | None:
    unit = session.get(Unit, unit_id) if unit_id else None
    return unit.name if unit else None


# --- retention ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retention:
    answers_before: datetime  # quiz polls, answers and reflections older go
    audit_before: datetime
    delivery_texts_before: datetime  # finished delivery rows older lose their text
    drafts_before: datetime  # unfinished registrations not touched since go


@dataclass(frozen=True)
class Removed:
    drafts: int
    answers: int
    polls: int
    reflections: int
    audit: int
    delivery_texts: int

    @property
    def any(self) -> bool:
        return any(vars(self).values())


def enforce_retention(*, session: Session, limits: Retention) -> Removed:
    drafts = session.execute(
        delete(Registration).where(col(Registration.updated_at) < limits.drafts_before)
    )
    answers = session.execute(
        delete(QuizAnswer).where(col(QuizAnswer.answered_at) < limits.answers_before)
    )
    # A poll older than the limit has no answer left to point at it (answers come after).
    polls = session.execute(delete(QuizPoll).where(col(QuizPoll.sent_at) < limits.answers_before))
    reflections = session.execute(
        delete(Reflection).where(col(Reflection.created_at) < limits.answers_before)
    )
    audit = session.execute(delete(AuditLog).where(col(AuditLog.at) < limits.audit_before))
    finished = col(Delivery.state).notin_([DeliveryState.PENDING, DeliveryState.SENDING])
    texts = session.execute(
        update(Delivery)
        .where(
            finished,
            col(Delivery.next_attempt_at) < limits.delivery_texts_before,
            # Not rewritten every day: PostgreSQL's json has no equality, its text does.
            cast(col(Delivery.payload), String) != "{}",
        )
        .values(payload={})
    )
    return Removed(
        drafts=drafts.rowcount,  # type: ignore[attr-defined]
        answers=answers.rowcount,  # type: ignore[attr-defined]
        polls=polls.rowcount,  # type: ignore[attr-defined]
        reflections=reflections.rowcount,  # type: ignore[attr-defined]
        audit=audit.rowcount,  # type: ignore[attr-defined]
        delivery_texts=texts.rowcount,  # type: ignore[attr-defined]
    )


def retention_limits(
    now: datetime, *, answers_days: int, audit_days: int, delivery_days: int, draft_days: int
) -> Retention:
    return Retention(
        answers_before=now - timedelta(days=answers_days),
        audit_before=now - timedelta(days=audit_days),
        delivery_texts_before=now - timedelta(days=delivery_days),
        drafts_before=now - timedelta(days=draft_days),
    )
