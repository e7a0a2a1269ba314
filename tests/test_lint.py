"""Issue 14: mailtpl lint - a test per rule on small constructed emails (present, then absent once fixed),
template places through partials and loops, switch-offs, clients, output formats, the CLI and the fixture."""
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailtpl import Environment
from mailtpl.cli import main
from mailtpl.errors import DataError
from mailtpl.lint import RULES, Linter
from mailtpl.lint.data import DEFAULT_CLIENTS, parse_clients
from mailtpl.lint.trace import trace, traced_environment, unmarked
from mailtpl.snapshots import preview_environment

ROOT = Path(__file__).resolve().parents[1]
BOOTSTRAP = ROOT / "tests" / "fixtures" / "lint_bootstrap"
CLEAN = """<!DOCTYPE html>
<html lang="en">
<head><title>Hello</title></head>
<body>
<div style="display:none">A short summary for the inbox</div>
<table role="presentation"><tr><td>
<h1>Hello</h1>
<p>Read <a href="https://abc.io/x">the news</a>.</p>
<img src="https://abc.io/logo.png" alt="Logo" width="120" height="40">
</td></tr></table>
</body>
</html>
"""


def folder(tmp_path, html=CLEAN, *, name="mail", data=None, config=None, text=None, files=None) -> Path:
    root = tmp_path / "templates"
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{name}.hbs").write_text(html, encoding="utf-8")
    (root / f"{name}.preview.json").write_text(json.dumps({"default": data or {}}), encoding="utf-8")
    settings = {"preview_base_url": "https://feedback.example.com", **(config or {})}
    (root / "mailtpl.json").write_text(json.dumps(settings), encoding="utf-8")
    if text is not None:
        (root / f"{name}.txt.hbs").write_text(text, encoding="utf-8")
    for path, content in (files or {}).items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(content, encoding="utf-8")
    return root


def lint(tmp_path, html=CLEAN, *, clients=None, **kwargs):
    root = folder(tmp_path, html, **kwargs)
    return Linter(preview_environment(root), clients).lint("mail")


def own_rules(report) -> set[str]:
    return {rule for rule in report.rules() if not rule.startswith("caniemail:")}


def test_clean_email_has_no_finding_of_the_own_rules(tmp_path):
    assert own_rules(lint(tmp_path)) == set()


CASES = [  # rule, change to the clean email (old, new)
    ("img-alt", ('alt="Logo" ', "")),
    ("img-http", ("https://abc.io/logo.png", "http://abc.io/logo.png")),
    ("img-dimensions", (' height="40"', "")),
    ("img-dimensions", ('height="40"', 'height="auto"')),
    ("img-local", ("https://abc.io/logo.png", "http://localhost:8000/logo.png")),
    ("img-local", ("https://abc.io/logo.png", "https://cdn.example.com/logo.png")),
    ("img-local", ("https://abc.io/logo.png", "https://10.0.0.7/logo.png")),
    ("link-empty", ('<a href="https://abc.io/x">', "<a>")),
    ("link-empty", ('href="https://abc.io/x"', 'href=" "')),
    ("link-hash", ("https://abc.io/x", "#")),
    ("link-javascript", ("https://abc.io/x", "javascript:alert(1)")),
    ("link-javascript", ("https://abc.io/x", "  JavaScript:alert(1)")),
    ("link-http", ("https://abc.io/x", "http://abc.io/x")),
    ("link-local", ("https://abc.io/x", "http://127.0.0.1:5000/x")),
    ("link-local", ("https://abc.io/x", "https://intranet.local/x")),
    ("html-lang", ('<html lang="en">', "<html>")),
    ("table-role", ('<table role="presentation">', "<table>")),
    ("title", ("<title>Hello</title>", "")),
    ("heading-order", ("<p>Read", "<h3>Later</h3><p>Read")),
    ("contrast", ("<p>Read", '<p style="color:#aaaaaa">Read')),
    ("contrast", ('<td>', '<td style="background-color:#1f2937">')),
    ("preheader", ('<div style="display:none">A short summary for the inbox</div>', "")),
]


