"""How each email of the folder is doing, for the index and the sidebar: compiles, sample data renders,
and files the folder holds for emails that are gone (a rename leaves them behind)."""
from __future__ import annotations

from ..environment import EmailInfo, Environment
from .rendering import error_details, render

_STYLES = {"compile-time": "styles inlined once, when compiled", "per-render": "styles inlined on every render",
           "off": "styles not inlined"}


def email_info(env: Environment, name: str) -> EmailInfo:
    """An email's index entry; a failure of any kind is its error, not the page's."""
    try:
        return env.info(name)
    except Exception as exc:
        return EmailInfo(name, name, [], "off", None, error_details(exc)["text"])


def summary(env: Environment, name: str) -> dict:
    """Compiles? Each sample-data set renders? Without sets: does generated data render?"""
    info = email_info(env, name)
    sets, generated = [], None
    for fixture in info.fixtures if not info.error else ():
        sets.append({"name": fixture, "error": _failure(env, name, {"fixture": fixture})})
    if not info.error and not info.fixtures:
        generated = {"error": _failure(env, name, {})}
    failing = any(s["error"] for s in sets) or (generated or {}).get("error")
    status = "error" if info.error else "warning" if failing else "generated" if generated else "ok"
    styles = _STYLES[info.inlining] + (f" ({info.inline_reason})" if info.inline_reason else "")
    return {"name": name, "subject": info.subject, "error": info.error, "sets": sets, "generated": generated,
            "status": status, "styles": styles}


def _failure(env: Environment, name: str, body: dict) -> str | None:
    try:
        render(env, name, body)
    except Exception as exc:
        return error_details(exc)["message"]
    return None


def folder_status(env: Environment, folder_error: str | None) -> dict:
    return {"emails": [summary(env, name) for name in env.names()], "orphans": env.loader.orphans(),
            "folder_error": folder_error}
