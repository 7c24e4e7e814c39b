"""A report made for one reader: figures from the database, then the PDF and the .xlsx
drawn in a worker thread so the bot keeps answering while they are built."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.render import Renderer
from bot.reports.figures import Period, Report, build_report
from bot.reports.pdf import render_pdf
from bot.reports.words import Words
from bot.reports.xlsx import render_xlsx
from content.loader import Content
from db.engine import Database


@dataclass(frozen=True)
class Files:
    report: Report
    pdf: bytes
    xlsx: bytes
    # What the files are called when sent: laporan_berakhlak_2026-12[_OPD].pdf
    stem: str


def words_for(renderer: Renderer, lang: str) -> Words:
    def label(key: str, **context: object) -> str:
        return renderer.label(key, lang, **context)

    return Words(label=label, decimal="," if lang == "id" else ".")


async def make_report(
    db: Database,
    *,
    content: Content,
    renderer: Renderer,
    period: Period,
    opd_id: int | None,
    opd_code: str | None,
    lang: str,
    min_size: int,
    now: datetime,
    tz: str,
) -> Files:
    words = words_for(renderer, lang)
    report = await build_report(
        db,
        period,
        opd_id=opd_id,
        values=[(v.code, v.name) for v in content.values],
        min_size=min_size,
        now=now,
        tz=tz,
        pool_label=words("report_pool", opd="{opd}"),
    )
    generated = now.astimezone(ZoneInfo(tz))
    pdf, xlsx = await asyncio.gather(
        asyncio.to_thread(
            render_pdf, report, words, generated, str(renderer.env.globals["instansi"])
        ),
        asyncio.to_thread(render_xlsx, report, words),
    )
    stem = f"laporan_berakhlak_{period.code}" + (f"_{opd_code}" if opd_code else "")
    return Files(report=report, pdf=pdf, xlsx=xlsx, stem=stem)
