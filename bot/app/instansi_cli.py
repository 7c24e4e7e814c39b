"""`berakhlak instansi add|list|disable|enable`: the instansi a deployment serves."""

from __future__ import annotations

import argparse
import sys

from bot.app.startup import prepare
from bot.app.tenants import cipher, own_settings, tenant_settings
from bot.core.calendar import Clock
from bot.core.config import INSTANSI_CODE_RE, TOKEN_RE, ConfigError, Settings
from db.engine import Database
from db.queries.instansi import AlreadyRegistered, InstansiRow, list_instansi, set_disabled
from db.queries.instansi import add_instansi as store
from db.tenancy import schema_of


def instansi_main(settings: Settings, args: argparse.Namespace) -> int:
    prepare(settings)  # the registry lives in the default instansi's database
    registry = Database(settings.database_url, workers=1)
    try:
        if args.action == "add":
            return _add(settings, registry, args)
        if args.action == "list":
            return _list(settings, registry)
        found = registry.run_sync(set_disabled, code=args.code, disabled=args.action == "disable")
    finally:
        registry.close()
    if not found:
        print(f"berakhlak: no instansi {args.code} (see `instansi list`)", file=sys.stderr)
        return 1
    print(
        f"{args.code}: {args.action}d; running workers "
        f"{'stop' if args.action == 'disable' else 'start'} its bot within seconds."
    )
    return 0


def _add(settings: Settings, registry: Database, args: argparse.Namespace) -> int:
    code = args.code.strip()
    if not INSTANSI_CODE_RE.match(code):
        raise ConfigError(f"code {code!r}: 2-30 of a-z, 0-9 and _, starting with a letter")
    if code == settings.instansi_code:
        raise ConfigError(f"code {code}: that is the default instansi's (INSTANSI_CODE)")
    # From standard input, not an argument: a token on the command line stays in the
    # shell's history and in the process list.
    token = sys.stdin.readline().strip()
    if not TOKEN_RE.match(token):
        raise ConfigError("bot token (standard input): expected 123456789:ABC... from @BotFather")
    row = InstansiRow(
        code=code,
        name=args.name.strip(),
        data_controller=(args.controller or args.name).strip(),
        bot_id=int(token.split(":", 1)[0]),
        token_cipher=cipher(settings).encrypt(token.encode()).decode(),
        superadmin_ids=tuple(args.superadmin),
        settings=own_settings(settings, args.set),
        disabled=False,
    )
    if settings.telegram_bot_token is not None and row.bot_id == int(
        settings.telegram_bot_token.get_secret_value().split(":", 1)[0]
    ):
        raise ConfigError("bot token: that bot already serves the default instansi")
    # Checked before it is stored: a name too long, a time zone unknown.
    own = tenant_settings(settings, row)
    try:
        registry.run_sync(store, row=row, now=Clock().now())
    except AlreadyRegistered as exc:
        print(f"berakhlak: not added: {exc}", file=sys.stderr)
        return 1
    prepare(own)  # its schema or file, migrated, with the question bank
    where = schema_of(own.database_url) or own.database_url.removeprefix("sqlite:///")
    print(
        f"{code}: added (bot {row.bot_id}, data in {where}). Next: "
        f"`berakhlak units import FILE --instansi {code}`; running workers start its bot "
        "within seconds."
    )
    return 0


def _list(settings: Settings, registry: Database) -> int:
    rows = registry.run_sync(list_instansi)
    default_bot = (
        settings.telegram_bot_token.get_secret_value().split(":", 1)[0]
        if settings.telegram_bot_token
        else "-"
    )
    print(f"{'code':<20} {'bot':>12}  {'state':<9} {'admins':>6}  name")
    print(
        f"{settings.instansi_code:<20} {default_bot:>12}  {'default':<9} "
        f"{len(settings.superadmin_ids):>6}  {settings.instansi_name}"
    )
    for row in rows:
        state = "disabled" if row.disabled else "enabled"
        print(
            f"{row.code:<20} {row.bot_id:>12}  {state:<9} {len(row.superadmin_ids):>6}  {row.name}"
        )
    return 0
