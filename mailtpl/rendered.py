"""What rendering an email produces."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    name: str
    subject: str
    html: str
    text: str
    inlining: str = "off"  # "compile-time", "per-render" or "off"
