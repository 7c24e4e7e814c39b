"""Scripted journeys of simulated ASN through the sandbox, shared by the demo and the tests."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.state import BotMessage
from sandbox.users import SimGroup, SimUser

STEP_TIMEOUT = 10.0


async def expect(
    user: SimUser | SimGroup, fragment: str, *, within: float = STEP_TIMEOUT
) -> BotMessage:
    """The next bot message in the user's chat whose text or caption contains `fragment`.

    Messages before it are consumed; a timeout fails with the chat's transcript.
    """
    seen: list[str] = []
    while True:
        event = await user.next_message(timeout=within)
        body = event.text if event.text is not None else (event.caption or "")
        if fragment in body:
            return event
        seen.append(f"{event.kind}: {body[:80]!r}")
        if len(seen) > 20:
            raise AssertionError(f"{fragment!r} never came; saw {seen}")


@dataclass(frozen=True)
class Registrant:
    """Who to register and the mistakes they make on the way."""

    name: str
    unit_query: str
    unit_button: str
    nip: str | None = None
    typos: tuple[str, ...] = ()  # wrong names typed before the right one
    bad_nips: tuple[str, ...] = ()


async def begin(user: SimUser) -> BotMessage:
    """/start, Indonesian, consent: up to the question for the full name (returned)."""
    await user.send("/start")
    welcome = await expect(user, "BerAKHLAK")
    await user.press(welcome, "🇮🇩 Bahasa Indonesia")
    consent = await expect(user, "Persetujuan")
    await user.press(consent, "✅ Saya setuju")
    return await expect(user, "Nama lengkap")


async def register(user: SimUser, who: Registrant) -> BotMessage:
    """Walk the whole registration as a person would; returns the final confirmation."""
    await begin(user)
    for typo in who.typos:
        await user.send(typo)
        await expect(user, "Nama")
    await user.send(who.name)
    await expect(user, "Unit kerja")
    await user.send(who.unit_query)
    results = await expect(user, "Hasil pencarian")
    await user.press(results, who.unit_button)
    nip_prompt = await expect(user, "NIP")
    for bad in who.bad_nips:
        await user.send(bad)
        await expect(user, "NIP")
    if who.nip:
        await user.send(who.nip)
    else:
        await user.press(nip_prompt, "Lewati")
    summary = await expect(user, "Periksa data Anda")
    await user.press(summary, "✅ Simpan")
    return await expect(user, "Selamat bergabung")
