"""A caught message: the bytes as received plus the envelope, read lazily and never trusted.

Everything here must survive hostile input (broken MIME, unknown charsets,
malformed headers): a part that cannot be decoded is decoded with
replacement characters, never raised to the caller.
"""
from __future__ import annotations

import email
import email.errors
import email.policy
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from functools import cached_property
from html.parser import HTMLParser

_URL = re.compile(r"""https?://[^\s<>"')\]]+""")
MAX_NESTING = 100  # MIME levels read; deeper mail (real mail nests a few) is read as its headers only
MAX_BOUNDARIES = 10_000  # lines starting "--" (part boundaries, at most): more parts are read as headers only
MAX_HEADER_BYTES = 256 * 1024  # of header fields read (Postfix takes 100 KB); the fields past it are left out
MAX_ENCODED_WORDS = 1000  # in one field; more are shown as written: the stdlib's decoder is quadratic in them


def _decode_header(value: str) -> str:
    """RFC 2047 encoded words decoded, folding undone; the text as written otherwise (quotes kept)."""
    unfolded = re.sub(r"\r?\n[ \t]", " ", str(value))
    if "=?" not in unfolded or unfolded.count("=?") > MAX_ENCODED_WORDS:
        return unfolded
    try:
        return str(make_header(decode_header(unfolded)))
    except (LookupError, UnicodeDecodeError, ValueError, email.errors.MessageError):
        return unfolded


def _utf8(value: str) -> str:
    """A header value as the stdlib kept it from the bytes (8-bit bytes as surrogates), read as UTF-8 (SMTPUTF8)."""
    return value.encode("ascii", "surrogateescape").decode("utf-8", "replace")


