"""``mailtpl.Environment``: a folder of email templates, rendered into finished emails.

Folder conventions (see README):

- ``NAME.hbs`` is an email; ``NAME.txt.hbs`` its plain-text body (optional,
  else the text is derived from the HTML); ``NAME.preview.json`` its named
  sample-data sets ``{"default": {...}, "other": {...}}``.
- ``partials/**.hbs`` and ``layouts/**.hbs`` are partials, registered by their
  path below that folder without ``.hbs`` (``layouts/layout.hbs`` is ``layout``).
- ``mailtpl.json`` (optional): ``subjects`` per email (Handlebars allowed),
  ``preview_base_url`` used for sample data only, and settings other parts read
  through :meth:`Environment.setting` (``sender_name`` for the mailers).

Compiled templates are cached; :meth:`Environment.invalidate` drops what a
changed file affects (an email and everything that includes a changed partial).
"""
from __future__ import annotations

import importlib
import json
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import nodes as n
from .compiler import Compiler
from .errors import DataError, TemplateError, TemplateNotFound, UndefinedError
from .flatten import NotFlat, flatten
from .inline import CssError, MarkupError, NotStatic, check_structure, compile_time, inline_css
from .files import replace_file
from .message import check_header
from .options import CompileOptions
from .placeholders import Document, NotRebuilt
from .rendered import RenderedEmail
from .runtime import Template
from .text import compile_text, finish_text, html_to_text
from .variables import Variable, analyze, sample_data

CONFIG_FILE = "mailtpl.json"
PARTIAL_DIRS = ("partials", "layouts")
DEFAULT_PREVIEW_BASE_URL = "https://feedback.example.com"
DEFAULT_SUBJECTS = {
    "verification": "User feedback Email Verification",
    "resetPassword": "User feedback Reset Password",
    "invitation": "User Feedback Invitation",
}


@dataclass
class _Email:
    """Everything compiled for one email."""

    html: Template
    inlined: Template | None
    inline_reason: str | None
    text: Template | None  # from NAME.txt.hbs
    compiled_text: Template | None  # derived from the HTML at compile time (see mailtpl.text)
    subject: Template
    partials: dict[str, Template] = field(default_factory=dict)  # what it includes, directly or not


@dataclass(frozen=True)
class EmailInfo:
    """What the preview index shows for an email."""

    name: str
    subject: str
    fixtures: list[str]
    inlining: str
    inline_reason: str | None
    error: str | None


HELPER_PACKS = ("standard", "sendgrid")


def helper_pack(name: str) -> dict:
    """``helpers="standard"`` or ``"sendgrid"``: the opt-in helper packs of ``mailtpl.helpers``."""
    if name not in HELPER_PACKS:
        raise ValueError(f"helpers={name!r}: no such helper pack (choose from {', '.join(HELPER_PACKS)}, "
                         "or pass a dict)")
    return dict(importlib.import_module(f".helpers.{name}", __package__).HELPERS)


