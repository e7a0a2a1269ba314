"""Issue 6: mailtpl build / check and the pytest plugin."""
import json
import os
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


# -- issue 9: snapshots never leave their folder --------------------------------------------------------
def folder_state(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def with_manifest_entries(project: Path, *entries) -> Path:
    manifest = project / "previews" / ".mailtpl-snapshots"
    manifest.write_text(json.dumps(json.loads(manifest.read_text()) + list(entries)))
    return manifest


def test_manifest_traversal_deletes_nothing(project):
    important = project / "IMPORTANT.txt"
    important.write_text("keep me")
    with_manifest_entries(project, "../IMPORTANT.txt")
    before = folder_state(project / "previews")
    for command in ("build", "check"):
        result = CliRunner().invoke(main, [command])
        assert result.exit_code == 1
        assert ("error: previews/.mailtpl-snapshots lists '../IMPORTANT.txt', which contains a path separator; "
                "mailtpl only writes and removes plain file names inside previews/") in result.output
        assert "Traceback" not in result.output and "removed" not in result.output
    assert important.read_text() == "keep me"
    assert folder_state(project / "previews") == before  # refused before the first file was touched


@pytest.mark.parametrize("entry, reason", [
    ("..", "is not a file name"),
    ("/etc/hostname", "contains a path separator"),
    ("sub/../../IMPORTANT.txt", "contains a path separator"),
    ("..\\IMPORTANT.txt", "contains a path separator"),
    ("x\x00.html", "contains a control character"),
    ("x\x1b.html", "contains a control character"),
    (".git", "starts with a dot"),
    ("C:IMPORTANT.txt", "which Windows does not allow"),
    ("CON", "reserved device name"),
    ("nul.txt", "reserved device name"),
    ("x.html.", "ends with a space or dot"),
    ("x" * 300, "longer than 255 bytes"),
    (42, "is a int, not a file name"),
    (None, "is a NoneType, not a file name"),
])
def test_unsafe_manifest_entries_are_refused(project, entry, reason):
    important = project / "IMPORTANT.txt"
    important.write_text("keep me")
    with_manifest_entries(project, entry)
    before = folder_state(project / "previews")
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 1 and reason in result.output and "Traceback" not in result.output
    assert f"previews/.mailtpl-snapshots lists {entry!r}" in result.output
    assert folder_state(project / "previews") == before and important.read_text() == "keep me"


@pytest.mark.parametrize("content, message", [
    ("{not json", "previews/.mailtpl-snapshots is not a JSON list of file names"),
    ('{"a": 1}', "previews/.mailtpl-snapshots is not a JSON list of file names"),
])
def test_broken_manifest_is_one_clear_error(project, content, message):
    (project / "previews" / ".mailtpl-snapshots").write_text(content)
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_snapshot_symlinked_outside_is_not_written_through(project):
    important = project / "IMPORTANT.txt"
    important.write_text("keep me")
    snapshot = project / "previews" / "verification.default.html"
    snapshot.unlink()
    snapshot.symlink_to(important)
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 1
    assert "previews/verification.default.html is a symbolic link" in result.output
    assert important.read_text() == "keep me"


@pytest.mark.parametrize("fixture, reason", [
    ("../../x", "contains a path separator"),
    ("/tmp/x", "contains a path separator"),
    ("..", "is not a file name"),
    ("a\x00b", "contains a control character"),
    ("what?", "which Windows does not allow"),
])
def test_sample_data_set_names_that_leave_the_folder_are_refused(project, fixture, reason):
    path = project / "templates" / "verification.preview.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), fixture: {"code": "1"}}))
    before = folder_state(project / "previews")
    for command in ("build", "check"):
        result = CliRunner().invoke(main, [command])
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert f"verification.preview.json: sample-data set {fixture!r} cannot name a snapshot file" in result.output
        assert reason in result.output
    assert folder_state(project / "previews") == before
    assert sorted(p.name for p in project.iterdir()) == ["previews", "templates"]


def test_index_links_are_url_encoded(project):
    path = project / "templates" / "verification.preview.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "a&b #1": {"code": "1"}}))
    assert run("build").exit_code == 0
    index = (project / "previews" / "index.html").read_text()
    assert 'href="verification.a%26b%20%231.html"' in index
    assert (project / "previews" / "verification.a&b #1.html").exists()


def test_plugin_refuses_a_set_name_that_leaves_the_folder(plugin_project):
    plugin_project.makepyfile(test_escape="""
        def test_escape(mail_snapshot):
            mail_snapshot("verification", fixture="../../x")
    """)
    result = plugin_project.runpytest("-p", "mailtpl.pytest_plugin", "test_escape.py", "--mailtpl-update")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*sample-data set '../../x' cannot name a snapshot file*"])
    assert "Traceback" not in result.stdout.str()


def test_plugin_update_and_build_share_one_writer_and_manifest(plugin_project):
    previews = plugin_project.path / "previews"
    shutil.rmtree(previews)
    plugin_project.runpytest("-p", "mailtpl.pytest_plugin", "--mailtpl-update").assert_outcomes(passed=2)
    manifest = json.loads((previews / ".mailtpl-snapshots").read_text())
    assert manifest == ["invitation.long-address.html", "invitation.long-address.txt",
                        "verification.default.html", "verification.default.txt"]
    # the files the plugin wrote are mailtpl's: build removes the one no sample data renders any more
    fixtures = plugin_project.path / "templates" / "invitation.preview.json"
    fixtures.write_text(json.dumps({"default": json.loads(fixtures.read_text())["default"]}))
    (previews / "notes.md").write_text("not ours")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(plugin_project.path)
        built = run("build")
    assert built.exit_code == 0 and "removed   previews/invitation.long-address.html" in built.output
    assert (previews / "notes.md").exists()
    # a later update adds to the manifest that build wrote, in the same format, without dropping entries
    written = (previews / ".mailtpl-snapshots").read_text()
    plugin_project.makepyfile(test_mail="""
        def test_verification(mail_snapshot):
            mail_snapshot("verification")
    """)
    plugin_project.runpytest("-p", "mailtpl.pytest_plugin", "--mailtpl-update").assert_outcomes(passed=1)
    assert (previews / ".mailtpl-snapshots").read_text() == written


def test_a_folder_listed_in_the_manifest_is_refused_before_anything_is_written(project):
    (project / "previews" / "sub.html").mkdir()
    (project / "previews" / "sub.html" / "keep.txt").write_text("keep me")
    with_manifest_entries(project, "sub.html")
    template = project / "templates" / "verification.hbs"
    template.write_text(template.read_text().replace("Authentication Code", "Your Code"))
    before = folder_state(project / "previews")
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 1 and "previews/sub.html is a folder" in result.output
    assert "Traceback" not in result.output
    assert folder_state(project / "previews") == before and (project / "previews" / "sub.html" / "keep.txt").exists()


@pytest.mark.parametrize("files, message", [
    ({"verification.preview.json": {"default": {"code": "1"}, "Default": {"code": "2"}}},
     "verification.preview.json: sample-data set 'Default' and set 'default' of verification would both be "
     "verification.Default.html (names that differ only in case are one file on Windows and macOS)"),
    ({"a.b.hbs": "x", "a.b.preview.json": {"c": {}}, "a.hbs": "y", "a.preview.json": {"b.c": {}}},
     "a.b.preview.json: sample-data set 'c' and set 'b.c' of a would both be a.b.c.html; rename one"),
])
def test_two_sets_that_would_share_a_snapshot_file_are_refused(project, files, message):
    for name, content in files.items():
        (project / "templates" / name).write_text(content if isinstance(content, str) else json.dumps(content))
    before = folder_state(project / "previews")
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 1 and message in result.output
    assert folder_state(project / "previews") == before


# -- review: what else can stand where a snapshot belongs --------------------------------------------------
def test_a_fifo_where_a_snapshot_belongs_is_refused_not_read(project):
    """Reading a FIFO blocks until someone writes to it: check hung forever."""
    snapshot = project / "previews" / "verification.default.txt"
    snapshot.unlink()
    os.mkfifo(snapshot)
    proc = subprocess.run([sys.executable, "-m", "mailtpl", "check"], cwd=project, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "previews/verification.default.txt is not a regular file" in proc.stderr


def test_a_manifest_that_is_a_folder_is_one_clear_error(project):
    manifest = project / "previews" / ".mailtpl-snapshots"
    manifest.unlink()
    manifest.mkdir()
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "previews/.mailtpl-snapshots is not a regular file" in result.output


def test_a_snapshot_hard_linked_to_a_file_outside_is_replaced_not_written_through(project):
    important = project / "IMPORTANT.txt"
    important.write_text("keep me")
    snapshot = project / "previews" / "verification.default.html"
    snapshot.unlink()
    os.link(important, snapshot)
    template = project / "templates" / "verification.hbs"
    template.write_text(template.read_text().replace("Authentication Code", "Your Code"))
    assert run("build").exit_code == 0
    assert important.read_text() == "keep me"
    assert "Your Code" in snapshot.read_text() and snapshot.stat().st_nlink == 1


def test_set_names_that_differ_only_in_unicode_normalisation_are_refused(project):
    """macOS file systems treat "café" written with é and with e + U+0301 as one name."""
    path = project / "templates" / "verification.preview.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "caf\u00e9": {"code": "1"}, "cafe\u0301": {"code": "2"}}))
    before = folder_state(project / "previews")
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 1 and "would both be verification.cafe\u0301.html" in result.output
    assert folder_state(project / "previews") == before


def test_snapshots_are_written_with_the_umask_like_any_new_file(project):
    for path in (project / "previews").iterdir():
        path.unlink()
    assert run("build").exit_code == 0
    umask = os.umask(0o022)
    os.umask(umask)
    modes = {path.name: path.stat().st_mode & 0o777 for path in (project / "previews").iterdir()}
    assert set(modes.values()) == {0o666 & ~umask}, modes
    assert not [name for name in modes if name.endswith(".tmp")]


@pytest.mark.parametrize("entry", ["notes.md", "design.psd", "Makefile"])
def test_a_manifest_entry_that_no_snapshot_could_be_is_refused_and_kept(project, entry):
    """mailtpl writes only .html and .txt files: a committed manifest cannot make build delete anything else."""
    (project / "previews" / entry).write_text("keep me")
    with_manifest_entries(project, entry)
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"previews/.mailtpl-snapshots lists {entry!r}, which is not a snapshot file (.html or .txt)" in result.output
    assert (project / "previews" / entry).read_text() == "keep me"
