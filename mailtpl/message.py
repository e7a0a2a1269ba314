"""A rendered email as a MIME message: multipart/alternative (text, html), UTF-8, safe headers."""
from __future__ import annotations

import email.utils
from collections.abc import Iterable
from datetime import datetime, timezone
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage

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


def build_message(rendered: RenderedEmail, *, to: str | Iterable[str], sender: str, sender_name: str,
                  reply_to: str | Iterable[str] | None = None, date: datetime | None = None) -> EmailMessage:
    """multipart/alternative with the text part first (clients show the last part they can)."""
    sender = check_address(sender, "sender (SMTP_SENDER)")
    recipients = _addresses(to, "to")
    msg = EmailMessage()
    msg["From"] = format_sender(sender_name, sender)
    msg["To"] = ", ".join(recipients)
    if reply_to:
        msg["Reply-To"] = ", ".join(_addresses(reply_to, "reply_to"))
    msg["Subject"] = check_header(rendered.subject, "subject")
    msg["Date"] = email.utils.format_datetime(date or datetime.now(timezone.utc))
    msg["Message-ID"] = email.utils.make_msgid(domain=sender.rsplit("@", 1)[1])
    msg.set_content(rendered.text, charset="utf-8")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8")
    return msg
