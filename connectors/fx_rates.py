"""Exchange rates to the reporting currency: a local CSV file → `fx_rates`.

The file (`path`, default config/fx_rates.csv; relative paths are under the Tower folder) has the
header `currency,rate_to_reporting,valid_from`: one row per currency and first day of validity,
`rate_to_reporting` = units of the reporting currency (option `reporting_currency`, default USD) for
one unit of `currency`. Lines starting with `#` are notes. A user replaces the file with their own
rates (e.g. the finance team's month-end rates) and the next run loads them.

Why a source and not a load at database open: it runs on the scheduler like every other input, so
an edited file is picked up within one interval while the app runs, and every load is in the run log
(Sources page) with its error. It reads a few lines, so re-reading it every minute costs nothing; an
unchanged file writes nothing.

All or nothing: unlike vendor feeds, where one bad record is skipped, a bad row here fails the whole
run with an error naming the file and line, and the table keeps the previous rates — half a rate
table would convert some amounts and silently drop others. The table is written as a `replace`
table: afterwards it holds exactly the file's rows.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError, field_validator

from connectors.base import Http, Record, Run, Source, Table
from tower.config import ROOT

COLUMNS = ("currency", "rate_to_reporting", "valid_from")


class FxRateRow(Record):
    currency: str
    rate_to_reporting: Decimal
    valid_from: date

    @field_validator("currency", mode="before")
    @classmethod
    def _code(cls, v):
        code = str(v or "").strip().upper()
        if len(code) != 3 or not code.isalpha() or not code.isascii():
            raise ValueError("must be a three-letter ISO 4217 code such as EUR")
        return code

    @field_validator("rate_to_reporting", mode="before")
    @classmethod
    def _rate_text(cls, v):
        return v.strip() if isinstance(v, str) else v

    @field_validator("rate_to_reporting")
    @classmethod
    def _positive(cls, v: Decimal) -> Decimal:
        if not v.is_finite() or v <= 0:
            raise ValueError("must be a number above 0")
        return v

    @field_validator("valid_from", mode="before")
    @classmethod
    def _iso_day(cls, v):
        text = str(v or "").strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError("must be a date written YYYY-MM-DD") from None


class FxRateFileError(ValueError):
    """The rate file cannot be loaded; the message names the file and the line."""


def read_rates(text: str, file_name: str, reporting: str) -> list[FxRateRow]:
    """Every rate row of the file, or FxRateFileError at the first problem."""
    # notes become blank lines, so csv's line numbers stay those of the file
    lines = ["" if line.lstrip().startswith("#") else line
             for line in text.lstrip("\ufeff").splitlines()]
    reader = csv.reader(io.StringIO("\n".join(lines)))
    header = next((row for row in reader if any(cell.strip() for cell in row)), [])
    header = [h.strip() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise FxRateFileError(f"{file_name}: header must name {', '.join(COLUMNS)} "
                              f"(missing: {', '.join(missing)})")
    rows: list[FxRateRow] = []
    first_line: dict[tuple[str, date], int] = {}
    for cells in reader:
        where = f"{file_name} line {reader.line_num}"
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            raise FxRateFileError(f"{where}: more cells than the header has columns")
        raw = dict(zip(header, cells))
        try:
            row = FxRateRow.model_validate(raw)
        except ValidationError as e:
            first = e.errors(include_input=False, include_url=False)[0]
            field = ".".join(map(str, first["loc"])) or "row"
            raise FxRateFileError(f"{where}: {field} {first['msg'].removeprefix('Value error, ')}") from None
        key = (row.currency, row.valid_from)
        if key in first_line:
            raise FxRateFileError(f"{where}: {row.currency} from {row.valid_from} is already on line "
                                  f"{first_line[key]}")
        first_line[key] = reader.line_num
        if row.currency == reporting and row.rate_to_reporting != 1:
            raise FxRateFileError(f"{where}: {reporting} is the reporting currency, its rate must be 1")
        rows.append(row)
    if not any(r.currency == reporting for r in rows):
        raise FxRateFileError(f"{file_name}: no row for the reporting currency {reporting} (rate 1)")
    return rows


class FxRatesSource(Source):
    kind = "fx_rates"
    tables = (Table("fx_rates", ("currency", "valid_from"), "replace", None),)

    @property
    def path(self) -> Path:
        path = Path(self.options.get("path", "config/fx_rates.csv"))
        return path if path.is_absolute() else ROOT / path

    def extract(self, run: Run, http: Http) -> None:
        reporting = str(self.options.get("reporting_currency", "USD")).upper()
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise FxRateFileError(f"{self.path}: file not found") from None
        except UnicodeDecodeError:
            raise FxRateFileError(f"{self.path.name}: not UTF-8 text") from None
        # the data is as fresh as the file: a rate valid since January was still checked today
        edited = min(datetime.fromtimestamp(self.path.stat().st_mtime, timezone.utc), run.now)
        for row in read_rates(text, self.path.name, reporting):
            run.saw(1, edited)
            run.emit("fx_rates", {**row.model_dump(), "reporting_currency": reporting})
