"""Routes of the preview: pages (Flask's Jinja), a JSON render API, SSE, sending a test."""
from __future__ import annotations

import json
import os
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request

from ..environment import Environment
from ..errors import PybarsError, TemplateError
from ..message import compose

blueprint = Blueprint("preview", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/static/preview")
PREVIEW_RECIPIENT = "preview@example.com"


def _env() -> Environment:
    return current_app.config["MAILTPL_ENV"]


@blueprint.before_request
def refuse_cross_origin_posts():
    """POSTs must come from the preview's own pages: same Origin, JSON body (no simple cross-site form)."""
    if request.method != "POST":
        return None
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if origin:
        parts = urlsplit(origin)
        if f"{parts.scheme}://{parts.netloc}" != request.host_url.rstrip("/"):
            return jsonify(error={"message": f"cross-origin request from {origin} refused"}), 403
    if not request.is_json:
        return jsonify(error={"message": "expected a JSON body"}), 415
    return None


def _error(exc: Exception) -> dict:
    if isinstance(exc, TemplateError):
        return {"message": str(exc).splitlines()[0], "file": exc.name, "line": exc.lineno, "column": exc.column,
                "source_line": exc.source_line, "text": str(exc)}
    return {"message": str(exc), "text": str(exc)}


def _smtp_status() -> tuple[bool, str]:
    from ..smtp import ConfigError, SmtpConfig

    try:
        config = SmtpConfig.from_env()
    except ConfigError as exc:
        return False, "sending is off: " + "; ".join(f"{k} {v}" for k, v in exc.problems.items())
    return True, f"through {config.host}:{config.port} from {config.sender}"


@blueprint.get("/")
def index():
    env = _env()
    return render_template("index.html", emails=[env.info(name) for name in env.names()], root=env.root)


@blueprint.get("/email/<name>")
def email_page(name: str):
    env = _env()
    if name not in env.names():
        abort(404)
    info = env.info(name)
    try:
        fixtures = env.fixtures(name)
    except PybarsError:
        fixtures = {}
    can_send, send_status = _smtp_status()
    return render_template("email.html", info=info, fixtures=fixtures, fixtures_json=json.dumps(fixtures),
                           names=env.names(), can_send=can_send, send_status=send_status)


def _request_data() -> tuple[str | None, dict | None]:
    body = request.get_json(silent=True) if request.method == "POST" else None
    if body is not None and not isinstance(body, dict):
        abort(400)
    body = body or {}
    fixture = body.get("fixture", request.args.get("fixture"))
    data = body.get("data")
    if data is not None and not isinstance(data, dict):
        raise ValueError("the data must be a JSON object, like {\"code\": \"482913\"}")
    return fixture or None, data


@blueprint.route("/api/render/<name>", methods=["GET", "POST"])
def render_email(name: str):
    env = _env()
    if name not in env.names():
        return jsonify(error={"message": f"no email named {name!r}"}), 404
    try:
        fixture, data = _request_data()
        if data is not None:  # edited in the page: the data as given, baseUrl filled in like a fixture's
            context = env.context(name, data, preview=True)
            fixture = None
        else:
            context = None
        rendered = env.render(name, context, fixture=fixture)
        sender = os.environ.get("SMTP_SENDER") or "no-reply@example.com"
        wire = compose(rendered, to=PREVIEW_RECIPIENT, sender=sender, sender_name=env.sender_name).wire
    except (PybarsError, ValueError) as exc:
        return jsonify(error=_error(exc)), 422
    headers = wire.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
    return jsonify(subject=rendered.subject, html=rendered.html, text=rendered.text, headers=headers,
                   inlining=rendered.inlining)


@blueprint.post("/api/send/<name>")
def send_test(name: str):
    from ..smtp import Mailer, SmtpConfig, SmtpError

    env = _env()
    if name not in env.names():
        return jsonify(error={"message": f"no email named {name!r}"}), 404
    can_send, status = _smtp_status()
    if not can_send:
        return jsonify(error={"message": status}), 409
    try:
        fixture, data = _request_data()
        to = (request.get_json() or {}).get("to", "")
        context = env.context(name, data, preview=True) if data is not None else env.context(name, fixture=fixture)
        with Mailer(env, SmtpConfig.from_env(), attempts=2) as mailer:
            result = mailer.send(name, to, context)
    except (PybarsError, ValueError, SmtpError) as exc:
        return jsonify(error=_error(exc)), 422
    return jsonify(message_id=result.message_id, accepted=result.accepted, reply=result.reply)


@blueprint.get("/events")
def events():
    hub = current_app.config["MAILTPL_HUB"]
    return Response(hub.stream(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@blueprint.get("/source/<path:relpath>")
def source(relpath: str):
    """A template file's source, only for files of the templates folder (anything else is a 404)."""
    env = _env()
    root = env.root.resolve()
    target = (root / relpath).resolve()
    if root not in target.parents or target not in {p.resolve() for p in env.files()}:
        abort(404)
    return Response(target.read_text(encoding="utf-8"), mimetype="text/plain")


@blueprint.post("/api/fixtures/<name>")
def save_fixture(name: str):
    """Save edited data as a named sample-data set (only when the designer asks)."""
    env = _env()
    if name not in env.names():
        return jsonify(error={"message": f"no email named {name!r}"}), 404
    body = request.get_json()
    fixture, data = (body or {}).get("fixture"), (body or {}).get("data")
    if not isinstance(fixture, str) or not fixture.strip() or not isinstance(data, dict):
        return jsonify(error={"message": "give a sample-data name and a JSON object"}), 400
    try:
        fixtures = env.fixtures(name)
    except PybarsError as exc:
        return jsonify(error=_error(exc)), 422
    fixtures[fixture.strip()] = data
    path = env.root / f"{name}.preview.json"
    path.write_text(json.dumps(fixtures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    env.invalidate([path])
    return jsonify(saved=fixture.strip(), file=path.name)
