"""The report as an A4 PDF, legible in black and white: numbers are always printed, shades
of grey only help the eye. CPU-bound: call it in a thread, never on the event loop."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import matplotlib as mpl
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.reports.figures import MISSED_MINIMUM, SILENT_DAYS, SILENT_SHARE, Report, Row
from bot.reports.words import Words

FONTS = Path(mpl.get_data_path()) / "fonts" / "ttf"
FONT = "DejaVu"
LINE = 6.0
WIDTH = 180.0  # A4 minus 15 mm margins
NAME_WIDTH = 78.0
# Up to this many OPDs get their own line in the weekly chart; a chart is not a table.
CHART_LINES = 8


class _Pdf(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer_text
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=15)
        # DejaVu covers every name a roster may hold (Latin, accents, Arabic script, emoji
        # aside): the core PDF fonts stop at Latin-1.
        self.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.cell(0, 5, f"{self.footer_text} · {self.page_no()}", align="C")


def _heading(pdf: _Pdf, text: str) -> None:
    pdf.ln(3)
    pdf.set_font(FONT, "B", 13)
    pdf.multi_cell(WIDTH, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9)


def _cells(
    pdf: _Pdf,
    texts: list[str],
    widths: list[float],
    *,
    bold: bool = False,
    shades: list[int | None] | None = None,
) -> None:
    if pdf.will_page_break(LINE):
        pdf.add_page()
    style = "B" if bold else ""
    for i, (text, width) in enumerate(zip(texts, widths, strict=True)):
        shade = shades[i] if shades else None
        if shade is not None:
            pdf.set_fill_color(shade)
        align = "L" if i == 0 else "R"
        size = 8.0
        pdf.set_font(FONT, style, size)
        # A long unit name is cut to its cell; a long heading is set smaller to fit its
        # column, rather than running into the next one.
        while i == 0 and len(text) > 3 and pdf.get_string_width(text) > width - 2:
            text = text[:-2] + "…"
        while i > 0 and size > 5 and pdf.get_string_width(text) > width - 1.5:
            size -= 0.5
            pdf.set_font(FONT, style, size)
        pdf.cell(width, LINE, text, border=1, align=align, fill=shade is not None)
    pdf.ln(LINE)


def _shade(share: float | None) -> int | None:
    # Light greys only, so black digits stay readable on any printer.
    if share is None:
        return None
    return int(250 - 90 * max(0.0, min(1.0, share)))


def _weekly_chart(report: Report, words: Words) -> bytes | None:
    if not report.weekly or not report.week_starts:
        return None
    largest = sorted(report.opds, key=lambda r: -r.members)[:CHART_LINES]
    # Its own Figure on an Agg canvas, never pyplot: reports are drawn in worker threads.
    fig = Figure(figsize=(7.5, 3.4), dpi=150)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    styles = ["-", "--", ":", "-."]
    markers = ["o", "s", "^", "D", "v", "x", "+", "*"]
    for i, row in enumerate(largest):
        series = report.weekly.get(row.name, {})
        ys = [series.get(f"W{d.isoformat()}") or 0 for d in report.week_starts]
        ax.plot(
            # Matplotlib draws dates natively; its stubs only list numbers.
            report.week_starts,  # type: ignore[arg-type]
            ys,
            color="black",
            linestyle=styles[i % len(styles)],
            marker=markers[i % len(markers)],
            markersize=3,
            linewidth=1,
            label=row.name[:40],
        )
    # One tick per week, on its Monday, as 7/12: the locator's own dates fall mid-week.
    ax.set_xticks(
        report.week_starts,  # type: ignore[arg-type]
        [f"{d.day}/{d.month}" for d in report.week_starts],
    )
    ax.set_xlabel(words("report_c_week"))
    ax.set_ylabel(words("report_c_participants"))
    ax.grid(color="0.85", linewidth=0.5)
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def render_pdf(report: Report, words: Words, generated: datetime, instansi: str = "") -> bytes:
    scope = (
        words("report_scope_opd", name=report.scope) if report.scope else words("report_scope_all")
    )
    period = words.period(report.period)
    pdf = _Pdf(f"{words('report_title')} · {period}")
    pdf.add_page()
    pdf.set_font(FONT, "B", 20)
    pdf.ln(50)
    pdf.multi_cell(WIDTH, 10, words("report_title"), align="C", new_x=XPos.LMARGIN)
    pdf.ln(8)
    pdf.set_font(FONT, "", 14)
    pdf.multi_cell(
        WIDTH, 8, f"{instansi}\n{period}\n{scope}".strip(), align="C", new_x=XPos.LMARGIN
    )
    pdf.ln(8)
    pdf.set_font(FONT, "", 10)
    pdf.cell(WIDTH, 8, words("report_generated", when=f"{generated:%d-%m-%Y %H.%M}"), align="C")

    pdf.add_page()
    _heading(pdf, words("report_s_headline"))
    total = report.total
    headline = [
        (words("report_h_members"), words.number(total.members)),
        (words("report_h_units"), words.number(report.units_with_members)),
        (words("report_h_participation"), words.percent(total.participation)),
        (words("report_h_answers"), words.number(total.answered)),
        (words("report_h_accuracy"), words.percent(total.accuracy)),
        (words("report_h_reflections"), words.number(total.reflections)),
        (words("report_h_days"), words.number(report.active_days)),
    ]
    for name, value in headline:
        _cells(pdf, [name, value], [120, 60])
    pdf.ln(2)
    pdf.set_font(FONT, "", 8)
    pdf.multi_cell(
        WIDTH,
        4.5,
        words.paragraph("report_privacy", n=report.min_size, hidden=report.hidden_units),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )

    chart = _weekly_chart(report, words)
    if chart is not None:
        _heading(pdf, words("report_s_weekly"))
        pdf.image(io.BytesIO(chart), w=WIDTH)

    _heading(pdf, words("report_s_heatmap"))
    codes = [code for code, _ in report.values]
    value_width = (WIDTH - NAME_WIDTH - 14) / len(codes)
    widths = [NAME_WIDTH, *[value_width] * len(codes), 14]
    _cells(pdf, [words("report_c_unit"), *codes, words("report_c_all")], widths, bold=True)

    def heat_row(row: Row, *, bold: bool = False) -> None:
        shares = [row.value_accuracy(code) for code in codes]
        texts = [row.name, *[_whole(s) for s in shares], _whole(row.accuracy)]
        _cells(pdf, texts, widths, bold=bold, shades=[None, *map(_shade, shares), None])

    for row in report.units:
        heat_row(row)
    heat_row(Row(words("report_mean"), *_totals(total)), bold=True)
    pdf.set_font(FONT, "", 7)
    pdf.multi_cell(
        WIDTH,
        4,
        " · ".join(f"{code} = {name}" for code, name in report.values),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )

    _heading(pdf, words("report_s_values"))
    _cells(
        pdf,
        [
            words("report_c_value"),
            words("report_c_now"),
            words("report_c_before"),
            words("report_c_change"),
        ],
        [NAME_WIDTH + 12, 30, 30, 30],
        bold=True,
    )
    names = dict(report.values)
    for code, now, before in sorted(report.value_change, key=lambda t: -(t[1] or 0)):
        _cells(
            pdf,
            [names[code], words.percent(now), words.percent(before), words.change(now, before)],
            [NAME_WIDTH + 12, 30, 30, 30],
        )

    _heading(pdf, words("report_s_silent"))
    if report.silent:
        header = [words("report_c_unit"), words("report_c_members"), words("report_c_reason")]
        _cells(pdf, header, [90, 20, 70], bold=True)
        for unit in report.silent:
            _cells(
                pdf,
                [unit.name, words.number(unit.members), words.silent_reason(unit)],
                [90, 20, 70],
            )
    else:
        pdf.cell(WIDTH, LINE, words("report_none"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    _heading(pdf, words("report_s_improved"))
    if report.improved:
        header = [
            words("report_c_unit"),
            words("report_c_before"),
            words("report_c_now"),
            words("report_c_change"),
        ]
        _cells(pdf, header, [90, 30, 30, 30], bold=True)
        for name, now, before in report.improved:
            _cells(
                pdf,
                [name, words.percent(before), words.percent(now), words.change(now, before)],
                [90, 30, 30, 30],
            )
    else:
        pdf.cell(WIDTH, LINE, words("report_none"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    _community(pdf, report, words)

    _heading(pdf, words("report_s_missed"))
    if report.missed:
        for item in report.missed:
            pdf.set_font(FONT, "B", 8)
            share = item.correct / item.answered
            pdf.multi_cell(
                WIDTH,
                4.5,
                f"{item.question_id} ({item.value}) · {words.percent(share)} · "
                f"{words.number(item.answered)} {words('report_c_answers').lower()}",
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            pdf.set_font(FONT, "", 8)
            pdf.multi_cell(WIDTH, 4.5, item.question, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1)
    else:
        pdf.cell(WIDTH, LINE, words("report_none"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.add_page()
    _heading(pdf, words("report_s_method"))
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(
        WIDTH,
        5,
        words.paragraph(
            "report_method",
            days=SILENT_DAYS,
            share=int(SILENT_SHARE * 100),
            minimum=MISSED_MINIMUM,
            n=report.min_size,
        ),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    return bytes(pdf.output())


COMMUNITY = (
    "ideas",
    "realised",
    "stories",
    "published",
    "thanks",
    "thanks_cross_unit",
    "thanks_cross_generation",
    "help",
    "help_cross_unit",
    "help_cross_generation",
)


def _community(pdf: _Pdf, report: Report, words: Words) -> None:
    _heading(pdf, words("report_s_community"))
    widths = [40.0] + [(WIDTH - 40.0) / len(COMMUNITY)] * len(COMMUNITY)
    keys = [
        "report_c_ideas",
        "report_c_realised",
        "report_c_stories",
        "report_c_published",
        "report_c_thanks",
        "report_c_cross_unit",
        "report_c_cross_generation",
        "report_c_help",
        "report_c_help_cross_unit",
        "report_c_help_cross_generation",
    ]
    _cells(pdf, [words("report_c_opd"), *[words(k) for k in keys]], widths, bold=True)
    for name, row in report.community:
        texts = [name or words("report_c_all"), *[words.number(getattr(row, k)) for k in COMMUNITY]]
        _cells(pdf, texts, widths, bold=not name)
    if report.stories_by_value:
        names = dict(report.values)
        counts = ", ".join(
            f"{names.get(code, code)} {n}" for code, n in sorted(report.stories_by_value.items())
        )
        pdf.set_font(FONT, "", 8)
        pdf.multi_cell(
            WIDTH,
            4.5,
            words("report_stories_by_value", counts=counts),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )


def _whole(share: float | None) -> str:
    return "–" if share is None else f"{100 * share:.0f}"


def _totals(row: Row) -> tuple[int, int, int, int, int, dict[str, tuple[int, int]]]:
    return row.members, row.participants, row.answered, row.correct, row.reflections, row.values
