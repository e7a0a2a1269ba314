"""Server-Sent Events: every open page gets told which emails changed."""
from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator


class Hub:
    def __init__(self) -> None:
        self._subscribers: set[queue.Queue] = set()
        self._lock = threading.Lock()

    def publish(self, event: str, data: dict) -> None:
        message = f"event: {event}\ndata: {json.dumps(data)}\n\n"
        with self._lock:
            for subscriber in self._subscribers:
                subscriber.put(message)

    def stream(self, keepalive: float = 15.0) -> Iterator[str]:
        subscriber: queue.Queue = queue.Queue()
        with self._lock:
            self._subscribers.add(subscriber)
        try:
            yield "event: hello\ndata: {}\n\n"
            while True:
                try:
                    yield subscriber.get(timeout=keepalive)
                except queue.Empty:
                    yield ": keep-alive\n\n"
        finally:
            with self._lock:
                self._subscribers.discard(subscriber)