@pytest.mark.parametrize("rule, change", CASES, ids=[f"{rule}-{i}" for i, (rule, _) in enumerate(CASES)])
def test_rule_finds_the_problem_and_not_the_fixed_email(tmp_path, rule, change):
    old, new = change
    assert old in CLEAN
    broken = lint(tmp_path / "broken", CLEAN.replace(old, new))
    assert rule in own_rules(broken)
    related = {"img-local": {"img-http"}, "link-local": {"link-http"}}.get(rule, set())
    assert own_rules(broken) <= {rule, *related}  # nothing unrelated
    finding = next(f for f in broken.active if f.rule == rule)
    assert finding.severity == ("error" if rule in ("img-alt", "img-local", "link-empty", "link-javascript",
                                                    "link-local") else "warning")
    assert rule not in own_rules(lint(tmp_path / "fixed", CLEAN))


def test_contrast_passes_dark_text_and_large_text_needs_3_to_1(tmp_path):
    assert "contrast" not in own_rules(lint(tmp_path / "a", CLEAN.replace("<p>Read", '<p style="color:#555555">Read')))
    large = '<p style="color:#888888; font-size:24px">Read'  # 3.5:1 on white: fails normal, passes large
    assert "contrast" not in own_rules(lint(tmp_path / "b", CLEAN.replace("<p>Read", large)))
    normal = '<p style="color:#888888">Read'
    report = lint(tmp_path / "c", CLEAN.replace("<p>Read", normal))
    assert "3.54:1 (#888888 on #ffffff)" in next(f.message for f in report.active if f.rule == "contrast")


def test_gmail_clip_warns_over_90_kb_and_errs_over_102_kb(tmp_path):
    def padded(kb):
        return CLEAN.replace("<p>Read", "<p>" + "x" * (kb * 1024) + "</p><p>Read")
    warned = lint(tmp_path / "a", padded(92))
    assert [f.severity for f in warned.active if f.rule == "gmail-clip"] == ["warning"]
    clipped = lint(tmp_path / "b", padded(103))
    assert [f.severity for f in clipped.active if f.rule == "gmail-clip"] == ["error"]
    assert "gmail-clip" not in own_rules(lint(tmp_path / "c", padded(80)))


def test_text_part_missing(tmp_path):
    assert "text-part" in own_rules(lint(tmp_path / "a", text="  \n"))
    assert "text-part" not in own_rules(lint(tmp_path / "b", text="Hello\n"))


def test_subject_over_78_characters(tmp_path):
    long = {"subjects": {"mail": "x" * 79}}
    finding = next(f for f in lint(tmp_path / "a", config=long).active if f.rule == "subject-length")
    assert finding.file == "mailtpl.json" and "79 characters" in finding.message
    assert "subject-length" not in own_rules(lint(tmp_path / "b", config={"subjects": {"mail": "x" * 78}}))


def test_addresses_under_preview_base_url_stand_for_base_url(tmp_path):
    html = CLEAN.replace("https://abc.io/x", "{{baseUrl}}/x").replace("https://abc.io/logo.png", "{{baseUrl}}/l.png")
    assert own_rules(lint(tmp_path / "a", html)) == set()
    data = {"link": "https://other.example.com/x"}  # sample data outside preview_base_url is flagged
    report = lint(tmp_path / "b", CLEAN.replace("https://abc.io/x", "{{link}}"), data=data)
    assert own_rules(report) == {"link-local"}


def test_render_errors_are_findings_with_the_template_place(tmp_path):
    report = lint(tmp_path, CLEAN.replace("Hello</h1>", "{{missing}}</h1>"))
    finding = next(f for f in report.active if f.rule == "render")
    assert (finding.severity, finding.file, finding.line) == ("error", "mail.hbs", 7)


def test_rules_have_ids_and_descriptions():
    rules = {rule for rule, *_ in CASES} | {"gmail-clip", "text-part", "subject-length", "render", "caniemail", "css-depth"}
    assert rules == set(RULES)


