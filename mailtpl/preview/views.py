"""The preview's pages (Flask's Jinja, autoescaped; JSON in scripts escaped for the script context)."""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, render_template
from markupsafe import Markup

from ..environment import EmailInfo, Environment
from .api import error_details, preview_env, smtp_status

blueprint = Blueprint("preview", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/static/preview")
_SCRIPT_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026",
                   0x2028: "\\u2028", 0x2029: "\\u2029"}


@blueprint.app_template_filter("script_json")
def script_json(value) -> Markup:
    """JSON for a ``<script type="application/json">``: nothing in it can end the script element."""
    return Markup(json.dumps(value, ensure_ascii=False).translate(_SCRIPT_ESCAPES))


def email_info(env: Environment, name: str) -> EmailInfo:
    """An email's index entry; a failure of any kind is its error, not the page's."""
    try:
        return env.info(name)
    except Exception as exc:
        return EmailInfo(name, name, [], "off", None, error_details(exc)["text"])


@blueprint.get("/")
def index():
    env = preview_env()
    return render_template("index.html", emails=[email_info(env, name) for name in env.names()], root=env.root)


@blueprint.get("/email/<name>")
def email_page(name: str):
    env = preview_env()
    if name not in env.names():
        abort(404, f"no email named {name!r}")
    info = email_info(env, name)
    try:
        fixtures = env.fixtures(name)
    except Exception:
        fixtures = {}
    can_send, send_status = smtp_status()
    return render_template("email.html", info=info, fixtures=fixtures, names=env.names(), can_send=can_send,
                           send_status=send_status)


@blueprint.get("/source/<path:relpath>")
def source(relpath: str):
    """A template file's source, only for files of the templates folder (anything else is a 404)."""
    env = preview_env()
    root = env.root.resolve()
    target = (root / relpath).resolve()
    if root not in target.parents or target not in {p.resolve() for p in env.files()}:
        abort(404)
    return Response(target.read_text(encoding="utf-8", errors="replace"), mimetype="text/plain")
