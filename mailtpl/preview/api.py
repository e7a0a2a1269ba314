"""The preview's JSON API: render an email, send a test, sample data, folder status, the change stream."""
from __future__ import annotations

import email.utils

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from werkzeug.exceptions import BadRequest, Conflict, NotFound

from ..errors import TemplateError
from ..loader import FixtureExists
from ..message import compose
from ..snapshots import SnapshotError, snapshot_stem
from .assets import image_report
from .frames import Frame, frames
from .guard import RateLimit, error, json_body
from .rendering import base_url, error_details, preview_env, render
from .status import folder_status

blueprint = Blueprint("api", __name__)
PREVIEW_RECIPIENT = "preview@example.com"
PREVIEW_SENDER = "no-reply@example.com"  # the From shown while SMTP_SENDER is not set


def check_email(name: str) -> None:
    if name not in preview_env().names():
        raise NotFound(f"no email named {name!r}: it was deleted or renamed?")


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
        fixtures, problem = env.loader.fixtures(name), None
    except Exception as exc:
        fixtures, problem = {}, error_details(exc)
    try:
        variables = [v.to_json() for v in env.variables(name)]
        generated = None if fixtures or problem else env.sample_data(name)
    except Exception:  # the template does not parse: the render shows why
        variables, generated = [], None
    return jsonify(name=name, fixtures=fixtures, fixtures_error=problem, variables=variables, generated=generated)


@blueprint.route("/api/render/<name>", methods=["GET", "POST"])
def render_email(name: str):
    from ..smtp.config import sender_from_env
    from ..smtp.delivery import default_sender_name

    env = preview_env()
    check_email(name)
    body = json_body() if request.method == "POST" else {"fixture": request.args.get("fixture")}
    try:
        rendered, generated = render(env, name, body)
        wire = compose(rendered, to=PREVIEW_RECIPIENT, sender=sender_from_env() or PREVIEW_SENDER,
                       sender_name=default_sender_name(env)).wire
    except Exception as exc:  # the boundary: whatever the templates or data do, the page gets an error to show
        return jsonify(error=error_details(exc)), 422
    token = frames().put(Frame(name, rendered.html, wire))
    headers = wire.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    return jsonify(subject=rendered.subject, html=rendered.html, text=rendered.text, headers=headers,
                   inlining=rendered.inlining, generated=generated, frame=url_for("frames.frame", token=token),
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
        rendered, _ = render(env, name, body)  # what the page shows, composed and sent by the Mailer
        with Mailer(env, SmtpConfig.from_env(), attempts=2) as mailer:
            result = mailer.send_rendered(rendered, to)
    except (TemplateError, ValueError, SmtpError) as exc:
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
    """Save data as a sample-data set, only when asked; an existing set only with ``replace``."""
    env = preview_env()
    check_email(name)
    body = json_body()
    fixture, data = body.get("fixture"), body.get("data")
    if not isinstance(fixture, str):
        raise BadRequest("give the sample-data set a name")
    try:
        snapshot_stem(name, fixture)  # a set name becomes part of snapshot file names
    except SnapshotError as exc:
        raise BadRequest(str(exc)) from None
    if not isinstance(data, dict):
        raise BadRequest("give the sample data as a JSON object")
    try:
        path = env.loader.save_fixture(name, fixture, data, overwrite=body.get("replace") is True)
    except FixtureExists:
        raise Conflict(f'{name}.preview.json already has a set named "{fixture}": replace it?') from None
    except TemplateError as exc:
        return jsonify(error=error_details(exc)), 422
    return jsonify(saved=fixture, file=path.name, fixtures=env.loader.fixtures(name))


@blueprint.get("/events")
def events():
    hub = current_app.config["MAILTPL_HUB"]
    subscriber = hub.subscribe()
    if subscriber is None:
        return error(f"too many open preview pages ({hub.max_clients}): close some", 503)
    return Response(hub.stream(subscriber), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
