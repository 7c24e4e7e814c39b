"""Leaderboards and score cards as members see them: text from templates, charts as PNG.

Charts render in a worker thread (matplotlib is CPU work); database reads go through
`Database.run`. Nothing here names a member unless they opted in with /tampilkan_nama,
and nothing shows anyone's wrong answers.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.boards.charts import Bar, ranking_png, values_png
from bot.boards.ranking import (
    Ranking,
    Standing,
    most_improved,
    rank,
    strongest_and_weakest,
)
from bot.core.deps import Deps
from bot.programme import activity
from bot.scores.scoring import streak
from db.models import Unit
from db.queries import leaderboard as board_db
from db.queries import scores
from db.queries.leaderboard import UnitStats
from db.queries.members import MemberInfo

log = logging.getLogger(__name__)


async def _ranked(deps: Deps, period: str) -> tuple[list[UnitStats], Ranking]:
    stats = await deps.db.run(board_db.unit_stats, period=period)
    settings = deps.settings
    return stats, rank(stats, min_size=settings.min_unit_size, prior=settings.ranking_prior)


CAPTION_LIMIT = 1000


@dataclass(frozen=True)
class Board:
    """One period's board, computed once and shown to many groups."""

    span: str
    label: str
    ranking: Ranking
    improved: list[tuple[Standing, float]]
    values: dict[int, dict[str, tuple[int, int]]]


def _periods(day: date, span: str) -> tuple[str, str | None, str]:
    """(period, the period before it, a label) for a span of the board."""
    if span == "bulan":
        before = day.replace(day=1) - timedelta(days=1)
        return scores.month_key(day), scores.month_key(before), f"{day:%m-%Y}"
    if span == "semua":
        return scores.ALL, None, "semua"
    return scores.week_key(day), scores.week_key(day - timedelta(days=7)), _week_label(day)


async def board_for(deps: Deps, day: date, span: str = "minggu") -> Board:
    period, previous, label = _periods(day, span)
    await deps.scorekeeper.settle()  # every answer recorded so far counts
    stats, current = await _ranked(deps, period)
    improved: list[tuple[Standing, float]] = []
    if previous is not None:
        _, before = await _ranked(deps, previous)
        improved = most_improved(current, before)
    values = {s.unit_id: s.values for s in stats}
    return Board(span, label, current, improved, values)


def standing_of(ranking_: Ranking, unit_id: int, opd_id: int | None) -> Standing | None:
    for s in ranking_.units:
        if s.key == f"unit:{unit_id}":
            return s
    for s in ranking_.units:
        if s.pooled and opd_id is not None and s.opd_id == opd_id:
            return s
    return None


def opd_standing(ranking_: Ranking, opd_id: int | None) -> Standing | None:
    return next((s for s in ranking_.opds if s.opd_id == opd_id), None)


def value_name(deps: Deps, code: str | None) -> str | None:
    if code is None:
        return None
    value = deps.content.value(code)
    return value.name if value else code


@dataclass(frozen=True)
class UnitPost:
    caption: str
    png: bytes


async def unit_post(deps: Deps, board: Board, unit_id: int) -> UnitPost | None:
    unit = await deps.db.run(_unit, unit_id=unit_id)
    if unit is None:
        return None
    ranking_ = board.ranking
    opd_id = unit.parent_id or unit.id
    mine = standing_of(ranking_, unit_id, opd_id)
    opd = opd_standing(ranking_, opd_id)
    strong, weak = strongest_and_weakest(board.values.get(unit_id, {}))
    names = []
    if board.span != "semua":
        period, _, _ = _periods(deps.clock.today(unit.timezone), board.span)
        names = await deps.db.run(board_db.top_named, unit_id=unit_id, period=period)
    improved = [s.name for s, _ in board.improved]
    while True:
        caption = deps.renderer.text(
            "board_unit",
            "id",
            unit=unit.name,
            mine=mine,
            opd=opd,
            units=len(ranking_.units),
            opds=len(ranking_.opds),
            strong=value_name(deps, strong),
            weak=value_name(deps, weak),
            names=names,
            improved=improved,
            week=board.label,
        )
        # A photo caption holds 1,024 characters: long unit names drop the extras first.
        if len(caption) <= CAPTION_LIMIT or not (improved or names):
            break
        improved, names = (improved[:-1], names) if improved else (improved, names[:-1])
    key = mine.key if mine else None
    bars = [Bar(s.name, s.score, s.key == key) for s in ranking_.units]
    title = deps.renderer.label("board_title", "id")
    png = await asyncio.to_thread(ranking_png, title, board.label, bars, value_format="{:.1f}")
    return UnitPost(caption, png)


