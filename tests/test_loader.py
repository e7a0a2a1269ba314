"""Issue 10: the templates folder's conventions live in FileSystemLoader; Environment.render is the one place
that decides {{baseUrl}} (render's base_url, Environment(base_url=), ADMIN_WEB_URL from the environment or .env,
preview_base_url for sample data and previews)."""
import json
import shutil
from pathlib import Path

import pytest

from mailtpl import DataError, Environment, FileSystemLoader, TemplateNotFound, UndefinedError
from mailtpl.lint import Linter
from mailtpl.loader import Changes
from mailtpl.snapshots import preview_environment

ROOT = Path(__file__).resolve().parents[1]
LOGO = 'src="{}/assets/logo.png"'
PREVIEW_BASE = "https://feedback.example.com"  # the shipped mailtpl.json's preview_base_url


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A copy of the shipped templates, no ADMIN_WEB_URL, and a working directory without a .env."""
    monkeypatch.delenv("ADMIN_WEB_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "templates", tmp_path / "t")
    return tmp_path / "t"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- the folder's conventions ---------------------------------------------------------------------------------
def test_loader_knows_which_file_is_what(folder):
    write(folder / "layouts" / "mail" / "wide.hbs", "wide")
    loader = FileSystemLoader(folder)
    assert loader.names() == ["invitation", "resetPassword", "verification"]
    assert loader.email("verification").file == "verification.hbs"
    assert loader.text("verification").file == "verification.txt.hbs" and loader.text("invitation") is None
    assert loader.partial("footer").file == "partials/footer.hbs"
    assert loader.partial("mail/wide").text == "wide" and loader.partial("nope") is None
    subject = loader.subject("invitation")
    assert (subject.text, subject.file) == ("User Feedback Invitation", "mailtpl.json: subject of invitation")
    assert sorted(p.name for p in loader.files()) == sorted(
        ["invitation.hbs", "invitation.preview.json", "mailtpl.json", "resetPassword.hbs",
         "resetPassword.preview.json", "verification.hbs", "verification.preview.json", "verification.txt.hbs",
         "button.hbs", "footer.hbs", "layout.hbs", "wide.hbs"])
    assert loader.watches(folder / "x.hbs") and loader.watches("mailtpl.json") and not loader.watches("logo.png")
    assert loader.preview_base_url == PREVIEW_BASE and loader.setting("nope") is None
    with pytest.raises(TemplateNotFound, match="available: invitation, resetPassword, verification"):
        loader.email("verifcation")


def test_subjects_come_from_mailtpl_json_else_defaults_else_the_name(folder):
    write(folder / "mailtpl.json", json.dumps({"subjects": {"verification": "Code {{code}}"}}))
    write(folder / "welcome.hbs", "hi")
    loader = FileSystemLoader(folder)
    assert [loader.subject(n).text for n in ("verification", "invitation", "welcome")] == [
        "Code {{code}}", "User Feedback Invitation", "welcome"]
    assert loader.preview_base_url == PREVIEW_BASE  # the default when mailtpl.json does not set one


def test_a_partial_defined_twice_is_an_error_naming_both_files(folder):
    write(folder / "layouts" / "footer.hbs", "again")
    with pytest.raises(Exception, match="partials/footer.hbs and layouts/footer.hbs both define the partial"):
        FileSystemLoader(folder)


def test_loader_lists_files_left_behind_by_a_rename(folder):
    (folder / "verification.hbs").rename(folder / "code.hbs")
    notes = FileSystemLoader(folder).orphans()
    assert any(n.startswith("verification.preview.json belongs to no email") for n in notes)
    assert any(n.startswith("verification.txt.hbs belongs to no email") for n in notes)
    assert 'mailtpl.json has a subject for "verification", which is not an email here (renamed?)' in notes


def test_loader_reads_only_the_files_emails_are_made_of(folder):
    write(folder.parent / "secret.txt", "no")
    write(folder / "notes.hbs.bak", "no")
    loader = FileSystemLoader(folder)
    assert "{{> footer}}" in loader.read("layouts/layout.hbs")
    for other in ("../secret.txt", "notes.hbs.bak", "assets/logo.png", "/etc/passwd"):
        with pytest.raises(TemplateNotFound):
            loader.read(other)


def test_a_file_that_is_not_utf8_names_itself(folder):
    (folder / "partials" / "footer.hbs").write_bytes(b"caf\xe9")
    with pytest.raises(DataError, match="not UTF-8 text") as info:
        Environment(folder, base_url="https://x.io").render("verification", fixture="default")
    assert info.value.name == "partials/footer.hbs"


# -- Environment over a loader ---------------------------------------------------------------------------------
def test_environment_takes_a_loader_or_a_path(folder):
    loader = FileSystemLoader(folder)
    by_loader = Environment(loader=loader, base_url="https://x.io")
    by_path = Environment(folder, base_url="https://x.io")
    assert by_loader.loader is loader and isinstance(by_path.loader, FileSystemLoader)
    assert by_loader.render("invitation", fixture="default") == by_path.render("invitation", fixture="default")
    with pytest.raises(TemplateNotFound, match="templates folder"):
        Environment(folder / "missing")


def test_compiled_is_a_public_type(folder):
    from mailtpl.environment import CompiledEmail

    compiled = Environment(folder, base_url="https://x.io").compiled("verification")
    assert isinstance(compiled, CompiledEmail) and compiled.text is not None and "layout" in compiled.partials


def test_a_changed_sample_file_renders_again_without_recompiling(folder):
    env = Environment(folder, base_url="https://x.io")
    compiled = env.compiled("verification")
    path = folder / "verification.preview.json"
    path.write_text(json.dumps({"default": {"code": "777111"}}))
    assert env.invalidate([path]) == {"verification"}
    assert env.compiled("verification") is compiled
    assert "777111" in env.render("verification", fixture="default").html


def test_loader_changes_say_what_each_file_is(folder):
    loader = FileSystemLoader(folder)
    changes = loader.changed([folder / "partials" / "footer.hbs", folder / "invitation.preview.json",
                              folder / "verification.txt.hbs"])
    assert changes == Changes(False, frozenset({"verification"}), frozenset({"footer"}), frozenset({"invitation"}))
    write(folder / "welcome.hbs", "hi")
    assert loader.changed([folder / "welcome.hbs"]).rescanned and "welcome" in loader.names()
    assert loader.changed([folder / "mailtpl.json"]).rescanned


def test_saving_sample_data_is_the_loaders_job_and_the_environment_sees_it(folder):
    env = Environment(folder, base_url="https://x.io")
    path = env.loader.save_fixture("invitation", "wide", {"link": "https://x.io/" + "a" * 80})
    assert path == folder / "invitation.preview.json"
    assert list(env.loader.fixtures("invitation")) == ["default", "long-address", "wide"]
    assert "a" * 80 in env.render("invitation", fixture="wide").html
    fresh = FileSystemLoader(folder)  # what another process reads back
    assert fresh.fixture("invitation", "wide") == {"link": "https://x.io/" + "a" * 80}
    with pytest.raises(TemplateNotFound, match="available: default, long-address, wide"):
        fresh.fixture("invitation", "short")


# -- {{baseUrl}}: one place ---------------------------------------------------------------------------------------
def test_base_url_order_data_then_render_then_environment_then_admin_web_url(folder, monkeypatch):
    monkeypatch.setenv("ADMIN_WEB_URL", "https://admin.example/")
    data = {"code": "1"}
    assert LOGO.format("https://admin.example") in Environment(folder).render("verification", data).html
    env = Environment(folder, base_url="https://env.example")
    assert LOGO.format("https://env.example") in env.render("verification", data).html
    called = env.render("verification", data, base_url="https://call.example/")
    assert LOGO.format("https://call.example") in called.html
    given = env.render("verification", {**data, "baseUrl": "https://data.example"}, base_url="https://call.example")
    assert LOGO.format("https://data.example") in given.html


def test_without_an_address_sample_data_and_previews_use_preview_base_url_and_sending_fails(folder):
    env = Environment(folder)
    assert LOGO.format(PREVIEW_BASE) in env.render("verification", fixture="default").html
    assert LOGO.format(PREVIEW_BASE) in env.render("verification", {"code": "1"}, preview=True).html
    with pytest.raises(UndefinedError, match="set ADMIN_WEB_URL"):
        env.render("verification", {"code": "1"})
    assert env.admin_url() is None


def test_admin_web_url_is_read_from_dot_env_below_the_process_environment(folder, monkeypatch):
    write(Path(".env"), "SMTP_HOST=localhost\nADMIN_WEB_URL=https://dotenv.example\n")
    assert LOGO.format("https://dotenv.example") in Environment(folder).render("verification", {"code": "1"}).html
    other = write(folder.parent / "prod.env", "ADMIN_WEB_URL=https://prod.example\n")
    env = Environment(folder, dotenv=other)
    assert env.admin_url() == "https://prod.example"
    assert Environment(folder, dotenv=None).admin_url() is None
    monkeypatch.setenv("ADMIN_WEB_URL", "https://process.example")
    assert env.admin_url() == "https://process.example"


def test_a_dot_env_that_is_not_text_is_an_error_naming_it(folder):
    Path(".env").write_bytes(b"ADMIN_WEB_URL=https://a\xff.example\n")
    with pytest.raises(DataError, match=r"^\.env: not UTF-8 text .*ADMIN_WEB_URL"):
        Environment(folder)
    assert Environment(folder, dotenv=None).admin_url() is None


def test_snapshot_environment_uses_preview_base_url_whatever_the_machine_says(folder, monkeypatch):
    monkeypatch.setenv("ADMIN_WEB_URL", "https://this-machine.invalid")
    write(folder / "mailtpl.json", json.dumps({"preview_base_url": "https://snap.example"}))
    env = preview_environment(folder)
    assert env.base_url == "https://snap.example"
    assert LOGO.format("https://snap.example") in env.render("verification", fixture="default").html


def test_linter_renders_with_the_base_url_it_is_given(folder):
    env = Environment(folder)
    report = Linter(env, base_url="http://127.0.0.1:9").lint("verification", fixture="default")
    assert not {"img-local", "img-http"} & report.rules()  # rendered with it, so it stands for {{baseUrl}}
    flagged = Linter(Environment(folder, base_url="http://127.0.0.1:9")).lint("verification", fixture="default")
    assert {"img-local", "img-http"} & flagged.rules()  # the same address, not known to stand for it
