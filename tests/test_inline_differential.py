"""Issue 11: compile-time inlining and the compiled text part equal the per-render path.

Random templates (if/else, unless, each over 0-3 items, with, partials, a layout
with @partial-block, tags in text and attributes) x random stylesheets (every
selector kind premailer handles, !important, @media) x random data. Each case
renders the same email with CSS inlined at compile time and per render, and
checks the same DOM; and checks the compiled text part against the text derived
from the rendered HTML. Half the templates are compiled with other compile options
(what flatten must honour or refuse). The seed rotates per run (set MAILTPL_SEED to replay).
"""
from __future__ import annotations

import os
import random
import time

import lxml.html
from lxml import etree

from mailtpl import Environment
from mailtpl.text import html_to_text

TEMPLATES, DATA_SETS = 250, 8  # 2,000 cases a run
CLASSES = ["a", "b", "row", "s-lg-1", "btn", "p-4"]
TAGS = ["div", "p", "span", "b", "a", "u", "img", "table", "ul"]
MISPLACED = ["td", "tr", "li"]  # outside their table or list: libxml2 moves things around
TEXTS = ["", " ", "Ada", "a & b", "<i>x</i>", "x  y", "\"q\" 'q'", "é ü", "a\nb", "nul\x00", "c\rr", "<1>"]
INLINE = {"a", "b", "span", "u", "img", "br", "em", "i", "strong", "font"}  # libxml2's inline elements
OPTIONS = [{"explicit_partial_context": True}, {"data": False}, {"prevent_indent": True}, {"compat": True},
           {"no_escape": True}, {"ignore_standalone": True}, {"assume_objects": True}]


# -- documents ------------------------------------------------------------------------------------
def dom(html: str) -> str:
    """The document as lxml reads it, without whitespace-only text at the edges of block
    elements: libxml2's serializer (premailer's output) adds newlines there depending on the
    neighbours, which a block removes or repeats. No renderer shows that whitespace."""
    root = lxml.html.document_fromstring(html)
    for element in root.iter(etree.Element):
        if element.tag not in INLINE:
            if element.tail is not None and not element.tail.strip():
                element.tail = None
            if element.text is not None and not element.text.strip():  # (an empty <li> is written
                element.text = None  # without its end tag, so it may get the newline before </ul>)
            if len(element) and element[-1].tail is not None and not element[-1].tail.strip():
                element[-1].tail = None
    return lxml.html.tostring(root, encoding="unicode")


