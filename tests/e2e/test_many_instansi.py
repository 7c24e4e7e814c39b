"""Two instansi from one deployment: the default one of `.env` and one added with
`berakhlak instansi add`, each with its own bot, superadmins, roster, settings and data.
Both bots run in one worker; whatever one instansi's people do, the other's never see it:
not in a unit search, a name search, a broadcast's audience, an audit, a group link or a
row of the other's database."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pydantic import SecretStr
from pypdf import PdfReader
from sqlmodel import select

from bot.app.cli import main
from bot.app.tenants import Tenant, new_key
from bot.app.workers import Worker
from bot.core.config import Settings
from bot.core.deps import BotApp
from db.engine import Database
from db.models import AuditLog, Broadcast, Instansi, Member, Role, Unit
from db.queries.units import list_children, list_opd
from db.tenancy import tenant_url
from sandbox.simulation import Registrant, begin, expect, register
from tests.e2e.test_broadcast import enrol
from tests.utils import build, eventually

SECOND_TOKEN = "7000000002:AAHsandbox-second-bot_0123456789abcdef"
CODE = "kab_contoh"
ROSTER = """instansi: Pemerintah Kabupaten Contoh
units:
  - code: DPMPTSP
    name: Dinas Penanaman Modal dan PTSP
    timezone: Asia/Makassar
  - code: DPMPTSP-IZIN
    name: Bidang Pelayanan Perizinan
    parent: DPMPTSP
    timezone: Asia/Makassar
