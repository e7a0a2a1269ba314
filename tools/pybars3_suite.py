"""Run pybars3's own test suite with ``pybars.Compiler`` replaced by ``mailtpl.Compiler``.

    python tools/pybars3_suite.py                          # pip download the pybars3 0.9.7 sdist
    python tools/pybars3_suite.py /tmp/pybars3-0.9.7.tar.gz  # or an sdist (or its extracted folder) you have
    NODE_PATH=.../node_modules python tools/pybars3_suite.py --oracle  # and render again in handlebars.js 4.7.10

pybars3's tests are copied into a temporary folder (never into this repository) next to a
conftest.py that swaps the compiler in, and run by pytest in a subprocess. Each failure is
printed with its class from KNOWN:

(a) pybars3 disagrees with handlebars.js 4.7.10 and mailtpl follows handlebars.js. The
    handlebars.js output is an oracle case in tests/data/extra.json (tests/test_conformance.py
    checks mailtpl against it; ``--oracle`` runs ../shared/conformance/oracle.js over those cases
    again and checks the recorded output), or, for Python objects JSON cannot hold, the output of
    the JavaScript twin of the test (recorded here; ``--oracle`` evaluates the twin in node again)
    and checked by a test in tests/test_pybars_compat.py;
(c) the test depends on what is not pybars3's public contract: its internals (a module per
    template) or the exact text of its error messages.

A failure not in KNOWN is printed as "(b?) unclassified": a mailtpl bug until shown otherwise,
and the exit status is 1. With ``--oracle``, every render the suite makes whose data and partials
JSON can hold (and that passes no helpers) is also rendered by handlebars.js: a passing pybars3
test may still hide a place where mailtpl follows pybars3 instead of handlebars.js. Each such
difference is a "(b?)" too.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT.parent / "shared" / "conformance" / "oracle.js"
SDIST = "pybars3==0.9.7"

CONFTEST = '''\
"""Written by mailtpl's tools/pybars3_suite.py: pybars3's tests get mailtpl's Compiler.

With MAILTPL_RECORD set, each render a test makes whose data and partials JSON can hold (and that
has no helpers) is appended to that file with mailtpl's output, for oracle.js to render again.
"""
import json
import math
import os

import pybars
import mailtpl
from mailtpl.runtime import Template

pybars.Compiler = mailtpl.Compiler
RECORD = os.environ.get("MAILTPL_RECORD")


def _plain(value):
    """Whether JSON holds ``value`` unchanged: dicts with str keys, lists, str, finite numbers, bools, None."""
    if type(value) is dict:
        return all(type(k) is str and _plain(v) for k, v in value.items())
    if type(value) is list:
        return all(_plain(v) for v in value)
    if type(value) is float:
        return math.isfinite(value)
    return value is None or type(value) in (str, int, bool)


def _record(template, context, partials, outcome):
    sources = {k: v.source for k, v in (partials or {}).items() if isinstance(v, Template)}
    if len(sources) != len(partials or {}) or not _plain(context):
        return
    case = {"name": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0], "template": template.source,
            "data": context, "partials": sources, **outcome}
    with open(RECORD, "a", encoding="utf-8") as out:
        out.write(json.dumps(case) + "\\n")


if RECORD:
    _render = Template.__call__
    _depth = []

    def _recording(self, context=None, helpers=None, partials=None, *args, **kwargs):
        outer = not _depth and not helpers and not args and not kwargs
        _depth.append(self)
        try:
            result = _render(self, context, helpers, partials, *args, **kwargs)
        except Exception as exc:
            if outer:
                _record(self, context, partials, {"mailtpl_error": str(exc)})
            raise
        finally:
            _depth.pop()
        if outer:
            _record(self, context, partials, {"mailtpl": result})
        return result

    Template.__call__ = _recording
'''


@dataclass(frozen=True)
class Known:
    """Why a pybars3 test fails with mailtpl's Compiler, and where the proof is."""

    kind: str  # "a" or "c"
    why: str
    case: str = ""  # (a): the oracle case in tests/data/extra.json that holds handlebars.js's output
    # (a) on Python objects JSON cannot hold: handlebars.js's output for the JavaScript twin of the test's data,
    # the twin (a JavaScript expression that renders it; --oracle evaluates it again), and the test in
    # tests/test_pybars_compat.py that checks mailtpl does the same
    handlebars: str = ""
    js: str = ""
    test: str = ""


