"""Differential fuzzing: random templates and data, rendered by handlebars.js 4.7.10 and by mailtpl.

    npm install --prefix /tmp/hbs handlebars@4.7.10
    NODE_PATH=/tmp/hbs/node_modules python3 tools/differential.py --seed 1 --count 1500 [--strict]

Prints each case where the two disagree, reduced to a small template. Expected differences (README):
adjacent unescaped values, which handlebars.js joins with JavaScript's + ({{{a}}}{{{b}}} with -1 and 0).
New cases worth keeping go into tests/data/extra_cases.py, then through oracle.js into extra.json.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailtpl import Compiler, PybarsError  # noqa: E402

ORACLE = ROOT.parent / "shared" / "conformance" / "oracle.js"
NAMES = ["a", "b", "c", "xs", "o", "n", "s"]
PARTIALS = {
    "p": ["P{{a}}", "[{{> @partial-block}}]", "line1\n{{b}}\nline2\n", "{{#each xs}}<{{this}}>{{/each}}", "{{k}}|{{../a}}"],
    "q": ["Q{{k}}", "{{#if a}}qa{{else}}qn{{/if}}\n", "  q\n  {{> p}}\n"],
    "r": ["{{#with o}}{{n}}{{/with}}", "R\n"],
    "lay": ["<L>\n  {{> @partial-block}}\n</L>\n"],
}


class Generator:
    def __init__(self, seed: int, options: dict | None = None) -> None:
        self.rng = random.Random(seed)
        self.options = options or {}

    def path(self) -> str:
        r = self.rng.random()
        if r < 0.1:
            return "this"
        if r < 0.15:
            return "."
        if r < 0.25:
            return "../" + self.rng.choice(NAMES)
        if r < 0.4:
            return self.rng.choice(["@index", "@key", "@first", "@last", "@root.a"])
        if r < 0.5:
            return self.rng.choice(NAMES) + "." + self.rng.choice(NAMES + ["length", "[0]", "[1]"])
        return self.rng.choice(NAMES)

    def expr(self) -> str:
        r = self.rng.random()
        if r < 0.1:
            key = self.rng.choice(["'a'", "0", "@index", self.path()])
            return f"(lookup {self.path()} {key})"
        if r < 0.15:
            return self.rng.choice(["true", "false", "null", "0", "1", "'str'", '"q"'])
        return self.path()

    def ws(self) -> str:
        return self.rng.choice(["", "", "\n", "  ", "\n  ", " "])

    def tilde(self) -> str:
        return self.rng.choice(["~", "", "", ""])

    def body(self, depth: int, most: int) -> str:
        return "".join(self.stmt(depth + 1) for _ in range(self.rng.randint(0, most)))

    def stmt(self, depth: int) -> str:
        r, t, ws = self.rng.random(), self.tilde, self.ws
        if depth > 3 or r < 0.3:
            return self.rng.choice(["x", "<b>", " ", "\n", "&", "text ", "{{! note }}", "\n  {{!-- a }} b --}}\n",
                                    "\\{{a}}", "\\\\{{a}}"])
        if r < 0.36:  # a mustache section: a list iterates, an object is the context, true/false/null
            name, kind = self.rng.choice(NAMES + ["."]), self.rng.choice(["#", "#", "^"])
            inverse = "{{else}}" + self.body(depth, 1) if self.rng.random() < 0.2 else ""
            return ws() + "{{" + t() + kind + name + t() + "}}" + ws() + self.body(depth, 3) + inverse + "{{/" + name + "}}" + ws()
        if r < 0.5:
            return "{{" + t() + self.rng.choice(["", "&"]) + self.expr() + t() + "}}"
        if r < 0.55:
            return "{{{" + self.expr() + "}}}"
        if r < 0.62:
            arg = self.rng.choice(["", "", " " + self.expr(), " k=" + self.expr(), f" {self.path()} k='v'"])
            return ws() + "{{" + t() + "> " + self.rng.choice(["p", "q", "r"]) + arg + t() + "}}" + ws()
        if r < 0.68:
            name = self.rng.choice(["p", "q", "lay", "missing"])
            return ws() + "{{#> " + name + "}}" + ws() + self.body(depth, 3) + ws() + "{{/" + name + "}}" + ws()
        if r < 0.71:
            return ws() + '{{#*inline "q"}}' + ws() + self.body(depth, 2) + "{{/inline}}" + ws()
        helper = self.rng.choice(["if", "unless", "each", "with", "each", "if"])
        params = " as |v k|" if helper in ("each", "with") and self.rng.random() < 0.3 else ""
        arg = self.expr() + (" includeZero=true" if helper == "if" and self.rng.random() < 0.2 else "")
        inverse = ""
        if self.rng.random() < 0.4:
            chain = " if " + self.expr() if self.rng.random() < 0.3 else ""
            inverse = ws() + "{{" + t() + "else" + chain + t() + "}}" + ws() + self.body(depth, 2)
        return (ws() + "{{" + t() + "#" + helper + " " + arg + params + t() + "}}" + ws() + self.body(depth, 3)
                + inverse + ws() + "{{" + t() + "/" + helper + t() + "}}" + ws())

    def data(self, depth: int = 0):
        r = self.rng.random()
        if depth > 2 or r < 0.4:
            return self.rng.choice([0, 1, 2.5, -1, "", "s<&>", True, False, None, "0"])
        if r < 0.7:
            return [self.data(depth + 1) for _ in range(self.rng.randint(0, 3))]
        return {k: self.data(depth + 1) for k in self.rng.sample(NAMES, self.rng.randint(0, 4))}

    def case(self, index: int) -> dict:
        return {"name": f"diff/{index}", "template": "".join(self.stmt(0) for _ in range(self.rng.randint(1, 4))),
                "data": {k: self.data() for k in NAMES}, "options": self.options, "helpers": [],
                "partials": {name: self.rng.choice(sources) for name, sources in PARTIALS.items()}}


def oracle(cases: list[dict]) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.json", Path(tmp) / "out.json"
        src.write_text(json.dumps(cases))
        subprocess.run(["node", str(ORACLE), str(src), str(out)], check=True, capture_output=True)
        return json.loads(out.read_text())


def render(case: dict) -> str:
    options = {re.sub(r"[A-Z]", lambda m: "_" + m.group().lower(), k): v for k, v in case["options"].items()}
    return Compiler().compile(case["template"], **options)(case["data"], partials=case["partials"])


def differs(case: dict) -> bool:
    try:
        got = render(case)
    except PybarsError:
        return "error" not in case
    return "error" in case or got != case["expected"]


def reduce(case: dict) -> dict:
    """Drop pieces of the template while the difference stays (each round is one oracle run)."""
    pieces = [p for p in re.split(r"(\{\{[^}]*\}\}\}?)", case["template"]) if p]
    while True:
        candidates = [pieces[:i] + pieces[j:] for i in range(len(pieces)) for j in range(i + 1, min(len(pieces), i + 4) + 1)]
        results = oracle([dict(case, template="".join(c)) for c in candidates]) if candidates else []
        smaller = next((candidates[k] for k, c in enumerate(results) if differs(c)), None)
        if smaller is None:
            return oracle([dict(case, template="".join(pieces))])[0]
        pieces = smaller


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=1500)
    parser.add_argument("--strict", action="store_true", help="compile with strict mode on both sides")
    parser.add_argument("--compat", action="store_true", help="compile with compat (recursive lookup) on both sides")
    parser.add_argument("--explicit-partial-context", action="store_true", help="and explicitPartialContext")
    args = parser.parse_args()
    options = {"strict": args.strict, "compat": args.compat, "explicitPartialContext": args.explicit_partial_context}
    generator = Generator(args.seed, {k: v for k, v in options.items() if v})
    cases = oracle([generator.case(i) for i in range(args.count)])
    different = [c for c in cases if differs(c)]
    print(f"{len(cases)} cases ({sum('error' in c for c in cases)} handlebars.js errors), {len(different)} differ")
    for case in different:
        small = reduce(case)
        try:
            ours = render(small)
        except PybarsError as exc:
            ours = f"error: {exc}"
        print(f"\n{small['template']!r}\n  data:          {json.dumps(small['data'])}"
              f"\n  handlebars.js: {small.get('expected', 'error: ' + str(small.get('error')))!r}\n  mailtpl:       {ours!r}")


if __name__ == "__main__":
    main()
