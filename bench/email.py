"""Time per finished email: render + CSS inlining (+ plain text), mailtpl against what a user
would pick instead, in the same run.

    python bench/email.py

Emails: the Bootstrap-Email-style fixture (tests/fixtures/bootstrap, 15 KB, the
selector kinds of ABC User Feedback's templates) and the three shipped emails.
Rows per email:

- mailtpl: ``Environment.render`` (HTML with CSS inlined, plain text, subject);
- mailtpl with ``inline_css="per-render"`` (premailer on every render);
- pybars3 + premailer + mailtpl's text derivation, per render;
- handlebars.js 4.7.10 + juice, and handlebars.js + css-inline (render + inline only, no
  text part), when node has them: ``npm install --prefix bench @css-inline/css-inline juice
  handlebars@4.7.10``.

Targets (issue 11): the fixture inlines at compile time; mailtpl <= 30 us per email and
>= 20x faster than handlebars.js + css-inline.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# This file is named email.py: keep its folder off the path so `import email` finds the stdlib.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import pybars  # noqa: E402

from bench._timing import fmt_ratio, fmt_time, per_call, table  # noqa: E402

from mailtpl import Environment  # noqa: E402
from mailtpl.inline import inline_css  # noqa: E402
from mailtpl.text import html_to_text  # noqa: E402

BASE_URL = "https://feedback.example.com"
FOLDERS = {"bootstrap fixture": HERE.parent / "tests" / "fixtures" / "bootstrap", "shipped": HERE.parent / "templates"}
PARTIAL_BLOCK = re.compile(r"\{\{#>\s*([\w/-]+)\s*\}\}(.*?)\{\{/\1\}\}", re.S)


def cases() -> list[tuple[str, Path, str, dict]]:
    out = []
    for label, folder in FOLDERS.items():
        env = Environment(folder, base_url=BASE_URL)
        for name in env.names():
            out.append((f"{label}: {name}", folder, name, {"baseUrl": BASE_URL, **env.loader.fixture(name, "default")}))
    return out


def sources(folder: Path, name: str) -> tuple[str, dict[str, str]]:
    """The email's source and its partials by name, as handlebars.js registers them."""
    partials = {}
    for sub in ("partials", "layouts"):
        for path in sorted((folder / sub).rglob("*.hbs")):
            partials[path.relative_to(folder / sub).with_suffix("").as_posix()] = path.read_text()
    return (folder / f"{name}.hbs").read_text(), partials


def without_partial_blocks(source: str, partials: dict[str, str]) -> str:
    """pybars3 has no partial blocks: write each {{#> name}}body{{/name}} out by hand."""
    while True:
        expanded = PARTIAL_BLOCK.sub(lambda m: partials[m.group(1)].replace("{{> @partial-block}}", m.group(2)),
                                     source)
        if expanded == source:
            return source
        source = expanded


def pybars_email(folder: Path, name: str):
    source, partials = sources(folder, name)
    compiler = pybars.Compiler()
    template = compiler.compile(without_partial_blocks(source, partials))
    compiled = {p: compiler.compile(without_partial_blocks(s, partials)) for p, s in partials.items()
                if "@partial-block" not in s}

    def render(context):
        html = inline_css(str(template(context, partials=compiled)))
        return html, html_to_text(html)
    return render


def node_times(emails: list[tuple[str, Path, str, dict]]) -> dict:
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "@css-inline").is_dir() or \
            not (HERE / "node_modules" / "juice").is_dir():
        print("(node, juice or @css-inline/css-inline missing: "
              "npm install --prefix bench @css-inline/css-inline juice handlebars@4.7.10)")
        return {}
    payload = {}
    for label, folder, name, data in emails:
        source, partials = sources(folder, name)
        payload[label] = {"template": source, "partials": partials, "data": data}
    done = subprocess.run([node, str(HERE / "email_inline.js")], input=json.dumps(payload), capture_output=True,
                          text=True, cwd=HERE, check=True)
    return json.loads(done.stdout)


def main() -> None:
    emails = cases()
    node = node_times(emails)
    rows = []
    for label, folder, name, data in emails:
        env = Environment(folder, base_url=BASE_URL)
        per_render = Environment(folder, base_url=BASE_URL, inline_css="per-render")
        mode = env.render(name, data).inlining
        ours = per_call(lambda: env.render(name, data))
        theirs = pybars_email(folder, name)
        rows.append([f"{label} ({mode})", "mailtpl", fmt_time(ours), "1.0x"])
        for what, fn in (("mailtpl, inlining per render", lambda: per_render.render(name, data)),
                         ("pybars3 + premailer + text", lambda: theirs(data))):
            t = per_call(fn)
            rows.append(["", what, fmt_time(t), fmt_ratio(t, ours)])
        for key, what in (("juice", "handlebars.js + juice (no text)"),
                          ("cssInline", "handlebars.js + css-inline (no text)")):
            t = node.get(label, {}).get(key)
            rows.append(["", what, fmt_time(t), fmt_ratio(t, ours)])
    print(table(["email", "render + inline (+ text)", "per email", "vs mailtpl"], rows))


if __name__ == "__main__":
    main()