class Environment:
    def __init__(self, templates: str | os.PathLike = "templates", *, strict: bool = True,
                 base_url: str | None = None, inline_css: bool | str = True, helpers: Mapping | str | None = None,
                 **options) -> None:
        """``inline_css``: True inlines at compile time where that is safe and per render elsewhere,
        "per-render" always per render, False not at all. ``options``: the compile and data access
        options of :class:`mailtpl.compiler.CompileOptions` (``compat=True``, ``allowed_proto_properties=...``)."""
        if inline_css not in (True, False, "per-render"):
            raise ValueError('inline_css must be True, False or "per-render"')
        self.root = Path(templates)
        if not self.root.is_dir():
            raise TemplateNotFound(str(self.root), what="templates folder")
        self.strict = strict
        self.options = CompileOptions(strict=strict, **options)
        self.base_url = base_url
        self.inline_css = inline_css
        self.helpers = helper_pack(helpers) if isinstance(helpers, str) else dict(helpers or {})
        self._compiler = Compiler()
        self._lock = threading.RLock()
        self._emails: dict[str, _Email] = {}
        self._partials: dict[str, Template] = {}
        self._asts: dict[str, n.Program] = {}
        self._fixtures: dict[str, dict[str, dict]] = {}
        self._variables: dict[str, tuple[Variable, ...]] = {}
        self._scan()

    # -- the folder ----------------------------------------------------------------------------
    def _scan(self) -> None:
        emails, texts, previews, partials = {}, {}, {}, {}
        for path in sorted(self.root.glob("*.hbs")):
            (texts if path.name.endswith(".txt.hbs") else emails)[_email_of(path)] = path
        for path in sorted(self.root.glob("*.preview.json")):
            previews[_email_of(path)] = path
        for folder in PARTIAL_DIRS:
            for path in sorted((self.root / folder).rglob("*.hbs")):
                name = path.relative_to(self.root / folder).with_suffix("").as_posix()
                if name in partials:
                    raise TemplateError(f"{self._rel(partials[name])} and {self._rel(path)} both define the "
                                        f"partial {name!r}", name=self._rel(path))
                partials[name] = path
        self._email_files, self._text_files, self._preview_files = emails, texts, previews
        self._partial_files = partials
        self._config = self._load_config()

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _load_config(self) -> dict:
        path = self.root / CONFIG_FILE
        if not path.exists():
            return {}
        config = _read_json(path, CONFIG_FILE)
        if not isinstance(config, dict):
            raise DataError(f"{CONFIG_FILE} must hold a JSON object", name=CONFIG_FILE)
        return config

    def names(self) -> list[str]:
        """The emails in the folder."""
        return sorted(self._email_files)

    def files(self) -> list[Path]:
        """Every file the environment reads (what a watcher should watch)."""
        paths = [*self._email_files.values(), *self._text_files.values(), *self._preview_files.values(),
                 *self._partial_files.values()]
        config = self.root / CONFIG_FILE
        return paths + ([config] if config.exists() else [])

    @property
    def preview_base_url(self) -> str:
        """baseUrl for sample data when ADMIN_WEB_URL is not set (mailtpl.json ``preview_base_url``)."""
        return self._config.get("preview_base_url") or DEFAULT_PREVIEW_BASE_URL

    def setting(self, key: str):
        """A top-level entry of mailtpl.json (None when absent), for tools such as ``mailtpl lint``."""
        return self._config.get(key)

    def subject_source(self, name: str) -> str:
        subjects = self._config.get("subjects") or {}
        return subjects.get(name) or DEFAULT_SUBJECTS.get(name) or name

    def fixtures(self, name: str) -> dict[str, dict]:
        """The named sample-data sets of an email (``{}`` when it has none)."""
        self._check_name(name)
        cached = self._fixtures.get(name)
        if cached is None:
            path = self._preview_files.get(name)
            try:
                cached = {} if path is None else _read_json(path, self._rel(path))
            except FileNotFoundError:  # deleted since the folder was scanned (a watcher has yet to say so)
                cached = {}
            if not isinstance(cached, dict) or not all(isinstance(v, dict) for v in cached.values()):
                raise DataError('sample data must be an object of named objects: {"default": {...}}',
                                name=self._rel(path))
            self._fixtures[name] = cached
        return dict(cached)  # a caller may add or replace sets (the preview's "save as sample data")

    # -- cache -----------------------------------------------------------------------------------
    def invalidate(self, paths: Iterable[str | os.PathLike] | None = None) -> set[str]:
        """Forget what changed files affect; returns the names of the emails to re-render.

        With no paths (or a file added or removed), everything is reloaded.
        """
        with self._lock:
            known = {p.resolve(): p for p in self.files()}
            changed = [Path(p).resolve() for p in (paths or [])]
            if not paths or any(p not in known or not p.exists() for p in changed) or \
                    any(p.name == CONFIG_FILE for p in changed):
                self._scan()
                self._emails.clear()
                self._partials.clear()
                self._asts.clear()
                self._fixtures.clear()
                self._variables.clear()
                return set(self.names())
            affected: set[str] = set()
            partial_by_path = {p.resolve(): name for name, p in self._partial_files.items()}
            for path in changed:
                if path in partial_by_path:
                    partial = partial_by_path[path]
                    self._partials.pop(partial, None)
                    self._asts.pop(partial, None)
                    affected |= {name for name, email in self._emails.items() if partial in email.partials}
                    affected |= {name for name in self.names() if name not in self._emails}
                    self._variables.clear()  # the analysis follows partials no render may have compiled yet
                else:
                    affected.add(_email_of(path))
            for name in affected:
                self._emails.pop(name, None)
                self._fixtures.pop(name, None)
                self._variables.pop(name, None)
            return affected & set(self.names())

    def _check_name(self, name: str) -> None:
        if name not in self._email_files:
            raise TemplateNotFound(name, self.names(), what="email")

    def _read(self, path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", name=self._rel(path)) from None

    def _ast(self, name: str) -> n.Program | None:
        if name not in self._asts:
            path = self._partial_files.get(name)
            if path is None:
                return None
            self._asts[name] = self._parse(self._read(path), name=self._rel(path))
        return self._asts[name]

    def _partial(self, name: str) -> Template:
        if name not in self._partials:
            path = self._partial_files[name]
            self._partials[name] = self._compile(self._ast(name), {self._rel(path): self._read(path)})
        return self._partials[name]

    def _parse(self, source: str, name: str) -> n.Program:
        return self._compiler.parse(source, name=name, ignore_standalone=self.options.ignore_standalone)

    def _compile(self, program: n.Program, sources: Mapping[str, str], **options) -> Template:
        """``program`` compiled with the environment's options (``options`` override them); ``sources``: the
        text of every file its nodes come from, for errors."""
        return self._compiler.compile(program, sources=sources, **replace(self.options, **options).as_dict())

    def compiled(self, name: str) -> _Email:
        """The compiled email (cached until :meth:`invalidate`); TemplateError when it does not compile."""
        with self._lock:
            email = self._emails.get(name)
            if email is None:
                email = self._emails[name] = self._build(name)
            return email

    def _build(self, name: str) -> _Email:
        self._check_name(name)
        path = self._email_files[name]
        source = self._read(path)
        program = self._parse(source, name=self._rel(path))
        html = self._compile(program, {self._rel(path): source})
        used = {partial: self._partial(partial) for partial in sorted(self._used_partials(program))}
        sources = {self._rel(path): source, **{partial.name: partial.source for partial in used.values()}}
        inlined, reason, compiled_text = None, None, None
        try:
            doc = Document(flatten(program, self._ast))
            structure = check_structure(doc, self.helpers)
            final = doc.html  # what the text is derived from: the HTML as it is sent
            if self.inline_css == "per-render":
                final, reason = inline_css(doc.html), 'inline_css="per-render"'
            elif self.inline_css:
                final, reason = compile_time(doc, structure)
                if reason is None:
                    inlined = self._compile(doc.rebuild(doc.tokens(final)), sources)
            # not when premailer's serializer escapes URLs, nor when helpers would run a second time
            if name not in self._text_files and reason is None and doc.helper_call() is None:
                compiled_text = self._text_template(doc, final, sources)
        except (NotFlat, NotStatic, NotRebuilt) as exc:  # inlined (if at all) and text derived per render
            inlined, reason = None, 'inline_css="per-render"' if self.inline_css == "per-render" else str(exc)
        except (CssError, MarkupError) as exc:  # the email's stylesheet or HTML cannot be applied or read
            raise type(exc)(exc.message, name=self._rel(path)) from None
        text = None
        if name in self._text_files:
            text_path = self._text_files[name]
            text_source = self._read(text_path)
            text = self._compile(self._parse(text_source, name=self._rel(text_path)),
                                 {self._rel(text_path): text_source}, no_escape=True)
        subject_source, subject_name = self.subject_source(name), f"{CONFIG_FILE}: subject of {name}"
        subject = self._compile(self._parse(subject_source, name=subject_name), {subject_name: subject_source},
                                no_escape=True)
        return _Email(html, inlined, reason, text, compiled_text, subject, used)

    def _text_template(self, doc: Document, html: str, sources: Mapping[str, str]) -> Template | None:
        """The plain text derived from ``html`` once (None: derive it from each rendered HTML)."""
        try:
            return self._compile(compile_text(doc, html), sources)
        except NotRebuilt:
            return None

    def _used_partials(self, program: n.Program) -> set[str]:
        """Partials a template includes by a fixed name, directly or through other partials."""
        seen: set[str] = set()
        todo = [program]
        while todo:
            for name in _static_partial_names(todo.pop()):
                if name not in seen and name in self._partial_files:
                    seen.add(name)
                    todo.append(self._ast(name))
        return seen

    def info(self, name: str) -> EmailInfo:
        """Subject, fixtures, inlining and any compile error of an email (for the preview index)."""
        try:
            fixtures = list(self.fixtures(name))
        except TemplateError as exc:
            return EmailInfo(name, self.subject_source(name), [], "off", None, str(exc))
        try:
            email = self.compiled(name)
        except TemplateError as exc:
            return EmailInfo(name, self.subject_source(name), fixtures, "off", None, str(exc))
        mode = "off" if not self.inline_css else "compile-time" if email.inlined else "per-render"
        return EmailInfo(name, self.subject_source(name), fixtures, mode, email.inline_reason, None)

    # -- variables and sample data ------------------------------------------------------------------
    def variables(self, name: str) -> tuple[Variable, ...]:
        """What email ``name`` reads from its data (HTML, text and subject, through partials and layouts),
        each with the shape the template implies; see :mod:`mailtpl.variables`."""
        self._check_name(name)
        with self._lock:
            if name not in self._variables:  # kept until invalidate() says a file it reads changed
                paths = [self._email_files[name], self._text_files.get(name)]
                programs = [(self._parse(self._read(path), name=self._rel(path)), self._rel(path))
                            for path in paths if path is not None]
                subject_name = f"{CONFIG_FILE}: subject of {name}"
                programs.append((self._parse(self.subject_source(name), name=subject_name), subject_name))
                self._variables[name] = analyze(programs, self._partial_ast, helpers=self.helpers)
            return self._variables[name]

    def _partial_ast(self, name: str) -> tuple[n.Program, str] | None:
        path = self._partial_files.get(name)
        return None if path is None else (self._ast(name), self._rel(path))

    def sample_data(self, name: str) -> dict:
        """Data generated from :meth:`variables` that renders the email (``baseUrl`` is left to
        :meth:`context`)."""
        return sample_data(self.variables(name), base_url=self.preview_base_url, skip=["baseUrl"])

    def save_fixture(self, name: str, fixture: str, data: Mapping, *, overwrite: bool = False) -> Path:
        """Add (or with ``overwrite`` replace) the sample-data set ``fixture`` of email ``name`` in
        NAME.preview.json, keeping the other sets; FixtureExists when it is there and not ``overwrite``."""
        if not isinstance(data, Mapping):
            raise DataError(f"sample data must be an object, not {type(data).__name__}", name=name)
        with self._lock:
            path = self._preview_files.get(name) or self.root / f"{name}.preview.json"
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
            self.invalidate([path])
            return path

    # -- rendering -------------------------------------------------------------------------------
    def context(self, name: str, context: Mapping | None = None, *, fixture: str | None = None,
                preview: bool = False) -> dict:
        """The data an email is rendered with: sample data, then ``context``, then ``baseUrl``.

        ``baseUrl`` is ``base_url``, else ADMIN_WEB_URL, else (for sample data and ``preview``)
        the folder's ``preview_base_url``."""
        if context is not None and not isinstance(context, Mapping):
            raise DataError(f"the data for {name!r} must be an object (a dict), not {type(context).__name__}",
                            name=name)
        data: dict = {}
        if fixture is not None:
            fixtures = self.fixtures(name)
            if fixture not in fixtures:
                raise TemplateNotFound(fixture, list(fixtures), what=f"sample data set for {name!r}")
            data.update(fixtures[fixture])
        data.update(context or {})
        if "baseUrl" not in data:
            base = self.admin_url() or (self.preview_base_url if fixture is not None or preview else None)
            if base is not None:
                data["baseUrl"] = base.rstrip("/")
        return data

    def admin_url(self) -> str | None:
        """The admin web address links point to: ``base_url``, else ADMIN_WEB_URL."""
        return self.base_url or os.environ.get("ADMIN_WEB_URL")

    def render(self, name: str, context: Mapping | None = None, *, fixture: str | None = None) -> RenderedEmail:
        """Render an email: subject, HTML with CSS inlined, and plain text."""
        email = self.compiled(name)
        data = self.context(name, context, fixture=fixture)
        try:
            return self._render(name, email, data)
        except UndefinedError as exc:
            if exc.path == "baseUrl" or exc.path.startswith("baseUrl."):
                exc.message += " - set ADMIN_WEB_URL (or Environment(base_url=...)) to the admin web address"
            raise

    def _render(self, name: str, email: _Email, data: dict) -> RenderedEmail:
        partials = email.partials  # compiled with the email: a concurrent invalidate cannot pull them away
        if email.inlined is not None:  # its nodes keep their files: its errors name the partial they come from
            html, mode = email.inlined(data, helpers=self.helpers, partials=partials), "compile-time"
        else:
            html = email.html(data, helpers=self.helpers, partials=partials)
            html, mode = (inline_css(html), "per-render") if self.inline_css else (html, "off")
        text = None
        if email.text:
            text = email.text(data, helpers=self.helpers, partials=partials)
        elif email.compiled_text:
            text = finish_text(email.compiled_text(data, helpers=self.helpers, partials=partials))
        if text is None:
            text = html_to_text(html)
        subject = check_header(email.subject(data, helpers=self.helpers).strip(), f"subject of {name!r}")
        return RenderedEmail(name, subject, html, text, mode)


class FixtureExists(DataError):
    """The sample-data set is already in NAME.preview.json (pass ``overwrite=True`` to replace it)."""


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


def _email_of(path: Path) -> str:
    """The email a file belongs to: NAME.hbs, NAME.txt.hbs, NAME.preview.json."""
    for suffix in (".txt.hbs", ".preview.json", ".hbs"):
        if path.name.endswith(suffix):
            return path.name[:-len(suffix)]
    return path.name


def _static_partial_names(program: n.Program) -> Iterable[str]:
    for node in n.walk(program):
        if isinstance(node, (n.Partial, n.PartialBlock)) and not isinstance(node.name, n.SubExpr):
            yield node.name.original


def _read_json(path: Path, label: str):
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", name=label, lineno=exc.lineno, column=exc.colno,
                        source=text) from None
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", name=label) from None
