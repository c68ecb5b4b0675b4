"""Reading an uploaded sheet (CSV or Excel .xlsx) into a header and rows of raw cells, and the cell
conversions the manual upload documents (units, dates). No validation of meaning here: that is
connectors.manual_upload's job, row by row.

Encodings (CSV): UTF-8 (with or without BOM) first; otherwise the likelier of GBK/GB18030 (what
Excel on a Chinese Windows saves) and Latin-1/CP1252 (Western European Excel), judged by
charset-normalizer; a file none of them reads cleanly is refused with a message.
Delimiters: comma, semicolon or tab, picked from the header line.
Leading `#` lines are comments; `# timezone: Asia/Shanghai` names the zone of offset-less times.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import openpyxl
from charset_normalizer import from_bytes

from connectors.supplier_csv import split_preamble

XLSX_MAGIC = b"PK\x03\x04"
DELIMITERS = (",", ";", "\t")
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000


class Problem(ValueError):
    """A problem in English words, with a `code` and its values (`params`) so the page can say it in
    the viewer's language (key `uploads.err_<code>`)."""

    def __init__(self, code: str, message: str, **params):
        super().__init__(message)
        self.code, self.params = code, params


class SheetError(Problem):
    """The file as a whole cannot be read (encoding, format, no header): one message, no rows."""


@dataclass
class Sheet:
    header: list[str]                       # column names as written in the file
    rows: list[tuple[int, list]]            # (line/row number in the file, cells)
    encoding: str = ""                      # CSV: the encoding read; xlsx: "xlsx"
    delimiter: str = ""
    zone: str | None = None                 # from a `# timezone:` comment line
    notes: list[str] = field(default_factory=list)


