"""The report's tables as an .xlsx for HR's own pivot tables: one sheet each, frozen
headers, widths and number formats. Shares are stored as numbers (0.725 shown as 72.5 %),
never as text. CPU-bound: call it in a thread."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.reports.figures import Report, Row
from bot.reports.words import Words
from content.spreadsheet import texts_as_text

PERCENT = "0.0%"
INTEGER = "#,##0"


def add_sheet(
    book: Workbook,
    title: str,
    header: list[str],
    rows: list[list[Any]],
    formats: list[str | None],
    widths: list[int],
) -> Worksheet:
    sheet: Worksheet = book.create_sheet(title[:31])
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    # A unit named "=HYPERLINK(...)" (or starting with + - @) stays the text it is.
    texts_as_text(sheet.iter_rows(min_row=2))
    sheet.freeze_panes = "B2"
    for i, (fmt, width) in enumerate(zip(formats, widths, strict=True), start=1):
        letter = get_column_letter(i)
        sheet.column_dimensions[letter].width = width
        if fmt:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = fmt
    return sheet


def _row(row: Row, codes: list[str]) -> list[Any]:
    return [
        row.name,
        row.members,
        row.participants,
        row.participation,
        row.answered,
        row.accuracy,
        row.previous_accuracy,
        row.reflections,
        *[row.value_accuracy(code) for code in codes],
    ]


def render_xlsx(report: Report, words: Words) -> bytes:
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    codes = [code for code, _ in report.values]
    scope = (
        words("report_scope_opd", name=report.scope) if report.scope else words("report_scope_all")
    )
    total = report.total
    privacy = words.paragraph("report_privacy", n=report.min_size, hidden=report.hidden_units)
    add_sheet(
        book,
        words("report_sheet_summary"),
        [words("report_s_headline"), words.period(report.period)],
        [
            [scope, None],
            [words("report_h_members"), total.members],
            [words("report_h_units"), report.units_with_members],
            [words("report_h_participation"), total.participation],
            [words("report_h_answers"), total.answered],
            [words("report_h_accuracy"), total.accuracy],
            [words("report_h_reflections"), total.reflections],
            [words("report_h_days"), report.active_days],
            [privacy, None],
        ],
        [None, None],
        [60, 18],
    )
    header = [
        words("report_c_members"),
        words("report_c_participants"),
        words("report_c_participation"),
        words("report_c_answers"),
        words("report_c_accuracy"),
        words("report_c_before"),
        words("report_c_reflections"),
        *codes,
    ]
    formats = [None, INTEGER, INTEGER, PERCENT, INTEGER, PERCENT, PERCENT, INTEGER]
    formats += [PERCENT] * len(codes)
    widths = [48, 10, 10, 12, 10, 11, 12, 10, *[8] * len(codes)]
    add_sheet(
        book,
        words("report_sheet_opd"),
        [words("report_c_opd"), *header],
        [_row(r, codes) for r in report.opds],
        formats,
        widths,
    )
    add_sheet(
        book,
        words("report_sheet_units"),
        [words("report_c_unit"), *header],
        [_row(r, codes) for r in report.units]
        + [_row(Row(words("report_mean"), *_parts(total)), codes)],
        formats,
        widths,
    )
    weeks = [d for d in report.week_starts]
    add_sheet(
        book,
        words("report_sheet_weekly"),
        [words("report_c_opd"), *[d.isoformat() for d in weeks]],
        [
            [name, *[series.get(f"W{d.isoformat()}") or 0 for d in weeks]]
            for name, series in report.weekly.items()
        ],
        [None, *[INTEGER] * len(weeks)],
        [48, *[11] * len(weeks)],
    )
    names = dict(report.values)
    add_sheet(
        book,
        words("report_sheet_values"),
        [words("report_c_value"), words("report_c_now"), words("report_c_before")],
        [[names[code], now, before] for code, now, before in report.value_change],
        [None, PERCENT, PERCENT],
        [30, 14, 14],
    )
    add_sheet(
        book,
        words("report_sheet_silent"),
        [words("report_c_unit"), words("report_c_members"), words("report_c_reason")],
        [[u.name, u.members, words.silent_reason(u)] for u in report.silent],
        [None, INTEGER, None],
        [48, 10, 40],
    )
    add_sheet(
        book,
        words("report_sheet_missed"),
        [
            words("report_c_question"),
            words("report_c_value"),
            words("report_c_answers"),
            words("report_c_accuracy"),
            "",
        ],
        [
            [m.question_id, m.value, m.answered, m.correct / m.answered, m.question]
            for m in report.missed
        ],
        [None, None, INTEGER, PERCENT, None],
        [12, 8, 10, 11, 90],
    )
    community = (
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
    keys = ["report_c_ideas", "report_c_realised", "report_c_stories", "report_c_published"]
    keys += ["report_c_thanks", "report_c_cross_unit", "report_c_cross_generation"]
    keys += ["report_c_help", "report_c_help_cross_unit", "report_c_help_cross_generation"]
    add_sheet(
        book,
        words("report_sheet_community"),
        [words("report_c_opd"), *[words(k) for k in keys]],
        [
            [name or words("report_c_all"), *[getattr(row, k) for k in community]]
            for name, row in report.community
        ],
        [None, *[INTEGER] * len(community)],
        [48, *[12] * len(community)],
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _parts(row: Row) -> tuple[int, int, int, int, int, dict[str, tuple[int, int]]]:
    return row.members, row.participants, row.answered, row.correct, row.reflections, row.values
