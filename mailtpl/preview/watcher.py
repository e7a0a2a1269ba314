"""watchdog on the templates folder: a save invalidates what it affects and tells the open pages, once.

An editor's save arrives as several events (modified, closed; a rename over the file for atomic saves),
and a large file may be written in parts. The watcher collects paths until the folder has been quiet
for ``settle`` seconds (at most ``max_wait`` after the first event), then invalidates and publishes one
change: one render per save, and never a half-written file.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from ..environment import Environment
from .events import Hub

logger = logging.getLogger("mailtpl.preview")
_STRUCTURAL = ("created", "deleted", "moved")


class Watcher(FileSystemEventHandler):
    def __init__(self, env: Environment, hub: Hub, *, settle: float = 0.035, max_wait: float = 0.5) -> None:
        self.env = env
        self.hub = hub
        self.settle, self.max_wait = settle, max_wait
        self.error: str | None = None  # the folder's own problem (a broken mailtpl.json), shown by the pages
        self.observer = Observer()
        self._pending: dict[Path, bool] = {}  # path -> structural (added, removed, renamed)
        self._first = self._last = 0.0
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._flush_loop, name="mailtpl-watcher", daemon=True)

    def start(self) -> Watcher:
        self.observer.schedule(self, str(self.env.loader.root), recursive=True)
        self.observer.daemon = True
        self.observer.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        self.observer.stop()
        self.observer.join(timeout=5)
        self._thread.join(timeout=5)

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type in ("opened", "closed_no_write"):
            return
        paths = [Path(p) for p in (event.src_path, getattr(event, "dest_path", "")) if p]
        paths = [p for p in paths if self.env.loader.watches(p)]
        if not paths:
            return
        now = time.monotonic()
        with self._wake:
            if not self._pending:
                self._first = now
            self._last = now
            for path in paths:
                self._pending[path] = self._pending.get(path, False) or event.event_type in _STRUCTURAL
            self._wake.notify()

    def _flush_loop(self) -> None:
        while True:
            with self._wake:
                while not self._stopped:
                    now = time.monotonic()
                    due = min(self._last + self.settle, self._first + self.max_wait)
                    if self._pending and now >= due:
                        break
                    self._wake.wait(timeout=due - now if self._pending else None)
                if self._stopped:
                    return
                batch, self._pending = self._pending, {}
            self._publish(batch)

    def _publish(self, batch: dict[Path, bool]) -> None:
        try:
            changed = self.env.invalidate(None if self.error or any(batch.values()) else list(batch))
            self.error = None
        except Exception as exc:  # a broken mailtpl.json, a duplicate partial: show it, keep watching
            logger.warning("reloading %s failed: %s", self.env.loader.root, exc)
            self.error = str(exc)
            changed = set()
        self.hub.publish("change", {"emails": sorted(changed), "files": sorted({p.name for p in batch}),
                                    "error": self.error})
