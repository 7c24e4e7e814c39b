"""Ideas: giving one, supporting and helping, moving it on, and the weekly digest."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.appreciation.service import generation
from bot.core.deps import Deps
from bot.ideas import rules
from bot.members.accounts import MemberInfo
from db.queries import ideas as queries
from db.queries.appreciation import crossings_since as thanks_crossings_since
from db.queries.appreciation import shown_this_week

# Handlers name it from here, never from db.
from db.queries.ideas import IdeaInfo as IdeaInfo
from db.queries.leaderboard import linked_groups
from db.queries.members import get_member_by_id
from db.queries.scores import ScoreChange, add_scores
from db.queries.stories import published_since
from db.queries.units import get_unit

log = logging.getLogger(__name__)

PAGE = 5


@dataclass(frozen=True)
class Draft:
    title: str
    description: str
    value: str
    target_unit_id: int | None


@dataclass(frozen=True)
class Outcome:
    idea: IdeaInfo | None  # the new idea, or the existing one a duplicate points to
    refused: str | None  # None | "per_day" | "duplicate"


async def submit(deps: Deps, member: MemberInfo, draft: Draft) -> Outcome:
    now = deps.clock.now()
    given = await deps.db.run(
        queries.count_by_author, author_id=member.id, since=now - timedelta(days=1)
    )
    if given >= rules.PER_DAY:
        return Outcome(None, "per_day")
    fingerprint = rules.fingerprint(draft.title, draft.description)
    same = await deps.db.run(
        queries.same_idea,
        fingerprint=fingerprint,
        since=now - timedelta(days=rules.DUPLICATE_DAYS),
    )
    if same is not None:
        return Outcome(same, "duplicate")
    idea = await deps.db.run(
        queries.create_idea,
        author_id=member.id,
        unit_id=member.unit_id,
        target_unit_id=draft.target_unit_id,
        value=draft.value,
        title=draft.title,
        description=draft.description,
        fingerprint=fingerprint,
        now=now,
    )
    return Outcome(idea, None)


async def idea(deps: Deps, idea_id: int) -> IdeaInfo | None:
    return await deps.db.run(queries.get_idea, idea_id=idea_id)


async def vote(deps: Deps, member: MemberInfo, idea_id: int, kind: str) -> bool | None:
    """Support or offer help (pressing again withdraws); None when the idea is gone or
    closed, or when the author votes on their own idea."""
    found = await idea(deps, idea_id)
    if found is None or found.status not in rules.OPEN or found.author_id == member.id:
        return None
    crossed = await _across_generations(deps, member, found) if kind == "help" else None
    return await deps.db.run(
        queries.toggle_vote,
        idea_id=idea_id,
        member_id=member.id,
        kind=kind,
        now=deps.clock.now(),
        cross_generation=crossed,
    )


async def _across_generations(deps: Deps, helper: MemberInfo, found: IdeaInfo) -> bool | None:
    """Whether the helper's generation differs from the author's, from both NIPs at the time
    of the offer; None when either is unknown. Only this is kept, never a birth year."""
    author = (
        await deps.db.run(get_member_by_id, member_id=found.author_id) if found.author_id else None
    )
    if author is None:
        return None
    today = deps.clock.today(deps.settings.default_timezone)
    mine, theirs = generation(helper.nip, today), generation(author.nip, today)
    return mine != theirs if mine and theirs else None


async def page_for(deps: Deps, member: MemberInfo, page: int) -> list[IdeaInfo]:
    """Ideas for the member's unit, its OPD or everyone, newest first."""
    unit_ids = [u for u in (member.unit_id, await _opd_of(deps, member.unit_id)) if u]
    return await deps.db.run(
        queries.ideas_for, unit_ids=unit_ids, limit=PAGE, offset=max(0, page) * PAGE
    )


async def _opd_of(deps: Deps, unit_id: int | None) -> int | None:
    if unit_id is None:
        return None
    unit = await deps.db.run(get_unit, unit_id=unit_id)
    return unit.parent_id if unit is not None else None


