"""PNG charts sized for a phone screen and for Telegram's sendPhoto.

Images are 1080 px wide (the width Telegram keeps for photos) and 1080 or 1350 px tall,
with no text smaller than 20 px. Only matplotlib's bundled DejaVu Sans is used, loaded by
file name, so a server without fonts draws the same picture as a laptop.

Callers render in a worker thread, so this module never touches pyplot or the global
backend: each call builds its own `Figure` on a `FigureCanvasAgg`. Matplotlib is imported
on the first render, not at import time, to keep the bot's start-up light.
"""

from __future__ import annotations

import io
import math
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

WIDTH_PX = 1080
SQUARE_PX = 1080
TALL_PX = 1350
_DPI = 100
# More bars than this and the square format would squeeze them; go portrait.
_SQUARE_MAX_BARS = 7
# Fewer bars than this still get slots this tall, so three bars don't become slabs.
_MIN_SLOTS = 6

_MARGIN_X_PX = 54
_HEADER_PX = 170
_FOOTER_PX = 40

# Sizes in points at 100 dpi: 1 pt = 1.39 px, so 15 pt is the 20 px floor.
_TITLE_PT = 30
_SUBTITLE_PT = 20
_LABEL_PT = 20
_VALUE_PT = 20
_NOTE_PT = 28

_BAR = "#5B7DB1"
_HIGHLIGHT = "#E8833A"
_TEXT = "#1F2933"
_MUTED = "#616E7C"
_RULE = "#CBD2D9"
_TRACK = "#E4E7EB"
_BACKGROUND = "#FFFFFF"

EMPTY_NOTE = "Belum ada data"
ELLIPSIS = "…"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    highlight: bool = False


@lru_cache(maxsize=2)
def _font_path(bold: bool) -> str:
    import matplotlib

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name)


@lru_cache(maxsize=2)
def _charmap(bold: bool) -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    return frozenset(FT2Font(_font_path(bold)).get_charmap())


def _clean(text: str, bold: bool) -> str:
    """Drop what DejaVu Sans cannot draw (emoji, most scripts it lacks) and control
    characters. Matplotlib would draw an empty box and warn once per missing glyph, from
    a worker thread where a warnings filter cannot be scoped safely; dropping the
    character avoids both and reads better than a box."""
    glyphs = _charmap(bold)
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or (unicodedata.category(ch)[0] != "C" and ord(ch) in glyphs)
    )
    return " ".join(kept.split())


def _width_px(text: str, bold: bool, size_pt: float) -> float:
    from matplotlib.font_manager import get_font

    # get_font caches one FT2Font per thread, so measuring here is thread-safe.
    font = get_font(_font_path(bold))
    font.set_size(size_pt, _DPI)
    font.set_text(text, 0.0)
    width, _ = font.get_width_height()
    return width / 64  # FreeType reports 26.6 fixed point


def _fit(text: str, bold: bool, size_pt: float, max_px: float) -> str:
    """`text` cut with an ellipsis so it fits in `max_px`, measured with the real font."""
    if _width_px(text, bold, size_pt) <= max_px:
        return text
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if _width_px(text[:middle].rstrip() + ELLIPSIS, bold, size_pt) <= max_px:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + ELLIPSIS


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def _format(value_format: str, value: float) -> str:
    # A format that does not fit the value ("{:d}" for a float) must not cost a member
    # their chart; fall back to a plain number.
    try:
        return value_format.format(value)
    except (ValueError, TypeError, IndexError, KeyError):
        return f"{value:g}"


def _figure(height_px: int) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_PX / _DPI, height_px / _DPI), dpi=_DPI, facecolor=_BACKGROUND)
    FigureCanvasAgg(fig)
    return fig


def _font(bold: bool, size_pt: float) -> FontProperties:
    from matplotlib.font_manager import FontProperties

    return FontProperties(fname=_font_path(bold), size=size_pt)


def _header(fig: Figure, title: str, subtitle: str) -> None:
    height_px = fig.get_figheight() * _DPI
    usable = WIDTH_PX - 2 * _MARGIN_X_PX
    left = _MARGIN_X_PX / WIDTH_PX
    fig.text(
        left,
        1 - 40 / height_px,
        _fit(_clean(title, True), True, _TITLE_PT, usable),
        fontproperties=_font(True, _TITLE_PT),
        color=_TEXT,
        va="top",
        ha="left",
        parse_math=False,
    )
    fig.text(
        left,
        1 - 100 / height_px,
        _fit(_clean(subtitle, False), False, _SUBTITLE_PT, usable),
        fontproperties=_font(False, _SUBTITLE_PT),
        color=_MUTED,
        va="top",
        ha="left",
        parse_math=False,
    )


def _empty(fig: Figure) -> None:
    fig.text(
        0.5,
        0.5,
        EMPTY_NOTE,
        fontproperties=_font(False, _NOTE_PT),
        color=_MUTED,
        ha="center",
        va="center",
        parse_math=False,
    )


