"""Shared timing for the bench scripts: best-of-repeats per-call time with time.perf_counter."""
from __future__ import annotations

import time
from collections.abc import Callable


def per_call(fn: Callable[[], object], budget: float = 0.4, repeats: int = 5) -> float:
    """Seconds per call: calibrate a batch to ~budget/repeats, then take the best of ``repeats`` batches."""
    fn()
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= budget / repeats or number >= 1_000_000:
            break
        number *= 2
    best = elapsed / number
    for _ in range(repeats - 1):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


def fmt_ratio(other: float | None, ours: float) -> str:
    return "n/a" if other is None else f"{other / ours:.1f}x"


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])
