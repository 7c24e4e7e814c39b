"""The `berakhlak` command: run the bot, migrations, imports, health, backups.

The demo and the sandbox live next to the product: `make demo`, `make sandbox`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.app.startup import InvalidContent, prepare
from bot.app.vote_journal import JournalLocked
from bot.core.config import ConfigError, Settings, load_settings
from bot.core.logs import configure as configure_logging

log = logging.getLogger("berakhlak")

# Telegram unreachable at start (network not up yet, an outage) is waited out, with growing
# pauses and a log line each, instead of ending the process; a rejected token stops it.
BOOTSTRAP_RETRIES = -1
MAX_START_PAUSE = 60.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="berakhlak", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot against Telegram (needs TELEGRAM_BOT_TOKEN)")
    db = sub.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade"])
    units = sub.add_parser("units", help="unit roster")
    units_sub = units.add_subparsers(dest="action", required=True)
    units_import = units_sub.add_parser("import", help="load OPD and unit kerja from a file")
    units_import.add_argument("file", type=Path, help=".csv, .xlsx or .yaml")
    staff = sub.add_parser("pegawai", help="HR's employee list (verified registration)")
    staff_sub = staff.add_subparsers(dest="action", required=True)
    staff_import = staff_sub.add_parser("import", help="load NIP, name and unit code from a file")
    staff_import.add_argument("file", type=Path, help=".csv or .xlsx")

    content = sub.add_parser("content", help="values, questions, prompts and templates")
    content_sub = content.add_subparsers(dest="action", required=True)
    content_sub.add_parser("check", help="validate content/ against the schema and Telegram")
    content_import = content_sub.add_parser("import", help="import questions from an .xlsx")
    content_import.add_argument("file", type=Path)
    content_export = content_sub.add_parser("export", help="export the active bank to .xlsx")
    content_export.add_argument("file", type=Path)

    health = sub.add_parser(
        "health", help="check database, migrations, content, Bot API and outbox; 0 if all pass"
    )
    health.add_argument(
        "--outbox-max-age",
        type=int,
        default=60,
        metavar="MINUTES",
        help="unhealthy when a delivery has been due longer than this (default 60)",
    )
    backup = sub.add_parser("backup", help="back the database up to FILE (pg_dump or SQLite)")
    backup.add_argument("file", type=Path)
    restore = sub.add_parser("restore", help="replace the database with a backup (bot stopped)")
    restore.add_argument("file", type=Path)
    report = sub.add_parser("report", help="write an HR report as .pdf or .xlsx")
    report.add_argument("--period", required=True, help="2026-12, 2026-Q4 or 2026")
    report.add_argument("--opd", metavar="CODE", help="one OPD by its roster code")
    report.add_argument("--lang", choices=["id", "en"], default="id")
    report.add_argument("--out", type=Path, required=True, help="FILE.pdf or FILE.xlsx")
    for each in (
        units_import,
        staff_import,
        content_import,
        content_export,
        report,
        backup,
        restore,
    ):
        each.add_argument(
            "--instansi", metavar="CODE", help="another instansi than the default (its code)"
        )

    instansi = sub.add_parser("instansi", help="the instansi this deployment serves")
    instansi_sub = instansi.add_subparsers(dest="action", required=True)
    add = instansi_sub.add_parser(
        "add", help="add an instansi; its bot token is read from standard input"
    )
    add.add_argument("code", help="short code: a-z, 0-9 and _, e.g. kab_blitar")
    add.add_argument("--name", required=True, help='e.g. "Pemerintah Kabupaten Blitar"')
    add.add_argument("--controller", help="the data controller (UU PDP); default: the name")
    add.add_argument("--superadmin", type=int, action="append", default=[], metavar="TELEGRAM_ID")
    add.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    instansi_sub.add_parser("list", help="every instansi, the default first")
    for action in ("disable", "enable"):
        each = instansi_sub.add_parser(action, help=f"{action} an instansi's bot")
        each.add_argument("code")
    instansi_sub.add_parser("key", help="print a new INSTANSI_KEY")

    args = parser.parse_args(argv)
    configure_logging()
    command = args.command or "run"
    try:
        if command == "content" and args.action == "check":
            return _content_check()
        if command == "instansi" and args.action == "key":
            from bot.app.tenants import new_key

            print(new_key())
            return 0
        settings = load_settings()
        configure_logging(settings.log_level)
        if command == "instansi":
            from bot.app.instansi_cli import instansi_main

            return instansi_main(settings, args)
        if getattr(args, "instansi", None):
            settings = _instansi_settings(settings, args.instansi)
        if command == "health":
            from datetime import timedelta

            from bot.app.health import main as health_main

            return health_main(settings, outbox_max_age=timedelta(minutes=args.outbox_max_age))
        if command == "backup":
            from bot.app.backup import backup_main

            return backup_main(settings, args.file)
        if command == "restore":
            from bot.app.backup import restore_main

            return restore_main(settings, args.file)
        if command == "content":
            return _content_transfer(settings, args.action, args.file)
        if command == "db":
            return _db_upgrade(settings)
        if command == "units":
            return _units_import(settings, args.file)
        if command == "pegawai":
            return _employees_import(settings, args.file)
        if command == "report":
            return _report(settings, args.period, args.opd, args.lang, args.out)
        return _run(settings)
    except ConfigError as exc:
        print(f"berakhlak: {exc}", file=sys.stderr)
        return 2
    except (InvalidContent, JournalLocked) as exc:
        print(f"berakhlak: refusing to start: {exc}", file=sys.stderr)
        return 1


def _instansi_settings(settings: Settings, code: str) -> Settings:
    from bot.app.tenants import find
    from db.engine import Database

    prepare(settings)
    registry = Database(settings.database_url, workers=1)
    try:
        return find(settings, registry, code)
    finally:
        registry.close()


def _db_upgrade(settings: Settings) -> int:
    prepare(settings)
    print("Database is up to date.")
    return 0


def _content_check() -> int:
    from content.check import check_all, scene_report, two_step_cases
    from content.loader import counts

    content, problems = check_all()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) found.", file=sys.stderr)
        return 1
    tally = counts(content.questions)
    print(
        f"Content OK: {len(content.values)} values, {len(content.questions)} questions "
        f"({', '.join(f'{k} {v}' for k, v in sorted(tally['kind'].items()))}; "
        f"{two_step_cases(content.questions)} two-step cases), "
        f"{len(content.prompts)} prompts, {len(content.holidays)} holidays."
    )
    # Who the scenes are about and where (offices and regions are enforced above).
    for line in scene_report(content.questions):
        print(line)
    return 0


def _content_transfer(settings: Settings, action: str, file: Path) -> int:
    from content.xlsx import SheetRejected, export_bytes, parse_sheet
    from db.engine import Database
    from db.queries import content as content_db

    content = prepare(settings).content
    database = Database(settings.database_url, workers=1)
    try:
        if action == "export":
            questions = database.run_sync(content_db.active_questions)
            file.write_bytes(export_bytes(questions))
            print(f"{file}: {len(questions)} questions exported.")
            return 0
        ids = database.run_sync(content_db.bank_ids)
        reserved = frozenset(q for q, source in ids.items() if source == "bank")
        try:
            questions = parse_sheet(
                file.read_bytes(),
                content.guideline_codes,
                reserved_ids=reserved,
                next_id=database.run_sync(content_db.next_hr_numbers),
                stored_links=database.run_sync(content_db.question_links),
            )
        except SheetRejected as rejected:
            print(f"{file}: nothing imported.\n{rejected}", file=sys.stderr)
            return 1
        result = database.run_sync(content_db.import_questions, questions=questions)
        print(f"{file}: {result.added} added, {result.updated} updated.")
        return 0
    finally:
        database.close()


def _report(settings: Settings, code: str, opd_code: str | None, lang: str, out: Path) -> int:
    from bot.core.calendar import Clock
    from bot.core.render import renderer_for
    from bot.reports.figures import parse_period
    from bot.reports.service import make_report
    from db.engine import Database
    from db.queries.units import list_opd

    period = parse_period(code)
    if period is None or out.suffix not in (".pdf", ".xlsx"):
        print("berakhlak: --period is 2026-12, 2026-Q4 or 2026; --out ends in .pdf or .xlsx")
        return 2
    content = prepare(settings).content
    database = Database(settings.database_url, workers=1)
    try:
        opd = None
        if opd_code is not None:
            opd = next((u for u in database.run_sync(list_opd) if u.code == opd_code), None)
            if opd is None:
                print(f"berakhlak: no OPD with the code {opd_code}", file=sys.stderr)
                return 1
        files = asyncio.run(
            make_report(
                database,
                content=content,
                renderer=renderer_for(settings.instansi_name),
                period=period,
                opd_id=opd.id if opd else None,
                opd_code=opd_code,
                lang=lang,
                min_size=settings.min_unit_size,
                now=Clock().now(),
                tz=settings.default_timezone,
            )
        )
    finally:
        database.close()
    out.write_bytes(files.pdf if out.suffix == ".pdf" else files.xlsx)
    print(f"{out}: report for {period.code} written.")
    return 0


def _units_import(settings: Settings, file: Path) -> int:
    from bot.members.roster import RosterError, parse_roster
    from db.engine import Database
    from db.queries.units import RosterRow, import_roster

    try:
        rows = parse_roster(file)
    except RosterError as exc:
        print(f"{file}: nothing imported.\n{exc}", file=sys.stderr)
        return 1
    prepare(settings)
    database = Database(settings.database_url)
    try:
        result = database.run_sync(
            import_roster,
            rows=[RosterRow(r.code, r.name, r.parent, r.timezone) for r in rows],
        )
    finally:
        database.close()
    print(
        f"{file}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged."
    )
    if result.not_in_file:
        print(f"Kept (not in the file): {', '.join(result.not_in_file)}")
    return 0


def _employees_import(settings: Settings, file: Path) -> int:
    from bot.core.calendar import Clock
    from bot.members.employees import EmployeeListError, UnitState, check_units, parse_employees
    from db.engine import Database
    from db.queries.employees import EmployeeEntry, import_employees, unit_codes

    try:
        rows = parse_employees(file, today=Clock().today(settings.default_timezone))
    except EmployeeListError as exc:
        print(f"{file}: nothing imported.\n{exc}", file=sys.stderr)
        return 1
    prepare(settings)
    database = Database(settings.database_url, workers=1)
    try:
        codes = database.run_sync(unit_codes)
        units = {code: UnitState(u.active, u.has_children) for code, u in codes.items()}
        problems = check_units(rows, units)
        if problems:
            print(f"{file}: nothing imported.\n{EmployeeListError(problems)}", file=sys.stderr)
            return 1
        result = database.run_sync(
            import_employees,
            rows=[EmployeeEntry(r.nip, r.name, r.unit_code) for r in rows],
        )
    finally:
        database.close()
    print(
        f"{file}: {result.created} added, {result.updated} updated, {result.unchanged} "
        f"unchanged, {result.removed} removed (not in the file). "
        f"Registration now checks NIP and name against {len(rows)} employees."
    )
    return 0


def _run(settings: Settings) -> int:
    from bot.app.tenants import load_tenants
    from db.engine import Database

    # The default instansi's database holds the registry of the others: ready it first.
    prepare(settings)
    registry = Database(settings.database_url, workers=1)
    try:
        tenants = load_tenants(settings, registry)
    finally:
        registry.close()
    if not tenants:
        raise ConfigError(
            "Setting TELEGRAM_BOT_TOKEN: required to run (try `make demo` without one)"
        )
    if settings.update_mode == "webhook":
        if len(tenants) > 1 or not tenants[0].default:
            raise ConfigError(
                'Setting UPDATE_MODE: several instansi run in polling mode (README "Many instansi")'
            )
        return _run_webhook(settings)
    if settings.telegram_bot_token is not None and not _wait_for_telegram(settings):
        return 1
    asyncio.run(_serve(settings))
    return 0


async def _serve(settings: Settings) -> None:
    import signal

    from bot.app.workers import Worker

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # One process on SQLite; on PostgreSQL any number, sharing the bots by leases.
    worker = Worker(settings, leases=settings.sqlite_path() is None)
    await worker.serve(stop)


def _run_webhook(settings: Settings) -> int:
    from bot.app.webhook import cap_request_bodies
    from bot.app.wiring import ALLOWED_UPDATES, build_application
    from bot.app.workers import RENEW_EVERY, WebhookLease
    from bot.core.deps import BotContext
    from db.engine import Database

    assert settings.webhook_url is not None and settings.webhook_secret is not None
    if not _wait_for_telegram(settings):
        return 1
    # On PostgreSQL a second worker is a standby until the first one's lease expires.
    lease = WebhookLease(settings) if settings.sqlite_path() is None else None
    if lease is not None:
        lease.acquire()
    prepared = prepare(settings)
    database = Database(settings.database_url)
    app = build_application(prepared, database)
    if lease is not None and app.job_queue is not None:
        held = lease

        async def renew(_: BotContext) -> None:
            await held.renew(app)

        app.job_queue.run_repeating(renew, RENEW_EVERY, first=RENEW_EVERY, name="lease")
    try:
        cap_request_bodies(settings.webhook_max_body)
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=_webhook_path(settings.webhook_url),
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=ALLOWED_UPDATES,
            bootstrap_retries=BOOTSTRAP_RETRIES,
        )
    finally:
        database.close()
        if lease is not None:
            lease.release()
    return 0


def _wait_for_telegram(settings: Settings) -> bool:
    """Before the event loop starts: False only when the token is refused."""
    from bot.app.health import bot_api

    pause = 1.0
    while not (check := bot_api(settings)).ok:
        if "(401)" in check.detail:
            print(f"berakhlak: {check.detail}", file=sys.stderr)
            return False
        log.warning("Telegram not reachable (%s); trying again in %.0f s", check.detail, pause)
        # Not time.sleep: its absolute-deadline clock_nanosleep fails (EINVAL) under
        # libfaketime, which CI uses to run the bot inside a programme window.
        asyncio.run(asyncio.sleep(pause))
        pause = min(MAX_START_PAUSE, pause * 2)
    return True


def _webhook_path(url: str) -> str:
    from urllib.parse import urlparse

    return urlparse(url).path.lstrip("/")


if __name__ == "__main__":
    raise SystemExit(main())