def _a(why: str, case: str = "", handlebars: str = "", js: str = "", test: str = "") -> Known:
    return Known("a", why, case, handlebars, js, test)


RAW = ("a raw block whose helper does not exist renders nothing (blockHelperMissing over undefined); "
       "pybars3 prints its body")
PROTO = "handlebars.js 4.6+ reads only own properties; pybars3 reads {what}"
MESSAGE = ("the test compares the exact text of pybars3's error message; mailtpl's message is a TemplateError (a "
           "PybarsError) that names file:line:column, shows the line and contains {wording}")

KNOWN: dict[str, Known] = {
    "test_attribute_precedence": _a(
        PROTO.format(what="a dict subclass's class attribute"), handlebars="",
        js='H.compile("{{hello.world}}")({hello: Object.create({world: "goodbye"})})',
        test="test_class_attribute_of_a_dict_subclass_is_not_read"),
    "test_context_with_attrs": _a(
        PROTO.format(what="properties"), handlebars="! cruel world!",
        js='H.compile("{{#each .}}{{text}}! {{/each}}cruel world!")([new (class { get text() { return "Goodbye"; } })])',
        test="test_property_and_get_method_are_not_read"),
    "test_resolve_with_attrs": _a(
        PROTO.format(what="properties and calls an object's get(name)"), handlebars="! ! Goodbye! ",
        js='H.compile("{{#each .}}{{test.text}}! {{/each}}")([{test: new (class { get text() { return "Hello"; } })}, '
           '{test: new (class { get(n) { return {text: "Hi"}[n]; } })}, {test: {text: "Goodbye"}}])',
        test="test_property_and_get_method_are_not_read"),
    "test_in_cases_of_conflict_helpers_before_context": _a(
        "a builtin helper (lookup) replaced by a value is called in handlebars.js, which throws "
        "'lookupProperty(...).call is not a function'; mailtpl raises TemplateRuntimeError, pybars3 prints the value",
        handlebars="(error) lookupProperty(...).call is not a function",
        js='H.compile("{{lookup}}")({lookup: "Explicit"}, {helpers: {lookup: "helpers"}})',
        test="test_builtin_helper_replaced_by_a_value_is_an_error"),
    "test_block_tag_whitespace": _a("a standalone closing tag keeps the newline before it",
                                    case="pybars3/standalone-block-keeps-last-newline"),
    "test_helper_block_with_complex_lookup": _a(
        "options.fn(this) on the helper's own context pushes no depth, so ../ reaches above the root",
        case="pybars3/dotdot-in-helper-block-on-same-context"),
    "test_parent_lookup": _a("@_parent is handlebars.js's parent @data frame, not the parent context",
                             case="pybars3/parent-data-frame-is-not-parent-context"),
    "test_invalid_python_identifiers_cannot_be_used_as_keyword_arguments": _a(
        "a hash key need not be a Python identifier (0x=...), and a missing helper with only a hash renders nothing",
        case="pybars3/hash-key-not-python-identifier"),
    "test_markdow_and_html_in_raw_block": _a(RAW, case="pybars3/raw-block-without-helper"),
    "test_raw_block": _a(RAW, case="pybars3/raw-block-without-helper"),
    "test_raw_block_with_spaces": _a(RAW, case="pybars3/raw-block-without-helper"),
    "test_nested_raw_blocks": _a(RAW, case="pybars3/nested-raw-blocks-without-helper"),
    "test_raw_block_in_block": _a(RAW, case="pybars3/raw-block-without-helper-in-sections"),
    "test_raw_block_in_inverted_block": _a(RAW, case="pybars3/raw-block-without-helper-in-sections"),
    "test_compile_with_path": Known(
        "c", "the test looks for the module pybars3 registers per compiled template "
             "(sys.modules['pybars._templates._project_widgets_templates']); mailtpl registers none "
             "(tests/test_compiler_api.py::test_compile_registers_no_modules); "
             "compile(source, path=...) itself passes"),
    "test_failing_dynamic_partials": Known(
        "c", MESSAGE.format(wording="pybars3's 'The partial missing could not be found'")),
    "test_invalid_closing_tags": Known("c", MESSAGE.format(wording="handlebars.js's 'Parse error on line 1'")),
    "test_missing_bracket": Known("c", MESSAGE.format(wording="handlebars.js's 'Parse error on line 1'")),
}
EXTRA = ROOT / "tests" / "data" / "extra.json"


