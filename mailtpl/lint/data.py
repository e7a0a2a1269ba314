"""caniemail's support tables (``caniemail.json``, written by tools/caniemail.py) and the clients to target.

A client selector is ``family[.platform][@version]`` where ``@version`` is one
tested version or a range ``@low..high`` (``outlook.windows@2016..2021``).
Without a version a client is judged by its most recent test (caniemail lists
results oldest first). :data:`DEFAULT_CLIENTS` targets Gmail (web and apps; not
its mobile-web fallback view, which drops every ``<style>``),
Outlook 2016-2021 for Windows and Outlook.com, Apple Mail (macOS and iOS),
Yahoo and Samsung Email.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

DATA_FILE = Path(__file__).with_name("caniemail.json")
DEFAULT_CLIENTS = ("gmail.desktop-webmail", "gmail.ios", "gmail.android", "outlook.windows@2016..2021", "outlook.outlook-com", "apple-mail", "yahoo",
                   "samsung-email")


@functools.cache
def data() -> dict:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


@functools.cache
def features() -> dict[str, dict]:
    """slug -> feature."""
    return {feature["slug"]: feature for feature in data()["features"]}


@functools.cache
def platforms() -> dict[str, tuple[str, ...]]:
    """family -> the platforms caniemail has results for."""
    found: dict[str, set[str]] = {}
    for feature in data()["features"]:
        for family, by_platform in feature["stats"].items():
            found.setdefault(family, set()).update(by_platform)
    return {family: tuple(sorted(found[family])) for family in sorted(found)}


def _version_key(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else -1 for part in re.split(r"[.]", version))


@dataclass(frozen=True)
class Client:
    """One platform of one client family, at one tested version or a range of them."""

    family: str
    platform: str
    low: str | None = None
    high: str | None = None

    @property
    def label(self) -> str:
        names = data()["nicenames"]
        family = names["family"].get(self.family, self.family)
        platform = names["platform"].get(self.platform, self.platform)
        versions = "" if self.low is None else f" {self.low}" if self.low == self.high else f" {self.low}-{self.high}"
        return f"{family}{versions} ({platform})"

    @property
    def id(self) -> str:
        version = "" if self.low is None else f"@{self.low}" if self.low == self.high else f"@{self.low}..{self.high}"
        return f"{self.family}.{self.platform}{version}"

    def results(self, feature: dict) -> list[tuple[str, str]]:
        """(version, caniemail's result such as "y", "n", "a #1") for the versions this client covers."""
        tested = feature["stats"].get(self.family, {}).get(self.platform)
        if not tested:
            return []
        if self.low is None:
            version = list(tested)[-1]
            return [(version, tested[version])]
        low, high = _version_key(self.low), _version_key(self.high)
        return [(version, result) for version, result in tested.items()
                if re.fullmatch(r"\d+(\.\d+)*", version) and low <= _version_key(version) <= high]


def parse_clients(selectors: list[str] | tuple[str, ...]) -> list[Client]:
    """Clients for selectors like ``gmail``, ``apple-mail.ios``, ``outlook.windows@2016..2021``.

    ValueError names an unknown family or platform and the known ones."""
    clients: list[Client] = []
    known = platforms()
    for selector in selectors:
        selector = selector.strip()
        if not selector:
            continue
        name, _, versions = selector.partition("@")
        family, _, platform = name.partition(".")
        if family not in known:
            raise ValueError(f"unknown email client {family!r} in {selector!r}; known: {', '.join(known)}")
        if platform and platform not in known[family]:
            raise ValueError(f"{family} has no platform {platform!r} in caniemail's data; known: "
                             f"{', '.join(known[family])}")
        low = high = None
        if versions:
            low, _, high = versions.partition("..")
            high = high or low
            if not re.fullmatch(r"\d+(\.\d+)*", low) or not re.fullmatch(r"\d+(\.\d+)*", high):
                raise ValueError(f"client version {versions!r} in {selector!r}: give a version or a range "
                                 "like 2016..2021")
        for each in ([platform] if platform else known[family]):
            client = Client(family, each, low, high)
            if client not in clients:
                clients.append(client)
    if not clients:
        raise ValueError("no email clients to check against")
    return clients
