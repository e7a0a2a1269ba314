"""Release a caught message to the real SMTP_* server: the bytes unchanged, to one confirmed recipient."""
from __future__ import annotations

from ..message import check_address
from ..smtp import SmtpConfig, SmtpError, SmtpRecipientsRefused
from ..smtp.delivery import Retry, transaction
from ..smtp.mailer import drive
from ..smtp.transport import open_connection
from .message import CapturedMessage


def release(message: CapturedMessage, to: str, config: SmtpConfig) -> str:
    """Send ``message`` as caught to ``to`` only (envelope sender SMTP_SENDER); the server's reply to DATA.

    The Mailer's transport and transaction, once (no retry: the person releasing sees the reply), unsigned: the
    bytes go out as they were caught.
    """
    to = check_address(to, "to")
    connection = open_connection(config)
    try:
        result = drive(connection.smtp, transaction(config.sender, [to], message.raw, ""))
    except Retry as retry:  # 4xx, or the connection lost: not retried here
        error = retry.error
        raise SmtpError(error.message, code=error.code, reply=error.reply,
                        fix="the server did not take it this time: release it again later") from None
    finally:
        connection.close()
    if not result.accepted:
        code, reply = result.refused[to]
        raise SmtpRecipientsRefused(f"{config.host}:{config.port} refused the recipient {to}", result.refused,
                                    code=code, reply=reply)
    return result.reply