# -- compatibility (caniemail) -------------------------------------------------------------------------------
def compat(report) -> dict:
    return {f.rule.removeprefix("caniemail:"): f for f in report.active if f.rule.startswith("caniemail:")}


def test_svg_image_is_reported_with_outlook_and_the_template_line(tmp_path):
    report = lint(tmp_path, CLEAN.replace("logo.png", "logo.svg"))
    svg = compat(report)["image-svg"]
    assert (svg.severity, svg.file, svg.line, svg.column) == ("warning", "mail.hbs", 9, 1)
    clients = {g.client: g for g in svg.clients}
    assert clients["Outlook 2016-2021 (Windows)"].support == "unsupported"
    assert clients["Outlook 2016-2021 (Windows)"].versions == ("2016",)
    assert clients["Gmail (Desktop Webmail)"].support == "unsupported"
    assert clients["Gmail (iOS)"].notes == ("#1 Partially supported. Only works with non Google accounts.",)
    assert svg.url == "https://www.caniemail.com/features/image-svg/"
    assert "image-svg" not in compat(lint(tmp_path / "png", CLEAN))


STYLE = """<style>
.a { color: #111111; }
@media (prefers-color-scheme: dark) {
  .dark:not(.x) { color: #eeeeee !important; }
}
@media screen and (max-width: 600px) {
  .w > td { width: 100% !important; }
  .b:hover { display: flex !important; }
}
</style>"""


def test_style_rules_left_by_inlining_are_checked_at_their_template_lines(tmp_path):
    html = CLEAN.replace("</head>", STYLE + "</head>").replace("<h1>", '<h1 class="a dark">')
    found = compat(lint(tmp_path, html))
    lines = {slug: found[slug].line for slug in ("css-at-media-prefers-color-scheme", "css-pseudo-class-not",
                                                 "css-selector-child", "css-pseudo-class-hover", "css-display-flex")}
    assert lines == {"css-at-media-prefers-color-scheme": 5, "css-pseudo-class-not": 6, "css-selector-child": 9,
                     "css-pseudo-class-hover": 10, "css-display-flex": 10}  # <style> starts on line 3
    assert all(found[slug].file == "mail.hbs" for slug in lines)


def test_elements_are_placed_in_their_partial_and_loop(tmp_path):
    layout = "<!DOCTYPE html>\n<html lang=\"en\"><head><title>x</title></head>\n<body>\n{{> @partial-block}}\n</body></html>\n"
    item = "<p>item</p>\n  <img src=\"https://abc.io/{{this}}.webp\" alt=\"\">\n"
    html = "{{#> layout}}\n<div>\n{{#each items}}{{> item}}{{/each}}\n</div>\n{{/layout}}\n"
    report = lint(tmp_path, html, data={"items": ["a", "b"]},
                  files={"layouts/layout.hbs": layout, "partials/item.hbs": item})
    webp = [f for f in report.findings if f.rule == "caniemail:image-webp"]
    assert [(f.file, f.line, f.column) for f in webp] == [("partials/item.hbs", 2, 3)] * 2  # a.webp, b.webp
    assert next(f for f in report.findings if f.rule == "preheader").file == "layouts/layout.hbs"
    dims = [f for f in report.findings if f.rule == "img-dimensions"]
    assert [f.element for f in dims] == [("img", 0), ("img", 1)]


def test_traced_html_without_markers_is_the_rendered_html():
    """The template places come from a second render with markers: it must be the same email."""
    for templates in (ROOT / "templates", BOOTSTRAP):
        env = preview_environment(templates)
        tracer = traced_environment(env)
        for name in env.names():
            for fixture in env.loader.fixtures(name):
                marked = tracer.render(name, fixture=fixture).html
                assert "data-mtpl-src" in marked
                assert unmarked(marked) == env.render(name, fixture=fixture).html
                assert trace(env, tracer, name, fixture=fixture).rendered.html == unmarked(marked)


