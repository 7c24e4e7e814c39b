"""/apresiasi end to end: thanks across generations and units, told to the colleague; the
rules against gaming it (same pair in a week, reciprocal pairs, three a day, never
oneself, forged choices) and odd input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from db.engine import Database
from db.models import Appreciation, Score
from db.queries.members import create_member
from db.queries.units import list_children, list_opd
from sandbox.simulation import expect
from sandbox.users import SimUser

GEN_Z_NIP = "200001152022011001"  # born 2000
GEN_X_NIP = "197003121995031002"  # born 1970


async def member(sandbox, db: Database, name: str, unit_id: int, nip: str | None) -> SimUser:  # type: ignore[no-untyped-def]
    user = sandbox.user(name)
    db.run_sync(
        create_member,
        telegram_user_id=user.id,
        chat_id=user.chat_id,
        full_name=name,
        unit_id=unit_id,
        nip=nip,
        language="id",
        consent_at=datetime.now(UTC),
    )
    await user.send("/profil")
    await expect(user, "Profil Anda")
    return user


def rows(db: Database) -> list[Appreciation]:
    return db.run_sync(
        lambda session: list(session.exec(select(Appreciation).order_by(Appreciation.id)).all())
    )


async def thank(user: SimUser, search: str, value: str, reason: str) -> None:
    await user.send(f"/apresiasi {search}")
    choose = await expect(user, "Rekan yang mana?")
    await user.press(choose, choose.buttons[0][0])
    values = await expect(user, "Nilai BerAKHLAK apa")
    await user.press(values, value)
    await expect(user, "Tulis alasannya")
    await user.send(reason)


@pytest.fixture
def units(kediri: Database) -> tuple[int, int]:
    opd = {u.code: u.id for u in kediri.run_sync(list_opd)}
    dinkes = kediri.run_sync(list_children, opd_id=opd["DINKES"])[0].id
    other = next(u for u in kediri.run_sync(list_opd) if u.code != "DINKES")
    return dinkes, other.id


@pytest.mark.usefixtures("bot")
async def test_thanks_across_generations_and_the_rules_against_gaming(
    sandbox, kediri: Database, units: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    rina = await member(sandbox, kediri, "Rina Muda", units[0], GEN_Z_NIP)
    budi = await member(sandbox, kediri, "Budi Senior", units[1], GEN_X_NIP)

    await thank(rina, "budi", "Kolaboratif", "Mengajari saya membaca anggaran dengan sabar.")
    sent = await expect(rina, "Terima kasih Anda untuk Budi Senior (Kolaboratif)")
    assert "tidak menambah poin" not in (sent.text or "")
    told = await expect(budi, "Rina Muda")
    assert "Mengajari saya membaca anggaran dengan sabar." in (told.text or "")
    assert "+2 poin" in (told.text or "")
    [first] = rows(kediri)
    assert (first.value, first.weight, first.points, first.cross_generation) == ("KL", 1.0, 2, True)
    # Nothing in the row or the message gives a birth year.
    assert "2000" not in (told.text or "") and "1970" not in (told.text or "")

    # The same pair again this week: delivered, but it counts for nothing.
    await thank(rina, "budi", "Adaptif", "Membantu lagi di rapat koordinasi.")
    again = await expect(rina, "tidak menambah poin")
    assert "Budi Senior" in (again.text or "")
    await expect(budi, "Membantu lagi")
    assert rows(kediri)[-1].weight == 0 and rows(kediri)[-1].points == 0

    # Thanks back counts less: two exchanges already between them, so 1/sqrt(3).
    await thank(budi, "rina", "Adaptif", "Mengenalkan saya pada tanda tangan elektronik.")
    await expect(budi, "Terima kasih Anda untuk Rina Muda")
    back = rows(kediri)[-1]
    assert round(back.weight, 3) == 0.577 and back.points == 1

    points = kediri.run_sync(
        lambda session: {
            s.member_id: s.points
            for s in session.exec(select(Score).where(Score.period == "all")).all()
        }
    )
    assert sorted(points.values()) == [1, 2]

    # A third thanks from Rina today is fine; a fourth is refused and stores nothing.
    await thank(rina, "budi", "Loyal", "Menjaga nama baik unit saat ada keluhan warga.")
    await expect(rina, "Terima kasih Anda untuk Budi Senior")
    await thank(rina, "budi", "Harmonis", "Satu lagi.")
    await expect(rina, "sudah memberi 3 apresiasi")
    assert len(rows(kediri)) == 4


@pytest.mark.usefixtures("bot")
async def test_oneself_strangers_forged_choices_and_long_reasons(
    sandbox, kediri: Database, units: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    rina = await member(sandbox, kediri, "Rina Sendiri", units[0], None)
    budi = await member(sandbox, kediri, "Budi Lain", units[0], None)
    # Searching one's own name offers nobody; a Telegram id finds nobody.
    await rina.send("/apresiasi rina sendiri")
    await expect(rina, "Tidak ada rekan dengan nama itu")
    await rina.send(f"/apresiasi {budi.id}")
    await expect(rina, "Tidak ada rekan dengan nama itu")
    await rina.send("/apresiasi")
    await expect(rina, "Ketik /apresiasi diikuti nama")
    # A forged choice (her own member id, never offered) reaches no one.
    await rina.send("/apresiasi budi")
    choose = await expect(rina, "Rekan yang mana?")
    query = await rina.press_forged(choose.message_id, "apr:m:1")
    assert "tidak berlaku" in (await sandbox.wait_callback_answer(query))["text"]
    await rina.press(choose, choose.buttons[0][0])
    values = await expect(rina, "Nilai BerAKHLAK apa")
    await rina.press(values, "Harmonis")
    await expect(rina, "Tulis alasannya")
    await rina.send("x" * 201)
    await expect(rina, "Alasannya 201 karakter")
    await rina.send("<b>Ramah</b> & sabar 😀")
    await expect(rina, "Terima kasih Anda untuk Budi Lain")
    told = await expect(budi, "Rina Sendiri")
    assert "<b>Ramah</b> & sabar 😀" in (told.text or "")  # shown as text, not markup
    [row] = rows(kediri)
    assert row.cross_generation is None  # no NIPs, no generation
    stranger = sandbox.user("Orang Asing")
    await stranger.send("/apresiasi budi")
    await expect(stranger, "/start")
    assert len(rows(kediri)) == 1
