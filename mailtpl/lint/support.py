"""How well the targeted clients support a caniemail feature."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .data import Client, features


@dataclass(frozen=True)
class Gap:
    """A client that lacks a feature (``unsupported``) or supports it in part (``partial``)."""

    client: str  # e.g. "Outlook 2016-2021 (Windows)"
    support: str
    versions: tuple[str, ...]  # the tested versions concerned, for a client given a version range
    notes: tuple[str, ...]  # caniemail's notes, "#1 text"

    def __str__(self) -> str:
        versions = f" in {', '.join(self.versions)}" if self.versions else ""
        notes = f" [{'; '.join(self.notes)}]" if self.notes else ""
        return f"{self.client}: {'not supported' if self.support == 'unsupported' else 'partial'}{versions}{notes}"


@functools.cache
def gaps(slug: str, clients: tuple[Client, ...]) -> tuple[Gap, ...]:
    feature = features()[slug]
    found = []
    for client in clients:
        results = client.results(feature)
        lacking = [version for version, result in results if result.startswith("n")]
        partial = [version for version, result in results if result.startswith("a")]
        if not lacking and not partial:
            continue
        numbers = sorted({int(num) for version, result in results if not result.startswith("y")
                          for num in re.findall(r"#(\d+)", result)})
        notes = tuple(f"#{num} {(feature.get('notes_by_num') or {}).get(str(num), '')}".strip() for num in numbers)
        support, versions = ("unsupported", lacking) if lacking else ("partial", partial)
        found.append(Gap(client.label, support, tuple(versions) if client.low is not None else (), notes))
    return tuple(found)
