"""A rendered email as a MIME message: multipart/alternative (text, html), UTF-8, safe headers.

Headers go out as 7-bit ASCII whatever the input (no SMTPUTF8 needed): non-ASCII
display names, subjects and extra header values as RFC 2047 encoded words,
internationalised domains as IDNA (punycode), every line folded under 78
characters where it can be and never past RFC 5322's 998. Anything that cannot
be sent that way is a :class:`HeaderError` naming the field, before a byte goes out.
"""
from __future__ import annotations

import base64
import binascii
import email
import email.policy
import email.utils
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage

import idna

from .rendered import RenderedEmail


class HeaderError(ValueError):
    """A header value or name that cannot be sent as it is; ``field`` says which."""

    def __init__(self, message: str, field: str) -> None:
        self.message = message
        self.field = field
        super().__init__(message, field)  # its arguments, so that type(err)(*err.args) rebuilds it

    def __str__(self) -> str:
        return self.message


class AddressError(HeaderError):
    """Not an email address mailtpl can put in a header and the SMTP envelope."""


_C0_NAMES = ("NUL SOH STX ETX EOT ENQ ACK BEL BS HT LF VT FF CR SO SI DLE DC1 DC2 DC3 DC4 NAK SYN ETB CAN EM SUB "
             "ESC FS GS RS US").split()
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_FIELD_NAME = re.compile("[\x21-\x39\x3b-\x7e]+")  # RFC 5322 3.6.8: printable ASCII except ":"
_LINE = 78  # RFC 5322 2.1.1: lines SHOULD stay within 78 characters ...
_MAX_LINE = 998  # ... and MUST within 998 (bodies longer than that go quoted-printable)
_MAX_NAME = 76  # a field name that leaves room for a value on its first line
_MAX_WORD = _MAX_LINE - _MAX_NAME - 2  # a word (with its spaces) that fits after "Name:" or a fold
_WORD_AND_SPACES = re.compile(" *[^ ]* *")


def _control_name(ch: str) -> str:
    code = ord(ch)
    label = _C0_NAMES[code] if code < 32 else "DEL" if code == 0x7F else None
    return f"{label} (U+{code:04X})" if label else f"U+{code:04X}"


def check_header(value: str, field: str) -> str:
    """A header value must be one line of printable text: no CR/LF (more headers) nor control characters."""
    if not isinstance(value, str):
        raise HeaderError(f"{field} must be a string, not {type(value).__name__}", field)
    if "\r" in value or "\n" in value:
        raise HeaderError(f"{field} contains a line break (CR or LF); header values must be one line", field)
    if found := _CONTROL.search(value):
        raise HeaderError(f"{field} contains the control character {_control_name(found.group())} at position "
                          f"{found.start() + 1}; header values must be printable text", field)
    return value


def check_address(value: str, field: str) -> str:
    """``value`` as a plain address (local@domain) with an IDNA (punycode) domain, ready for a header and
    for MAIL FROM / RCPT TO; AddressError naming ``field`` otherwise."""
    check_header(value, field)
    value = value.strip()
    local, _, domain = value.rpartition("@")
    if not local.isascii():
        raise AddressError(f"{field}: {value!r} has a non-ASCII part before the @, which needs SMTPUTF8; "
                           "mailtpl sends ASCII addresses only", field)
    try:
        address = Address(addr_spec=value)
    except (ValueError, HeaderParseError, IndexError):
        address = None
    if address is None or not address.username or "." not in address.domain and address.domain != "localhost" \
            or any(ch.isspace() for ch in value) or value.count("@") != 1:
        raise AddressError(f"{field}: {value!r} is not an email address (expected name@domain)", field)
    if not domain.startswith("["):  # a domain name (not an address literal): labels DNS can carry
        try:
            encoded = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            kind = "domain name" if domain.isascii() else "internationalised domain name"
            raise AddressError(f"{field}: the domain of {value!r} is not a valid {kind} ({exc})", field) from None
        domain = domain if domain.isascii() else encoded
    if len(local) > 64 or len(domain) > 253:
        raise AddressError(f"{field}: {value!r} is too long (RFC 5321: 64 characters before the @, 253 after)",
                           field)
    return f"{local}@{domain}"


# a quoted or plain display name, then <address>; no two parts can take the same characters (no backtracking)
_MAILBOX = re.compile(r'(?:"((?:[^"\\]|\\.)*)"\s*|([^"<>]*))<([^<>]*)>')