"""
DEDI = Registrant("Dedi Kurniawan", "perizinan", "Bidang Pelayanan Perizinan")


@pytest.fixture
def deployment(
    settings: Settings, kediri: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """The `.env` of a deployment whose default instansi is Kota Kediri."""
    key = new_key()
    assert settings.telegram_bot_token is not None
    for name, value in {
        "TELEGRAM_BOT_TOKEN": settings.telegram_bot_token.get_secret_value(),
        "BOT_API_BASE_URL": settings.bot_api_base_url,
        "BOT_API_FILE_URL": settings.file_url,
        "DATABASE_URL": settings.database_url,
        "VOTE_JOURNAL": str(settings.vote_journal),
        "INSTANSI_KEY": key,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    yield settings.model_copy(update={"instansi_key": SecretStr(key)})


def cli(monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(list(args))


def names(db: Database) -> set[str]:
    return set(db.run_sync(lambda session: session.exec(select(Member.full_name)).all()))


async def test_two_instansi_in_one_deployment_share_nothing(
    sandbox, deployment: Settings, kediri: Database, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    ayu_id = sandbox.world.new_user("Ayu", "Lestari", None, None).id
    (tmp_path / "contoh.yaml").write_text(ROSTER, "utf-8")
    assert (
        cli(
            monkeypatch,
            "instansi",
            "add",
            CODE,
            "--name",
            "Pemerintah Kabupaten Contoh",
            "--superadmin",
            str(ayu_id),
            "--set",
            "DEFAULT_TIMEZONE=Asia/Makassar",
            stdin=SECOND_TOKEN + "\n",
        )
        == 0
    )
    assert (
        cli(monkeypatch, "units", "import", str(tmp_path / "contoh.yaml"), "--instansi", CODE) == 0
    )
    # The token is kept encrypted: neither it nor its secret part is in the row.
    [row] = kediri.run_sync(lambda session: list(session.exec(select(Instansi)).all()))
    assert SECOND_TOKEN.split(":")[1] not in row.token_cipher and row.bot_id == 7000000002
    contoh = Database(tenant_url(deployment.database_url, CODE))
    try:
        await _two_bots_side_by_side(sandbox, deployment, kediri, contoh, monkeypatch)
    finally:
        contoh.close()


async def _two_bots_side_by_side(
    sandbox, deployment: Settings, kediri: Database, contoh: Database, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    async def pinned(tenant: Tenant) -> tuple[BotApp, Database]:
        db = Database(tenant.settings.database_url)
        return await build(tenant.settings, db), db

    worker = Worker(deployment, leases=False, build=pinned)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.serve(stop))
    try:
        await eventually(lambda: len(worker.running) == 2, within=60)
        own = worker.running[CODE].app.bot_data["deps"].settings
        assert own.default_timezone == "Asia/Makassar"
        assert own.instansi_name == "Pemerintah Kabupaten Contoh"
        assert own.summary_chat_id is None and own.public_channel_id is None

        # Kota Kediri: an admin and a member, on the default bot.
        dinkes = next(u for u in kediri.run_sync(list_opd) if u.code == "DINKES")
        pkm = kediri.run_sync(list_children, opd_id=dinkes.id)[0].id
        hr = await enrol(sandbox, kediri, "Hadi Kediri", pkm, Role.ADMIN)
        budi = await enrol(sandbox, kediri, "Budi Santoso", pkm, Role.MEMBER)

        # Kabupaten Contoh: Dedi registers through its bot and finds only its units.
        second = SECOND_TOKEN
        dedi = sandbox.user("Dedi Kurniawan", bot_token=second)
        await register(dedi, DEDI)
        [unit_id] = [
            u.id
            for u in contoh.run_sync(lambda session: list(session.exec(select(Unit)).all()))
            if u.code == "DPMPTSP-IZIN"
        ]
        ayu = await enrol(sandbox, contoh, "Ayu Lestari", unit_id, Role.ADMIN, bot_token=second)
        assert names(kediri) == {"Hadi Kediri", "Budi Santoso"}
        assert names(contoh) == {"Dedi Kurniawan", "Ayu Lestari"}
        # A unit or a colleague of the other instansi is not found.
        stranger = sandbox.user("Sari Baru", bot_token=second)
        await begin(stranger)
        await stranger.send("Sari Baru")
        await expect(stranger, "Unit kerja")
        await stranger.send("sukorame")
        reply = await stranger.next_message(timeout=10)
        assert "Sukorame" not in (reply.text or "")
        await dedi.send("/apresiasi budi")
        await expect(dedi, "Tidak ada rekan dengan nama itu")

        # A broadcast to everyone in each instansi reaches its own two members only.
        for admin, audience in ((hr, "Kediri"), (ayu, "Contoh")):
            await admin.send("/broadcast")
            menu = await expect(admin, "Pilih penerima")
            assert menu.buttons[0] == ["👥 Semua anggota (2)"]
            await admin.press(menu, "👥 Semua anggota (2)")
            await expect(admin, "Penerima: 2 orang")
            await admin.send(f"Salam untuk warga {audience}")
            await expect(admin, "Pratinjau")
            confirm = await expect(admin, "Kirim ke 2 penerima?")
            await admin.press(confirm, "✅ Kirim sekarang ke 2")
            await expect(admin, "selesai", within=30)
        await expect(budi, "Salam untuk warga Kediri")
        await expect(dedi, "Salam untuk warga Contoh")
        for user, other in ((budi, "Contoh"), (dedi, "Kediri"), (hr, "Contoh"), (ayu, "Kediri")):
            assert not any(other in (m.get("text") or "") for m in user.transcript)

        # Groups: each unit's group is linked in its own instansi only.
        team = sandbox.group("Tim Perizinan")
        await team.add(ayu, admin=True)
        await team.add_bot(token=second)
        await ayu.send_in(team, "/daftarkan_grup@bot7000000002_bot")
        await expect(team, "Bidang Pelayanan Perizinan")
        linked = contoh.run_sync(
            lambda session: session.exec(select(Unit.group_chat_id).where(Unit.id == unit_id)).one()
        )
        assert linked == team.chat_id
        assert (
            kediri.run_sync(
                lambda session: session.exec(
                    select(Unit).where(Unit.group_chat_id == team.chat_id)
                ).all()
            )
            == []
        )

        # Its board ranks its own units; its report covers its own people.
        await dedi.send("Hari ini saya melayani pemohon izin dengan tuntas.")
        await expect(dedi, "refleksi Anda")
        await dedi.send("/peringkat bulan")
        board = await dedi.next_message(timeout=20)
        caption = board.caption or ""
        assert "Bidang Pelayanan Perizinan" in caption
        assert "Sukorame" not in caption and "Dinas Kesehatan" not in caption
        out = Path.cwd() / "laporan.xlsx"
        assert (
            await asyncio.to_thread(
                main, ["report", "--period", "2026-12", "--out", str(out), "--instansi", CODE]
            )
            == 0
        )
        cells = " ".join(
            str(cell)
            for sheet in load_workbook(out, read_only=True).worksheets
            for row in sheet.iter_rows(values_only=True)
            for cell in row
            if cell is not None
        )
        # Its two members and Dedi's reflection; Kediri's two members wrote none. (Units
        # this small are counted, never named.)
        assert "Anggota terdaftar 2 " in cells and "Refleksi ditulis 1 " in cells
        assert "Sukorame" not in cells and "Kediri" not in cells and "Kesehatan" not in cells
        pdf = Path.cwd() / "laporan.pdf"
        args = ["report", "--period", "2026-12", "--out", str(pdf), "--instansi", CODE]
        assert await asyncio.to_thread(main, args) == 0
        title = PdfReader(pdf).pages[0].extract_text()
        assert "Pemerintah Kabupaten Contoh" in title and "Kediri" not in title

        # The audit of each holds its own people's actions only.
        def actors(db: Database) -> set[int]:
            return {
                a
                for a in db.run_sync(
                    lambda session: session.exec(select(AuditLog.actor_user_id)).all()
                )
                if a is not None
            }

        assert actors(kediri) <= {hr.id, budi.id} and hr.id in actors(kediri)
        assert actors(contoh) <= {ayu.id, dedi.id} and ayu.id in actors(contoh)
        for db in (kediri, contoh):
            [sent] = db.run_sync(lambda session: list(session.exec(select(Broadcast)).all()))
            assert sent.total == 2
    finally:
        stop.set()
        async with asyncio.timeout(30):
            await task
    assert worker.running == {}
