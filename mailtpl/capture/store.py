"""The inbox: caught messages in memory, oldest dropped past a count and a byte bound, optionally mirrored
as ``.eml`` files.

One lock and one condition: the SMTP thread adds, web requests and tests
read, and anyone can wait for the next change (the page's live updates,
``wait_for`` in tests) without polling.
"""
from __future__ import annotations

import os
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from .message import CapturedMessage

DEFAULT_LIMIT = 1000
DEFAULT_MAX_BYTES = 256 * 1024 * 1024  # of raw mail in memory: 1,000 messages of 32 MB would be 32 GB
_ID = re.compile(r"[0-9a-f]{16}")


class CaptureTimeout(AssertionError):
    """``wait_for`` gave up: no caught message matched in time (the message lists what was caught)."""


def new_id() -> str:
    return secrets.token_hex(8)


class Inbox:
    def __init__(self, limit: int = DEFAULT_LIMIT, folder: str | os.PathLike | None = None, *,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if limit < 1:
            raise ValueError(f"the inbox must hold at least 1 message, not {limit}")
        if max_bytes < 1:
            raise ValueError(f"the inbox must hold at least 1 byte, not {max_bytes}")
        self.limit = limit
        self.max_bytes = max_bytes
        self.bytes = 0  # the raw size of the messages held
        self.folder = Path(folder) if folder is not None else None
        self._messages: OrderedDict[str, CapturedMessage] = OrderedDict()
        self._changed = threading.Condition()
        self.version = 0  # bumped on every change
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._load()

    # -- the folder ----------------------------------------------------------------------------------
    def _file(self, message_id: str) -> Path:
        if self.folder is None or not _ID.fullmatch(message_id):
            raise ValueError(f"no file for message {message_id!r}")
        return self.folder / f"{message_id}.eml"

    def _load(self) -> None:
        """Messages a previous run left in the folder: only regular files named like ours (no symlinks), the
        newest that fit within ``limit`` and ``max_bytes``; older ones are dropped as they would have been.
        The envelope is not kept in the file: a message read back has the recipients of its headers only."""
        stats = sorted(((p, p.stat()) for p in self.folder.glob("*.eml")
                        if _ID.fullmatch(p.stem) and p.is_file() and not p.is_symlink()),
                       key=lambda item: item[1].st_mtime, reverse=True)
        kept, total = 0, 0
        for _, stat in stats:
            total += stat.st_size
            if kept == self.limit or total > self.max_bytes:
                break
            kept += 1
        for path, _ in stats[kept:]:
            path.unlink()
        for path, stat in reversed(stats[:kept]):
            message = CapturedMessage(path.stem, path.read_bytes(), "", [], datetime.fromtimestamp(stat.st_mtime, UTC))
            self._messages[message.id] = message
            self.bytes += message.size

    # -- changes -------------------------------------------------------------------------------------
    def add(self, message: CapturedMessage) -> None:
        if self.folder is not None:
            self._file(message.id).write_bytes(message.raw)
        with self._changed:
            self._messages[message.id] = message
            self.bytes += message.size
            while len(self._messages) > self.limit or self.bytes > self.max_bytes:
                oldest, dropped = self._messages.popitem(last=False)
                self.bytes -= dropped.size
                self._unlink(oldest)
            self._bump()

    def delete(self, message_id: str) -> bool:
        with self._changed:
            message = self._messages.pop(message_id, None)
            if message is None:
                return False
            self.bytes -= message.size
            self._unlink(message_id)
            self._bump()
            return True

    def clear(self) -> int:
        with self._changed:
            ids = list(self._messages)
            self._messages.clear()
            self.bytes = 0
            for message_id in ids:
                self._unlink(message_id)
            self._bump()
            return len(ids)

    def _unlink(self, message_id: str) -> None:
        if self.folder is not None:
            self._file(message_id).unlink(missing_ok=True)

    def _bump(self) -> None:
        self.version += 1
        self._changed.notify_all()

    # -- reading -------------------------------------------------------------------------------------
    def get(self, message_id: str) -> CapturedMessage | None:
        with self._changed:
            return self._messages.get(message_id)

    @property
    def messages(self) -> list[CapturedMessage]:
        """Oldest first."""
        with self._changed:
            return list(self._messages.values())

    def __len__(self) -> int:
        return len(self._messages)

    def wait_changed(self, since: int, timeout: float) -> int:
        """Block until the version passes ``since`` or ``timeout`` passes; the version then."""
        with self._changed:
            self._changed.wait_for(lambda: self.version != since, timeout=timeout)
            return self.version

    def wait_for(self, *, to: str | None = None, subject: str | re.Pattern | None = None,
                 where: Callable[[CapturedMessage], bool] | None = None, timeout: float = 5.0) -> CapturedMessage:
        """The oldest message to ``to`` (envelope, To or Cc) whose subject is ``subject`` (or matches it, for a
        compiled pattern), waiting up to ``timeout`` seconds for it to arrive."""
        def match(message: CapturedMessage) -> bool:
            if to is not None and to.lower() not in {a.lower() for a in message.rcpt_tos + message.to}:
                return False
            if isinstance(subject, re.Pattern):
                if not subject.search(message.subject):
                    return False
            elif subject is not None and message.subject != subject:
                return False
            return where is None or where(message)

        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((m for m in self._messages.values() if match(m)), None)
                left = deadline - time.monotonic()
                if found is not None or left <= 0:
                    break
                self._changed.wait(left)
            caught = [f"  to {', '.join(m.rcpt_tos)}: {m.subject!r}" for m in self._messages.values()]
        if found is None:
            wanted = ", ".join(f"{k}={v!r}" for k, v in (("to", to), ("subject", subject)) if v is not None)
            raise CaptureTimeout(f"no message ({wanted or 'any'}) within {timeout:g}s; caught "
                                 + (f"{len(caught)}:\n" + "\n".join(caught) if caught else "none"))
        return found
