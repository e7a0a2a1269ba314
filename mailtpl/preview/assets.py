"""The templates' images, served where ``{{baseUrl}}/assets/...`` points in the preview, and a check of
every image an email shows: served, missing, relative (no mail client can load it) or elsewhere.

The folder is ``--assets``, else ``"assets"`` in mailtpl.json (relative to the templates folder), else
``assets/`` in the templates folder. When there is one, the preview renders with ``baseUrl`` set to its
own address (unless the sample data sets ``baseUrl``).
"""
from __future__ import annotations

import html
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import Blueprint, current_app, send_file

from ..environment import Environment
from .guard import error

PREFIX = "/assets/"
# An asset opened on its own (a link in a template to assets/page.html or an .svg) is someone else's file:
# it runs nothing and calls nothing on the preview's origin, whatever its type.
ASSET_CSP = ("sandbox; default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
             "font-src 'self' data:; media-src 'self'")
_SOURCES = [re.compile(pattern, re.IGNORECASE | re.DOTALL) for pattern in (
    r"""<img\b[^>]*?\bsrc\s*=\s*(["'])(?P<src>.*?)\1""",
    r"""\bbackground\s*=\s*(["'])(?P<src>.*?)\1""",
    r"""url\(\s*(?:&quot;|&#39;|["'])?(?P<src>[^)"']*?)(?:&quot;|&#39;|["'])?\s*\)""")]

blueprint = Blueprint("assets", __name__)


def assets_folder(env: Environment, given: str | os.PathLike | None = None) -> Path | None:
    """The assets folder to serve, or None when there is none."""
    root, configured = env.loader.root, env.loader.setting("assets")
    path = Path(given) if given else root / configured if isinstance(configured, str) else root / "assets"
    return path.resolve() if path.is_dir() else None


def asset_path(folder: Path, relpath: str) -> Path | None:
    """The file ``relpath`` names inside ``folder`` (never outside it, also through symlinks), or None."""
    try:
        target = (folder / relpath).resolve()
        return target if folder in target.parents and target.is_file() else None
    except (OSError, ValueError):  # a NUL byte, a name too long for the system: no such file
        return None


@blueprint.get(PREFIX + "<path:relpath>")
def asset(relpath: str):
    folder = current_app.config["MAILTPL_ASSETS"]
    if folder is None:
        return error("no assets folder: create assets/ in the templates folder, set \"assets\" in "
                     "mailtpl.json or start the preview with --assets", 404)
    target = asset_path(folder, relpath)
    if target is None:
        return error(f"{relpath} is not in the assets folder {folder}", 404)
    response = send_file(target, max_age=0)
    response.headers["Content-Security-Policy"] = ASSET_CSP
    return response


def image_report(email_html: str, base_url: str | None, folder: Path | None) -> list[dict]:
    """Each image source of the email once, with ``status``: ok, missing, relative or external."""
    report, seen = [], set()
    for match in (m for pattern in _SOURCES for m in pattern.finditer(email_html)):
        src = html.unescape(match["src"]).strip()
        if not src or src in seen or src.startswith(("data:", "cid:", "#")):
            continue
        seen.add(src)
        report.append({"src": src, "status": _status(src, base_url, folder)})
    return report


def _status(src: str, base_url: str | None, folder: Path | None) -> str:
    if not urlsplit(src).scheme and not src.startswith("//"):
        return "relative"
    if folder is None or not base_url or not src.startswith(base_url + "/"):
        return "external"
    path = urlsplit(src[len(base_url):]).path
    if not path.startswith(PREFIX):
        return "missing"
    return "ok" if asset_path(folder, unquote(path[len(PREFIX):])) else "missing"
