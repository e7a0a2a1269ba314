"""Compile and render speed: mailtpl against plain pybars3 and (where node has it) handlebars.js.

    python bench/compile_render.py

handlebars.js is used when `node` can load the `handlebars` package, for example after
`npm install --prefix bench handlebars@4.7.10`. Targets (issue 2): compile of the ~15 KB email
<= 5 ms and >= 20x faster than pybars3; render no slower than pybars3; 1000-row each >= 4x faster.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# bench/email.py would shadow the stdlib's email package: keep this folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import pybars  # noqa: E402
from bench._timing import fmt_ratio, fmt_time, per_call, table  # noqa: E402

from mailtpl import Compiler  # noqa: E402

EMAIL = (HERE / "email_15k.hbs").read_text()
EMAIL_DATA = {
    "title": "Verify your email", "baseUrl": "https://feedback.example.com", "productName": "ABC User Feedback",
    "preheader": "Your code is inside", "greeting": "Hello", "email": "ada@example.com", "heading": "Authentication Code",
    "user": {"name": "Ada <Lovelace>", "verified": False}, "code": "482913", "link": "https://x.test/?a=1&b=2",
    "buttonLabel": "Open", "expiresMinutes": 5, "items": [{"name": "step 1", "done": True}, {"name": "step 2", "done": False}],
    "company": {"name": "ABC", "address": "1 Main St"}, "hideUnsubscribe": False,
}
ROWS = "<table>{{#each rows}}<tr><td>{{@index}}</td><td>{{name}}</td><td>{{email}}</td><td>{{#if active}}yes{{else}}no{{/if}}</td></tr>{{/each}}</table>"
ROWS_DATA = {"rows": [{"name": f"user {i}", "email": f"u{i}@example.com", "active": i % 2 == 0} for i in range(1000)]}


def node_timings(cases: dict) -> dict | None:
    node = shutil.which("node")
    if not node:
        return None
    env = dict(os.environ)
    env["NODE_PATH"] = os.pathsep.join(p for p in [str(HERE / "node_modules"), env.get("NODE_PATH", "")] if p)
    try:
        proc = subprocess.run([node, str(HERE / "hbs_bench.js")], input=json.dumps(cases), capture_output=True,
                              text=True, env=env, timeout=300, check=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        print(f"handlebars.js not measured: {getattr(exc, 'stderr', '') or exc}".splitlines()[0], file=sys.stderr)
        return None
    return json.loads(proc.stdout)


def main() -> None:
    ours, theirs = Compiler(), pybars.Compiler()
    email_ours, email_pybars = ours.compile(EMAIL), theirs.compile(EMAIL)
    rows_ours, rows_pybars = ours.compile(ROWS), theirs.compile(ROWS)
    # the engines agree but for "=", which handlebars.js (and mailtpl) escape and pybars3 does not
    assert email_ours(EMAIL_DATA).replace("&#x3D;", "=") == str(email_pybars(EMAIL_DATA)), "engines disagree"

    results = {
        "compile": (per_call(lambda: ours.compile(EMAIL)), per_call(lambda: theirs.compile(EMAIL), budget=2.0, repeats=3)),
        "render": (per_call(lambda: email_ours(EMAIL_DATA)), per_call(lambda: email_pybars(EMAIL_DATA))),
        "rows": (per_call(lambda: rows_ours(ROWS_DATA)), per_call(lambda: rows_pybars(ROWS_DATA))),
    }
    js = node_timings({"email": {"template": EMAIL, "data": EMAIL_DATA}, "rows": {"template": ROWS, "data": ROWS_DATA}})
    js_time = {
        "compile": js and js["email"]["compile"], "render": js and js["email"]["render"], "rows": js and js["rows"]["render"],
    }
    labels = {"compile": f"compile {len(EMAIL.encode()) / 1000:.1f} KB email", "render": f"render {len(EMAIL.encode()) / 1000:.1f} KB email",
              "rows": "render each, 1000 rows"}
    rows = [[labels[k], fmt_time(m), fmt_time(p), fmt_time(js_time[k]), fmt_ratio(p, m), fmt_ratio(js_time[k], m)]
            for k, (m, p) in results.items()]
    print(f"Python {sys.version.split()[0]}, pybars3 {pybars.__version__}" + ("" if js else "; handlebars.js: not found"))
    print(table(["benchmark", "mailtpl", "pybars3", "handlebars.js", "pybars3/mailtpl", "handlebars.js/mailtpl"], rows))


if __name__ == "__main__":
    main()
