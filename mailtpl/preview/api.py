"""The preview's JSON API: render an email, send a test, sample data, folder status, the change stream."""
from __future__ import annotations

import email.utils
import os
import re

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from werkzeug.exceptions import BadRequest, Conflict, NotFound

from ..errors import PybarsError
from ..message import compose
from .assets import image_report
from .frames import Frame, frames
from .guard import RateLimit, error, json_body
from .rendering import base_url, error_details, preview_env, render, render_data
from .samplefile import with_set
from .status import folder_status

blueprint = Blueprint("api", __name__)
PREVIEW_RECIPIENT = "preview@example.com"
SET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def check_email(name: str) -> None:
    if name not in preview_env().names():
        raise NotFound(f"no email named {name!r}: it was deleted or renamed?")


def check_set_name(name) -> str:
    """A sample-data set name: it becomes part of snapshot file names, so letters, digits, - and _ only."""
    if not isinstance(name, str) or not SET_NAME.fullmatch(name.strip()):
        raise BadRequest("a sample-data name is 1-64 letters, digits, '-' or '_', starting with a letter or digit")
    return name.strip()


def watcher_error() -> str | None:
    watcher = current_app.config.get("MAILTPL_WATCHER")
    return watcher.error if watcher else None


@blueprint.get("/api/emails")
def emails():
    return jsonify(folder_status(preview_env(), watcher_error()))


@blueprint.get("/api/email/<name>")
def email_data(name: str):
    """An email's sample-data sets (re-read when the file changes on disk)."""
    env = preview_env()
    check_email(name)
    try:
        fixtures, problem = env.fixtures(name), None
    except Exception as exc:
        fixtures, problem = {}, error_details(exc)
    return jsonify(name=name, fixtures=fixtures, fixtures_error=problem)


@blueprint.route("/api/render/<name>", methods=["GET", "POST"])
def render_email(name: str):
    env = preview_env()
    check_email(name)
    body = json_body() if request.method == "POST" else {"fixture": request.args.get("fixture")}
    try:
        rendered = render(env, name, body)
        sender = os.environ.get("SMTP_SENDER") or "no-reply@example.com"
        wire = compose(rendered, to=PREVIEW_RECIPIENT, sender=sender, sender_name=env.sender_name).wire
    except Exception as exc:  # the boundary: whatever the templates or data do, the page gets an error to show
        return jsonify(error=error_details(exc)), 422
    token = frames().put(Frame(name, rendered.html, wire))
    headers = wire.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    return jsonify(subject=rendered.subject, html=rendered.html, text=rendered.text, headers=headers,
                   inlining=rendered.inlining, frame=url_for("frames.frame", token=token),
                   eml=url_for("frames.eml", token=token),
                   images=image_report(rendered.html, base_url(), current_app.config.get("MAILTPL_ASSETS")))


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
    check_email(name)
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
    """Save data as a sample-data set, only when asked; an existing set only with ``replace``. The rest of
    the file keeps its formatting."""
    env = preview_env()
    check_email(name)
    body = json_body()
    fixture, data = check_set_name(body.get("fixture")), body.get("data")
    if not isinstance(data, dict):
        raise BadRequest("give the sample data as a JSON object")
    try:
        existing = env.fixtures(name)
    except PybarsError as exc:
        return jsonify(error=error_details(exc)), 422
    if fixture in existing and body.get("replace") is not True:
        raise Conflict(f'{name}.preview.json already has a set named "{fixture}": replace it?')
    path = env.root / f"{name}.preview.json"
    text = path.read_text(encoding="utf-8") if path.exists() else None
    path.write_text(with_set(text, fixture, data), encoding="utf-8")
    env.invalidate([path])
    return jsonify(saved=fixture, file=path.name, fixtures=env.fixtures(name))


@blueprint.get("/events")
def events():
    hub = current_app.config["MAILTPL_HUB"]
    subscriber = hub.subscribe()
    if subscriber is None:
        return error(f"too many open preview pages ({hub.max_clients}): close some", 503)
    return Response(hub.stream(subscriber), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
