"""The preview's JSON API: render an email, send a test, save sample data, the change stream."""
from __future__ import annotations

import email.utils
import logging
import os
import re

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from werkzeug.exceptions import BadRequest, NotFound

from ..environment import Environment
from ..errors import PybarsError, TemplateError, TemplateNotFound
from ..message import compose
from .frames import Frame, frames
from .guard import RateLimit, error, json_body

logger = logging.getLogger("mailtpl.preview")
blueprint = Blueprint("api", __name__)
PREVIEW_RECIPIENT = "preview@example.com"
SET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def preview_env() -> Environment:
    return current_app.config["MAILTPL_ENV"]


def error_details(exc: Exception) -> dict:
    """What the page shows of a failure: file, line, column and source line when there are some."""
    if isinstance(exc, TemplateError):
        return {"message": str(exc).splitlines()[0], "file": exc.name, "line": exc.lineno, "column": exc.column,
                "source_line": exc.source_line, "text": str(exc)}
    if isinstance(exc, (PybarsError, ValueError, LookupError)):
        return {"message": str(exc), "text": str(exc)}
    logger.error("unexpected error in mailtpl", exc_info=exc)
    text = f"unexpected error inside mailtpl ({type(exc).__name__}: {exc}); the traceback is in the terminal"
    return {"message": text, "text": text}


def _email_name(name: str) -> None:
    if name not in preview_env().names():
        raise NotFound(f"no email named {name!r}")


def check_set_name(name) -> str:
    """A sample-data set name: it becomes part of snapshot file names, so letters, digits, - and _ only."""
    if not isinstance(name, str) or not SET_NAME.fullmatch(name.strip()):
        raise BadRequest("a sample-data name is 1-64 letters, digits, '-' or '_', starting with a letter or digit")
    return name.strip()


def render_data(env: Environment, name: str, body: dict) -> dict:
    """The data to render with: the edited ``data`` as given, else the sample-data set ``fixture``."""
    fixture, data = body.get("fixture"), body.get("data")
    if data is not None and not isinstance(data, dict):
        raise ValueError('the data must be a JSON object, like {"code": "482913"}')
    if data is None and fixture:
        fixtures = env.fixtures(name)
        if not isinstance(fixture, str) or fixture not in fixtures:
            raise TemplateNotFound(str(fixture), list(fixtures), what=f"sample data set for {name!r}")
        data = fixtures[fixture]
    return env.context(name, data or {}, preview=True)


@blueprint.route("/api/render/<name>", methods=["GET", "POST"])
def render(name: str):
    env = preview_env()
    _email_name(name)
    body = json_body() if request.method == "POST" else {"fixture": request.args.get("fixture")}
    try:
        rendered = env.render(name, render_data(env, name, body))
        sender = os.environ.get("SMTP_SENDER") or "no-reply@example.com"
        wire = compose(rendered, to=PREVIEW_RECIPIENT, sender=sender, sender_name=env.sender_name).wire
    except Exception as exc:  # the boundary: whatever the templates or data do, the page gets an error to show
        return jsonify(error=error_details(exc)), 422
    token = frames().put(Frame(name, rendered.html, wire))
    headers = wire.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    return jsonify(subject=rendered.subject, html=rendered.html, text=rendered.text, headers=headers,
                   inlining=rendered.inlining, frame=url_for("frames.frame", token=token),
                   eml=url_for("frames.eml", token=token))


def _one_recipient(to) -> str:
    """send-test mails the designer, not a list: one address per request."""
    if not isinstance(to, str) or not to.strip():
        raise BadRequest("give one recipient address in \"to\"")
    addresses = email.utils.getaddresses([to])
    if len(addresses) != 1 or any(sep in to for sep in ",;\r\n"):
        raise BadRequest("a test goes to one recipient per request")
    return addresses[0][1] or to.strip()


@blueprint.post("/api/send/<name>")
def send_test(name: str):
    from ..smtp import Mailer, SmtpConfig, SmtpError

    env = preview_env()
    _email_name(name)
    body = json_body()
    to = _one_recipient(body.get("to"))
    can_send, status = smtp_status()
    if not can_send:
        return error(status, 409)
    limit: RateLimit = current_app.config["MAILTPL_SEND_LIMIT"]
    wait = limit.wait()
    if wait:
        return error(f"too many test sends: at most {limit.count} per {limit.period:.0f} s; try again in "
                     f"{wait:.0f} s", 429)
    try:
        context = render_data(env, name, body)
        with Mailer(env, SmtpConfig.from_env(), attempts=2) as mailer:
            result = mailer.send(name, to, context)
    except (PybarsError, ValueError, SmtpError) as exc:
        return jsonify(error=error_details(exc)), 422
    return jsonify(message_id=result.message_id, accepted=result.accepted, reply=result.reply)


def smtp_status() -> tuple[bool, str]:
    from ..smtp import ConfigError, SmtpConfig

    try:
        config = SmtpConfig.from_env()
    except ConfigError as exc:
        return False, "sending is off: " + "; ".join(f"{k} {v}" for k, v in exc.problems.items())
    return True, f"through {config.host}:{config.port} from {config.sender}"


@blueprint.post("/api/fixtures/<name>")
def save_fixture(name: str):
    """Save edited data as a named sample-data set (only when the designer asks)."""
    import json

    env = preview_env()
    _email_name(name)
    body = json_body()
    fixture, data = check_set_name(body.get("fixture")), body.get("data")
    if not isinstance(data, dict):
        raise BadRequest("give the sample data as a JSON object")
    try:
        fixtures = env.fixtures(name)
    except PybarsError as exc:
        return jsonify(error=error_details(exc)), 422
    fixtures[fixture] = data
    path = env.root / f"{name}.preview.json"
    path.write_text(json.dumps(fixtures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    env.invalidate([path])
    return jsonify(saved=fixture, file=path.name)


@blueprint.get("/events")
def events():
    hub = current_app.config["MAILTPL_HUB"]
    subscriber = hub.subscribe()
    if subscriber is None:
        return error(f"too many open preview pages ({hub.max_clients}): close some", 503)
    return Response(hub.stream(subscriber), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