# -- random templates -----------------------------------------------------------------------------
class Gen:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.partials = True  # whether {{> part}} may be used (not inside part itself)

    def pick(self, *options):
        return self.rng.choice(options)

    def value(self, scope: str) -> str:
        return {"top": self.pick("{{name}}", "{{title}}", "{{name}}"),
                "item": self.pick("{{n}}", "{{this.n}}", "{{@index}}", "{{../name}}"),
                "with": self.pick("{{label}}", "{{../title}}")}[scope]

    def attrs(self, scope: str, tag: str) -> str:
        out = []
        if self.rng.random() < 0.6:
            classes = " ".join(self.rng.sample(CLASSES, self.rng.randint(1, 2)))
            if self.rng.random() < 0.15:
                classes += " {{cls}}" if scope == "top" else " {{#if ../flag}}a{{/if}}"
            out.append(f'class="{classes}"')
        if self.rng.random() < 0.15:
            out.append(f'id="{self.pick("body", "main", "x")}"')
        if self.rng.random() < 0.3:
            out.append(f'title="{self.pick("t", "u " + self.value(scope))}"')
        if self.rng.random() < 0.1:
            out.append(f'style="{self.pick("color:red", "padding:{{pad}}px")}"' if scope == "top" else
                       'style="margin:0"')
        if tag == "a":
            out.append(f'href="{self.pick("https://x.io/" + self.value(scope), "#top", "mailto:a@b.io")}"')
        if tag == "img":
            out.append(f'alt="{self.pick("Logo", self.value(scope), "")}" src="https://x.io/l.svg"')
        if self.rng.random() < 0.1:
            out.append("x-apple-data-detectors")
        return (" " + " ".join(out)) if out else ""

    def children(self, parent: str, scope: str, depth: int) -> str:
        return "".join(self.node(parent, scope, depth) for _ in range(self.rng.randint(0, 3)))

    def node(self, parent: str, scope: str, depth: int) -> str:
        r = self.rng.random()
        child = {"ul": "li", "table": "tr", "tr": "td"}.get(parent)
        if depth <= 0 or r < 0.2:
            if child:
                return self.pick(" ", "\n")
            return self.pick("hi ", " there", "\n", self.value(scope), " " + self.value(scope) + " ", "&amp; x")
        if r < 0.55:
            tag = self.pick(*MISPLACED) if self.rng.random() < 0.05 else self.pick(*TAGS)
            return self.element(child or tag, scope, depth - 1)
        if r < 0.7:
            inner = self.children(parent, scope, depth - 1)
            other = self.children(parent, scope, depth - 1) if self.rng.random() < 0.5 else None
            cond = self.pick("flag", "other", "items")
            if scope == "item":
                cond = self.pick("n", "../flag")
            return ("{{#if " + cond + "}}" + inner + ("{{else}}" + other if other is not None else "") + "{{/if}}")
        if r < 0.75:
            cond = "flag" if scope != "item" else "../flag"
            return "{{#unless " + cond + "}}" + self.children(parent, scope, depth - 1) + "{{/unless}}"
        if r < 0.87 and scope == "top":
            return "{{#each items}}" + self.children(parent, "item", depth - 1) + "{{/each}}"
        if r < 0.93 and scope == "top":
            return "{{#with obj}}" + self.children(parent, "with", depth - 1) + "{{/with}}"
        if scope == "top" and not child and self.partials:  # standalone: its lines indented
            return self.pick("{{> part}}", "{{> part}}", "\n  {{> part}}\n")
        return self.element(child or "span", scope, depth - 1)

    def element(self, tag: str, scope: str, depth: int) -> str:
        if tag == "img":
            return f"<img{self.attrs(scope, tag)}>"
        if tag == "br":
            return "<br>"
        return f"<{tag}{self.attrs(scope, tag)}>{self.children(tag, scope, depth)}</{tag}>"

    def selector(self) -> str:
        kind = self.rng.randrange(17)
        t, c, t2 = self.pick(*TAGS, *MISPLACED), self.pick(*CLASSES), self.pick(*TAGS, *MISPLACED)
        return [t, f".{c}", f"#{self.pick('body', 'main')}", f"{t}.{c}", f".{c}.{self.pick(*CLASSES)}",
                f"{t} {t2}", f"{t}>{t2}", f"{t}+{t2}", f"{t}~{t2}", f"{t}:first-child", f"{t}:last-child",
                f"[class*={c[:2]}]", f"{t}[class^={c[0]}]", f"[title$=t]", f"a[href|=https]",
                f"[x-apple-data-detectors]", self.pick(f"u+#body {t}", "*", f"{t}:not(.{c})", f"{t}:hover",
                                                       f".{c}[title~=u]", f"*[class*=s-]>{t}")][kind]

    def stylesheet(self) -> str:
        rules = []
        for _ in range(self.rng.randint(1, 7)):
            selectors = ", ".join(self.selector() for _ in range(self.rng.randint(1, 2)))
            props = self.rng.sample(["color: red", "width: 10px", "text-align: center", "font-weight: bold",
                                     "background-color: #abc", "color: blue !important", "margin: 0"],
                                    self.rng.randint(1, 3))
            rules.append(f"{selectors} {{ {'; '.join(props)} }}")
        if self.rng.random() < 0.3:
            media = f".{self.pick(*CLASSES)} {{ width: 100% !important }}"
            rules.append(f"@media screen and (max-width: 600px) {{ {media} }}")
        return "\n".join(rules)

    def folder(self, root) -> None:
        (root / "layouts").mkdir(parents=True)
        (root / "partials").mkdir()
        after = self.pick("", "", "\n<p class=\"a\">after {{name}}</p>\n")
        body = self.pick("{{> @partial-block}}", "{{> @partial-block}}",
                         "<div>\n    {{> @partial-block}}\n</div>")  # standalone: its lines indented
        (root / "layouts" / "layout.hbs").write_text(
            f"<!DOCTYPE html>\n<html>\n<head>\n<title>{{{{title}}}}</title>\n<style>\n{self.stylesheet()}\n"
            f"</style>\n</head>\n<body>\n{self.children('body', 'top', 2)}"
            f"{body}{self.children('body', 'top', 1)}\n</body>\n</html>{after}")
        self.partials = False
        (root / "partials" / "part.hbs").write_text(self.children("div", "top", 2))
        self.partials = True
        (root / "e.hbs").write_text("{{#> layout}}" + self.children("body", "top", 3) + "{{/layout}}"
                                    + self.pick("", "", "\n<div>trailing {{title}}</div>"))

    def data(self) -> dict:
        text = lambda: self.pick(*TEXTS)  # noqa: E731
        return {"name": text(), "title": text(), "flag": self.rng.random() < 0.5,
                "other": self.pick(True, False, "", "x"), "cls": self.pick(*CLASSES, ""),
                "pad": self.pick("0", "4"),
                "items": [{"n": self.pick(*range(3), "", "v")} for _ in range(self.rng.randint(0, 3))],
                "obj": self.pick({"label": text()}, None, {"label": "L"})}


def test_compile_time_inlining_and_text_equal_per_render(tmp_path):
    seed = int(os.environ.get("MAILTPL_SEED", time.time_ns() % 2**32))
    print(f"MAILTPL_SEED={seed}")
    rng = random.Random(seed)
    gen = Gen(rng)
    cases = compile_time = compiled_text = line_breaks = 0
    failures = []
    for t in range(TEMPLATES):
        folder = tmp_path / str(t)
        gen.folder(folder)
        options = rng.choice(OPTIONS) if rng.random() < 0.5 else {}
        fast = Environment(folder, strict=False, **options)
        slow = Environment(folder, strict=False, inline_css="per-render", **options)
        raw = Environment(folder, strict=False, inline_css=False, **options)
        email = fast.compiled("e")
        compile_time += email.inlined is not None
        compiled_text += raw.compiled("e").compiled_text is not None
        for _ in range(DATA_SETS):
            data = gen.data()
            cases += 1
            a, b, c = fast.render("e", data), slow.render("e", data), raw.render("e", data)
            line_breaks += email.inlined is not None and a.inlining == "per-render"  # in an indented partial
            if dom(a.html) != dom(b.html):
                failures.append(("html", folder, options, data, a.html, b.html))
            for mode, out in (("compile-time", a), ("per-render", b), ("off", c)):
                if out.text != html_to_text(out.html):
                    failures.append((f"text, inlining {mode}", folder, options, data, out.text,
                                     html_to_text(out.html)))
    print(f"{cases} cases, {compile_time}/{TEMPLATES} templates inlined at compile time, "
          f"{compiled_text}/{TEMPLATES} with a compiled text part (inlining off), {line_breaks} renders per render "
          "for a line break in an indented partial")
    assert not failures, (f"MAILTPL_SEED={seed}: {len(failures)} differences, first: ", failures[0])
    assert cases >= 2000 and compile_time >= TEMPLATES // 5 and compiled_text >= TEMPLATES // 3
