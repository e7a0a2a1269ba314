"""Lint findings of caught mail: ``GET /api/messages/<id>/lint`` (JSON) and the message's HTML with a
finding's element outlined (``GET /api/messages/<id>/lint/highlight?tag=img&index=0``), for the inbox's
Lint view.

A caught message is a finished email: :func:`mailtpl.lint.lint_email` checks it by the rules and caniemail
data that check templates, and its findings name elements by CSS selector, not file:line. In the preview
the folder's ``mailtpl.json`` chooses the clients and its ``"*"`` switch-offs apply; headless, the default
clients.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ..lint import Linter, lint_email
from ..preview.rendering import error_details
from ..preview.frames import CLOSED_FRAME_CSP
from ..preview.guard import error
from ..preview.lint_views import outlined
from ..rendered import RenderedEmail
from .store import Inbox

blueprint = Blueprint("capture_lint", __name__)


def _message(message_id: str):
    box: Inbox = current_app.config["MAILTPL_INBOX"]
    return box.get(message_id)


@blueprint.get("/api/messages/<message_id>/lint")
def lint_message(message_id: str):
    message = _message(message_id)
    if message is None:
        return error(f"no message {message_id!r} (deleted, or dropped past the inbox limit)", 404)
    env = current_app.config.get("MAILTPL_ENV")
    try:
        email = RenderedEmail(message.id, message.subject, message.html or "", message.text or "")
        report = Linter(env).lint_email(email) if env is not None else lint_email(email)
    except Exception as exc:  # the boundary: a bad mailtpl.json, or a bug below, is an answer, not a 500
        return jsonify(error=error_details(exc)), 422
    return jsonify(findings=[f.to_json() for f in report.findings], clean=report.clean,
                   seconds=round(report.seconds, 4), html=message.html is not None)


@blueprint.get("/api/messages/<message_id>/lint/highlight")
def highlight(message_id: str):
    message = _message(message_id)
    if message is None or message.html is None:
        return error(f"no HTML part in message {message_id!r}", 404)
    return outlined(message.html, CLOSED_FRAME_CSP)  # caught mail is untrusted: nothing remote loads
