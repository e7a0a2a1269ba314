"""What ``Mailer`` and ``AsyncMailer`` share: one transaction's logic, what a reply means, the retry policy.

The transaction is written once, without I/O (a generator that yields the
command to run and receives the server's reply); each mailer drives it over its
own connection. A message counts as sent only after the server's 250 to DATA.
"""
from __future__ import annotations

import copy
import logging
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from email.utils import getaddresses

from ..environment import Environment
from ..links import invitation_link, reset_password_link
from ..message import DEFAULT_SENDER_NAME, SMTP_WIRE, check_address, compose
from ..rendered import RenderedEmail
from .config import SmtpConfig
from .dkim import DkimSigner
from .errors import SmtpConnectionLost, SmtpError, SmtpRecipientsRefused, SmtpSenderRejected, SmtpTransientError
from .ratelimit import Limiter, RateLimiter

logger = logging.getLogger("mailtpl")


@dataclass(frozen=True)
class SendResult:
    message_id: str
    accepted: list[str]
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)
    reply: str = ""  # the server's reply to DATA, e.g. "250 2.0.0 Ok: queued as 4Bx..."
    attempts: int = 1


class Retry(Exception):
    """A transient failure: try again (on a new connection when ``reconnect``)."""

    def __init__(self, error: SmtpError, reconnect: bool) -> None:
        super().__init__(error.message)
        self.error = error
        self.reconnect = reconnect


def lost(exc: BaseException) -> Retry:
    return Retry(SmtpConnectionLost(f"the connection ended before the server accepted the message ({exc})"),
                 reconnect=True)


@dataclass(frozen=True)
class Reply:
    code: int
    text: str
    stage: str = ""  # for DATA: "DATA" when the command itself was refused, else "the message"


Command = tuple[str, str | bytes]  # ("MAIL", sender) | ("RCPT", address) | ("DATA", message bytes)


def transaction(sender: str, recipients: list[str], data: bytes,
                message_id: str) -> Generator[Command, Reply, SendResult]:
    """MAIL, RCPT for each recipient, DATA when one was accepted; raises :class:`Retry` or a typed :class:`SmtpError`.

    With no recipient accepted the result has none, and :class:`Attempts` decides (deferred ones are tried again).
    """
    reply = yield ("MAIL", sender)
    if reply.code != 250:
        raise reply_error(reply, "MAIL FROM", sender)
    refused: dict[str, tuple[int, str]] = {}
    for rcpt in recipients:
        reply = yield ("RCPT", rcpt)
        if reply.code not in (250, 251):
            refused[rcpt] = (reply.code, reply.text)
    if len(refused) == len(recipients):
        return SendResult(message_id, [], refused)
    reply = yield ("DATA", data)
    if reply.code != 250:
        raise reply_error(reply, reply.stage or "the message", sender)
    accepted = [r for r in recipients if r not in refused]
    return SendResult(message_id, accepted, refused, f"{reply.code} {reply.text}")


def reply_error(reply: Reply, stage: str, sender: str) -> Exception:
    """4xx: :class:`Retry` (on a new connection after 421); 5xx: the typed error that says what to change."""
    if reply.code == 421:
        return Retry(SmtpConnectionLost(f"the server is closing the connection at {stage}", code=reply.code,
                                        reply=reply.text), reconnect=True)
    if 400 <= reply.code < 500:
        return Retry(SmtpTransientError(f"{stage} deferred", code=reply.code, reply=reply.text), reconnect=False)
    if stage == "MAIL FROM":
        return SmtpSenderRejected(f"the server rejected the sender {sender}", code=reply.code, reply=reply.text)
    return SmtpError(f"the server rejected {stage}", code=reply.code, reply=reply.text,
                     fix="the server refused this message permanently (5xx); its reply says why")


def listing(refused: Mapping[str, tuple[int, str]]) -> str:
    return ", ".join(f"{rcpt} ({code} {text})" for rcpt, (code, text) in refused.items())


