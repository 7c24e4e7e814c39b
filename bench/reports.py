"""Bench: HR reports on the leaderboard bench's data (300 units, 50,000 members, 5,000,000
answers), on SQLite and on PostgreSQL. Targets: the month's PDF for the whole instansi in
at most 5 s and for one OPD in at most 1.5 s, the .xlsx in at most 3 s, at most +300 MB of
peak memory while rendering, and the event loop never blocked more than 50 ms while a
report is built (a ticker every 10 ms measures its worst lateness).

    python -m bench.reports [--units 300] [--members 50000] [--answers 5000000]

Also saves the whole-instansi report's second page as bench/report_page.png (the README
shows it).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.common import PG_URL, emit, fresh_database, now, postgres_available
from bench.leaderboard import TZ, aggregates, generate, load_postgresql, load_small, load_sqlite
from bot.core.render import default_renderer
from bot.reports.figures import Period, period_choices
from bot.reports.service import Files, make_report
from content.loader import shipped_content
from db.engine import Database
from db.queries.units import list_opd

PDF_TARGET_S = 5.0
OPD_TARGET_S = 1.5
XLSX_TARGET_S = 3.0
MEMORY_TARGET_MB = 300.0
LOOP_TARGET_MS = 50.0
PAGE = Path(__file__).with_name("report_page.png")


async def _timed_report(
    db: Database, period: Period, opd_id: int | None
) -> tuple[Files, float, float]:
    """The report, its wall time, and the event loop's worst lateness meanwhile."""
    worst = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal worst
        while not done.is_set():
            expected = time.perf_counter() + 0.01
            await asyncio.sleep(0.01)
            worst = max(worst, time.perf_counter() - expected)

    tick = asyncio.create_task(ticker())
    started = now()
    files = await make_report(
        db,
        content=shipped_content(),
        renderer=default_renderer(),
        period=period,
        opd_id=opd_id,
        opd_code=None,
        lang="id",
        min_size=5,
        now=datetime.now(UTC),
        tz=TZ,
    )
    elapsed = now() - started
    done.set()
    await tick
    return files, elapsed, worst * 1000


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak() -> float:
    """Linux: restart the peak-memory mark from now; returns the memory in use."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def measure(name: str, url: str) -> tuple[dict[str, Any], bool]:
    db = Database(url)
    today = datetime.now(ZoneInfo(TZ)).date()
    period = period_choices(today)["m0"]
    opds = db.run_sync(list_opd)
    largest = opds[0].id
    figures: dict[str, Any] = {}
    # First run warms the caches (fonts, templates, the database's pages); the second counts.
    asyncio.run(_timed_report(db, period, None))
    base = _reset_peak()
    files, whole_s, whole_lag = asyncio.run(_timed_report(db, period, None))
    _, opd_s, opd_lag = asyncio.run(_timed_report(db, period, largest))
    peak = _status_mb("VmHWM") - base
    figures[f"{name}_pdf_and_xlsx_s"] = round(whole_s, 2)
    figures[f"{name}_opd_s"] = round(opd_s, 2)
    figures[f"{name}_loop_worst_ms"] = round(max(whole_lag, opd_lag), 1)
    figures[f"{name}_peak_extra_mb"] = round(peak, 1)
    ok = (
        whole_s <= PDF_TARGET_S
        and opd_s <= OPD_TARGET_S
        and max(whole_lag, opd_lag) <= LOOP_TARGET_MS
        and peak <= MEMORY_TARGET_MB
    )
    print(
        f"{name}: whole instansi PDF + .xlsx {whole_s:.2f} s (targets {PDF_TARGET_S:.0f} s "
        f"and {XLSX_TARGET_S:.0f} s, built together), one OPD {opd_s:.2f} s (target "
        f"{OPD_TARGET_S} s), event loop worst late {max(whole_lag, opd_lag):.1f} ms (target "
        f"{LOOP_TARGET_MS:.0f} ms), peak +{peak:.0f} MB (target {MEMORY_TARGET_MB:.0f}) -> "
        f"{'PASS' if ok else 'FAIL'}; {len(files.report.units)} unit rows, "
        f"PDF {len(files.pdf) // 1024} kB, .xlsx {len(files.xlsx) // 1024} kB",
        flush=True,
    )
    if name == "sqlite":
        import pypdfium2

        doc = pypdfium2.PdfDocument(files.pdf)
        doc[1].render(scale=1.2).to_pil().save(PAGE)
        doc.close()
    db.close()
    return figures, ok


def run(units: int, members: int, answers: int) -> dict[str, Any]:
    # As the running bot does (bot/app/wiring.py): worker threads hand the loop back often.
    sys.setswitchinterval(0.001)
    today = datetime.now(ZoneInfo(TZ)).date()
    figures: dict[str, Any] = {"bench": "reports", "units": units, "members": members}
    data = generate(units, members, answers, today)
    scores = aggregates(data)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        targets = [("sqlite", f"sqlite:///{path}")]
        if postgres_available():
            targets.append(("postgresql", PG_URL))
        for name, url in targets:
            db = fresh_database(url)
            ids = load_small(db, data)
            if name == "sqlite":
                db.close()
                load_sqlite(path, data, ids, scores)
            else:
                load_postgresql(db, data, ids, scores)
                db.close()
            # As the bot after start-up (bot/app/wiring.py): what lives for good is frozen
            # out of the collector's sight, so a full collection stays short.
            gc.collect()
            gc.freeze()
            measured, passed = measure(name, url)
            gc.unfreeze()
            figures.update(measured)
            ok &= passed
    figures["targets_met"] = ok
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reports")
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--answers", type=int, default=5_000_000)
    args = parser.parse_args(argv)
    emit(run(args.units, args.members, args.answers))


if __name__ == "__main__":
    main()
