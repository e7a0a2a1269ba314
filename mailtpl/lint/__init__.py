"""``mailtpl lint``: client compatibility (caniemail's data), Gmail clipping, images, links, accessibility.

    from mailtpl.lint import Linter, lint_email
    report = Linter(env).lint("verification")        # every sample-data set of the email
    report.clean, [f.location for f in report.active]
    lint_email(RenderedEmail("caught", subject, html, text))   # finished email: places are CSS selectors

Settings in ``mailtpl.json``::

    "lint": {
      "clients": ["gmail", "outlook.windows@2016..2021", "outlook.outlook-com", "apple-mail", ...],
      "ignore": {
        "*": {"caniemail:css-border-radius": "square corners in Outlook for Windows are fine"},
        "verification": {"preheader": "the code is the first line: it is the preview"}
      }
    }

Every switch-off needs a reason; a rule id mailtpl does not know is an error.
``ignore`` keys are email names or ``"*"`` (all emails); ``"caniemail"`` switches
off every compatibility finding.
"""
from __future__ import annotations

import functools
import threading
import time
from collections.abc import Mapping
from dataclasses import replace

from ..environment import Environment
from ..errors import DataError, TemplateError
from ..loader import CONFIG_FILE
from ..rendered import RenderedEmail
from . import compat, rules
from .data import DEFAULT_CLIENTS, Client, features, parse_clients
from .document import Document
from .findings import SEVERITIES, Finding, Report, order
from .trace import finished, trace, traced_environment

__all__ = ["DEFAULT_CLIENTS", "Finding", "Linter", "Report", "RULES", "SEVERITIES", "lint_email"]
RULES = {**rules.RULES, "caniemail": "compatibility with the targeted clients, one rule per caniemail feature "
         "(caniemail:<feature>): warning when a client lacks it, info when support is partial",
         "render": "error: the email does not render with its sample data"}


class Linter:
    """Lints the emails of an environment; ``clients`` (selectors) override mailtpl.json's ``lint.clients``."""

    def __init__(self, env: Environment, clients: list[str] | tuple[str, ...] | None = None, *,
                 base_url: str | None = None) -> None:
        """``base_url``: what ``{{baseUrl}}`` is in the renders linted (default: as a preview renders it, see
        :meth:`Environment.render`); addresses under it (default: under the folder's preview_base_url) stand
        for the email's real base URL and are not flagged as local or http. The environment's own address
        (``Environment(base_url=...)``, ADMIN_WEB_URL) is the real one: links under it are checked as sent."""
        self.env = env
        self._render_base_url = base_url
        self.base_url = base_url or env.loader.preview_base_url
        settings = env.loader.setting("lint") or {}
        if not isinstance(settings, Mapping):
            raise DataError('"lint" must be an object', name=CONFIG_FILE)
        configured = settings.get("clients")
        if configured is not None and (not isinstance(configured, list)
                                       or not all(isinstance(c, str) for c in configured)):
            raise DataError('"lint.clients" must be a list like ["gmail", "outlook.windows@2016..2021"]',
                            name=CONFIG_FILE)
        self.clients: tuple[Client, ...] = tuple(parse_clients(clients or configured or DEFAULT_CLIENTS))
        self.ignore = _ignore_settings(settings.get("ignore") or {})
        self._tracer = traced_environment(env)
        self._lock = threading.Lock()

    def lint(self, name: str, *, fixture: str | None = None, context: Mapping | None = None) -> Report:
        """Findings for one email: with ``fixture`` or ``context`` that data, else every sample-data set (for
        an email without any, data made up from what it reads: :meth:`Environment.sample_data`)."""
        started = time.perf_counter()
        if fixture is None and context is None:
            runs = [(f, None) for f in self.env.loader.fixtures(name)] or [(None, self._made_up(name))]
        else:
            runs = [(fixture, context)]
        found: dict[tuple, Finding] = {}
        for run_fixture, run_context in runs:
            for finding in self._lint_once(name, run_fixture, run_context):
                key = (finding.rule, finding.file, finding.line, finding.column, finding.message)
                found.setdefault(key, finding)
        report = Report(name, sorted(found.values(), key=order))
        report.seconds = time.perf_counter() - started
        return report

    def _made_up(self, name: str) -> dict:
        try:
            return self.env.sample_data(name)
        except TemplateError:
            return {}  # the render reports what is wrong with the template

    def _lint_once(self, name: str, fixture: str | None, context: Mapping | None) -> list[Finding]:
        try:
            with self._lock:  # the tracer's origin table grows while it compiles
                traced = trace(self.env, self._tracer, name, context, fixture=fixture, preview=True,
                               base_url=self._render_base_url)
        except TemplateError as exc:
            return [Finding("render", "error", exc.message + (f" (sample data {fixture!r})" if fixture else ""),
                            name, exc.name or f"{name}.hbs", exc.lineno, exc.column)]
        except Exception as exc:  # a failure below the linter is reported for this email, not as a traceback
            return [Finding("render", "error", f"mailtpl could not render this email ({type(exc).__name__}: "
                            f"{exc})", name, f"{name}.hbs")]
        doc = Document(name, traced, self.clients, self.base_url, functools.cache(self._source))
        return [self._switched(finding) for finding in _check(doc)]

    def lint_email(self, email: RenderedEmail) -> Report:
        """:func:`lint_email` for this folder's clients, with its ``"*"`` switch-offs (and those for
        ``email.name``)."""
        report = lint_email(email, clients=self.clients)
        report.findings = [self._switched(finding) for finding in report.findings]
        return report

    def _source(self, file: str) -> str:
        return self.env.loader.read(file)

    def _switched(self, finding: Finding) -> Finding:
        for scope in (finding.email, "*"):
            reasons = self.ignore.get(scope, {})
            for rule in (finding.rule, finding.rule.partition(":")[0]):
                if rule in reasons:
                    return replace(finding, ignored=reasons[rule])
        return finding


