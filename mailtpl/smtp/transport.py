"""Opening an SMTP connection as SMTP_TLS / SMTP_OPPORTUNISTIC_TLS / SMTP_REQUIRE_TLS say, each failure diagnosed.

SMTP_TLS=true: TLS from connect. false: plain, then STARTTLS when the server
offers it; if STARTTLS fails, carry on in plain only with
SMTP_OPPORTUNISTIC_TLS=true. SMTP_REQUIRE_TLS=true refuses any unencrypted
session; otherwise an unencrypted session with a host that is not loopback is
logged as a WARNING. Credentials are never sent over an unencrypted connection
to a host that is not loopback.

SMTP_TIMEOUT bounds each exchange as a whole (connect + TLS + greeting; a
command and its reply; the message and the reply to it), not each read: a
server that trickles a byte at a time cannot hold a send. The SMTP
conversation is logged at DEBUG on the ``mailtpl`` logger, with AUTH redacted.
"""
from __future__ import annotations

import ipaddress
import logging
import smtplib
import socket
import ssl
import time
from collections.abc import Callable

from .config import SmtpConfig
from .errors import (SmtpAuthError, SmtpConnectError, SmtpError, SmtpGreetingError, SmtpInsecureAuthError,
                     SmtpStartTlsError, SmtpTlsError, SmtpTlsRequiredError, text_of)

logger = logging.getLogger("mailtpl")

Report = Callable[[str, bool, str], None]  # step, ok, detail


def _quiet(step: str, ok: bool, detail: str) -> None:
    pass


class _Expired(TimeoutError):
    """An exchange ran past its deadline (SMTP_TIMEOUT)."""


class _Flooded(OSError):
    """A reply ran past MAX_REPLY bytes."""


class ExchangeTimeout(smtplib.SMTPServerDisconnected):
    """No complete reply within SMTP_TIMEOUT; smtplib has closed the connection."""


class ReplyTooLong(smtplib.SMTPServerDisconnected):
    """A reply longer than MAX_REPLY bytes (smtplib bounds a line, not the lines of a reply)."""


class MalformedReply(smtplib.SMTPServerDisconnected):
    """A line with no reply code where a reply was due (smtplib would report it as reply code -1)."""


MAX_REPLY = 1 << 20  # bytes a server may send in one exchange; EHLO replies are a few hundred


class _Bounded:
    """Socket methods that smtplib reads and writes through, bounded by ``deadline`` (a ``time.monotonic()``)
    and by MAX_REPLY bytes read per exchange.

    A socket timeout bounds one call; setting it to what is left before each
    call makes the deadline bound the whole exchange. sendall with a timeout
    is bounded as a whole by CPython already; so are TLS handshakes.
    """

    deadline = float("inf")
    received = 0

    def start(self, seconds: float) -> None:
        """A new exchange: ``seconds`` from now, nothing read yet."""
        self.deadline = time.monotonic() + seconds
        self.received = 0

    def _left(self) -> None:
        if self.deadline == float("inf"):
            return  # no exchange started on this socket yet (a STARTTLS handshake): its timeout applies
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _Expired("timed out")
        self.settimeout(left)

    def recv_into(self, buffer, nbytes=0, flags=0):
        self._left()
        try:
            count = super().recv_into(buffer, nbytes, flags)
        except TimeoutError as exc:
            raise _Expired("timed out") from exc
        self.received += count
        if self.received > MAX_REPLY:  # after the read: a reply over the bound fails however it was chunked
            raise _Flooded("reply too long")
        return count

    def sendall(self, data, flags=0):
        self._left()
        try:
            return super().sendall(data, flags)
        except TimeoutError as exc:
            raise _Expired("timed out") from exc


class _BoundedSocket(_Bounded, socket.socket):
    pass


class _BoundedSSLSocket(_Bounded, ssl.SSLSocket):
    def do_handshake(self, block=False):
        self._left()
        try:
            return super().do_handshake(block)
        except TimeoutError as exc:
            raise _Expired("timed out") from exc


def _seconds(config: SmtpConfig) -> str:
    return f"SMTP_TIMEOUT={config.timeout:g}s"