def test_the_traced_render_has_the_environments_compile_and_access_options(tmp_path):
    (tmp_path / "e.hbs").write_text("<html><body><p>{{#with a}}{{top}}{{/with}} {{user.name}}</p></body></html>")

    class User:
        @property
        def name(self):
            return "Ada"

    data = {"a": {}, "top": "X", "user": User()}
    env = Environment(tmp_path, strict=False, compat=True, allow_proto_properties_by_default=True)
    rendered = env.render("e", data).html
    assert "X Ada" in rendered  # what the options change
    assert unmarked(traced_environment(env).render("e", data).html) == rendered



def test_lint_checks_the_email_the_environment_renders_with_its_dotenv_admin_web_url(tmp_path, monkeypatch):
    """{{baseUrl}} from the .env file's ADMIN_WEB_URL is the real address: the traced render is the email as
    sent, whose http links are flagged (only preview_base_url and Linter(base_url=...) are stand-ins)."""
    monkeypatch.delenv("ADMIN_WEB_URL", raising=False)
    html = CLEAN.replace("https://abc.io/x", "{{baseUrl}}/x")
    root = folder(tmp_path, html)
    dotenv = tmp_path / "cfg" / "env"
    dotenv.parent.mkdir()
    dotenv.write_text("ADMIN_WEB_URL=http://admin.abc.io\n", encoding="utf-8")
    env = Environment(root, dotenv=dotenv)
    rendered = env.render("mail", fixture="default", preview=True).html
    assert 'href="http://admin.abc.io/x"' in rendered
    assert unmarked(traced_environment(env).render("mail", fixture="default", preview=True).html) == rendered
    report = Linter(env).lint("mail")
    assert own_rules(report) == {"link-http"}
    assert [f.message for f in report.active if f.rule == "link-http"] == [
        'link "the news" uses http: http://admin.abc.io/x']
    assert own_rules(Linter(env, base_url="https://feedback.example.com").lint("mail")) == set()


def test_clients_option_narrows_the_findings(tmp_path):
    html = CLEAN.replace("logo.png", "logo.svg")
    only_apple = lint(tmp_path / "a", html, clients=["apple-mail"])
    assert "image-svg" not in compat(only_apple)
    gmail = compat(lint(tmp_path / "b", html, clients=["gmail.desktop-webmail"]))["image-svg"]
    assert [g.client for g in gmail.clients] == ["Gmail (Desktop Webmail)"]
    from_config = lint(tmp_path / "c", html, config={"lint": {"clients": ["apple-mail.ios"]}})
    assert "image-svg" not in compat(from_config)


def test_client_selectors():
    assert [c.id for c in parse_clients(["outlook.windows@2016..2021", "apple-mail"])] == [
        "outlook.windows@2016..2021", "apple-mail.ios", "apple-mail.macos"]
    default = {c.id for c in parse_clients(DEFAULT_CLIENTS)}
    assert {"gmail.desktop-webmail", "gmail.ios", "gmail.android", "outlook.outlook-com", "apple-mail.macos",
            "apple-mail.ios", "yahoo.desktop-webmail", "samsung-email.android"} <= default
    for bad, message in (("hotmail", "unknown email client 'hotmail'"), ("gmail.windows", "no platform 'windows'"),
                         ("outlook.windows@20x", "give a version or a range")):
        with pytest.raises(ValueError, match=message):
            parse_clients([bad])


# -- switching rules off in mailtpl.json ---------------------------------------------------------------------
def test_switch_off_per_email_with_a_reason(tmp_path):
    html = CLEAN.replace('<html lang="en">', "<html>").replace("logo.png", "logo.svg")
    config = {"lint": {"ignore": {"mail": {"html-lang": "the audience is multilingual"},
                                  "*": {"caniemail:image-svg": "the SVG has a PNG fallback", "caniemail": "x"}}}}
    report = lint(tmp_path / "a", html, config=config)
    off = {f.rule: f.ignored for f in report.findings if f.ignored}
    assert off["html-lang"] == "the audience is multilingual"
    assert off["caniemail:image-svg"] == "the SVG has a PNG fallback"
    assert own_rules(report) == set() and report.clean
    other = lint(tmp_path / "b", html, config={"lint": {"ignore": {"other": {"html-lang": "not this email"}}}})
    assert "html-lang" in own_rules(other)


