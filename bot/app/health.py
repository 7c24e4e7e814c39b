"""`berakhlak health`: does this deployment work? One named result per check.

It is the container's health check, so it is quick (a few seconds at most), only reads,
never creates a database file, and never prints the token or a database password.

Checks, in order: `database` (a connection answers), `migrations` (the schema's Alembic
revision is this code's head), `content` (active questions and prompts are loaded),
`bot_api` (getMe answers for the configured token), `outbox` (no delivery has been due for
longer than the limit, 60 minutes by default). The outbox limit is generous on purpose: a
quiz round is about seven messages per member and the sender keeps under 30 a second, so a
round to 15,000 members legitimately takes about an hour to drain. A row overdue beyond
that means the sender is not sending (the bot is stopped, stuck, or every send fails).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from bot.core.config import Settings
from db.migrate import alembic_config
from db.models import utcnow
from db.queries.health import backlog, content_counts

OUTBOX_MAX_AGE = timedelta(minutes=60)
BOT_API_TIMEOUT = 5.0
DB_CONNECT_TIMEOUT = 5
NAMES = ("database", "migrations", "content", "bot_api", "outbox")


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok' if self.ok else 'FAIL':<4} {self.name}: {self.detail}"


def main(settings: Settings, *, outbox_max_age: timedelta = OUTBOX_MAX_AGE) -> int:
    """Print one line per check; 0 only if every check passed."""
    # Alembic announces its context at INFO on every connection; health output is the lines.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    results = run_checks(settings, outbox_max_age=outbox_max_age)
    for result in results:
        print(result.line(), flush=True)
    return 0 if all(r.ok for r in results) else 1


def run_checks(
    settings: Settings,
    *,
    now: datetime | None = None,
    outbox_max_age: timedelta = OUTBOX_MAX_AGE,
    api_timeout: float = BOT_API_TIMEOUT,
) -> list[CheckResult]:
    now = now or utcnow()
    secrets = _secrets(settings)
    engine, database = _database(settings, secrets)
    found = {"database": database}
    if engine is None:
        for name in ("migrations", "content", "outbox"):
            found[name] = CheckResult(name, False, "not checked: the database is unreachable")
    else:
        try:
            found["migrations"] = _guard(
                "migrations", secrets, lambda: _migrations(engine, settings.database_url)
            )
            if found["migrations"].ok:
                with Session(engine) as session:
                    found["content"] = _guard("content", secrets, lambda: _content(session))
                    found["outbox"] = _guard(
                        "outbox", secrets, lambda: _outbox(session, now, outbox_max_age)
                    )
            else:
                # The tables may be missing or different; the bot migrates when it starts.
                for name in ("content", "outbox"):
                    found[name] = CheckResult(name, False, "not checked: the schema is not current")
        finally:
            engine.dispose()
    found["bot_api"] = _bot_api(settings, api_timeout, secrets)
    return [found[name] for name in NAMES]


# --- the checks ------------------------------------------------------------------------------


def _database(settings: Settings, secrets: Iterable[str]) -> tuple[Engine | None, CheckResult]:
    url = settings.database_url
    path = settings.sqlite_path()
    if path is not None:
        # Connecting would create an empty file, and a health check must not change anything.
        if not path.is_file():
            return None, CheckResult("database", False, f"no SQLite database file at {path}")
        engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 5})
        where = f"SQLite {path}"
    elif url.startswith("sqlite"):
        engine = create_engine(url, poolclass=NullPool)
        where = "SQLite"
    else:
        engine = create_engine(
            url, poolclass=NullPool, connect_args={"connect_timeout": DB_CONNECT_TIMEOUT}
        )
        parts = make_url(url)
        where = f"{parts.host or 'local socket'}:{parts.port or 5432}/{parts.database}"
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            version = conn.dialect.server_version_info
    except SQLAlchemyError as exc:
        engine.dispose()
        return None, CheckResult("database", False, f"{where}: {_describe(exc, secrets)}")
    if engine.dialect.name == "postgresql" and version:
        where = f"PostgreSQL {'.'.join(str(v) for v in version[:2])} at {where}"
    return engine, CheckResult("database", True, f"{where} answers")


def _migrations(engine: Engine, url: str) -> CheckResult:
    script = ScriptDirectory.from_config(alembic_config(url))
    heads = set(script.get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    head = ", ".join(sorted(heads))
    at = ", ".join(sorted(current))
    if current == heads:
        return CheckResult("migrations", True, f"at head {head}")
    if not current:
        return CheckResult(
            "migrations",
            False,
            f"none applied (head is {head}): the bot migrates when it starts, "
            "or run `berakhlak db upgrade`",
        )
    for revision in current:
        try:
            known = script.get_revision(revision) is not None
        except CommandError:
            known = False
        if not known:
            return CheckResult(
                "migrations",
                False,
                f"at {revision}, which this version does not know (a newer bot's database?)",
            )
    return CheckResult("migrations", False, f"at {at}, head is {head}: run `berakhlak db upgrade`")


def _content(session: Session) -> CheckResult:
    counts = content_counts(session=session)
    detail = f"{counts.questions} active questions, {counts.prompts} active prompts"
    if counts.questions and counts.prompts:
        return CheckResult("content", True, detail)
    return CheckResult(
        "content", False, f"{detail}: the bot loads content/ into the database when it starts"
    )


def _outbox(session: Session, now: datetime, max_age: timedelta) -> CheckResult:
    backlog_ = backlog(session=session, now=now)
    head = f"{backlog_.open} open deliveries"
    if backlog_.oldest_due is None:
        return CheckResult("outbox", True, f"{head}, none due")
    age = max(now - backlog_.oldest_due, timedelta(0))
    detail = (
        f"{head}, {backlog_.due} due, the oldest due for {_duration(age)} "
        f"(limit {_duration(max_age)})"
    )
    if age <= max_age:
        return CheckResult("outbox", True, detail)
    return CheckResult("outbox", False, f"{detail}: is the bot running and sending?")


def bot_api(settings: Settings, timeout: float = 5.0) -> CheckResult:
    """Whether the Bot API answers getMe for the configured token (the token never shown)."""
    return _bot_api(settings, timeout, _secrets(settings))


def _bot_api(settings: Settings, timeout: float, secrets: Iterable[str]) -> CheckResult:
    if settings.telegram_bot_token is None:
        return CheckResult("bot_api", False, "TELEGRAM_BOT_TOKEN is not set")
    token = settings.telegram_bot_token.get_secret_value()
    host = urlsplit(settings.bot_api_base_url).netloc or settings.bot_api_base_url
    try:
        response = httpx.get(f"{settings.bot_api_base_url}{token}/getMe", timeout=timeout)
    except httpx.HTTPError as exc:
        # httpx names the URL in some errors, and the URL carries the token.
        return CheckResult("bot_api", False, f"{host}: {_describe(exc, secrets)}")
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if response.status_code == 200 and body.get("ok"):
        result = body.get("result") or {}
        return CheckResult("bot_api", True, f"@{result.get('username')} at {host}")
    if response.status_code == 401:
        return CheckResult(
            "bot_api", False, f"{host} rejected the token (401): check TELEGRAM_BOT_TOKEN"
        )
    reason = _redact(str(body.get("description") or response.reason_phrase), secrets)
    return CheckResult("bot_api", False, f"{host} answered {response.status_code} {reason}")


# --- helpers ---------------------------------------------------------------------------------


def _guard(name: str, secrets: Iterable[str], check: Callable[[], CheckResult]) -> CheckResult:
    """A check that raises is a failed check with the reason, not a traceback."""
    try:
        return check()
    except SQLAlchemyError as exc:
        return CheckResult(name, False, _describe(exc, secrets))


def _secrets(settings: Settings) -> list[str]:
    found = []
    if settings.telegram_bot_token is not None:
        found.append(settings.telegram_bot_token.get_secret_value())
    if not settings.database_url.startswith("sqlite"):
        password = make_url(settings.database_url).password
        if password:
            found.append(str(password))
    return found


def _redact(message: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        message = message.replace(secret, "***")
    return message


def _describe(exc: BaseException, secrets: Iterable[str]) -> str:
    # SQLAlchemy wraps the driver's error and appends the statement and a link; the
    # driver's first line says what happened.
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [""])[0]
    return _redact(f"{type(cause).__name__}: {first}", secrets)


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"
