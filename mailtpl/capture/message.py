"""A caught message: the bytes as received plus the envelope, read lazily and never trusted.

Everything here must survive hostile input (broken MIME, unknown charsets,
malformed headers): a part that cannot be decoded is decoded with
replacement characters, never raised to the caller.
"""
from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses
from functools import cached_property
from html.parser import HTMLParser

_URL = re.compile(r"""https?://[^\s<>"')\]]+""")


def _decode_header(value: str) -> str:
    """RFC 2047 encoded words decoded, folding undone; the text as written otherwise (quotes kept)."""
    unfolded = re.sub(r"\r?\n[ \t]", " ", str(value))
    if "=?" not in unfolded:
        return unfolded
    try:
        return str(make_header(decode_header(unfolded)))
    except (LookupError, UnicodeDecodeError, ValueError, email.errors.HeaderParseError):
        return unfolded


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


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset)
    except (LookupError, UnicodeDecodeError):
        return payload.decode("utf-8", "replace")


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

    @cached_property
    def message(self) -> Message:
        """The stdlib's reading of the bytes (compat32: header values exactly as written)."""
        return email.message_from_bytes(self.raw, policy=email.policy.compat32)

    @cached_property
    def headers(self) -> Headers:
        return Headers([(name, _decode_header(value)) for name, value in self.message.items()])

    @property
    def subject(self) -> str:
        return self.headers.get("Subject", "") or ""

    @property
    def sender(self) -> str:
        """The From header as written (``"User feedback" <no-reply@...>``)."""
        return self.headers.get("From", "") or ""

    @property
    def to(self) -> list[str]:
        """The addresses of the To and Cc headers."""
        fields = self.headers.get_all("To") + self.headers.get_all("Cc")
        return [address for _, address in getaddresses(fields) if address]

    def _first(self, subtype: str) -> Message | None:
        for part in self.message.walk():
            if part.is_multipart() or part.get_content_maintype() != "text" or part.get_content_subtype() != subtype:
                continue
            if part.get_content_disposition() == "attachment":
                continue
            return part
        return None

    @cached_property
    def text(self) -> str | None:
        part = self._first("plain")
        return None if part is None else _part_text(part)

    @cached_property
    def html(self) -> str | None:
        part = self._first("html")
        return None if part is None else _part_text(part)

    @cached_property
    def parts(self) -> list[Part]:
        found = []
        for part in self.message.walk():
            if part.is_multipart():
                continue
            filename = part.get_filename()
            found.append(Part(part.get_content_type(), part.get_content_charset(), part.get_content_disposition(),
                              None if filename is None else _decode_header(filename),
                              len(part.get_payload(decode=True) or b"")))
        return found

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
