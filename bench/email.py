"""Render + CSS-inline time per email: mailtpl against pybars3 + premailer per render.

    python bench/email.py

Both sides produce the finished HTML of the shipped verification email (layout,
partials, CSS inlined). Target (issue 3): mailtpl <= 50 us per email.
"""
from __future__ import annotations

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

TEMPLATES = HERE.parent / "templates"
CONTEXT = {"code": "482913", "baseUrl": "https://feedback.example.com"}


def pybars_verification():
    """The same email for pybars3, which has no partial blocks: the layout's slot filled by hand."""
    layout = (TEMPLATES / "layouts" / "layout.hbs").read_text()
    body = (TEMPLATES / "verification.hbs").read_text().split("}}", 1)[1].rsplit("{{/layout}}", 1)[0]
    compiler = pybars.Compiler()
    template = compiler.compile(layout.replace("{{> @partial-block}}", body))
    partials = {"footer": compiler.compile((TEMPLATES / "partials" / "footer.hbs").read_text())}
    return lambda ctx: inline_css(str(template(ctx, partials=partials)))


def main() -> None:
    env = Environment(TEMPLATES)
    ours = lambda: env.render("verification", CONTEXT)  # noqa: E731
    theirs = pybars_verification()
    assert "482913" in theirs(CONTEXT) and ours().inlining == "compile-time"
    rows = []
    for name in env.names():
        context = {**env.context(name, fixture="default"), **CONTEXT}
        mode = env.render(name, context).inlining
        t = per_call(lambda name=name, context=context: env.render(name, context))
        rows.append([f"mailtpl {name} ({mode})", fmt_time(t), ""])
    m, p = per_call(ours), per_call(lambda: theirs(CONTEXT))
    per_render = Environment(TEMPLATES, inline_css="per-render")
    r = per_call(lambda: per_render.render("verification", CONTEXT))
    rows = [["verification: mailtpl", fmt_time(m), "1.0x"],
            ["verification: mailtpl, inlining per render", fmt_time(r), fmt_ratio(r, m)],
            ["verification: pybars3 + premailer per render", fmt_time(p), fmt_ratio(p, m)], *rows]
    print(table(["render + inline, per email", "time", "vs mailtpl"], rows))


if __name__ == "__main__":
    main()
