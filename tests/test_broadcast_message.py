"""A placeholder inside an attribute: a name with an apostrophe or a quote must neither
pass the check and then fail for that recipient, nor break the link."""

from __future__ import annotations

from bot.core.telegram_text import parse_html
from bot.delivery.message import Draft, payload, validate

LINK = "Halo <a href='https://contoh.go.id/daftar?nama={{ nama }}'>{{ nama }}</a>, cek data."


def test_names_with_quotes_fill_an_attribute_safely() -> None:
    validate(Draft(html=LINK))
    for name in ("Ma'ruf Amin", 'Budi "Bud" Santoso', "Siti'\"<b>&"):
        body = payload(Draft(html=LINK), {"nama": name, "unit": "", "opd": ""})
        text = body["messages"][0]["params"]["text"]
        # What Telegram does with it; before, the apostrophe closed the attribute and this
        # raised "can't parse entities" for that recipient only.
        plain, _ = parse_html(text)
        assert f"Halo {name}, cek data." == plain
    # A name without spaces keeps the link whole, the quote inside the URL.
    body = payload(Draft(html=LINK), {"nama": "Ma'ruf", "unit": "", "opd": ""})
    _, entities = parse_html(body["messages"][0]["params"]["text"])
    [link] = entities
    assert link["type"] == "text_link" and link["url"].endswith("nama=Ma'ruf")
