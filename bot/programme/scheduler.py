"""The programme's scheduler: JobQueue jobs built from the programme tables.

One job per slot and time zone in use, named ``programme:<slot>:<zone>`` and always set to
that slot's next working-day occurrence in that zone's local time. A job that fires
claims its run in `programme_run` (unique per slot, zone and local date) before sending,
so nothing goes out twice, not even across restarts. At start-up the latest occurrence
that has no run is sent late if it is within the grace period, and recorded as skipped
(with a log line) if not. An admin's change re-plans the jobs at once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from bot.core.calendar import zone_label
from bot.core.deps import BotContext, BotJobQueue, Deps
from bot.programme.value_message import send_daily
from bot.quiz.rounds import send_quiz_round
from db.queries import programme as prog
from db.queries.programme import ADMIN_SLOTS, DAILY, LEADERBOARD, QUIZ, REPORT, SILENT, Slot

log = logging.getLogger(__name__)

LOOKAHEAD_DAYS = 400
LeaderboardHook = Callable[[str, date], Awaitable[None]]
AdminHook = Callable[[date], Awaitable[None]]


class Programme:
    def __init__(self, deps: Deps, job_queue: BotJobQueue) -> None:
        self.deps = deps
        self.job_queue = job_queue
        self.on_leaderboard: LeaderboardHook | None = None
        self.on_report: AdminHook | None = None
        self.on_silent: AdminHook | None = None
        # The zones the jobs were last planned for: those with members.
        self.zones: set[str] = set()
        self.slots: list[Slot] = []

    # --- time ----------------------------------------------------------------------------------

    def _occurs(self, slot: Slot, day: date) -> bool:
        if slot.key == REPORT:
            # The month's first day the slot occurs on: the first working day by default.
            first = day.replace(day=1)
            while first < day and not self._occurs_on(slot, first):
                first += timedelta(days=1)
            return first == day and self._occurs_on(slot, day)
        return self._occurs_on(slot, day)

    def _occurs_on(self, slot: Slot, day: date) -> bool:
        return day.isoweekday() in slot.days and self.deps.calendar.is_working_day(day)

    def _zones(self, slot: Slot, zones: list[str] | set[str]) -> list[str]:
        """Members' slots run in every zone with members; admins' slots once, in the
        instansi's own zone, as soon as anyone is registered."""
        if slot.key in ADMIN_SLOTS:
            return [self.deps.settings.default_timezone] if zones else []
        return sorted(zones)

    def _at(self, slot: Slot, tz: str, day: date) -> datetime:
        hour, minute = slot.hour_minute
        return datetime.combine(day, time(hour, minute), ZoneInfo(tz))

    def next_due(self, slot: Slot, tz: str, after: datetime) -> datetime | None:
        day = after.astimezone(ZoneInfo(tz)).date()
        for offset in range(LOOKAHEAD_DAYS):
            current = day + timedelta(days=offset)
            if self._occurs(slot, current) and self._at(slot, tz, current) > after:
                return self._at(slot, tz, current)
        return None

    def last_due(self, slot: Slot, tz: str, now: datetime) -> datetime | None:
        day = now.astimezone(ZoneInfo(tz)).date()
        # A monthly slot's last occurrence may be weeks ago; a weekly one, a week at most.
        for offset in range(40 if slot.key == REPORT else 8):
            current = day - timedelta(days=offset)
            if self._occurs(slot, current) and self._at(slot, tz, current) <= now:
                return self._at(slot, tz, current)
        return None

    # --- jobs ----------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.deps.db.run(prog.ensure_defaults)
        await self.catch_up()
        await self.plan()

    @staticmethod
    def job_name(slot: str, tz: str) -> str:
        return f"programme:{slot}:{tz}"

    async def plan(self) -> None:
        """(Re)build every job from the tables: at start, after a change, after each run."""
        slots = await self.deps.db.run(prog.slots)
        zones = await self.deps.db.run(prog.zones_in_use)
        self.slots, self.zones = slots, set(zones)
        for job in self.job_queue.jobs():
            if job.name and job.name.startswith("programme:"):
                job.schedule_removal()
        for slot in slots:
            if slot.enabled:
                for tz in self._zones(slot, zones):
                    self._schedule(slot, tz)

    async def member_joined(self) -> None:
        """After a registration or a move to another unit: the first member of a zone gets
        that zone its jobs. No catch-up: what was due before they joined was not theirs."""
        if set(await self.deps.db.run(prog.zones_in_use)) - self.zones:
            await self.plan()

    def next_runs(self, tz: str | None = None) -> dict[str, datetime]:
        """The next run of each enabled slot in one zone (default: the instansi's zone), for
        /jadwal: computed from the slots, so it shows even before that zone has members."""
        zone = tz or self.deps.settings.default_timezone
        now = self.deps.clock.now()
        out: dict[str, datetime] = {}
        for slot in self.slots:
            due = self.next_due(slot, zone, now) if slot.enabled else None
            if due is not None:
                out[slot.key] = due
        return out

    async def _job(self, ctx: BotContext) -> None:
        assert ctx.job is not None
        # What _schedule gave the job: the slot's key, the zone and the occurrence.
        key, tz, due = cast(tuple[str, str, datetime], ctx.job.data)
        try:
            await self.fire(key, tz, due)
        finally:
            await self._plan_one(key, tz)

    async def _plan_one(self, key: str, tz: str) -> None:
        slot = await self.deps.db.run(prog.get_slot, key=key)
        if slot is not None and slot.enabled:
            self._schedule(slot, tz)

    def _schedule(self, slot: Slot, tz: str) -> None:
        """The slot's job in this zone, at its next occurrence by the injected clock."""
        now = self.deps.clock.now()
        due = self.next_due(slot, tz, now)
        if due is not None:
            self.job_queue.run_once(
                self._job,
                max(0.0, (due - now).total_seconds()),
                name=self.job_name(slot.key, tz),
                data=(slot.key, tz, due),
            )

    async def catch_up(self) -> None:
        """The latest occurrence of each slot that has no run: late within grace, else skipped."""
        grace = timedelta(minutes=self.deps.settings.programme_grace_minutes)
        now = self.deps.clock.now()
        zones = await self.deps.db.run(prog.zones_in_use)
        for slot in await self.deps.db.run(prog.slots):
            if not slot.enabled:
                continue
            for tz in self._zones(slot, zones):
                due = self.last_due(slot, tz, now)
                if due is None:
                    continue
                day = due.astimezone(ZoneInfo(tz)).date()
                if await self.deps.db.run(prog.has_run, slot=slot.key, timezone=tz, local_date=day):
                    continue
                late = now - due
                if late <= grace:
                    log.warning(
                        "programme: %s %s %s missed while the bot was down; sending %d min late",
                        slot.key,
                        zone_label(tz),
                        day,
                        late.total_seconds() // 60,
                    )
                    await self.fire(slot.key, tz, due)
                else:
                    await self.deps.db.run(
                        prog.claim_run,
                        slot=slot.key,
                        timezone=tz,
                        local_date=day,
                        due_at=due,
                        status="skipped",
                        late_seconds=int(late.total_seconds()),
                    )
                    log.warning(
                        "programme: %s %s %s skipped: %d min late, beyond the %d min grace period",
                        slot.key,
                        zone_label(tz),
                        day,
                        late.total_seconds() // 60,
                        grace.total_seconds() // 60,
                    )

    async def fire(self, key: str, tz: str, due: datetime) -> bool:
        """Run one occurrence once. Returns whether it was sent."""
        deps = self.deps
        now = deps.clock.now()
        day = due.astimezone(ZoneInfo(tz)).date()
        # A pause stops what members receive; HR's own reports keep coming.
        paused = key not in ADMIN_SLOTS and await deps.db.run(prog.paused)
        slot = await deps.db.run(prog.get_slot, key=key)
        if slot is None or not slot.enabled:
            return False
        late = max(0, int((now - due).total_seconds()))
        run_id = await deps.db.run(
            prog.claim_run,
            slot=key,
            timezone=tz,
            local_date=day,
            due_at=due,
            status="paused" if paused else "sent",
            late_seconds=late,
        )
        if run_id is None:
            log.info("programme: %s %s %s already ran; not again", key, zone_label(tz), day)
            return False
        if paused:
            log.info(
                "programme: %s %s %s not sent: the programme is paused", key, zone_label(tz), day
            )
            return False
        audience = {"type": "timezone", "timezone": tz}
        broadcast_id: int | None = None
        if key == DAILY:
            broadcast_id, _ = await send_daily(deps, audience, day=day)
        elif key == QUIZ:
            broadcast_id, _ = await send_quiz_round(
                deps,
                audience,
                day=day,
                questions=slot.questions,
                window_minutes=slot.window_minutes,
            )
        elif key == LEADERBOARD and self.on_leaderboard is not None:
            await self.on_leaderboard(tz, day)
        elif key == REPORT and self.on_report is not None:
            await self.on_report(day)
        elif key == SILENT and self.on_silent is not None:
            await self.on_silent(day)
        if broadcast_id is not None:
            await deps.db.run(prog.set_run_broadcast, run_id=run_id, broadcast_id=broadcast_id)
        return True
