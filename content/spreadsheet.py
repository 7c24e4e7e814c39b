"""Open an uploaded .xlsx without letting it hurt the bot, and write text that stays text.

An .xlsx is a zip of XML. A few hundred kB can declare gigabytes of XML (a "zip bomb"),
a sheet can declare a million rows or 16,384 columns that openpyxl then fills with empty
cells, and malformed XML raises whatever the parser raises. So before openpyxl sees the
file: the archive must open, the sizes its members declare must add up to at most
``MAX_UNCOMPRESSED`` (zipfile never inflates a member past its declared size, so the
declaration is a real bound), and each sheet is streamed once to count its rows and find
the highest row number. Rows are then read only up to ``max_cols`` wide. Pure: no
database, no Telegram.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Iterator
from typing import Any

from openpyxl import load_workbook
from openpyxl.cell.cell import Cell, MergedCell

# A real roster or question sheet of a few thousand rows is 1-5 MB of XML; 40 MB leaves
# room and keeps openpyxl's peak (shared strings and one row at a time) well under 100 MB.
MAX_UNCOMPRESSED = 40 * 1024 * 1024
MAX_MEMBERS = 500
_CHUNK = 64 * 1024
_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")
_ROW_NUMBER = re.compile(rb"<(?:\w+:)?row\b[^>]*?\sr=\"(\d+)\"")
# Spreadsheet programs evaluate a cell typed as one of these; a CSV injection uses the same.
FORMULA_STARTS = ("=", "+", "-", "@")


class Refused(Exception):
    """Why a file was refused: ``invalid`` (not an .xlsx we can read), ``too_large``
    (expands past the limit) or ``too_many_rows``."""

    def __init__(self, reason: str, limit: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.limit = limit


def check_archive(data: bytes, *, max_rows: int) -> None:
    """Raise ``Refused`` unless the bytes are a zip whose sheets are small enough."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise Refused("invalid") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise Refused("invalid")
        if sum(m.file_size for m in members) > MAX_UNCOMPRESSED:
            raise Refused("too_large", MAX_UNCOMPRESSED)
        names = {m.filename for m in members}
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise Refused("invalid")
        for member in members:
            if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
                _check_rows(archive, member, max_rows)


def _check_rows(archive: zipfile.ZipFile, member: zipfile.ZipInfo, max_rows: int) -> None:
    rows = 0
    highest = 0
    tail = b""
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                # A tag split between two chunks is seen whole in the overlap, and only once:
                # matches that end inside the carried-over tail were counted before.
                window = tail + chunk
                start = len(tail)
                rows += sum(1 for m in _ROW_TAG.finditer(window) if m.end() > start)
                for m in _ROW_NUMBER.finditer(window):
                    if m.end() > start:
                        highest = max(highest, int(m.group(1)))
                if rows > max_rows or highest > max_rows:
                    raise Refused("too_many_rows", max_rows)
                tail = window[-256:]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        # A CRC or inflate error: the archive is damaged.
        raise Refused("invalid") from None


def read_rows(data: bytes, *, max_rows: int, max_cols: int) -> list[tuple[Any, ...]]:
    """The first sheet's rows (values only, at most ``max_cols`` wide), header included.

    Raises ``Refused`` for a file that is not a readable .xlsx or is too large; nothing
    else escapes, whatever the XML inside holds.
    """
    check_archive(data, max_rows=max_rows)
    with warnings.catch_warnings():
        # openpyxl warns about styles and extensions it ignores; they do not matter here.
        warnings.simplefilter("ignore")
        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:
            # Zip, XML, KeyError, TypeError...: a damaged or fake .xlsx raises many kinds.
            raise Refused("invalid") from None
        try:
            if not book.worksheets:
                return []
            rows: list[tuple[Any, ...]] = []
            for values in book.worksheets[0].iter_rows(max_col=max_cols, values_only=True):
                if len(rows) >= max_rows:
                    raise Refused("too_many_rows", max_rows)
                rows.append(tuple(values))
            return rows
        except Refused:
            raise
        except Exception:
            raise Refused("invalid") from None
        finally:
            book.close()


def as_text(cell: Cell | MergedCell) -> None:
    """Keep a text that starts like a formula a text: stored as a string, with Excel's
    quote prefix so editing the cell does not turn it into a formula either."""
    if (
        isinstance(cell, Cell)
        and isinstance(cell.value, str)
        and cell.value.startswith(FORMULA_STARTS)
    ):
        cell.data_type = "s"
        cell.quotePrefix = True


def texts_as_text(rows: Iterator[tuple[Cell | MergedCell, ...]]) -> None:
    for row in rows:
        for cell in row:
            as_text(cell)
