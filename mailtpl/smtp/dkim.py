"""DKIM signing of the composed bytes (dkimpy), and the sender domain's SPF, DKIM and DMARC records for doctor.

dkimpy is the optional extra ``mailtpl[dkim]`` (it brings dnspython). Keys are
RSA in PEM, the form providers and ``openssl genrsa`` give; the signature uses
relaxed/relaxed canonicalization, which survives the header refolding relays do.
"""
from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import SmtpConfig

# The headers a DKIM signature covers: what a reader sees and what tells messages apart.
SIGNED_HEADERS = [b"From", b"To", b"Cc", b"Reply-To", b"Subject", b"Date", b"Message-ID", b"MIME-Version",
                  b"Content-Type"]

INSTALL = "DKIM signing needs dkimpy: pip install 'mailtpl[dkim]'"


def _dkim():
    try:
        import dkim
    except ImportError:
        raise ImportError(INSTALL) from None
    return dkim


def _private_key(pem: bytes) -> dict:
    """dkimpy's reading of an RSA private key; ValueError when it is not one."""
    dkim = _dkim()
    try:
        return dkim.crypto.parse_pem_private_key(pem)
    except dkim.crypto.UnparsableKeyError as exc:
        raise ValueError(f"not an RSA private key in PEM ({exc})") from None


MAX_KEY_FILE = 64 * 1024  # bytes; an RSA-4096 key in PEM is about 3.3 KB


def read_key_file(path: str | Path) -> bytes:
    """DKIM_PRIVATE_KEY_FILE's bytes, read no further than MAX_KEY_FILE (it could be /dev/zero or a log)."""
    with open(path, "rb") as file:
        pem = file.read(MAX_KEY_FILE + 1)
    if len(pem) > MAX_KEY_FILE:
        raise ValueError(f"more than {MAX_KEY_FILE} bytes: not a private key")
    return pem


def check_dkim_settings(DKIM_DOMAIN: str | None, DKIM_SELECTOR: str | None,  # noqa: N803 - the settings' names
                        DKIM_PRIVATE_KEY_FILE: str | None) -> dict[str, str]:
    """Problems with the DKIM_* settings, by name: all three or none, and a key file that holds a key."""
    settings = {"DKIM_DOMAIN": DKIM_DOMAIN, "DKIM_SELECTOR": DKIM_SELECTOR,
                "DKIM_PRIVATE_KEY_FILE": DKIM_PRIVATE_KEY_FILE}
    if not any(settings.values()):
        return {}
    problems = {name: "required with the other DKIM_* settings" for name, value in settings.items() if not value}
    for name in ("DKIM_DOMAIN", "DKIM_SELECTOR"):
        value = settings[name]
        if value and not all(part and all(c.isalnum() or c == "-" for c in part) for part in value.split(".")):
            problems[name] = f"{value!r} is not a DNS name"
    if DKIM_PRIVATE_KEY_FILE:
        path = Path(DKIM_PRIVATE_KEY_FILE)
        try:
            _private_key(read_key_file(path))
        except OSError as exc:
            problems["DKIM_PRIVATE_KEY_FILE"] = f"cannot read {path}: {exc.strerror or exc}"
        except (ValueError, ImportError) as exc:
            problems["DKIM_PRIVATE_KEY_FILE"] = f"{path}: {exc}"
    return problems


@dataclass(frozen=True)
class DkimSigner:
    domain: str
    selector: str
    key: bytes  # PEM

    @classmethod
    def from_config(cls, config: SmtpConfig) -> DkimSigner | None:
        if not config.dkim_domain:
            return None
        return cls(config.dkim_domain, config.dkim_selector, read_key_file(config.dkim_private_key_file))

    def sign(self, message: bytes) -> bytes:
        """``message`` with a DKIM-Signature header in front."""
        signature = _dkim().sign(message, self.selector.encode(), self.domain.encode(), self.key,
                                 canonicalize=(b"relaxed", b"relaxed"), include_headers=SIGNED_HEADERS,
                                 linesep=b"\r\n")
        return signature + message


# -- the sender domain's records, for `mailtpl doctor` ------------------------------------------------
Resolver = Callable[[str], list[str]]  # the TXT strings of a name ([] when none); LookupError when DNS fails
DNS_EXTRA = "pip install 'mailtpl[dkim]'"


class DnsUnavailable(LookupError):
    """dnspython is not installed: nothing was looked up, so the resolver is not the thing to check."""


