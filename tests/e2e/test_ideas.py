"""Ideas end to end: a young member's idea, supported and helped by an older colleague,
moved on by an admin until it is realised, with points and notices; and the refusals
(forged buttons, a stranger, the author on their own idea, duplicates, floods)."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.ideas.service import post_digest
from db.engine import Database
from db.models import Appreciation, Idea, IdeaVote, Member, Role, Score, Story
from db.queries.leaderboard import link_group
from db.queries.units import list_children, list_opd
from sandbox.simulation import expect
from sandbox.users import SimUser
from tests.e2e.test_programme_admin import enrol

DESCRIPTION = "Formulir izin usaha dibuat satu halaman, dengan contoh pengisian di baliknya."


def _ideas(db: Database) -> list[Idea]:
    return db.run_sync(lambda session: list(session.exec(select(Idea)).all()))


def _votes(db: Database) -> list[tuple[int, int, str]]:
    return db.run_sync(
        lambda session: [
            (v.idea_id, v.member_id, v.kind) for v in session.exec(select(IdeaVote)).all()
        ]
    )


@pytest.fixture
def unit(kediri: Database) -> int:
    opd = {u.code: u.id for u in kediri.run_sync(list_opd)}
    return kediri.run_sync(list_children, opd_id=opd["DINKES"])[0].id


async def give_idea(user: SimUser, title: str, description: str = DESCRIPTION) -> None:
    await user.send("/ide")
    await expect(user, "Tulis judul ide Anda")
    await user.send(title)
    await expect(user, "Sekarang jelaskan idenya")
    await user.send(description)
    values = await expect(user, "Nilai BerAKHLAK mana")
    await user.press(values, "Berorientasi Pelayanan")
    target = await expect(user, "Ide ini untuk siapa?")
    await user.press(target, target.buttons[0][0])
    preview = await expect(user, "Kirim ide ini?")
    await user.press(preview, "✅ Kirim ide")


@pytest.mark.usefixtures("bot")
async def test_an_idea_supported_helped_and_realised_together(
    sandbox, kediri: Database, unit: int
) -> None:  # type: ignore[no-untyped-def]
    rina = await enrol(sandbox, kediri, "Rina Gen Z", unit)
    budi = await enrol(sandbox, kediri, "Budi Senior", unit)
    admin = await enrol(sandbox, kediri, "Admin Ide", unit, Role.ADMIN)
    await give_idea(rina, "Formulir izin satu halaman")
    saved = await expect(rina, "tersimpan")
    [idea] = _ideas(kediri)
    assert f"Ide #{idea.id} tersimpan" in (saved.text or "")
    assert (idea.title, idea.value, idea.status, idea.target_unit_id) == (
        "Formulir izin satu halaman",
        "BP",
        "baru",
        unit,
    )

    # The older colleague supports it and offers help; a second press withdraws support.
    await budi.send("/ide_daftar")
    listing = await expect(budi, "Ide untuk unit Anda")
    assert "Formulir izin satu halaman" in (listing.text or "")
    support = listing.buttons[0][0]
    query = await budi.press(listing, support)
    assert "tercatat" in (await sandbox.wait_callback_answer(query))["text"]
    listing = await expect(budi, "👍 1 · 🙋 0")
    query = await budi.press(listing, listing.buttons[0][1])
    assert "bantuan Anda tercatat" in (await sandbox.wait_callback_answer(query))["text"]
    listing = await expect(budi, "👍 1 · 🙋 1")
    query = await budi.press(listing, listing.buttons[0][0])
    assert "ditarik" in (await sandbox.wait_callback_answer(query))["text"]
    await expect(budi, "👍 0 · 🙋 1")
    assert {v[2] for v in _votes(kediri)} == {"help"}

    # The author sees no support buttons on their own idea, and a forged one is refused.
    await rina.send("/ide_daftar")
    own = await expect(rina, "Ide untuk unit Anda")
    assert own.buttons == []
    query = await rina.press_forged(own.message_id, f"ide:s:{idea.id}:0")
    assert "ide Anda sendiri" in (await sandbox.wait_callback_answer(query))["text"]
    # A stranger's forged press changes nothing.
    stranger = sandbox.user("Orang Asing")
    query = await stranger.press_forged(1, f"ide:s:{idea.id}:0")
    assert "Hanya anggota terdaftar" in (await sandbox.wait_callback_answer(query))["text"]
    # A member's forged status move is refused and audited; nothing moves.
    query = await budi.press_forged(listing.message_id, f"ide:mv:{idea.id}:b:r")
    assert "hanya untuk admin" in (await sandbox.wait_callback_answer(query))["text"]
    assert _ideas(kediri)[0].status == "baru"
    assert len(_votes(kediri)) == 1

    # The admin carries it through; the author and the helper hear of every step.
    await admin.send("/ide_daftar")
    listing = await expect(admin, "Ide untuk unit Anda")
    await admin.press(listing, f"⚙️ Kelola #{idea.id}")
    for step, shown in (
        ("🔎 Ditinjau", "ditinjau"),
        ("👍 Diterima", "diterima"),
        ("🛠 Sedang dikerjakan", "sedang dikerjakan"),
        ("🎉 Terealisasi", "terealisasi"),
    ):
        manage = await expect(admin, "Pindahkan ke:")
        await admin.press(manage, step)
        for person in (rina, budi):
            await expect(person, "kini: ", within=10)
        if step != "🎉 Terealisasi":
            await admin.send("/ide_daftar")
            listing = await expect(admin, "Ide untuk unit Anda")
            await admin.press(listing, f"⚙️ Kelola #{idea.id}")
        assert shown
    assert _ideas(kediri)[0].status == "terealisasi"
    points = kediri.run_sync(
        lambda session: {
            s.member_id: s.points
            for s in session.exec(select(Score).where(Score.period == "all")).all()
        }
    )
    assert points[idea.author_id] == 20  # the author
    assert sorted(points.values()) == [10, 20]  # and the helper; nobody else
    # HR's spreadsheet: every idea, with its support and status, no author's name.
    await admin.send("/ide_ekspor")
    sheet = await expect(admin, "Semua ide: 1 baris")
    data = sandbox.world.files[sheet.message["document"]["file_id"]].data
    rows = list(load_workbook(io.BytesIO(data))["Ide"].iter_rows(values_only=True))
    assert rows[0][:3] == ("No.", "Judul", "Nilai")
    assert rows[1][1:8] == (
        "Formulir izin satu halaman",
        "BP",
        rows[1][3],
        rows[1][4],
        "terealisasi",
        0,
        1,
    )
    assert "Rina" not in str(rows)
    await budi.send("/ide_ekspor")
    await expect(budi, "hanya untuk admin")
    # A finished idea takes no more support.
    query = await budi.press_forged(1, f"ide:h:{idea.id}:0")
    assert "sudah selesai" in (await sandbox.wait_callback_answer(query))["text"]


@pytest.mark.usefixtures("bot")
async def test_duplicates_floods_and_bad_text_are_refused(
    sandbox, kediri: Database, unit: int
) -> None:  # type: ignore[no-untyped-def]
    rina = await enrol(sandbox, kediri, "Rina Ide", unit)
    budi = await enrol(sandbox, kediri, "Budi Ide", unit)
    await rina.send("/ide")
    await expect(rina, "Tulis judul ide Anda")
    await rina.send("x" * 101)
    await expect(rina, "Judulnya 101 karakter; paling banyak 100")
    await rina.send("<b>Judul</b> & 😀")
    await expect(rina, "Sekarang jelaskan idenya")
    await rina.send("pendek")
    await expect(rina, "terlalu singkat")
    await rina.send("/batal")
    await expect(rina, "Dibatalkan; tidak ada yang disimpan")
    assert _ideas(kediri) == []

    await give_idea(rina, "Antrean daring puskesmas")
    await expect(rina, "tersimpan")
    # The same idea from someone else, in other case and spacing, points to the first.
    await give_idea(budi, "antrean   DARING puskesmas")
    duplicate = await expect(budi, "Ide yang sama sudah ada")
    assert "Antrean daring puskesmas" in (duplicate.text or "")
    for n in (2, 3):
        await give_idea(rina, f"Ide nomor {n}", f"{DESCRIPTION} Versi {n}.")
        await expect(rina, "tersimpan")
    await give_idea(rina, "Ide keempat", f"{DESCRIPTION} Versi 4.")
    await expect(rina, "sudah memberi 3 ide dalam 24 jam")
    titles = sorted(i.title for i in _ideas(kediri))
    assert titles == ["Antrean daring puskesmas", "Ide nomor 2", "Ide nomor 3"]
    # HTML in a title is shown as text, never as markup.
    await rina.send("/ide")
    await expect(rina, "Tulis judul ide Anda")
    await rina.send("<b>Judul</b> & 😀")
    shown = await expect(rina, "Sekarang jelaskan idenya")
    assert "<b>Judul</b> & 😀" in (shown.text or "")


async def test_the_weekly_digest_lists_the_units_new_ideas(
    bot, sandbox, kediri: Database, unit: int
) -> None:  # type: ignore[no-untyped-def]
    rina = await enrol(sandbox, kediri, "Rina Digest", unit)
    await give_idea(rina, "Papan informasi ramah disabilitas")
    await expect(rina, "tersimpan")
    group = sandbox.group("Tim Dinkes")
    await group.add(rina, admin=True)
    await group.add_bot()
    kediri.run_sync(link_group, unit_id=unit, chat_id=group.chat_id)
    deps = bot.bot_data["deps"]
    # A story published this week, and thanks between two people who allow their first
    # name on the board (and one from someone who does not: not shown).
    await enrol(sandbox, kediri, "Budi Digest", unit)
    await enrol(sandbox, kediri, "Sari Tertutup", unit)
    now = deps.clock.now()

    def seed(session) -> None:  # type: ignore[no-untyped-def]
        members = {m.full_name: m for m in session.exec(select(Member)).all()}
        for name in ("Rina Digest", "Budi Digest"):
            members[name].show_name = True
            session.add(members[name])
        for giver, receiver in (("Budi Digest", "Rina Digest"), ("Sari Tertutup", "Rina Digest")):
            session.add(
                Appreciation(
                    giver_id=members[giver].id,
                    receiver_id=members[receiver].id,
                    receiver_unit_id=unit,
                    value="KL",
                    reason="Terima kasih.",
                    created_at=now,
                )
            )
        session.add(
            Story(
                author_id=members["Rina Digest"].id,
                unit_id=unit,
                value="BP",
                text="Cerita pelayanan yang sudah terbit minggu ini untuk warga.",
                status="terbit",
                consent_author=True,
                consent_others=True,
                created_at=now,
                updated_at=now,
            )
        )

    kediri.run_sync(seed)
    posted = await post_digest(deps, bot.bot, "Asia/Jakarta", deps.clock.today("Asia/Jakarta"))
    assert posted == 1
    digest = await expect(group, "Ide minggu ini")
    text = digest.text or ""
    assert "Papan informasi ramah disabilitas" in text
    assert "Cerita pelayanan terbit: terima kasih Rina!" in text
    assert "Budi → Rina (KL)" in text
    assert "Sari" not in text
