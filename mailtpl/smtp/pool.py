"""A bounded pool of SMTP connections shared by threads: reused, reset between messages, reopened when dead.

A connection goes back to the pool after each message. Before it is used again
it gets an RSET when the last transaction on it did not end with the server's
250 to DATA (after a completed one the session is already reset, RFC 5321
4.1.1.4, which is also when nodemailer's pool skips it) or when it sat idle
long enough for the server to have dropped it.
"""
from __future__ import annotations

import logging
import smtplib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .config import SmtpConfig
from .delivery import Retry
from .errors import SmtpConnectError
from .transport import Connection, open_connection

logger = logging.getLogger("mailtpl")


def needs_reset(conn, idle_probe: float) -> bool:
    """RSET before reuse: the last transaction did not complete, or the connection sat idle."""
    return not conn.clean or time.monotonic() - conn.released_at >= idle_probe


def survives(exc: BaseException) -> bool:
    """Whether a connection goes back to its pool after ``exc``: only after a 4xx reply that leaves the session
    usable (it is reset before its next message); anything else may have left it in any state, so it is closed."""
    return isinstance(exc, Retry) and not exc.reconnect


class SmtpPool:
    """``connect`` opens a connection (``mailtpl doctor`` passes one that reports each step)."""

    def __init__(self, config: SmtpConfig, size: int = 4, acquire_timeout: float = 60.0,
                 idle_probe: float = 5.0, *,
                 connect: Callable[[SmtpConfig], Connection] = open_connection) -> None:
        if size < 1:
            raise ValueError("pool size must be at least 1")
        self.config = config
        self.connect = connect
        self.size = size
        self.acquire_timeout = acquire_timeout
        self.idle_probe = idle_probe
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[Connection] = []
        self._lock = threading.Lock()
        self.opened = 0  # connections opened over the pool's life (for tests and benchmarks)

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A live connection for one message; it goes back to the pool unless the caller failed."""
        if not self._slots.acquire(timeout=self.acquire_timeout):
            raise SmtpConnectError(f"no SMTP connection free after {self.acquire_timeout:g}s (pool of {self.size})")
        conn = None
        try:
            conn = self._take()
            yield conn
        except BaseException as exc:
            if conn is not None and survives(exc):
                self._put(conn)
            elif conn is not None:
                conn.close()
            raise
        else:
            self._put(conn)
        finally:
            self._slots.release()

    def _put(self, conn: Connection) -> None:
        conn.released_at = time.monotonic()
        with self._lock:
            self._idle.append(conn)

    def _take(self) -> Connection:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                break
            if not needs_reset(conn, self.idle_probe):
                return conn
            try:  # RSET: a clean transaction, and proof the server is still there
                code, _ = conn.smtp.rset()
                if code == 250:
                    conn.clean = True
                    return conn
            except (smtplib.SMTPException, OSError):
                pass
            conn.close()
        conn = self.connect(self.config)
        if conn.warning:
            logger.warning("%s", conn.warning)
        with self._lock:
            self.opened += 1
        return conn

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
