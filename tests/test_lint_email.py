"""lint_email(): a finished email (caught mail, another tool's output) checked by the rules and caniemail data
that check templates; its findings name elements by CSS selector. And lint's bounds on hostile input."""
import time
from pathlib import Path

import pytest

from mailtpl.lint import RULES, Linter, lint_email
from mailtpl.lint.data import parse_clients
from mailtpl.lint.rules import MAX_HTML
from mailtpl.rendered import RenderedEmail
from mailtpl.snapshots import preview_environment
from tests.test_lint import BOOTSTRAP, CLEAN, folder, own_rules

ROOT = Path(__file__).resolve().parents[1]


def finished(html=CLEAN, text="Hello", subject="Hello", **kwargs):
    return lint_email(RenderedEmail("caught", subject, html, text), **kwargs)


def same_checks(report) -> set:
    """What a finding says regardless of how it is placed: rule, severity and element."""
    return {(f.rule, f.severity, f.element) for f in report.findings}


@pytest.mark.parametrize("templates", [ROOT / "templates", BOOTSTRAP], ids=["shipped", "bootstrap"])
def test_finished_email_gets_the_findings_of_its_templates(templates):
    """One piece serves both paths: the rendered email, linted as finished HTML, finds what linting its
    templates finds, on the same elements (the places differ: selectors instead of file:line)."""
    env = preview_environment(templates)
    linter = Linter(env)
    for name in env.names():
        for fixture in env.loader.fixtures(name):
            from_templates = linter.lint(name, fixture=fixture)
            rendered = env.render(name, fixture=fixture)
            caught = lint_email(rendered, clients=linter.clients, placeholder_url=env.loader.preview_base_url)
            assert same_checks(from_templates) <= same_checks(caught), (name, fixture)
            # the template path keeps one finding per template place and message (elements of a loop)
            assert {f[:2] for f in same_checks(caught)} == {f[:2] for f in same_checks(from_templates)}
            assert all(f.file is None and f.line is None for f in caught.findings)


def test_findings_name_the_element_by_selector_not_a_template_line():
    report = finished(CLEAN.replace('alt="Logo" ', "").replace("logo.png", "logo.svg"))
    alt = next(f for f in report.active if f.rule == "img-alt")
    assert (alt.file, alt.line, alt.element) == (None, None, ("img", 0))
    assert alt.location == alt.selector == "html > body > table > tr > td > img"
    assert alt.to_json()["selector"] == alt.selector
    svg = next(f for f in report.active if f.rule == "caniemail:image-svg")
    assert svg.location == alt.selector
    twins = finished(CLEAN.replace("<p>Read", '<p><a href="#">a</a></p><p>Read'))
    hash_link = next(f for f in twins.active if f.rule == "link-hash")
    assert hash_link.selector == "html > body > table > tr > td > p:nth-of-type(1) > a"


def test_selectors_of_deep_elements_keep_their_last_steps():
    report = finished(CLEAN.replace("<p>Read", "<div>" * 30 + "<a>x</a>" + "</div>" * 30 + "<p>Read"))
    empty = next(f for f in report.active if f.rule == "link-empty")
    assert empty.selector == "... > " + " > ".join(["div"] * 15 + ["a"])


def test_text_part_and_subject_are_checked_without_template_advice():
    report = finished(text=" ", subject="x" * 79)
    text = next(f for f in report.active if f.rule == "text-part")
    assert "send a text/plain part" in text.message and ".txt.hbs" not in text.message
    subject = next(f for f in report.active if f.rule == "subject-length")
    assert subject.file is None and subject.location == "caught"
    assert own_rules(finished()) == set()


def test_email_without_html_is_checked_for_text_and_subject_only():
    report = finished(html="", text="", subject="x" * 80)
    assert report.rules() == {"text-part", "subject-length"}
    assert finished(html="", text="Hello").findings == []


def test_linter_applies_the_folders_clients_and_star_switch_offs(tmp_path):
    html = CLEAN.replace("logo.png", "logo.svg").replace('<html lang="en">', "<html>")
    root = folder(tmp_path, config={"lint": {"clients": ["outlook.windows@2016"], "ignore": {
        "*": {"html-lang": "the audience is multilingual"}, "mail": {"caniemail:image-svg": "only for mail"}}}})
    report = Linter(preview_environment(root)).lint_email(RenderedEmail("caught", "Hi", html, "Hi"))
    assert next(f for f in report.findings if f.rule == "html-lang").ignored == "the audience is multilingual"
    svg = next(f for f in report.findings if f.rule == "caniemail:image-svg")
    assert svg.ignored is None and [g.client for g in svg.clients] == ["Outlook 2016 (Windows)"]
    assert "caniemail:image-svg" not in finished(html, clients=tuple(parse_clients(["apple-mail"]))).rules()


HOSTILE = {
    "xml encoding declaration": '<?xml version="1.0" encoding="utf-8"?><html><body><img src="a.svg"></body></html>',
    "comments only": "<!-- nothing -->",
    "lone surrogate": "<p>\ud800</p>",
    "nul and controls": "<p>\x00\x01\x1b</p><img src='\x00'>",
    "deep nesting": "<div style='color:#777'>t" * 5000,
    "deep CSS value": "<p style='color:" + "(" * 50000 + "'>x</p>",
    "deep style block": "<style>@media screen {" + "a{" * 50000 + "</style><p>x</p>",
    "unclosed tags": "<a" + " b" * 50000,
    "no closing quotes": "<img src=\"" + "a" * 100000,
    "selector soup": "<style>@media screen{" + ":not(" * 3000 + "a{color:red}}</style><p>x</p>",
    "data url": "<img src='data:" + ";" * 100000 + "'>",
    "font size without digits": "<p style='color:#777; font-size:.'>x</p><p style='color:#777; font-size:1..2px'>y</p>",
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_html_gives_findings_not_tracebacks(name):
    report = finished(HOSTILE[name])
    assert report.findings and all(f.rule in RULES or f.rule.startswith("caniemail:") for f in report.findings)


def test_css_nested_too_deep_is_reported_and_not_read():
    report = finished(HOSTILE["deep CSS value"])
    depth = next(f for f in report.active if f.rule == "css-depth")
    assert "style attribute nests brackets 50000 deep" in depth.message and depth.element == ("p", 0)
    assert "css-depth" not in finished(CLEAN.replace("<p>Read", "<p style='width:calc((1px + 2px) * 2)'>Read")).rules()


def test_html_over_the_limit_is_measured_not_read():
    html = CLEAN.replace("<p>Read", "<p>" + "<a href='#'>x</a>" * (MAX_HTML // 16) + "</p><p>Read")
    started = time.perf_counter()
    report = finished(html)
    print(f"\n{len(html) / 2**20:.1f} MB of HTML linted in {time.perf_counter() - started:.2f} s")
    assert [(f.rule, f.severity) for f in report.findings] == [("gmail-clip", "error")]
    assert "no other HTML check ran" in report.findings[0].message