@pytest.mark.parametrize("clients", ["gmail", [1], {"gmail": True}])
def test_configured_clients_must_be_a_list_of_names(tmp_path, clients):
    root = folder(tmp_path, config={"lint": {"clients": clients}})
    with pytest.raises(DataError, match='"lint.clients" must be a list'):
        Linter(preview_environment(root))


@pytest.mark.parametrize("ignore, message", [
    ({"mail": {"html-lang": ""}}, "give the reason"),
    ({"mail": {"html-lang": True}}, "give the reason"),
    ({"mail": {"img-alts": "typo"}}, "unknown rule 'img-alts'"),
    ({"mail": {"caniemail:css-nope": "x"}}, "unknown rule 'caniemail:css-nope'"),
    ({"mail": ["html-lang"]}, "must be an object"),
])
def test_switch_offs_need_a_known_rule_and_a_reason(tmp_path, ignore, message):
    root = folder(tmp_path, config={"lint": {"ignore": ignore}})
    with pytest.raises(DataError, match=message):
        Linter(preview_environment(root))


# -- the shipped templates and the Bootstrap-Email-style fixture ---------------------------------------------
def test_shipped_templates_lint_clean_or_explained():
    env = preview_environment(ROOT / "templates")
    linter = Linter(env)
    for name in env.names():
        report = linter.lint(name)
        assert report.clean, [(f.location, f.rule) for f in report.active if f.severity != "info"]
        assert all(f.ignored.strip() for f in report.findings if f.ignored is not None)
        assert not report.errors


def test_bootstrap_email_fixture_reports_the_svg_logo_and_the_missing_lang():
    report = Linter(preview_environment(BOOTSTRAP)).lint("verification")
    by_rule = {f.rule: f for f in report.active}
    assert by_rule["caniemail:image-svg"].line == 11
    assert by_rule["html-lang"].line == 2
    assert by_rule["img-alt"].line == 11 and by_rule["img-alt"].severity == "error"
    assert by_rule["caniemail:css-pseudo-class-not"].line == 6
    assert by_rule["caniemail:css-at-media"].line == 6


# -- command line and pytest plugin --------------------------------------------------------------------------
def test_cli_lint_text_json_github_and_exit_codes(tmp_path):
    runner = CliRunner()
    clean = runner.invoke(main, ["lint", "--templates", str(ROOT / "templates")])
    assert clean.exit_code == 0, clean.output
    assert re.search(r"3 emails: 0 errors, 0 warnings, \d+ notes .*, 37 switched off", clean.output)
    failing = runner.invoke(main, ["lint", "--templates", str(BOOTSTRAP)])
    assert failing.exit_code == 1
    assert "verification.hbs:11:1: error [img-alt]" in failing.output
    data = json.loads(runner.invoke(main, ["lint", "--templates", str(BOOTSTRAP), "--format", "json"]).output)
    rules = {f["rule"] for f in data["emails"][0]["findings"]}
    assert {"caniemail:image-svg", "html-lang", "img-alt"} <= rules
    github = runner.invoke(main, ["lint", "--templates", str(BOOTSTRAP), "--format", "github",
                                  "--clients", "outlook.windows@2016"])
    lines = github.stdout.splitlines()
    svg = next(line for line in lines if "image-svg" in line)
    assert svg.startswith(f"::warning file={BOOTSTRAP.as_posix()}/verification.hbs,line=11,col=1,"
                          "title=mailtpl lint caniemail%3Aimage-svg::SVG image format")
    assert "%0AOutlook 2016 (Windows): not supported" in svg
    assert any(line.startswith("::error ") and "img-alt" in line for line in lines)
    unknown = runner.invoke(main, ["lint", "--templates", str(BOOTSTRAP), "--clients", "hotmail"])
    assert unknown.exit_code == 1 and "unknown email client 'hotmail'" in unknown.output
    assert "img-alt" in runner.invoke(main, ["lint", "--rules"]).output


