"""Lint reports as text (for people), JSON (for tools) and GitHub workflow annotations (for CI)."""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from .findings import Finding, Report, order


def _grouped(reports: Iterable[Report], *, ignored: bool) -> list[tuple[Finding, list[str]]]:
    """Findings shared by several emails (a layout's) once, with the emails they concern."""
    groups: dict[tuple, tuple[Finding, list[str]]] = {}
    for report in reports:
        for finding in report.findings:
            if (finding.ignored is not None) != ignored:
                continue
            key = (finding.rule, finding.file, finding.line, finding.column, finding.message)
            groups.setdefault(key, (finding, []))[1].append(report.email)
    return sorted(groups.values(), key=lambda group: order(group[0]))


def summary(reports: list[Report]) -> str:
    def count(severity: str) -> int:
        return sum(1 for r in reports for f in r.active if f.severity == severity)
    explained = sum(1 for r in reports for f in r.findings if f.ignored is not None)
    per_email = sum(r.seconds for r in reports) / max(len(reports), 1)
    return (f"{_n(len(reports), 'email')}: {_n(count('error'), 'error')}, {_n(count('warning'), 'warning')}, "
            f"{_n(count('info'), 'note')} (partial support), {explained} switched off in mailtpl.json; "
            f"{per_email * 1000:.0f} ms per email")


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def text(reports: list[Report], *, notes: bool = False, verbose: bool = False) -> str:
    lines = []
    for finding, emails in _grouped(reports, ignored=False):
        if finding.severity == "info" and not notes:
            continue
        lines.append(f"{finding.location}: {finding.severity} [{finding.rule}] {finding.message}"
                     f"  ({', '.join(emails)})")
        for gap in finding.clients:
            lines.append(f"    {gap}")
        if finding.url:
            lines.append(f"    {finding.url}")
    if verbose:
        for finding, emails in _grouped(reports, ignored=True):
            lines.append(f"{finding.location}: off [{finding.rule}] {finding.message}  ({', '.join(emails)})")
            lines.append(f"    reason: {finding.ignored}")
    lines.append(summary(reports))
    return "\n".join(lines) + "\n"


def as_json(reports: list[Report]) -> str:
    return json.dumps({"emails": [{"email": r.email, "clean": r.clean, "seconds": round(r.seconds, 4),
                                   "findings": [f.to_json() for f in r.findings]} for r in reports]},
                      indent=2, ensure_ascii=False) + "\n"


def github(reports: list[Report], templates: str | Path) -> str:
    """``::error file=...,line=...::message`` lines, which GitHub Actions shows on the pull request."""
    kinds = {"error": "error", "warning": "warning", "info": "notice"}
    lines = []
    for finding, emails in _grouped(reports, ignored=False):
        props = {"file": (Path(templates) / (finding.file or f"{finding.email}.hbs")).as_posix(),
                 "line": finding.line, "col": finding.column, "title": f"mailtpl lint {finding.rule}"}
        head = ",".join(f"{key}={_escape(str(value), True)}" for key, value in props.items() if value)
        body = f"{finding.message} ({', '.join(emails)})" + "".join(f"\n{gap}" for gap in finding.clients)
        lines.append(f"::{kinds[finding.severity]} {head}::{_escape(body, False)}")
    return "\n".join(lines) + ("\n" if lines else "")


def _escape(value: str, property_: bool) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if property_ else value
