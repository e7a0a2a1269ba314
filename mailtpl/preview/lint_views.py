"""The preview's lint panel: findings of the open email (``/api/lint/<name>``) and the email's frame with one
element outlined (``/frame/<token>/highlight``), which the panel shows when a finding is clicked."""
from __future__ import annotations

import lxml.html
from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import BadRequest, NotFound

from ..lint import Linter
from ..lint.trace import parse
from .rendering import base_url, error_details, preview_data, preview_env
from .frames import FRAME_CSP, LOOKS, frame_html, frames
from .guard import error, json_body

blueprint = Blueprint("lint", __name__, static_folder="static", static_url_path="/static/lint")
HIT = "mailtpl-lint-hit"
HIT_STYLE = (f"<style>#{HIT}{{outline:3px solid #e11d48 !important;outline-offset:2px !important;"
             f"scroll-margin:48px}}</style>")


@blueprint.route("/api/lint/<name>", methods=["GET", "POST"])
def lint(name: str):
    """Findings for the email with the page's data (``fixture`` or edited ``data``, as /api/render takes)."""
    env = preview_env()
    if name not in env.names():
        raise NotFound(f"no email named {name!r}")
    body = json_body() if request.method == "POST" else {"fixture": request.args.get("fixture")}
    try:
        chosen = preview_data(env, name, body)
        # a new linter sees saved files; the preview's own address stands for {{baseUrl}} when it serves assets
        report = Linter(env, base_url=base_url()).lint(name, fixture=chosen.fixture, context=chosen.context)
    except Exception as exc:  # the boundary, as for /api/render: the panel shows the error
        return jsonify(error=error_details(exc)), 422
    return jsonify(findings=[f.to_json() for f in report.findings], clean=report.clean,
                   seconds=round(report.seconds, 4))


@blueprint.get("/frame/<token>/highlight")
def highlight(token: str):
    """The kept render ``token`` with the ``index``-th ``tag`` element outlined and scrolled to (#hit)."""
    found = frames().get(token)
    if found is None:
        return error("this render is no longer kept: render the email again", 404)
    return outlined(found.html)


def outlined(html: str, csp: str = FRAME_CSP) -> Response:
    """The email's frame (sandboxed under ``csp``, as /frame/<token> serves it) in the request's ``look``, with
    the element named by its ``tag`` and ``index`` (a finding's ``element``, counted in the tree lint read)
    outlined."""
    tag, look = request.args.get("tag", ""), request.args.get("look", "light")
    if look not in LOOKS:
        raise BadRequest(f"look must be one of {', '.join(LOOKS)}")
    try:
        index = int(request.args.get("index", ""))
    except ValueError:
        raise BadRequest("index must be a number") from None
    if not tag.isalnum():
        raise BadRequest("tag must be an element name")
    document = parse(html)
    elements = [el for el in document.iter() if isinstance(el.tag, str) and el.tag.lower() == tag.lower()]
    if not 0 <= index < len(elements):
        raise NotFound(f"the email has no <{tag}> number {index + 1}")
    elements[index].set("id", HIT)
    html = lxml.html.tostring(document, doctype=document.getroottree().docinfo.doctype, encoding="unicode")
    framed = frame_html(html, look)
    head = framed.lower().find("</head>")
    framed = framed[:head] + HIT_STYLE + framed[head:] if head != -1 else HIT_STYLE + framed
    return Response(framed, mimetype="text/html",
                    headers={"Content-Security-Policy": csp, "Cache-Control": "no-store"})
