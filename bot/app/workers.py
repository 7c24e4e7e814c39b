"""`berakhlak run` in polling mode: one process runs the bots of the instansi it serves.

On SQLite that is every instansi, in one process (the vote journal's lock refuses a second).
On PostgreSQL several processes may run (README "Many instansi"): each holds a lease on the
bots it runs, renewed every few seconds by the database's clock, and takes its share
(the bots divided by the live workers); a bot whose worker dies is taken over once its
lease expires. Only its holder polls a bot, runs its programme and drains its outbox, so a
bot's rate limits are kept by one sender whatever the number of workers, and nothing is
sent twice: a row its dead worker had on the wire is reported unconfirmed, as after any kill.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from bot.app.startup import prepare
from bot.app.tenants import Tenant, load_tenants
from bot.app.vote_journal import JournalLocked
from bot.app.wiring import build_application, start_polling, stop_polling
from bot.core.config import Settings
from bot.core.deps import BotApp
from db.engine import Database, unavailable
from db.queries import leases

log = logging.getLogger(__name__)

# Seconds: how often leases are renewed and the share looked at again, and how long a lease
# lives unrenewed. A dead worker's bots are taken over within LEASE_TTL + RENEW_EVERY.
RENEW_EVERY = 3.0
LEASE_TTL = 15.0
POLL_TIMEOUT = 10  # seconds a getUpdates long poll waits, as PTB's run_polling
RETRY_START = 30.0  # seconds before a bot that failed to start is tried again


@dataclass
class Running:
    tenant: Tenant
    app: BotApp
    db: Database


def worker_id() -> str:
    # Random too: a restarted container has the same host name and process id.
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(3)}"


class Worker:
    """Starts and stops bots as the registry and, on PostgreSQL, the leases say."""

    def __init__(
        self,
        base: Settings,
        *,
        leases: bool,
        name: str | None = None,
        build: Callable[[Tenant], Awaitable[tuple[BotApp, Database]]] | None = None,
    ) -> None:
        self.base = base
        self.leases = leases
        self.name = name or worker_id()
        self.running: dict[str, Running] = {}
        self._build = build or _build
        self._registry = Database(base.database_url, workers=1)
        self._retry_at: dict[str, float] = {}
        self._counted = False
        # Starts and stops in progress: they run beside the rounds, so that a slow start
        # (migrations, ten bots at once) or stop never keeps the leases from being renewed.
        self._busy: dict[str, asyncio.Task[None]] = {}
        self._failed: BaseException | None = None
        self._wake = asyncio.Event()

    async def serve(self, stop: asyncio.Event) -> None:
        """Until `stop` is set; then every bot stops as `run_polling` would stop it."""
        try:
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception as error:
                    cause = unavailable(error)
                    if cause is None:
                        raise
                    # The bots keep running (their updates wait in the vote journal and
                    # Telegram); the leases are renewed when the database is back.
                    log.warning("leases not renewed, the database is unavailable (%s)", cause)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_first(stop, self._wake), RENEW_EVERY)
        finally:
            await asyncio.gather(*self._busy.values(), return_exceptions=True)
            for code in list(self.running):
                await self._stop(code)
            if self.leases:
                try:
                    await self._registry.run(leases.release, worker=self.name)
                except Exception:  # the others take them over when they expire
                    log.warning("leases not released; they expire in %.0f s", LEASE_TTL)
            self._registry.close()

    async def tick(self) -> None:
        if self._failed is not None:
            raise self._failed  # what stops the process (another one runs on SQLite)
        found = await asyncio.to_thread(load_tenants, self.base, self._registry)
        tenants = {t.code: t for t in found}
        if not self.leases:
            wanted = set(tenants)
        else:
            wanted = await self._share(list(tenants))
        for code in [c for c in self.running if c not in wanted and c not in self._busy]:
            self._in_background(code, self._stop(code, release=self.leases and code in tenants))
        now = asyncio.get_running_loop().time()
        for code in sorted(wanted - set(self.running) - set(self._busy)):
            if code in tenants and self._retry_at.get(code, 0.0) <= now:
                # Side by side: a worker taking over ten bots has them up in one start's time.
                self._in_background(code, self._start(tenants[code]))

    def _in_background(self, code: str, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._busy[code] = task

        def done(_: asyncio.Task[None]) -> None:
            self._busy.pop(code, None)
            if not task.cancelled() and task.exception() is not None:
                self._failed = task.exception()
                self._wake.set()

        task.add_done_callback(done)

    async def _share(self, codes: list[str]) -> set[str]:
        db = self._registry
        live = await db.run(leases.beat, worker=self.name, ttl=LEASE_TTL)
        held = await db.run(leases.renew, worker=self.name, ttl=LEASE_TTL)
        held &= set(codes)
        if not self._counted:
            # The first round only says "I am here": workers started together then see
            # each other before taking, and share the bots at once instead of handing over.
            self._counted = True
            return held
        share = math.ceil(len(codes) / max(live, 1))
        if len(held) < share:
            free = [c for c in codes if c not in held]
            held |= set(
                await db.run(
                    leases.take, worker=self.name, codes=free, most=share - len(held), ttl=LEASE_TTL
                )
            )
        elif len(held) > share:
            # A worker joined: hand one bot back per round, so the move is gradual.
            held.discard(max(held))
        return held

    async def _start(self, tenant: Tenant) -> None:
        try:
            app, db = await self._build(tenant)
            try:
                await start_polling(app, long_poll=POLL_TIMEOUT)
            except BaseException:
                db.close()
                raise
        except JournalLocked:
            if not self.leases:
                raise  # another process runs this deployment: this one must not
            # Its old worker is still alive (between losing the lease and stopping).
            self._retry_at[tenant.code] = asyncio.get_running_loop().time() + RENEW_EVERY
            await self._registry.run(leases.release, worker=self.name, codes=[tenant.code])
            return
        except Exception as error:
            # One instansi's fault (a refused token, a locked journal) never stops the others.
            log.error(
                "instansi %s not started (again in %.0f s): %s", tenant.code, RETRY_START, error
            )
            self._retry_at[tenant.code] = asyncio.get_running_loop().time() + RETRY_START
            if self.leases:
                await self._registry.run(leases.release, worker=self.name, codes=[tenant.code])
            return
        self._retry_at.pop(tenant.code, None)
        self.running[tenant.code] = Running(tenant, app, db)
        log.info("instansi %s: bot started by worker %s", tenant.code, self.name)

    async def _stop(self, code: str, *, release: bool = False) -> None:
        running = self.running.pop(code)
        try:
            await stop_polling(running.app)
        finally:
            running.db.close()
        log.info("instansi %s: bot stopped by worker %s", code, self.name)
        if release:  # only now: the next holder must not start it while it still runs
            try:
                await self._registry.run(leases.release, worker=self.name, codes=[code])
            except Exception as error:
                log.warning("instansi %s: lease not released, it expires (%s)", code, error)


async def _first(*events: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


async def _build(tenant: Tenant) -> tuple[BotApp, Database]:
    # Migrations and the content sync block: a thread, while the other bots run on.
    prepared = await asyncio.to_thread(prepare, tenant.settings)
    db = Database(tenant.settings.database_url)
    return build_application(prepared, db), db


class WebhookLease:
    """Webhook mode on PostgreSQL: one instansi's bot, behind a reverse proxy that sends each
    update to whichever worker answers. Only the lease holder listens (and runs the
    programme and the outbox); the others wait as standbys and take over when it dies."""

    def __init__(self, settings: Settings) -> None:
        self.code = settings.instansi_code
        self.name = worker_id()
        self._registry = Database(settings.database_url, workers=1)

    def acquire(self) -> None:
        """Blocking, before the event loop starts: wait until this worker holds the bot."""
        db, waited = self._registry, False
        while True:
            db.run_sync(leases.beat, worker=self.name, ttl=LEASE_TTL)
            if db.run_sync(leases.take, worker=self.name, codes=[self.code], most=1, ttl=LEASE_TTL):
                return
            if not waited:
                log.info("instansi %s is served by another worker; standing by", self.code)
                waited = True
            # Not time.sleep: it fails under libfaketime (see bot/app/cli.py).
            asyncio.run(asyncio.sleep(RENEW_EVERY))

    async def renew(self, app: BotApp) -> None:
        """A repeating job: keep the lease; stop serving at once if it was lost."""
        try:
            held = await self._registry.run(leases.renew, worker=self.name, ttl=LEASE_TTL)
            await self._registry.run(leases.beat, worker=self.name, ttl=LEASE_TTL)
        except Exception as error:
            if unavailable(error) is None:
                raise
            return  # nobody else can take it while the database is away from us all
        if self.code not in held:
            log.error("instansi %s: lease lost to another worker; stopping", self.code)
            app.stop_running()

    def release(self) -> None:
        try:
            self._registry.run_sync(leases.release, worker=self.name)
        finally:
            self._registry.close()
