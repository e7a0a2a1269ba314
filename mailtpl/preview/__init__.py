"""The live preview server: ``create_app(env)`` builds the Flask app, ``mailtpl preview`` serves it."""
from __future__ import annotations

from flask import Flask

from ..environment import Environment
from .events import Hub
from .views import blueprint
from .watcher import Watcher


def create_app(env: Environment, *, watch: bool = True) -> Flask:
    """A Flask app previewing ``env``'s emails; with ``watch``, saved files re-render open pages."""
    app = Flask(__name__)
    app.config["MAILTPL_ENV"] = env
    app.config["MAILTPL_HUB"] = hub = Hub()
    app.register_blueprint(blueprint)
    if watch:
        app.config["MAILTPL_WATCHER"] = Watcher(env, hub).start()
    return app


__all__ = ["create_app"]
