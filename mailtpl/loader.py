"""``FileSystemLoader``: the templates folder's conventions, read and written (as Jinja2's loaders are apart
from its environment: the environment asks for sources by name and never looks at file names).

- ``NAME.hbs`` is an email; ``NAME.txt.hbs`` its plain-text body (optional); ``NAME.preview.json`` its
  named sample-data sets ``{"default": {...}, "other": {...}}``.
- ``partials/**.hbs`` and ``layouts/**.hbs`` are partials, named by their path below that folder without
  ``.hbs`` (``layouts/layout.hbs`` is ``layout``).
- ``mailtpl.json`` (optional): ``subjects`` per email (Handlebars allowed), ``sender_name``,
  ``preview_base_url`` (``{{baseUrl}}`` of sample data and previews), ``assets``, ``lint``.

File names in sources and errors are relative to the folder, with ``/``.
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import DataError, TemplateError, TemplateNotFound
from .files import replace_file

CONFIG_FILE = "mailtpl.json"
PARTIAL_DIRS = ("partials", "layouts")
DEFAULT_PREVIEW_BASE_URL = "https://feedback.example.com"
DEFAULT_SUBJECTS = {
    "verification": "User feedback Email Verification",
    "resetPassword": "User feedback Reset Password",
    "invitation": "User Feedback Invitation",
}
_EMAIL_SUFFIXES = (".txt.hbs", ".preview.json", ".hbs")  # longest first: NAME.txt.hbs is not an email
_BELONGING = (".preview.json", ".txt.hbs")  # files that belong to an email NAME.hbs


@dataclass(frozen=True)
class Source:
    """A template's text and the name errors give it (a path in the folder, or the setting it came from)."""

    text: str
    file: str


@dataclass(frozen=True)
class Changes:
    """What changed files are to the folder. ``rescanned``: a file was added, removed or renamed, or
    mailtpl.json changed, so the folder was read again and anything may differ."""

    rescanned: bool = False
    emails: frozenset[str] = frozenset()    # emails whose NAME.hbs or NAME.txt.hbs changed
    partials: frozenset[str] = frozenset()  # partials whose file changed
    samples: frozenset[str] = frozenset()   # emails whose NAME.preview.json changed


class FixtureExists(DataError):
    """The sample-data set is already in NAME.preview.json (pass ``overwrite=True`` to replace it)."""


