"""Catch the mail an app sends: an SMTP server on 127.0.0.1 (aiosmtpd), an inbox, its API and page.

    with CaptureServer(port=1025) as server:      # any recipient, any AUTH, STARTTLS offered
        ...                                       # the app sends to 127.0.0.1:1025
        message = server.inbox.wait_for(to="ada@example.com", timeout=5)
        message.find(r"\\b(\\d{6})\\b"), message.links(), message.headers["From"]

The server (aiosmtpd, cryptography) and the web part (Flask) load on first
use, so that ``mailtpl build`` does not pay for them.
"""
from importlib import import_module

from .message import CapturedMessage, Headers, Part
from .store import DEFAULT_LIMIT, DEFAULT_MAX_BYTES, CaptureTimeout, Inbox

DEFAULT_SMTP_PORT = 1025
_LAZY = {"CaptureServer": ".server", "CaptureError": ".server", "create_app": ".web", "register": ".web"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CaptureServer", "CaptureError", "Inbox", "CaptureTimeout", "CapturedMessage", "Headers", "Part",
           "create_app", "register", "DEFAULT_SMTP_PORT", "DEFAULT_LIMIT",
           "DEFAULT_MAX_BYTES"]
