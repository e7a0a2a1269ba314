"""SMTP failures as typed errors that carry the fix (the troubleshooting table, said by the code)."""
from __future__ import annotations


def text_of(reply: bytes | str) -> str:
    """A server's words as text that can be printed and logged: bytes that are not UTF-8 (and the lone
    surrogates aiosmtplib decodes them to) become U+FFFD."""
    if isinstance(reply, str):
        reply = reply.encode("utf-8", "surrogateescape")
    return reply.decode("utf-8", "replace")


class SmtpError(Exception):
    """An SMTP failure. ``fix`` says which setting to change; ``code``/``reply`` are the server's words.

    ``transient`` errors are worth retrying; ``attempts`` says how many tries were made before this one was raised.
    ``args`` are the constructor's arguments, so ``type(err)(*err.args)`` rebuilds it (pickle, Celery's results).
    """

    fix = ""
    transient = False
    _after_message: tuple[str, ...] = ()  # the attributes a subclass's constructor takes after ``message``

    def __init__(self, message: str, code: int | None = None, reply: str | None = None, fix: str | None = None,
                 attempts: int = 1) -> None:
        self.message = text_of(message)  # it may quote the server
        self.code = code
        self.reply = None if reply is None else text_of(reply)
        if fix is not None:
            self.fix = fix
        self.attempts = attempts
        super().__init__(str(self))

    @property
    def args(self) -> tuple:
        extra = tuple(getattr(self, attribute) for attribute in self._after_message)
        return (self.message, *extra, self.code, self.reply, vars(self).get("fix"), self.attempts)  # fix: if given

    def __reduce__(self):
        return (type(self), self.args)

    def __str__(self) -> str:
        server = f" (server said: {self.code} {self.reply})" if self.code else ""
        tries = f"gave up after {self.attempts} attempts: " if self.attempts > 1 else ""
        return f"{tries}{self.message}{server}" + (f"\nfix: {self.fix}" if self.fix else "")


class SmtpConnectError(SmtpError):
    fix = ("check SMTP_HOST and SMTP_PORT, and that a firewall lets this machine reach the server "
           "(587 for STARTTLS, 465 for TLS, 25 for a relay)")


class SmtpGreetingError(SmtpConnectError):
    """Connected, but no usable greeting: dropped, silent past SMTP_TIMEOUT, or 4xx (busy). Retried."""

    transient = True
    fix = ("the server at SMTP_HOST:SMTP_PORT took the connection but gave no usable greeting, also when retried: "
           "check that SMTP_HOST and SMTP_PORT name an SMTP server and that it is not overloaded or limiting "
           "connections; a slow server needs a larger SMTP_TIMEOUT (seconds)")


class SmtpTlsError(SmtpError):
    fix = ("SMTP_TLS=true belongs to port 465 (TLS from connect); for 587 or 25 set SMTP_TLS=false "
           "(plain, then STARTTLS)")


class SmtpStartTlsError(SmtpError):
    fix = ("the server's STARTTLS failed: fix its certificate (or set SMTP_CA_FILE to trust a private CA), "
           "or set SMTP_OPPORTUNISTIC_TLS=true to carry on unencrypted when STARTTLS fails")


class SmtpInsecureAuthError(SmtpError):
    fix = ("credentials are never sent unencrypted to a remote server: use port 465 with SMTP_TLS=true, "
           "or a server that offers STARTTLS on 587")


class SmtpTlsRequiredError(SmtpError):
    fix = ("SMTP_REQUIRE_TLS=true refuses to send unencrypted: use port 465 with SMTP_TLS=true, or a server that "
           "offers STARTTLS (usually 587); or unset SMTP_REQUIRE_TLS")


class SmtpAuthError(SmtpError):
    fix = ("check SMTP_USERNAME and SMTP_PASSWORD (SendGrid: username 'apikey', password the API key; "
           "Gmail with 2-step verification needs an app password)")


class SmtpSenderRejected(SmtpError):
    fix = ("SMTP_SENDER is not a sender this server accepts: verify the address (or its domain) with your "
           "provider (SendGrid: Sender Authentication; Gmail: the account's own address)")


class SmtpRecipientsRefused(SmtpError):
    fix = "check the recipient addresses; the server refused them"

    _after_message = ("refused",)

    def __init__(self, message: str, refused: dict[str, tuple[int, str]], *args, **kwargs) -> None:
        self.refused = {rcpt: (code, text) for rcpt, (code, text) in refused.items()}  # tuples again after JSON
        super().__init__(message, *args, **kwargs)


class SmtpTransientError(SmtpError):
    transient = True
    fix = "the server asked to try again later (4xx); mailtpl retried and gave up: try again later"


class SmtpConnectionLost(SmtpTransientError):
    """The connection dropped (or a reply did not come within SMTP_TIMEOUT) before the server's 250 to the message."""

    fix = ("the connection to SMTP_HOST:SMTP_PORT ended before the server accepted the message; mailtpl retried on "
           "new connections: check the server's logs and its limits on connections and time, and the network; a slow "
           "server needs a larger SMTP_TIMEOUT (seconds)")
class SmtpDailyLimitError(SmtpError):
    """SMTP_DAILY_LIMIT messages went out today (UTC); ``retry_after`` is the seconds until the next day."""

    fix = "SMTP_DAILY_LIMIT messages were sent today (UTC day): wait for the next day, or raise SMTP_DAILY_LIMIT"

    _after_message = ("retry_after",)

    def __init__(self, message: str, retry_after: float, *args, **kwargs) -> None:
        self.retry_after = retry_after
        super().__init__(message, *args, **kwargs)
