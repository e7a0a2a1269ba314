"""What keeps the preview its user's own: Host and Origin checks, security headers, bounded requests,
and every failure as a JSON or page error (never a traceback).

A browser page on another site can reach a server on 127.0.0.1 in two ways: a cross-origin request
(refused by the Origin check, which compares against the configured names and the port the server
listens on, never against the Host header) and DNS rebinding (its own name resolving to 127.0.0.1, which
puts that name in the Host header: refused with 400).
"""
from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
from collections import deque
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError

logger = logging.getLogger("mailtpl.preview")

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # read only: every other method is checked
MAX_BODY = 1 << 20          # bytes of a request body
MAX_JSON_DEPTH = 64         # nesting of a JSON body: deeper data is a mistake or an attack
PAGE_CSP = ("default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
            "object-src 'none'")


def canonical_name(name: str) -> str:
    """One spelling per host: lower case, no final dot, an IP address in its short form (``[::0:1]`` is ``::1``)."""
    name = name.strip().strip("[]").lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name


def allowed_hosts(host: str) -> frozenset[str]:
    """The names a Host header may carry: loopback, and the address the server was told to listen on."""
    host = canonical_name(host)
    return frozenset(LOOPBACK_NAMES) | ({host} if host not in WILDCARD_HOSTS else set())


def _hostname(value: str) -> str | None:
    """The name in a Host header or an origin's network location (IPv6 without brackets), or None.
    A user part (``evil.example@localhost``) is no browser's Host header: None."""
    try:
        parts = urlsplit("//" + value)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return None
    if "@" in parts.netloc or not parts.hostname:
        return None
    return canonical_name(parts.hostname)


def init_app(app: Flask, host: str) -> None:
    """Install the checks and headers on ``app``, which serves on ``host``."""
    app.config["MAILTPL_HOSTS"] = allowed_hosts(host)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.before_request(_refuse_untrusted_hosts)
    app.before_request(_refuse_cross_origin_changes)
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def _same_origin(origin: str) -> bool:
    """Origin (or Referer) names this server: http, a trusted name, the port we listen on."""
    try:
        parts = urlsplit(origin)
        port = parts.port or 80
    except ValueError:
        return False
    names = current_app.config["MAILTPL_HOSTS"]
    hostname = canonical_name(parts.hostname or "")  # http://localhost.:port/ is this server too
    return parts.scheme == "http" and hostname in names and str(port) == request.environ.get("SERVER_PORT")


def _refuse_untrusted_hosts():
    """Before anything else: the Host header must name this server (a request without one is no browser's)."""
    host = request.headers.get("Host")
    if host is not None and _hostname(host) not in current_app.config["MAILTPL_HOSTS"]:
        return error(f"refused: the Host header {host!r} is not this preview's address (a page of another "
                     f"site that resolves its name to this machine?). Open it by 127.0.0.1 or localhost, or "
                     f"start the preview with --host <that name>.", 400)
    return None


def _refuse_cross_origin_changes():
    """Requests that change something (POST, PUT, PATCH, DELETE, any unknown method) must come from the
    preview's own pages: same origin, and a body only as JSON (no simple cross-site form)."""
    if request.method in SAFE_METHODS:
        return None
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if origin and not _same_origin(origin):
        return error(f"cross-origin request from {origin} refused", 403)
    if request.method != "DELETE" and not request.is_json:
        return error("expected a JSON body (Content-Type: application/json)", 415)
    return None


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"  # no-referrer would make some browsers send Origin: null
    return response


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/events", "/frame/")) or request.is_json


def error(message: str, status: int, **details) -> tuple[Response, int]:
    """A failure as the client expects it: JSON for the API, a page for a browser tab."""
    if _wants_json():
        return jsonify(error={"message": message, "text": message, **details}), status
    return Response(render_template("error.html", status=status, message=message), status,
                    mimetype="text/html"), status


def _http_error(exc: HTTPException):
    return error(exc.description or exc.name, exc.code or 500)


def unexpected(exc: Exception) -> str:
    """A bug below the preview: its traceback goes to the terminal, this message to the page."""
    logger.error("unexpected error serving %s", request.path, exc_info=exc)
    return f"unexpected error inside mailtpl ({type(exc).__name__}: {exc}); the traceback is in the terminal"


def _unexpected_error(exc: Exception):
    """Last resort for an exception no view turned into an error message."""
    return error(unexpected(exc), InternalServerError.code)


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:40]} is too large for JSON")
    return value


def _not_json(name: str):
    raise ValueError(f"{name} is not JSON")


def json_body() -> dict:
    """The request's JSON object, refused with 400 when it is not one, nested too deeply, or holds what
    standard JSON cannot (NaN, Infinity, 1e999, a lone UTF-16 surrogate): saved to a sample file, such a
    value made a file other tools refuse, or an empty one."""
    try:
        body = json.loads(request.get_data(cache=True) or b"{}", parse_float=_finite, parse_constant=_not_json)
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest("the body holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is no character") from None
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"the body is not JSON: {str(exc)[:200]}") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    check_depth(body)
    return body


def check_depth(value, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse data nested deeper than ``limit`` (iteratively: deep data must not exhaust the stack)."""
    todo = [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if depth > limit:
            raise BadRequest(f"the data is nested more than {limit} levels deep")
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        todo.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


class RateLimit:
    """At most ``count`` events per ``period`` seconds (a sliding window)."""

    def __init__(self, count: int, period: float) -> None:
        self.count, self.period = count, period
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def wait(self) -> float:
        """0 and the event is counted, else the seconds until one is allowed."""
        now = time.monotonic()
        with self._lock:
            while self._times and now - self._times[0] >= self.period:
                self._times.popleft()
            if len(self._times) >= self.count:
                return self.period - (now - self._times[0])
            self._times.append(now)
            return 0.0
