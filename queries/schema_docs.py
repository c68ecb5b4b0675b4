"""What each table and column means, read from the `--` comments of the migrations in
queries/schema/, so the schema browser and the schema files can never disagree.

Recognised comments:
- a trailing comment on a column line:      `tier  text,  -- primary | backup | emergency`
- a header line naming a table:             `-- alerts: one row per fired alert; …`
  (indented `--   …` lines continue it)
- comment lines right above `create … table|view <name>` (section rulers like `-- ─── x ───` skipped).
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


def parse(sql: str) -> dict[str, TableDoc]:
    """Table/view name → its description and column descriptions, from one migration's text."""
    docs: dict[str, TableDoc] = {}
    named: dict[str, list[str]] = {}
    pending: list[str] = []       # comment lines waiting for the next create statement
    current: str | None = None    # table whose column list we are inside
    last_named: str | None = None
    for line in sql.splitlines():
        stripped = line.strip()
        if stripped.startswith("--"):
            if current is None:
                if (m := _NAMED_NOTE.match(stripped)) and not _RULER.search(stripped):
                    last_named = m["name"].lower()
                    named.setdefault(last_named, []).append(m["text"])
                elif last_named and (m := _CONTINUATION.match(stripped)):
                    named[last_named].append(m["text"])
                elif not _RULER.search(stripped):
                    pending.append(stripped.lstrip("-").strip())
                    last_named = None
            continue
        last_named = None
        if m := _CREATE.match(line):
            name = m["name"].lower()
            docs.setdefault(name, TableDoc()).description = " ".join(pending).strip()
            pending = []
            current = name if line.rstrip().endswith("(") else None
            continue
        if not stripped:
            pending = []
            continue
        if current:
            if stripped.startswith(")"):
                current = None
            elif (m := _COLUMN.match(line)) and m["name"].lower() not in _NOT_COLUMNS:
                docs[current].columns[m["name"].lower()] = m["text"]
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
            else:
                docs[table] = doc
    return docs
