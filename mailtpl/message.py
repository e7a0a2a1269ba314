"""A rendered email as a MIME message: multipart/alternative (text, html), UTF-8, safe headers."""
from __future__ import annotations

import email.utils
from collections.abc import Iterable
from datetime import datetime, UTC
from email.charset import QP, Charset
from email.errors import HeaderParseError
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.mime.text import MIMEText
from email.policy import compat32

from .rendered import RenderedEmail


def check_header(value: str, field: str) -> str:
    """A header value must not smuggle in more headers (CR or LF)."""
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a string, not {type(value).__name__}")
    if "\r" in value or "\n" in value:
        raise ValueError(f"{field} contains a line break (CR or LF); header values must be one line")
    return value


def check_address(value: str, field: str) -> str:
    """``value`` as a plain address (local@domain); ValueError naming ``field`` otherwise."""
    check_header(value, field)
    value = value.strip()
    try:
        address = Address(addr_spec=value)
    except (ValueError, HeaderParseError, IndexError):
        address = None
    if address is None or not address.username or "." not in address.domain and address.domain != "localhost" \
            or any(ch.isspace() for ch in value) or value.count("@") != 1:
        raise ValueError(f"{field}: {value!r} is not an email address (expected name@domain)")
    return value


def _addresses(value: str | Iterable[str], field: str) -> list[str]:
    items = [value] if isinstance(value, str) else list(value)
    if not items:
        raise ValueError(f"{field}: no address given")
    return [check_address(item, field) for item in items]


def format_sender(name: str, address: str) -> str:
    """``"Display Name" <address>``, quoted as the original mailer writes it."""
    check_header(name, "sender name")
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{address}>'


_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP  # readable in the raw message, unlike base64
SMTP_WIRE = compat32.clone(linesep="\r\n")  # how the message goes on the wire


def _part(content: str, subtype: str) -> MIMEText:
    part = MIMEText("", subtype)
    part.set_payload(content, _UTF8)
    del part["MIME-Version"]  # belongs to the top level only
    return part


def build_message(rendered: RenderedEmail, *, to: str | Iterable[str], sender: str, sender_name: str,
                  reply_to: str | Iterable[str] | None = None, date: datetime | None = None) -> EmailMessage:
    """multipart/alternative with the text part first (clients show the last part they can).

    Built with the compat32 policy: headers are written as given instead of being parsed
    again, which makes a message ten times cheaper to build than with the default policy.
    """
    sender = check_address(sender, "sender (SMTP_SENDER)")
    recipients = _addresses(to, "to")
    subject = check_header(rendered.subject, "subject")
    msg = EmailMessage(policy=compat32)
    msg["From"] = format_sender(sender_name, sender)
    msg["To"] = ", ".join(recipients)
    if reply_to:
        msg["Reply-To"] = ", ".join(_addresses(reply_to, "reply_to"))
    msg["Subject"] = subject if subject.isascii() else Header(subject, "utf-8").encode()
    msg["Date"] = email.utils.format_datetime(date or datetime.now(UTC))
    msg["Message-ID"] = email.utils.make_msgid(domain=sender.rsplit("@", 1)[1])
    msg["MIME-Version"] = "1.0"
    msg.set_type("multipart/alternative")
    msg.attach(_part(rendered.text, "plain"))
    msg.attach(_part(rendered.html, "html"))
    return msg
