r"""pytest plugin (entry point ``pytest11``): compare emails with their snapshots.

    def test_verification(mail_snapshot):
        mail_snapshot("verification")                     # sample data "default"
        mail_snapshot("invitation", fixture="long-address")

Snapshots live in ``previews/`` (ini option ``mailtpl_previews``), templates in
``templates/`` (``mailtpl_templates``); both relative to the rootdir.
``pytest --mailtpl-update`` rewrites the snapshots instead of comparing.

    def test_sign_up_sends_the_code(mail_capture):
        sign_up("ada@example.com")                        # the code under test sends through SMTP_*
        mail = mail_capture.wait_for(to="ada@example.com", subject="User feedback Email Verification")
        assert mail.find(r"\b(\d{6})\b") and mail.headers["From"] == '"User feedback" <no-reply@x.org>'

``mail_capture`` starts a capture SMTP server on a free port of 127.0.0.1 for
the test and points SMTP_HOST, SMTP_PORT (and SMTP_TLS=false, SMTP_CA_FILE for
its STARTTLS certificate) at it; SMTP_SENDER and any login stay the test's.

    def test_lint(mail_lint):
        report = mail_lint("verification")               # every sample-data set; mailtpl.json's switch-offs
        assert "img-alt" not in report.rules()
        mail_lint.assert_clean("invitation")             # fails listing the errors and warnings
"""
from __future__ import annotations

from pathlib import Path

import pytest

from .snapshots import SnapshotError, build, compare, preview_environment, snapshot_files, snapshot_stem


def pytest_addoption(parser) -> None:
    group = parser.getgroup("mailtpl")
    group.addoption("--mailtpl-update", action="store_true", default=False,
                    help="rewrite email snapshots instead of comparing with them")
    parser.addini("mailtpl_templates", "folder of email templates", default="templates")
    parser.addini("mailtpl_previews", "folder of email snapshots", default="previews")


class MailSnapshot:
    def __init__(self, config) -> None:
        root = Path(config.rootpath)
        self.templates = root / config.getini("mailtpl_templates")
        self.previews = root / config.getini("mailtpl_previews")
        self.update = config.getoption("mailtpl_update")
        self._env = None

    @property
    def env(self):
        if self._env is None:
            self._env = preview_environment(self.templates)
        return self._env

    def __call__(self, name: str, fixture: str = "default") -> None:
        try:
            stem = snapshot_stem(name, fixture)
            files = snapshot_files(stem, self.env.render(name, fixture=fixture))
            if self.update:
                build(files, self.previews, complete=False)  # the writer of `mailtpl build`, manifest included
                return
            result = compare(files, self.previews)
        except SnapshotError as exc:
            pytest.fail(str(exc), pytrace=False)
        if result.missing:
            pytest.fail(f"no snapshot {', '.join(result.missing)} in {self.previews}: "
                        "run pytest --mailtpl-update (or mailtpl build) to create it", pytrace=False)
        if result.changed:
            pytest.fail("email differs from its snapshot (pytest --mailtpl-update accepts it):\n"
                        + "".join(result.changed.values()), pytrace=False)


class MailCapture:
    """The inbox of the test's capture server."""

    def __init__(self, server) -> None:
        self.server = server
        self.host, self.port = server.host, server.port

    @property
    def messages(self) -> list:
        """Caught messages (``mailtpl.capture.CapturedMessage``), oldest first."""
        return self.server.inbox.messages

    def wait_for(self, *, to: str | None = None, subject=None, timeout: float = 5.0):
        """The oldest message to ``to`` with subject ``subject`` (a string, or a compiled pattern to search),
        waiting up to ``timeout`` seconds; the test fails with what was caught instead."""
        return self.server.inbox.wait_for(to=to, subject=subject, timeout=timeout)

    def clear(self) -> None:
        self.server.inbox.clear()


@pytest.fixture
def mail_capture(monkeypatch):
    """A capture SMTP server for this test, with SMTP_HOST / SMTP_PORT pointing at it."""
    from .capture import CaptureServer

    with CaptureServer(port=0) as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        yield MailCapture(server)


@pytest.fixture
def mail_snapshot(request) -> MailSnapshot:
    """Render an email with one of its sample-data sets and compare it with its snapshot."""
    return MailSnapshot(request.config)


class MailLint:
    def __init__(self, config) -> None:
        self.templates = Path(config.rootpath) / config.getini("mailtpl_templates")
        self._linters: dict = {}

    def __call__(self, name: str, fixture: str | None = None, clients: list[str] | None = None):
        """The lint report of an email (``mailtpl.lint.Report``)."""
        from .lint import Linter

        key = (self.templates, tuple(clients or ()))
        if key not in self._linters:
            self._linters[key] = Linter(preview_environment(self.templates), clients)
        return self._linters[key].lint(name, fixture=fixture)

    def assert_clean(self, name: str, fixture: str | None = None, clients: list[str] | None = None) -> None:
        from .lint.report import text

        report = self(name, fixture, clients)
        if not report.clean:
            pytest.fail(f"mailtpl lint {name}:\n" + text([report]), pytrace=False)


@pytest.fixture
def mail_lint(request) -> MailLint:
    """Lint an email (``mail_lint(name)`` returns the report; ``mail_lint.assert_clean(name)``)."""
    return MailLint(request.config)
