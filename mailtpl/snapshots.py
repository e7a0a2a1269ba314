"""Snapshots of every email x sample-data set, for review in git and for CI.

``previews/<email>.<fixture>.html`` is the finished HTML and
``previews/<email>.<fixture>.txt`` the subject line plus the plain text.
``previews/index.html`` links them all; ``previews/.mailtpl-snapshots`` lists
the files mailtpl owns there, so stale ones can be removed without touching
anything else. Renders are deterministic: sample data only, the folder's
``preview_base_url``, no dates or ids.

Every file name mailtpl writes, reads or removes there (manifest entries,
``<email>.<set>`` stems) is a plain, portable file name checked by
:func:`unsafe_file_name`; anything else is a :class:`SnapshotError` before a
single file is touched. ``mailtpl build`` and the pytest plugin's
``--mailtpl-update`` both write through :func:`build`.
"""
from __future__ import annotations

import difflib
import html
import json
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from .environment import Environment
from .files import replace_file
from .loader import FileSystemLoader
from .rendered import RenderedEmail

MANIFEST = ".mailtpl-snapshots"
INDEX = "index.html"
_WINDOWS_DEVICES = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])(\..*)?", re.IGNORECASE)
_NOT_PORTABLE = set('<>:"|?*')
_MAX_NAME = 255  # bytes, the usual file-system limit


class SnapshotError(ValueError):
    """A snapshot file name or manifest entry that is not a plain file name inside the snapshot folder."""

    def __init__(self, message: str, entry: object = None) -> None:
        self.message = message
        self.entry = entry
        super().__init__(message, entry)  # its arguments, so that type(err)(*err.args) rebuilds it

    def __str__(self) -> str:
        return self.message


def unsafe_file_name(name: object) -> str | None:
    """Why ``name`` is not a plain file name that stays in its folder on any system; None when it is."""
    if not isinstance(name, str):
        return f"is a {type(name).__name__}, not a file name"
    if name in ("", ".", ".."):
        return "is not a file name"
    if "/" in name or "\\" in name:
        return "contains a path separator"
    if any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in name):
        return "contains a control character"
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in name):
        return "is not valid Unicode (a lone surrogate)"
    if name.startswith("."):
        return "starts with a dot (hidden files are not snapshots)"
    if found := _NOT_PORTABLE.intersection(name):
        return f"contains {''.join(sorted(found))!r}, which Windows does not allow in file names"
    if name.endswith((" ", ".")):
        return "ends with a space or dot, which Windows drops"
    if _WINDOWS_DEVICES.fullmatch(name):
        return "is a reserved device name on Windows"
    if len(name.encode("utf-8")) > _MAX_NAME:
        return f"is longer than {_MAX_NAME} bytes"
    return None


def snapshot_stem(name: str, fixture: str) -> str:
    """``<email>.<set>``, the name of an email's snapshot files; SnapshotError when a set name cannot be one."""
    if reason := unsafe_file_name(name):
        raise SnapshotError(f"email {name!r} cannot name a snapshot file: it {reason}; rename it", name)
    if reason := unsafe_file_name(fixture) or unsafe_file_name(f"{name}.{fixture}.html"):
        raise SnapshotError(f"{name}.preview.json: sample-data set {fixture!r} cannot name a snapshot file: "
                            f"it {reason}; rename the set", fixture)
    return f"{name}.{fixture}"


def snapshot_text(rendered: RenderedEmail) -> str:
    return f"Subject: {rendered.subject}\n\n{rendered.text}"


def preview_environment(templates: str | os.PathLike, **options) -> Environment:
    """An environment whose output does not depend on this machine: ``{{baseUrl}}`` is the folder's
    ``preview_base_url`` (ADMIN_WEB_URL is ignored)."""
    loader = FileSystemLoader(templates)
    return Environment(loader, base_url=loader.preview_base_url, **options)


def snapshot_files(stem: str, rendered: RenderedEmail) -> dict[str, str]:
    """The two snapshot files of one email x sample-data set."""
    return {f"{stem}.html": rendered.html, f"{stem}.txt": snapshot_text(rendered)}


def without_sample_data(env: Environment) -> list[str]:
    """Emails that no snapshot covers, because they have no NAME.preview.json."""
    return [name for name in env.names() if not env.loader.fixtures(name)]


def render_snapshots(env: Environment) -> dict[str, str]:
    """File name -> content for every email x sample-data set, plus the index page."""
    files: dict[str, str] = {}
    entries = []
    seen: dict[str, tuple[str, str]] = {}  # stem as any file system compares it -> (email, set)
    for name in env.names():
        for fixture in env.loader.fixtures(name):
            stem = snapshot_stem(name, fixture)
            if (other := seen.setdefault(_one_file(stem), (name, fixture))) != (name, fixture):
                why = _why_one_file(snapshot_stem(*other), stem)
                raise SnapshotError(f"{name}.preview.json: sample-data set {fixture!r} and set {other[1]!r} of "
                                    f"{other[0]} would both be {stem}.html{why}; rename one", fixture)
            rendered = env.render(name, fixture=fixture)
            files.update(snapshot_files(stem, rendered))
            entries.append((name, fixture, rendered.subject, stem))
    files[INDEX] = _index(entries)
    return files


def _one_file(stem: str) -> str:
    """The name as case-insensitive, normalisation-insensitive file systems (Windows, macOS) compare it."""
    return unicodedata.normalize("NFC", stem).casefold()


