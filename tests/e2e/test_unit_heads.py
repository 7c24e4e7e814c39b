"""Unit heads end to end: an admin names a head with /kepala_unit; the head moves the ideas
for their unit (the same buttons and the same check against the status seen as an admin's)
and reviews their unit's service stories, while publishing stays with the admins; forged
buttons for another unit's idea or story are refused and audited, a plain member can do
neither; help offered across generations is counted in the Friday post and the report,
never with a birth year; erasing a head's data removes the role."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.core.config import Settings
from bot.ideas.service import post_digest
from db.engine import Database
from db.models import AuditLog, Idea, IdeaVote, Member, Role, Story, UnitHead
from db.queries.leaderboard import link_group
from db.queries.members import create_member
from db.queries.reports import community
from db.queries.unit_heads import set_head
from db.queries.units import get_unit, list_children, list_opd
from sandbox.simulation import expect
from sandbox.users import SimUser
from tests.e2e.test_ideas import give_idea
from tests.e2e.test_stories import STORY, tell
from tests.utils import running_bot

# Born 2001 (Gen Z) and 1974 (Gen X): the NIP's first eight digits are the birth date.
NIP_YOUNG = "200103152024031001"
NIP_OLDER = "197408172000031002"
REFUSED_MOVE = "hanya untuk admin atau kepala unit"


async def join(
    sandbox,
    db: Database,
    name: str,
    unit_id: int,
    *,
    nip: str | None = None,
    role: str = Role.MEMBER,
) -> SimUser:  # type: ignore[no-untyped-def]
    """A registered member (with a NIP when given) who has started the bot."""
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
        role=role,
    )
    await user.send("/profil")
    await expect(user, "Profil Anda")
    return user


@pytest.fixture
def units(kediri: Database) -> tuple[int, int]:
    """Two unit kerja of the same OPD."""
    opd = {u.code: u.id for u in kediri.run_sync(list_opd)}
    children = kediri.run_sync(list_children, opd_id=opd["DINKES"])
    return children[0].id, children[1].id


def _ideas(db: Database) -> dict[str, Idea]:
    return db.run_sync(lambda session: {i.title: i for i in session.exec(select(Idea)).all()})


def _audit(db: Database, action: str) -> list[AuditLog]:
    return db.run_sync(
        lambda session: list(session.exec(select(AuditLog).where(AuditLog.action == action)).all())
    )


def _refused(db: Database, user: SimUser) -> tuple[int, set[str]]:
    """How many refused attempts this person made, and which actions (the log keeps one
    person's refusals within a minute as one line with a count)."""
    rows = db.run_sync(
        lambda session: list(
            session.exec(
                select(AuditLog).where(
                    AuditLog.actor_user_id == user.id,
                    AuditLog.allowed == False,  # noqa: E712
                )
            ).all()
        )
    )
    count = sum(int(r.detail.get("count", 1)) for r in rows)
    return count, {a for r in rows for a in r.detail.get("actions", [r.action])}


def _stories(db: Database) -> list[Story]:
    return db.run_sync(lambda session: list(session.exec(select(Story).order_by(Story.id)).all()))


async def name_head(
    admin: SimUser, db: Database, unit_id: int, name: str, *, first_try: str | None = None
) -> None:
    """/kepala_unit with the unit's name, then the head's name typed (after `first_try`,
    which finds nobody) and picked."""
    unit = db.run_sync(get_unit, unit_id=unit_id)
    assert unit is not None
    await admin.send(f"/kepala_unit {unit.name}")
    reply = await expect(admin, "")
    if "Pilih unit" in (reply.text or ""):
        await admin.press(reply, next(b for row in reply.buttons for b in row if unit.name in b))
        reply = await expect(admin, "Ketik nama")
    assert "Ketik nama" in (reply.text or "") and unit.name in (reply.text or "")
    if first_try is not None:
        await admin.send(first_try)
        await expect(admin, "Tidak ada anggota terdaftar yang namanya cocok")
    await admin.send(name)
    choose = await expect(admin, "Pilih kepala unitnya")
    await admin.press(choose, next(b for row in choose.buttons for b in row if name in b))
    await expect(admin, "sekarang kepala unit")


@pytest.mark.usefixtures("bot")
async def test_a_unit_head_moves_their_units_ideas_and_nobody_elses(
    bot, sandbox, kediri: Database, units: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    mine, other = units
    admin = await join(sandbox, kediri, "Admin Program", mine, role=Role.ADMIN)
    hana = await join(sandbox, kediri, "Hana Kepala", mine)
    rina = await join(sandbox, kediri, "Rina Muda", mine, nip=NIP_YOUNG)
    budi = await join(sandbox, kediri, "Budi Senior", mine, nip=NIP_OLDER)
    tono = await join(sandbox, kediri, "Tono Sebelah", other)

    # Nobody heads anything yet; a plain member may not name one (refused, audited).
    await admin.send("/kepala_unit")
    await expect(admin, "Belum ada kepala unit")
    await budi.send("/kepala_unit puskesmas")
    await expect(budi, "hanya untuk admin")
    assert [r.allowed for r in _audit(kediri, "unit_head")] == [False]
    await admin.send("/kepala_unit tidak ada unit bernama begini")
    await expect(admin, "Tidak ada OPD atau unit kerja yang cocok")
    await name_head(admin, kediri, mine, "Hana", first_try="<b>Zzz</b>")
    told = await expect(hana, "Anda ditunjuk sebagai")
    assert "/cerita_tinjau" in (told.text or "")
    [named] = _audit(kediri, "unit_head_set")
    assert named.allowed and named.detail["unit_id"] == mine
    await hana.send("/bantuan")
    assert "/cerita_tinjau" in ((await expect(hana, "Bantuan")).text or "")

    # A young member's idea for her unit, supported and helped by an older colleague; an
    # idea in the other unit, for the other unit.
    await give_idea(rina, "Antrean daring pengambilan obat")
    await expect(rina, "tersimpan")
    await give_idea(tono, "Papan antrean di unit sebelah")
    await expect(tono, "tersimpan")
    ideas = _ideas(kediri)
    ours, theirs = ideas["Antrean daring pengambilan obat"], ideas["Papan antrean di unit sebelah"]
    assert (ours.target_unit_id, theirs.target_unit_id) == (mine, other)
    await budi.send("/ide_daftar")
    listing = await expect(budi, "Ide untuk unit Anda")
    await budi.press(listing, listing.buttons[0][0])
    listing = await expect(budi, "👍 1 · 🙋 0")
    await budi.press(listing, listing.buttons[0][1])
    await expect(budi, "👍 1 · 🙋 1")
    help_rows = kediri.run_sync(
        lambda session: [(v.kind, v.cross_generation) for v in session.exec(select(IdeaVote)).all()]
    )
    assert sorted(help_rows, key=str) == [("help", True), ("support", None)]

    # A plain member sees no ⚙️ and is refused when forging it; nothing moves.
    assert not any("Kelola" in b for row in listing.buttons for b in row)
    query = await budi.press_forged(listing.message_id, f"ide:mv:{ours.id}:b:t")
    assert REFUSED_MOVE in (await sandbox.wait_callback_answer(query))["text"]

    # The head sees ⚙️ only on her unit's idea and moves it; author and helper are told.
    await hana.send("/ide_daftar")
    listing = await expect(hana, "Ide untuk unit Anda")
    manage = [b for row in listing.buttons for b in row if "Kelola" in b]
    assert manage == [f"⚙️ Kelola #{ours.id}"]
    await hana.press(listing, manage[0])
    await hana.press(await expect(hana, "Pindahkan ke:"), "🔎 Ditinjau")
    for person in (rina, budi):
        await expect(person, "kini: ", within=10)
    # Forged buttons for the other unit's idea: refused and audited, nothing moves.
    query = await hana.press_forged(listing.message_id, f"ide:m:{theirs.id}")
    assert REFUSED_MOVE in (await sandbox.wait_callback_answer(query))["text"]
    query = await hana.press_forged(listing.message_id, f"ide:mv:{theirs.id}:b:t")
    assert REFUSED_MOVE in (await sandbox.wait_callback_answer(query))["text"]
    ideas = _ideas(kediri)
    assert ideas[ours.title].status == "ditinjau" and ideas[theirs.title].status == "baru"
    assert _refused(kediri, hana) == (2, {"idea_manage", "idea_move"})
    assert _refused(kediri, budi) == (2, {"unit_head", "idea_move"})
    assert [r.detail["as"] for r in _audit(kediri, "idea_status")] == ["unit_head"]

    for step in ("👍 Diterima", "🛠 Sedang dikerjakan"):
        await hana.send("/ide_daftar")
        listing = await expect(hana, "Ide untuk unit Anda")
        await hana.press(listing, f"⚙️ Kelola #{ours.id}")
        await hana.press(await expect(hana, "Pindahkan ke:"), step)
        for person in (rina, budi):
            await expect(person, "kini: ", within=10)
    # The head and an admin open the same idea; the admin moves it first: the head's
    # press finds it moved (checked against the status she saw), and it moves once.
    await hana.send("/ide_daftar")
    await hana.press(await expect(hana, "Ide untuk unit Anda"), f"⚙️ Kelola #{ours.id}")
    heads_view = await expect(hana, "Pindahkan ke:")
    await admin.send("/ide_daftar")
    await admin.press(await expect(admin, "Ide untuk unit Anda"), f"⚙️ Kelola #{ours.id}")
    await admin.press(await expect(admin, "Pindahkan ke:"), "🎉 Terealisasi")
    for person in (rina, budi):
        await expect(person, "kini: ", within=10)
    query = await hana.press(heads_view, "🎉 Terealisasi")
    assert "sudah diubah orang lain" in (await sandbox.wait_callback_answer(query))["text"]
    assert _ideas(kediri)[ours.title].status == "terealisasi"
    assert len(_audit(kediri, "idea_status")) == 4

    # Friday: the unit's post celebrates it and counts the help across generations, with
    # no birth year anywhere.
    group = sandbox.group("Tim Unit Kepala")
    await group.add(hana, admin=True)
    await group.add_bot()
    kediri.run_sync(link_group, unit_id=mine, chat_id=group.chat_id)
    deps = bot.bot_data["deps"]
    assert await post_digest(deps, bot.bot, "Asia/Jakarta", deps.clock.today("Asia/Jakarta"))
    digest = await expect(group, "Terealisasi bersama")
    text = digest.text or ""
    assert "Antrean daring pengambilan obat" in text
    assert "1 tawaran bantuan untuk ide unit ini: 0 dari unit lain, 1 lintas generasi" in text
    for year in ("2001", "1974", "Gen Z", "Gen X"):
        assert year not in text
    # The monthly report's figures count it too.
    now = deps.clock.now()
    counts, _ = kediri.run_sync(community, start=now - timedelta(days=1), end=now + timedelta(1))
    assert (counts[mine].help, counts[mine].help_cross_generation) == (1, 1)
    assert counts[mine].realised == 1


async def test_a_unit_head_reviews_their_units_stories_and_admins_publish(
    sandbox, settings: Settings, kediri: Database, units: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    mine, other = units
    channel = sandbox.group("Kanal Kepala Unit", supergroup=True)
    channel_settings = settings.model_copy(update={"public_channel_id": channel.chat_id})
    async with running_bot(channel_settings, kediri):
        admin = await join(sandbox, kediri, "Admin Cerita", mine, role=Role.ADMIN)
        hana = await join(sandbox, kediri, "Hana Kepala", mine)
        siti = await join(sandbox, kediri, "Siti Pelayan", mine)
        tono = await join(sandbox, kediri, "Tono Sebelah", other)
        await channel.add(admin, admin=True)
        await channel.add_bot()
        # A plain member cannot review yet.
        await hana.send("/cerita_tinjau")
        await expect(hana, "hanya untuk admin")
        await name_head(admin, kediri, mine, "Hana")
        await expect(hana, "Anda ditunjuk sebagai")

        # The other unit's story comes first; the head sees only her unit's.
        for user in (tono, siti):
            await tell(user, caption=STORY, publish=True)
            await user.press(await expect(user, "Kirim untuk ditinjau?"), "✅ Kirim untuk ditinjau")
            await expect(user, "terkirim untuk ditinjau")
        theirs, ours = _stories(kediri)
        await hana.send("/cerita_tinjau")
        review = await expect(hana, f"Cerita #{ours.id}")
        assert "(1 menunggu)" in (review.text or "") and "Siti Pelayan" in (review.text or "")
        # Forged: a review of the other unit's story, and publishing: refused, audited.
        query = await hana.press_forged(review.message_id, f"cer:ok:{theirs.id}")
        assert (
            "bukan dari unit yang Anda pimpin"
            in (await sandbox.wait_callback_answer(query))["text"]
        )
        assert _stories(kediri)[0].status == "diajukan"
        # A plain member's forged review is refused as before.
        query = await tono.press_forged(1, f"cer:ok:{ours.id}")
        assert "hanya untuk admin" in (await sandbox.wait_callback_answer(query))["text"]

        await hana.press(review, "✅ Setujui")
        done = await expect(hana, "disetujui")
        assert "Admin (BKPSDM) diminta menerbitkannya" in (done.text or "")
        assert done.buttons == []  # no publish button for a head
        await expect(siti, "disetujui dan akan diterbitkan HR")
        query = await hana.press_forged(done.message_id, f"cer:pub:{ours.id}")
        assert "hanya untuk admin (BKPSDM)" in (await sandbox.wait_callback_answer(query))["text"]
        assert _stories(kediri)[1].status == "disetujui"
        # Hana's refusals: /cerita_tinjau before she was named, the other unit's story, and
        # publishing.
        assert _refused(kediri, hana) == (3, {"story_review", "story_publish"})
        # The admin is asked to publish it, and does, once.
        ask = await expect(admin, "siap diterbitkan")
        await admin.press(ask, "📣 Terbitkan ke kanal instansi")
        await expect(siti, "sudah terbit")
        await expect(channel, "Cerita pelayanan", within=30)
        assert _stories(kediri)[1].status == "terbit"
        await hana.send("/cerita_tinjau")
        await expect(hana, "Tidak ada cerita dari unit yang Anda pimpin")

        # A head declines with the reason typed as her next message; the author reads it.
        await tell(siti, caption=f"{STORY} Versi kedua.", publish=False)
        await siti.press(await expect(siti, "Kirim untuk ditinjau?"), "✅ Kirim untuk ditinjau")
        await expect(siti, "terkirim untuk ditinjau")
        await hana.send("/cerita_tinjau")
        await hana.press(await expect(hana, "(1 menunggu)"), "🚫 Tolak")
        await expect(hana, "Tulis alasan cerita")
        await hana.send("Mohon ceritakan pengalaman yang lain.")
        await expect(hana, "ditolak")
        note = await expect(siti, "belum dapat diterbitkan")
        assert "Mohon ceritakan pengalaman yang lain." in (note.text or "")
        assert _stories(kediri)[2].status == "ditolak"
        # The other unit's story still waits, for an admin.
        await admin.send("/cerita_tinjau")
        await expect(admin, f"Cerita #{theirs.id}")

        # Removed by an admin: told, and no longer a reviewer.
        await admin.send("/kepala_unit")
        heads = await expect(admin, "Kepala unit")
        assert "Hana Kepala" in (heads.text or "")
        await admin.press(heads, next(b for row in heads.buttons for b in row if "Hana" in b))
        await expect(admin, "tidak lagi menjadi kepala unit")
        await expect(hana, "tidak lagi menjadi kepala unit")
        await hana.send("/cerita_tinjau")
        await expect(hana, "hanya untuk admin")
        assert [r.allowed for r in _audit(kediri, "unit_head_remove")] == [True]


@pytest.mark.usefixtures("bot")
async def test_erasing_a_heads_data_removes_the_role(
    sandbox, kediri: Database, units: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    mine, _ = units
    hana = await join(sandbox, kediri, "Hana Kepala", mine)
    head_id = kediri.run_sync(lambda session: session.exec(select(Member.id)).one())
    kediri.run_sync(set_head, unit_id=mine, member_id=head_id, now=datetime.now(UTC))
    # The role is the person's own data: /data_saya shows it.
    await hana.send("/data_saya")
    doc = await expect(hana, "Data Anda")
    data = json.loads(sandbox.world.files[doc.document["file_id"]].data)
    unit = kediri.run_sync(get_unit, unit_id=mine)
    assert unit is not None and data["profil"]["kepala_unit"] == [unit.name]
    await hana.send("/bantuan")
    assert "/cerita_tinjau" in ((await expect(hana, "Bantuan")).text or "")
    await hana.send("/hapus_data")
    confirm = await expect(hana, "Hapus data pribadi?")
    await hana.press(confirm, "🗑 Ya, hapus data saya")
    await expect(hana, "sudah dihapus")
    assert kediri.run_sync(lambda session: list(session.exec(select(UnitHead)).all())) == []