def check_mailbox(value: str | Address, field: str) -> tuple[str, str]:
    """``(display name, address)`` of ``ada@x.io``, ``Ada Lovelace <ada@x.io>``, ``"Lovelace, Ada" <ada@x.io>``
    or an ``email.headerregistry.Address``; the address as :func:`check_address` returns it."""
    if isinstance(value, Address):
        return check_header(value.display_name, field), check_address(value.addr_spec, field)
    check_header(value, field)
    match = _MAILBOX.fullmatch(value.strip())
    if match is None:
        return "", check_address(value, field)
    quoted, plain, address = match.groups()
    name = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else plain.strip()
    return name, check_address(address, field)


def _mailboxes(value: str | Address | Iterable[str | Address], field: str) -> list[tuple[str, str]]:
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, (str, Address, Iterable)):
        raise HeaderError(f"{field} must be an address or a list of addresses, not {type(value).__name__}", field)
    items = [value] if isinstance(value, (str, Address)) else list(value)
    if not items:
        raise AddressError(f"{field}: no address given", field)
    return [check_mailbox(item, field) for item in items]


def _encoded_words(text: str) -> list[str]:
    """``text`` as RFC 2047 encoded words (base64 UTF-8), each within 75 characters, no character split."""
    words, chunk = [], b""
    for ch in text:
        data = ch.encode("utf-8")
        if len(chunk) + len(data) > 45:  # 45 bytes -> 60 base64 characters + 12 of =?utf-8?b?...?=
            words.append(chunk)
            chunk = b""
        chunk += data
    words.append(chunk)
    return [f"=?utf-8?b?{base64.b64encode(word).decode('ascii')}?=" for word in words]


def _fits_as_is(text: str) -> bool:
    """``text`` can go out as it is: ASCII, not looking like an encoded word (``=?``), and every word with
    the spaces around it short enough for one line (:func:`_fold` keeps a run of spaces with its word)."""
    return text.isascii() and "=?" not in text and max(map(len, _WORD_AND_SPACES.findall(text))) <= _MAX_WORD


def _text_words(text: str) -> list[str]:
    """An unstructured value (a subject, an extra header) as words to fold: as it is when it fits, else
    encoded words."""
    return text.split(" ") if _fits_as_is(text) else _encoded_words(text)


def _phrase_words(name: str) -> list[str]:
    """A display name: a quoted string when it fits as it is, else encoded words."""
    quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return quoted.split(" ") if _fits_as_is(quoted) else _encoded_words(name)


def _address_words(mailboxes: list[tuple[str, str]]) -> list[str]:
    """``"Name" <address>, address, ...`` as words to fold (between words, never inside an address)."""
    words: list[str] = []
    for i, (name, address) in enumerate(mailboxes):
        if i:
            words[-1] += ","
        words += [*_phrase_words(name), f"<{address}>"] if name else [address]
    return words


def _fold(name: str, words: list[str]) -> str:
    """``Name: w1 w2 ...``, a CRLF before any word that would take its line past 78 characters; never before
    an empty word (a run of spaces stays with the word before it: a line of only spaces reads as a blank
    line, the end of the header, to software that trims lines)."""
    lines, line = [], f"{name}:"
    for word in words:
        if word and len(line) + 1 + len(word) > _LINE and line.rstrip() != f"{name}:":
            lines.append(line)
            line = ""
        line += " " + word
    lines.append(line)
    return "\r\n".join(lines)


DEFAULT_SENDER_NAME = "User feedback"  # the From display name when mailtpl.json sets no sender_name
SMTP_WIRE = email.policy.SMTP  # how a message someone else built goes on the wire (CRLF)
_WRITTEN_BY_MAILTPL = {"from": "sender_name / SMTP_SENDER", "to": "to=", "reply-to": "reply_to=",
                       "subject": "the subject in mailtpl.json", "date": None, "message-id": None,
                       "mime-version": None, "content-type": None, "content-transfer-encoding": None}
_RECIPIENT_FIELDS = {"cc", "bcc", "resent-to", "resent-cc", "resent-bcc"}  # recipients the envelope misses
_TRACE_FIELDS = {"return-path", "received"}  # RFC 5321 4.4: added by the servers on the way
_ONCE = {"sender", "in-reply-to", "references"}  # RFC 5322 3.6: at most one of each


@dataclass(frozen=True, slots=True)
class Composed:
    """A message as it goes on the wire, with its envelope recipients."""

    wire: bytes
    message_id: str
    recipients: list[str]


