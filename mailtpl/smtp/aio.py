"""``AsyncMailer``: the ``Mailer`` for asyncio apps (FastAPI, aiohttp), on aiosmtplib.

Same SmtpConfig, typed errors, retries, rate limits, DKIM and logging as
``Mailer``: the transaction, reply diagnosis, retry policy and composition are
the shared ones of ``delivery.py``; only the I/O differs. aiosmtplib rather
than hand-written asyncio streams: it is kept up (STARTTLS on a live
transport, AUTH mechanisms, dot-stuffing, line-ending normalisation) and its
per-command cost is small enough that the pool outruns nodemailer's
(bench/send.py).

The pool hands each task a connection of its own for a whole transaction
(``asyncio.Semaphore`` of ``pool_size``); a connection goes back after the
server's 250 to DATA, gets RSET before reuse when its last transaction did not
complete or it sat idle, and is closed after a lost connection or a 421. Each
transaction is bounded as a whole by SMTP_TIMEOUT. An AsyncMailer belongs to
the event loop it first sends from (close it before using it from another).
"""
from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from email.message import EmailMessage

import aiosmtplib

from ..environment import Environment
from ..rendered import RenderedEmail
from .config import SmtpConfig
from .delivery import Attempts, BaseMailer, Outgoing, Reply, Retry, SendResult, lost
from .errors import (SmtpAuthError, SmtpConnectError, SmtpError, SmtpGreetingError,
                     SmtpStartTlsError, SmtpTlsError, SmtpTlsRequiredError, text_of)
from .pool import needs_reset, survives
from .transport import (address, insecure_auth, log_command, log_reply, login_failed, plaintext_warning, speaks_tls,
                        tls_context)

logger = logging.getLogger("mailtpl")


class _LoggedSMTP(aiosmtplib.SMTP):
    """aiosmtplib.SMTP with ``Mailer``'s DEBUG log of every command and reply (AUTH redacted).

    ``execute_command`` is what aiosmtplib's EHLO, AUTH, MAIL, RCPT, RSET and
    QUIT go through; STARTTLS is logged here too; the greeting and DATA are
    logged where they are read and sent (``_greeted``, ``_run``).
    """

    redact = False

    def __init__(self, config: SmtpConfig, **kwargs) -> None:
        super().__init__(hostname=config.host, port=config.port, **kwargs)
        self.where = address(config)

    async def execute_command(self, *args: bytes, **kwargs) -> aiosmtplib.SMTPResponse:
        log_command(self.where, b" ".join(args).decode("ascii", "replace"), redact=self.redact)
        response = await super().execute_command(*args, **kwargs)
        log_reply(self.where, response.code, response.message, redact=self.redact)
        return response

    async def starttls(self, *args, **kwargs) -> aiosmtplib.SMTPResponse:
        log_command(self.where, "STARTTLS")
        response = await super().starttls(*args, **kwargs)
        log_reply(self.where, response.code, response.message)
        return response

    async def login(self, *args, **kwargs) -> aiosmtplib.SMTPResponse:
        self.redact = True
        try:
            return await super().login(*args, **kwargs)
        finally:
            self.redact = False


class AsyncConnection:
    """An open, greeted, possibly encrypted and logged-in aiosmtplib session."""

    def __init__(self, smtp: aiosmtplib.SMTP, encrypted: bool) -> None:
        self.smtp = smtp
        self.encrypted = encrypted
        self.clean = True
        self.released_at = 0.0

    async def close(self) -> None:
        try:
            async with asyncio.timeout(1):
                await self.smtp.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            self.smtp.close()


async def open_connection(config: SmtpConfig, *, starttls: bool = True) -> AsyncConnection:
    """Connect, EHLO, STARTTLS (when SMTP_TLS=false and offered), AUTH (when configured)."""
    smtp = _LoggedSMTP(config, use_tls=config.tls, start_tls=False,
                       tls_context=tls_context(config) if config.tls else None, timeout=config.timeout)
    where = smtp.where
    try:
        await _greeted(smtp, config)
        async with asyncio.timeout(config.timeout):
            await smtp.ehlo()
        encrypted = config.tls
        if not config.tls and starttls and smtp.supports_extension("starttls"):
            await _starttls(smtp, config, where)
            encrypted = True
        elif not config.tls:
            if config.require_tls:
                raise SmtpTlsRequiredError(f"{where} offers no encryption on this connection and SMTP_REQUIRE_TLS=true")
            if warning := plaintext_warning(config, starttls_failed=not starttls):
                logger.warning("%s", warning)
        if config.auth:
            await _login(smtp, config, where, encrypted)
    except SmtpStartTlsError:
        smtp.close()
        if not config.opportunistic_tls:
            raise
        return await open_connection(config, starttls=False)
    except aiosmtplib.SMTPHeloError as exc:
        smtp.close()
        raise SmtpConnectError(f"{where} refused EHLO", code=exc.code, reply=exc.message) from None
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, TimeoutError) as exc:
        smtp.close()
        raise Retry(SmtpGreetingError(f"{where} closed or stalled the session before it was ready "
                                      f"({str(exc) or 'SMTP_TIMEOUT'})"), reconnect=True) from None
    except aiosmtplib.SMTPResponseException as exc:  # no reply to read: over aiosmtplib's bound, malformed
        smtp.close()
        raise Retry(SmtpGreetingError(f"{where} sent an unreadable reply before the session was ready "
                                      f"({exc.message})"), reconnect=True) from None
    except BaseException:
        smtp.close()
        raise
    return AsyncConnection(smtp, encrypted)


