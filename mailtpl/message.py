"""A rendered email as a MIME message: multipart/alternative (text, html), UTF-8, safe headers."""
from __future__ import annotations

import binascii
import email
import email.policy
import email.utils
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.header import Header
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


SMTP_WIRE = email.policy.SMTP  # how a message someone else built goes on the wire (CRLF)
_MAX_LINE = 998  # RFC 5322: longer lines need quoted-printable


@dataclass(frozen=True, slots=True)
class Composed:
    """A message as it goes on the wire, with its envelope recipients."""

    wire: bytes
    message_id: str
    recipients: list[str]


def _header(name: str, value: str) -> str:
    """``Name: value`` folded at spaces so no line passes 78 characters when it can help it."""
    if "\r\n" in value:  # already folded (an RFC 2047 encoded subject)
        return f"{name}: {value}"
    line, out = f"{name}: ", []
    for word in value.split(" "):
        if len(line) + len(word) + 1 > 78 and line.strip(" :") != name:
            out.append(line.rstrip(" "))
            line = " "
        line += word + " "
    out.append(line.rstrip(" "))
    return "\r\n".join(out)


def _body(content: str) -> tuple[str, bytes]:
    """(Content-Transfer-Encoding, CRLF body): 7bit when it can be, else quoted-printable."""
    lines = content.replace("\r\n", "\n").replace("\r", "\n")
    if lines.isascii() and all(len(line) <= _MAX_LINE for line in lines.split("\n")):
        return "7bit", lines.replace("\n", "\r\n").encode("ascii")
    encoded = binascii.b2a_qp(lines.encode("utf-8"), istext=True)
    return "quoted-printable", encoded.replace(b"\n", b"\r\n")


def compose(rendered: RenderedEmail, *, to: str | Iterable[str], sender: str, sender_name: str,
            reply_to: str | Iterable[str] | None = None, headers: Mapping[str, str] | None = None,
            date: datetime | None = None, message_id: str | None = None) -> Composed:
    """multipart/alternative (text first: clients show the last part they can), UTF-8, checked headers."""
    sender = check_address(sender, "sender (SMTP_SENDER)")
    recipients = _addresses(to, "to")
    subject = check_header(rendered.subject, "subject")
    message_id = check_header(message_id, "Message-ID") if message_id else email.utils.make_msgid(
        domain=sender.rsplit("@", 1)[1])
    fields = [("From", format_sender(sender_name, sender)), ("To", ", ".join(recipients))]
    if reply_to:
        fields.append(("Reply-To", ", ".join(_addresses(reply_to, "reply_to"))))
    fields += [("Subject", subject if subject.isascii() else Header(subject, "utf-8").encode(linesep="\r\n")),
               ("Date", email.utils.format_datetime(date or datetime.now(UTC))),
               ("Message-ID", message_id)]
    for name, value in (headers or {}).items():
        fields.append((check_header(name, "header name"), check_header(value, name)))
    boundary = "=_mailtpl_" + secrets.token_hex(12)
    head = [_header(name, value) for name, value in fields]
    head += ["MIME-Version: 1.0", f'Content-Type: multipart/alternative; boundary="{boundary}"']
    out = ["\r\n".join(head).encode("utf-8"), b"\r\n\r\n"]
    for subtype, content in (("plain", rendered.text), ("html", rendered.html)):
        encoding, body = _body(content)
        out += [f"--{boundary}\r\nContent-Type: text/{subtype}; charset=\"utf-8\"\r\n"
                f"Content-Transfer-Encoding: {encoding}\r\n\r\n".encode("ascii"), body, b"\r\n"]
    out.append(f"--{boundary}--\r\n".encode("ascii"))
    return Composed(b"".join(out), message_id, recipients)


def build_message(rendered: RenderedEmail, **options) -> EmailMessage:
    """The composed message as an ``EmailMessage`` (the stdlib's reading of exactly those bytes)."""
    return email.message_from_bytes(compose(rendered, **options).wire, policy=email.policy.default)
