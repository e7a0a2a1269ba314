"""pytest plugin (entry point ``pytest11``): compare emails with their snapshots.

    def test_verification(mail_snapshot):
        mail_snapshot("verification")                     # sample data "default"
        mail_snapshot("invitation", fixture="long-address")

Snapshots live in ``previews/`` (ini option ``mailtpl_previews``), templates in
``templates/`` (``mailtpl_templates``); both relative to the rootdir.
``pytest --mailtpl-update`` rewrites the snapshots instead of comparing.
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


@pytest.fixture
def mail_snapshot(request) -> MailSnapshot:
    """Render an email with one of its sample-data sets and compare it with its snapshot."""
    return MailSnapshot(request.config)