class FileSystemLoader:
    """A templates folder: which file is what, their text, ``mailtpl.json`` and the sample-data sets.

    The folder is listed once and again when :meth:`changed` hears of a file added or removed; sample data
    is read when first asked for and kept until its file changes."""

    def __init__(self, root: str | os.PathLike = "templates") -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise TemplateNotFound(str(self.root), what="templates folder")
        self._lock = threading.RLock()
        self._fixtures: dict[str, dict[str, dict]] = {}
        self._scan()

    def _scan(self) -> None:
        emails, texts, previews, partials = {}, {}, {}, {}
        for path in sorted(self.root.glob("*.hbs")):
            (texts if path.name.endswith(".txt.hbs") else emails)[email_of(path)] = path
        for path in sorted(self.root.glob("*.preview.json")):
            previews[email_of(path)] = path
        for folder in PARTIAL_DIRS:
            for path in sorted((self.root / folder).rglob("*.hbs")):
                name = path.relative_to(self.root / folder).with_suffix("").as_posix()
                if name in partials:
                    raise TemplateError(f"{self._rel(partials[name])} and {self._rel(path)} both define the "
                                        f"partial {name!r}", name=self._rel(path))
                partials[name] = path
        config = self._read_config()
        self._emails, self._texts, self._previews, self._partials = emails, texts, previews, partials
        self._config = config
        self._fixtures.clear()

    def _read_config(self) -> dict:
        path = self.root / CONFIG_FILE
        if not path.exists():
            return {}
        config = _read_json(path, CONFIG_FILE)
        if not isinstance(config, dict):
            raise DataError(f"{CONFIG_FILE} must hold a JSON object", name=CONFIG_FILE)
        return config

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    # -- listing -----------------------------------------------------------------------------------
    def names(self) -> list[str]:
        """The emails in the folder."""
        return sorted(self._emails)

    def has_partial(self, name: str) -> bool:
        return name in self._partials

    def files(self) -> list[Path]:
        """Every file the folder's emails are made of (what a watcher should watch)."""
        paths = [*self._emails.values(), *self._texts.values(), *self._previews.values(), *self._partials.values()]
        config = self.root / CONFIG_FILE
        return paths + ([config] if config.exists() else [])

    @staticmethod
    def watches(path: str | os.PathLike) -> bool:
        """Whether a file of that name can be part of the folder (a watcher ignores the others)."""
        return Path(path).name.endswith((".hbs", ".json"))

    def orphans(self) -> list[str]:
        """Files and settings of emails that are not in the folder (left behind by a rename or a delete)."""
        notes = []
        for suffix in _BELONGING:
            for path in sorted(self.root.glob("*" + suffix)):
                email = path.name[:-len(suffix)]
                if email not in self._emails:
                    notes.append(f"{path.name} belongs to no email: {email}.hbs is not in the folder (renamed?)")
        for email in (self.setting("subjects") or {}):
            if email not in self._emails:
                notes.append(f'{CONFIG_FILE} has a subject for "{email}", which is not an email here (renamed?)')
        return notes

    # -- sources -----------------------------------------------------------------------------------
    def email(self, name: str) -> Source:
        """The HTML template of email ``name``; TemplateNotFound when there is no NAME.hbs."""
        self.check(name)
        return self._source(self._emails[name])

    def text(self, name: str) -> Source | None:
        """The NAME.txt.hbs of an email, None without one."""
        path = self._texts.get(name)
        return None if path is None else self._source(path)

    def partial(self, name: str) -> Source | None:
        path = self._partials.get(name)
        return None if path is None else self._source(path)

    def subject(self, name: str) -> Source:
        """The subject template: mailtpl.json's ``subjects``, else the shipped emails' defaults, else the name."""
        subjects = self._config.get("subjects") or {}
        return Source(subjects.get(name) or DEFAULT_SUBJECTS.get(name) or name, f"{CONFIG_FILE}: subject of {name}")

    def read(self, file: str) -> str:
        """The text of a file the folder's emails are made of, by the name a :class:`Source` gives it."""
        path = self.root / file
        if path.resolve() not in {known.resolve() for known in self.files()}:
            raise TemplateNotFound(file, what="file of the templates folder")
        return self._source(path).text

    def check(self, name: str) -> None:
        """TemplateNotFound (listing the emails there are) unless ``name`` is an email of the folder."""
        if name not in self._emails:
            raise TemplateNotFound(name, self.names(), what="email")

    def _source(self, path: Path) -> Source:
        try:
            return Source(path.read_text(encoding="utf-8"), self._rel(path))
        except UnicodeDecodeError as exc:
            raise DataError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", name=self._rel(path)) from None

    # -- settings ------------------------------------------------------------------------------------
    def setting(self, key: str):
        """A top-level entry of mailtpl.json (None when absent)."""
        return self._config.get(key)

    @property
    def preview_base_url(self) -> str:
        """``{{baseUrl}}`` of sample data and previews when nothing else sets it (mailtpl.json
        ``preview_base_url``)."""
        return self._config.get("preview_base_url") or DEFAULT_PREVIEW_BASE_URL

    # -- sample data ---------------------------------------------------------------------------------
    def fixtures(self, name: str) -> dict[str, dict]:
        """The named sample-data sets of an email (``{}`` when it has none)."""
        self.check(name)
        with self._lock:
            cached = self._fixtures.get(name)
            if cached is None:
                path = self._previews.get(name)
                try:
                    cached = {} if path is None else _read_json(path, self._rel(path))
                except FileNotFoundError:  # deleted since the folder was listed (a watcher has yet to say so)
                    cached = {}
                if not isinstance(cached, dict) or not all(isinstance(v, dict) for v in cached.values()):
                    raise DataError('sample data must be an object of named objects: {"default": {...}}',
                                    name=self._rel(path))
                self._fixtures[name] = cached
            return dict(cached)  # a caller may add or replace sets

    def fixture(self, name: str, fixture: str) -> dict:
        """One sample-data set of an email; TemplateNotFound (listing the sets there are) when it has no such set."""
        fixtures = self.fixtures(name)
        if fixture not in fixtures:
            raise TemplateNotFound(fixture, list(fixtures), what=f"sample data set for {name!r}")
        return fixtures[fixture]

    def save_fixture(self, name: str, fixture: str, data: Mapping, *, overwrite: bool = False) -> Path:
        """Add (or with ``overwrite`` replace) the sample-data set ``fixture`` of email ``name`` in
        NAME.preview.json, keeping the other sets and the file as written; FixtureExists when it is there
        and not ``overwrite``."""
        if not isinstance(data, Mapping):
            raise DataError(f"sample data must be an object, not {type(data).__name__}", name=name)
        with self._lock:
            path = self._previews.get(name) or self.root / f"{name}.preview.json"
            if path.is_symlink():
                raise DataError("is a symbolic link; mailtpl writes sample data only to a file in the templates "
                                "folder (replace the link with the file)", name=path.name)
            fixtures = self.fixtures(name)
            if fixture in fixtures and not overwrite:
                raise FixtureExists(f"the sample-data set {fixture!r} is already there (sets: "
                                    f"{', '.join(fixtures)}); choose another name or overwrite it",
                                    name=f"{name}.preview.json")
            fixtures[fixture] = dict(data)
            text = _with_set(path.read_text(encoding="utf-8"), fixtures, fixture) if path.exists() else None
            try:
                replace_file(path, text or json.dumps(fixtures, indent=2, ensure_ascii=False) + "\n")
            except UnicodeEncodeError:
                raise DataError("sample data holds text that is not Unicode (a lone surrogate); nothing was "
                                "written", name=path.name) from None
            self._previews[name] = path
            self._fixtures[name] = fixtures
            return path

    # -- changes -------------------------------------------------------------------------------------
    def changed(self, paths: Iterable[str | os.PathLike] | None = None) -> Changes:
        """What the files ``paths`` are, after they changed on disk; forgets their sample data. With no
        paths, a file unknown or gone, or mailtpl.json among them, the folder is read again."""
        with self._lock:
            known = {p.resolve(): p for p in self.files()}
            changed = [Path(p).resolve() for p in (paths or [])]
            if not paths or any(p not in known or not p.exists() or p.name == CONFIG_FILE for p in changed):
                self._scan()
                return Changes(rescanned=True)
            partial_of = {p.resolve(): name for name, p in self._partials.items()}
            preview_of = {p.resolve(): name for name, p in self._previews.items()}
            partials = {partial_of[p] for p in changed if p in partial_of}
            samples = {preview_of[p] for p in changed if p in preview_of}
            emails = {email_of(p) for p in changed if p not in partial_of and p not in preview_of}
            for name in samples:
                self._fixtures.pop(name, None)
            return Changes(False, frozenset(emails), frozenset(partials), frozenset(samples))


