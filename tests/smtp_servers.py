"""Real SMTP servers on 127.0.0.1 for the tests: aiosmtpd, with TLS certificates from trustme."""
from __future__ import annotations

import email
import email.policy
import asyncio
import socket
import ssl
import threading
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from mailtpl import Environment

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://fb.example.org"
SENDER = "no-reply@fb.example.org"


@pytest.fixture
def env():
    """The project's templates, with links to BASE (import it into a test module to use it)."""
    return Environment(ROOT / "templates", base_url=BASE)


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
    """Accepts mail, or answers from a script first: {"MAIL": ["421 ...", "TRICKLE"], "DATA": ["DROP", "451"]}."""

    def __init__(self, script: dict[str, list[str]] | None = None) -> None:
        self.script = {stage: deque(replies) for stage, replies in (script or {}).items()}
        self.messages: list[email.message.EmailMessage] = []
        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.commands: list[str] = []
        self.encrypted: list[bool] = []  # per message accepted: whether its session was TLS (from connect or STARTTLS)
        self.in_transaction: set = set()  # sessions between MAIL FROM and the end of DATA (not the readiness probe)
        self.most_in_transaction = 0  # the most such sessions at once: how many connections sent in parallel

    def _next(self, stage: str) -> str | None:
        queue = self.script.get(stage)
        return queue.popleft() if queue else None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.commands.append("MAIL")
        reply = self._next("MAIL")
        if reply == "TRICKLE":  # a reply one byte every 20 ms, 200 bytes, until the client leaves
            for byte in b"250-" + b"x" * 194 + b"\r\n":
                if server.transport.is_closing():
                    break
                server.transport.write(bytes([byte]))
                await asyncio.sleep(0.02)
            return "250 OK"
        if reply:
            return reply
        envelope.mail_from = address
        self.in_transaction.add(session)
        self.most_in_transaction = max(self.most_in_transaction, len(self.in_transaction))
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
        self.in_transaction.discard(session)  # each test transaction reaches DATA (its RCPT are accepted)
        reply = self._next("DATA")
        if reply == "DROP":
            server.transport.close()
            return "421 dropped"
        if reply:
            return reply
        self.raw.append(envelope.content)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.encrypted.append(server.transport.get_extra_info("ssl_object") is not None)
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


class ScriptedFront:
    """A raw TCP server on 127.0.0.1 that misbehaves before the SMTP greeting, one scripted fault per connection.

    Faults: "drop" (close at once), "silent" (say nothing until the client leaves), "421" (a 421 greeting),
    "554" (a 554 greeting), "trickle" (a greeting of ``TRICKLE_BYTES`` bytes, one every ``TRICKLE_EVERY``
    seconds), "flood" (``FLOOD_BYTES`` of "220-" lines as fast as the client reads). When the script is used
    up, connections are piped byte for byte to ``backend_port`` (a real SMTP server), or get ``then`` when
    there is no backend. ``seen`` lists what each connection got.
    """

    TRICKLE_BYTES = 200
    TRICKLE_EVERY = 0.02
    FLOOD_BYTES = 4 << 20

    def __init__(self, script: list[str], backend_port: int | None = None, then: str = "drop") -> None:
        self.script = deque(script)
        self.backend_port = backend_port
        self.then = then
        self.seen: list[str] = []
        self.stopping = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            fault = self.script.popleft() if self.script else ("pipe" if self.backend_port else self.then)
            self.seen.append(fault)
            thread = threading.Thread(target=self._serve, args=(conn, fault), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket, fault: str) -> None:
        with conn:
            conn.settimeout(0.1)
            if fault in ("421", "554"):
                conn.sendall(f"{fault} 4.3.2 mx.test busy, try again later\r\n".encode()
                             if fault == "421" else b"554 5.7.1 mx.test no service for you\r\n")
            elif fault == "trickle":
                for byte in b"220 " + b"x" * (self.TRICKLE_BYTES - 6) + b"\r\n":
                    if self.stopping.wait(self.TRICKLE_EVERY) or not self._send(conn, bytes([byte])):
                        return
            elif fault == "flood":
                line = b"220-" + b"x" * 70 + b"\r\n"
                for _ in range(self.FLOOD_BYTES // len(line)):
                    if self.stopping.is_set() or not self._send(conn, line):
                        return
            elif fault == "pipe":
                self._pipe(conn)
            if fault != "drop":
                self._drain(conn)

    @staticmethod
    def _send(conn: socket.socket, data: bytes) -> bool:
        try:
            conn.sendall(data)
            return True
        except OSError:
            return False

    def _drain(self, conn: socket.socket) -> None:
        """Read (and ignore) until the client closes or the server stops."""
        while not self.stopping.is_set():
            try:
                if not conn.recv(4096):
                    return
            except TimeoutError:
                continue
            except OSError:
                return

    def _pipe(self, conn: socket.socket) -> None:
        with socket.create_connection(("127.0.0.1", self.backend_port), timeout=5) as backend:
            backend.settimeout(0.1)
            pumps = [threading.Thread(target=self._pump, args=pair, daemon=True)
                     for pair in ((conn, backend), (backend, conn))]
            for pump in pumps:
                pump.start()
            for pump in pumps:
                pump.join()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        while not self.stopping.is_set():
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                data = b""
            if not data or not self._send(sink, data):
                for sock in (source, sink):
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                return

    def env(self, **extra) -> dict[str, str]:
        values = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.port), "SMTP_SENDER": "no-reply@fb.example.org",
                  "SMTP_TIMEOUT": "0.5"}
        values.update(extra)
        return values

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=5)
        self.listener.close()