def _unit(*, session: Session, unit_id: int) -> Unit | None:
    return session.get(Unit, unit_id)


def _week_label(day: date) -> str:
    monday = day - timedelta(days=day.weekday())
    return f"{monday:%d-%m-%Y} – {monday + timedelta(days=4):%d-%m-%Y}"


async def post_weekly(deps: Deps, bot: Bot, tz: str, day: date) -> int:
    """The Friday posts: every linked group in this zone, and (once, from the default zone)
    the all-instansi summary. Returns how many posts went out."""
    board = await board_for(deps, day)
    posted = 0
    for unit_id, chat_id in await deps.db.run(board_db.linked_groups, timezone=tz):
        post = await unit_post(deps, board, unit_id)
        if post is None:
            continue
        if await _send_photo(bot, chat_id, post):
            posted += 1
    if tz == deps.settings.default_timezone and deps.settings.summary_chat_id is not None:
        post = await summary_post(deps, board)
        if await _send_photo(bot, deps.settings.summary_chat_id, post):
            posted += 1
    log.info("weekly leaderboard %s %s: %d posts", tz, day, posted)
    return posted


async def summary_post(deps: Deps, board: Board) -> UnitPost:
    ranking_ = board.ranking
    caption = deps.renderer.text(
        "board_summary",
        "id",
        opds=ranking_.opds[:5],
        participation=ranking_.overall_participation,
        improved=[s.name for s, _ in board.improved],
        week=board.label,
    )
    bars = [Bar(s.name, s.score) for s in ranking_.opds]
    title = deps.renderer.label("board_summary_title", "id")
    png = await asyncio.to_thread(ranking_png, title, board.label, bars)
    return UnitPost(caption, png)


async def _send_photo(bot: Bot, chat_id: int, post: UnitPost) -> bool:
    try:
        await bot.send_photo(chat_id, post.png, caption=post.caption, parse_mode=ParseMode.HTML)
        return True
    except TelegramError as exc:
        log.warning("leaderboard post to a group failed: %s", type(exc).__name__)
        return False


@dataclass(frozen=True)
class ScoreCard:
    text: str
    png: bytes | None


async def score_card(deps: Deps, member: MemberInfo, *, with_chart: bool) -> ScoreCard:
    tz = await deps.db.run(activity.zone_of, member_id=member.id)
    today = deps.clock.today(tz)
    await deps.scorekeeper.settle()  # the member's latest answers count
    standing = await deps.db.run(
        board_db.member_standing,
        member_id=member.id,
        unit_id=member.unit_id,
        week=scores.week_key(today),
        month=scores.month_key(today),
    )
    active, shields = await deps.db.run(
        scores.member_days, member_id=member.id, since=today - timedelta(days=400)
    )
    length = streak(active, shields, deps.calendar, today)
    values = [(v, standing.values.get(v.code)) for v in deps.content.values]
    text = deps.renderer.text(
        "score_card",
        member.language,
        member=member,
        standing=standing,
        streak=length,
        values=values,
        private=with_chart,
    )
    png = None
    if with_chart:
        bars = [
            Bar(v.name, 100.0 * c / a if a else 0.0)
            for v, (a, c) in ((v, standing.values.get(v.code, (0, 0))) for v in deps.content.values)
        ]
        title = deps.renderer.label("score_chart_title", member.language)
        png = await asyncio.to_thread(values_png, title, member.full_name, bars)
    return ScoreCard(text, png)
