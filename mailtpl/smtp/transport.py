"""Opening an SMTP connection as SMTP_TLS / SMTP_OPPORTUNISTIC_TLS say, with each failure diagnosed.

SMTP_TLS=true: TLS from connect. false: plain, then STARTTLS when the server
offers it; if STARTTLS fails, carry on in plain only with
SMTP_OPPORTUNISTIC_TLS=true. Credentials are never sent over an unencrypted
connection to a host that is not loopback. The SMTP conversation is logged at
DEBUG on the ``mailtpl`` logger, with AUTH redacted.
"""
from __future__ import annotations

import ipaddress
import logging
import smtplib
import socket
import ssl
from collections.abc import Callable

from .config import SmtpConfig
from .errors import (SmtpAuthError, SmtpConnectError, SmtpError, SmtpInsecureAuthError, SmtpStartTlsError,
                     SmtpTlsError)

logger = logging.getLogger("mailtpl")

Report = Callable[[str, bool, str], None]  # step, ok, detail


def _quiet(step: str, ok: bool, detail: str) -> None:
    pass


class _Conversation:
    """Logs what is said on the wire (AUTH redacted) and remembers whether the socket got connected."""

    redact = False
    socket_open = False

    def putcmd(self, cmd, args=""):
        if logger.isEnabledFor(logging.DEBUG):
            line = "AUTH ***" if self.redact or cmd.upper() == "AUTH" else f"{cmd} {args}".strip()
            logger.debug("%s:%s >> %s", self._host, self.port_number, line)
        super().putcmd(cmd, args)

    def getreply(self):
        code, message = super().getreply()
        if logger.isEnabledFor(logging.DEBUG):
            text = message.decode("utf-8", "replace").replace("\n", " | ")
            logger.debug("%s:%s << %s %s", self._host, self.port_number, code, "***" if self.redact else text)
        return code, message

    def _get_socket(self, host, port, timeout):
        sock = super()._get_socket(host, port, timeout)
        self.socket_open = True
        return sock

    def login(self, user, password, **kwargs):
        self.redact = True
        try:
            return super().login(user, password, **kwargs)
        finally:
            self.redact = False


class _SMTP(_Conversation, smtplib.SMTP):
    pass


class _SMTP_SSL(_Conversation, smtplib.SMTP_SSL):
    pass


def tls_context(config: SmtpConfig) -> ssl.SSLContext:
    """Certificates verified; SMTP_CA_FILE adds a CA to trust; SMTP_CIPHER_SPEC picks the ciphers."""
    context = ssl.create_default_context()
    if config.ca_file:
        context.load_verify_locations(config.ca_file)
    if config.cipher_spec:
        context.set_ciphers(config.cipher_spec)
    return context


def is_loopback(host: str) -> bool:
    """localhost or a loopback address literal (names are not resolved: they could point anywhere)."""
    if host.rstrip(".").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Connection:
    """An open, greeted, possibly encrypted and logged-in SMTP session."""

    def __init__(self, smtp: smtplib.SMTP, encrypted: bool, config: SmtpConfig) -> None:
        self.smtp = smtp
        self.encrypted = encrypted
        self.config = config
        self.clean = True  # no transaction left half-done on it
        self.released_at = 0.0

    def close(self) -> None:
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()


def _where(config: SmtpConfig) -> str:
    return f"{config.host}:{config.port}"


