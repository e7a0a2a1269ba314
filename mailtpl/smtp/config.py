"""``SmtpConfig.from_env``: the SMTP_* settings, validated all at once."""
from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from ..message import check_address

SETTINGS = {
    "SMTP_HOST": "server name (smtp.gmail.com, smtp.sendgrid.net, a company relay)",
    "SMTP_PORT": "port: 587 (STARTTLS), 465 (TLS), 25 (relay)",
    "SMTP_SENDER": "From address",
    "SMTP_USERNAME": "user name (with SMTP_PASSWORD; SendGrid: apikey)",
    "SMTP_PASSWORD": "password or API key (with SMTP_USERNAME)",
    "SMTP_TLS": "true: TLS from connect (usually 465); false: plain, then STARTTLS (usually 587)",
    "SMTP_CIPHER_SPEC": "OpenSSL cipher string (default TLSv1.2 when SMTP_TLS=true)",
    "SMTP_OPPORTUNISTIC_TLS": "true: carry on unencrypted if STARTTLS fails",
    "SMTP_CA_FILE": "PEM file of a CA to trust (a private relay's certificate)",
    "SMTP_TIMEOUT": "seconds to wait for the server (default 30)",
}


class ConfigError(ValueError):
    """Every problem with the SMTP_* settings, one per line, each naming its variable."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {name}: {problem}" for name, problem in problems.items())
        super().__init__(f"SMTP settings are not usable:\n{lines}")


def _bool(value: str | None, name: str, problems: dict) -> bool:
    if value is None or value == "":
        return False
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    problems[name] = f"must be true or false, not {value!r}"
    return False


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    cipher_spec: str | None = None
    opportunistic_tls: bool = False
    ca_file: str | None = None
    timeout: float = 30.0

    def __repr__(self) -> str:
        password = "'***'" if self.password else "None"
        return (f"SmtpConfig(host={self.host!r}, port={self.port}, sender={self.sender!r}, "
                f"username={self.username!r}, password={password}, tls={self.tls}, "
                f"cipher_spec={self.cipher_spec!r}, opportunistic_tls={self.opportunistic_tls}, "
                f"ca_file={self.ca_file!r}, timeout={self.timeout})")

    __str__ = __repr__

    @property
    def auth(self) -> bool:
        """Log in only when both user name and password are set (as the original does)."""
        return bool(self.username and self.password)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 dotenv: str | os.PathLike | None = ".env") -> SmtpConfig:
        """Read SMTP_* from ``environ`` (default: the process environment) over a ``.env`` file."""
        values: dict[str, str | None] = {}
        if dotenv is not None and Path(dotenv).is_file():
            values.update({k: v for k, v in dotenv_values(dotenv).items() if k in SETTINGS})
        env = os.environ if environ is None else environ
        values.update({k: env[k] for k in SETTINGS if k in env})
        get = lambda key: (values.get(key) or "").strip() or None  # noqa: E731
        problems: dict[str, str] = {}

        host = get("SMTP_HOST")
        if host is None:
            problems["SMTP_HOST"] = "required: " + SETTINGS["SMTP_HOST"]
        elif any(ch.isspace() for ch in host) or "/" in host:
            problems["SMTP_HOST"] = f"{host!r} is not a host name"
        port = 0
        raw_port = get("SMTP_PORT")
        if raw_port is None:
            problems["SMTP_PORT"] = "required: " + SETTINGS["SMTP_PORT"]
        elif not raw_port.isdigit() or not 1 <= int(raw_port) <= 65535:
            problems["SMTP_PORT"] = f"must be a number from 1 to 65535, not {raw_port!r}"
        else:
            port = int(raw_port)
        sender = get("SMTP_SENDER")
        if sender is None:
            problems["SMTP_SENDER"] = "required: " + SETTINGS["SMTP_SENDER"]
        else:
            try:
                sender = check_address(sender, "SMTP_SENDER")  # IDNA domain: MAIL FROM is ASCII
            except ValueError:
                problems["SMTP_SENDER"] = f"{sender!r} is not an email address"
        tls = _bool(get("SMTP_TLS"), "SMTP_TLS", problems)
        opportunistic = _bool(get("SMTP_OPPORTUNISTIC_TLS"), "SMTP_OPPORTUNISTIC_TLS", problems)
        cipher_spec = get("SMTP_CIPHER_SPEC") or ("TLSv1.2" if tls else None)
        if cipher_spec:
            try:
                ssl.create_default_context().set_ciphers(cipher_spec)
            except ssl.SSLError:
                problems["SMTP_CIPHER_SPEC"] = f"{cipher_spec!r} selects no cipher OpenSSL knows"
        ca_file = get("SMTP_CA_FILE")
        if ca_file and not Path(ca_file).is_file():
            problems["SMTP_CA_FILE"] = f"no such file: {ca_file}"
        timeout = 30.0
        raw_timeout = get("SMTP_TIMEOUT")
        if raw_timeout is not None:
            try:
                timeout = float(raw_timeout)
                if timeout <= 0:
                    raise ValueError
            except ValueError:
                problems["SMTP_TIMEOUT"] = f"must be a positive number of seconds, not {raw_timeout!r}"
        if problems:
            raise ConfigError(problems)
        return cls(host=host, port=port, sender=sender, username=get("SMTP_USERNAME"),
                   password=values.get("SMTP_PASSWORD") or None, tls=tls, cipher_spec=cipher_spec,
                   opportunistic_tls=opportunistic, ca_file=ca_file, timeout=timeout)
