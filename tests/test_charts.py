"""Charts are PNGs Telegram's sendPhoto accepts, and odd input does not break them."""

from __future__ import annotations

import struct
import warnings

import pytest

from bot.boards.charts import Bar, _shown, ranking_png, values_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
VALUE_NAMES = [
    "Berorientasi Pelayanan",
    "Akuntabel",
    "Kompeten",
    "Harmonis",
    "Loyal",
    "Adaptif",
    "Kolaboratif",
]


def dimensions(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    length, kind = struct.unpack(">I4s", png[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def assert_sendable(png: bytes) -> None:
    width, height = dimensions(png)
    assert width + height <= 10_000
    assert max(width, height) / min(width, height) <= 20
    assert len(png) < 10 * 1024 * 1024
    # Sized for a phone: full Telegram photo width, square or 4:5 portrait.
    assert width == 1080 and height in (1080, 1350)


def test_ranking_chart_is_a_sendable_png() -> None:
    bars = [Bar(f"Unit {n}", 50 - n, highlight=n == 3) for n in range(8)]
    assert_sendable(ranking_png("Peringkat Unit", "Pekan ini", bars))


def test_values_chart_is_a_sendable_png() -> None:
    bars = [Bar(name, 100 - 13 * n) for n, name in enumerate(VALUE_NAMES)]
    assert_sendable(values_png("Akurasi per Nilai", "Mei 2026", bars))


def test_empty_bars_draw_a_note() -> None:
    assert_sendable(ranking_png("Peringkat Unit", "Pekan ini", []))
    assert_sendable(values_png("Akurasi per Nilai", "Pekan ini", []))


def test_emoji_and_odd_labels_neither_crash_nor_warn() -> None:
    bars = [
        Bar("Tim 🚀 Hebat 👩‍💻", 12.5, highlight=True),
        Bar("🔥🔥🔥", 10),
        Bar("Seksi $x^2$ {rapat} \\n 50% & <b>", 8),
        Bar("Baris\nbaru\tdan\x00kontrol", 7),
        Bar("中文 العربية ꦗꦮ", 5),
        Bar("", 0),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_sendable(ranking_png("Peringkat 🏆", "Pekan ini ✨", bars))
        assert_sendable(values_png("Akurasi 🎯", "—", bars))


def test_long_labels_zero_and_odd_values() -> None:
    long_name = "BADAN PERENCANAAN PEMBANGUNAN, RISET DAN INOVASI DAERAH " * 4
    bars = [
        Bar(long_name, 0.0),
        Bar(long_name, 0.0, highlight=True),
        Bar("Negatif", -3.0),
        Bar("Tak hingga", float("inf")),
        Bar("NaN", float("nan")),
    ]
    assert_sendable(ranking_png(long_name, long_name, bars))
    assert_sendable(ranking_png("Peringkat", "Pekan ini", bars, value_format="{:d} poin"))
    assert_sendable(values_png("Akurasi", "Pekan ini", [Bar(long_name, 250.0)]))


@pytest.mark.parametrize(
    ("highlighted", "ranks"),
    [
        (None, list(range(1, 13))),
        (3, list(range(1, 13))),
        (11, list(range(1, 13))),
        (12, list(range(1, 13))),
        (13, [*range(1, 12), 13]),
        (41, [*range(1, 12), 41]),
    ],
)
def test_many_bars_are_cut_to_max_bars_keeping_the_highlighted_one(
    highlighted: int | None, ranks: list[int]
) -> None:
    bars = [Bar(f"Unit {n}", 100 - n, highlight=n == highlighted) for n in range(1, 61)]
    assert [rank for rank, _ in _shown(bars, 12)] == ranks
    assert_sendable(ranking_png("Peringkat Unit", "Pekan ini", bars, max_bars=12))


def test_few_bars_are_all_shown() -> None:
    bars = [Bar("A", 2), Bar("B", 1, highlight=True)]
    assert [rank for rank, _ in _shown(bars, 12)] == [1, 2]
    assert _shown([], 12) == []
