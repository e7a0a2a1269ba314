"""``mailtpl doctor``: walk config -> DNS -> TCP -> TLS/STARTTLS -> EHLO -> AUTH -> MAIL FROM (-> a test message)
and say, for the first step that fails, what to change."""
from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass

from ..rendered import RenderedEmail
from .config import ConfigError, SmtpConfig
from .dkim import Resolver, dns_txt, domain_records
from .errors import SmtpError
from .mailer import Mailer
from .transport import Connection, open_connection


@dataclass(frozen=True)
class Step:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    warn: bool = False  # passed, but worth fixing (mail goes unencrypted)


def diagnose(environ=None, dotenv: str | None = ".env", to: str | None = None,
             emit: Callable[[Step], None] = lambda step: None, records: bool = False,
             resolve: Resolver | None = None) -> list[Step]:
    """Run the checks in order, stopping at the first failure; every step is passed to ``emit``.

    With ``records`` (always when DKIM_* is set) the sender domain's SPF, DKIM and DMARC records come
    after the config, looked up through ``resolve`` (default: DNS, through dnspython)."""
    steps: list[Step] = []

    def add(step: Step) -> Step:
        steps.append(step)
        emit(step)
        return step

    try:
        config = SmtpConfig.from_env(environ, dotenv=dotenv)
    except ConfigError as exc:
        add(Step("config", False, str(exc).splitlines()[0],
                 "; ".join(f"{k}: {v}" for k, v in exc.problems.items())))
        return steps
    mode = "TLS from connect" if config.tls else "plain, then STARTTLS"
    if config.require_tls:
        mode += ", TLS required"
    add(Step("config", True, f"{config.host}:{config.port}, {mode}, "
                             f"{'login as ' + config.username if config.auth else 'no login'}, from {config.sender}"))
    if records or config.dkim_domain:
        for check in domain_records(config, resolve or dns_txt):
            add(Step(*check))
    try:
        addresses = sorted({info[4][0] for info in socket.getaddrinfo(config.host, config.port,
                                                                       type=socket.SOCK_STREAM)})
    except socket.gaierror as exc:
        add(Step("DNS", False, f"{config.host}: {exc.strerror}", "check SMTP_HOST: the name does not resolve"))
        return steps
    add(Step("DNS", True, f"{config.host} -> {', '.join(addresses)}"))
    try:
        socket.create_connection((config.host, config.port), timeout=config.timeout).close()
    except OSError as exc:
        add(Step("TCP", False, f"{config.host}:{config.port}: {exc.strerror or type(exc).__name__}",
                 "a firewall may block the port, or nothing listens there: check SMTP_PORT "
                 "(587 STARTTLS, 465 TLS, 25 relay)"))
        return steps
    add(Step("TCP", True, f"{config.host}:{config.port} accepts connections"))

    def connect(config: SmtpConfig) -> Connection:  # Mailer's transport, each step it passes shown
        conn = open_connection(config, report=lambda name, ok, detail: add(Step(name, ok, detail)) if ok else None)
        if conn.warning:
            add(Step("plaintext", True, conn.warning, warn=True))
            conn.warning = None  # shown as a step: the pool need not log it too
        return conn

    # Mailer's own code from here on: the pool, the transaction, the composing (and DKIM signing) of the test.
    with Mailer(None, config, pool_size=1, attempts=1, sender_name="mailtpl doctor", connect=connect) as mailer:
        try:
            mailer.check_sender()
            add(Step("MAIL FROM", True, f"{config.sender} accepted"))
            if to:
                text = "This test message was sent by `mailtpl doctor`: the SMTP settings work.\n"
                test = RenderedEmail("doctor", "mailtpl doctor: test message", f"<p>{text}</p>", text)
                result = mailer.send_rendered(test, to)
                add(Step("test message", True, f"accepted for {to} {result.message_id}"))
        except SmtpError as exc:
            add(Step(type(exc).__name__, False, exc.message + (f" ({exc.code} {exc.reply})" if exc.code else ""),
                     exc.fix))
        except ValueError as exc:
            add(Step("test message", False, str(exc), "pass a valid address to --to"))
    return steps
