"""Rendering for the preview: the data an email is shown with, and failures as the page shows them."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request

from ..environment import Environment
from ..errors import TemplateError
from ..rendered import RenderedEmail
from .guard import unexpected


def preview_env() -> Environment:
    return current_app.config["MAILTPL_ENV"]


def base_url() -> str | None:
    """This server's address when it serves an assets folder (``{{baseUrl}}/assets/...`` then loads)."""
    return request.host_url.rstrip("/") if current_app.config.get("MAILTPL_ASSETS") else None


def error_details(exc: Exception) -> dict:
    """What the page shows of a failure: file, line, column and source line when there are some."""
    if isinstance(exc, TemplateError):
        return {"message": str(exc).splitlines()[0], "file": exc.name, "line": exc.lineno, "column": exc.column,
                "source_line": exc.source_line, "text": str(exc)}
    if isinstance(exc, (TemplateError, ValueError, LookupError)):
        return {"message": str(exc), "text": str(exc)}
    text = unexpected(exc)
    return {"message": text, "text": text}


@dataclass(frozen=True)
class PreviewData:
    """What a page asks to render with: ``context`` (edited or generated data) or the sample-data set
    ``fixture``; ``generated``: the data was made up from the email's variables."""

    context: dict | None
    fixture: str | None
    generated: bool = False


def preview_data(env: Environment, name: str, body: dict) -> PreviewData:
    """The edited ``data`` as given, else the sample-data set ``fixture`` (none named: the first), else (an
    email without sample data) data generated from its variables."""
    fixture, data = body.get("fixture"), body.get("data")
    if data is not None:
        if not isinstance(data, dict):
            raise ValueError('the data must be a JSON object, like {"code": "482913"}')
        return PreviewData(data, None)
    if fixture:
        fixture = str(fixture)
        env.loader.fixture(name, fixture)  # TemplateNotFound naming the sets there are, before any render
        return PreviewData(None, fixture)
    first = next(iter(env.loader.fixtures(name)), None)
    return PreviewData(None, first) if first is not None else PreviewData(env.sample_data(name), None, True)


def render(env: Environment, name: str, body: dict) -> tuple[RenderedEmail, bool]:
    """The rendered email, and whether its data was generated."""
    chosen = preview_data(env, name, body)
    rendered = env.render(name, chosen.context, fixture=chosen.fixture, preview=True, base_url=base_url())
    return rendered, chosen.generated
