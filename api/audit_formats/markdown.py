"""The audit report as Markdown."""

from __future__ import annotations

from api.audit_formats import sections
from graph.audit import AuditTrail


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(table: sections.Table, level: str = "###") -> list[str]:
    lines = [f"{level} {table.title}", ""]
    if not table.rows:
        return [*lines, "None in this chain.", ""]
    lines.append("| " + " | ".join(table.columns) + " |")
    lines.append("|" + "---|" * len(table.columns))
    lines.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows)
    return [*lines, ""]


def render(trail: AuditTrail) -> str:
    """Return the Markdown text of a report."""
    lines = [f"# Audit trail: {trail.subject.kind.value} `{trail.subject.urn}`", ""]
    lines.extend(f"- **{name}**: {_cell(value)}" for name, value in sections.facts(trail))
    lines += ["", "## Summary", ""]
    for table in sections.summary(trail):
        lines.extend(_table(table))
    notes = sections.notes(trail)
    lines += ["## Notes", ""]
    lines.extend([f"- {_cell(n)}" for n in notes] or ["None."])
    lines.append("")
    lines.extend(_table(sections.chain(trail), "##"))
    lines.extend(_table(sections.records(trail), "##"))
    return "\n".join(lines)
