"""Rendering for the preview: the data an email is shown with, and failures as the page shows them."""
from __future__ import annotations

from flask import current_app, request

from ..environment import Environment
from ..errors import TemplateError, TemplateNotFound
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


def render_data(env: Environment, name: str, body: dict) -> tuple[dict, bool]:
    """The data to render with: the edited ``data`` as given, else the sample-data set ``fixture`` (none
    named: the first), else (an email without sample data) data generated from its variables; and
    whether it was generated."""
    fixture, data = body.get("fixture"), body.get("data")
    if data is not None and not isinstance(data, dict):
        raise ValueError('the data must be a JSON object, like {"code": "482913"}')
    generated = False
    if data is None:
        fixtures = env.fixtures(name)
        if fixture:
            if not isinstance(fixture, str) or fixture not in fixtures:
                raise TemplateNotFound(str(fixture), list(fixtures), what=f"sample data set for {name!r}")
            data = fixtures[fixture]
        elif fixtures:
            data = next(iter(fixtures.values()))
        else:
            data, generated = env.sample_data(name), True
    data = dict(data or {})
    base = base_url()
    if base and "baseUrl" not in data:
        data["baseUrl"] = base
    return env.context(name, data, preview=True), generated


def render(env: Environment, name: str, body: dict) -> tuple[RenderedEmail, bool]:
    """The rendered email, and whether its data was generated."""
    data, generated = render_data(env, name, body)
    return env.render(name, data), generated
