"""``mailtpl.Mailer``: render and send the emails through a pool, retrying what is transient.

A message counts as sent only after the server's 250 to DATA, and is never
sent again to a recipient after one. 4xx replies, greetings that fail and
connections lost before that 250 are retried with bounded exponential backoff;
recipients deferred with 4xx get a new transaction; 5xx replies raise at once.
"""
from __future__ import annotations

import smtplib
import time
from collections.abc import Callable, Iterable, Mapping
from email.message import EmailMessage

from ..environment import Environment
from ..rendered import RenderedEmail
from .config import SmtpConfig
from .delivery import Attempts, BaseMailer, Outgoing, Reply, Retry, SendResult, lost
from .errors import SmtpError, text_of
from .pool import SmtpPool
from .transport import Connection, open_connection


class Mailer(BaseMailer):
    """Sends from threads through a bounded pool of smtplib connections.

    ``connect``: how the pool opens a connection (``mailtpl doctor`` passes one that reports each step).
    """

    def __init__(self, env: Environment | None, config: SmtpConfig, *, pool_size: int = 4,
                 connect: Callable[[SmtpConfig], Connection] = open_connection, **options) -> None:
        super().__init__(env, config, **options)
        self.pool = SmtpPool(config, size=pool_size, connect=connect)

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, name: str, to: str | Iterable[str], context: Mapping | None = None, *,
             fixture: str | None = None, reply_to: str | Iterable[str] | None = None, message_id: str | None = None,
             **headers: str) -> SendResult:
        """Render email ``name`` (with the sample-data set ``fixture`` under ``context``, if given) and send it to
        ``to``. Extra headers: ``X_Tag="v"`` becomes ``X-Tag: v``."""
        return self.send_rendered(self._render(name, context, fixture), to, reply_to=reply_to,
                                  message_id=message_id, **headers)

    def send_rendered(self, rendered: RenderedEmail, to: str | Iterable[str], *,
                      reply_to: str | Iterable[str] | None = None, message_id: str | None = None,
                      **headers: str) -> SendResult:
        """Send an email rendered elsewhere (``env.render(...)``, or a :class:`RenderedEmail` of your own)."""
        return self._deliver(self._compose(rendered, to, reply_to, message_id, headers))

    def send_message(self, msg: EmailMessage, *, name: str = "message") -> SendResult:
        """Send a message built elsewhere: to its To, Cc and Bcc (Bcc is not shown to anyone)."""
        return self._deliver(self._compose_message(msg, name))

    def check_sender(self) -> None:
        """MAIL FROM SMTP_SENDER on a pooled connection, no message: :class:`SmtpSenderRejected` (or the 4xx as
        :class:`SmtpTransientError`) when the server does not take it. The connection is reset before its next use."""
        try:  # not through the limiter: no message goes out
            with self.pool.connection() as conn:
                drive(conn.smtp, self._transaction(conn, Outgoing(b"", [], "", "sender check"), []))
        except Retry as retry:  # not retried: say so (the error's own fix speaks of retries)
            retry.error.fix = "the server did not take MAIL FROM this time (4xx, or the connection ended): try again"
            raise retry.error from None

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
        with self.pool.connection() as conn:
            if self.limiter is not None:  # on an open connection: the limit spaces what the server sees
                time.sleep(self.limiter.reserve())
            return drive(conn.smtp, self._transaction(conn, out, recipients))


def drive(smtp: smtplib.SMTP, steps) -> SendResult:
    """Drive a :func:`~mailtpl.smtp.delivery.transaction` over an smtplib connection."""
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
