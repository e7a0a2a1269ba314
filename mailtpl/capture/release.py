"""Release a caught message to the real SMTP_* server: the bytes unchanged, to one confirmed recipient."""
from __future__ import annotations

import smtplib

from ..message import check_address
from ..smtp import SmtpConfig, SmtpError
from ..smtp.transport import open_connection
from .message import CapturedMessage


def release(message: CapturedMessage, to: str, config: SmtpConfig) -> str:
    """Send ``message`` as caught to ``to`` only (envelope sender SMTP_SENDER); the server's reply to DATA."""
    to = check_address(to, "to")
    connection = open_connection(config)
    try:
        smtp = connection.smtp
        code, reply = smtp.mail(config.sender)
        if code != 250:
            raise SmtpError(f"{config.host}:{config.port} rejected the sender {config.sender}", code=code,
                            reply=reply.decode("utf-8", "replace"),
                            fix="SMTP_SENDER must be a sender the server accepts")
        code, reply = smtp.rcpt(to)
        if code not in (250, 251):
            raise SmtpError(f"{config.host}:{config.port} refused the recipient {to}", code=code,
                            reply=reply.decode("utf-8", "replace"))
        code, reply = smtp.data(message.raw)
        if code != 250:
            raise SmtpError(f"{config.host}:{config.port} refused the message", code=code,
                            reply=reply.decode("utf-8", "replace"))
        return f"{code} {reply.decode('utf-8', 'replace')}"
    except smtplib.SMTPResponseException as exc:
        raise SmtpError(f"{config.host}:{config.port} refused the message", code=exc.smtp_code,
                        reply=exc.smtp_error.decode("utf-8", "replace")) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SmtpError(f"the connection to {config.host}:{config.port} failed while releasing: {exc}") from None
    finally:
        connection.close()
