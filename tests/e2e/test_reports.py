"""HR reports: figures checked against a brute-force count of generated answers, small units
kept out of sight, and /laporan end to end (the PDF read back, the .xlsx opened)."""

from __future__ import annotations

import io
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlmodel import Session, select

from bot.core.render import default_renderer
from bot.reports.figures import parse_period
from bot.reports.service import make_report
from content.loader import load_content
from db.engine import Database
from db.models import Member, MemberDay, QuizAnswer, QuizPoll, Role
from db.queries.content import sync_bank
from db.queries.members import create_member
from db.queries.scores import ScoreChange, add_scores
from db.queries.units import RosterRow, import_roster, list_children, list_opd
from sandbox.simulation import expect
from tests.e2e.test_programme_admin import enrol

WIB = ZoneInfo("Asia/Jakarta")
VALUES = ["BP", "AK", "KO", "HA", "LO", "AD", "KL"]
CONTENT = load_content()


@dataclass(frozen=True)
class Answer:
    member_id: int
    unit_id: int
    day: date
    value: str
    question_id: str
    correct: bool


def _units(db: Database) -> dict[str, int]:
    """Two OPDs: RSUD with two units of 6 and one of 4 (alone small: hidden); Damkar with
    two units of 3 (pooled: 6)."""
    db.run_sync(
        import_roster,
        rows=[
            RosterRow("RSUD", "RSUD Gambiran", None, "Asia/Jakarta"),
            RosterRow("RSUD-IGD", "Instalasi Gawat Darurat", "RSUD", "Asia/Jakarta"),
            RosterRow("RSUD-RI", "Instalasi Rawat Inap", "RSUD", "Asia/Jakarta"),
            RosterRow("RSUD-GZ", "Instalasi Gizi Rahasia", "RSUD", "Asia/Jakarta"),
            RosterRow("DAMKAR", "Dinas Pemadam Kebakaran", None, "Asia/Jakarta"),
            RosterRow("DAMKAR-A", "Regu Alfa", "DAMKAR", "Asia/Jakarta"),
            RosterRow("DAMKAR-B", "Regu Bravo", "DAMKAR", "Asia/Jakarta"),
        ],
    )
    opds = {u.code: u.id for u in db.run_sync(list_opd)}
    ids = dict(opds)
    for code in ("RSUD", "DAMKAR"):
        for child in db.run_sync(list_children, opd_id=opds[code]):
            ids[child.code] = child.id
    return ids


