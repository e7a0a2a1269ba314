"""Real SMTP servers on 127.0.0.1 for the tests: aiosmtpd, with TLS certificates from trustme."""
from __future__ import annotations

import email
import email.policy
import socket
import ssl
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

CA = trustme.CA()
CERT = CA.issue_cert("127.0.0.1", "localhost", socket.gethostname())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    CERT.configure_cert(ctx)
    return ctx


class Recorder:
    """Accepts mail, or answers from a script first: {"MAIL": ["421 ..."], "DATA": ["DROP", "451 ..."]}."""

    def __init__(self, script: dict[str, list[str]] | None = None) -> None:
        self.script = {stage: deque(replies) for stage, replies in (script or {}).items()}
        self.messages: list[email.message.EmailMessage] = []
        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.commands: list[str] = []

    def _next(self, stage: str) -> str | None:
        queue = self.script.get(stage)
        return queue.popleft() if queue else None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.commands.append("MAIL")
        reply = self._next("MAIL")
        if reply:
            return reply
        envelope.mail_from = address
        return "250 OK"

    async def handle_RSET(self, server, session, envelope):
        self.commands.append("RSET")
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self._next("RCPT:" + address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.commands.append("DATA")
        reply = self._next("DATA")
        if reply == "DROP":
            server.transport.close()
            return "421 dropped"
        if reply:
            return reply
        self.raw.append(envelope.content)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 2.0.0 Ok: queued"


def authenticator(users: dict[str, str]):
    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and users.get(auth_data.login.decode()) == auth_data.password.decode()
        return AuthResult(success=ok, handled=False)
    return check


@dataclass
class Server:
    port: int
    recorder: Recorder
    ca_file: Path
    controller: Controller = field(repr=False)

    def env(self, **extra) -> dict[str, str]:
        values = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.port), "SMTP_SENDER": "no-reply@fb.example.org",
                  "SMTP_CA_FILE": str(self.ca_file), "SMTP_TIMEOUT": "5"}
        values.update(extra)
        return values


@contextmanager
def smtp_server(tmp_path: Path, *, tls: str | None = None, users: dict[str, str] | None = None,
                script: dict[str, list[str]] | None = None, require_tls_for_auth: bool = True):
    """tls: None (plain, no STARTTLS), "starttls" or "implicit" (TLS from connect)."""
    recorder = Recorder(script)
    port = free_port()
    kwargs: dict = {}
    if tls == "starttls":
        kwargs["tls_context"] = server_context()
    if tls == "implicit":
        kwargs["ssl_context"] = server_context()
    if users is not None:
        kwargs["authenticator"] = authenticator(users)
        kwargs["auth_require_tls"] = require_tls_for_auth and tls == "starttls"
    controller = Controller(recorder, hostname="127.0.0.1", port=port, ready_timeout=10, **kwargs)
    controller.start()
    ca_file = tmp_path / f"ca-{port}.pem"
    CA.cert_pem.write_to_path(str(ca_file))
    try:
        yield Server(port, recorder, ca_file, controller)
    finally:
        controller.stop()