def dns_txt(name: str) -> list[str]:
    """TXT records through dnspython (the system's resolver settings), 5 s at most."""
    try:
        import dns.exception
        import dns.resolver
    except ImportError:
        raise DnsUnavailable(f"looking up DNS records needs dnspython: {DNS_EXTRA}") from None
    try:
        answer = dns.resolver.resolve(name, "TXT", lifetime=5)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.DNSException as exc:
        raise LookupError(str(exc)) from None
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


Check = tuple[str, bool, str, str]  # step name, ok, detail, fix


def _tags(record: str) -> dict[str, str]:
    tags = {}
    for part in record.split(";"):
        key, _, value = part.partition("=")
        if key.strip():
            tags[key.strip()] = "".join(value.split())
    return tags


def _aligned(dkim_domain: str, sender_domain: str) -> bool:
    """DMARC's relaxed alignment, approximated: one domain is the other or a subdomain of it."""
    a, b = dkim_domain.lower().rstrip("."), sender_domain.lower().rstrip(".")
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def domain_records(config: SmtpConfig, resolve: Resolver = dns_txt) -> list[Check]:
    """SPF and DMARC of the sender's domain, and the DKIM key published for DKIM_SELECTOR against ours."""
    domain = config.sender.rsplit("@", 1)[1]
    checks: list[Check] = []

    def lookup(name: str, prefix: str, step: str) -> list[str] | Check:
        """The records of ``name`` starting with ``prefix``, or the failed ``step`` when DNS fails."""
        try:
            return [r for r in resolve(name) if r.lower().startswith(prefix)]
        except LookupError as exc:
            fix = DNS_EXTRA if isinstance(exc, DnsUnavailable) else "check this machine's DNS resolver"
            return (step, False, f"cannot look up {name}: {exc}", fix)

    spf = lookup(domain, "v=spf1", "SPF")
    if isinstance(spf, tuple):
        checks.append(spf)
    else:
        checks.append(("SPF", bool(spf), f"{domain}: {spf[0]}" if spf else f"no SPF record at {domain}",
                       "" if spf else f"publish a TXT record at {domain} naming your SMTP provider, "
                                      "e.g. v=spf1 include:<provider> ~all"))
    if config.dkim_domain:
        checks.append(_dkim_check(config, lookup))
    else:
        checks.append(("DKIM", True, "mailtpl does not sign (DKIM_* unset): the SMTP provider must", ""))
    dmarc = lookup(f"_dmarc.{domain}", "v=dmarc1", "DMARC")
    if isinstance(dmarc, tuple):
        checks.append(dmarc)
    else:
        checks.append(("DMARC", bool(dmarc), f"_dmarc.{domain}: {dmarc[0]}" if dmarc else "no DMARC record",
                       "" if dmarc else f"publish a TXT record at _dmarc.{domain}, e.g. v=DMARC1; p=none"))
    return checks


def _dkim_check(config: SmtpConfig, lookup: Callable[[str, str, str], list[str] | Check]) -> Check:
    name = f"{config.dkim_selector}._domainkey.{config.dkim_domain}"
    sender_domain = config.sender.rsplit("@", 1)[1]
    if not _aligned(config.dkim_domain, sender_domain):
        return ("DKIM", False, f"DKIM_DOMAIN {config.dkim_domain} is not the sender's domain {sender_domain}",
                "DMARC needs d= aligned with From: set DKIM_DOMAIN to the SMTP_SENDER domain")
    records = lookup(name, "v=dkim1", "DKIM")
    if isinstance(records, tuple):
        return records
    if not records:
        return ("DKIM", False, f"no DKIM key published at {name}",
                f"publish a TXT record at {name}: v=DKIM1; k=rsa; p=<base64 public key>")
    published = _tags(records[0]).get("p", "")
    ours = _private_key(read_key_file(config.dkim_private_key_file))
    try:
        theirs = _dkim().crypto.parse_public_key(base64.b64decode(published))
    except Exception:  # noqa: BLE001 - any malformed record is the same finding
        theirs = None
    if not published or theirs is None:
        return ("DKIM", False, f"{name} holds no usable public key (p={published[:20]}...)",
                "publish the public key of DKIM_PRIVATE_KEY_FILE as p=, in base64")
    if (theirs["modulus"], theirs["publicExponent"]) != (ours["modulus"], ours["publicExponent"]):
        return ("DKIM", False, f"the key at {name} is not the public half of DKIM_PRIVATE_KEY_FILE",
                "publish the public key of DKIM_PRIVATE_KEY_FILE (openssl rsa -pubout), or fix DKIM_SELECTOR")
    return ("DKIM", True, f"{name} publishes the public half of DKIM_PRIVATE_KEY_FILE", "")