async def _greeted(smtp: _LoggedSMTP, config: SmtpConfig) -> None:
    """TCP (and TLS when SMTP_TLS=true) up and a 220 greeting read, or the failure said as what it is."""
    where = smtp.where
    try:
        try:
            async with asyncio.timeout(config.timeout):  # as a whole: a trickled greeting cannot hold a send
                greeting = await smtp.connect()
            log_reply(where, greeting.code, greeting.message)
        except TimeoutError:
            raise aiosmtplib.SMTPConnectTimeoutError("Timed out waiting for server ready message") from None
    except aiosmtplib.SMTPConnectResponseError as exc:  # a greeting other than 220
        if 400 <= exc.code < 500:  # 421 busy: try again
            raise Retry(SmtpGreetingError(f"{where} greeted with {exc.code}: busy or not accepting mail now",
                                          code=exc.code, reply=exc.message), reconnect=True) from None
        raise SmtpConnectError(f"{where} refuses service", code=exc.code, reply=exc.message) from None
    except aiosmtplib.SMTPConnectTimeoutError:
        if not config.tls and await asyncio.to_thread(speaks_tls, config):
            raise SmtpTlsError(f"connected to {where}, but no SMTP greeting within SMTP_TIMEOUT={config.timeout:g}s: "
                               f"the port answers a TLS handshake (TLS from connect) and SMTP_TLS=false",
                               fix="set SMTP_TLS=true for this port (usually 465), or use the server's STARTTLS "
                                   "port (usually 587) with SMTP_TLS=false") from None
        raise Retry(SmtpGreetingError(f"connected to {where}, but no greeting within "
                                      f"SMTP_TIMEOUT={config.timeout:g}s"), reconnect=True) from None
    except aiosmtplib.SMTPConnectError as exc:
        cause = exc.__cause__
        if isinstance(cause, ConnectionRefusedError):
            raise SmtpConnectError(f"connection to {where} refused") from None
        if isinstance(cause, socket.gaierror):
            raise SmtpConnectError(f"cannot resolve SMTP_HOST {config.host!r} ({cause.strerror})",
                                   fix="check SMTP_HOST: the name does not resolve from this machine") from None
        if isinstance(cause, ssl.SSLError):
            raise SmtpTlsError(f"TLS handshake with {where} failed ({cause})") from None
        if isinstance(cause, aiosmtplib.SMTPServerDisconnected):  # connected, then dropped before the greeting
            raise Retry(SmtpGreetingError(f"{where} closed the connection before its greeting"),
                        reconnect=True) from None
        raise SmtpConnectError(f"cannot connect to {where}: {cause or exc}") from None
    except aiosmtplib.SMTPResponseException as exc:  # no SMTP reply at all (aiosmtplib stops reading at 32 KB)
        raise SmtpConnectError(f"{where} did not answer with an SMTP greeting ({exc.message})",
                               fix="check SMTP_HOST and SMTP_PORT: something other than an SMTP server listens "
                                   "there") from None


async def _starttls(smtp: aiosmtplib.SMTP, config: SmtpConfig, where: str) -> None:
    try:
        async with asyncio.timeout(config.timeout):
            await smtp.starttls(tls_context=tls_context(config))
            await smtp.ehlo()
    except aiosmtplib.SMTPResponseException as exc:
        raise SmtpStartTlsError(f"STARTTLS refused by {where}", code=exc.code, reply=exc.message) from None
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise SmtpStartTlsError(f"STARTTLS with {where} failed ({exc})") from None


async def _login(smtp: aiosmtplib.SMTP, config: SmtpConfig, where: str, encrypted: bool) -> None:
    refusal = insecure_auth(config, encrypted)
    if refusal is not None:
        raise refusal
    try:
        async with asyncio.timeout(config.timeout):
            await smtp.login(config.username, config.password)
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise SmtpAuthError(f"{where} refused the login of {config.username!r}", code=exc.code,
                            reply=exc.message) from None
    except aiosmtplib.SMTPException as exc:  # no AUTH offered, no mechanism in common
        raise login_failed(config, smtp.esmtp_extensions.get("auth"), exc) from None


