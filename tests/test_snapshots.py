"""Issue 6: mailtpl build / check and the pytest plugin."""
import json
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailtpl.cli import main

ROOT = Path(__file__).resolve().parents[1]
pytest_plugins = ["pytester"]


@pytest.fixture
def project(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    shutil.copytree(ROOT / "previews", tmp_path / "previews")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ADMIN_WEB_URL", "https://this-machine.invalid")  # must not leak into snapshots
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_shipped_previews_are_up_to_date():
    proc = subprocess.run([sys.executable, "-m", "mailtpl", "check"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_clean_folder_checks_clean(project):
    result = run("check")
    assert result.exit_code == 0, result.output
    assert "13 snapshots in previews/ match" in result.output


def test_template_edit_fails_check_with_a_diff_then_build_accepts_it(project):
    template = project / "templates" / "verification.hbs"
    template.write_text(template.read_text().replace("Authentication Code", "Your Code"))
    result = run("check")
    assert result.exit_code == 1
    assert "--- previews/verification.default.html (snapshot)" in result.output
    assert "+++ previews/verification.default.html (rendered now)" in result.output
    snapshot = (project / "previews" / "verification.default.html").read_text().splitlines()
    line = next(i for i, text in enumerate(snapshot, 1) if "Authentication Code</h1>" in text)
    assert f"@@ -{line - 3},7 +{line - 3},7 @@" in result.output  # the hunk names the line
    assert '-            <h1 class="title"' in result.output and "Your Code</h1>" in result.output
    assert "verification.default.txt" not in result.output  # the text part has its own template
    built = run("build")
    assert built.exit_code == 0 and "updated   previews/verification.default.html" in built.output
    assert run("check").exit_code == 0


def test_removed_fixture_is_reported_stale_and_build_removes_it(project):
    fixtures = project / "templates" / "verification.preview.json"
    data = json.loads(fixtures.read_text())
    del data["leading-zeros"]
    fixtures.write_text(json.dumps(data))
    result = run("check")
    assert result.exit_code == 1
    assert "stale: previews/verification.leading-zeros.html" in result.output
    (project / "previews" / "notes.md").write_text("not ours")
    built = run("build")
    assert "removed   previews/verification.leading-zeros.txt" in built.output
    assert not (project / "previews" / "verification.leading-zeros.html").exists()
    assert (project / "previews" / "notes.md").exists()  # only owned files are removed
    assert run("check").exit_code == 0


def test_email_without_sample_data_is_reported(project):
    (project / "templates" / "welcome.hbs").write_text('{{#> layout}}<p class="text">hi</p>{{/layout}}\n')
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0
    assert "warning: welcome has no sample data (welcome.preview.json)" in result.stderr


def test_missing_snapshot_is_reported(project):
    (project / "previews" / "invitation.default.txt").unlink()
    result = run("check")
    assert result.exit_code == 1 and "missing: previews/invitation.default.txt" in result.output


def test_template_error_is_one_clear_line(project):
    (project / "templates" / "invitation.hbs").write_text("{{#> layout}}\n{{#if x}}\n{{/layout}}\n")
    result = run("check")
    assert result.exit_code == 1
    assert "error: invitation.hbs:3:1: {{#if}} (opened at 2:1) closed by {{/layout}}" in result.output
    assert "Traceback" not in result.output


def test_index_links_every_snapshot():
    index = (ROOT / "previews" / "index.html").read_text()
    for path in (ROOT / "previews").glob("*.*.*"):
        assert f'href="{path.name}"' in index


# -- pytest plugin ------------------------------------------------------------------------------------
def test_plugin_is_registered_as_pytest11_entry_point():
    assert "mailtpl.pytest_plugin" in {ep.value for ep in entry_points(group="pytest11")}


@pytest.fixture
def plugin_project(pytester, monkeypatch):
    shutil.copytree(ROOT / "templates", pytester.path / "templates")
    shutil.copytree(ROOT / "previews", pytester.path / "previews")
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(test_mail="""
        def test_verification(mail_snapshot):
            mail_snapshot("verification")

        def test_invitation_long(mail_snapshot):
            mail_snapshot("invitation", fixture="long-address")
    """)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    return pytester


def test_plugin_passes_on_matching_snapshots(plugin_project):
    result = plugin_project.runpytest("-p", "mailtpl.pytest_plugin")
    result.assert_outcomes(passed=2)


def test_plugin_fails_with_diff_then_updates(plugin_project):
    template = plugin_project.path / "templates" / "verification.hbs"
    template.write_text(template.read_text().replace("Enter this code", "Type this code"))
    result = plugin_project.runpytest("-p", "mailtpl.pytest_plugin")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*email differs from its snapshot*", "*-*Enter this code*", "*+*Type this code*"])
    updated = plugin_project.runpytest("-p", "mailtpl.pytest_plugin", "--mailtpl-update")
    updated.assert_outcomes(passed=2)
    assert "Type this code" in (plugin_project.path / "previews" / "verification.default.html").read_text()
    plugin_project.runpytest("-p", "mailtpl.pytest_plugin").assert_outcomes(passed=2)
