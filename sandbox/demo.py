"""`make demo` (`python -m sandbox.demo`): the real bot on the built-in sandbox with
simulated ASN of Kota Kediri.

Starts the sandbox and the bot on a fresh SQLite file, lets a few dozen ASN register
(some making mistakes on the way), prints a readable transcript of a few chats and a
summary, and exits by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import re
import shutil
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.app.startup import prepare
from bot.core.calendar import FakeClock
from bot.core.config import Settings
from bot.core.logs import configure as configure_logging
from bot.members.roster import parse_roster
from db.engine import Database
from db.queries.units import RosterRow, count_by_opd, import_roster
from sandbox.simulation import Registrant, register
from sandbox.users import SimUser

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


# The idea scene's people at Puskesmas Sukorame (every len(UNITS)-th registrant): a young
# author and an older colleague who helps, their generations known from their NIPs (born
# 2000, Gen Z; born 1972, Gen X), and the colleague HR names head of the unit.
AUTHOR, HELPER, HEAD = len(UNITS), 2 * len(UNITS), 3 * len(UNITS)
SCENE_NIPS = {AUTHOR: "200005142023032001", HELPER: "197202111998031003"}


def _people(count: int, rng: random.Random) -> list[Registrant]:
    people = []
    for i in range(count):
        query, button = UNITS[i % len(UNITS)]
        mistakes = i % 4 == 1
        nip = _nip(rng) if i % 3 else None
        people.append(
            Registrant(
                name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                unit_query=query,
                unit_button=button,
                nip=SCENE_NIPS.get(i, nip),
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
        poll = message.get("poll")
        body = (
            f"📊 {poll['question']} ({' / '.join(o['text'] for o in poll['options'])})"
            if poll
            else message.get("text") or message.get("caption") or "[media]"
        )
        if message.get("photo"):
            body = "[🖼️ chart] " + body
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
    from sandbox.simulation import expect

    await admin.send("/broadcast")
    menu = await expect(admin, "Pilih penerima")
    await admin.press(menu, f"👥 Semua anggota ({count})")
    await expect(admin, "Penerima")
    await admin.send("Selamat pagi, <b>{{ nama }}</b>! Apel Hari Kesadaran Nasional pukul 07.30.")
    confirm = await expect(admin, "Kirim ke")
    await admin.press(confirm, f"✅ Kirim sekarang ke {count}")
    report = await expect(admin, "selesai", within=30)
    return report.text or ""


DEMO_MONDAY = datetime(2026, 11, 30, 7, 30, tzinfo=ZoneInfo("Asia/Jakarta"))


async def _at(app: Any, clock: FakeClock, moment: datetime) -> None:
    """Jump the demo clock to just before `moment`; the real scheduler job then fires."""
    clock.set(moment - timedelta(seconds=0.3))
    await app.bot_data["deps"].programme.plan()


RESULT = "Hasil kuis Anda"


async def _next(user: SimUser, want: Callable[[Any], bool], within: float = 30.0) -> Any:
    while True:
        event = await user.next_message(timeout=within)
        if want(event):
            return event


async def programme_week(
    app: Any, sandbox: Any, users: list[SimUser], clock: FakeClock, rng: random.Random, out: Path
) -> str:
    """Monday's value and reflections, Tuesday's quiz round, Friday's board."""
    from bot.boards import cards as board
    from sandbox.simulation import expect

    deps = app.bot_data["deps"]
    team = [u for i, u in enumerate(users) if i % len(UNITS) == 0]  # Puskesmas Sukorame
    group = sandbox.group("Tim Puskesmas Sukorame")
    await group.add(team[0], admin=True)
    for user in team[1:]:
        await group.add(user)
    await group.add_bot()
    await team[0].send_in(group, f"/daftarkan_grup@{app.bot.username}")
    await expect(group, "Grup ini sekarang")
    for user in users[1::3]:
        await user.send("/tampilkan_nama ya")
        await expect(user, "Nama depan")

    print("Monday 07:30 WIB: the value of the day reaches everyone; many reply…")
    await _at(app, clock, DEMO_MONDAY)
    dailies = await asyncio.gather(
        *(_next(u, lambda e: "Nilai hari ini" in (e.text or "")) for u in users)
    )
    replies = [(u, m) for u, m in zip(users, dailies, strict=True) if rng.random() < 0.6]
    for user, message in replies:
        await user.send(rng.choice(REFLECTIONS), reply_to=message)
    await asyncio.gather(*(expect(u, "refleksi Anda") for u, _ in replies))

    print("Tuesday 10:00 WIB: a quiz round of three questions; members answer…")
    await _at(app, clock, DEMO_MONDAY + timedelta(days=1, hours=2, minutes=30))

    async def play(user: SimUser, skill: float) -> None:
        # Three soal, and a follow-up after a two-step case's first step: answer each poll
        # until the result comes.
        while True:
            event = await _next(user, lambda e: e.poll is not None or RESULT in (e.text or ""))
            if event.poll is None:
                return
            # The key where this member was shown it (options are shuffled per member).
            [key] = event.poll["correct_option_ids"]
            right = rng.random() < skill
            options = len(event.poll["options"])
            await user.answer_poll(event, [key if right else (key + 1) % options])

    await asyncio.gather(*(play(u, 0.4 + 0.5 * rng.random()) for u in users))

    print("Wednesday: a young member's idea, supported and helped by an older colleague…")
    scene = await idea_scene(admin=users[0], author=team[1], helper=team[2], head=team[3])

    print("Friday 15:00 WIB: the weekly board goes to the linked group…")
    await _at(app, clock, DEMO_MONDAY + timedelta(days=4, hours=7, minutes=30))
    post = await _next(group, lambda e: e.photo is not None, within=60)
    week = await board.board_for(deps, DEMO_MONDAY.date())
    ranking = week.ranking
    summary = await board.summary_post(deps, week)
    (out / "leaderboard.png").write_bytes(summary.png)
    lines = [
        "Leaderboard, week of 30-11-2026 (fair score = points per member, shrunk to the mean):"
    ]
    for s in ranking.units[:10]:
        lines.append(
            f"  {s.rank:2d}. {s.name[:40]:40s} {s.score:6.1f}  "
            f"participation {100 * s.participation:3.0f}%  members {s.members}"
            + ("  (pooled small units)" if s.pooled else "")
        )
    lines.append("OPD ranking:")
    lines += [f"  {s.rank:2d}. {s.name[:40]:40s} {s.score:6.1f}" for s in ranking.opds[:10]]
    lines.append(f"Group post caption:\n{_plain(post.caption or '')}")
    lines.append(scene)
    digest = await _next(group, lambda e: "Terealisasi bersama" in (e.text or ""), within=30)
    lines.append(f"Group digest (Friday):\n{_plain(digest.text or '')}")
    lines.append(f"Chart saved: {out / 'leaderboard.png'}")
    return "\n".join(lines)