class Headers:
    """The header fields in order, decoded; ``headers["From"]`` is the first field of that name."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items

    def __getitem__(self, name: str) -> str:
        for key, value in self._items:
            if key.lower() == name.lower():
                return value
        raise KeyError(name)

    def get(self, name: str, default: str | None = None) -> str | None:
        try:
            return self[name]
        except KeyError:
            return default

    def get_all(self, name: str) -> list[str]:
        return [value for key, value in self._items if key.lower() == name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(key.lower() == name.lower() for key, _ in self._items)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href and href.strip():
                self.hrefs.append(href.strip())


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _parameter(read: Callable[[], str | None]) -> str | None:
    """A MIME parameter as the stdlib reads it (charset, filename), or None when hostile RFC 2231 syntax
    (continuations without a number, NUL bytes) makes the stdlib raise."""
    try:
        return read()
    except (TypeError, ValueError, LookupError):
        return None


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = _parameter(part.get_content_charset) or "utf-8"
    try:
        return payload.decode(charset)
    except (LookupError, ValueError):  # an unknown charset, a wrong one, a name with a NUL in it
        return payload.decode("utf-8", "replace")


def _headers_only(raw: bytes) -> Message:
    """The header fields read, the rest kept as one undecoded body."""
    return BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)


def _nesting(message: Message) -> int:
    """How deep the MIME tree goes, counted without recursion (up to just past ``MAX_NESTING``)."""
    deepest, todo = 0, [(message, 1)]
    while todo and deepest <= MAX_NESTING:
        part, depth = todo.pop()
        deepest = max(deepest, depth)
        if part.is_multipart():
            todo.extend((child, depth + 1) for child in part.get_payload())
    return deepest


def _body(message: Message, subtype: str) -> str | None:
    """The first ``text/<subtype>`` part that is not an attachment, decoded."""
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() != "text" or part.get_content_subtype() != subtype:
            continue
        if part.get_content_disposition() != "attachment":
            return _part_text(part)
    return None


def _parts(message: Message) -> list[Part]:
    found = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = _parameter(part.get_filename)
        found.append(Part(part.get_content_type(), _parameter(part.get_content_charset),
                          part.get_content_disposition(), None if filename is None else _decode_header(filename),
                          len(part.get_payload(decode=True) or b"")))
    return found


@dataclass(frozen=True)
class Part:
    """A leaf of the MIME tree: what it is and how big it is once decoded."""

    content_type: str
    charset: str | None
    disposition: str | None
    filename: str | None
    size: int


@dataclass
class CapturedMessage:
    """One message as the capture server received it. ``raw`` is kept byte for byte."""

    id: str
    raw: bytes
    mail_from: str
    rcpt_tos: list[str]
    received: datetime
    peer: str = ""
    login: str | None = None  # the AUTH user name, when the client logged in (passwords are not kept)
    tls: bool = False

    # -- reading ----------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return len(self.raw)

    def parse(self) -> Message:
        """The stdlib's reading of the bytes (compat32: header values exactly as written), made at each call:
        the tree holds every part decoded, as large as the mail again, so the inbox keeps what it shows
        (headers, text, HTML, the list of parts) instead. Mail nested past ``MAX_NESTING`` levels is read as
        its headers only: the stdlib's reader and ``walk`` recurse once per level. So is mail with more than
        ``MAX_BOUNDARIES`` lines that could start a part: each part costs the reader about 60 us and 800 bytes, and
        32 MB of empty parts would be three million of them. Header fields past ``MAX_HEADER_BYTES`` are left
        out, as in the listing (32 MB of them took half a minute to read)."""
        head, body_start = self._head()
        raw = self.raw if body_start == len(head) else head + b"\r\n" + self.raw[body_start:]
        if raw.count(b"\n--") <= MAX_BOUNDARIES:
            try:
                parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
                if _nesting(parsed) <= MAX_NESTING:
                    return parsed
            except RecursionError:
                pass
        return _headers_only(raw)

    def _head(self) -> tuple[bytes, int]:
        """The header fields up to the first blank line (at most ``MAX_HEADER_BYTES``, cut at the end of a line),
        and where the body starts."""
        ends = [found + len(blank) for blank in (b"\n\n", b"\n\r\n") if (found := self.raw.find(blank)) >= 0]
        body_start = min(ends, default=len(self.raw))
        if body_start <= MAX_HEADER_BYTES:
            return self.raw[:body_start], body_start
        return self.raw[:self.raw.rfind(b"\n", 0, MAX_HEADER_BYTES) + 1 or MAX_HEADER_BYTES], body_start

    @cached_property
    def headers(self) -> Headers:
        """Read from the header block alone (its first ``MAX_HEADER_BYTES``, to the end of a line): listing the
        inbox does not parse the bodies, and hostile headers of megabytes cost no more than real ones."""
        fields = _headers_only(self._head()[0]).raw_items()
        return Headers([(name, _decode_header(_utf8(value))) for name, value in fields])

    @property
    def subject(self) -> str:
        return self.headers.get("Subject", "") or ""

    @property
    def sender(self) -> str:
        """The From header as written (``"User feedback" <no-reply@...>``)."""
        return self.headers.get("From", "") or ""

    @cached_property
    def to(self) -> list[str]:
        """The addresses of the To and Cc headers (read once: every listing of the inbox shows them)."""
        fields = self.headers.get_all("To") + self.headers.get_all("Cc")
        try:
            return [address for _, address in getaddresses(fields) if address]
        except RecursionError:  # comments nested thousands deep, "((((...": the stdlib's reader recurses per level
            return []

    @cached_property
    def _contents(self) -> tuple[str | None, str | None, list[Part]]:
        """The text part, the HTML part and the list of parts, from one reading of the bytes."""
        tree = self.parse()
        return _body(tree, "plain"), _body(tree, "html"), _parts(tree)

    @property
    def text(self) -> str | None:
        return self._contents[0]

    @property
    def html(self) -> str | None:
        return self._contents[1]

    @property
    def parts(self) -> list[Part]:
        return self._contents[2]

    def links(self) -> list[str]:
        """Links of the HTML part (``<a href>``, entities decoded), else the URLs of the text part."""
        if self.html:
            parser = _Links()
            parser.feed(self.html)
            parser.close()
            if parser.hrefs:
                return _unique(parser.hrefs)
        return _unique(_URL.findall(self.text or ""))

    def find(self, pattern: str | re.Pattern) -> str | None:
        """The first match of ``pattern`` in the text part, else in the HTML: its group 1 if it has one."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        for body in (self.text, self.html):
            match = regex.search(body or "")
            if match:
                return match.group(1) if regex.groups else match.group(0)
        return None

    def matches(self, query: str) -> bool:
        """Case-insensitive search over from, recipients, subject and text (the inbox's search box)."""
        needle = query.casefold()
        haystack = " ".join([self.sender, self.mail_from, *self.rcpt_tos, self.subject, self.text or ""])
        return needle in haystack.casefold()

    # -- JSON ------------------------------------------------------------------------------------
    def summary(self) -> dict:
        return {"id": self.id, "from": self.sender, "mail_from": self.mail_from, "to": self.to or self.rcpt_tos,
                "rcpt_tos": self.rcpt_tos, "subject": self.subject, "received": self.received.isoformat(),
                "size": self.size, "login": self.login, "tls": self.tls}

    def details(self) -> dict:
        return {**self.summary(), "headers": [[name, value] for name, value in self.headers],
                "text": self.text, "html": self.html, "links": self.links(),
                "parts": [asdict(part) for part in self.parts], "peer": self.peer}
