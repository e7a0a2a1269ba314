"""Issue 11: hostile stylesheets and markup give one typed error naming the file, or a correct render."""
from __future__ import annotations

import pytest

from mailtpl import Environment
from mailtpl.inline import CssError, MarkupError
from mailtpl.text import html_to_text
from tests.test_inline import BASE, folder, page

MODES = [True, "per-render"]


@pytest.mark.parametrize("mode", MODES)
def test_a_selector_too_long_for_premailer_is_a_css_error_naming_the_file(tmp_path, mode):
    root = folder(tmp_path, {"e.hbs": page(".a " * 5000 + "{ color: red }", '<p class="a">{{x}}</p>')})
    with pytest.raises(CssError, match=r"^e\.hbs: a selector of the stylesheet is too long"):
        Environment(root, base_url=BASE, inline_css=mode).render("e", {"x": "V"})


@pytest.mark.parametrize("css, body, styled", [
    ("p" + ":not(" * 200 + ".b" + ")" * 200 + " { color: red }", '<p class="a">{{x}}</p>', None),
    ('[class*="' + "a" * 10000 + '"] { color: red } p { color: blue }', '<p class="a">{{x}}</p>', "color:blue"),
    ('@import url("http://evil.test/x.css"); p { color: red }', "<p>{{x}}</p>", "color:red"),
    ("p { width: expression(alert(1)); background: url(javascript:alert(1)) }", "<p>{{x}}</p>", None),
    ("p { color: red }", "<!--[if mso]><table><tr><td><![endif]--><p>{{x}}</p><!--[if mso]></td></tr></table>"
                         "<![endif]-->", "color:red"),
    ("p { color: red }", "<template><p>{{x}}</p></template><p>{{x}}</p>", "color:red"),
    ("p { color: red } circle { fill: red }", '<svg><circle r="{{x}}"/></svg><p>{{x}}</p>', "color:red"),
    ("p { color: red }", "<div><p>{{x}}<table><tr><td>unclosed", "color:red"),
])
def test_hostile_css_and_markup_render_the_same_in_both_modes(tmp_path, css, body, styled):
    root = folder(tmp_path, {"e.hbs": page(css, body)})
    fast = Environment(root, base_url=BASE).render("e", {"x": "V<&>"})
    slow = Environment(root, base_url=BASE, inline_css="per-render").render("e", {"x": "V<&>"})
    assert fast.html == slow.html
    assert fast.text == slow.text == html_to_text(slow.html)
    assert "V&lt;&amp;&gt;" in fast.html and "javascript" not in fast.html.split("</style>")[-1]
    if styled:
        assert styled in fast.html.replace(" ", "")


@pytest.mark.parametrize("depth, mode", [(300, True), (300, "per-render"), (300, False)])
def test_markup_nested_hundreds_deep_keeps_its_content(tmp_path, depth, mode):
    body = "<div>" * depth + '<p class="a">{{x}}</p>' + "</div>" * depth
    env = Environment(folder(tmp_path, {"e.hbs": page(".a { color: red }", body)}), base_url=BASE, inline_css=mode)
    email = env.render("e", {"x": "V"})
    assert email.text == "V\n"
    assert ('style="color:red"' in email.html) == bool(mode)


@pytest.mark.parametrize("mode", MODES)
def test_markup_nested_deeper_than_libxml2_reads_is_a_markup_error_naming_the_file(tmp_path, mode):
    body = "<div>" * 2100 + "<p>{{x}}</p>" + "</div>" * 2100
    env = Environment(folder(tmp_path, {"e.hbs": page("p { color: red }", body)}), base_url=BASE, inline_css=mode)
    with pytest.raises(MarkupError, match=r"^e\.hbs: the HTML nests elements too deep"):
        env.render("e", {"x": "V"})


@pytest.mark.parametrize("mode", MODES)
def test_a_stylesheet_too_large_to_inline_is_a_css_error_naming_the_file(tmp_path, mode):
    rules = "".join(f".c{i} {{ color: red }}" for i in range(5000))  # premailer: about a minute per render
    root = folder(tmp_path, {"e.hbs": page("@media screen { " + rules + " }", '<p class="c1">{{x}}</p>')})
    with pytest.raises(CssError, match=r"^e\.hbs: the stylesheet has 5000 selectors; mailtpl inlines at most"):
        Environment(root, base_url=BASE, inline_css=mode).render("e", {"x": "V"})


def test_a_stylesheet_of_3000_selectors_still_inlines(tmp_path):
    rules = "".join(", ".join(f".c{i}-{n}" for i in range(1000)) + f", .c{n} {{ color: red }}" for n in range(3))
    root = folder(tmp_path, {"e.hbs": page(rules, '<p class="c1">{{x}}</p>')})
    assert "color:red" in Environment(root, base_url=BASE).render("e", {"x": "V"}).html.replace(" ", "")
