"""Service stories: told by a member, reviewed by an admin or the head of the member's unit
(approve, suggest an edit, or decline with a reason), and published by an admin to the
instansi's public channel through the outbox, only with the author's consent and theirs
for anyone named or pictured."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.core.deps import Deps
from bot.core.telegram_text import parse_html, utf16_len
from bot.members.accounts import MemberInfo
from bot.stories import rules
from db.models import Story
from db.queries import outbox
from db.queries import stories as queries

# Handlers name it from here, never from db.
from db.queries.stories import StoryInfo as StoryInfo
from db.queries.units import get_unit

CAPTION_MAX = 1024


@dataclass(frozen=True)
class Draft:
    text: str
    photo_file_id: str | None
    value: str
    publish: bool  # the author agrees to publication, and so has anyone named or pictured


async def submit(deps: Deps, member: MemberInfo, draft: Draft) -> StoryInfo:
    now = deps.clock.now()
    return await deps.db.run(
        queries.create_story,
        story=Story(
            author_id=member.id,
            unit_id=member.unit_id,
            value=draft.value,
            text=draft.text,
            photo_file_id=draft.photo_file_id,
            flags=rules.personal_data_flags(draft.text),
            consent_author=draft.publish,
            consent_others=draft.publish,
            created_at=now,
            updated_at=now,
        ),
    )


async def story(deps: Deps, story_id: int) -> StoryInfo | None:
    return await deps.db.run(queries.get_story, story_id=story_id)


async def next_to_review(
    deps: Deps, unit_ids: Collection[int] | None = None
) -> tuple[StoryInfo | None, int]:
    """The oldest story waiting and how many wait: all of them, or (for a unit head) only
    those from these units."""
    only = sorted(unit_ids) if unit_ids is not None else None
    return await deps.db.run(queries.next_submitted, unit_ids=only)


async def review(deps: Deps, story_id: int, *, status: str, reason: str | None) -> StoryInfo | None:
    """Approve, suggest an edit or decline a submitted story; None when someone reviewed it
    first."""
    moved = await deps.db.run(
        queries.set_status,
        story_id=story_id,
        expected=rules.SUBMITTED,
        status=status,
        reason=reason,
        now=deps.clock.now(),
    )
    return await story(deps, story_id) if moved else None


def publishable(found: StoryInfo, deps: Deps) -> bool:
    return (
        found.status == rules.APPROVED
        and found.consent_author
        and found.consent_others
        and deps.settings.public_channel_id is not None
    )


async def publish(deps: Deps, story_id: int, *, admin: MemberInfo, chat_id: int) -> int | None:
    """Queue the approved story for the public channel (one delivery through the outbox,
    paced and never sent twice like any broadcast); the broadcast id, or None when it may
    not be published (no consent, not approved, already published, no channel)."""
    found = await story(deps, story_id)
    channel = deps.settings.public_channel_id
    if found is None or channel is None or not publishable(found, deps):
        return None
    unit = await deps.db.run(get_unit, unit_id=found.unit_id) if found.unit_id else None
    value = deps.content.value(found.value)
    html = deps.renderer.text(
        "story_public",
        "id",
        text=found.text,
        value=value.name if value else found.value,
        unit=unit.name if unit else None,
    )
    media = "photo" if found.photo_file_id else None
    body = _channel_messages(html, found.photo_file_id)
    now = deps.clock.now()
    info = await deps.db.run(
        outbox.create_broadcast,
        kind="cerita",
        created_by=admin.telegram_user_id,
        audience={"type": "channel"},
        content={"html": html, "media": media, "file_id": found.photo_file_id},
        status_chat_id=chat_id,
    )
    if not await deps.db.run(
        queries.set_status,
        story_id=story_id,
        expected=rules.APPROVED,
        status=rules.PUBLISHED,
        reason=None,
        now=now,
        broadcast_id=info.id,
    ):
        return None
    await deps.db.run(outbox.enqueue, broadcast_id=info.id, rows=[(None, channel, body)])
    return info.id


def _channel_messages(html: str, photo: str | None) -> dict[str, Any]:
    """The outbox payload: the story as a message, or its photo with the story as the
    caption when it fits (1,024 characters), else the photo and then the story. Built
    here, not from a broadcast draft: a story is no template, and a "{{" in it stays text."""
    text = {
        "method": "sendMessage",
        "params": {
            "text": html,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
        },
    }
    if photo is None:
        return {"messages": [text]}
    # Telegram counts the caption after the HTML is parsed, in UTF-16 code units.
    if utf16_len(parse_html(html)[0]) <= CAPTION_MAX:
        params = {"photo": photo, "caption": html, "parse_mode": "HTML"}
        return {"messages": [{"method": "sendPhoto", "params": params}]}
    return {"messages": [{"method": "sendPhoto", "params": {"photo": photo}}, text]}


async def published_this_week(deps: Deps, unit_ids: list[int]) -> list[StoryInfo]:
    since = deps.clock.now() - timedelta(days=7)
    return await deps.db.run(queries.published_since, unit_ids=unit_ids, since=since)