def fetch(spec: str, folder: Path) -> Path:
    """``pip download`` the sdist of ``spec`` into ``folder``; the archive's path."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                    "--dest", str(folder), spec], check=True)
    return next(folder.glob("pybars3-*.tar.gz"))


def tests_folder(source: Path, folder: Path) -> Path:
    """pybars3's ``tests`` package, from an sdist archive or an extracted sdist, copied under ``folder``."""
    if source.is_file():
        with tarfile.open(source, "r:gz") as tar:
            tar.extractall(folder / "sdist", filter="data")
        source = next((folder / "sdist").iterdir())
    run = folder / "run"
    shutil.copytree(source / "tests", run / "tests")
    (run / "conftest.py").write_text(CONFTEST)
    return run


def run_suite(run: Path, record: Path | None = None) -> ET.Element:
    """pytest over pybars3's tests (mailtpl from this checkout); the junit XML report.

    With ``record``, the renders JSON can hold are written there (see CONFTEST).
    """
    report = run / "report.xml"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    if record is not None:
        env["MAILTPL_RECORD"] = str(record)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:mailtpl",
                           f"--junitxml={report}", "tests"], cwd=run, env=env, capture_output=True, text=True)
    if not report.exists():
        raise SystemExit(f"pytest did not run pybars3's suite:\n{done.stdout}{done.stderr}")
    return ET.parse(report).getroot()


def results(report: ET.Element) -> tuple[list[str], dict[str, str]]:
    """Names of the passed tests, and the first line of each failure by test name."""
    passed, failed = [], {}
    for case in report.iter("testcase"):
        name = case.get("name", "")
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is None:
            passed.append(name)
        else:
            failed[name] = (problem.get("message") or "").partition("\n")[0]
    return passed, failed


def recorded(name: str) -> str:
    """handlebars.js's output for a class (a) failure, as recorded in extra.json or in KNOWN."""
    known = KNOWN[name]
    if not known.case:
        return known.handlebars
    case = next((c for c in json.loads(EXTRA.read_text()) if c["name"] == known.case), None)
    if case is None:
        return f"(no case {known.case} in {EXTRA})"
    return case["expected"] if "expected" in case else f"(error) {case['error']}"


def oracle(cases: list[dict]) -> list[dict]:
    """The cases as oracle.js returns them: each with handlebars.js's ``expected`` output or ``error``."""
    with tempfile.TemporaryDirectory() as tmp:
        given, out = Path(tmp) / "cases.json", Path(tmp) / "out.json"
        given.write_text(json.dumps(cases))
        subprocess.run(["node", str(ORACLE), str(given), str(out)], check=True, stdout=subprocess.DEVNULL)
        return json.loads(out.read_text())


def _outcome(case: dict) -> str:
    return repr(case["expected"]) if "expected" in case else f"error {case.get('error')!r}"


TWINS = """
const H = require('handlebars'); H.log = () => {};
const out = {};
for (const [name, twin] of Object.entries(JSON.parse(process.argv[1]))) {
  try { out[name] = eval(twin); } catch (e) { out[name] = '(error) ' + String(e.message).split('\\n')[0]; }
}
console.log(JSON.stringify(out));
"""