def test_cli_check_lint_fails_on_lint_errors(tmp_path):
    root = tmp_path / "templates"
    shutil.copytree(BOOTSTRAP, root)
    runner = CliRunner()
    assert runner.invoke(main, ["build", "--templates", str(root), "--out", str(tmp_path / "p")]).exit_code == 0
    assert runner.invoke(main, ["check", "--templates", str(root), "--out", str(tmp_path / "p")]).exit_code == 0
    result = runner.invoke(main, ["check", "--lint", "--templates", str(root), "--out", str(tmp_path / "p")])
    assert result.exit_code == 1 and "error [img-alt]" in result.output
    shipped = runner.invoke(main, ["check", "--lint", "--templates", str(ROOT / "templates"),
                                   "--out", str(ROOT / "previews")])
    assert shipped.exit_code == 0, shipped.output


pytest_plugins = ["pytester"]


def test_mail_lint_fixture(pytester, monkeypatch):
    shutil.copytree(ROOT / "templates", pytester.path / "templates")
    shutil.copytree(BOOTSTRAP, pytester.path / "bootstrap")
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(test_mail="""
        def test_shipped(mail_lint):
            report = mail_lint("verification")
            assert report.clean and "img-alt" not in report.rules()
            mail_lint.assert_clean("invitation")

        def test_bootstrap(mail_lint, pytestconfig):
            mail_lint.templates = pytestconfig.rootpath / "bootstrap"
            assert "caniemail:image-svg" in mail_lint("verification").rules()
            mail_lint.assert_clean("verification")
    """)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = pytester.runpytest("-p", "mailtpl.pytest_plugin")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*mailtpl lint verification:*", "*error ?img-alt? <img src=*logo.svg*"])


def test_hostile_templates_and_data_give_findings_not_tracebacks(tmp_path):
    root = folder(tmp_path, "{{{html}}}", data={"html": '<img data-mtpl-src="99999" src="x.svg"><a href="#">x</a>'})
    (root / "empty.hbs").write_text("", encoding="utf-8")
    env = preview_environment(root)
    report = Linter(env).lint("mail")
    fake = next(f for f in report.active if f.rule == "img-alt")
    assert (fake.file, fake.line) == ("mail.hbs", None)  # written by the data: no template line to name
    empty = Linter(env).lint("empty")  # an empty email renders (issue 9): findings about what it lacks
    assert "render" not in {f.rule for f in empty.findings} and "text-part" in {f.rule for f in empty.findings}


def test_links_are_read_as_browsers_read_them_when_not_inlined(tmp_path):
    root = folder(tmp_path, CLEAN.replace("https://abc.io/x", " java\tscript:alert(1)"))
    report = Linter(preview_environment(root, inline_css=False)).lint("mail")
    assert "link-javascript" in own_rules(report)


def test_inlined_declarations_are_placed_at_their_style_rule(tmp_path):
    layout = ("<!DOCTYPE html>\n<html lang=\"en\"><head><title>x</title>\n<style>\n.box { padding: 4px; }\n"
              ".box { border-radius: 4px; }\n</style></head>\n<body>{{> @partial-block}}</body></html>\n")
    html = '{{#> layout}}\n<p class="box">a</p>\n<p style="border-radius: 2px">b</p>\n{{/layout}}\n'
    report = lint(tmp_path, html, files={"layouts/layout.hbs": layout}, clients=["outlook.windows@2016"])
    radius = sorted((f.file, f.line, f.message) for f in report.active if f.rule == "caniemail:css-border-radius")
    assert radius == [("layouts/layout.hbs", 5, "border-radius: border-radius: 4px (from .box, inlined into <p>)"),
                      ("mail.hbs", 3, 'border-radius: style="border-radius: 2px"')]
    element = next(f for f in report.active if f.rule == "caniemail:css-border-radius" and f.line == 5)
    assert element.element == ("p", 0)  # the preview still outlines the element


def test_emails_without_sample_data_are_linted_with_made_up_data():
    report = Linter(preview_environment(ROOT / "tests" / "fixtures" / "original")).lint("verification")
    assert "render" not in report.rules()
    assert {"html-lang", "img-alt"} <= report.rules()  # the original Bootstrap Email output of ABC User Feedback