async def idea_scene(admin: SimUser, author: SimUser, helper: SimUser, head: SimUser) -> str:
    """/ide from a young member (Gen Z by their NIP), 👍 and 🙋 from an older colleague (Gen X);
    HR names a colleague head of the unit, who carries the idea through to "terealisasi":
    celebrated in Friday's digest, with the help counted as across generations."""
    from sandbox.simulation import expect

    await author.send("/ide")
    await expect(author, "Tulis judul ide Anda")
    await author.send("Antrean daring untuk pengambilan obat")
    await expect(author, "Sekarang jelaskan idenya")
    await author.send(
        "Warga mengambil nomor antrean obat lewat WhatsApp dari rumah, lalu datang saat "
        "nomornya hampir dipanggil; langkah pertama: uji coba seminggu di Puskesmas Sukorame."
    )
    await author.press(await expect(author, "Nilai BerAKHLAK mana"), "Berorientasi Pelayanan")
    target = await expect(author, "Ide ini untuk siapa?")
    await author.press(target, target.buttons[0][0])
    await author.press(await expect(author, "Kirim ide ini?"), "✅ Kirim ide")
    await expect(author, "tersimpan")
    await helper.send("/ide_daftar")
    listing = await expect(helper, "Ide untuk unit Anda")
    await helper.press(listing, listing.buttons[0][0])
    listing = await expect(helper, "👍 1 · 🙋 0")
    await helper.press(listing, listing.buttons[0][1])
    await expect(helper, "👍 1 · 🙋 1")
    # HR names the head of Puskesmas Sukorame, who moves the ideas for the unit from now on.
    await admin.send("/kepala_unit puskesmas sukorame")
    await expect(admin, "Ketik nama")
    await admin.send(_name(head))
    choose = await expect(admin, "Pilih kepala unitnya")
    await admin.press(choose, f"{_name(head)} · Puskesmas Sukorame")
    await expect(admin, "sekarang kepala unit")
    await expect(head, "Anda ditunjuk sebagai")
    for step in ("🔎 Ditinjau", "👍 Diterima", "🛠 Sedang dikerjakan", "🎉 Terealisasi"):
        await head.send("/ide_daftar")
        listing = await expect(head, "Ide untuk unit Anda")
        await head.press(listing, listing.buttons[0][-1])
        await head.press(await expect(head, "Pindahkan ke:"), step)
        await expect(author, "kini:")
        await expect(helper, "kini:")
    return (
        f"Idea scene: {_name(author)} (Gen Z by NIP) gave an idea; {_name(helper)} (Gen X) "
        f"supported it and offered help; HR named {_name(head)} head of Puskesmas Sukorame "
        "with /kepala_unit, who moved it on step by step to 'terealisasi'."
    )