def recheck_known(names: list[str]) -> list[str]:
    """Render the (a) cases of ``names`` in handlebars.js again (extra.json's with oracle.js, the JavaScript twins
    with node); the cases whose output is not the recorded one.

    That mailtpl renders each as recorded is tests/test_conformance.py's and tests/test_pybars_compat.py's job.
    """
    wanted = {KNOWN[name].case for name in names} - {""}
    cases = [c for c in json.loads(EXTRA.read_text()) if c["name"] in wanted]
    wrong = [f"{c['name']}: recorded {_outcome(c)}, oracle.js now {_outcome(again)}"
             for c, again in zip(cases, oracle(cases)) if again != c]
    twins = {name: KNOWN[name].js for name in names if KNOWN[name].js}
    done = subprocess.run(["node", "-e", TWINS, json.dumps(twins)], check=True, capture_output=True, text=True)
    rendered = json.loads(done.stdout)
    wrong += [f"{name}: recorded {KNOWN[name].handlebars!r}, handlebars.js now {rendered[name]!r}"
              for name in twins if rendered[name] != KNOWN[name].handlebars]
    return wrong


def compare_renders(record: Path) -> tuple[int, list[str]]:
    """The recorded renders of the suite again in handlebars.js: how many, and where mailtpl's output differs.

    Both raising counts as agreeing (the messages differ by design)."""
    renders = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()] if record.exists() else []
    ours = [case.pop("mailtpl", None) for case in renders]
    failed = [case.pop("mailtpl_error", None) for case in renders]
    differ = []
    for case, theirs, mine, error in zip(renders, oracle(renders), ours, failed):
        if ("error" in theirs) != (error is not None) or ("error" not in theirs and theirs["expected"] != mine):
            differ.append(f"{case['name']}: {case['template']!r} with {json.dumps(case['data'])}: handlebars.js "
                          f"{_outcome(theirs)}, mailtpl {repr(mine) if error is None else f'error {error!r}'}")
    return len(renders), differ


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", nargs="?", type=Path, help="a pybars3 sdist (.tar.gz) or its extracted folder")
    parser.add_argument("--oracle", action="store_true", help="re-check (a) with oracle.js (NODE_PATH with handlebars)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = args.source or fetch(SDIST, folder)
        record = folder / "renders.jsonl" if args.oracle else None
        passed, failed = results(run_suite(tests_folder(source, folder), record))
        renders, differ = compare_renders(record) if record else (0, [])
    print(f"pybars3 suite with mailtpl.Compiler: {len(passed)} passed, {len(failed)} failed "
          f"of {len(passed) + len(failed)}")
    unknown = 0
    for name, message in sorted(failed.items()):
        known = KNOWN.get(name)
        if known is None:
            unknown += 1
            print(f"  (b?) {name}: unclassified: {message}")
        elif known.kind == "a":
            proof = f"extra.json {known.case!r}" if known.case else f"tests/test_pybars_compat.py::{known.test}"
            print(f"  (a) {name}: {known.why}; handlebars.js 4.7.10: {recorded(name)!r} ({proof})")
        else:
            print(f"  (c) {name}: {known.why}")
    for name in sorted(set(KNOWN) - set(failed)):
        print(f"  note: {name} is listed in KNOWN but passes now")
    if args.oracle:
        checked = sorted(n for n in failed if n in KNOWN and KNOWN[n].kind == "a")
        wrong = recheck_known(checked)
        for line in wrong:
            print(f"  oracle disagrees: {line}")
        print(f"handlebars.js re-rendered the cases of {len(checked)} (a) failures: {len(wrong)} disagree")
        for line in differ:
            print(f"  (b?) mailtpl differs from handlebars.js: {line}")
        print(f"oracle.js rendered the suite's {renders} renders that JSON can hold (no helpers): "
              f"{len(differ)} differ from mailtpl")
        unknown += len(wrong) + len(differ)
    return 1 if unknown else 0


if __name__ == "__main__":
    sys.exit(main())
