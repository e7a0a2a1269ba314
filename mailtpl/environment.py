"""``mailtpl.Environment``: the emails of a templates folder, compiled once and rendered into finished emails.

Which file is what is the loader's business (:mod:`mailtpl.loader`). Compiled templates are cached;
:meth:`Environment.invalidate` drops what a changed file affects (an email and everything that includes a
changed partial). :meth:`Environment.render` is the one place that decides ``{{baseUrl}}``.
"""
from __future__ import annotations

import copy
import importlib
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from . import nodes as n
from .compiler import Compiler
from .envfile import read_dotenv
from .errors import DataError, TemplateError, UndefinedError
from .flatten import NotFlat, flatten
from .inline import CssError, MarkupError, NotStatic, check_structure, compile_time, inline_css
from .loader import FileSystemLoader
from .message import check_header
from .options import CompileOptions
from .placeholders import Document, NotRebuilt
from .rendered import RenderedEmail
from .runtime import LineBreak, Template
from .text import compile_text, finish_text, html_to_text
from .variables import Variable, analyze, sample_data


@dataclass(frozen=True)
class CompiledEmail:
    """Everything compiled for one email (:meth:`Environment.compiled`): its templates, called as
    ``template(data, helpers=..., partials=partials)``. ``inlined`` is the HTML with CSS inlined at compile
    time (None when that is not safe: ``inline_reason`` says why); ``compiled_text`` the plain text derived
    from the HTML at compile time (see :mod:`mailtpl.text`)."""

    html: Template
    inlined: Template | None
    inline_reason: str | None
    text: Template | None  # from NAME.txt.hbs
    compiled_text: Template | None  # derived from the HTML at compile time (see mailtpl.text)
    subject: Template
    partials: Mapping[str, Template] = field(default_factory=dict)  # what it includes, directly or not


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
SET_ADMIN_URL = "set ADMIN_WEB_URL (or Environment(base_url=...)) to the admin web address"


def helper_pack(name: str) -> dict:
    """``helpers="standard"`` or ``"sendgrid"``: the opt-in helper packs of ``mailtpl.helpers``."""
    if name not in HELPER_PACKS:
        raise ValueError(f"helpers={name!r}: no such helper pack (choose from {', '.join(HELPER_PACKS)}, "
                         "or pass a dict)")
    return dict(importlib.import_module(f".helpers.{name}", __package__).HELPERS)