class _SMTP(smtplib.SMTP):
    """smtplib.SMTP with TLS from connect when given a context, exchange deadlines, and a redacted DEBUG log."""

    redact = False

    def __init__(self, config: SmtpConfig, connect_tls: ssl.SSLContext | None) -> None:
        self.config = config
        self.connect_tls = connect_tls
        # Connecting in the constructor is smtplib's public way to set the name STARTTLS checks the certificate for.
        super().__init__(config.host, config.port, timeout=config.timeout)

    # smtplib has no public hook for the socket it talks through; overriding ``_get_socket`` (what SMTP_SSL does)
    # keeps smtplib's own connect code and lets the greeting be bounded as a whole, and TLS start at connect.
    def _get_socket(self, host, port, timeout):
        deadline = time.monotonic() + timeout
        plain = super()._get_socket(host, port, timeout)
        sock = _BoundedSocket(plain.family, plain.type, plain.proto, fileno=plain.detach())
        sock.settimeout(timeout)
        sock.deadline = deadline  # connect, TLS and greeting are one exchange
        if self.connect_tls is None:
            return sock
        try:
            tls = self.connect_tls.wrap_socket(sock, server_hostname=self.config.host, do_handshake_on_connect=False)
        except BaseException:
            sock.close()
            raise
        tls.deadline = deadline
        try:
            tls.do_handshake()
        except BaseException:
            tls.close()
            raise
        return tls

    def send(self, s):
        if self.sock is not None:  # a new exchange: a command, or the message after DATA's 354
            self.sock.start(self.config.timeout)
        try:
            return super().send(s)
        except smtplib.SMTPServerDisconnected as exc:
            if isinstance(exc.__context__, _Expired):
                raise ExchangeTimeout(f"{address(self.config)} did not take what was sent within "
                                      f"{_seconds(self.config)}") from None
            raise

    def putcmd(self, cmd, args=""):
        log_command(address(self.config), f"{cmd} {args}".strip(), redact=self.redact)
        super().putcmd(cmd, args)

    def getreply(self):
        try:
            code, message = super().getreply()
        except smtplib.SMTPServerDisconnected as exc:
            if isinstance(exc.__context__, _Expired):
                raise ExchangeTimeout(f"no complete reply from {address(self.config)} within "
                                      f"{_seconds(self.config)}") from None
            if isinstance(exc.__context__, _Flooded):
                raise ReplyTooLong(f"{address(self.config)} sent a reply of more than {MAX_REPLY} bytes") from None
            raise
        log_reply(address(self.config), code, message, redact=self.redact)
        if code == -1:  # smtplib's mark for a line with no reply code: nothing after it can be trusted
            self.close()
            raise MalformedReply(f"{address(self.config)} sent a line that is not an SMTP reply: {message[:80]!r}")
        return code, message

    def login(self, user, password, **kwargs):
        self.redact = True
        try:
            return super().login(user, password, **kwargs)
        finally:
            self.redact = False


def log_command(where: str, line: str, *, redact: bool = False) -> None:
    """The DEBUG line of a command sent; AUTH, and what is sent during a login, as ``AUTH ***``."""
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("%s >> %s", where, "AUTH ***" if redact or line[:4].upper() == "AUTH" else line)


def log_reply(where: str, code: int, text: bytes | str, *, redact: bool = False) -> None:
    """The DEBUG line of a reply received, its lines joined by `` | `` (replies during a login as ``***``)."""
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("%s << %s %s", where, code, "***" if redact else text_of(text).replace("\n", " | "))


LOGIN_MECHANISMS = ("PLAIN", "LOGIN", "CRAM-MD5")  # what smtplib and aiosmtplib both speak


def login_failed(config: SmtpConfig, advertised: str | None, exc: Exception) -> SmtpAuthError:
    """A login that failed before the server judged the credentials: AUTH not offered, or no mechanism in common.

    ``advertised``: the EHLO reply's AUTH parameters (None when there is no AUTH line).
    """
    if advertised is None:
        return SmtpAuthError(f"{address(config)} offers no AUTH on this connection",
                             fix="servers often offer AUTH only after STARTTLS or on 465 with SMTP_TLS=true; "
                                 "or unset SMTP_USERNAME/SMTP_PASSWORD for a relay that needs no login")
    if not set(advertised.upper().split()) & set(LOGIN_MECHANISMS):
        return SmtpAuthError(f"{address(config)} offers AUTH {advertised.strip() or 'with no mechanism'}; "
                             f"mailtpl logs in with {', '.join(LOGIN_MECHANISMS)}",
                             fix="use the server's submission port (587 with STARTTLS, or 465 with SMTP_TLS=true), "
                                 "where providers offer PLAIN or LOGIN; or unset SMTP_USERNAME/SMTP_PASSWORD for a "
                                 "relay that needs no login")
    return SmtpAuthError(f"login to {address(config)} failed: {exc}")


def tls_context(config: SmtpConfig) -> ssl.SSLContext:
    """Certificates verified; SMTP_CA_FILE adds a CA to trust; SMTP_CIPHER_SPEC picks the ciphers."""
    context = ssl.create_default_context()
    context.sslsocket_class = _BoundedSSLSocket
    if config.ca_file:
        context.load_verify_locations(config.ca_file)
    if config.cipher_spec:
        context.set_ciphers(config.cipher_spec)
    return context


