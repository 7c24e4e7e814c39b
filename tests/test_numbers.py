"""Numbers and times in the reader's language, in templates and reports alike."""

from __future__ import annotations

from bot.core.numbers import clock, number
from bot.core.render import Renderer
from bot.reports.words import Words
from content.samples import _Slot, samples_for


def test_indonesian_and_english_separators() -> None:
    assert number(7.44, 1) == "7,4"
    assert number(1234567.891, 2) == "1.234.567,89"
    assert number(1234567.891, 2, "en") == "1,234,567.89"
    assert number(-0.5, 1) == "-0,5"
    assert number(1234) == "1.234"
    assert clock("12:00") == "12.00" and clock("07:30", "en") == "07:30"


def test_templates_take_the_language_of_their_folder() -> None:
    renderer = Renderer()
    context = samples_for("bc_progress")[1]
    assert "Kecepatan 29,4/detik" in renderer.text("bc_progress", "id", **context)
    assert "Speed 29.4/sec" in renderer.text("bc_progress", "en", **context)
    slot = {"slot": _Slot("peringkat", "15:00", (5,))}
    assert "Jam 15.00 waktu setempat" in renderer.text(
        "prg_slot", "id", **samples_for("prg_slot")[0] | slot
    )
    assert "At 15:00 in each unit" in renderer.text(
        "prg_slot", "en", **samples_for("prg_slot")[0] | slot
    )


def test_report_words_use_the_same_formatter() -> None:
    words_id = Words(label=lambda key, **_: key, decimal=",")
    words_en = Words(label=lambda key, **_: key, decimal=".")
    assert words_id.percent(0.7255) == "72,5 %" and words_en.percent(0.7255) == "72.5 %"
    assert words_id.number(50000) == "50.000" and words_en.number(50000) == "50,000"
    assert words_id.change(0.5, 0.25) == "+25,0 poin" and words_en.change(0.25, 0.5) == "-25.0 pts"
