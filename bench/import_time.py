"""Import time: `import mailtpl` and a precompiled template module, against pybars3.

    python bench/import_time.py [N]

Each figure is the median over N fresh interpreters (default 15) of the cumulative
time `python -X importtime` gives the module. Targets (issue 10): `import mailtpl`
under 80 ms, importing a template precompiled from bench/email_15k.hbs under 40 ms.
pybars3 is what a user would pick instead: `import pybars` and the same template
precompiled by pybars3 (whose modules import pybars).
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HEAVY = ("pybars", "premailer", "cssutils", "requests", "lxml")


def importtime(statement: str, module: str, path: list[Path]) -> tuple[float, list[str]]:
    """Milliseconds `-X importtime` gives the top-level import of ``module`` when a fresh interpreter runs
    ``statement``, and the heavy dependencies it loaded."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, path))}
    probe = f"{statement}\nimport sys; print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))"
    run = subprocess.run([sys.executable, "-X", "importtime", "-c", probe], env=env, cwd=path[-1],
                         capture_output=True, text=True, check=True)
    for line in run.stderr.splitlines():
        fields = line.partition("import time:")[2].split("|")
        if len(fields) == 3 and fields[2] == f" {module}":
            return int(fields[1]) / 1000, eval(run.stdout.strip())  # noqa: S307 - a list of names we printed
    raise SystemExit(f"no import time for {module}: {run.stderr[-500:]}")


def median(statement: str, module: str, path: list[Path], runs: int) -> tuple[float, list[str]]:
    times, heavy = [], []
    for _ in range(runs):
        ms, heavy = importtime(statement, module, path)
        times.append(ms)
    return statistics.median(times), heavy


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    sys.path.insert(0, str(ROOT))
    import pybars

    from mailtpl import Compiler

    source = (HERE / "email_15k.hbs").read_text()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "tpl_mailtpl.py").write_text(Compiler().precompile(source, name="email_15k.hbs"))
        (folder / "tpl_pybars.py").write_text(pybars.Compiler().precompile(source))
        path = [ROOT, folder]
        cases = [
            ("import mailtpl", "mailtpl", 80, ("import pybars", "pybars")),
            ("import tpl_mailtpl  # precompiled template", "tpl_mailtpl", 40, ("import tpl_pybars", "tpl_pybars")),
            # what `from mailtpl import Environment` loads (importlib's imports are not timed: import it directly)
            ("import mailtpl.environment", "mailtpl.environment", None, None),
        ]
        print(f"median of {runs} fresh interpreters, python -X importtime (cumulative), {sys.executable}")
        print(f"{'':44} {'mailtpl':>9} {'target':>7} {'pybars3':>9} {'ratio':>6}  heavy modules loaded")
        for statement, module, target, other in cases:
            ours, heavy = median(statement.split("  #")[0], module, path, runs)
            theirs = median(*other, path, runs)[0] if other else None
            print(f"{statement:44} {ours:7.1f}ms {f'<{target}ms' if target else '':>7} "
                  f"{f'{theirs:7.1f}ms' if theirs else 'n/a':>9} {f'{theirs / ours:5.1f}x' if theirs else '':>6}  "
                  f"{', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()