def lint_email(email: RenderedEmail, *, clients: tuple[Client, ...] | None = None, placeholder_url: str = "",
               ) -> Report:
    """Findings for a finished email (caught mail, another tool's output), by the same rules and caniemail
    checks as templates. Without templates behind it, a finding names its element by a CSS selector
    (:attr:`Finding.selector`, also its ``location``), not a file:line. An ``email.html`` without a tag
    (no HTML part) is checked for its text part and subject only."""
    started = time.perf_counter()
    html = "<" in email.html and len(email.html) <= rules.MAX_HTML  # more characters: more bytes, not read
    doc = Document(email.name, finished(email, read=html), clients or tuple(parse_clients(DEFAULT_CLIENTS)),
                   placeholder_url, _no_templates)
    report = Report(email.name, sorted(_check(doc, html=html), key=order))
    report.seconds = time.perf_counter() - started
    return report


def _check(doc: Document, *, html: bool = True) -> list[Finding]:
    """Every rule's findings; the elements are read when there is ``html`` and not more than rules.MAX_HTML."""
    elements = html and doc.size <= rules.MAX_HTML
    return [*rules.check(doc, elements=elements), *(compat.check(doc) if elements else ())]


def _no_templates(file: str) -> str:
    raise LookupError(f"a finished email has no template {file!r}")


def _ignore_settings(ignore) -> dict[str, dict[str, str]]:
    """``lint.ignore`` checked: email or "*" -> rule id -> a non-empty reason."""
    if not isinstance(ignore, Mapping):
        raise DataError('"lint.ignore" must be an object of emails: {"verification": {"rule": "reason"}}',
                        name=CONFIG_FILE)
    checked: dict[str, dict[str, str]] = {}
    for email, reasons in ignore.items():
        if not isinstance(reasons, Mapping):
            raise DataError(f'"lint.ignore.{email}" must be an object: {{"rule-id": "why it is fine"}}',
                            name=CONFIG_FILE)
        for rule, reason in reasons.items():
            family, _, slug = rule.partition(":")
            known = rule in RULES if not slug else family == "caniemail" and slug in features()
            if not known:
                raise DataError(f'"lint.ignore.{email}": unknown rule {rule!r} (mailtpl lint --rules lists them)',
                                name=CONFIG_FILE)
            if not isinstance(reason, str) or not reason.strip():
                raise DataError(f'"lint.ignore.{email}.{rule}": give the reason the rule is off, as a string',
                                name=CONFIG_FILE)
        checked[email] = {rule: reason.strip() for rule, reason in reasons.items()}
    return checked
