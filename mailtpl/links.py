"""The links of the reset-password and invitation mails, as ABC User Feedback builds them.

The original pastes the raw address into the query string, so ``a+b@x.io``
arrives as ``a b@x.io``; here every value is URL-encoded.
"""
from __future__ import annotations

from urllib.parse import urlencode


def _link(base_url: str, path: str, code: str, email: str) -> str:
    return f"{base_url.rstrip('/')}/link/{path}?{urlencode({'code': code, 'email': email})}"


def reset_password_link(base_url: str, code: str, email: str) -> str:
    """``{base}/link/reset-password?code=..&email=..``"""
    return _link(base_url, "reset-password", code, email)


def invitation_link(base_url: str, code: str, email: str) -> str:
    """``{base}/link/user-invitation?code=..&email=..``"""
    return _link(base_url, "user-invitation", code, email)