@dataclass(frozen=True)
class Moved:
    idea: IdeaInfo
    # Who is told: the author and the colleagues who offered help (member rows).
    told: list[MemberInfo]


async def move(
    deps: Deps, idea_id: int, *, expected: str, status: str, reason: str | None
) -> Moved | None:
    """Move the idea to `status` from `expected`; None when that move is not allowed or
    someone moved it first. A realised idea earns its author and helpers points."""
    if status not in rules.MOVES.get(expected, ()):
        return None
    now = deps.clock.now()
    moved = await deps.db.run(
        queries.set_status,
        idea_id=idea_id,
        expected=expected,
        status=status,
        reason=reason,
        now=now,
    )
    found = await idea(deps, idea_id)
    if not moved or found is None:
        return None
    helper_ids = await deps.db.run(queries.voters, idea_id=idea_id, kind="help")
    people = []
    for member_id in ([found.author_id] if found.author_id else []) + helper_ids:
        member = await deps.db.run(get_member_by_id, member_id=member_id)
        if member is not None:
            people.append(member)
    if status == rules.DONE:
        day = deps.clock.today(deps.settings.default_timezone)
        changes = [
            ScoreChange(
                member_id=m.id,
                unit_id=m.unit_id,
                day=day,
                points=rules.AUTHOR_POINTS if m.id == found.author_id else rules.HELPER_POINTS,
            )
            for m in people
        ]
        await deps.db.run(add_scores, changes=changes)
    return Moved(found, people)


@dataclass(frozen=True)
class Crossings:
    """A unit's week of working together, as counts: thanks its members received and help
    offered on its ideas, and how many came from another unit or another generation."""

    thanks: int
    thanks_cross_unit: int
    thanks_cross_generation: int
    help: int
    help_cross_unit: int
    help_cross_generation: int

    @property
    def any(self) -> bool:
        return bool(self.thanks or self.help)


async def crossings(deps: Deps, unit_id: int, since: datetime) -> Crossings:
    thanks = await deps.db.run(thanks_crossings_since, unit_ids=[unit_id], since=since)
    helped = await deps.db.run(queries.help_crossings_since, unit_ids=[unit_id], since=since)
    return Crossings(*thanks, *helped)


async def post_digest(deps: Deps, bot: Bot, tz: str, _day: date) -> int:
    """The week's news to each linked group in this zone: new ideas for its unit, its OPD
    and everyone, ideas realised, the unit's service stories published, thanks between
    colleagues who both allow their first name on the board, and how many thanks and offers
    of help crossed units or generations (counts, never a name or a birth year); nothing for
    a quiet week."""
    since = deps.clock.now() - timedelta(days=7)
    posted = 0
    for unit_id, chat_id in await deps.db.run(linked_groups, timezone=tz):
        unit_ids = [u for u in (unit_id, await _opd_of(deps, unit_id)) if u]
        fresh = await deps.db.run(queries.ideas_for, unit_ids=unit_ids, since=since, limit=10)
        realised = await deps.db.run(
            queries.ideas_for,
            unit_ids=unit_ids,
            changed_since=since,
            statuses=[rules.DONE],
            limit=5,
        )
        stories = await deps.db.run(published_since, unit_ids=[unit_id], since=since)
        thanks = await deps.db.run(shown_this_week, unit_ids=[unit_id], since=since)
        crossing = await crossings(deps, unit_id, since)
        if not fresh and not realised and not stories and not thanks and not crossing.any:
            continue
        text = deps.renderer.text(
            "idea_digest",
            "id",
            ideas=fresh,
            realised=realised,
            # First names, as the board shows them; a published story's author consented.
            stories=[s.author_name.split()[0] for s in stories if s.author_name],
            thanks=thanks,
            crossing=crossing,
        )
        try:
            await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
            posted += 1
        except TelegramError as exc:
            log.warning("idea digest to a group failed: %s", type(exc).__name__)
    return posted
