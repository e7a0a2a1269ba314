"""mailtpl lint against @jsx-email/doiuse-email on the same rendered HTML and the same clients.

    npm install --prefix bench @jsx-email/doiuse-email
    python3 bench/lint_doiuse.py

For every email of templates/, the Bootstrap-Email-style fixture and a
kitchen-sink document, it lists each feature doiuse-email flags (not supported
or partial, for the clients both tools know among mailtpl's defaults) and
whether mailtpl flags it too, detects it (but its newer caniemail data says the
clients support it), or misses it; then the lint time per email of both tools.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]  # bench/email.py is not email
sys.path.insert(0, str(ROOT))

import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from mailtpl.lint import Linter  # noqa: E402
from mailtpl.lint.compat import hits  # noqa: E402
from mailtpl.lint.data import features  # noqa: E402
from mailtpl.lint.document import Document  # noqa: E402
from mailtpl.lint.trace import trace  # noqa: E402
from mailtpl.snapshots import preview_environment  # noqa: E402

SCRIPT = ROOT / "bench" / "lint_doiuse.mjs"
PACKAGE = ROOT / "bench" / "node_modules" / "@jsx-email" / "doiuse-email"
# mailtpl's default clients that doiuse-email knows (it has no outlook.outlook-com, and no version ranges)
CLIENTS = ["gmail.desktop-webmail", "gmail.ios", "gmail.android", "outlook.windows", "apple-mail.macos",
           "apple-mail.ios", "yahoo.desktop-webmail", "yahoo.ios", "yahoo.android", "samsung-email.android"]
# doiuse-email flags these where mailtpl, on purpose, does not (see README, "Lint"):
DELIBERATE = {
    "font shorthand": "doiuse-email takes every font-* property (font-size, font-family) for the `font` shorthand",
    "background": "doiuse-email takes background-color for the `background` shorthand",
    "text-decoration": "doiuse-email takes text-decoration-* longhands for the shorthand",
    "list-style": "doiuse-email takes list-style-* longhands for the shorthand",
}
KITCHEN_SINK = """<!DOCTYPE html>
<html lang="en"><head><title>All</title>
<style>
@import url("https://fonts.example.net/x.css");
@font-face { font-family: X; src: url(x.woff2); }
@supports (display: grid) { .g { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; } }
@media (prefers-color-scheme: dark) and (hover: hover) { .d:not(.x) { color: rgb(1 2 3) !important; } }
@media (orientation: landscape), (-webkit-min-device-pixel-ratio: 2) { .o > p + p ~ span { width: 50vw; } }
@keyframes spin { from { transform: rotate(0deg); } to { transform: rotate(360deg); } }
a:hover, a:focus, li:first-child::before, p::first-letter, [data-x] { content: ""; color: var(--c); }
#id * { box-sizing: border-box; }
</style></head>
<body>
<div class="g" style="display:flex; flex-direction:column; flex-wrap:wrap; justify-content:center; align-items:center; background-image:linear-gradient(red, blue); border-radius:4px; box-shadow:0 0 2px rgba(0,0,0,.5); opacity:.9; position:relative; top:2px; max-width:clamp(10px, 50%, 600px); width:calc(100% - 2rem); font-size:1.2em; line-height:1.4; letter-spacing:1px; text-transform:uppercase; text-shadow:1px 1px 0 #000; transition:all .2s; animation:spin 1s; object-fit:cover; aspect-ratio:16/9; margin-inline:auto; padding-block:4px; overflow:hidden; white-space:nowrap; text-overflow:ellipsis; word-break:break-all; visibility:visible; z-index:2; cursor:pointer; direction:ltr; writing-mode:horizontal-tb; mix-blend-mode:multiply; filter:blur(1px); background-size:cover; border-collapse:collapse; min-height:10px; font-weight:700; font-family:system-ui; text-align:center; vertical-align:top; float:left; clear:both; outline:1px solid red; list-style-type:disc; text-decoration:underline; color-scheme:light dark">
<img src="https://cdn.feedback.example.com/a.svg" alt="" width="10" height="10"><img src="https://cdn.feedback.example.com/b.webp" alt="" width="10" height="10" loading="lazy" srcset="b.avif 2x">
<picture><source srcset="c.avif"><img src="c.gif" alt=""></picture>
<video src="v.mp4"></video><audio src="a.mp3"></audio><svg width="4" height="4"></svg>
<form><input type="text"><input type="checkbox"><input type="radio"><input type="submit"><select><option>a</option></select><textarea></textarea><button type="submit">b</button></form>
<ul><li>a</li></ul><ol><li>b</li></ol><dl><dt>c</dt><dd>d</dd></dl><blockquote>q</blockquote><pre>p</pre><code>c</code>
<abbr title="x">x</abbr><del>d</del><small>s</small><strong>s</strong><span dir="rtl" lang="ar">s</span><wbr><hr>
<section><article><header>h</header><footer>f</footer></article></section><address>a</address><mark>m</mark>
<a href="#top" target="_blank" aria-label="x">top</a><a href="mailto:a@b.io">mail</a><a name="top"></a>
<table role="presentation" cellpadding="0" cellspacing="0" align="center" valign="top" background="x.png" width="10" height="10"><tr><td>t</td></tr></table>
<details><summary>s</summary>d</details><progress value="1"></progress><meter value="1"></meter><marquee>m</marquee>
<p hidden aria-hidden="true" aria-describedby="x" aria-labelledby="x" aria-live="polite">h</p><dialog>d</dialog>
<!-- a comment -->
</body></html>
"""


def documents(tmp: Path) -> dict[str, tuple[Path, str]]:
    """name -> (templates folder, email)."""
    sink = tmp / "sink"
    sink.mkdir()
    (sink / "kitchen-sink.hbs").write_text(KITCHEN_SINK, encoding="utf-8")  # no {{ in it
    (sink / "kitchen-sink.preview.json").write_text('{"default": {}}', encoding="utf-8")
    found = {f"templates/{name}": (ROOT / "templates", name) for name in preview_environment(ROOT / "templates").names()}
    found["fixture/verification"] = (ROOT / "tests" / "fixtures" / "lint_bootstrap", "verification")
    found["kitchen-sink"] = (sink, "kitchen-sink")
    return found


def mailtpl_side(folder: Path, name: str) -> tuple[str, set[str], set[str], float]:
    """The rendered HTML, titles mailtpl flags for CLIENTS, titles it detects at all, seconds per lint."""
    env = preview_environment(folder)
    linter = Linter(env, CLIENTS)
    linter.lint(name)  # compiles the templates (twice: as sent and traced) and loads caniemail's data
    seconds = float("inf")
    for _ in range(5):  # the fastest of five warm runs (the machine is shared)
        started = time.perf_counter()
        report = linter.lint(name)
        seconds = min(seconds, time.perf_counter() - started)
    titles = {slug: f["title"].strip() for slug, f in features().items()}
    flagged = {titles[f.rule.removeprefix("caniemail:")] for f in report.findings if f.rule.startswith("caniemail:")}
    traced = trace(env, linter._tracer, name, fixture=next(iter(env.loader.fixtures(name)), None))
    doc = Document(name, traced, linter.clients, env.loader.preview_base_url, linter._source)
    detected = {titles[slug] for slug, *_ in hits(doc)}
    return traced.rendered.html, flagged, detected, seconds


def doiuse_side(docs: dict[str, str]) -> dict[str, tuple[set[str], float]]:
    """Per document: the titles doiuse-email flags and the seconds of its fastest warm run."""
    done = subprocess.run(["node", str(SCRIPT)], input=json.dumps({"clients": CLIENTS, "docs": docs}),
                          capture_output=True, text=True, check=True, cwd=ROOT / "bench")
    return {name: (set(result["errors"]) | set(result["warnings"]), result["ms"] / 1000)
            for name, result in json.loads(done.stdout).items()}


def compare() -> dict:
    """Per document: what doiuse-email flags and how mailtpl reads it."""
    with tempfile.TemporaryDirectory() as tmp:
        sides = {label: mailtpl_side(folder, name) for label, (folder, name) in documents(Path(tmp)).items()}
    doiuse = doiuse_side({label: side[0] for label, side in sides.items()})
    result = {}
    for label, (_, flagged, detected, seconds) in sides.items():
        theirs, doiuse_seconds = doiuse[label]
        rows = {}
        for title in sorted(theirs):
            if title in flagged:
                rows[title] = "flagged by both"
            elif title in detected:
                rows[title] = "detected by mailtpl; its caniemail data (newer) gives these clients full support"
            elif title in DELIBERATE:
                rows[title] = "deliberate: " + DELIBERATE[title]
            else:
                rows[title] = "MISSED by mailtpl"
        result[label] = {"rows": rows, "only_mailtpl": sorted(flagged - theirs), "seconds": seconds,
                         "doiuse_seconds": doiuse_seconds}
    return result


def main() -> None:
    if not shutil.which("node") or not PACKAGE.exists():
        sys.exit("needs node and `npm install --prefix bench @jsx-email/doiuse-email`")
    result = compare()
    missed = 0
    for label, entry in result.items():
        print(f"\n{label}: doiuse-email flags {len(entry['rows'])} features in {entry['doiuse_seconds'] * 1000:.1f} "
              f"ms; mailtpl lint {entry['seconds'] * 1000:.1f} ms (both warm; mailtpl renders each sample-data "
              f"set twice, as sent and traced, and runs every rule)")
        for title, verdict in entry["rows"].items():
            missed += verdict.startswith("MISSED")
            print(f"  {title:55} {verdict}")
        if entry["only_mailtpl"]:
            print(f"  only mailtpl flags: {', '.join(entry['only_mailtpl'])}")
    print(f"\nfeatures doiuse-email flags that mailtpl misses: {missed}")


if __name__ == "__main__":
    main()
