"""Playbooks: playbooks/<name>.md with "## Trigger", "## Diagnosis" and "## Actions" sections."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DIR = Path(__file__).resolve().parents[2] / "playbooks"
_NAME = re.compile(r"^[a-z0-9_]+$")


@dataclass(frozen=True)
class Playbook:
    name: str
    title: str
    sections: dict          # lowercased heading -> markdown text
    text: str               # the whole file

    def section(self, heading: str) -> str:
        return self.sections.get(heading.lower(), "")


def names() -> list[str]:
    return sorted(p.stem for p in DIR.glob("*.md"))


@lru_cache(maxsize=64)
def load(name: str) -> Playbook | None:
    """The playbook, or None when there is no such file (an alert must still render)."""
    if not _NAME.match(name or ""):
        return None
    path = DIR / f"{name}.md"
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8")
    title, sections, current, buf = name, {}, None, []
    for line in text.splitlines():
        if line.startswith("# "):
            title = line[2:].strip()
        elif line.startswith("## "):
            if current:
                sections[current] = "\n".join(buf).strip()
            current, buf = line[3:].strip().lower(), []
        elif current:
            buf.append(line)
    if current:
        sections[current] = "\n".join(buf).strip()
    return Playbook(name, title, sections, text)
