"""UU 27/2022 end to end: /hapus_data leaves the person nowhere (every table, the SQLite
files), an unfinished draft can be erased, /data_saya sends the person's own data, the
consent names the controller and the periods, and retention removes what is too old."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlmodel import SQLModel, select

from bot.core.config import Settings
from bot.members import privacy
from db.engine import Database
from db.models import (
    Appreciation,
    AuditLog,
    Broadcast,
    Delivery,
    DeliveryState,
    Idea,
    Member,
    QuizAnswer,
    QuizPoll,
    Reflection,
    Registration,
    Story,
)
from db.queries.content import sync_bank
from sandbox.simulation import begin, expect, register
from tests.e2e.test_registration import BUDI
from tests.utils import eventually

NIP_DIGITS = "".join(c for c in BUDI.nip or "" if c.isdigit())


def every_row(db: Database) -> str:
    """Every value of every table as one text, for grepping."""

    def dump(session):  # type: ignore[no-untyped-def]
        out = []
        for table in SQLModel.metadata.sorted_tables:
            for row in session.execute(text(f'SELECT * FROM "{table.name}"')).all():
                out.append(f"{table.name}: {tuple(row)!r}")
        return "\n".join(out)

    return db.run_sync(dump)


def sqlite_files(settings: Settings) -> bytes:
    path = settings.sqlite_path()
    if path is None:
        return b""
    return b"".join(
        Path(f"{path}{suffix}").read_bytes()
        for suffix in ("", "-wal", "-journal", "-shm")
        if Path(f"{path}{suffix}").exists()
    )


async def active_member(bot, sandbox, kediri: Database):  # type: ignore[no-untyped-def]
    """A member with an answer, a reflection, a refused admin command and a broadcast
    that greeted them by name."""
    deps = bot.bot_data["deps"]
    kediri.run_sync(sync_bank, questions=deps.content.questions, prompts=deps.content.prompts)
    user = sandbox.user("Budi Santoso")
    await register(user, BUDI)
    await user.send("/kuis")
    while (await user.next_message()).poll is None:
        pass
    await eventually(
        lambda: len(kediri.run_sync(lambda session: session.exec(select(QuizPoll)).all())) == 1
    )
    # The answer is written as the vote path would (that path has its own tests).
    sent = kediri.run_sync(lambda session: session.exec(select(QuizPoll)).one())
    kediri.run_sync(
        lambda session: session.add(
            QuizAnswer(
                poll_id=sent.poll_id,
                member_id=sent.member_id,
                question_id=sent.question_id,
                option=0,
                correct=False,
                seconds=3,
                practice=True,
            )
        )
    )
    await user.send("Hari ini saya membantu warga lansia mengisi formulir.")
    await expect(user, "")
    await user.send("/audit")
    await expect(user, "hanya untuk admin")
    member = kediri.run_sync(lambda session: session.exec(select(Member)).one())

    def greet(session):  # type: ignore[no-untyped-def]
        broadcast = Broadcast(created_by=user.id, status_chat_id=user.chat_id, total=1)
        session.add(broadcast)
        session.flush()
        for state in (DeliveryState.SENT, DeliveryState.PENDING):
            session.add(
                Delivery(
                    broadcast_id=broadcast.id,
                    member_id=member.id,
                    chat_id=user.chat_id,
                    payload={"text": f"Halo {BUDI.name}, selamat pagi"},
                    state=state,
                    # Not due yet: it is still waiting when the person leaves.
                    next_attempt_at=datetime.now(UTC) + timedelta(days=1),
                )
            )

    kediri.run_sync(greet)

    def board(session):  # type: ignore[no-untyped-def]
        # The Friday board as a group got it, naming the member who opted in.
        post = Broadcast(kind="board", total=1)
        session.add(post)
        session.flush()
        for name in ("Budi", "Siti"):
            session.add(
                Delivery(
                    broadcast_id=post.id,
                    chat_id=-4000000999,
                    payload={"text": f"Papan: {name} 120 poin"},
                    state=DeliveryState.SENT,
                )
            )

    kediri.run_sync(board)
    return user


async def test_erasure_leaves_no_trace(bot, sandbox, settings, kediri: Database) -> None:
    user = await active_member(bot, sandbox, kediri)
    now = datetime.now(UTC)

    def community(session):  # type: ignore[no-untyped-def]
        # Their words in the community features: a story, a thanks received, an idea.
        member = session.exec(select(Member)).one()
        session.add(
            Story(
                author_id=member.id,
                unit_id=member.unit_id,
                value="BP",
                text=f"Cerita {BUDI.name}: lansia mengisi formulir di loket.",
                created_at=now,
                updated_at=now,
            )
        )
        session.add(
            Appreciation(
                receiver_id=member.id,
                value="KL",
                reason=f"Terima kasih {BUDI.name} atas bantuannya.",
                created_at=now,
            )
        )
        session.add(
            Idea(
                author_id=member.id,
                unit_id=member.unit_id,
                value="KL",
                title="Papan antrean",
                description="Papan antrean yang mudah dibaca warga lansia.",
                fingerprint="f",
                created_at=now,
                updated_at=now,
            )
        )

    kediri.run_sync(community)
    before = every_row(kediri)
    assert BUDI.name in before and NIP_DIGITS in before and str(user.id) in before
    await user.send("/hapus_data")
    confirm = await expect(user, "Hapus data pribadi?")
    await user.press(confirm, "🗑 Ya, hapus data saya")
    await expect(user, "sudah dihapus")
    after = every_row(kediri)
    for secret in (BUDI.name, NIP_DIGITS, str(user.id), "lansia mengisi formulir"):
        assert secret not in after, secret
    on_disk = sqlite_files(settings)
    for secret in (BUDI.name, NIP_DIGITS, "lansia mengisi formulir"):
        assert secret.encode() not in on_disk, secret
    # The anonymous rows stay, under the pseudonym; nothing left to send to them.
    [member] = kediri.run_sync(lambda session: list(session.exec(select(Member)).all()))
    assert member.telegram_user_id == -member.id and member.unit_id is not None
    polls = kediri.run_sync(lambda session: list(session.exec(select(QuizPoll)).all()))
    assert polls and all(p.chat_id == -member.id for p in polls)
    audit = kediri.run_sync(lambda session: list(session.exec(select(AuditLog)).all()))
    assert any(a.actor_user_id == -member.id for a in audit)
    deliveries = kediri.run_sync(lambda session: list(session.exec(select(Delivery)).all()))
    private = [d for d in deliveries if d.chat_id != -4000000999]
    assert {d.state for d in private} == {DeliveryState.SENT, DeliveryState.CANCELLED}
    assert all(d.payload == {} and d.chat_id == -member.id for d in private)
    # The group's board forgets the first name; a colleague's post keeps its text.
    posts = sorted(str(d.payload) for d in deliveries if d.chat_id == -4000000999)
    assert posts == ["{'text': 'Papan: Siti 120 poin'}", "{}"]
    reflections = kediri.run_sync(lambda session: list(session.exec(select(Reflection)).all()))
    assert [r.text for r in reflections] == [""]
    # Their story leaves the queue with its words; the thanks keeps no reason; the idea
    # stays as the unit's, without its author.
    [story] = kediri.run_sync(lambda session: list(session.exec(select(Story)).all()))
    assert (story.text, story.status, story.author_id) == ("", "ditolak", None)
    [thanks] = kediri.run_sync(lambda session: list(session.exec(select(Appreciation)).all()))
    assert thanks.reason == ""
    [idea] = kediri.run_sync(lambda session: list(session.exec(select(Idea)).all()))
    assert idea.author_id is None and idea.title == "Papan antrean"


async def test_an_unfinished_draft_can_be_erased(bot, sandbox, settings, kediri) -> None:
    user = sandbox.user("Dewi Lestari")
    await begin(user)
    await user.send("Dewi Lestari")
    await expect(user, "Unit kerja")
    assert kediri.run_sync(lambda session: session.get(Registration, user.id)) is not None
    await user.send("/hapus_data")
    confirm = await expect(user, "pendaftaran yang belum selesai")
    await user.press(confirm, "🗑 Ya, hapus data saya")
    await expect(user, "sudah dihapus")
    assert kediri.run_sync(lambda session: session.get(Registration, user.id)) is None
    assert "Dewi Lestari" not in every_row(kediri)
    assert b"Dewi Lestari" not in sqlite_files(settings)
    # Nothing to erase now: said so, nothing changes.
    await user.send("/hapus_data")
    await expect(user, "Anda belum terdaftar")


async def test_cancelling_a_draft_erasure_keeps_it(bot, sandbox, kediri) -> None:
    user = sandbox.user("Eko")
    await begin(user)
    await user.send("/hapus_data")
    confirm = await expect(user, "pendaftaran yang belum selesai")
    await user.press(confirm, "Batal")
    await expect(user, "Dibatalkan")
    assert kediri.run_sync(lambda session: session.get(Registration, user.id)) is not None


async def test_data_saya_sends_the_persons_own_data(bot, sandbox, kediri: Database) -> None:
    user = await active_member(bot, sandbox, kediri)
    member = kediri.run_sync(lambda session: session.exec(select(Member)).one())
    now = datetime.now(UTC)
    kediri.run_sync(
        lambda session: session.add(
            Idea(
                author_id=member.id,
                unit_id=member.unit_id,
                value="AD",
                title="Antrean daring puskesmas",
                description="Nomor antrean lewat WhatsApp.",
                fingerprint="antrean",
                created_at=now,
                updated_at=now,
            )
        )
    )
    await user.send("/data_saya")
    doc = await expect(user, "Data Anda")
    assert doc.document["file_name"].endswith(".json")
    data = json.loads(sandbox.world.files[doc.document["file_id"]].data)
    assert data["profil"]["nama_lengkap"] == BUDI.name
    assert data["profil"]["nip"] == NIP_DIGITS
    assert data["profil"]["waktu_persetujuan"]
    assert data["profil"]["unit_kerja"] == "Puskesmas Sukorame"
    assert len(data["jawaban_kuis"]) == 1 and data["jawaban_kuis"][0]["pilihan"] == 1
    assert data["refleksi"][0]["teks"].startswith("Hari ini saya membantu")
    assert any(s["periode"] == "all" for s in data["skor"]) or data["skor"] == []
    assert [i["judul"] for i in data["ide"]] == ["Antrean daring puskesmas"]
    assert data["apresiasi_diterima"] == [] and data["cerita_layanan"] == []
    stranger = sandbox.user("Orang Lain")
    await stranger.send("/data_saya")
    await expect(stranger, "Anda belum terdaftar")


async def test_consent_names_the_controller_and_the_periods(bot, sandbox) -> None:
    user = sandbox.user("Calon")
    await user.send("/start")
    welcome = await expect(user, "BerAKHLAK")
    await user.press(welcome, "🇮🇩 Bahasa Indonesia")
    consent = (await expect(user, "Persetujuan")).text
    for words in ("BKPSDM Kota Kediri", "Pemerintah Kota Kediri", "2 tahun", "90 hari"):
        assert words in consent
    assert "5 tahun" in consent and "7 hari" in consent
    assert "/data_saya" in consent and "/hapus_data" in consent and "hanya Anda" in consent


async def test_retention_removes_what_is_too_old(bot, sandbox, settings, kediri) -> None:
    user = await active_member(bot, sandbox, kediri)
    await user.send("/start")  # a registered member: no draft; make one for someone else
    other = sandbox.user("Lupa Daftar")
    await begin(other)
    await user.send("/profil")
    await expect(user, "Budi")
    # The bot's pinned clock and the system's (rows' defaults) differ by days: margins.
    now = bot.bot_data["deps"].clock.now()
    # Nothing is old enough yet.
    removed = await privacy.enforce_retention(kediri, settings, now=now)
    assert not removed.any
    # Eight days on, the draft goes; the rest is younger than its period.
    removed = await privacy.enforce_retention(kediri, settings, now=now + timedelta(days=8))
    assert removed.drafts == 1 and removed.answers == 0 and removed.audit == 0
    # 91 days: the delivery texts go (not the pending one's).
    removed = await privacy.enforce_retention(kediri, settings, now=now + timedelta(days=91))
    assert removed.delivery_texts == 3  # the greeting and the group's two boards
    texts = kediri.run_sync(
        lambda session: [(d.state, d.payload) for d in session.exec(select(Delivery))]
    )
    assert all(payload == {} for state, payload in texts if state == DeliveryState.SENT)
    assert all(payload != {} for state, payload in texts if state == DeliveryState.PENDING)
    # Two years and some: answers, their polls and reflections; five years: the audit.
    removed = await privacy.enforce_retention(kediri, settings, now=now + timedelta(days=740))
    assert removed.answers == 1 and removed.reflections == 1 and removed.polls >= 1
    removed = await privacy.enforce_retention(kediri, settings, now=now + timedelta(days=1835))
    assert removed.audit >= 1
    assert kediri.run_sync(lambda session: session.exec(select(AuditLog)).all()) == []


async def test_the_retention_job_runs_daily(bot) -> None:
    from bot.app.background import RETENTION_JOB

    [job] = bot.job_queue.get_jobs_by_name(RETENTION_JOB)
    assert job.job.trigger.interval == timedelta(days=1)
