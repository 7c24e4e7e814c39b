"""The strict rate-limit profile: 30 sends in any sliding second (counted on arrival, the
window closed at both ends), a private chat's burst of 3 then one a second, 20 a minute in a
group; 429 with retry_after, recorded as a violation, and a send during a retry_after
refused again. Timelines are replayed with explicit moments, never the wall clock."""

from __future__ import annotations

import pytest

from sandbox import Sandbox
from sandbox.errors import ApiError
from sandbox.ratelimit import STRICT, RateLimiter, RateLimits
from tests.sandbox.helpers import Api

T0 = 5000.0


def refused(limiter: RateLimiter, chat_id: int | None, chat_type: str | None, at: float) -> str:
    with pytest.raises(ApiError) as caught:
        limiter.check_send(chat_id, chat_type, paid=False, now=at)
    error = caught.value
    assert error.status == 429 and error.violation
    assert error.retry_after is not None and error.retry_after >= 1
    return str(error.extra.get("note") or "")


def test_strict_is_the_emulators_profile() -> None:
    assert STRICT.global_per_second == 30
    assert STRICT.private_burst == 3 and STRICT.private_refill_per_second == 1.0
    assert (STRICT.group_per_window, STRICT.group_window_seconds) == (20, 60.0)


def test_30_in_any_second_the_31st_refused_even_exactly_a_second_later() -> None:
    limiter = RateLimiter(STRICT)
    for i in range(30):
        limiter.check_send(None, None, paid=False, now=T0 + i * 0.03)
    assert limiter.peak_per_second == 30
    # The window is closed: the first send (T0) and one at exactly T0 + 1 share a second.
    assert refused(limiter, None, None, T0 + 1.0) == ""
    assert refused(limiter, None, None, T0 + 1.5) == "ignored retry_after"


def test_a_second_later_the_window_has_moved_on() -> None:
    limiter = RateLimiter(STRICT)
    for i in range(30):
        limiter.check_send(None, None, paid=False, now=T0 + i * 0.03)
    limiter.check_send(None, None, paid=False, now=T0 + 1.0001)  # T0 left the window
    assert refused(limiter, None, None, T0 + 1.0002) == ""  # T0 + 0.03 has not


def test_29_per_second_forever_is_never_refused() -> None:
    limiter = RateLimiter(STRICT)
    for i in range(29 * 20):
        limiter.check_send(None, None, paid=False, now=T0 + i / 29 * 1.001)
    assert limiter.peak_per_second == 29


def test_a_private_chat_takes_3_at_once_then_one_a_second() -> None:
    limiter = RateLimiter(STRICT)
    for _ in range(3):
        limiter.check_send(7, "private", paid=False, now=T0)
    assert refused(limiter, 7, "private", T0 + 0.5) == ""
    # retry_after (1 s from T0 + 0.5) has passed and the bucket holds one again.
    limiter.check_send(7, "private", paid=False, now=T0 + 1.5)
    assert refused(limiter, 7, "private", T0 + 1.6) == ""
    assert refused(limiter, 7, "private", T0 + 2.0) == "ignored retry_after"
    limiter.check_send(8, "private", paid=False, now=T0 + 2.0)  # other chats are not held


def test_the_default_profile_keeps_its_burst_of_10() -> None:
    limiter = RateLimiter(RateLimits())
    for _ in range(10):
        limiter.check_send(7, "private", paid=False, now=T0)
    refused(limiter, 7, "private", T0)


def test_a_group_takes_20_a_minute() -> None:
    limiter = RateLimiter(STRICT)
    for i in range(20):
        limiter.check_send(-100, "group", paid=False, now=T0 + i)
    assert refused(limiter, -100, "group", T0 + 59.0) == ""
    limiter.check_send(-100, "group", paid=False, now=T0 + 70.0)


def test_paid_broadcasts_have_their_own_1000() -> None:
    limiter = RateLimiter(STRICT)
    for i in range(30):
        limiter.check_send(None, None, paid=False, now=T0 + i * 0.01)
    for i in range(999):
        limiter.check_send(None, None, paid=True, now=T0 + 0.3 + i * 0.0005)


@pytest.mark.sandbox(rate_limits=STRICT)
async def test_the_server_answers_429_to_a_fourth_message_at_once(
    api: Api, sandbox: Sandbox
) -> None:
    user = sandbox.user("Budi Santoso")
    await user.send("/start")
    for i in range(3):
        await api.ok("sendMessage", chat_id=user.chat_id, text=f"m{i}")
    body = await api.error("sendMessage", 429, chat_id=user.chat_id, text="too many")
    assert body["description"].startswith("Too Many Requests: retry after ")
    assert body["parameters"]["retry_after"] >= 1
    violations = sandbox.take_violations()
    assert len(violations) == 1 and "429" in str(violations[0])
