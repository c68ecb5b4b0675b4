"""What each table and column means, read from the `--` comments of the migrations in
queries/schema/, so the schema browser and the schema files can never disagree.

Recognised comments:
- a trailing comment on a column line:      `tier  text,  -- primary | backup | emergency`
- a header line naming a table:             `-- alerts: one row per fired alert; …`
  (indented `--   …` lines continue it)
- comment lines right above `create … table|view <name>` (section rulers like `-- ─── x ───` skipped).
- a trailing comment on `alter table <name> add column [if not exists] <column> <type>;  -- …`
- a note naming one column, for columns a view computes or renames:
                                            `-- po_current.progress_at: when …`
  (indented `--   …` lines continue it)
A view's other columns take the description of the same-named column of the first table its
statement reads (`from` / `join` order), so `select o.*` from orders needs no copy of its comments.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import queries

_CREATE = re.compile(
    r"^\s*create\s+(?:or\s+replace\s+)?(?:temp\s+|temporary\s+)?(?:table|view)\s+"
    r"(?:if\s+not\s+exists\s+)?(?P<name>\w+)",
    re.IGNORECASE,
)
_ALTER_ADD = re.compile(
    r"^\s*alter\s+table\s+(?P<table>\w+)\s+add\s+(?:column\s+)?(?:if\s+not\s+exists\s+)?"
    r"(?P<name>\w+)\b[^-]*--\s*(?P<text>.+?)\s*$",
    re.IGNORECASE,
)
_COLUMN_NOTE = re.compile(r"^--\s*(?P<table>\w+)\.(?P<name>\w+):\s*(?P<text>.+)$")
_READS = re.compile(r"\b(?:from|join)\s+(?P<name>[a-z_]\w*)", re.IGNORECASE)
_COLUMN = re.compile(r"^\s+(?P<name>\w+)\s+[^-]*?--\s*(?P<text>.+?)\s*$")
_NAMED_NOTE = re.compile(r"^--\s*(?P<name>\w+):\s*(?P<text>.+)$")
_CONTINUATION = re.compile(r"^--\s{2,}(?P<text>\S.*)$")
_RULER = re.compile(r"[─━=]{3,}")
_NOT_COLUMNS = {"primary", "unique", "foreign", "check", "constraint", "select", "from", "left",
                "qualify", "where", "join"}


@dataclass
class TableDoc:
    description: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)   # views: tables the statement reads, in order


def parse(sql: str) -> dict[str, TableDoc]:
    """Table/view name → its description and column descriptions, from one migration's text."""
    docs: dict[str, TableDoc] = {}
    named: dict[str, list[str]] = {}
    pending: list[str] = []       # comment lines waiting for the next create statement
    notes: dict[tuple[str, str], list[str]] = {}
    current: str | None = None    # table whose column list we are inside
    view: str | None = None       # view whose statement we are inside (until its `;`)
    last_named: str | None = None
    last_note: tuple[str, str] | None = None
    for line in sql.splitlines():
        stripped = line.strip()
        if stripped.startswith("--"):
            if current is None:
                if m := _COLUMN_NOTE.match(stripped):
                    last_note, last_named = (m["table"].lower(), m["name"].lower()), None
                    notes.setdefault(last_note, []).append(m["text"])
                elif last_note and (m := _CONTINUATION.match(stripped)):
                    notes[last_note].append(m["text"])
                elif (m := _NAMED_NOTE.match(stripped)) and not _RULER.search(stripped):
                    last_named, last_note = m["name"].lower(), None
                    named.setdefault(last_named, []).append(m["text"])
                elif last_named and (m := _CONTINUATION.match(stripped)):
                    named[last_named].append(m["text"])
                elif not _RULER.search(stripped):
                    pending.append(stripped.lstrip("-").strip())
                    last_named = last_note = None
            continue
        last_named = last_note = None
        if view:
            docs[view].reads += [r.lower() for r in _READS.findall(line.split("--")[0])]
            if ";" in line:
                view = None
            continue
        if m := _ALTER_ADD.match(line):
            docs.setdefault(m["table"].lower(), TableDoc()).columns[m["name"].lower()] = m["text"]
            pending = []
            continue
        if m := _CREATE.match(line):
            name = m["name"].lower()
            docs.setdefault(name, TableDoc()).description = " ".join(pending).strip()
            pending = []
            current = name if line.rstrip().endswith("(") else None
            if re.search(r"\bview\b", line[: m.end()], re.IGNORECASE):
                view, current = name, None
                docs[name].reads += [r.lower() for r in _READS.findall(line[m.end():].split("--")[0])]
                if ";" in line:
                    view = None
            continue
        if not stripped:
            pending = []
            continue
        if current:
            if stripped.startswith(")"):
                current = None
            elif (m := _COLUMN.match(line)) and m["name"].lower() not in _NOT_COLUMNS:
                docs[current].columns[m["name"].lower()] = m["text"]
    for (table, column), texts in notes.items():
        docs.setdefault(table, TableDoc()).columns[column] = " ".join(texts)
    for name, texts in named.items():
        if name in docs and not docs[name].description:
            docs[name].description = " ".join(texts)
    return docs


def load() -> dict[str, TableDoc]:
    """Descriptions from every migration; later files win for a table they redefine."""
    docs: dict[str, TableDoc] = {}
    for name in queries.names("schema"):
        for table, doc in parse(queries.load(name)).items():
            if table in docs:
                docs[table].columns.update(doc.columns)
                docs[table].description = doc.description or docs[table].description
                docs[table].reads = doc.reads or docs[table].reads
            else:
                docs[table] = doc
    for doc in docs.values():
        for source in doc.reads:
            for column, text in docs.get(source, TableDoc()).columns.items():
                doc.columns.setdefault(column, text)
    return docs
