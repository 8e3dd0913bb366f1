"""The audit report as one printable HTML page: self-contained (inline style, no scripts, no CDN)."""

from __future__ import annotations

from html import escape

from api.audit_formats import sections
from graph.audit import AuditTrail

STYLE = """
body { font: 13px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #111; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; }
h1 { font-size: 20px; margin-bottom: .2em; } h2 { font-size: 16px; margin-top: 1.6em; border-bottom: 1px solid #999; }
h3 { font-size: 14px; margin: 1.2em 0 .3em; }
table { border-collapse: collapse; width: 100%; margin-bottom: .6em; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eee; } td { overflow-wrap: anywhere; } td.short { white-space: nowrap; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; word-break: break-all; }
.ok { color: #064; font-weight: 600; } .broken { color: #a00; font-weight: 700; }
.none { color: #666; font-style: italic; }
code { font: 12px ui-monospace, Menlo, Consolas, monospace; }
@media print { body { margin: 0; max-width: none; font-size: 10px; } h2 { break-after: avoid; }
               tr { break-inside: avoid; } }
"""


def _cell(text: str) -> str:
    # Ids may wrap anywhere; short values (ranks, scores, states) never do.
    return f'<td class="short">{escape(text)}</td>' if len(text) <= 12 else f"<td>{escape(text)}</td>"


def _table(table: sections.Table, tag: str = "h3") -> str:
    head = f"<{tag}>{escape(table.title)}</{tag}>"
    if not table.rows:
        return f'{head}<p class="none">None in this chain.</p>'
    columns = "".join(f"<th>{escape(c)}</th>" for c in table.columns)
    rows = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in table.rows)
    return f"{head}<table><thead><tr>{columns}</tr></thead><tbody>{rows}</tbody></table>"


def render(trail: AuditTrail) -> str:
    """Return the HTML page of a report."""
    verdict = "ok" if trail.verification.intact else "broken"
    facts = "".join(
        f"<dt>{escape(name)}</dt><dd{' class=' + verdict if name == 'Verification' else ''}>{escape(value)}</dd>"
        for name, value in sections.facts(trail)
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in sections.notes(trail)) or "<li>None.</li>"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Audit trail: {escape(trail.subject.urn)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Audit trail: {escape(trail.subject.kind.value)}</h1><p><code>{escape(trail.subject.urn)}</code></p>",
        f'<dl class="facts">{facts}</dl>',
        "<h2>Summary</h2>",
        *(_table(t) for t in sections.summary(trail)),
        f"<h2>Notes</h2><ul>{notes}</ul>",
        _table(sections.chain(trail), "h2"),
        _table(sections.records(trail), "h2"),
        "</body></html>",
    ]
    return "\n".join(parts)