def _bars(
    fig: Figure,
    rows: list[tuple[str, float, bool]],
    *,
    value_format: str,
    scale_max: float | None,
    gap_before_last: bool,
) -> None:
    """Each row takes a slot: its label on top, across the full width, and its bar below
    with the value at the bar's end. Full-width labels keep long unit names readable on
    a narrow screen where a label column beside the bars would leave them a third."""
    height_px = fig.get_figheight() * _DPI
    axes_w_px = WIDTH_PX - 2 * _MARGIN_X_PX
    ax: Axes = fig.add_axes(
        (
            _MARGIN_X_PX / WIDTH_PX,
            _FOOTER_PX / height_px,
            axes_w_px / WIDTH_PX,
            (height_px - _HEADER_PX - _FOOTER_PX) / height_px,
        )
    )
    ax.set_axis_off()

    texts = [_clean(_format(value_format, value), True) for _, value, _ in rows]
    pad_px = 12.0
    reserve_px = max(_width_px(t, True, _VALUE_PT) for t in texts) + 2 * pad_px
    top = scale_max if scale_max is not None else max((v for _, v, _ in rows), default=0.0)
    top = top if top > 0 else 1.0
    # The longest bar ends where the widest value label still fits inside the image.
    x_max = top * axes_w_px / max(axes_w_px - reserve_px, axes_w_px * 0.5)
    slots = max(len(rows), _MIN_SLOTS)
    ax.set_xlim(0, x_max)
    ax.set_ylim(-slots + 0.5, 0.5)

    value_font = _font(True, _VALUE_PT)
    pad = pad_px * x_max / axes_w_px
    for i, ((label, value, highlight), text) in enumerate(zip(rows, texts, strict=True)):
        y = -i
        colour = _HIGHLIGHT if highlight else _BAR
        width = min(max(value, 0.0), top)
        if scale_max is not None:
            # On a fixed scale the empty part of the track shows what is missing, so 0 %
            # still reads as a bar rather than as a forgotten row.
            ax.barh(y - 0.24, top, height=0.42, color=_TRACK, linewidth=0)
        ax.barh(y - 0.24, width, height=0.42, color=colour, linewidth=0)
        # The highlighted row (the member's own unit) is also set in bold, for readers
        # who cannot tell the two bar colours apart.
        ax.text(
            0,
            y + 0.02,
            _fit(label, highlight, _LABEL_PT, axes_w_px),
            fontproperties=_font(highlight, _LABEL_PT),
            color=_TEXT,
            va="bottom",
            ha="left",
            parse_math=False,
        )
        ax.text(
            width + pad,
            y - 0.24,
            text,
            fontproperties=value_font,
            color=_HIGHLIGHT if highlight else _TEXT,
            va="center",
            ha="left",
            parse_math=False,
        )
    if gap_before_last:
        ax.axhline(-(len(rows) - 1) + 0.5, color=_RULE, linewidth=2, linestyle=(0, (6, 6)))


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.canvas.print_figure(buffer, format="png", dpi=_DPI, facecolor=_BACKGROUND)
    return buffer.getvalue()


def _height(count: int) -> int:
    return SQUARE_PX if count <= _SQUARE_MAX_BARS else TALL_PX


def _shown(bars: list[Bar], max_bars: int) -> list[tuple[int, Bar]]:
    """(rank, bar) pairs to draw: the top `max_bars`, or the top `max_bars - 1` and the
    first highlighted bar below them when none of the top ones is highlighted."""
    max_bars = max(max_bars, 2)
    ranked = list(enumerate(bars, start=1))
    if len(ranked) <= max_bars:
        return ranked
    head = ranked[: max_bars - 1]
    below = next(((r, b) for r, b in ranked[max_bars - 1 :] if b.highlight), None)
    if below is None or any(b.highlight for _, b in head):
        return ranked[:max_bars]
    return [*head, below]


def ranking_png(
    title: str,
    subtitle: str,
    bars: list[Bar],
    *,
    value_format: str = "{:.1f}",
    max_bars: int = 12,
) -> bytes:
    """Horizontal bars in the order given (best first, drawn at the top), each label
    prefixed with its rank. With more than `max_bars`, the top `max_bars - 1` are shown
    and then the first highlighted bar below them, after a dashed rule, so a member always
    finds their own unit."""
    shown = _shown(bars, max_bars)
    gap = len(shown) > 1 and shown[-1][0] - shown[-2][0] > 1
    rows = [
        (f"{position}. {_clean(bar.label, False) or '?'}", _finite(bar.value), bar.highlight)
        for position, bar in shown
    ]
    fig = _figure(_height(len(rows)))
    _header(fig, title, subtitle)
    if rows:
        _bars(fig, rows, value_format=value_format, scale_max=None, gap_before_last=gap)
    else:
        _empty(fig)
    return _png(fig)


def values_png(title: str, subtitle: str, bars: list[Bar]) -> bytes:
    """Accuracy per value in percent, on a fixed 0-100 scale so two charts compare at a
    glance. Labels are value names; bars stay in the order given."""
    rows = [
        (_clean(bar.label, False) or "?", min(max(_finite(bar.value), 0.0), 100.0), bar.highlight)
        for bar in bars
    ]
    fig = _figure(_height(len(rows)))
    _header(fig, title, subtitle)
    if rows:
        _bars(fig, rows, value_format="{:.0f}%", scale_max=100.0, gap_before_last=False)
    else:
        _empty(fig)
    return _png(fig)
