"""Server-Sent Events: every open page gets told which emails changed (a bounded number of pages)."""
from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator


class Hub:
    """Fans events out to at most ``max_clients`` streams; a stream that stops reading is dropped."""

    def __init__(self, max_clients: int = 16, backlog: int = 64) -> None:
        self.max_clients = max_clients
        self.backlog = backlog
        self._subscribers: set[queue.Queue] = set()
        self._lock = threading.Lock()

    def publish(self, event: str, data: dict) -> None:
        message = f"event: {event}\ndata: {json.dumps(data)}\n\n"
        with self._lock:
            for subscriber in list(self._subscribers):
                try:
                    subscriber.put_nowait(message)
                except queue.Full:  # not reading: dropped (its stream ends), a live page reconnects
                    self._subscribers.discard(subscriber)

    def subscribe(self) -> queue.Queue | None:
        """A new stream's queue, or None when ``max_clients`` streams are open."""
        with self._lock:
            if len(self._subscribers) >= self.max_clients:
                return None
            subscriber: queue.Queue = queue.Queue(self.backlog)
            self._subscribers.add(subscriber)
            return subscriber

    def stream(self, subscriber: queue.Queue, keepalive: float = 10.0) -> Iterator[str]:
        try:
            yield "event: hello\ndata: {}\n\n"
            while True:
                try:
                    yield subscriber.get(timeout=keepalive)
                except queue.Empty:
                    with self._lock:
                        if subscriber not in self._subscribers:
                            return
                    yield ": keep-alive\n\n"
        finally:
            with self._lock:
                self._subscribers.discard(subscriber)
