"""``mailtpl.Mailer``: render and send the emails through a pool, retrying what is transient.

A message counts as sent only after the server's 250 to DATA, and is never
sent again after one. 4xx replies and connections lost before that 250 are
retried with bounded exponential backoff; 5xx replies raise at once.
"""
from __future__ import annotations

import copy
import logging
import smtplib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses

from ..environment import Environment
from ..links import invitation_link, reset_password_link
from ..message import SMTP_WIRE, check_address
from .config import SmtpConfig
from .errors import SmtpError, SmtpRecipientsRefused, SmtpSenderRejected, SmtpTransientError
from .pool import SmtpPool

logger = logging.getLogger("mailtpl")


@dataclass(frozen=True)
class SendResult:
    message_id: str
    accepted: list[str]
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)
    reply: str = ""  # the server's reply to DATA, e.g. "250 2.0.0 Ok: queued as 4Bx..."
    attempts: int = 1


class _Retry(Exception):
    """A transient failure: try again (on a new connection when ``reconnect``)."""

    def __init__(self, error: SmtpError, reconnect: bool) -> None:
        self.error = error
        self.reconnect = reconnect


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


class Mailer:
    def __init__(self, env: Environment, config: SmtpConfig, *, pool_size: int = 4, attempts: int = 4,
                 backoff: float = 0.5, max_backoff: float = 8.0) -> None:
        self.env = env
        self.config = config
        self.pool = SmtpPool(config, size=pool_size)
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the three emails -------------------------------------------------------------------------
    def send_verification(self, email: str, code: str) -> SendResult:
        return self.send("verification", email, {"code": code})

    def send_reset_password(self, email: str, code: str) -> SendResult:
        return self.send("resetPassword", email, {"link": reset_password_link(self._base_url(), code, email)})

    def send_invitation(self, email: str, code: str) -> SendResult:
        return self.send("invitation", email, {"link": invitation_link(self._base_url(), code, email)})

    def _base_url(self) -> str:
        base = self.env.admin_url()
        if not base:
            raise ValueError("links need the admin web address: set ADMIN_WEB_URL (or Environment(base_url=...))")
        return base

    # -- sending ------------------------------------------------------------------------------------
    def send(self, name: str, to: str | Iterable[str], context: Mapping | None = None, *,
             reply_to: str | Iterable[str] | None = None, **headers: str) -> SendResult:
        """Render email ``name`` for ``to`` and send it. Extra headers: ``X_Tag="v"`` becomes ``X-Tag: v``."""
        composed = self.env.compose(name, context, to=to, sender=self.config.sender, reply_to=reply_to,
                                    headers={key.replace("_", "-"): value for key, value in headers.items()})
        return self._deliver(composed.wire, composed.recipients, composed.message_id, name)

    def send_message(self, msg: EmailMessage, *, name: str = "message") -> SendResult:
        """Send a message built elsewhere: to its To, Cc and Bcc (Bcc is not shown to anyone)."""
        recipients = [check_address(addr, "recipient") for _, addr in getaddresses(  # IDNA, as compose does
            msg.get_all("To", []) + msg.get_all("Cc", []) + msg.get_all("Bcc", [])) if addr]
        if not recipients:
            raise ValueError("the message has no recipient (To, Cc or Bcc)")
        if "Bcc" in msg:
            msg = _without_bcc(msg)
        return self._deliver(msg.as_bytes(policy=SMTP_WIRE), recipients, str(msg["Message-ID"] or ""), name)

    def _deliver(self, data: bytes, recipients: list[str], message_id: str, name: str) -> SendResult:
        started = time.perf_counter()
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            error = None
            try:
                with self.pool.connection() as conn:
                    conn.clean = False
                    try:
                        result = self._transaction(conn.smtp, recipients, data, message_id)
                        conn.clean = True  # the server's 250 to DATA ended the transaction
                    except _Retry as retry:
                        if retry.reconnect:
                            raise  # the pool closes this connection
                        error = retry.error  # the pool resets it before its next message
            except _Retry as retry:
                error = retry.error
            except SmtpError as exc:
                logger.error("sending %s to %s failed: %s", name, ", ".join(recipients), exc)
                raise
            if error is None:
                elapsed = (time.perf_counter() - started) * 1000
                logger.info("sent %s to %s %s in %.0f ms", name, ", ".join(result.accepted), result.message_id,
                            elapsed)
                return SendResult(result.message_id, result.accepted, result.refused, result.reply, attempt)
            if attempt == self.attempts:
                final = SmtpTransientError(f"giving up after {attempt} attempts: {error.message}",
                                           code=error.code, reply=error.reply)
                logger.error("sending %s to %s failed: %s", name, ", ".join(recipients), final)
                raise final
            logger.warning("sending %s: %s; retrying in %.1fs (attempt %d of %d)", name, error.message, delay,
                           attempt + 1, self.attempts)
            time.sleep(delay)
            delay = min(delay * 2, self.max_backoff)
        raise AssertionError("unreachable")  # pragma: no cover

    def _transaction(self, smtp: smtplib.SMTP, recipients: list[str], data: bytes, message_id: str) -> SendResult:
        try:
            code, reply = smtp.mail(self.config.sender)
            if code != 250:
                self._failed(code, reply, "MAIL FROM")
            refused = {}
            for rcpt in recipients:
                code, reply = smtp.rcpt(rcpt)
                if code not in (250, 251):
                    refused[rcpt] = (code, _text(reply))
            if len(refused) == len(recipients):
                if all(400 <= c < 500 for c, _ in refused.values()):
                    raise _Retry(SmtpTransientError("every recipient was deferred", code=code, reply=_text(reply)),
                                 reconnect=False)
                raise SmtpRecipientsRefused(f"the server refused every recipient: {', '.join(refused)}", refused,
                                            code=code, reply=_text(reply))
            code, reply = smtp.data(data)
        except smtplib.SMTPDataError as exc:  # DATA itself refused (no 354)
            self._failed(exc.smtp_code, exc.smtp_error, "DATA")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise _Retry(SmtpTransientError(f"connection lost before the server accepted the message ({exc})"),
                         reconnect=True) from None
        if code != 250:
            self._failed(code, reply, "the message")
        accepted = [r for r in recipients if r not in refused]
        return SendResult(message_id, accepted, refused, f"{code} {_text(reply)}")

    def _failed(self, code: int, reply: bytes | str, stage: str):
        text = _text(reply)
        if code == 421 or 400 <= code < 500:
            raise _Retry(SmtpTransientError(f"{stage} deferred", code=code, reply=text), reconnect=code == 421)
        if stage == "MAIL FROM":
            raise SmtpSenderRejected(f"the server rejected the sender {self.config.sender}", code=code, reply=text)
        raise SmtpError(f"the server rejected {stage}", code=code, reply=text,
                        fix="the server refused this message permanently (5xx); its reply says why")


def _without_bcc(msg: EmailMessage) -> EmailMessage:
    clean = copy.copy(msg)
    del clean["Bcc"]
    return clean
