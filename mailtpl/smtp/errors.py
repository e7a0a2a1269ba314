"""SMTP failures as typed errors that carry the fix (the troubleshooting table, said by the code)."""
from __future__ import annotations


class SmtpError(Exception):
    """An SMTP failure. ``fix`` says which setting to change; ``code``/``reply`` are the server's words."""

    fix = ""

    def __init__(self, message: str, *, code: int | None = None, reply: str | None = None,
                 fix: str | None = None) -> None:
        self.message = message
        self.code = code
        self.reply = reply
        if fix is not None:
            self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        server = f" (server said: {self.code} {self.reply})" if self.code else ""
        return f"{self.message}{server}" + (f"\nfix: {self.fix}" if self.fix else "")


class SmtpConnectError(SmtpError):
    fix = ("check SMTP_HOST and SMTP_PORT, and that a firewall lets this machine reach the server "
           "(587 for STARTTLS, 465 for TLS, 25 for a relay)")


class SmtpTlsError(SmtpError):
    fix = ("SMTP_TLS=true belongs to port 465 (TLS from connect); for 587 or 25 set SMTP_TLS=false "
           "(plain, then STARTTLS)")


class SmtpStartTlsError(SmtpError):
    fix = ("the server's STARTTLS failed: fix its certificate (or set SMTP_CA_FILE to trust a private CA), "
           "or set SMTP_OPPORTUNISTIC_TLS=true to carry on unencrypted when STARTTLS fails")


class SmtpInsecureAuthError(SmtpError):
    fix = ("credentials are never sent unencrypted to a remote server: use port 465 with SMTP_TLS=true, "
           "or a server that offers STARTTLS on 587")


class SmtpAuthError(SmtpError):
    fix = ("check SMTP_USERNAME and SMTP_PASSWORD (SendGrid: username 'apikey', password the API key; "
           "Gmail with 2-step verification needs an app password)")


class SmtpSenderRejected(SmtpError):
    fix = ("SMTP_SENDER is not a sender this server accepts: verify the address (or its domain) with your "
           "provider (SendGrid: Sender Authentication; Gmail: the account's own address)")


class SmtpRecipientsRefused(SmtpError):
    fix = "check the recipient addresses; the server refused them"

    def __init__(self, message: str, refused: dict[str, tuple[int, str]], **kwargs) -> None:
        self.refused = refused
        super().__init__(message, **kwargs)


class SmtpTransientError(SmtpError):
    fix = "the server asked to try again later (4xx); mailtpl retried and gave up: try again later"


class SmtpDailyLimitError(SmtpError):
    """SMTP_DAILY_LIMIT messages went out today (UTC); ``retry_after`` is the seconds until the next day."""

    fix = "SMTP_DAILY_LIMIT messages were sent today (UTC day): wait for the next day, or raise SMTP_DAILY_LIMIT"

    def __init__(self, message: str, retry_after: float, **kwargs) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)
