"""watchdog on the templates folder: a saved file invalidates what it affects and tells the open pages."""
from __future__ import annotations

import logging
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from ..environment import Environment
from .events import Hub

logger = logging.getLogger("mailtpl.preview")
_WATCHED = (".hbs", ".json")


class Watcher(FileSystemEventHandler):
    def __init__(self, env: Environment, hub: Hub) -> None:
        self.env = env
        self.hub = hub
        self.observer = Observer()

    def start(self) -> Watcher:
        self.observer.schedule(self, str(self.env.root), recursive=True)
        self.observer.daemon = True
        self.observer.start()
        return self

    def stop(self) -> None:
        self.observer.stop()
        self.observer.join(timeout=5)

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type in ("opened", "closed_no_write"):
            return
        paths = [p for p in (event.src_path, getattr(event, "dest_path", "")) if p]
        paths = [Path(p) for p in paths if str(p).endswith(_WATCHED)]
        if not paths:
            return
        structural = event.event_type in ("created", "deleted", "moved")
        try:
            changed = self.env.invalidate(None if structural else paths)
        except Exception as exc:  # a broken mailtpl.json, a duplicate partial: show it, keep watching
            logger.warning("reloading %s failed: %s", self.env.root, exc)
            changed = set()
        self.hub.publish("change", {"emails": sorted(changed), "files": [p.name for p in paths]})
