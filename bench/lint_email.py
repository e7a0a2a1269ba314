"""Time lint of a finished email (the inbox's Lint view) against lint of its templates (``mailtpl lint``).

    python3 bench/lint_email.py

For each shipped email with its first sample-data set: the fastest of several warm runs of
``lint_email(rendered)`` and of ``Linter.lint(name, fixture=...)`` (which renders twice: as sent and traced).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]  # bench/email.py is not email
sys.path.insert(0, str(ROOT))

from mailtpl.lint import Linter, lint_email  # noqa: E402
from mailtpl.snapshots import preview_environment  # noqa: E402

RUNS = 7


def fastest(run) -> float:
    best = float("inf")
    for _ in range(RUNS):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    env = preview_environment(ROOT / "templates")
    linter = Linter(env)
    for name in env.names():
        fixture = next(iter(env.loader.fixtures(name)))
        rendered = env.render(name, fixture=fixture)
        linter.lint(name, fixture=fixture)  # warm: templates compiled, caniemail's data loaded
        finished = fastest(lambda: lint_email(rendered, clients=linter.clients))
        templates = fastest(lambda: linter.lint(name, fixture=fixture))
        print(f"{name:14} {len(rendered.html) / 1024:5.1f} KB  lint_email {finished * 1000:6.1f} ms  "
              f"Linter.lint {templates * 1000:6.1f} ms  ({templates / finished:.1f}x)")


if __name__ == "__main__":
    main()