@contextmanager
def scripted_front(script: list[str], backend: Server | None = None, then: str = "drop"):
    front = ScriptedFront(script, backend.port if backend else None, then)
    try:
        yield front
    finally:
        front.stop()


class ScriptedSmtp(ScriptedFront):
    """A raw SMTP server on 127.0.0.1 whose replies a test scripts, to play a hostile or broken server.

    ``replies`` maps a command verb (``EHLO``, ``MAIL``, ``RCPT``, ``DATA``, ``.`` for the end of the message,
    ``STARTTLS``, ``AUTH``, ``RSET``, ``QUIT``) to a list of replies, one used per time the verb comes (the last
    one again when the list runs out): bytes to send as they are, or ``"drop"`` to close the connection.
    Verbs not scripted get a plain 250 (354 for DATA, 221 for QUIT). ``delivered`` counts messages the server
    answered with a 2xx after their final dot.
    """

    def __init__(self, replies: dict[str, list[bytes | str]], greeting: bytes = b"220 mx.test ESMTP\r\n") -> None:
        self.replies = {verb: deque(answers) for verb, answers in replies.items()}
        self.greeting = greeting
        self.delivered = 0
        super().__init__([], then="smtp")  # every connection gets the scripted dialog (``_serve``)

    def env(self, **settings: str) -> dict[str, str]:
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.port), "SMTP_SENDER": "no-reply@fb.example.org",
                "SMTP_TIMEOUT": "5", **settings}

    def _answer(self, verb: str) -> bytes | str:
        answers = self.replies.get(verb)
        if not answers:
            return {"DATA": b"354 go ahead\r\n", "QUIT": b"221 bye\r\n"}.get(verb, b"250 ok\r\n")
        return answers.popleft() if len(answers) > 1 else answers[0]

    def _serve(self, conn: socket.socket, fault: str) -> None:
        with conn:
            conn.settimeout(5)
            reader = conn.makefile("rb")
            try:
                conn.sendall(self.greeting)
                in_data = False
                for _ in range(10_000):  # bounded: a client never needs this many lines
                    line = reader.readline(1 << 16)
                    if not line:
                        return
                    if in_data:
                        if line != b".\r\n":
                            continue
                        in_data, verb = False, "."
                    else:
                        verb = line.split(b" ", 1)[0].strip().upper().decode("ascii", "replace")
                        verb = verb.split(":", 1)[0]  # MAIL FROM:<...> without a space
                    answer = self._answer(verb)
                    if answer == "drop":
                        return
                    conn.sendall(answer)
                    if verb == "DATA" and answer.startswith(b"354"):
                        in_data = True
                    elif verb == "." and answer[:1] == b"2":
                        self.delivered += 1
                    elif verb == "QUIT":
                        return
            except OSError:
                return