def refusal(refused: Mapping[str, tuple[int, str]]) -> SmtpError:
    """Every recipient refused: transient when each refusal was 4xx (deferred: try again later), else permanent."""
    if all(400 <= code < 500 for code, _ in refused.values()):
        return SmtpTransientError(f"every recipient was deferred: {listing(refused)}")
    return SmtpRecipientsRefused(f"the server refused every recipient: {listing(refused)}", dict(refused))


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a transient failure is retried: bounded exponential backoff."""

    attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")


class Attempts:
    """The attempts at one message: who got it, who is still pending, how long to wait before the next
    transaction, when to give up; logs each outcome (refused recipients are never silent).

    A transaction that fails transiently (4xx, a lost connection, no greeting) is repeated for the pending
    recipients; recipients deferred with 4xx while others were accepted get a transaction of their own.
    """

    def __init__(self, policy: RetryPolicy, name: str, recipients: list[str]) -> None:
        self.policy = policy
        self.name = name
        self.recipients = recipients
        self.pending = list(recipients)
        self.accepted: list[str] = []
        self.refused: dict[str, tuple[int, str]] = {}
        self.deferred: dict[str, tuple[int, str]] = {}  # the 4xx replies of the pending, once some were sent
        self.last: SendResult | None = None
        self.reply = ""  # the server's reply to the last DATA
        self.number = 1
        self.delay = policy.backoff
        self.started = time.perf_counter()

    def after(self, outcome: SendResult | Retry | SmtpError) -> float | None:
        """What to do after one transaction (its result, or what it raised; a failed greeting is transient
        too): seconds to wait before the next, or None when done (see :meth:`took`, :meth:`retry_after`)."""
        if isinstance(outcome, Retry):
            return self.retry_after(outcome.error)
        if isinstance(outcome, SmtpError):
            return self.retry_after(outcome)
        return self.took(outcome)

    def took(self, result: SendResult) -> float | None:
        """Count one transaction: seconds to wait before one for the deferred recipients, or None when done."""
        self.last = result
        self.reply = result.reply or self.reply
        self.accepted += result.accepted
        self.deferred = {rcpt: v for rcpt, v in result.refused.items() if 400 <= v[0] < 500}
        self.refused.update((rcpt, v) for rcpt, v in result.refused.items() if rcpt not in self.deferred)
        if not self.deferred or self.number >= self.policy.attempts:
            self.refused.update(self.deferred)
            return None
        self.pending = list(self.deferred)
        return self._wait("deferred " + listing(self.deferred))

    def retry_after(self, error: SmtpError) -> float | None:
        """Seconds to wait before trying again. With no attempt left, or an error that is not transient: raises
        it (with ``attempts`` set) when nobody got the message, else returns None (done; the rest refused)."""
        if error.transient and self.number < self.policy.attempts:
            return self._wait(error.message)
        error.attempts = self.number
        if not self.accepted:
            self.failed(error)
            raise error
        self.refused.update(self.deferred)
        logger.warning("sending %s to %s failed: %s", self.name, ", ".join(self.pending), error)
        return None

    def _wait(self, what: str) -> float:
        delay = self.delay
        logger.warning("sending %s: %s; retrying in %.1fs (attempt %d of %d)", self.name, what, delay,
                       self.number + 1, self.policy.attempts)
        self.number += 1
        self.delay = min(self.delay * 2, self.policy.max_backoff)
        return delay

    def failed(self, error: Exception) -> None:
        logger.error("sending %s to %s failed: %s", self.name, ", ".join(self.recipients), error)

    def sent(self) -> SendResult:
        """The result when anyone got the message; else the error."""
        refused = listing(self.refused)
        if not self.accepted:
            error = refusal(self.refused)
            error.attempts = self.number
            self.failed(error)
            raise error
        if self.refused:
            logger.warning("sent %s to %s but NOT to %s", self.name, ", ".join(self.accepted), refused)
        elapsed = (time.perf_counter() - self.started) * 1000
        logger.info("sent %s to %s %s in %.0f ms", self.name, ", ".join(self.accepted), self.last.message_id,
                    elapsed)
        return replace(self.last, accepted=self.accepted, refused=self.refused, reply=self.reply,
                       attempts=self.number)


def default_sender_name(env: Environment | None) -> str:
    """The From display name of mail from ``env``: mailtpl.json's ``sender_name``, else "User feedback"."""
    return (env.loader.setting("sender_name") if env is not None else None) or DEFAULT_SENDER_NAME