def check_header_names(headers: Mapping[str, str]) -> None:
    """Extra header names: RFC 5322 field names, none that mailtpl writes itself, singletons once."""
    if not isinstance(headers, Mapping):
        raise HeaderError(f"headers must be a mapping of name to value (like {{'X-Campaign': 'spring'}}), not "
                          f"{type(headers).__name__}", "headers")
    seen: dict[str, str] = {}
    for name in headers:
        if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
            raise HeaderError(f"header name {name!r} is not an RFC 5322 field name (printable ASCII without "
                              "spaces or ':', like X-Campaign)", "header name")
        if len(name) > _MAX_NAME:
            raise HeaderError(f"header name {name[:20]!r}... is longer than {_MAX_NAME} characters", "header name")
        key = name.lower()
        if key in _WRITTEN_BY_MAILTPL or key.startswith("content-"):  # MIME fields describe mailtpl's body
            how = _WRITTEN_BY_MAILTPL.get(key)
            raise HeaderError(f"header {name!r} is written by mailtpl" + (f"; set it with {how}" if how else ""),
                              name)
        if key in _TRACE_FIELDS:
            raise HeaderError(f"header {name!r} is written by the receiving server (a trace field, RFC 5321 4.4)",
                              name)
        if key in _RECIPIENT_FIELDS:
            raise HeaderError(f"header {name!r}: recipients go in to=; a {name} header would not reach the "
                              "SMTP envelope", name)
        if key in _ONCE and key in seen:
            raise HeaderError(f"header {name!r} is given twice ({seen[key]!r} and {name!r}); RFC 5322 allows "
                              "it once", name)
        seen[key] = name


def _body(content: str) -> tuple[str, bytes]:
    """(Content-Transfer-Encoding, CRLF body): 7bit when it can be, else quoted-printable."""
    lines = content.replace("\r\n", "\n").replace("\r", "\n")
    if lines.isascii() and all(len(line) <= _MAX_LINE for line in lines.split("\n")):
        return "7bit", lines.replace("\n", "\r\n").encode("ascii")
    encoded = binascii.b2a_qp(lines.encode("utf-8"), istext=True)
    return "quoted-printable", encoded.replace(b"\n", b"\r\n")


def compose(rendered: RenderedEmail, *, to: str | Address | Iterable[str | Address], sender: str,
            sender_name: str = DEFAULT_SENDER_NAME, reply_to: str | Address | Iterable[str | Address] | None = None,
            headers: Mapping[str, str] | None = None, date: datetime | None = None,
            message_id: str | None = None) -> Composed:
    """multipart/alternative (text first: clients show the last part they can), UTF-8, checked headers.

    ``to`` and ``reply_to`` take addresses with or without a display name (:func:`check_mailbox`);
    ``Composed.recipients`` are the bare addresses, IDNA-encoded, for RCPT TO."""
    for part in ("subject", "html", "text"):
        if not isinstance(getattr(rendered, part), str):
            raise TypeError(f"RenderedEmail.{part} must be a str, got {type(getattr(rendered, part)).__name__}")
    sender = check_address(sender, "sender (SMTP_SENDER)")
    recipients = _mailboxes(to, "to")
    message_id = check_header(message_id, "Message-ID") if message_id else email.utils.make_msgid(
        domain=sender.rsplit("@", 1)[1])
    fields = [("From", _address_words([(check_header(sender_name, "sender name"), sender)])),
              ("To", _address_words(recipients))]
    if reply_to:
        fields.append(("Reply-To", _address_words(_mailboxes(reply_to, "reply_to"))))
    subject = check_header(rendered.subject, f"subject of {rendered.name!r}")
    fields += [("Subject", _text_words(subject)),
               ("Date", email.utils.format_datetime(date or datetime.now(UTC)).split(" ")),
               ("Message-ID", [message_id])]
    extra = headers or {}
    check_header_names(extra)
    fields += [(name, _text_words(check_header(value, f"header {name}"))) for name, value in extra.items()]
    boundary = "=_mailtpl_" + secrets.token_hex(12)
    head = [_fold(name, words) for name, words in fields]
    head += ["MIME-Version: 1.0", _fold("Content-Type", ["multipart/alternative;", f'boundary="{boundary}"'])]
    out = ["\r\n".join(head).encode("ascii"), b"\r\n\r\n"]
    for subtype, content in (("plain", rendered.text), ("html", rendered.html)):
        encoding, body = _body(content)
        out += [f"--{boundary}\r\nContent-Type: text/{subtype}; charset=\"utf-8\"\r\n"
                f"Content-Transfer-Encoding: {encoding}\r\n\r\n".encode("ascii"), body, b"\r\n"]
    out.append(f"--{boundary}--\r\n".encode("ascii"))
    return Composed(b"".join(out), message_id, [address for _, address in recipients])


def build_message(rendered: RenderedEmail, **options) -> EmailMessage:
    """The composed message as an ``EmailMessage`` (the stdlib's reading of exactly those bytes)."""
    return email.message_from_bytes(compose(rendered, **options).wire, policy=email.policy.default)
