"""Import time: `import mailtpl` and a precompiled template module, against pybars3.

    python bench/import_time.py [N]

Each figure is the median over N fresh interpreters (default 15) of the cumulative
time `python -X importtime` gives the module. Targets (issue 10): `import mailtpl`
under 80 ms, importing a template precompiled from bench/email_15k.hbs under 40 ms.
pybars3 is what a user would pick instead: `import pybars` and the same template
precompiled by pybars3 (whose modules import pybars).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HEAVY = ("pybars", "premailer", "cssutils", "requests", "lxml")


def measure(statement: str, module: str, path: list[Path]) -> tuple[float, float, list[str]]:
    """A fresh interpreter runs ``statement``: the milliseconds `-X importtime` gives the top-level import of
    ``module`` (wall clock), the CPU milliseconds the statement took, and the heavy dependencies it loaded."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, path))}
    probe = (f"import json, sys, time\nstart = time.process_time()\n{statement}\ncpu = time.process_time() - start\n"
             f"print(json.dumps([cpu * 1000, sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})]))")
    run = subprocess.run([sys.executable, "-X", "importtime", "-c", probe], env=env, cwd=path[-1],
                         capture_output=True, text=True, check=True)
    cpu, heavy = json.loads(run.stdout)
    for line in run.stderr.splitlines():
        fields = line.partition("import time:")[2].split("|")
        if len(fields) == 3 and fields[2] == f" {module}":
            return int(fields[1]) / 1000, cpu, heavy
    raise SystemExit(f"no import time for {module}: {run.stderr[-500:]}")


def medians(statement: str, module: str, path: list[Path], runs: int) -> tuple[float, float, list[str]]:
    walls, cpus, heavy = [], [], []
    for _ in range(runs):
        wall, cpu, heavy = measure(statement, module, path)
        walls.append(wall)
        cpus.append(cpu)
    return statistics.median(walls), statistics.median(cpus), heavy


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
            # what `from mailtpl import Compiler` / `Environment` load (-X importtime does not time imports made
            # through importlib, as the package's lazy names are: import the modules directly)
            ("import mailtpl.compiler", "mailtpl.compiler", None, ("import pybars", "pybars")),
            ("import mailtpl.environment", "mailtpl.environment", None, None),
        ]
        print(f"median of {runs} fresh interpreters each ({sys.executable}): -X importtime's cumulative time "
              "(wall clock, as the targets are stated) and the CPU time of the import (less moved by other load)")
        print(f"{'':42} {'mailtpl':>17} {'target':>7} {'pybars3':>19} {'ratio':>6}  heavy modules loaded")
        print(f"{'':42} {'wall':>8} {'cpu':>8} {'':7} {'wall':>9} {'cpu':>9} {'(cpu)':>6}")
        for statement, module, target, other in cases:
            wall, cpu, heavy = medians(statement.split("  #")[0], module, path, runs)
            theirs = f"{'n/a':>19} {'':6}"
            if other:
                their_wall, their_cpu, _ = medians(*other, path, runs)
                theirs = f"{their_wall:7.1f}ms {their_cpu:7.1f}ms {their_cpu / cpu:5.1f}x"
            print(f"{statement:42} {wall:6.1f}ms {cpu:6.1f}ms {f'<{target}ms' if target else '':>7} {theirs}  "
                  f"{', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()