def decode(data: bytes) -> str:
    """The text of a CSV file by the rule in the module docstring."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data, cp_isolation=["gb18030", "cp1252", "latin_1"]).best()
    if best is None:
        raise SheetError("not_text", "the file is not text in UTF-8, GBK or Latin-1: save it as CSV UTF-8 or .xlsx")
    return str(best)


def pick_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_csv(data: bytes) -> Sheet:
    text = decode(data)
    zone, body, skipped = split_preamble(text)
    first = body.splitlines()[0] if body.strip() else ""
    if not first.strip():
        raise SheetError("empty_file", "the file is empty: no header row")
    delimiter = pick_delimiter(first)
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)
    rows = []
    try:
        header = next(reader)
        for cells in reader:
            if len(rows) >= MAX_ROWS:
                raise SheetError("too_many_rows", f"more than {MAX_ROWS} rows: split the sheet", n=MAX_ROWS)
            if any(c.strip() for c in cells):
                rows.append((reader.line_num + skipped, cells))
    except csv.Error as e:  # e.g. a stray quote or line break inside a cell
        raise SheetError("csv_broken", f"line {reader.line_num + skipped}: not readable as CSV ({e})",
                         line=reader.line_num + skipped) from None
    return Sheet(header, rows, encoding="utf-8", delimiter=delimiter, zone=zone)


def read_xlsx(data: bytes) -> Sheet:
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - any broken workbook is one clear message
        raise SheetError("not_xlsx", f"not a readable Excel .xlsx file ({type(e).__name__})") from None
    try:
        sheet = book.worksheets[0]
        zone, header, rows = None, None, []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = list(values)
            if not any(c is not None and str(c).strip() for c in cells):
                continue
            first = str(cells[0]).strip() if cells[0] is not None else ""
            if header is None and first.startswith("#"):
                match = re.match(r"#\s*timezone\s*:\s*(\S+)", first, re.IGNORECASE)
                zone = match.group(1) if match else zone
                continue
            if header is None:
                header = ["" if c is None else str(c) for c in cells]
                continue
            if len(rows) >= MAX_ROWS:
                raise SheetError("too_many_rows", f"more than {MAX_ROWS} rows: split the sheet", n=MAX_ROWS)
            rows.append((number, cells))
    finally:
        book.close()
    if header is None:
        raise SheetError("empty_file", "the workbook's first sheet is empty: no header row")
    return Sheet(header, rows, encoding="xlsx", zone=zone)


def read(data: bytes, file_name: str = "") -> Sheet:
    """A CSV or .xlsx file's header and rows (raises SheetError for a file that cannot be read)."""
    if not data or not data.strip():
        raise SheetError("empty_file", "the file is empty")
    if len(data) > MAX_BYTES:
        raise SheetError("too_large", f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB", mb=MAX_BYTES // (1024 * 1024))
    if data.startswith(XLSX_MAGIC) or file_name.lower().endswith((".xlsx", ".xlsm")):
        return read_xlsx(data)
    if file_name.lower().endswith(".xls"):
        raise SheetError("old_xls", "old Excel .xls files are not read: save as .xlsx or CSV")
    return read_csv(data)


# ── cells ───────────────────────────────────────────────────────────────────────────────────────
# Units: a count of pieces. "12", "1,200" (thousands separator), "12 pcs"/"12 units"/"12件"/"12个"
# and "1.2k" (×1000) are converted to pieces; anything else (boxes, cartons, kg, fractions,
# negatives) is a row error, since Tower cannot know the pack size.
PIECE_WORDS = {"", "pc", "pcs", "piece", "pieces", "unit", "units", "ea", "each", "件", "个", "只", "台"}
_UNITS = re.compile(r"^([+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*([kK])?\s*([^\d\s].*)?$")


def units(value) -> int:
    """A non-negative whole number of pieces from a cell (raises ValueError in words)."""
    if isinstance(value, bool):
        raise Problem("not_units", "not a number of units", value=str(value))
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip()
        match = _UNITS.match(text)
        if not match:
            raise Problem("not_units", f"'{text[:30]}' is not a number of units", value=text[:30])
        digits, kilo, word = match.group(1), match.group(2), (match.group(3) or "").strip()
        if word.lower() not in PIECE_WORDS:
            raise Problem("not_pieces", f"unit '{word[:20]}' is not pieces: convert to pieces first", unit=word[:20])
        number = float(digits.replace(",", "")) * (1000 if kilo else 1)
    if number < 0:
        raise Problem("negative", "negative units")
    if number != int(number):
        raise Problem("not_whole", f"{value} is not a whole number of units", value=str(value)[:30])
    return int(number)


# Dates: ISO 8601 (with an offset or Z: that instant), "YYYY-MM-DD HH:MM[:SS]", "YYYY/MM/DD HH:MM",
# "DD.MM.YYYY HH:MM", or an Excel date cell. Times without an offset are wall time in the sheet's
# zone (the `# timezone:` line, else the zone chosen at upload, else UTC). "01/02/2026" is refused:
# day and month order cannot be told apart.
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
            "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%Y-%m-%dT%H:%M")
_DAY_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y")
_AMBIGUOUS = re.compile(r"^\d{1,2}/\d{1,2}/\d{2,4}")


def instant(value, zone: ZoneInfo, *, date_only_ok: bool = False) -> datetime:
    """An aware UTC datetime from a cell by the rule above (raises ValueError in words)."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        if not date_only_ok:
            raise Problem("no_time", "a date without a time of day", value=str(value))
        dt = datetime.combine(value, time(0))
    else:
        text = str(value).strip()
        if not text:
            raise Problem("empty", "empty")
        if _AMBIGUOUS.match(text):
            raise Problem("ambiguous_date", f"'{text[:30]}': day/month order is ambiguous, write YYYY-MM-DD",
                          value=text[:30])
        dt = _parse_text(text, date_only_ok)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone, fold=0)
    return dt.astimezone(timezone.utc)


def _parse_text(text: str, date_only_ok: bool) -> datetime:
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            pass
    for fmt in _DAY_FORMATS:
        try:
            day = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if not date_only_ok:
            raise Problem("no_time", f"'{text[:30]}' has no time of day", value=text[:30])
        return day
    try:
        return datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" else text)
    except ValueError:
        raise Problem("not_datetime", f"'{text[:30]}' is not a date and time (use YYYY-MM-DD HH:MM)",
                      value=text[:30]) from None