def _generate(db: Database, units: dict[str, int], seed: int = 7) -> list[Answer]:
    """Members, their answers over November and December 2026 (a member moves unit on
    10 December), written through the same maintained-score path the scorekeeper uses."""
    rng = random.Random(seed)
    sizes = {"RSUD-IGD": 6, "RSUD-RI": 6, "RSUD-GZ": 4, "DAMKAR-A": 3, "DAMKAR-B": 3}
    members: list[tuple[int, str]] = []
    n = 0
    for code, size in sizes.items():
        for _ in range(size):
            n += 1
            member = db.run_sync(
                create_member,
                telegram_user_id=900_000 + n,
                chat_id=900_000 + n,
                full_name=f"Pegawai Rahasia {n}",
                unit_id=units[code],
                nip=None,
                language="id",
                consent_at=datetime(2026, 11, 1, tzinfo=UTC),
            )
            members.append((member.id, code))
    # A small pool, so that items reach the ten answers "most missed" needs.
    questions = CONTENT.questions[:: len(CONTENT.questions) // 14][:14]
    answers: list[Answer] = []
    day = date(2026, 11, 2)
    mover = members[0][0]
    while day < date(2026, 12, 24):
        if day.weekday() < 5:
            for member_id, code in members:
                if rng.random() < 0.5:
                    continue
                if member_id == mover and day >= date(2026, 12, 10):
                    code = "RSUD-RI"
                q = rng.choice(questions)
                # RSUD-GZ answers everything right: nothing about it may show.
                right = code == "RSUD-GZ" or rng.random() < 0.4 + 0.05 * VALUES.index(q.value)
                answers.append(Answer(member_id, units[code], day, q.value, q.id, right))
        day += timedelta(days=1)

    def write(session: Session) -> None:
        add_scores(
            session=session,
            changes=[
                ScoreChange(
                    member_id=a.member_id,
                    unit_id=a.unit_id,
                    day=a.day,
                    points=10,
                    answered=1,
                    correct=int(a.correct),
                    value=a.value,
                )
                for a in answers
            ],
        )
        at = [datetime.combine(a.day, time(10), WIB).astimezone(UTC) for a in answers]
        for i, a in enumerate(answers):
            session.add(
                QuizPoll(
                    poll_id=f"gen-{i}",
                    member_id=a.member_id,
                    question_id=a.question_id,
                    chat_id=a.member_id,
                    message_id=i + 1,
                    sent_at=at[i],
                )
            )
        session.flush()
        for i, a in enumerate(answers):
            session.add(
                QuizAnswer(
                    poll_id=f"gen-{i}",
                    member_id=a.member_id,
                    question_id=a.question_id,
                    value=a.value,
                    option=0,
                    correct=a.correct,
                    seconds=5,
                    answered_at=at[i],
                )
            )
        for member_id, day in {(a.member_id, a.day) for a in answers}:
            session.add(MemberDay(member_id=member_id, day=day))
        mover_row = session.get(Member, mover)
        assert mover_row is not None
        mover_row.unit_id = units["RSUD-RI"]
        session.add(mover_row)

    db.run_sync(write)
    return answers


async def _report(db: Database, period: str, opd_id: int | None = None):  # type: ignore[no-untyped-def]
    parsed = parse_period(period)
    assert parsed is not None
    return await make_report(
        db,
        content=CONTENT,
        renderer=default_renderer(),
        period=parsed,
        opd_id=opd_id,
        opd_code=None,
        lang="id",
        min_size=5,
        now=datetime(2026, 12, 28, 3, 0, tzinfo=UTC),
        tz="Asia/Jakarta",
    )


def _pdf_text(data: bytes) -> str:
    """The PDF's words, with line breaks as spaces (a long sentence wraps)."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def _xlsx_text(data: bytes) -> str:
    book = load_workbook(io.BytesIO(data))
    return "\n".join(
        str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
    )


async def test_figures_equal_a_brute_force_count_of_the_answers(db: Database) -> None:
    db.run_sync(sync_bank, questions=CONTENT.questions, prompts=CONTENT.prompts)
    units = _units(db)
    answers = _generate(db, units)
    files = await _report(db, "2026-12")
    report = files.report
    december = [a for a in answers if date(2026, 12, 1) <= a.day < date(2027, 1, 1)]
    november = [a for a in answers if a.day < date(2026, 12, 1)]
    # Headline: every answer of the month, wherever it was given.
    assert report.total.answered == len(december)
    assert report.total.correct == sum(a.correct for a in december)
    assert report.total.members == 22
    assert report.units_with_members == 5
    assert report.active_days == len({(a.member_id, a.day) for a in december})
    # Per unit and value, by the unit on the day of the answer (the mover counts in IGD
    # until 9 December and in Rawat Inap from the 10th).
    rows = {r.name: r for r in report.units}
    names = {"Instalasi Gawat Darurat": "RSUD-IGD", "Instalasi Rawat Inap": "RSUD-RI"}
    for name, code in names.items():
        for value in VALUES:
            cell = [a for a in december if a.unit_id == units[code] and a.value == value]
            expected = sum(a.correct for a in cell) / len(cell) if cell else None
            assert rows[name].value_accuracy(value) == expected, (name, value)
    # The pool of Damkar's two small units is their sum.
    pool = rows["Unit kecil lainnya – Dinas Pemadam Kebakaran"]
    damkar = [a for a in december if a.unit_id in (units["DAMKAR-A"], units["DAMKAR-B"])]
    assert pool.members == 6 and pool.answered == len(damkar)
    # Change against November, per value, for the whole instansi.
    for code, now, before in report.value_change:
        before_cell = [a for a in november if a.value == code]
        assert before == sum(a.correct for a in before_cell) / len(before_cell)
        now_cell = [a for a in december if a.value == code]
        assert now == sum(a.correct for a in now_cell) / len(now_cell)
    # Weekly participation: members who answered in each week starting in December (the
    # mover stays within RSUD, so each of their weeks counts once there).
    weekly = defaultdict(set)
    rsud_units = {units["RSUD-IGD"], units["RSUD-RI"], units["RSUD-GZ"]}
    for a in december:
        if a.unit_id in rsud_units:
            weekly[a.day - timedelta(days=a.day.weekday())].add(a.member_id)
    series = report.weekly["RSUD Gambiran"]
    mondays = [date(2026, 12, 7), date(2026, 12, 14), date(2026, 12, 21), date(2026, 12, 28)]
    assert [date.fromisoformat(w[1:]) for w in series] == mondays
    assert list(series.values()) == [len(weekly[d]) for d in mondays]
    assert series["W2026-12-07"] > 0
    # The five most missed: lowest share correct among items answered at least 10 times.
    by_item: dict[str, list[bool]] = defaultdict(list)
    for a in december:
        by_item[a.question_id].append(a.correct)
    eligible = sorted((sum(v) / len(v), q) for q, v in by_item.items() if len(v) >= 10)
    assert len(eligible) >= 5
    assert [m.question_id for m in report.missed] == [q for _, q in eligible[:5]]
    # A quarter sums its months.
    quarter = (await _report(db, "2026-Q4")).report
    assert quarter.total.answered == len(answers)


async def test_a_unit_of_four_cannot_be_read_from_the_report(db: Database) -> None:
    db.run_sync(sync_bank, questions=CONTENT.questions, prompts=CONTENT.prompts)
    units = _units(db)
    _generate(db, units)
    files = await _report(db, "2026-12")
    report = files.report
    pdf, xlsx = _pdf_text(files.pdf), _xlsx_text(files.xlsx)
    for text in (pdf, xlsx):
        # Neither its name nor any member's, and the small Damkar units only as a pool.
        assert "Gizi Rahasia" not in text
        assert "Pegawai Rahasia" not in text
        assert "Regu Alfa" not in text and "Regu Bravo" not in text
    # A long name is cut to its cell in the PDF; the spreadsheet has it whole.
    assert "Unit kecil lainnya – Dinas Pemadam" in pdf
    assert "Unit kecil lainnya – Dinas Pemadam Kebakaran" in xlsx
    assert report.hidden_units == 1
    assert "1 unit tetap terlalu kecil" in pdf
    # Its perfect score would be the only 100 in the heatmap: no unit row shows it.
    assert all(r.accuracy != 1.0 for r in report.units)
    # An OPD report over RSUD lists its two big units and hides the small one.
    rsud = (await _report(db, "2026-12", opd_id=units["RSUD"])).report
    assert sorted(r.name for r in rsud.units) == [
        "Instalasi Gawat Darurat",
        "Instalasi Rawat Inap",
    ]


async def test_the_pdf_is_a4_legible_and_not_blank(db: Database) -> None:
    db.run_sync(sync_bank, questions=CONTENT.questions, prompts=CONTENT.prompts)
    _generate(db, _units(db))
    files = await _report(db, "2026-12")
    reader = PdfReader(io.BytesIO(files.pdf))
    assert len(reader.pages) >= 3
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    text = _pdf_text(files.pdf)
    for heading in (
        "Laporan Internalisasi Nilai Dasar BerAKHLAK",
        "Desember 2026",
        "Ketepatan jawaban per unit dan nilai",
        "Unit yang sepi",
        "Lima soal paling sering dijawab salah",
        "Metode",
    ):
        assert heading in text, heading
    page = pypdfium2.PdfDocument(files.pdf)[1].render(scale=0.5).to_pil().convert("L")
    dark = sum(page.histogram()[:128])
    assert dark > 1000  # the summary page has text and a table, not a blank page
    book = load_workbook(io.BytesIO(files.xlsx))
    units = book["Unit x Nilai"]
    assert units.freeze_panes == "B2"
    assert units["F1"].value == "Ketepatan" and units["F2"].number_format == "0.0%"
    assert isinstance(units["F2"].value, float)


@pytest.mark.usefixtures("bot")
async def test_an_admin_asks_laporan_and_gets_the_pdf_and_the_xlsx(
    sandbox, kediri: Database
) -> None:  # type: ignore[no-untyped-def]
    opd = {u.code: u.id for u in kediri.run_sync(list_opd)}
    unit = kediri.run_sync(list_children, opd_id=opd["DINKES"])[0].id
    admin = await enrol(sandbox, kediri, "Admin Laporan", unit, Role.ADMIN)
    member = await enrol(sandbox, kediri, "Anggota Biasa", unit)
    await member.send("/laporan")
    await expect(member, "hanya untuk admin")
    await admin.send("/laporan")
    view = await expect(admin, "Pilih periode laporan")
    await admin.press(view, "Bulan ini")
    scope = await expect(admin, "Laporan Desember 2026")
    assert scope.buttons[0] == ["Seluruh instansi"]
    await admin.press(scope, "Seluruh instansi")
    await expect(admin, "Menyusun laporan Desember 2026 (Seluruh instansi)")
    documents = []
    while len(documents) < 2:
        message = await admin.next_message(timeout=30)
        if "document" in message.message:
            documents.append(message.message)
    pdf, xlsx = documents
    assert pdf["document"]["file_name"] == "laporan_berakhlak_2026-12.pdf"
    assert "Laporan Desember 2026 · Seluruh instansi" in pdf["caption"]
    assert xlsx["document"]["file_name"] == "laporan_berakhlak_2026-12.xlsx"
    text = _pdf_text(sandbox.world.files[pdf["document"]["file_id"]].data)
    assert "Seluruh instansi" in text and "Admin Laporan" not in text
    book = load_workbook(io.BytesIO(sandbox.world.files[xlsx["document"]["file_id"]].data))
    assert "Ringkasan" in book.sheetnames


async def test_the_monthly_report_and_the_silent_alert_come_by_themselves(
    sandbox, settings, kediri: Database
) -> None:  # type: ignore[no-untyped-def]
    """Monday 4 January 2027, the first working day of the year (the 1st is a holiday):
    at 08:00 WIB the admin gets December's report and the silent-units alert, and the
    alert's button reminds the quiet unit's members once."""
    from bot.app.wiring import polling
    from bot.core.calendar import FakeClock
    from tests.utils import build

    opd = {u.code: u.id for u in kediri.run_sync(list_opd)}
    own, quiet = kediri.run_sync(list_children, opd_id=opd["DINKES"])[:2]
    monday = datetime(2027, 1, 4, 8, 0, tzinfo=WIB)
    clock = FakeClock(monday - timedelta(minutes=10))
    async with polling(await build(settings, kediri, clock=clock)) as app:
        admin = await enrol(sandbox, kediri, "Admin Laporan", own.id, Role.ADMIN)
        members = [await enrol(sandbox, kediri, f"Pegawai {i}", quiet.id) for i in range(5)]
        clock.set(monday - timedelta(seconds=0.3))
        await app.bot_data["deps"].programme.plan()
        # Both jobs fire at 08:00; the alert is quicker to make than the report.
        documents, alerts = [], []
        while len(documents) < 2 or not alerts:
            message = await admin.next_message(timeout=30)
            if "document" in message.message:
                documents.append(message.message)
            elif "Unit yang sepi" in (message.text or ""):
                alerts.append(message)
        pdf, xlsx = documents
        assert "Laporan bulanan Desember 2026" in pdf["caption"]
        assert pdf["document"]["file_name"] == "laporan_berakhlak_2026-12.pdf"
        assert xlsx["document"]["file_name"] == "laporan_berakhlak_2026-12.xlsx"
        [alert] = alerts
        assert f"{quiet.name} (5 anggota): tidak ada aktivitas 14 hari terakhir" in (
            alert.text or ""
        )
        assert alert.buttons == [["📣 Kirim pengingat ke 1 unit ini"]]
        await admin.press(alert, "📣 Kirim pengingat ke 1 unit ini")
        await expect(admin, "Pengingat untuk 1 unit sepi (5 anggota) masuk antrean")
        for member in members:
            await expect(member, "Sudah beberapa waktu kami tidak mendengar kabar", within=30)
        # A second press (another admin, or the same one again) sends nothing more.
        query_id = await admin.press_forged(alert.message_id, "lap:nudge:20270104")
        notice = await sandbox.wait_callback_answer(query_id)
        assert "sudah dikirim" in notice["text"]
        await app.bot_data["deps"].sender.drain(within=30)
        for member in members:
            texts = [m.get("text") or "" for m in member.transcript if m["from"]["is_bot"]]
            assert sum("tidak mendengar kabar" in t for t in texts) == 1


def test_a_name_that_looks_like_a_formula_stays_text_in_the_spreadsheet() -> None:
    from bot.reports.figures import Report, Row
    from bot.reports.service import words_for
    from bot.reports.xlsx import render_xlsx

    period = parse_period("2026-12")
    assert period is not None
    hostile = '=HYPERLINK("http://contoh.invalid","klik")'
    row = Row(hostile, 6, 3, 10, 7, 0, {"BP": (10, 7)})
    report = Report(
        period=period,
        scope=None,
        values=[("BP", "Berorientasi Pelayanan")],
        min_size=5,
        total=row,
        opds=[row],
        units=[row],
        hidden_units=0,
        weekly={hostile: {"W2026-12-07": 3}},
        week_starts=[date(2026, 12, 7)],
        value_change=[("BP", 0.7, None)],
        silent=[],
        improved=[],
        missed=[],
        active_days=3,
        units_with_members=1,
    )
    data = render_xlsx(report, words_for(default_renderer(), "id"))
    book = load_workbook(io.BytesIO(data))
    cell = book["Unit x Nilai"]["A2"]
    assert cell.value == hostile and cell.data_type == "s"
    assert "<f>" not in _sheet_xml(data)


def _sheet_xml(data: bytes) -> str:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "".join(
            archive.read(name).decode()
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
        )


async def test_ideas_thanks_and_stories_are_counted_per_opd(db: Database) -> None:
    from db.models import Appreciation, Idea, IdeaVote, Member, Story

    db.run_sync(sync_bank, questions=CONTENT.questions, prompts=CONTENT.prompts)
    units = _units(db)
    _generate(db, units)
    december = datetime(2026, 12, 10, 3, 0, tzinfo=UTC)
    november = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)

    def seed(session: Session) -> None:
        members = session.exec(select(Member)).all()
        igd = [m for m in members if m.unit_id == units["RSUD-IGD"]]
        alfa = [m for m in members if m.unit_id == units["DAMKAR-A"]]
        for i, (unit, when, status) in enumerate(
            [
                ("RSUD-IGD", december, "baru"),
                ("RSUD-IGD", december, "terealisasi"),
                ("DAMKAR-A", december, "baru"),
                ("RSUD-IGD", november, "baru"),  # another month: not counted
            ]
        ):
            session.add(
                Idea(
                    author_id=igd[0].id,
                    unit_id=units[unit],
                    value="KL",
                    title=f"Ide {i}",
                    description="Penjelasan ide yang cukup panjang.",
                    fingerprint=f"f{i}",
                    status=status,
                    created_at=when,
                    updated_at=when,
                )
            )
        session.flush()
        first = session.exec(select(Idea).where(Idea.title == "Ide 0")).one()
        # One from Damkar (another generation than the author), one from the idea's own unit.
        for helper, crossed in ((alfa[1], True), (igd[3], None)):
            session.add(
                IdeaVote(
                    idea_id=first.id,
                    member_id=helper.id,
                    kind="help",
                    created_at=december,
                    cross_generation=crossed,
                )
            )
        for giver, receiver, crossed in ((alfa[0], igd[1], True), (igd[2], igd[1], False)):
            session.add(
                Appreciation(
                    giver_id=giver.id,
                    receiver_id=receiver.id,
                    giver_unit_id=giver.unit_id,
                    receiver_unit_id=receiver.unit_id,
                    value="HA",
                    reason="Terima kasih.",
                    cross_generation=crossed,
                    created_at=december,
                )
            )
        session.add(
            Story(
                author_id=igd[0].id,
                unit_id=units["RSUD-IGD"],
                value="BP",
                text="Cerita pelayanan.",
                status="terbit",
                created_at=december,
                updated_at=december,
            )
        )

    db.run_sync(seed)
    report = (await _report(db, "2026-12")).report
    rows = dict(report.community)
    rsud, total = rows["RSUD Gambiran"], rows[""]
    assert (rsud.ideas, rsud.realised, rsud.stories, rsud.published) == (2, 1, 1, 1)
    assert (rsud.thanks, rsud.thanks_cross_unit, rsud.thanks_cross_generation) == (2, 1, 1)
    assert (rsud.help, rsud.help_cross_unit, rsud.help_cross_generation) == (2, 1, 1)
    assert (total.ideas, total.thanks) == (3, 2)
    assert report.stories_by_value == {"BP": 1}
    assert "Ide, apresiasi, dan cerita pelayanan" in _pdf_text((await _report(db, "2026-12")).pdf)


@pytest.mark.usefixtures("bot")
async def test_laporan_finds_one_opd_by_name(sandbox, kediri: Database) -> None:  # type: ignore[no-untyped-def]
    opd = {u.code: u.id for u in kediri.run_sync(list_opd)}
    unit = kediri.run_sync(list_children, opd_id=opd["DINKES"])[0].id
    admin = await enrol(sandbox, kediri, "Admin Cari", unit, Role.ADMIN)
    await admin.send("/laporan tidak ada yang bernama begini")
    await expect(admin, "Tidak ada OPD dengan nama itu")
    await admin.send("/laporan dinas kesehatan")
    periods = await expect(admin, "Pilih periode laporan")
    await admin.press(periods, "Bulan lalu")
    await expect(admin, "Menyusun laporan November 2026 (OPD: Dinas Kesehatan)")
    # One member is too few for a report of its own; with five it comes.
    await expect(admin, "kurang dari 5 anggota terdaftar")
    for i in range(4):
        kediri.run_sync(
            create_member,
            telegram_user_id=800_000 + i,
            chat_id=800_000 + i,
            full_name=f"Pegawai Dinkes {i}",
            unit_id=unit,
            nip=None,
            language="id",
            consent_at=datetime(2026, 11, 1, tzinfo=UTC),
        )
    await admin.send("/laporan dinas kesehatan")
    periods = await expect(admin, "Pilih periode laporan")
    await admin.press(periods, "Bulan lalu")
    await expect(admin, "Menyusun laporan November 2026 (OPD: Dinas Kesehatan)")
    documents = []
    while len(documents) < 2:
        message = await admin.next_message(timeout=30)
        if "document" in message.message:
            documents.append(message.message["document"]["file_name"])
    assert documents == [
        "laporan_berakhlak_2026-11_DINKES.pdf",
        "laporan_berakhlak_2026-11_DINKES.xlsx",
    ]
