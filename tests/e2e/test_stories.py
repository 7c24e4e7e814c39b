"""/cerita end to end: a story with a photo, flagged for a citizen's phone number, sent back
for an edit, told again, approved and published to the instansi's channel through the
outbox exactly once; an internal-only story is never published; refusals."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.core.config import Settings
from db.engine import Database
from db.models import Delivery, Role, Story
from db.queries.units import list_children, list_opd
from sandbox.simulation import expect
from sandbox.users import SimUser
from tests.e2e.test_programme_admin import enrol
from tests.utils import running_bot

STORY = (
    "Seorang lansia datang ke loket sore hari tanpa fotokopi KK. Saya memindai dokumennya "
    "sendiri dan mengantarnya ke loket berikutnya agar ia tidak perlu datang lagi."
)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
    b"5\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def stories(db: Database) -> list[Story]:
    return db.run_sync(lambda session: list(session.exec(select(Story).order_by(Story.id)).all()))


async def tell(user: SimUser, *, caption: str, publish: bool, photo: bool = False) -> None:
    await user.send("/cerita")
    await expect(user, "Ceritakan satu pengalaman")
    if photo:
        await user.upload_photo(PNG, caption=caption)
    else:
        await user.send(caption)
    values = await expect(user, "Nilai BerAKHLAK apa yang paling terlihat")
    await user.press(values, "Berorientasi Pelayanan")
    consent = await expect(user, "Boleh cerita ini dipublikasikan")
    await user.press(consent, consent.buttons[0 if publish else 1][0])


async def test_a_story_reviewed_edited_approved_and_published_once(
    sandbox, settings: Settings, kediri: Database
) -> None:  # type: ignore[no-untyped-def]
    opd = {u.code: u.id for u in kediri.run_sync(list_opd)}
    unit = kediri.run_sync(list_children, opd_id=opd["DINKES"])[0].id
    # The sandbox has no channels; a supergroup stands in for the public channel.
    channel = sandbox.group("Kanal Pemkot Kediri", supergroup=True)
    channel_settings = settings.model_copy(update={"public_channel_id": channel.chat_id})
    async with running_bot(channel_settings, kediri) as app:
        siti = await enrol(sandbox, kediri, "Siti Pelayan", unit)
        admin = await enrol(sandbox, kediri, "Admin Cerita", unit, Role.ADMIN)
        await channel.add(admin, admin=True)
        await channel.add_bot()
        # A citizen's phone number in the story: the author is warned before sending.
        await tell(siti, caption=f"{STORY} Hubungi beliau di 0812-3456-7890.", publish=True)
        preview = await expect(siti, "Kirim untuk ditinjau?")
        assert "memuat nomor telepon" in (preview.text or "")
        await siti.press(preview, "✅ Kirim untuk ditinjau")
        await expect(siti, "terkirim untuk ditinjau")
        [first] = stories(kediri)
        assert first.flags == ["phone"] and first.status == "diajukan"

        # The reviewer sees the flag and asks for an edit, with a reason.
        await admin.send("/cerita_tinjau")
        review = await expect(admin, f"Cerita #{first.id}")
        assert "Periksa data pribadi warga: nomor telepon" in (review.text or "")
        await admin.press(review, "✏️ Minta perbaikan")
        await expect(admin, "Tulis saran perbaikan")
        await admin.send("Mohon hapus nomor telepon warga.")
        await expect(admin, "diminta perbaikan")
        note = await expect(siti, "perlu sedikit perbaikan")
        assert "Mohon hapus nomor telepon warga." in (note.text or "")

        # Told again, with a photo, without the number; approved, then published.
        await tell(siti, caption=STORY, publish=True, photo=True)
        preview = await expect(siti, "Kirim untuk ditinjau?")
        assert "memuat" not in (preview.text or "")
        await siti.press(preview, "✅ Kirim untuk ditinjau")
        await expect(siti, "terkirim untuk ditinjau")
        second = stories(kediri)[-1]
        assert second.photo_file_id and second.flags == []
        await admin.send("/cerita_tinjau")
        review = await expect(admin, f"Cerita #{second.id}")
        await admin.press(review, "✅ Setujui")
        done = await expect(admin, "disetujui")
        await expect(siti, "disetujui dan akan diterbitkan HR")
        await admin.press(done, "📣 Terbitkan ke kanal instansi")
        await expect(siti, "sudah terbit")
        published = await expect(channel, "Cerita pelayanan", within=30)
        assert "photo" in published.message and STORY in published.message["caption"]
        # A second press (or a forged one) publishes nothing more.
        query = await admin.press_forged(done.message_id, f"cer:pub:{second.id}")
        assert "tidak bisa diterbitkan" in (await sandbox.wait_callback_answer(query))["text"]
        await app.bot_data["deps"].sender.drain(within=30)
        deliveries = kediri.run_sync(
            lambda session: list(
                session.exec(select(Delivery).where(Delivery.member_id.is_(None))).all()  # type: ignore[union-attr]
            )
        )
        assert len(deliveries) == 1
        [delivery] = deliveries
        assert delivery.chat_id == channel_settings.public_channel_id
        message = delivery.payload["messages"][0]
        assert message["method"] == "sendPhoto" and STORY in message["params"]["caption"]
        assert stories(kediri)[-1].status == "terbit"


@pytest.mark.usefixtures("bot")
async def test_internal_stories_refusals_and_forged_reviews(sandbox, kediri: Database) -> None:  # type: ignore[no-untyped-def]
    opd = {u.code: u.id for u in kediri.run_sync(list_opd)}
    unit = kediri.run_sync(list_children, opd_id=opd["DINKES"])[0].id
    siti = await enrol(sandbox, kediri, "Siti Internal", unit)
    admin = await enrol(sandbox, kediri, "Admin Internal", unit, Role.ADMIN)
    await siti.send("/cerita")
    await expect(siti, "Ceritakan satu pengalaman")
    await siti.send("Terlalu singkat.")
    await expect(siti, "tulis minimal 30 karakter")
    await siti.send("x" * 1001)
    await expect(siti, "paling banyak 1.000")
    await siti.send("/batal")
    await expect(siti, "Dibatalkan")
    assert stories(kediri) == []

    await tell(siti, caption=STORY, publish=False)
    preview = await expect(siti, "Hanya untuk internal")
    await siti.press(preview, "✅ Kirim untuk ditinjau")
    await expect(siti, "terkirim untuk ditinjau")
    [story] = stories(kediri)
    # A member cannot review; the attempt is refused.
    query = await siti.press_forged(preview.message_id, f"cer:ok:{story.id}")
    assert "hanya untuk admin" in (await sandbox.wait_callback_answer(query))["text"]
    await admin.send("/cerita_tinjau")
    review = await expect(admin, "Hanya untuk internal")
    await admin.press(review, "✅ Setujui")
    approved = await expect(admin, "disetujui")
    assert approved.buttons == []  # internal only: nothing to publish
    query = await admin.press_forged(approved.message_id, f"cer:pub:{story.id}")
    assert "tidak bisa diterbitkan" in (await sandbox.wait_callback_answer(query))["text"]
    assert stories(kediri)[0].status == "disetujui"
    await admin.send("/cerita_tinjau")
    await expect(admin, "Tidak ada cerita yang menunggu")
