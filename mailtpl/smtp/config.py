"""``SmtpConfig.from_env``: the SMTP_* settings, validated all at once."""
from __future__ import annotations

import math
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from ..envfile import read_dotenv
from ..errors import DataError
from ..message import check_address
from .dkim import check_dkim_settings

SETTINGS = {
    "SMTP_HOST": "server name (smtp.gmail.com, smtp.sendgrid.net, a company relay)",
    "SMTP_PORT": "port: 587 (STARTTLS), 465 (TLS), 25 (relay)",
    "SMTP_SENDER": "From address",
    "SMTP_USERNAME": "user name (with SMTP_PASSWORD; SendGrid: apikey)",
    "SMTP_PASSWORD": "password or API key (with SMTP_USERNAME)",
    "SMTP_TLS": "true: TLS from connect (usually 465); false: plain, then STARTTLS (usually 587)",
    "SMTP_CIPHER_SPEC": "OpenSSL cipher string (default TLSv1.2 when SMTP_TLS=true)",
    "SMTP_OPPORTUNISTIC_TLS": "true: carry on unencrypted if STARTTLS fails",
    "SMTP_REQUIRE_TLS": "true: never send unencrypted (no STARTTLS offered or STARTTLS failed: refuse)",
    "SMTP_CA_FILE": "PEM file of a CA to trust (a private relay's certificate)",
    "SMTP_TIMEOUT": "seconds each exchange with the server may take, greeting included (default 30)",
    "SMTP_RATE_LIMIT": "most messages per second (SES: 14); unset: no limit",
    "SMTP_DAILY_LIMIT": "most messages per UTC day (Gmail: 500, Workspace: 2000); unset: no limit",
    "DKIM_DOMAIN": "sign with DKIM for this domain (d=), with DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE",
    "DKIM_SELECTOR": "DKIM selector (s=): the key is published at SELECTOR._domainkey.DOMAIN",
    "DKIM_PRIVATE_KEY_FILE": "PEM file of the DKIM private key (RSA)",
}


MAX_TIMEOUT = 86400.0  # a day: beyond it a "timeout" is a hang (and socket timeouts overflow near 1e11 s)