def email_of(path: str | os.PathLike) -> str:
    """The email a file belongs to: NAME.hbs, NAME.txt.hbs, NAME.preview.json."""
    name = Path(path).name
    for suffix in _EMAIL_SUFFIXES:
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return name


def _read_json(path: Path, label: str):
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", name=label, lineno=exc.lineno, column=exc.colno,
                        source=text) from None
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", name=label) from None


def _with_set(text: str, fixtures: dict, name: str) -> str | None:
    """``text`` (a NAME.preview.json) with the set ``name`` replaced where it stands, or added before the
    closing brace, the rest as it was; None when the result would not read back as ``fixtures``."""
    value = json.dumps(fixtures[name], ensure_ascii=False)
    try:
        span = _set_span(text, name)
        if span:
            new = text[:span[0]] + value + text[span[1]:]
        else:
            end = text.rfind("}")
            entry = f"  {json.dumps(name, ensure_ascii=False)}: {value}"
            new = f"{text[:end].rstrip()}{',' if len(fixtures) > 1 else ''}\n{entry}\n{text[end:]}"
        return new if json.loads(new) == fixtures else None
    except (json.JSONDecodeError, ValueError, IndexError):
        return None


def _set_span(text: str, name: str) -> tuple[int, int] | None:
    """Where the value of the top-level key ``name`` stands in the JSON object ``text`` (the last one, as
    json.loads keeps the last of duplicate keys), or None."""
    decoder, found = json.JSONDecoder(), None
    i = _skip_space(text, text.index("{") + 1)
    while text[i] != "}":
        key, i = json.decoder.scanstring(text, i + 1)  # text[i] is the key's opening quote
        i = _skip_space(text, i)
        start = _skip_space(text, i + 1)  # past the colon
        _, i = decoder.raw_decode(text, start)
        if key == name:
            found = (start, i)
        i = _skip_space(text, i)
        i = _skip_space(text, i + 1) if text[i] == "," else i
    return found


def _skip_space(text: str, i: int) -> int:
    while text[i] in " \t\r\n":
        i += 1
    return i
