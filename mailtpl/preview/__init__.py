"""The live preview server: ``create_app(env)`` builds the Flask app, ``mailtpl preview`` serves it.

Other parts of mailtpl add pages by registering their own blueprint on the app this factory returns.
"""
from __future__ import annotations

import os

from flask import Flask

from ..environment import Environment
from . import api, assets, frames, guard, lint_views, views
from .events import Hub
from .watcher import Watcher


def create_app(env: Environment, *, watch: bool = True, host: str = "127.0.0.1",
               assets_dir: str | os.PathLike | None = None) -> Flask:
    """A Flask app previewing ``env``'s emails, answering only to loopback names and ``host``; it serves
    ``assets_dir`` (default: see :func:`assets.assets_folder`) at /assets/; with ``watch``, saved files
    re-render open pages."""
    app = Flask(__name__)
    app.config.update(MAILTPL_ENV=env, MAILTPL_HUB=Hub(), MAILTPL_FRAMES=frames.Frames(),
                      MAILTPL_SEND_LIMIT=guard.RateLimit(5, 60.0),
                      MAILTPL_ASSETS=assets.assets_folder(env, assets_dir))
    app.json.sort_keys = False  # sample-data sets keep the designer's order
    guard.init_app(app, host)
    for blueprint in (views.blueprint, api.blueprint, frames.blueprint, assets.blueprint, lint_views.blueprint):
        app.register_blueprint(blueprint)
    if watch:
        app.config["MAILTPL_WATCHER"] = Watcher(env, app.config["MAILTPL_HUB"]).start()
    return app


__all__ = ["create_app"]
