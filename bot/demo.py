"""`berakhlak demo`: the real bot on the built-in sandbox with simulated ASN of Kota Kediri.

Starts the sandbox and the bot on a fresh SQLite file, lets a few dozen ASN register
(some making mistakes on the way), prints a readable transcript of a few chats and a
summary, and exits by itself.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import shutil
import time
from pathlib import Path

from bot.config import Settings
from bot.roster import parse_roster
from bot.sandbox.users import SimUser
from bot.simulation import Registrant, register
from bot.startup import checked_content, prepare_database
from content.loader import Content
from db.engine import Database
from db.queries.units import RosterRow, count_by_opd, import_roster

ROSTER = Path(__file__).resolve().parent.parent / "content" / "units" / "kota_kediri.yaml"
DEMO_TOKEN = "7000000001:DEMO-sandbox-token-not-a-real-one-xx"

FIRST = [
    "Budi",
    "Siti",
    "Agus",
    "Dewi",
    "Rina",
    "Joko",
    "Sri",
    "Andi",
    "Nur",
    "Yuli",
    "Eko",
    "Wulan",
    "Bayu",
    "Fitri",
    "Hendra",
    "Lestari",
    "Rizky",
    "Ayu",
    "Dimas",
    "Intan",
]
LAST = [
    "Santoso",
    "Rahayu",
    "Prasetyo",
    "Wahyuni",
    "Hidayat",
    "Kusuma",
    "Saputra",
    "Lestari",
    "Setiawan",
    "Handayani",
    "Nugroho",
    "Purnama",
    "Firmansyah",
    "Anggraini",
]
UNITS = [
    ("sukorame", "Puskesmas Sukorame"),
    ("bandar lor", "Kelurahan Bandar Lor"),
    ("semampir", "Kelurahan Semampir"),
    ("balowerti", "Puskesmas Balowerti"),
    ("pengadaan", "Bagian Pengadaan Barang/Jasa"),
    ("organisasi", "Bagian Organisasi"),
    ("tosaren", "Kelurahan Tosaren"),
    ("mojoroto", "Kelurahan Mojoroto"),
]
TYPOS = ["Budi 123", "😀😀😀", "<b>saya</b>", "x" * 5000]
BAD_NIPS = ["1986", "19861399 201505 1 001", "abc"]


def _people(count: int, rng: random.Random) -> list[Registrant]:
    people = []
    for i in range(count):
        query, button = UNITS[i % len(UNITS)]
        mistakes = i % 4 == 1
        people.append(
            Registrant(
                name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                unit_query=query,
                unit_button=button,
                nip=_nip(rng) if i % 3 else None,
                typos=tuple(rng.sample(TYPOS, 2)) if mistakes else (),
                bad_nips=(rng.choice(BAD_NIPS),) if mistakes and i % 3 else (),
            )
        )
    return people


def _nip(rng: random.Random) -> str:
    year = rng.randint(1968, 1998)
    appointed = rng.randint(year + 20, 2024)
    return (
        f"{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d} "
        f"{appointed}{rng.randint(1, 12):02d} {rng.randint(1, 2)} {rng.randint(1, 999):03d}"
    )


def _plain(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)


def transcript(user: SimUser, *, width: int = 100) -> str:
    lines = [f"── chat with {user.first_name} ──"]
    for message in user.transcript:
        who = "🤖" if message["from"]["is_bot"] else "👤"
        body = message.get("text") or message.get("caption") or "[media]"
        body = " ".join(_plain(body).split())
        if len(body) > width:
            body = body[: width - 1] + "…"
        buttons = [
            b["text"]
            for row in message.get("reply_markup", {}).get("inline_keyboard", [])
            for b in row
        ]
        extra = (
            f"  [{' | '.join(buttons[:4])}{' …' if len(buttons) > 4 else ''}]" if buttons else ""
        )
        lines.append(f"{who} {body}{extra}")
    return "\n".join(lines)


async def broadcast(admin: SimUser, count: int) -> str:
    """The superadmin's /broadcast to everyone, as an HR officer would do it."""
    from bot.simulation import expect

    await admin.send("/broadcast")
    menu = await expect(admin, "Pilih penerima")
    await admin.press(menu, f"👥 Semua anggota ({count})")
    await expect(admin, "Penerima")
    await admin.send("Selamat pagi, <b>{{ nama }}</b>! Apel Hari Kesadaran Nasional pukul 07.30.")
    confirm = await expect(admin, "Kirim ke")
    await admin.press(confirm, f"✅ Kirim sekarang ke {count}")
    report = await expect(admin, "selesai", within=30)
    return report.text or ""


def run_demo(*, members: int = 36, out: Path = Path("demo-output")) -> int:
    logging.getLogger().setLevel(logging.WARNING)
    started = time.monotonic()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    database_url = f"sqlite:///{out / 'demo.sqlite3'}"
    content = checked_content()
    prepare_database(database_url, content)
    db = Database(database_url)
    try:
        rows = [RosterRow(r.code, r.name, r.parent, r.timezone) for r in parse_roster(ROSTER)]
        db.run_sync(import_roster, rows=rows)
        report, violations = asyncio.run(_run(db, database_url, content, members))
    finally:
        db.close()
    (out / "transcript.txt").write_text(report + "\n", "utf-8")
    print(f"\nDone in {time.monotonic() - started:.1f} s. Transcript: {out / 'transcript.txt'}")
    return 0 if not violations else 1


async def _run(db: Database, database_url: str, content: Content, members: int) -> tuple[str, int]:
    from bot.app import build_application, polling
    from bot.sandbox import Sandbox

    sandbox = Sandbox(token=DEMO_TOKEN)
    await sandbox.start()
    rng = random.Random(2026)
    people = _people(members, rng)
    users = [sandbox.user(p.name) for p in people]
    # The first simulated ASN is an HR officer: the programme's superadmin.
    settings = Settings(
        telegram_bot_token=DEMO_TOKEN,
        bot_api_base_url=sandbox.api_base_url,
        bot_api_file_url=sandbox.file_base_url,
        database_url=database_url,
        superadmin_ids=[users[0].id],
        _env_file=None,  # type: ignore[call-arg]
    )
    try:
        async with polling(build_application(settings, db, content=content)) as app:
            print(
                f"Sandbox at {sandbox.api_base_url} · bot @{app.bot.username} · "
                f"database {database_url}"
            )
            print(f"{len(users)} simulated ASN register (some make mistakes on the way)…")
            await asyncio.gather(*(register(u, p) for u, p in zip(users, people, strict=True)))
            print("HR broadcasts an announcement to everyone…")
            report = await broadcast(users[0], len(users))
    finally:
        await sandbox.stop()
    chats = "\n\n".join(transcript(u) for u in (users[1], users[2]))
    chats += "\n\nHR's broadcast report:\n" + _plain(report)
    counts = await db.run(count_by_opd)
    summary = ["Members per OPD:"]
    summary += [f"  {count:3d}  {name}" for name, count in counts]
    summary.append(f"  {sum(c for _, c in counts):3d}  total")
    violations = len(sandbox.violations)
    summary.append(f"Telegram rule violations seen by the sandbox: {violations}")
    report = chats + "\n\n" + "\n".join(summary)
    print("\n" + report)
    return report, violations