def tracked(conn, steps: Generator[Command, Reply, SendResult]) -> Generator[Command, Reply, SendResult]:
    """``steps`` on ``conn``, keeping ``conn.clean``: False from MAIL FROM until the server's 250 to DATA ends
    the transaction (the pools RSET a connection that is not clean before its next message)."""
    conn.clean = False
    result = yield from steps
    conn.clean = bool(result.accepted)
    return result


class BaseMailer:
    """Rendering, composing, signing and the three emails: everything but the I/O of sending.

    ``env``: the templates (None: a mailer that sends only what is rendered or built elsewhere, as
    ``mailtpl doctor`` does). ``sender_name``: the From display name, default :func:`default_sender_name`.
    """

    def __init__(self, env: Environment | None, config: SmtpConfig, *, sender_name: str | None = None,
                 attempts: int = 4, backoff: float = 0.5, max_backoff: float = 8.0,
                 limiter: Limiter | None = None) -> None:
        """``limiter``: default from SMTP_RATE_LIMIT / SMTP_DAILY_LIMIT, per process."""
        self.env = env
        self.config = config
        self.sender_name = sender_name
        self.retry = RetryPolicy(attempts, backoff, max_backoff)
        self.limiter = limiter if limiter is not None else RateLimiter.from_config(config)
        self.signer = DkimSigner.from_config(config)

    # -- the three emails -------------------------------------------------------------------------
    def send_verification(self, email: str, code: str):
        return self.send("verification", email, {"code": code})

    def send_reset_password(self, email: str, code: str):
        return self.send("resetPassword", email, {"link": reset_password_link(self._base_url(), code, email)})

    def send_invitation(self, email: str, code: str):
        return self.send("invitation", email, {"link": invitation_link(self._base_url(), code, email)})

    def _base_url(self) -> str:
        return self._templates().admin_url(required=True)

    # -- render -> message ------------------------------------------------------------------------
    def _templates(self) -> Environment:
        if self.env is None:
            raise ValueError("this mailer has no templates: give it an Environment to send emails by name")
        return self.env

    def _render(self, name: str, context: Mapping | None, fixture: str | None) -> RenderedEmail:
        return self._templates().render(name, context, fixture=fixture)

    def _compose(self, rendered: RenderedEmail, to, reply_to, message_id: str | None, headers: dict) -> Outgoing:
        """The rendered email as signed bytes from SMTP_SENDER. Extra headers: ``X_Tag="v"`` becomes ``X-Tag: v``."""
        composed = compose(rendered, to=to, sender=self.config.sender,
                           sender_name=self.sender_name or default_sender_name(self.env), reply_to=reply_to,
                           message_id=message_id,
                           headers={key.replace("_", "-"): value for key, value in headers.items()})
        return self._outgoing(composed.wire, composed.recipients, composed.message_id, rendered.name)

    def _compose_message(self, msg: EmailMessage, name: str) -> Outgoing:
        """A message built elsewhere goes to its To, Cc and Bcc (Bcc is not shown to anyone)."""
        recipients = [check_address(addr, "recipient") for _, addr in getaddresses(  # IDNA, as compose does
            msg.get_all("To", []) + msg.get_all("Cc", []) + msg.get_all("Bcc", [])) if addr]
        if not recipients:
            raise ValueError("the message has no recipient (To, Cc or Bcc)")
        if "Bcc" in msg:
            msg = copy.copy(msg)
            del msg["Bcc"]
        return self._outgoing(msg.as_bytes(policy=SMTP_WIRE), recipients, str(msg["Message-ID"] or ""), name)

    def _outgoing(self, wire: bytes, recipients: list[str], message_id: str, name: str) -> Outgoing:
        if self.signer is not None:
            wire = self.signer.sign(wire)
        return Outgoing(wire, recipients, message_id, name)

    # -- message -> transport ---------------------------------------------------------------------
    def _transaction(self, conn, out: Outgoing, recipients: list[str]) -> Generator[Command, Reply, SendResult]:
        """One transaction of ``out`` to ``recipients`` on ``conn``, for the mailer's connection to drive."""
        return tracked(conn, transaction(self.config.sender, recipients, out.data, out.message_id))


@dataclass(frozen=True)
class Outgoing:
    """A message ready for the wire (signed when DKIM is configured), with its envelope."""

    data: bytes
    recipients: list[str]
    message_id: str
    name: str