class Environment:
    def __init__(self, loader: FileSystemLoader | str | os.PathLike = "templates", *, strict: bool = True,
                 base_url: str | None = None, inline_css: bool | str = True, helpers: Mapping | str | None = None,
                 dotenv: str | os.PathLike | None = ".env", **options) -> None:
        """``loader``: a :class:`~mailtpl.loader.FileSystemLoader`, or the path of a templates folder.
        ``base_url``: ``{{baseUrl}}`` unless the data sets it, else ADMIN_WEB_URL from the process environment,
        else from the ``dotenv`` file (read once, here). ``inline_css``: True inlines at compile time where that
        is safe and per render elsewhere, "per-render" always per render, False not at all. ``options``: the
        compile and data access options of :class:`mailtpl.options.CompileOptions` (``compat=True``,
        ``allowed_proto_properties=...``)."""
        if inline_css not in (True, False, "per-render"):
            raise ValueError('inline_css must be True, False or "per-render"')
        self.loader = loader if isinstance(loader, FileSystemLoader) else FileSystemLoader(loader)
        self.strict = strict
        self.options = CompileOptions(strict=strict, **options)
        self.base_url = base_url
        self._dotenv_admin_url = read_dotenv(dotenv, ["ADMIN_WEB_URL"]).get("ADMIN_WEB_URL") or None
        self.inline_css = inline_css
        self.helpers = helper_pack(helpers) if isinstance(helpers, str) else dict(helpers or {})
        self._start(Compiler())

    def _start(self, compiler: Compiler) -> None:
        """An empty compile cache filled by ``compiler``."""
        self._compiler = compiler
        self._lock = threading.RLock()
        self._emails: dict[str, CompiledEmail] = {}
        self._partials: dict[str, Template] = {}
        self._asts: dict[str, n.Program] = {}
        self._variables: dict[str, tuple[Variable, ...]] = {}

    @property
    def compiler(self) -> Compiler:
        """What parses and compiles this environment's templates."""
        return self._compiler

    def with_compiler(self, compiler: Compiler) -> Environment:
        """An environment with every setting of this one (loader, options, helpers, base_url, the .env file's
        ADMIN_WEB_URL as read here) whose templates ``compiler`` parses and compiles, in a cache of its own
        (the linter's tracer marks each element with its template place this way)."""
        variant = copy.copy(self)  # every attribute: a setting added later cannot be left behind
        variant._start(compiler)
        return variant

    def names(self) -> list[str]:
        """The emails in the folder."""
        return self.loader.names()

    # -- cache -----------------------------------------------------------------------------------
    def invalidate(self, paths: Iterable[str | os.PathLike] | None = None) -> set[str]:
        """Forget what changed files affect; returns the names of the emails to re-render.

        With no paths (or a file added or removed, or mailtpl.json changed), everything is reloaded.
        """
        with self._lock:
            changes = self.loader.changed(paths)
            if changes.rescanned:
                self._emails.clear()
                self._partials.clear()
                self._asts.clear()
                self._variables.clear()
                return set(self.names())
            recompile = set(changes.emails)
            for partial in changes.partials:
                self._partials.pop(partial, None)
                self._asts.pop(partial, None)
                recompile |= {name for name, email in self._emails.items() if partial in email.partials}
                recompile |= {name for name in self.names() if name not in self._emails}
                self._variables.clear()  # the analysis follows partials no render may have compiled yet
            for name in recompile:
                self._emails.pop(name, None)
                self._variables.pop(name, None)
            return (recompile | changes.samples) & set(self.names())  # new sample data: render again

    def _ast(self, name: str) -> n.Program | None:
        """A partial's AST (None when there is no such partial)."""
        if name not in self._asts:
            source = self.loader.partial(name)
            if source is None:
                return None
            self._asts[name] = self._parse(source.text, name=source.file)
        return self._asts[name]

    def _partial_ast(self, name: str) -> tuple[n.Program, str] | None:
        program = self._ast(name)
        return None if program is None else (program, program.file)

    def _partial(self, name: str) -> Template:
        if name not in self._partials:
            source = self.loader.partial(name)
            self._partials[name] = self._compile(self._ast(name), {source.file: source.text})
        return self._partials[name]

    def _parse(self, source: str, name: str) -> n.Program:
        return self._compiler.parse(source, name=name, ignore_standalone=self.options.ignore_standalone)

    def _compile(self, program: n.Program, sources: Mapping[str, str], **options) -> Template:
        """``program`` compiled with the environment's options (``options`` override them); ``sources``: the
        text of every file its nodes come from, for errors."""
        return self._compiler.compile(program, sources=sources, **replace(self.options, **options).as_dict())

    def compiled(self, name: str) -> CompiledEmail:
        """The compiled email (cached until :meth:`invalidate`); TemplateError when it does not compile."""
        with self._lock:
            email = self._emails.get(name)
            if email is None:
                email = self._emails[name] = self._build(name)
            return email

    def _build(self, name: str) -> CompiledEmail:
        email_source = self.loader.email(name)
        source, file = email_source.text, email_source.file
        text_source = self.loader.text(name)
        program = self._parse(source, name=file)
        html = self._compile(program, {file: source})
        used = {partial: self._partial(partial) for partial in sorted(self._used_partials(program))}
        sources = {file: source, **{partial.name: partial.source for partial in used.values()}}
        inlined, reason, compiled_text = None, None, None
        try:
            doc = Document(flatten(program, self._ast, self.options))
            structure = check_structure(doc, self.helpers)
            final = doc.html  # what the text is derived from: the HTML as it is sent
            if self.inline_css == "per-render":
                final, reason = inline_css(doc.html), 'inline_css="per-render"'
            elif self.inline_css:
                final, reason = compile_time(doc, structure)
                if reason is None:
                    inlined = self._compile(doc.rebuild(doc.tokens(final)), sources)
            # not when premailer's serializer escapes URLs, nor when helpers would run a second time
            if text_source is None and reason is None and doc.helper_call() is None:
                compiled_text = self._text_template(doc, final, sources)
        except (NotFlat, NotStatic, NotRebuilt) as exc:  # inlined (if at all) and text derived per render
            inlined, reason = None, 'inline_css="per-render"' if self.inline_css == "per-render" else str(exc)
        except (CssError, MarkupError) as exc:  # the email's stylesheet or HTML cannot be applied or read
            raise type(exc)(exc.message, name=file) from None
        text = None
        if text_source is not None:
            text = self._compile(self._parse(text_source.text, name=text_source.file),
                                 {text_source.file: text_source.text}, no_escape=True)
        subject_source = self.loader.subject(name)
        subject = self._compile(self._parse(subject_source.text, name=subject_source.file),
                                {subject_source.file: subject_source.text}, no_escape=True)
        return CompiledEmail(html, inlined, reason, text, compiled_text, subject, used)

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
                if name not in seen and self.loader.has_partial(name):
                    seen.add(name)
                    todo.append(self._ast(name))
        return seen

    def info(self, name: str) -> EmailInfo:
        """Subject, fixtures, inlining and any compile error of an email (for the preview index)."""
        subject = self.loader.subject(name).text
        try:
            fixtures = list(self.loader.fixtures(name))
        except TemplateError as exc:
            return EmailInfo(name, subject, [], "off", None, str(exc))
        try:
            email = self.compiled(name)
        except TemplateError as exc:
            return EmailInfo(name, subject, fixtures, "off", None, str(exc))
        mode = "off" if not self.inline_css else "compile-time" if email.inlined else "per-render"
        return EmailInfo(name, subject, fixtures, mode, email.inline_reason, None)

    # -- variables and sample data ------------------------------------------------------------------
    def variables(self, name: str) -> tuple[Variable, ...]:
        """What email ``name`` reads from its data (HTML, text and subject, through partials and layouts),
        each with the shape the template implies; see :mod:`mailtpl.variables`."""
        with self._lock:
            if name not in self._variables:  # kept until invalidate() says a file it reads changed
                sources = [self.loader.email(name), self.loader.text(name), self.loader.subject(name)]
                programs = [(self._parse(source.text, name=source.file), source.file)
                            for source in sources if source is not None]
                self._variables[name] = analyze(programs, self._partial_ast, helpers=self.helpers)
            return self._variables[name]

    def sample_data(self, name: str) -> dict:
        """Data generated from :meth:`variables` that renders the email (``baseUrl`` is left to
        :meth:`render`)."""
        return sample_data(self.variables(name), base_url=self.loader.preview_base_url, skip=["baseUrl"])

    # -- rendering -------------------------------------------------------------------------------
    def admin_url(self, *, required: bool = False) -> str | None:
        """The admin web address links point to: ``base_url``, else ADMIN_WEB_URL (the process environment,
        then the .env file); None when none is set, or with ``required`` a ValueError saying what to set."""
        url = self.base_url or os.environ.get("ADMIN_WEB_URL") or self._dotenv_admin_url
        if url is None and required:
            raise ValueError(f"no admin web address for the links: {SET_ADMIN_URL}")
        return url

    def _context(self, name: str, context: Mapping | None, fixture: str | None, preview: bool,
                 base_url: str | None) -> dict:
        """The data an email is rendered with: the sample-data set, then ``context``, then ``baseUrl`` (the one
        place that decides it): the render's ``base_url``, else :meth:`admin_url`, else (for sample data and
        previews) the folder's ``preview_base_url``."""
        if context is not None and not isinstance(context, Mapping):
            raise DataError(f"the data for {name!r} must be an object (a dict), not {type(context).__name__}",
                            name=name)
        data = dict(self.loader.fixture(name, fixture)) if fixture is not None else {}
        data.update(context or {})
        if "baseUrl" not in data:
            base = base_url or self.admin_url() or (
                self.loader.preview_base_url if fixture is not None or preview else None)
            if base is not None:
                data["baseUrl"] = base.rstrip("/")
        return data

    def render(self, name: str, context: Mapping | None = None, *, fixture: str | None = None,
               preview: bool = False, base_url: str | None = None) -> RenderedEmail:
        """Render an email: subject, HTML with CSS inlined, and plain text.

        The data is the sample-data set ``fixture`` (if any) updated with ``context``. ``{{baseUrl}}``, unless
        the data sets it, is ``base_url``, else ``Environment(base_url=...)``, else ADMIN_WEB_URL; with sample
        data or ``preview`` (data made up for a look, not for sending) else mailtpl.json's
        ``preview_base_url``."""
        email = self.compiled(name)
        data = self._context(name, context, fixture, preview, base_url)
        try:
            return self._render(name, email, data)
        except UndefinedError as exc:
            if exc.path == "baseUrl" or exc.path.startswith("baseUrl."):
                exc.message += f" - {SET_ADMIN_URL}"
            raise

    def _render(self, name: str, email: CompiledEmail, data: dict) -> RenderedEmail:
        partials = email.partials  # compiled with the email: a concurrent invalidate cannot pull them away
        html = None
        # flattened templates (inlined, compiled_text) raise LineBreak where a value's line break would be
        # indented by a partial written in (see mailtpl.flatten): the email is rendered with its partials
        flat = True
        if email.inlined is not None:  # its nodes keep their files: its errors name the partial they come from
            try:
                html, mode = email.inlined(data, helpers=self.helpers, partials=partials), "compile-time"
            except LineBreak:
                flat = False
        if html is None:
            html = email.html(data, helpers=self.helpers, partials=partials)
            html, mode = (inline_css(html), "per-render") if self.inline_css else (html, "off")
        text = None
        if email.text:
            text = email.text(data, helpers=self.helpers, partials=partials)
        elif email.compiled_text and flat:
            try:
                text = finish_text(email.compiled_text(data, helpers=self.helpers, partials=partials))
            except LineBreak:
                pass
        if text is None:
            text = html_to_text(html)
        subject = check_header(email.subject(data, helpers=self.helpers).strip(), f"subject of {name!r}")
        return RenderedEmail(name, subject, html, text, mode)


def _static_partial_names(program: n.Program) -> Iterable[str]:
    for node in n.walk(program):
        if isinstance(node, (n.Partial, n.PartialBlock)) and not isinstance(node.name, n.SubExpr):
            yield node.name.original
