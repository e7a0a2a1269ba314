"""``mailtpl.Mailer``: render and send the emails through a pool, retrying what is transient.

A message counts as sent only after the server's 250 to DATA, and is never
sent again to a recipient after one. 4xx replies, greetings that fail and
connections lost before that 250 are retried with bounded exponential backoff;
recipients deferred with 4xx get a new transaction; 5xx replies raise at once.
"""
from __future__ import annotations

import smtplib
import time
from collections.abc import Iterable, Mapping
from email.message import EmailMessage

from ..environment import Environment
from .config import SmtpConfig
from .delivery import Attempts, BaseMailer, Outgoing, Reply, Retry, SendResult, lost, transaction
from .errors import SmtpError, text_of
from .pool import SmtpPool


class Mailer(BaseMailer):
    """Sends from threads through a bounded pool of smtplib connections."""

    def __init__(self, env: Environment, config: SmtpConfig, *, pool_size: int = 4, **options) -> None:
        super().__init__(env, config, **options)
        self.pool = SmtpPool(config, size=pool_size)

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, name: str, to: str | Iterable[str], context: Mapping | None = None, *,
             reply_to: str | Iterable[str] | None = None, message_id: str | None = None,
             **headers: str) -> SendResult:
        """Render email ``name`` for ``to`` and send it. Extra headers: ``X_Tag="v"`` becomes ``X-Tag: v``."""
        return self._deliver(self._compose(name, to, context, reply_to, message_id, headers))

    def send_message(self, msg: EmailMessage, *, name: str = "message") -> SendResult:
        """Send a message built elsewhere: to its To, Cc and Bcc (Bcc is not shown to anyone)."""
        return self._deliver(self._compose_message(msg, name))

    def _deliver(self, out: Outgoing) -> SendResult:
        attempts = Attempts(self.retry, out.name, out.recipients)
        while True:
            try:
                outcome = self._attempt(out, attempts.pending)
            except (Retry, SmtpError) as exc:
                outcome = exc
            delay = attempts.after(outcome)
            if delay is None:
                return attempts.sent()
            time.sleep(delay)

    def _attempt(self, out: Outgoing, recipients: list[str]) -> SendResult:
        deferred = None
        with self.pool.connection() as conn:
            if self.limiter is not None:  # on an open connection: the limit spaces what the server sees
                time.sleep(self.limiter.reserve())
            conn.clean = False
            try:
                result = _run(conn.smtp, transaction(self.config.sender, recipients, out.data, out.message_id))
            except Retry as retry:
                if retry.reconnect:
                    raise  # the pool closes this connection
                deferred = retry  # the pool resets this connection (RSET) before its next message
            else:
                conn.clean = bool(result.accepted)  # the server's 250 to DATA ended the transaction
        if deferred is not None:
            raise deferred
        return result


def _run(smtp: smtplib.SMTP, steps) -> SendResult:
    """Drive :func:`transaction` over an smtplib connection."""
    try:
        verb, arg = next(steps)
        while True:
            stage = ""
            try:
                if verb == "MAIL":
                    code, text = smtp.mail(arg)
                elif verb == "RCPT":
                    code, text = smtp.rcpt(arg)
                else:
                    stage = "the message"
                    code, text = smtp.data(arg)
            except smtplib.SMTPDataError as exc:  # DATA itself refused (no 354)
                code, text, stage = exc.smtp_code, exc.smtp_error, "DATA"
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                raise lost(exc) from None
            verb, arg = steps.send(Reply(code, text_of(text), stage))
    except StopIteration as done:
        return done.value
