"""Where a render spends its time: cProfile of bench/compile_render.py's two render benchmarks.

    python bench/profile_render.py [top]

Prints the top entries (default 12) sorted by own time for the 15 KB email rendered 20,000 times and the
1000-row ``each`` rendered 500 times, and the generated module's functions by name (``_main``, block
bodies ``_pN``, compiled each loops ``_lN``: read them with ``Compiler().precompile(source)``).
The profiler's own cost inflates the times several-fold; compare call counts and shares, not seconds.
"""
from __future__ import annotations

import cProfile
import io
import pstats
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]  # bench/email.py shadows email
sys.path.insert(0, str(HERE.parent))

from bench.compile_render import EMAIL, EMAIL_DATA, ROWS, ROWS_DATA  # noqa: E402
from mailtpl import Compiler  # noqa: E402


def profile(label: str, source: str, data: dict, renders: int, top: int) -> None:
    template = Compiler().compile(source)
    template(data)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(renders):
        template(data)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    text = out.getvalue()
    print(f"== {label}: {stats.total_calls / renders:.0f} function calls per render")
    print(text[text.index("   ncalls"):].rstrip())


def main() -> None:
    top = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    profile("render 15 KB email x 20000", EMAIL, EMAIL_DATA, 20000, top)
    profile("each 1000 rows x 500", ROWS, ROWS_DATA, 500, top)


if __name__ == "__main__":
    main()
