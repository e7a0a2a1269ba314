"""The inbox over HTTP: the JSON API (``api``) and the page that shows it live (``page``).

Caught mail is untrusted input. Its HTML is only ever served from
``/api/messages/<id>/html`` under a closed frame policy (nothing remote loads
until the reader asks for its images; a ``sandbox``
Content-Security-Policy: no scripts, no forms, a unique origin even when
opened directly; links open in a new tab) and shown in an ``<iframe sandbox>``;
everything else reaches the page as JSON and is put into the DOM as text.
The apps these blueprints join carry the preview's guard (Host and Origin
checks, security headers, errors as JSON).
"""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request, stream_with_context

from ..preview import guard
from ..preview.frames import CLOSED_FRAME_CSP, FRAME_CSP, frame_html
from . import lint_views
from .message import CapturedMessage
from .store import Inbox

api = Blueprint("capture_api", __name__)
page = Blueprint("capture", __name__, template_folder="templates", static_folder="static",
                 static_url_path="/static/capture")

KEEPALIVE_SECONDS = 15.0
MAX_STREAMS = 16  # open inbox pages (Server-Sent Event streams) at once


def inbox() -> Inbox:
    return current_app.config["MAILTPL_INBOX"]


def _message(message_id: str) -> CapturedMessage | None:
    return inbox().get(message_id)


@api.get("/api/messages")
def list_messages():
    """Newest first; ``?q=`` searches from, recipients, subject and text."""
    query = request.args.get("q", "").strip()
    box = inbox()
    version = box.version
    messages = [m for m in reversed(box.messages) if not query or m.matches(query)]
    return jsonify(messages=[m.summary() for m in messages], total=len(box), limit=box.limit, bytes=box.bytes,
                   max_bytes=box.max_bytes, version=version)


@api.get("/api/messages/<message_id>")
def show_message(message_id: str):
    message = _message(message_id)
    if message is None:
        return guard.error(f"no message {message_id!r} (deleted, or dropped past the inbox limit)", 404)
    return jsonify(message.details())


@api.get("/api/messages/<message_id>.eml")
def message_source(message_id: str):
    message = _message(message_id)
    if message is None:
        return guard.error(f"no message {message_id!r}", 404)
    return Response(message.raw, mimetype="message/rfc822",
                    headers={"Content-Disposition": f'attachment; filename="{message.id}.eml"'})


@api.get("/api/messages/<message_id>/html")
def message_html(message_id: str):
    """The HTML part; its remote images, styles and fonts load only with ``?remote=1`` (the reader's toggle)."""
    message = _message(message_id)
    if message is None or message.html is None:
        return guard.error(f"no HTML part in message {message_id!r}", 404)
    policy = FRAME_CSP if request.args.get("remote") == "1" else CLOSED_FRAME_CSP
    return Response(frame_html(message.html), mimetype="text/html",
                    headers={"Content-Security-Policy": policy, "Cache-Control": "no-store"})


@api.delete("/api/messages/<message_id>")
def delete_message(message_id: str):
    if not inbox().delete(message_id):
        return guard.error(f"no message {message_id!r}", 404)
    return jsonify(deleted=1)


@api.delete("/api/messages")
def delete_all():
    return jsonify(deleted=inbox().clear())


@api.post("/api/messages/<message_id>/release")
def release_message(message_id: str):
    """Send the message to the real SMTP_* server, to the one recipient in the body: ``{"to": "..."}``."""
    from ..smtp import ConfigError, SmtpConfig, SmtpError
    from .release import is_this_machine, release

    message = _message(message_id)
    if message is None:
        return guard.error(f"no message {message_id!r}", 404)
    to = guard.json_body().get("to")
    if not isinstance(to, str) or not to.strip():
        return guard.error('give one recipient: {"to": "you@example.com"}', 400)
    try:
        config = SmtpConfig.from_env()
    except ConfigError as exc:
        return guard.error(str(exc), 409)
    listener = current_app.config.get("MAILTPL_CAPTURE_ADDRESS")
    if listener and config.port == listener[1] and is_this_machine(config.host):  # the capture's own port here
        return guard.error(f"SMTP_HOST/SMTP_PORT ({config.host}:{config.port}) point at this capture server: set "
                           "the real server's SMTP_* settings where mailtpl runs to release", 409)
    try:
        reply = release(message, to, config)
    except (SmtpError, ValueError) as exc:
        return guard.error(str(exc), 422)
    return jsonify(released=message.id, to=to.strip(), via=f"{config.host}:{config.port}", reply=reply)


@api.get("/api/messages/events")
def events():
    """Server-Sent Events: ``change`` with the inbox's version whenever a message comes or goes."""
    box = inbox()
    streams: threading.BoundedSemaphore = current_app.config["MAILTPL_INBOX_STREAMS"]
    if not streams.acquire(blocking=False):  # each stream holds a server thread
        return guard.error(f"too many open inbox pages ({MAX_STREAMS}): close some", 503)

    def stream() -> Iterator[str]:
        try:
            version = box.version
            yield f"event: hello\ndata: {json.dumps({'version': version})}\n\n"
            while True:
                now = box.wait_changed(version, KEEPALIVE_SECONDS)
                if now == version:
                    yield ": keep-alive\n\n"
                    continue
                version = now
                yield f"event: change\ndata: {json.dumps({'version': version, 'total': len(box)})}\n\n"
        finally:  # the client went away (the next write failed) or the server stops
            streams.release()

    return Response(stream_with_context(stream()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@page.get("/inbox")
def inbox_page():
    return render_template("capture/inbox.html", capture=current_app.config.get("MAILTPL_CAPTURE_ADDRESS"))


def register(app: Flask, box: Inbox, *, address: tuple[str, int] | None = None, ui: bool = True) -> None:
    """Serve ``box`` from ``app``: the API, and the inbox page unless ``ui`` is false. ``address`` is where
    the SMTP listener is (shown on the page, and never a release target)."""
    app.config.update(MAILTPL_INBOX=box, MAILTPL_CAPTURE_ADDRESS=address,
                      MAILTPL_INBOX_STREAMS=threading.BoundedSemaphore(MAX_STREAMS))
    app.register_blueprint(api)
    app.register_blueprint(lint_views.blueprint)  # lint findings of caught mail
    if ui:
        app.register_blueprint(page)


def create_app(box: Inbox, *, address: tuple[str, int] | None = None, host: str = "127.0.0.1") -> Flask:
    """The headless inbox of ``mailtpl capture``: the API only, behind the preview's Host and Origin checks."""
    app = Flask(__name__)
    guard.init_app(app, host)
    register(app, box, address=address, ui=False)
    return app