def _connect(config: SmtpConfig, report: Report) -> smtplib.SMTP:
    cls = _SMTP_SSL if config.tls else _SMTP
    kwargs = {"context": tls_context(config)} if config.tls else {}
    smtp = cls(timeout=config.timeout, **kwargs)
    smtp._host = config.host  # smtplib takes the TLS server name from here, set only by __init__
    smtp.port_number = config.port
    try:
        smtp.connect(config.host, config.port)
    except socket.gaierror as exc:
        raise SmtpConnectError(f"cannot resolve SMTP_HOST {config.host!r} ({exc.strerror})",
                               fix="check SMTP_HOST: the name does not resolve from this machine") from None
    except ConnectionRefusedError:
        raise SmtpConnectError(f"connection to {_where(config)} refused") from None
    except ssl.SSLError as exc:
        raise SmtpTlsError(f"TLS handshake with {_where(config)} failed ({exc.reason or exc})") from None
    except (TimeoutError, smtplib.SMTPServerDisconnected) as exc:
        if not smtp.socket_open:
            raise SmtpConnectError(f"connecting to {_where(config)} timed out after {config.timeout:g}s") from None
        if not config.tls:
            raise SmtpTlsError(f"connected to {_where(config)}, but no SMTP greeting came "
                               f"({type(exc).__name__}): the server probably expects TLS from connect") from None
        raise SmtpConnectError(f"{_where(config)} did not greet ({type(exc).__name__}: {exc})") from None
    except OSError as exc:
        raise SmtpConnectError(f"cannot connect to {_where(config)}: {exc.strerror or exc}") from None
    report("TLS" if config.tls else "connect", True,
           f"{_where(config)}" + (f", {smtp.sock.version()}" if config.tls else ", plain"))
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
                       _where(config))
        smtp = _connect(config, report)
        return _session(smtp, config, report, skip_starttls=True)
    except BaseException:
        smtp.close()
        raise


def _session(smtp: smtplib.SMTP, config: SmtpConfig, report: Report, skip_starttls: bool) -> Connection:
    try:
        code, reply = smtp.ehlo()
    except (smtplib.SMTPException, OSError) as exc:
        raise SmtpConnectError(f"EHLO to {_where(config)} failed: {exc}") from None
    if code != 250:
        raise SmtpConnectError(f"{_where(config)} refused EHLO", code=code, reply=reply.decode(errors="replace"))
    report("EHLO", True, smtp.ehlo_resp.decode(errors="replace").splitlines()[0] if smtp.ehlo_resp else "")
    encrypted = config.tls
    if not config.tls and not skip_starttls:
        if smtp.has_extn("starttls"):
            try:
                code, reply = smtp.starttls(context=tls_context(config))
                smtp.ehlo()
            except smtplib.SMTPResponseException as exc:
                report("STARTTLS", False, f"{exc.smtp_code} {exc.smtp_error!r}")
                raise SmtpStartTlsError(f"STARTTLS refused by {_where(config)}", code=exc.smtp_code,
                                        reply=exc.smtp_error.decode(errors="replace")) from None
            except (ssl.SSLError, smtplib.SMTPException, OSError) as exc:
                report("STARTTLS", False, str(exc))
                raise SmtpStartTlsError(f"STARTTLS with {_where(config)} failed ({exc})") from None
            encrypted = True
            report("STARTTLS", True, smtp.sock.version())
        else:
            report("STARTTLS", True, "not offered by the server: the connection stays unencrypted")
    if config.auth:
        if not encrypted and not is_loopback(config.host):
            report("AUTH", False, "refused to send credentials unencrypted")
            raise SmtpInsecureAuthError(f"will not send SMTP_USERNAME/SMTP_PASSWORD unencrypted to {config.host}")
        try:
            smtp.login(config.username, config.password)
        except smtplib.SMTPAuthenticationError as exc:
            report("AUTH", False, f"{exc.smtp_code}")
            raise SmtpAuthError(f"{_where(config)} refused the login of {config.username!r}", code=exc.smtp_code,
                                reply=exc.smtp_error.decode(errors="replace")) from None
        except smtplib.SMTPNotSupportedError:
            report("AUTH", False, "not offered")
            raise SmtpAuthError(f"{_where(config)} offers no AUTH on this connection",
                                fix="servers often offer AUTH only after STARTTLS or on 465 with SMTP_TLS=true; "
                                    "or unset SMTP_USERNAME/SMTP_PASSWORD for a relay that needs no login") from None
        except smtplib.SMTPException as exc:
            raise SmtpAuthError(f"login to {_where(config)} failed: {exc}") from None
        report("AUTH", True, f"logged in as {config.username}")
    return Connection(smtp, encrypted, config)


__all__ = ["Connection", "open_connection", "tls_context", "is_loopback", "SmtpError"]
