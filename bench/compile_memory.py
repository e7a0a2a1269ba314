"""Peak memory and time to compile long templates: 0.1, 1.2 and 5 MB of ``{{x}} `` repeated, at the top
level and inside a block (``{{#if x}}...{{/if}}``).

    python bench/compile_memory.py [MB ...]

Each size is compiled in a fresh subprocess, so its peak RSS (ru_maxrss) is its own; the table also
gives the size of the generated Python module. pybars3 is left out: it needs minutes for 1 MB.
Target (issue 9): 1.2 MB compiles in under 400 MB peak RSS.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]  # bench/email.py shadows email
sys.path.insert(0, str(HERE.parent))

from bench._timing import table  # noqa: E402

CHILD = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from mailtpl import Compiler
body = "{{x}} " * int(float(sys.argv[1]) * 1e6 / 6)
source = sys.argv[3] % body
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
code = Compiler().precompile(source, name="big.hbs")
template = Compiler().template(code)
seconds = time.perf_counter() - start
assert template({"x": "a"}) == "a " * (len(body) // 6)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_kb": peak, "baseline_kb": baseline, "code": len(code),
                  "source": len(source)}))
"""


WHERE = {"top level": "%s", "inside a block": "{{#if x}}%s{{/if}}"}


def measure(megabytes: float, wrap: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(megabytes), str(HERE.parent), wrap],
                          capture_output=True, text=True, check=True, timeout=1800)
    return json.loads(proc.stdout)


def main() -> None:
    sizes = [float(a) for a in sys.argv[1:]] or [0.1, 1.2, 5.0]
    rows = []
    for size in sizes:
        for where, wrap in WHERE.items():
            r = measure(size, wrap)
            rows.append([f"{r['source'] / 1e6:.1f} MB", where, f"{r['seconds']:.2f} s", f"{r['peak_kb'] / 1024:.0f} MB",
                         f"{(r['peak_kb'] - r['baseline_kb']) / 1024:.0f} MB", f"{r['code'] / 1e6:.1f} MB",
                         f"{r['code'] / r['source']:.0f}x"])
    print(f"Python {sys.version.split()[0]}; template: '{{{{x}}}} ' repeated")
    print(table(["template", "where", "compile", "peak RSS", "above start", "generated", "generated/source"], rows))


if __name__ == "__main__":
    main()
