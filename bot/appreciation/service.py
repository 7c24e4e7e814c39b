"""Thanking a colleague for living a value, with rules that keep it from being gamed:
at most three a day per giver, never oneself, the same pair counts once a week,
reciprocal pairs count less each time (1/sqrt of their exchanges in 30 days), and the
points one receives are small and capped per week."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from bot.core.deps import Deps
from bot.members.accounts import MemberInfo
from bot.members.nip import check_nip
from db.models import Appreciation
from db.queries import appreciation as queries
from db.queries.members import search_members
from db.queries.scores import ScoreChange, add_scores

PER_DAY = 3
REASON_MAX = 200
POINTS = 2  # for one full-weight thanks
WEEKLY_CAP = 10  # points one person may receive from thanks in 7 days
RECIPROCAL_DAYS = 30

# The usual generation ranges by birth year.
GENERATIONS: tuple[tuple[int, int, str], ...] = (
    (1946, 1964, "boomer"),
    (1965, 1980, "x"),
    (1981, 1996, "milenial"),
    (1997, 2012, "z"),
)


def generation(nip: str | None, today: date) -> str | None:
    """The generation a valid NIP's birth date falls in; None when unknown."""
    checked = check_nip(nip or "", today=today).nip
    if checked is None:
        return None
    year = int(checked[:4])
    return next((name for low, high, name in GENERATIONS if low <= year <= high), None)


async def find_colleagues(deps: Deps, giver: MemberInfo, text: str) -> list[MemberInfo]:
    """Colleagues by name (never by Telegram id), without the giver."""
    if not text.strip() or text.strip().isdigit():
        return []
    found = await deps.db.run(search_members, text=text[:64], limit=9)
    return [m for m in found if m.id != giver.id][:8]


@dataclass(frozen=True)
class Given:
    refused: str | None  # None | "per_day" | "self"
    points: int = 0
    counted: bool = True  # False: the same pair again this week


async def give(
    deps: Deps, giver: MemberInfo, receiver: MemberInfo, value: str, reason: str
) -> Given:
    if giver.id == receiver.id:
        return Given("self")
    now = deps.clock.now()
    today = deps.clock.today(deps.settings.default_timezone)
    db = deps.db
    if await db.run(queries.given_since, giver_id=giver.id, since=now - timedelta(days=1)) >= (
        PER_DAY
    ):
        return Given("per_day")
    week = now - timedelta(days=7)
    again = await db.run(queries.pair_since, giver_id=giver.id, receiver_id=receiver.id, since=week)
    exchanges = await db.run(
        queries.exchanges_since,
        a=giver.id,
        b=receiver.id,
        since=now - timedelta(days=RECIPROCAL_DAYS),
    )
    weight = 0.0 if again else 1 / math.sqrt(exchanges + 1)
    received = await db.run(queries.points_received_since, receiver_id=receiver.id, since=week)
    points = min(round(POINTS * weight), max(0, WEEKLY_CAP - received))
    giver_generation = generation(giver.nip, today)
    receiver_generation = generation(receiver.nip, today)
    crossed = (
        giver_generation != receiver_generation
        if giver_generation and receiver_generation
        else None
    )
    await db.run(
        queries.record,
        appreciation=Appreciation(
            giver_id=giver.id,
            receiver_id=receiver.id,
            giver_unit_id=giver.unit_id,
            receiver_unit_id=receiver.unit_id,
            value=value,
            reason=reason[:REASON_MAX],
            weight=weight,
            points=points,
            cross_generation=crossed,
            created_at=now,
        ),
    )
    if points:
        await db.run(
            add_scores,
            changes=[
                ScoreChange(
                    member_id=receiver.id, unit_id=receiver.unit_id, day=today, points=points
                )
            ],
        )
    return Given(None, points, counted=not again)
