"""Rendered emails kept briefly by token: the HTML served to the sandboxed iframe, the .eml download.

The iframe loads the email from its own URL with its own Content-Security-Policy. A ``srcdoc`` iframe
would inherit the page's policy (no inline styles, no outside images) and not show the email as a mail
client does. The frame's policy is a sandbox too: no scripts, no forms, no same-origin access, even
when the URL is opened directly; links open in a new tab.
"""
from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, request

from .guard import error

FRAME_CSP = ("sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; img-src * data:; "
             "style-src * 'unsafe-inline'; font-src * data:; frame-ancestors 'self'")
# Mail written by someone else (the capture inbox): nothing leaves the machine when it is opened, no
# tracking pixel, no request to a local service; its remote images only once the reader asks for them.
CLOSED_FRAME_CSP = ("sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; img-src data:; "
                    "style-src 'unsafe-inline'; font-src data:; frame-ancestors 'self'")
LOOKS = ("light", "dark", "invert")
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
_DARK_QUERY = re.compile(r"prefers-color-scheme\s*:\s*dark", re.IGNORECASE)
_LIGHT_QUERY = re.compile(r"prefers-color-scheme\s*:\s*light", re.IGNORECASE)
_INVERT = ("<style>html{filter:invert(1) hue-rotate(180deg);background:#fff}"
           "img,picture,video{filter:invert(1) hue-rotate(180deg)}</style>")


@dataclass(frozen=True)
class Frame:
    name: str
    html: str
    wire: bytes


class Frames:
    """The last ``size`` renders, by unguessable token (a page asks for the one it was given)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._frames: OrderedDict[str, Frame] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, frame: Frame) -> str:
        token = secrets.token_urlsafe(12)
        with self._lock:
            self._frames[token] = frame
            while len(self._frames) > self.size:
                self._frames.popitem(last=False)
        return token

    def get(self, token: str) -> Frame | None:
        with self._lock:
            return self._frames.get(token)


def frame_html(html: str, look: str = "light") -> str:
    """The email as the iframe shows it: links to a new tab; ``dark`` applies the email's own
    ``prefers-color-scheme: dark`` rules, ``invert`` approximates apps that force dark mode."""
    extra = '<base target="_blank">' if "<base" not in html.lower() else ""
    if look == "dark":
        html = _LIGHT_QUERY.sub("max-width: 0px", _DARK_QUERY.sub("min-width: 0px", html))
    elif look == "invert":
        extra += _INVERT
    head = _HEAD.search(html)
    at = head.end() if head else 0
    return html[:at] + extra + html[at:]


blueprint = Blueprint("frames", __name__)


def frames() -> Frames:
    return current_app.config["MAILTPL_FRAMES"]


@blueprint.get("/frame/<token>")
def frame(token: str):
    found = frames().get(token)
    if found is None:
        return error("this render is no longer kept: render the email again", 404)
    look = request.args.get("look", "light")
    if look not in LOOKS:
        return error(f"look must be one of {', '.join(LOOKS)}", 400)
    return Response(frame_html(found.html, look), mimetype="text/html",
                    headers={"Content-Security-Policy": FRAME_CSP, "Cache-Control": "no-store"})


@blueprint.get("/frame/<token>.eml")
def eml(token: str):
    found = frames().get(token)
    if found is None:
        return error("this render is no longer kept: render the email again", 404)
    return Response(found.wire, mimetype="message/rfc822",
                    headers={"Content-Disposition": f'attachment; filename="{found.name}.eml"',
                             "Cache-Control": "no-store"})
