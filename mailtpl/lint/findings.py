"""What a lint run reports."""
from __future__ import annotations

from dataclasses import dataclass, field

from .support import Gap

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    rule: str  # "img-alt", "caniemail:image-svg"
    severity: str  # "error", "warning" or "info"
    message: str
    email: str
    file: str | None = None  # the template the element or rule comes from, relative to the templates folder
    line: int | None = None
    column: int | None = None
    element: tuple[str, int] | None = None  # (tag, index among the rendered HTML's elements with that tag)
    selector: str | None = None  # a CSS selector of the element, from <html> down
    clients: tuple[Gap, ...] = ()
    url: str | None = None  # caniemail's page for a compatibility finding
    ignored: str | None = None  # the reason from mailtpl.json when the rule is switched off for this email

    @property
    def location(self) -> str:
        """file:line:column in the templates; for a finished email (no ``file``) the element's selector."""
        if self.file is None:
            return self.selector or self.email
        return ":".join([self.file] + [str(p) for p in (self.line, self.column) if p])

    def to_json(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "message": self.message, "email": self.email,
                "file": self.file, "line": self.line, "column": self.column,
                "element": list(self.element) if self.element else None, "selector": self.selector,
                "clients": [{"client": g.client, "support": g.support, "versions": list(g.versions),
                             "notes": list(g.notes)} for g in self.clients],
                "url": self.url, "ignored": self.ignored}


def order(finding: Finding) -> tuple:
    """Errors first, then by place."""
    return (SEVERITIES.index(finding.severity), finding.file or "", finding.line or 0, finding.column or 0,
            finding.rule, finding.message)


@dataclass
class Report:
    """Findings of one email over all its sample-data sets."""

    email: str
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.findings if f.ignored is None]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.active if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.active if f.severity == "warning"]

    @property
    def clean(self) -> bool:
        """No error and no warning that mailtpl.json does not explain."""
        return not self.errors and not self.warnings

    def rules(self) -> set[str]:
        return {f.rule for f in self.active}
