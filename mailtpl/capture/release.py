"""Release a caught message to the real SMTP_* server: the bytes unchanged, to one confirmed recipient."""
from __future__ import annotations

import socket

from ..message import check_address
from ..smtp import SmtpConfig, SmtpError
from ..smtp.delivery import Retry, refusal, transaction
from ..smtp.mailer import drive
from ..smtp.transport import is_loopback, open_connection
from .message import CapturedMessage

RELEASE_LATER = "the server refused it for now (4xx, temporary): release it again later"


def is_this_machine(host: str) -> bool:
    """Whether ``host`` resolves to an address of this machine (one a socket can bind to), in whatever form the
    resolver takes it: ``localhost``, ``127.1``, ``0.0.0.0``, this machine's name or one of its IPs."""
    if is_loopback(host):  # also what the resolver here may not know, such as "localhost."
        return True
    try:
        found = socket.getaddrinfo(host.strip("[]"), 0, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):  # not resolvable: the release fails on its own, naming SMTP_HOST
        return False
    for family, kind, proto, _, address in found:
        try:
            with socket.socket(family, kind, proto) as probe:
                probe.bind(address)
            return True
        except OSError:
            continue
    return False


def release(message: CapturedMessage, to: str, config: SmtpConfig) -> str:
    """Send ``message`` as caught to ``to`` only (envelope sender SMTP_SENDER); the server's reply to DATA.

    The Mailer's transport and transaction, once (no retry: the person releasing sees the reply), unsigned: the
    bytes go out as they were caught. Refusals are the Mailer's typed errors; a temporary one (4xx, at any
    step) says to release it again later.
    """
    to = check_address(to, "to")
    connection = open_connection(config)
    try:
        result = drive(connection.smtp, transaction(config.sender, [to], message.raw, ""))
    except Retry as retry:  # 4xx, or the connection lost: not retried here
        error: SmtpError = retry.error
    else:
        if result.accepted:
            return result.reply
        error = refusal(result.refused)
    finally:
        connection.close()
    if error.transient:
        error.fix = RELEASE_LATER
    raise error
