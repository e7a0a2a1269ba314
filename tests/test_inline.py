"""Issue 11: which rules inline at compile time, why others do not, nothing dropped, typed errors."""
from __future__ import annotations

import shutil
from pathlib import Path

import lxml.html
import pytest

from mailtpl import Environment, TemplateError
from mailtpl.inline import CssError, inline_css
from mailtpl.text import html_to_text
from tests.test_inline_differential import dom

ROOT = Path(__file__).resolve().parents[1]
BOOTSTRAP = ROOT / "tests" / "fixtures" / "bootstrap"
BASE = "https://fb.example.org"


def page(css: str, body: str) -> str:
    return f"<!DOCTYPE html>\n<html>\n<head>\n<style>\n{css}\n</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"


def line_of(source: str, needle: str) -> int:
    return next(i for i, line in enumerate(source.splitlines(), 1) if needle in line)


def folder(tmp_path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def both(root: Path, data: dict, name: str = "e"):
    fast = Environment(root, base_url=BASE, strict=False).render(name, data)
    slow = Environment(root, base_url=BASE, strict=False, inline_css="per-render").render(name, data)
    return fast, slow


def test_first_child_around_an_if_block_is_inlined_per_render(tmp_path):
    source = page("li:first-child { font-weight: bold }\n.x { color: red }",
                  '<ul class="x">\n{{#if promo}}<li>Promo!</li>{{/if}}<li>Regular</li></ul>')
    root = folder(tmp_path, {"e.hbs": source})
    env = Environment(root, strict=False)
    assert env.info("e").inline_reason == (
        "rule 'li:first-child' depends on the position of <li> among siblings that {{#if promo}} at "
        f"e.hbs:{line_of(source, '{{#if promo}}')} adds, removes or repeats")
    for promo, bold in ((False, "Regular"), (True, "Promo!")):
        out = env.render("e", {"promo": promo})
        assert out.inlining == "per-render"
        items = lxml.html.document_fromstring(out.html).cssselect("li")
        assert [li.text for li in items if "font-weight:bold" in (li.get("style") or "")] == [bold]


def test_rules_that_no_tag_can_change_inline_at_compile_time(tmp_path):
    root = folder(tmp_path, {"e.hbs": page(
        "a[x-apple-data-detectors], u+#body a, #MessageViewBody a { color: inherit }\n"
        ".row>tbody>tr>td { padding: 0 }\n*[class*=s-lg-]>tbody>tr>td { font-size: 0 }\n"
        "table:not([class^=s-]) td { color: red }\ntr:nth-child(2) td { color: blue }\n"
        "td.cell { width: 10px }\n@media screen and (max-width: 600px) { .row { width: 100% !important } }",
        '<u></u><div id="body"><a href="{{link}}" title="{{title}}">{{link}}</a>\n'
        '<table class="row s-lg-1"><tbody>{{#each rows}}<tr><td class="cell">{{this}}</td></tr>{{/each}}'
        '</tbody></table></div>')})
    assert Environment(root).info("e").inline_reason is None
    for rows in ([], ["a"], ["a", "b", "c"]):
        fast, slow = both(root, {"link": "https://x.io/?a=1&b=2", "title": "t", "rows": rows})
        assert fast.inlining == "compile-time" and dom(fast.html) == dom(slow.html)
        assert fast.text == slow.text == html_to_text(fast.html)


@pytest.mark.parametrize("body, reason", [
    ('<p class="{{kind}}">x</p>', "rule '.note' reads the class attribute, which {{kind}} at e.hbs:12 writes"),
    ('<a href="{{link}}">x</a>', "rule 'a[href^=https]' reads the href attribute, which {{link}} at e.hbs:12 writes"),
    ("<table>{{#each rows}}<tr><td>{{this}}</td></tr>{{/each}}</table>",
     "rule 'tr + tr' depends on the position of <tr> among siblings that {{#each rows}} at e.hbs:12 adds, removes "
     "or repeats"),
    ("<div>{{{html}}}</div>", "{{{html}}} at e.hbs:12 can insert markup"),
    ('<p style="color: {{c}}">x</p>', "rule 'p' is merged with the style attribute that {{c}} at e.hbs:12 writes"),
])
def test_a_dynamic_rule_is_named_with_the_tag_that_makes_it_dynamic(tmp_path, body, reason):
    source = page(".note { color: red }\na[href^=https] { color: blue }\ntr+tr { color: green }\np { margin: 0 }",
                  body)
    assert line_of(source, body) == 12
    root = folder(tmp_path, {"e.hbs": source})
    assert Environment(root).info("e").inline_reason == reason


def test_a_tag_in_a_partial_is_named_by_the_partial_file(tmp_path):
    root = folder(tmp_path, {
        "e.hbs": "{{#> layout}}<p>x</p>{{/layout}}",
        "layouts/layout.hbs": page(".c { color: red }", "{{> @partial-block}}\n{{> footer}}"),
        "partials/footer.hbs": '\n\n<p class="{{cls}}">footer</p>\n'})
    assert Environment(root).info("e").inline_reason == (
        "rule '.c' reads the class attribute, which {{cls}} at partials/footer.hbs:3 writes")


@pytest.mark.parametrize("name, after", [
    ("after </html>", "{{#> layout}}<p>in</p>{{/layout}}\n<p class=\"c\">after {{x}}</p>\n"),
    ("layout ends after </html>", "{{#> layout2}}<p>in</p>{{/layout2}}"),
])
def test_markup_after_html_ends_up_in_the_body_in_both_modes(tmp_path, name, after):
    root = folder(tmp_path, {
        "e.hbs": after,
        "layouts/layout.hbs": page(".c { color: red }", "{{> @partial-block}}"),
        "layouts/layout2.hbs": page(".c { color: red }", "{{> @partial-block}}") + '<p class="c">after {{x}}</p>\n'})
    fast, slow = both(root, {"x": "it"})
    assert fast.inlining == "compile-time" and dom(fast.html) == dom(slow.html)
    for html in (fast.html, slow.html):
        body = lxml.html.document_fromstring(html).body
        assert [p.text for p in body.iter("p")] == ["in", "after it"]
        assert body.cssselect("p.c")[0].get("style") == "color:red"
    assert fast.text == slow.text == "in\n\nafter it\n"
    off = Environment(root, base_url=BASE, strict=False, inline_css=False).render("e", {"x": "it"})
    assert off.text == "in\n\nafter it\n"


@pytest.mark.parametrize("source", ["", "   \n\t", "<!-- nothing -->", "{{#if x}}<p>x</p>{{/if}}"])
def test_empty_templates_render_in_every_mode(tmp_path, source):
    root = folder(tmp_path, {"e.hbs": source})
    outs = [Environment(root, strict=False, inline_css=mode).render("e", {}) for mode in (True, "per-render", False)]
    assert [out.text for out in outs] == ["", "", ""]
    assert dom(outs[0].html) == dom(outs[1].html)
    assert not lxml.html.document_fromstring(outs[0].html).body.text_content().strip()


def test_a_selector_premailer_cannot_apply_is_a_template_error(tmp_path):
    root = folder(tmp_path, {"e.hbs": page("li:nth-child { color: red }", "<ul><li>x</li></ul>")})
    with pytest.raises(CssError, match="li:nth-child") as info:
        Environment(root).render("e", {})
    assert isinstance(info.value, TemplateError) and str(info.value).startswith("e.hbs: premailer cannot apply")
    assert Environment(root).info("e").error.startswith("e.hbs: premailer cannot apply the selector 'li:nth-child'")
    with pytest.raises(CssError):
        Environment(root, inline_css="per-render").render("e", {})


def test_text_keeps_the_alt_text_of_image_only_links_and_br_only_for_br():
    html = ('<p><a href="https://x.io"><img src="l.svg" alt="User feedback"></a>'
            '<img src="deco.svg" alt="decoration"></p>'
            '<p><span>one</span>\n<span>two</span><br>three</p>')
    assert html_to_text(html) == "User feedback (https://x.io)\n\none two\nthree\n"


def test_bootstrap_fixture_inlines_at_compile_time(tmp_path):
    root = shutil.copytree(BOOTSTRAP, tmp_path / "b")
    env = Environment(root, base_url=BASE)
    assert env.info("verification").inline_reason is None
    assert env.compiled("verification").compiled_text is not None
    fast = env.render("verification", fixture="default")
    slow = Environment(root, base_url=BASE, inline_css="per-render").render("verification", fixture="default")
    assert fast.inlining == "compile-time" and dom(fast.html) == dom(slow.html)
    assert fast.text == slow.text == html_to_text(fast.html)
    assert "User feedback (https://fb.example.org)\n" in fast.text and "482913" in fast.text
    doc = lxml.html.document_fromstring(fast.html)
    style = "".join(s.text for s in doc.iter("style"))
    assert "@media screen and (max-width: 600px)" in style and ":not(table)" in style
    assert "padding-right:32px" in doc.cssselect("table.gap-8.stack-x>tbody>tr>td")[0].get("style")


def test_per_render_inlining_of_the_bootstrap_fixture_matches_premailer():
    html = (BOOTSTRAP / "verification.hbs").read_text().replace("{{baseUrl}}", BASE).replace("{{code}}", "1")
    env = Environment(BOOTSTRAP, base_url=BASE, inline_css="per-render")
    assert env.render("verification", {"code": "1"}).html == inline_css(html)