def _name(user: SimUser) -> str:
    return f"{user.first_name} {user.last_name or ''}".strip()


REFLECTIONS = [
    "Hari ini saya menyapa setiap warga yang datang dengan ramah.",
    "Saya membantu rekan yang kesulitan mengisi laporan.",
    "Saya datang lebih awal untuk menyiapkan loket pelayanan.",
    "Saya menjelaskan persyaratan dengan sabar kepada pemohon lansia.",
    "Saya mengembalikan barang milik warga yang tertinggal di ruang tunggu.",
]


def run_demo(*, members: int = 36, out: Path = Path("demo-output")) -> int:
    logging.getLogger().setLevel(logging.WARNING)
    started = time.monotonic()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    database_url = f"sqlite:///{out / 'demo.sqlite3'}"
    report, violations = asyncio.run(_run(database_url, members, out))
    (out / "transcript.txt").write_text(report + "\n", "utf-8")
    print(f"\nDone in {time.monotonic() - started:.1f} s. Transcript: {out / 'transcript.txt'}")
    return 0 if not violations else 1


async def _run(database_url: str, members: int, out: Path) -> tuple[str, int]:
    from bot.app.wiring import build_application, polling
    from sandbox import Sandbox

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
    clock = FakeClock(DEMO_MONDAY - timedelta(minutes=40))
    prepared = await asyncio.to_thread(prepare, settings)
    db = Database(database_url)
    rows = [RosterRow(r.code, r.name, r.parent, r.timezone) for r in parse_roster(ROSTER)]
    await db.run(import_roster, rows=rows)
    try:
        async with polling(build_application(prepared, db, clock=clock)) as app:
            print(
                f"Sandbox at {sandbox.api_base_url} · bot @{app.bot.username} · "
                f"database {database_url}"
            )
            print(f"{len(users)} simulated ASN register (some make mistakes on the way)…")
            await asyncio.gather(*(register(u, p) for u, p in zip(users, people, strict=True)))
            print("HR broadcasts an announcement to everyone…")
            report = await broadcast(users[0], len(users))
            board = await programme_week(app, sandbox, users, clock, rng, out)
    finally:
        await sandbox.stop()
    counts = await db.run(count_by_opd)
    db.close()
    chats = "\n\n".join(transcript(u) for u in (users[1], users[2]))
    chats += "\n\nHR's broadcast report:\n" + _plain(report)
    chats += "\n\n" + board
    summary = ["Members per OPD:"]
    summary += [f"  {count:3d}  {name}" for name, count in counts]
    summary.append(f"  {sum(c for _, c in counts):3d}  total")
    violations = len(sandbox.violations)
    for violation in sandbox.violations[:3]:
        summary.append(f"  {violation}")
    summary.append(f"Telegram rule violations seen by the sandbox: {violations}")
    report = chats + "\n\n" + "\n".join(summary)
    print("\n" + report)
    return report, violations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.demo", description=__doc__)
    parser.add_argument("--members", type=int, default=36, help="simulated ASN (default 36)")
    parser.add_argument("--out", type=Path, default=Path("demo-output"), help="output folder")
    args = parser.parse_args(argv)
    configure_logging()
    return run_demo(members=args.members, out=args.out)


if __name__ == "__main__":
    raise SystemExit(main())