class ConfigError(ValueError):
    """Every problem with the SMTP_* settings, one per line, each naming its variable."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__(problems)  # its arguments, so that type(err)(*err.args) rebuilds it

    def __str__(self) -> str:
        lines = "\n".join(f"  {name}: {problem}" for name, problem in self.problems.items())
        return f"SMTP settings are not usable:\n{lines}"


def _bool(value: str | None, name: str, problems: dict) -> bool:
    if value is None or value == "":
        return False
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    problems[name] = f"must be true or false, not {value!r}"
    return False


def _timeout_ok(seconds: float) -> bool:
    return isinstance(seconds, (int, float)) and math.isfinite(seconds) and 0 < seconds <= MAX_TIMEOUT


def _timeout_problem(value: object) -> str:
    return f"must be a number of seconds above 0 and at most {MAX_TIMEOUT:g}, not {value!r}"


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
    require_tls: bool = False
    rate_limit: float | None = None
    daily_limit: int | None = None
    dkim_domain: str | None = None
    dkim_selector: str | None = None
    dkim_private_key_file: str | None = None

    def __repr__(self) -> str:
        """Every field, the password as '***' when set."""
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        shown["password"] = "***" if self.password else None
        return "SmtpConfig(" + ", ".join(f"{name}={value!r}" for name, value in shown.items()) + ")"

    __str__ = __repr__

    def __post_init__(self) -> None:
        if not _timeout_ok(self.timeout):  # also when built in code, not from the environment
            raise ConfigError({"SMTP_TIMEOUT": _timeout_problem(self.timeout)})

    @property
    def auth(self) -> bool:
        """Log in only when both user name and password are set (as the original does)."""
        return bool(self.username and self.password)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 dotenv: str | os.PathLike | None = ".env") -> SmtpConfig:
        """Read SMTP_* from ``environ`` (default: the process environment) over a ``.env`` file."""
        values = _read(environ, dotenv)
        get = lambda key: _value(values, key)  # noqa: E731
        problems: dict[str, str] = {}

        host = get("SMTP_HOST")
        if host is None:
            problems["SMTP_HOST"] = "required: " + SETTINGS["SMTP_HOST"]
        elif any(ch.isspace() or not ch.isprintable() for ch in host) or "/" in host:
            problems["SMTP_HOST"] = f"{host!r} is not a host name"
        port = 0
        raw_port = get("SMTP_PORT")
        if raw_port is None:
            problems["SMTP_PORT"] = "required: " + SETTINGS["SMTP_PORT"]
        elif not (raw_port.isascii() and raw_port.isdigit()) or not 1 <= int(raw_port) <= 65535:
            problems["SMTP_PORT"] = f"must be a number from 1 to 65535, not {raw_port!r}"
        else:
            port = int(raw_port)
        sender = _sender(values, problems)
        tls = _bool(get("SMTP_TLS"), "SMTP_TLS", problems)
        opportunistic = _bool(get("SMTP_OPPORTUNISTIC_TLS"), "SMTP_OPPORTUNISTIC_TLS", problems)
        require_tls = _bool(get("SMTP_REQUIRE_TLS"), "SMTP_REQUIRE_TLS", problems)
        if require_tls and opportunistic:
            problems["SMTP_REQUIRE_TLS"] = ("true contradicts SMTP_OPPORTUNISTIC_TLS=true (carry on unencrypted): "
                                            "set one of them to false")
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
            except ValueError:
                timeout = math.nan
            if not _timeout_ok(timeout):
                problems["SMTP_TIMEOUT"] = _timeout_problem(raw_timeout)
        rate_limit = _number(get("SMTP_RATE_LIMIT"), "SMTP_RATE_LIMIT", float, problems)
        if rate_limit is not None and rate_limit < MIN_RATE_LIMIT:
            problems["SMTP_RATE_LIMIT"] = (f"must be at least {MIN_RATE_LIMIT:.7f} (one a day), not {rate_limit:g}: "
                                           f"for a cap per day use SMTP_DAILY_LIMIT")
            rate_limit = None
        daily_limit = _number(get("SMTP_DAILY_LIMIT"), "SMTP_DAILY_LIMIT", int, problems)
        dkim = {name: get(name) for name in ("DKIM_DOMAIN", "DKIM_SELECTOR", "DKIM_PRIVATE_KEY_FILE")}
        problems.update(check_dkim_settings(**dkim))
        if problems:
            raise ConfigError(problems)
        return cls(host=host, port=port, sender=sender, username=get("SMTP_USERNAME"),
                   password=values.get("SMTP_PASSWORD") or None, tls=tls, cipher_spec=cipher_spec,
                   opportunistic_tls=opportunistic, ca_file=ca_file, timeout=timeout, require_tls=require_tls,
                   rate_limit=rate_limit,
                   daily_limit=daily_limit, dkim_domain=dkim["DKIM_DOMAIN"], dkim_selector=dkim["DKIM_SELECTOR"],
                   dkim_private_key_file=dkim["DKIM_PRIVATE_KEY_FILE"])


def sender_from_env(environ: Mapping[str, str] | None = None, dotenv: str | os.PathLike | None = ".env") -> str | None:
    """SMTP_SENDER as :meth:`SmtpConfig.from_env` reads it, for what shows the From of mail without sending it
    (the preview): None when unset, ConfigError when it is not an address."""
    values, problems = _read(environ, dotenv), {}
    if _value(values, "SMTP_SENDER") is None:
        return None
    sender = _sender(values, problems)
    if problems:
        raise ConfigError(problems)
    return sender


def _read(environ: Mapping[str, str] | None, dotenv: str | os.PathLike | None) -> dict[str, str | None]:
    """The settings of ``environ`` (default: the process environment) over those of a ``.env`` file."""
    try:
        values = read_dotenv(dotenv, SETTINGS)
    except DataError as exc:
        raise ConfigError({exc.name: exc.message}) from None
    env = os.environ if environ is None else environ
    values.update({k: env[k] for k in SETTINGS if k in env})
    return values


def _value(values: Mapping[str, str | None], key: str) -> str | None:
    return (values.get(key) or "").strip() or None


def _sender(values: Mapping[str, str | None], problems: dict[str, str]) -> str | None:
    """SMTP_SENDER with an IDNA domain (MAIL FROM is ASCII); None, and a problem, when unset or not an address."""
    sender = _value(values, "SMTP_SENDER")
    if sender is None:
        problems["SMTP_SENDER"] = "required: " + SETTINGS["SMTP_SENDER"]
        return None
    try:
        return check_address(sender, "SMTP_SENDER")
    except ValueError:
        problems["SMTP_SENDER"] = f"{sender!r} is not an email address"
        return None


MIN_RATE_LIMIT = 1 / 86400  # messages per second; slower spacing is a daily cap (and overflows sleep())


def _number(value: str | None, name: str, kind: type, problems: dict) -> float | int | None:
    """An optional positive, finite number of ``kind`` (int or float)."""
    if value is None:
        return None
    try:
        number = kind(value)
        if not 0 < number < math.inf:
            raise ValueError
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        problems[name] = f"must be {what} greater than 0, not {value!r}"
        return None
    return number