def _why_one_file(a: str, b: str) -> str:
    if a == b:
        return ""
    if a.casefold() == b.casefold():
        return " (names that differ only in case are one file on Windows and macOS)"
    return " (the same letters in another Unicode normalisation are one file name on macOS)"


def _href(stem: str) -> str:
    return html.escape(quote(stem))


def _index(entries: list[tuple[str, str, str, str]]) -> str:
    rows = "\n".join(
        f"    <tr><td>{html.escape(name)}</td><td>{html.escape(fixture)}</td><td>{html.escape(subject)}</td>"
        f'<td><a href="{_href(stem)}.html">HTML</a> &middot; <a href="{_href(stem)}.txt">text</a></td></tr>'
        for name, fixture, subject, stem in entries)
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Email previews</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem}}td,th{{padding:.3rem .8rem;text-align:left}}</style>
</head>
<body>
<h1>Email previews</h1>
<p>Generated by <code>mailtpl build</code>. Open a link to see the email as it is sent.</p>
<table>
  <thead><tr><th>Email</th><th>Sample data</th><th>Subject</th><th>Open</th></tr></thead>
  <tbody>
{rows}
  </tbody>
</table>
</body>
</html>
"""


@dataclass
class Comparison:
    changed: dict[str, str] = field(default_factory=dict)  # file -> unified diff
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.changed or self.missing or self.stale)


def _path(out: Path, name: str, *, listed: bool = False) -> Path:
    """``out / name``, only for a plain file name (``listed``: read from the manifest), never a link or folder."""
    reason = unsafe_file_name(name)
    if not reason and listed and not name.endswith((".html", ".txt")):
        reason = "is not a snapshot file (.html or .txt)"
    if reason:
        where = f"{out.name}/{MANIFEST} lists {name!r}, which" if listed else f"snapshot file name {name!r}"
        fix = f" (fix or delete {out.name}/{MANIFEST})" if listed else ""
        raise SnapshotError(f"{where} {reason}; mailtpl only writes and removes plain file names inside "
                            f"{out.name}/{fix}", name)
    path = out / name
    if path.is_symlink():
        raise SnapshotError(f"{out.name}/{name} is a symbolic link; mailtpl does not read, write or remove "
                            "snapshots through links (replace it with the file or delete it)", name)
    if path.is_dir():
        raise SnapshotError(f"{out.name}/{name} is a folder, where mailtpl keeps a snapshot file (move it away)",
                            name)
    _regular_or_missing(path, out, name)
    return path


def _regular_or_missing(path: Path, out: Path, name: str) -> None:
    """A FIFO, socket or device where mailtpl keeps a file would block a read or take the write elsewhere."""
    if path.exists() and not path.is_file():
        raise SnapshotError(f"{out.name}/{name} is not a regular file (a FIFO, socket or device?); mailtpl keeps "
                            "its snapshot files there (move it away)", name)


def _owned(out: Path) -> set[str]:
    """The files the manifest says mailtpl wrote, each checked to be a plain file name in ``out``."""
    manifest = out / MANIFEST
    if manifest.is_symlink():
        raise SnapshotError(f"{out.name}/{MANIFEST} is a symbolic link; delete it and run mailtpl build", MANIFEST)
    _regular_or_missing(manifest, out, MANIFEST)
    if not manifest.exists():
        return set()
    try:
        entries = json.loads(manifest.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"{out.name}/{MANIFEST} is not a JSON list of file names ({exc}); "
                            "delete it and run mailtpl build", MANIFEST) from None
    if not isinstance(entries, list):
        raise SnapshotError(f"{out.name}/{MANIFEST} is not a JSON list of file names; "
                            "delete it and run mailtpl build", MANIFEST)
    for entry in entries:
        _path(out, entry, listed=True)
    return set(entries)


def compare(files: dict[str, str], out: Path) -> Comparison:
    """What differs between ``files`` and the snapshot folder; SnapshotError for any unsafe name."""
    result = Comparison()
    for name, content in sorted(files.items()):
        path = _path(out, name)
        if not path.exists():
            result.missing.append(name)
            continue
        current = path.read_text(encoding="utf-8")
        if current != content:
            result.changed[name] = "".join(difflib.unified_diff(
                current.splitlines(keepends=True), content.splitlines(keepends=True),
                fromfile=f"{out.name}/{name} (snapshot)", tofile=f"{out.name}/{name} (rendered now)"))
    result.stale = sorted(name for name in _owned(out) - set(files) if (out / name).exists())
    return result


def build(files: dict[str, str], out: Path, report: Callable[[str], None] = lambda line: None, *,
          complete: bool = True) -> Comparison:
    """Write the snapshots that changed and record them in the manifest; returns what was different.

    ``complete``: ``files`` is every snapshot (``mailtpl build``): owned files not among them are
    removed. Otherwise only these are added or updated (``pytest --mailtpl-update``). Every name is
    checked before the first file is touched.
    """
    result = compare(files, out)
    listed = set(files) if complete else _owned(out) | set(files)
    out.mkdir(parents=True, exist_ok=True)
    for name, content in sorted(files.items()):
        state = "new" if name in result.missing else "updated" if name in result.changed else "unchanged"
        if state != "unchanged":
            replace_file(out / name, content)
        report(f"{state:9} {out.name}/{name}")
    if complete:
        for name in result.stale:
            (out / name).unlink()
            report(f"removed   {out.name}/{name}")
    else:
        result.stale = []
    replace_file(out / MANIFEST, json.dumps(sorted(listed), indent=1) + "\n")
    return result
