"""Release a caught message to the real SMTP_* server: the bytes unchanged, to one confirmed recipient."""
from __future__ import annotations

from ..message import check_address
from ..smtp import SmtpConfig, SmtpError
from ..smtp.delivery import Retry, refusal, transaction
from ..smtp.mailer import drive
from ..smtp.transport import open_connection
from .message import CapturedMessage

RELEASE_LATER = "the server refused it for now (4xx, temporary): release it again later"


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