class AsyncPool:
    """At most ``size`` connections, each used by one task at a time."""

    def __init__(self, config: SmtpConfig, size: int = 4, idle_probe: float = 5.0) -> None:
        if size < 1:
            raise ValueError("pool size must be at least 1")
        self.config = config
        self.size = size
        self.idle_probe = idle_probe
        self._slots = asyncio.Semaphore(size)
        self._idle: list[AsyncConnection] = []
        self.opened = 0

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        async with self._slots:
            conn = await self._take()
            try:
                yield conn
            except BaseException as exc:
                if survives(exc):
                    self._put(conn)
                else:
                    await conn.close()
                raise
            self._put(conn)

    def _put(self, conn: AsyncConnection) -> None:
        conn.released_at = time.monotonic()
        self._idle.append(conn)

    async def _take(self) -> AsyncConnection:
        while self._idle:
            conn = self._idle.pop()
            if not needs_reset(conn, self.idle_probe):
                return conn
            try:  # RSET: a clean transaction, and proof the server is still there
                if (await conn.smtp.rset()).code == 250:
                    conn.clean = True
                    return conn
            except (aiosmtplib.SMTPException, OSError):
                pass
            await conn.close()
        conn = await open_connection(self.config)
        self.opened += 1
        return conn

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        await asyncio.gather(*(conn.close() for conn in idle))


class AsyncMailer(BaseMailer):
    """``async with AsyncMailer(env, config) as mailer: await mailer.send_verification(...)``."""

    def __init__(self, env: Environment | None, config: SmtpConfig, *, pool_size: int = 4, **options) -> None:
        super().__init__(env, config, **options)
        self.pool = AsyncPool(config, size=pool_size)

    async def close(self) -> None:
        await self.pool.close()

    async def __aenter__(self) -> AsyncMailer:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def send(self, name: str, to: str | Iterable[str], context: Mapping | None = None, *,
                   fixture: str | None = None, reply_to: str | Iterable[str] | None = None,
                   message_id: str | None = None, **headers: str) -> SendResult:
        """Render email ``name`` (with the sample-data set ``fixture`` under ``context``, if given) and send it to
        ``to``. Extra headers: ``X_Tag="v"`` becomes ``X-Tag: v``."""
        return await self.send_rendered(self._render(name, context, fixture), to, reply_to=reply_to,
                                        message_id=message_id, **headers)

    async def send_rendered(self, rendered: RenderedEmail, to: str | Iterable[str], *,
                            reply_to: str | Iterable[str] | None = None, message_id: str | None = None,
                            **headers: str) -> SendResult:
        """Send an email rendered elsewhere (``env.render(...)``, or a :class:`RenderedEmail` of your own)."""
        return await self._deliver(self._compose(rendered, to, reply_to, message_id, headers))

    async def send_message(self, msg: EmailMessage, *, name: str = "message") -> SendResult:
        """Send a message built elsewhere: to its To, Cc and Bcc (Bcc is not shown to anyone)."""
        return await self._deliver(self._compose_message(msg, name))

    async def _deliver(self, out: Outgoing) -> SendResult:
        attempts = Attempts(self.retry, out.name, out.recipients)
        while True:
            try:
                outcome = await self._attempt(out, attempts.pending)
            except (Retry, SmtpError) as exc:
                outcome = exc
            delay = attempts.after(outcome)
            if delay is None:
                return attempts.sent()
            await asyncio.sleep(delay)

    async def _attempt(self, out: Outgoing, recipients: list[str]) -> SendResult:
        async with self.pool.connection() as conn:
            if self.limiter is not None:  # on an open connection: the limit spaces what the server sees
                await asyncio.sleep(self.limiter.reserve())
            try:  # bounded as a whole by SMTP_TIMEOUT
                async with asyncio.timeout(self.config.timeout):
                    return await _run(conn.smtp, self._transaction(conn, out, recipients))
            except TimeoutError:
                raise lost(TimeoutError(f"no reply within SMTP_TIMEOUT={self.config.timeout:g}s")) from None


async def _run(smtp: _LoggedSMTP, steps) -> SendResult:
    """Drive :func:`transaction` over an aiosmtplib connection (no per-read timeout: the caller bounds it all)."""
    try:
        verb, arg = next(steps)
        while True:
            try:
                if verb == "DATA":  # aiosmtplib sends DATA and the message past execute_command: logged here
                    log_command(smtp.where, f"DATA ({len(arg)} bytes)")
                    try:
                        response = await smtp.data(arg, timeout=None)
                    except aiosmtplib.SMTPDataError as exc:
                        response = exc
                    log_reply(smtp.where, response.code, response.message)
                    reply = Reply(response.code, text_of(response.message), "the message")
                else:
                    word = "FROM" if verb == "MAIL" else "TO"
                    response = await smtp.execute_command(verb.encode(), f"{word}:<{arg}>".encode(), timeout=None)
                    reply = Reply(response.code, text_of(response.message))
            except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError) as exc:
                raise lost(exc) from None
            except aiosmtplib.SMTPResponseException as exc:  # no reply to read: over aiosmtplib's bound, malformed
                raise lost(aiosmtplib.SMTPServerDisconnected(f"unreadable reply ({exc.message})")) from None
            verb, arg = steps.send(reply)
    except StopIteration as done:
        return done.value
