"""Item analysis on generated answers with known properties: an item everyone gets right,
one that separates strong from weak members perfectly, and one whose wrong option draws
the strong members; /analisis_soal flags and sets aside the bad ones until HR has
reviewed them, and rounds stop choosing them meanwhile."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from bot.quiz import analysis
from content.loader import load_content
from db.engine import Database
from db.models import Member, QuizAnswer, QuizPoll, Role
from db.queries.analysis import questions_in_play, retired
from db.queries.members import create_member
from db.queries.units import list_children, list_opd
from sandbox.simulation import expect
from tests.e2e.test_programme_admin import enrol

CONTENT = load_content()
MEMBERS = 40
AT = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def _seed(db: Database, unit: int) -> tuple[str, str, str]:
    """40 members whose accuracy on ten filler questions rises with their number, then three
    items: EASY (all right), SHARP (the top half right, the rest wrong) and TRAP (the top
    half choose the same wrong option, the rest the key)."""
    questions = CONTENT.questions
    fillers, (easy, sharp, trap) = questions[:10], questions[10:13]
    for i in range(MEMBERS):
        db.run_sync(
            create_member,
            telegram_user_id=700_000 + i,
            chat_id=700_000 + i,
            full_name=f"Penjawab {i}",
            unit_id=unit,
            nip=None,
            language="id",
            consent_at=AT,
        )

    def write(session: Session) -> None:
        members = sorted(
            (m for m in session.exec(select(Member)).all() if m.telegram_user_id >= 700_000),
            key=lambda m: m.telegram_user_id,
        )
        n = 0

        def answer(member: Member, question_id: str, option: int, key: int) -> None:
            nonlocal n
            n += 1
            session.add(
                QuizPoll(
                    poll_id=f"ana-{n}",
                    member_id=member.id,
                    question_id=question_id,
                    chat_id=member.chat_id,
                    message_id=n,
                    sent_at=AT,
                )
            )
            session.flush()
            session.add(
                QuizAnswer(
                    poll_id=f"ana-{n}",
                    member_id=member.id,
                    question_id=question_id,
                    value="BP",
                    option=option,
                    correct=option == key,
                    seconds=5,
                    answered_at=AT,
                )
            )

        for i, member in enumerate(members):
            # Member i gets 2 to 8 of the ten right, on a rotation, so that every filler is
            # right about half the time and its wrong answers spread over three options.
            right_count = 2 + 6 * i // (MEMBERS - 1)
            for j, q in enumerate(fillers):
                right = (j - i) % 10 < right_count
                wrong = (q.correct + 1 + i % 3) % 4
                answer(member, q.id, q.correct if right else wrong, q.correct)
            strong = i >= MEMBERS // 2
            answer(member, easy.id, easy.correct, easy.correct)
            answer(
                member,
                sharp.id,
                sharp.correct if strong else (sharp.correct + 1) % 4,
                sharp.correct,
            )
            wrong = (trap.correct + 1) % 4
            answer(member, trap.id, wrong if strong else trap.correct, trap.correct)

    db.run_sync(write)
    return easy.id, sharp.id, trap.id


@pytest.mark.usefixtures("bot")
async def test_analysis_flags_and_sets_aside_until_reviewed(bot, sandbox, kediri: Database) -> None:  # type: ignore[no-untyped-def]
    opd = {u.code: u.id for u in kediri.run_sync(list_opd)}
    unit = kediri.run_sync(list_children, opd_id=opd["DINKES"])[0].id
    easy, sharp, trap = _seed(kediri, unit)
    stats = {s.question_id: s for s in await analysis.analyse(bot.bot_data["deps"])}
    assert stats[easy].difficulty == 1.0 and stats[easy].flags == ("easy",)
    assert stats[sharp].difficulty == 0.5 and stats[sharp].discrimination == 1.0
    assert stats[sharp].flags == ()
    assert stats[trap].discrimination == -1.0 and stats[trap].flags == ("distractor",)
    assert stats[trap].options[stats[trap].correct] == MEMBERS // 2
    # Questions answered fewer than 30 times are reported, never judged.
    assert all(not s.flags for s in stats.values() if s.answers < analysis.MIN_ITEM_ANSWERS)

    admin = await enrol(sandbox, kediri, "Admin Analisis", unit, Role.ADMIN)
    member = await enrol(sandbox, kediri, "Anggota Analisis", unit)
    await member.send("/analisis_soal")
    await expect(member, "hanya untuk admin")
    await admin.send("/analisis_soal")
    summary = await expect(admin, "Analisis soal")
    text = summary.text or ""
    assert f"{easy}: benar 100 %" in text and "semua menjawab benar" in text
    assert f"{trap}: benar 50 %, daya beda -1,00" in text
    assert sharp not in text
    assert "2 soal baru disisihkan" in text
    sheet = await admin.next_message(timeout=30)
    data = sandbox.world.files[sheet.message["document"]["file_id"]].data
    rows = list(load_workbook(io.BytesIO(data))["Analisis"].iter_rows(values_only=True))
    assert rows[0][:3] == ("Soal", "Nilai", "Jawaban")
    assert {rows[1][0], rows[2][0]} == {easy, trap}  # flagged first
    assert set(kediri.run_sync(retired)) == {easy, trap}
    in_play = {q.id for q in kediri.run_sync(questions_in_play)}
    assert easy not in in_play and trap not in in_play and sharp in in_play

    await admin.press(summary, "✅ Sudah ditinjau: pakai lagi")
    await expect(admin, "Analisis soal")  # the buttons come off
    assert kediri.run_sync(retired) == {}
    assert {easy, trap} <= {q.id for q in kediri.run_sync(questions_in_play)}
