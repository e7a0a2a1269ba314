"""The capture SMTP server: aiosmtpd on a background thread, every message into an ``Inbox``.

It accepts any sender and recipient, AUTH PLAIN / LOGIN with any credentials,
and STARTTLS with a certificate made at start. AUTH is accepted before
STARTTLS too (aiosmtpd refuses it by default): the credentials are checked
against nothing and kept nowhere, and apps that log in without TLS (a
development setting with SMTP_TLS=false and no STARTTLS support) must work
against it as they do against Mailpit or smtp4dev.
"""
from __future__ import annotations

import asyncio
import errno
import logging
import socket
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from . import DEFAULT_SMTP_PORT
from .message import CapturedMessage
from .store import Inbox, new_id
from .tls import self_signed, server_context

logger = logging.getLogger("mailtpl.capture")
MAX_CONNECTIONS = 50  # open at once: each may be buffering a message, so this bounds the memory mail in flight takes
MAX_MESSAGE_BYTES = 32 * 1024 * 1024  # larger messages (or larger than the inbox holds) get 552 (SIZE is advertised)


class _WithoutLoginDataNotice(logging.Filter):
    """aiosmtpd 1.4 logs a deprecation notice of its own on every successful AUTH; it says nothing to our users."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_WithoutLoginDataNotice())


class CaptureError(ValueError):
    """The capture server cannot start (the setting to change is named)."""


def _accept_any_login(server, session, envelope, mechanism, auth_data) -> AuthResult:
    return AuthResult(success=True, auth_data=auth_data)


class _Handler:
    def __init__(self, inbox: Inbox, max_connections: int) -> None:
        self.inbox = inbox
        self.max_connections = max_connections
        self.connections = 0  # open now; only the server's event loop thread changes it

    async def handle_DATA(self, server, session, envelope) -> str:
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        message = CapturedMessage(
            id=new_id(), raw=envelope.original_content or envelope.content or b"", mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos), received=datetime.now(UTC),
            peer=f"{session.peer[0]}:{session.peer[1]}" if isinstance(session.peer, tuple) else str(session.peer),
            login=login.decode("utf-8", "replace") if isinstance(login, bytes) else login,
            tls=session.ssl is not None)
        try:
            if self.inbox.folder is None:
                self.inbox.add(message)
            else:  # writing the .eml file blocks: off the event loop, so other connections go on meanwhile
                await asyncio.to_thread(self.inbox.add, message)
        except OSError as exc:  # the .eml folder is full or gone: the client must not think the mail is kept
            logger.error("could not keep message %s: %s", message.id, exc)
            return "451 4.3.0 could not store the message"
        logger.info("caught %s from %s to %s (%d bytes)", message.id, message.mail_from,
                    ", ".join(message.rcpt_tos), message.size)
        return f"250 2.0.0 Ok: caught as {message.id}"


class _BoundedSMTP(SMTP):
    """aiosmtpd's SMTP session, refused with 421 while ``max_connections`` others are open."""

    _refused = False

    def connection_made(self, transport) -> None:
        if self.transport is None:  # a new connection, not its STARTTLS upgrade
            handler: _Handler = self.event_handler
            if handler.connections >= handler.max_connections:
                self._refused = True
                transport.write(b"421 4.7.0 too many connections at once, try again later\r\n")
                transport.close()
                return
            handler.connections += 1
        super().connection_made(transport)

    def connection_lost(self, error) -> None:
        if not self._refused:
            self.event_handler.connections -= 1
            super().connection_lost(error)


class _Controller(Controller):
    """aiosmtpd's threaded controller on a socket bound beforehand: a busy port fails at once (aiosmtpd
    would wait out its ready timeout), and port 0 works (the free port is known before the server starts)."""

    def __init__(self, handler, sock: socket.socket, **kwargs) -> None:
        self._sock = sock
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **kwargs)

    def factory(self) -> SMTP:
        return _BoundedSMTP(self.handler, **self.SMTP_kwargs)

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


def _listen(host: str, port: int) -> socket.socket:
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise CaptureError(f"cannot listen for SMTP on {host}:{port}: the port is in use "
                               "(choose another with --smtp-port, or turn capture off)") from None
        raise CaptureError(f"cannot listen for SMTP on {host}:{port}: {exc.strerror or exc}") from None


class CaptureServer:
    """``with CaptureServer(port=0) as server:`` listens on ``server.host``:``server.port`` (0 = a free port)."""

    def __init__(self, inbox: Inbox | None = None, *, host: str = "127.0.0.1", port: int = DEFAULT_SMTP_PORT,
                 tls: bool = True, max_message_bytes: int = MAX_MESSAGE_BYTES,
                 max_connections: int = MAX_CONNECTIONS) -> None:
        self.inbox = inbox if inbox is not None else Inbox()
        self.host = host
        self.port = port
        self.tls = tls
        self.max_message_bytes = max_message_bytes
        self.max_connections = max_connections
        self.cert_file: Path | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._controller: Controller | None = None

    def start(self) -> CaptureServer:
        sock = _listen(self.host, self.port)
        try:
            kwargs: dict = {}
            if self.tls:
                self._tmp = tempfile.TemporaryDirectory(prefix="mailtpl-capture-")
                self.cert_file, key_file = self_signed(Path(self._tmp.name), self.host)
                kwargs["tls_context"] = server_context(self.cert_file, key_file)
            handler = _Handler(self.inbox, self.max_connections)
            controller = _Controller(handler, sock, ready_timeout=10, server_hostname="mailtpl-capture",
                                     authenticator=_accept_any_login, auth_require_tls=False, enable_SMTPUTF8=True,
                                     data_size_limit=min(self.max_message_bytes, self.inbox.max_bytes), **kwargs)
            controller.start()
        except BaseException:
            sock.close()
            self._cleanup()
            raise
        self._controller = controller
        self.port = controller.port
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        self._cleanup()

    def _cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> CaptureServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """The SMTP_* settings that point an app at this server (mailtpl verifies STARTTLS with SMTP_CA_FILE)."""
        values = {"SMTP_HOST": self.host, "SMTP_PORT": str(self.port), "SMTP_TLS": "false"}
        if self.cert_file is not None:
            values["SMTP_CA_FILE"] = str(self.cert_file)
        return values
