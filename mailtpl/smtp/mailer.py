"""``mailtpl.Mailer``: render and send the emails through a pool, retrying what is transient.

A message counts as sent only after the server's 250 to DATA, and is never
sent again to a recipient after one. 4xx replies, greetings that fail and
connections lost before that 250 are retried with bounded exponential backoff;
recipients deferred with 4xx get a new transaction; 5xx replies raise at once.
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
from .errors import (SmtpConnectionLost, SmtpError, SmtpRecipientsRefused, SmtpSenderRejected,
                     SmtpTransientError)
from .pool import SmtpPool

logger = logging.getLogger("mailtpl")


@dataclass(frozen=True)
class SendResult:
    message_id: str
    accepted: list[str]
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)
    reply: str = ""  # the server's reply to DATA, e.g. "250 2.0.0 Ok: queued as 4Bx..."
    attempts: int = 1


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
        """Send in transactions until every recipient is accepted or refused for good, or attempts run out.

        A transaction that fails transiently (4xx, a lost connection, no greeting) is repeated; recipients
        deferred with 4xx while others were accepted get a new transaction of their own.
        """
        started = time.perf_counter()
        accepted: list[str] = []
        refused: dict[str, tuple[int, str]] = {}
        deferred: dict[str, tuple[int, str]] = {}  # the 4xx replies of the pending recipients, once some were sent
        pending = list(recipients)
        reply = ""
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                result = self._attempt(pending, data, message_id)
            except SmtpError as exc:
                if not exc.transient or attempt == self.attempts:
                    exc.attempts = attempt
                    if not accepted:
                        logger.error("sending %s to %s failed: %s", name, ", ".join(recipients), exc)
                        raise
                    refused.update(deferred)
                    logger.warning("sending %s to %s failed: %s", name, ", ".join(pending), exc)
                    break
                what = exc.message
            else:
                accepted += result.accepted
                reply = result.reply or reply
                deferred = {rcpt: v for rcpt, v in result.refused.items() if 400 <= v[0] < 500}
                refused.update((rcpt, v) for rcpt, v in result.refused.items() if rcpt not in deferred)
                if not deferred or attempt == self.attempts:
                    refused.update(deferred)
                    break
                pending = list(deferred)
                what = "deferred " + ", ".join(f"{rcpt} ({code} {text})" for rcpt, (code, text) in deferred.items())
            logger.warning("sending %s: %s; retrying in %.1fs (attempt %d of %d)", name, what, delay, attempt + 1,
                           self.attempts)
            time.sleep(delay)
            delay = min(delay * 2, self.max_backoff)
        return self._outcome(name, SendResult(message_id, accepted, refused, reply, attempt), started)

    @staticmethod
    def _outcome(name: str, result: SendResult, started: float) -> SendResult:
        """The result when anyone got the message; else the error. Refused recipients are never silent."""
        refused = ", ".join(f"{rcpt} ({code} {text})" for rcpt, (code, text) in result.refused.items())
        if not result.accepted:
            codes = [code for code, _ in result.refused.values()]
            if all(400 <= code < 500 for code in codes):
                error: SmtpError = SmtpTransientError(f"every recipient was deferred: {refused}")
            else:
                error = SmtpRecipientsRefused(f"the server refused every recipient: {refused}", result.refused)
            error.attempts = result.attempts
            logger.error("sending %s failed: %s", name, error)
            raise error
        if result.refused:
            logger.warning("sent %s to %s but NOT to %s", name, ", ".join(result.accepted), refused)
        logger.info("sent %s to %s %s in %.0f ms", name, ", ".join(result.accepted), result.message_id,
                    (time.perf_counter() - started) * 1000)
        return result

    def _attempt(self, recipients: list[str], data: bytes, message_id: str) -> SendResult:
        """One transaction on a pooled connection (closed by the pool when the connection is lost)."""
        with self.pool.connection() as conn:
            conn.clean = False
            try:
                result = self._transaction(conn.smtp, recipients, data, message_id)
            except SmtpConnectionLost:
                raise
            except SmtpTransientError as exc:  # a 4xx: the connection stays; the pool resets it before reuse
                deferred = exc
            else:
                conn.clean = bool(result.accepted)  # the server's 250 to DATA ended the transaction
                return result
        raise deferred

    def _transaction(self, smtp: smtplib.SMTP, recipients: list[str], data: bytes, message_id: str) -> SendResult:
        """MAIL, RCPT each, DATA: the message goes only when a recipient was accepted."""
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
                return SendResult(message_id, [], refused)
            code, reply = smtp.data(data)
        except smtplib.SMTPDataError as exc:  # DATA itself refused (no 354)
            self._failed(exc.smtp_code, exc.smtp_error, "DATA")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise SmtpConnectionLost(f"the connection ended before the server accepted the message ({exc})") from None
        if code != 250:
            self._failed(code, reply, "the message")
        accepted = [r for r in recipients if r not in refused]
        return SendResult(message_id, accepted, refused, f"{code} {_text(reply)}")

    def _failed(self, code: int, reply: bytes | str, stage: str):
        text = _text(reply)
        if code == 421:
            raise SmtpConnectionLost(f"the server is closing the connection at {stage}", code=code, reply=text)
        if 400 <= code < 500:
            raise SmtpTransientError(f"{stage} deferred", code=code, reply=text)
        if stage == "MAIL FROM":
            raise SmtpSenderRejected(f"the server rejected the sender {self.config.sender}", code=code, reply=text)
        raise SmtpError(f"the server rejected {stage}", code=code, reply=text,
                        fix="the server refused this message permanently (5xx); its reply says why")


def _without_bcc(msg: EmailMessage) -> EmailMessage:
    clean = copy.copy(msg)
    del clean["Bcc"]
    return clean