def insecure_auth(config: SmtpConfig, encrypted: bool) -> SmtpInsecureAuthError | None:
    """The refusal to log in over an unencrypted session with a host that is not loopback; None to go on."""
    if encrypted or is_loopback(config.host):
        return None
    return SmtpInsecureAuthError(f"will not send SMTP_USERNAME/SMTP_PASSWORD unencrypted to {config.host}")


def is_loopback(host: str) -> bool:
    """localhost or a loopback address literal (names are not resolved: they could point anywhere)."""
    if host.rstrip(".").lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is 127.0.0.1
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def plaintext_warning(config: SmtpConfig, *, starttls_failed: bool = False,
                      loopback: bool | None = None) -> str | None:
    """What to say when a session with SMTP_HOST is not encrypted; None when the host is loopback.

    ``loopback`` overrides ``is_loopback(config.host)`` (for a caller that knows better, and for tests).
    """
    if is_loopback(config.host) if loopback is None else loopback:
        return None
    how = "STARTTLS failed and SMTP_OPPORTUNISTIC_TLS=true" if starttls_failed else "the server offers no STARTTLS"
    return (f"mail to {address(config)} goes unencrypted ({how}, SMTP_TLS=false): anyone on the path can read it; "
            f"use port 465 with SMTP_TLS=true or a server that offers STARTTLS, keep SMTP_OPPORTUNISTIC_TLS=false, "
            f"or set SMTP_REQUIRE_TLS=true to refuse to send unencrypted")


class Connection:
    """An open, greeted, possibly encrypted and logged-in SMTP session.

    ``warning`` is ``plaintext_warning``'s text when the session is unencrypted to a host that is not loopback.
    """

    def __init__(self, smtp: smtplib.SMTP, encrypted: bool, config: SmtpConfig, warning: str | None = None) -> None:
        self.smtp = smtp
        self.encrypted = encrypted
        self.config = config
        self.warning = warning
        self.clean = True  # no transaction left half-done on it
        self.released_at = 0.0

    def close(self) -> None:
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()


def address(config: SmtpConfig) -> str:
    return f"{config.host}:{config.port}"


def speaks_tls(config: SmtpConfig) -> bool:
    """Whether SMTP_HOST:SMTP_PORT answers a TLS handshake (a port of TLS from connect, such as 465).

    Asked when a plain connection got no greeting: a TLS port waits for the
    client to speak first, which looks like silence. Nothing is sent but a
    ClientHello; the certificate is not checked (nothing is trusted here).
    """
    probe = ssl.create_default_context()
    probe.check_hostname = False
    probe.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((config.host, config.port), timeout=min(config.timeout, 5.0)) as sock, \
                probe.wrap_socket(sock, server_hostname=config.host):
            return True
    except (OSError, ValueError):
        return False


def _connect(config: SmtpConfig, report: Report) -> smtplib.SMTP:
    where = address(config)
    try:
        smtp = _SMTP(config, tls_context(config) if config.tls else None)
    except socket.gaierror as exc:
        raise SmtpConnectError(f"cannot resolve SMTP_HOST {config.host!r} ({exc.strerror})",
                               fix="check SMTP_HOST: the name does not resolve from this machine") from None
    except ConnectionRefusedError:
        raise SmtpConnectError(f"connection to {where} refused") from None
    except smtplib.SMTPConnectError as exc:  # a greeting other than 220
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        if 400 <= exc.smtp_code < 500:
            raise SmtpGreetingError(f"{where} greeted with {exc.smtp_code}: busy or not accepting mail now",
                                    code=exc.smtp_code, reply=reply) from None
        if exc.smtp_code < 0:
            raise SmtpConnectError(f"{where} did not answer with an SMTP greeting: {reply[:80]!r}",
                                   fix="check SMTP_HOST and SMTP_PORT: something other than an SMTP server "
                                       "listens there") from None
        raise SmtpConnectError(f"{where} refuses service", code=exc.smtp_code, reply=reply) from None
    except ReplyTooLong as exc:
        raise SmtpConnectError(f"{exc} instead of a greeting",
                               fix="check SMTP_HOST and SMTP_PORT: this is not a working SMTP server") from None
    except (ExchangeTimeout, _Expired):
        if not config.tls and speaks_tls(config):
            raise SmtpTlsError(f"connected to {where}, but no SMTP greeting within {_seconds(config)}: the port "
                               f"answers a TLS handshake (TLS from connect) and SMTP_TLS=false",
                               fix="set SMTP_TLS=true for this port (usually 465), or use the server's STARTTLS "
                                   "port (usually 587) with SMTP_TLS=false") from None
        what = "no TLS handshake or greeting" if config.tls else "no greeting"
        raise SmtpGreetingError(f"connected to {where}, but {what} within {_seconds(config)}") from None
    except ssl.SSLError as exc:
        if isinstance(exc, ssl.SSLEOFError):
            raise SmtpGreetingError(f"{where} closed the connection during the TLS handshake") from None
        raise SmtpTlsError(f"TLS handshake with {where} failed ({exc.reason or exc})") from None
    except TimeoutError:
        raise SmtpConnectError(f"connecting to {where} timed out after {_seconds(config)}") from None
    except (smtplib.SMTPServerDisconnected, ConnectionResetError, ConnectionAbortedError):
        raise SmtpGreetingError(f"{where} closed the connection before its greeting") from None
    except OSError as exc:
        raise SmtpConnectError(f"cannot connect to {where}: {exc.strerror or exc}") from None
    report("TLS" if config.tls else "connect", True, where + (f", {smtp.sock.version()}" if config.tls else ", plain"))
    return smtp


