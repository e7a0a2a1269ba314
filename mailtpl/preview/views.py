"""The preview's pages (Flask's Jinja, autoescaped; JSON in scripts escaped for the script context)."""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app, render_template
from markupsafe import Markup

from .api import smtp_status, watcher_error
from .rendering import preview_env
from .status import folder_status

blueprint = Blueprint("preview", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/static/preview")
_SCRIPT_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026",
                   0x2028: "\\u2028", 0x2029: "\\u2029"}


@blueprint.app_template_filter("script_json")
def script_json(value) -> Markup:
    """JSON for a ``<script type="application/json">``: nothing in it can end the script element."""
    return Markup(json.dumps(value, ensure_ascii=False).translate(_SCRIPT_ESCAPES))


def _page(template: str, **state):
    env = preview_env()
    assets = current_app.config.get("MAILTPL_ASSETS")
    return render_template(template, root=env.loader.root, assets=assets, **state)


@blueprint.get("/")
def index():
    return _page("index.html", status=folder_status(preview_env(), watcher_error()))


@blueprint.get("/email/<name>")
def email_page(name: str):
    env = preview_env()
    if name not in env.names():
        abort(404, f"no email named {name!r} in {env.loader.root}: it was deleted or renamed?")
    can_send, send_status = smtp_status()
    return _page("email.html", name=name, state={"name": name, "canSend": can_send, "sendStatus": send_status,
                                                 "assets": bool(current_app.config.get("MAILTPL_ASSETS"))})


@blueprint.get("/source/<path:relpath>")
def source(relpath: str):
    """A template file's source, only for files of the templates folder (anything else is a 404)."""
    env = preview_env()
    root = env.loader.root.resolve()
    try:
        target = (root / relpath).resolve()
    except (OSError, ValueError):  # a NUL byte, a name too long for the system: no such file
        abort(404)
    if root not in target.parents or target not in {p.resolve() for p in env.loader.files()}:
        abort(404)
    return Response(target.read_text(encoding="utf-8", errors="replace"), mimetype="text/plain")
