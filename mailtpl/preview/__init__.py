"""The live preview server: ``create_app(env)`` builds the Flask app, ``mailtpl preview`` serves it."""
from __future__ import annotations

from flask import Flask

from ..environment import Environment
from .events import Hub
from .views import blueprint
from .watcher import Watcher


def create_app(env: Environment, *, watch: bool = True, capture=None) -> Flask:
    """A Flask app previewing ``env``'s emails; with ``watch``, saved files re-render open pages; with
    ``capture`` (a started ``mailtpl.capture.CaptureServer``), its inbox at /inbox and /api/messages."""
    app = Flask(__name__)
    app.config["MAILTPL_ENV"] = env
    app.config["MAILTPL_HUB"] = hub = Hub()
    app.register_blueprint(blueprint)
    if capture is not None:
        from ..capture import register

        register(app, capture.inbox, address=(capture.host, capture.port))
    if watch:
        app.config["MAILTPL_WATCHER"] = Watcher(env, hub).start()
    return app


__all__ = ["create_app"]