def open_connection(config: SmtpConfig, report: Report = _quiet) -> Connection:
    """Connect, EHLO, STARTTLS (when SMTP_TLS=false and offered), AUTH (when configured)."""
    smtp = _connect(config, report)
    try:
        return _session(smtp, config, report, skip_starttls=False)
    except SmtpStartTlsError:
        smtp.close()
        if not config.opportunistic_tls:
            raise
        logger.warning("STARTTLS with %s failed; SMTP_OPPORTUNISTIC_TLS=true: continuing unencrypted",
                       address(config))
        smtp = _connect(config, report)
        try:
            return _session(smtp, config, report, skip_starttls=True)
        except BaseException:
            smtp.close()
            raise
    except BaseException:
        smtp.close()
        raise


def _session(smtp: smtplib.SMTP, config: SmtpConfig, report: Report, skip_starttls: bool) -> Connection:
    try:
        code, reply = smtp.ehlo()
    except (smtplib.SMTPException, OSError) as exc:
        raise SmtpGreetingError(f"EHLO to {address(config)} failed: {exc}") from None
    if code != 250:
        error = SmtpGreetingError if 400 <= code < 500 else SmtpConnectError
        raise error(f"{address(config)} refused EHLO", code=code, reply=reply.decode(errors="replace"))
    report("EHLO", True, (text_of(reply).splitlines() or [""])[0])
    encrypted = config.tls
    if not config.tls and not skip_starttls:
        if smtp.has_extn("starttls"):
            try:
                code, reply = smtp.starttls(context=tls_context(config))
                smtp.ehlo()
            except smtplib.SMTPResponseException as exc:
                report("STARTTLS", False, f"{exc.smtp_code} {exc.smtp_error!r}")
                raise SmtpStartTlsError(f"STARTTLS refused by {address(config)}", code=exc.smtp_code,
                                        reply=exc.smtp_error.decode(errors="replace")) from None
            except (ssl.SSLError, smtplib.SMTPException, OSError) as exc:
                report("STARTTLS", False, str(exc))
                raise SmtpStartTlsError(f"STARTTLS with {address(config)} failed ({exc})") from None
            encrypted = True
            report("STARTTLS", True, smtp.sock.version())
        else:
            report("STARTTLS", True, "not offered by the server: the connection stays unencrypted")
    warning = None
    if not encrypted:
        if config.require_tls:
            report("SMTP_REQUIRE_TLS", False, "the session is not encrypted")
            raise SmtpTlsRequiredError(f"{address(config)} offers no encryption on this connection "
                                       f"and SMTP_REQUIRE_TLS=true")
        warning = plaintext_warning(config, starttls_failed=skip_starttls)
    if config.auth:
        refusal = insecure_auth(config, encrypted)
        if refusal is not None:
            report("AUTH", False, "refused to send credentials unencrypted")
            raise refusal
        try:
            smtp.login(config.username, config.password)
        except smtplib.SMTPAuthenticationError as exc:
            report("AUTH", False, f"{exc.smtp_code}")
            raise SmtpAuthError(f"{address(config)} refused the login of {config.username!r}", code=exc.smtp_code,
                                reply=exc.smtp_error.decode(errors="replace")) from None
        except smtplib.SMTPException as exc:  # SMTPNotSupportedError too: no AUTH offered
            report("AUTH", False, str(exc))
            raise login_failed(config, smtp.esmtp_features.get("auth"), exc) from None
        report("AUTH", True, f"logged in as {config.username}")
    return Connection(smtp, encrypted, config, warning)


__all__ = ["Connection", "open_connection", "tls_context", "is_loopback", "insecure_auth", "plaintext_warning", "speaks_tls",
           "ExchangeTimeout", "SmtpError"]
