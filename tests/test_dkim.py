"""Issue 16: DKIM signing of the sent bytes (verified by dkimpy against a stub DNS), settings, doctor's records."""
import asyncio
import base64
import sys
from pathlib import Path

import dkim
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mailtpl import Environment
from mailtpl.cli import main
from mailtpl.smtp import AsyncMailer, ConfigError, Mailer, SmtpConfig
from mailtpl.smtp.doctor import diagnose
from tests.smtp_servers import smtp_server

ROOT = Path(__file__).resolve().parents[1]
SELECTOR_NAME = "mail2026._domainkey.fb.example.org"


def rsa_key(path: Path) -> tuple[Path, str]:
    """A fresh 2048-bit key written as PEM, and its public half as a DKIM TXT record."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return path, f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"


@pytest.fixture
def key(tmp_path):
    return rsa_key(tmp_path / "dkim.pem")


def dkim_env(server, key_file) -> dict:
    return server.env(DKIM_DOMAIN="fb.example.org", DKIM_SELECTOR="mail2026", DKIM_PRIVATE_KEY_FILE=str(key_file))


def stub_dns(records: dict[str, str]):
    def dnsfunc(name, timeout=5):  # dkimpy's interface: the TXT record of a name, as bytes
        return records.get(name.decode().rstrip("."), "").encode() or None
    return dnsfunc


@pytest.mark.parametrize("kind", ["Mailer", "AsyncMailer"])
def test_sent_message_verifies_and_a_tampered_one_does_not(tmp_path, key, kind):
    key_file, record = key
    env = Environment(ROOT / "templates", base_url="https://fb.example.org")
    with smtp_server(tmp_path) as server:
        config = SmtpConfig.from_env(dkim_env(server, key_file), dotenv=None)
        if kind == "Mailer":
            with Mailer(env, config) as m:
                m.send_verification("ada@example.com", "482913")
        else:
            async def run():
                async with AsyncMailer(env, config) as m:
                    await m.send_verification("ada@example.com", "482913")
            asyncio.run(run())
    (raw,) = server.recorder.raw
    assert raw.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=fb.example.org;")
    dns = stub_dns({SELECTOR_NAME: record})
    assert dkim.verify(raw, dnsfunc=dns)
    assert not dkim.verify(raw.replace(b"482913", b"482914"), dnsfunc=dns)  # body changed
    assert not dkim.verify(raw.replace(b"Subject: User feedback", b"Subject: Your feedback"), dnsfunc=dns)
    _, other = rsa_key(tmp_path / "other.pem")
    assert not dkim.verify(raw, dnsfunc=stub_dns({SELECTOR_NAME: other}))  # signed with another key


def test_dkim_and_limit_settings_are_validated(tmp_path):
    bad_key = tmp_path / "not-a-key.pem"
    bad_key.write_text("-----BEGIN RSA PRIVATE KEY-----\nnope\n-----END RSA PRIVATE KEY-----\n")
    base = {"SMTP_HOST": "h.io", "SMTP_PORT": "25", "SMTP_SENDER": "a@b.io"}
    with pytest.raises(ConfigError) as info:
        SmtpConfig.from_env({**base, "DKIM_DOMAIN": "b.io", "SMTP_RATE_LIMIT": "nan", "SMTP_DAILY_LIMIT": "1.5"},
                            dotenv=None)
    problems = info.value.problems
    assert set(problems) == {"DKIM_SELECTOR", "DKIM_PRIVATE_KEY_FILE", "SMTP_RATE_LIMIT", "SMTP_DAILY_LIMIT"}
    assert "required with the other DKIM_* settings" in problems["DKIM_SELECTOR"]
    assert problems["SMTP_DAILY_LIMIT"] == "must be a whole number greater than 0, not '1.5'"
    for value in ("0", "-3", "inf", "fast"):
        with pytest.raises(ConfigError, match="SMTP_RATE_LIMIT: must be a number greater than 0"):
            SmtpConfig.from_env({**base, "SMTP_RATE_LIMIT": value}, dotenv=None)
    with pytest.raises(ConfigError) as info:
        SmtpConfig.from_env({**base, "DKIM_DOMAIN": "b .io", "DKIM_SELECTOR": "s1",
                             "DKIM_PRIVATE_KEY_FILE": str(bad_key)}, dotenv=None)
    assert set(info.value.problems) == {"DKIM_DOMAIN", "DKIM_PRIVATE_KEY_FILE"}
    assert "not an RSA private key" in info.value.problems["DKIM_PRIVATE_KEY_FILE"]
    config = SmtpConfig.from_env({**base, "SMTP_RATE_LIMIT": "14", "SMTP_DAILY_LIMIT": "500"}, dotenv=None)
    assert (config.rate_limit, config.daily_limit) == (14.0, 500)


def test_doctor_checks_the_published_key_and_shows_spf_and_dmarc(tmp_path, key):
    key_file, record = key
    _, other = rsa_key(tmp_path / "other.pem")
    good = {"fb.example.org": ["v=spf1 include:_spf.example.net ~all", "google-site-verification=x"],
            SELECTOR_NAME: [record], "_dmarc.fb.example.org": ["v=DMARC1; p=quarantine"]}
    with smtp_server(tmp_path) as server:
        environ = dkim_env(server, key_file)
        steps = diagnose(environ, dotenv=None, resolve=lambda name: good.get(name, []))
        assert [(s.name, s.ok) for s in steps[1:4]] == [("SPF", True), ("DKIM", True), ("DMARC", True)]
        assert "v=spf1 include:_spf.example.net ~all" in steps[1].detail and "p=quarantine" in steps[3].detail
        assert all(step.ok for step in steps)

        wrong = {**good, SELECTOR_NAME: [other]}
        steps = diagnose(environ, dotenv=None, resolve=lambda name: wrong.get(name, []))
        (dkim_step,) = [s for s in steps if s.name == "DKIM"]
        assert not dkim_step.ok and "not the public half of DKIM_PRIVATE_KEY_FILE" in dkim_step.detail

        steps = diagnose(environ, dotenv=None, resolve=lambda name: [])
        assert [(s.name, s.ok) for s in steps[1:4]] == [("SPF", False), ("DKIM", False), ("DMARC", False)]
        assert "no DKIM key published at " + SELECTOR_NAME in steps[2].detail

        def broken(name):
            raise LookupError("SERVFAIL")
        steps = diagnose(environ, dotenv=None, resolve=broken)
        assert not steps[1].ok and "cannot look up fb.example.org: SERVFAIL" in steps[1].detail
        assert [(s.name, s.ok) for s in steps[1:4]] == [("SPF", False), ("DKIM", False), ("DMARC", False)]
        assert steps[-1].name == "MAIL FROM" and steps[-1].ok  # the SMTP checks still run


def test_doctor_without_dnspython_says_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "dns.resolver", None)  # as when the dkim extra is not installed
    with smtp_server(tmp_path) as server:
        steps = diagnose(server.env(), dotenv=None, records=True)
    looked_up = [s for s in steps if s.name in ("SPF", "DMARC")]
    assert [(s.name, s.ok) for s in looked_up] == [("SPF", False), ("DMARC", False)]
    assert all("needs dnspython" in s.detail and s.fix == "pip install 'mailtpl[dkim]'" for s in looked_up)


def test_doctor_cli_shows_records_with_dns_flag(tmp_path, key, monkeypatch):
    records = {"fb.example.org": ["v=spf1 -all"], "_dmarc.fb.example.org": ["v=DMARC1; p=reject"]}
    monkeypatch.setattr("mailtpl.smtp.doctor.dns_txt", lambda name: records.get(name, []))
    monkeypatch.chdir(tmp_path)
    with smtp_server(tmp_path) as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        result = CliRunner().invoke(main, ["doctor", "--dns"])
    assert result.exit_code == 0, result.output
    assert "✓ SPF: fb.example.org: v=spf1 -all" in result.output
    assert "✓ DKIM: mailtpl does not sign (DKIM_* unset)" in result.output
    assert "✓ DMARC: _dmarc.fb.example.org: v=DMARC1; p=reject" in result.output


@pytest.mark.parametrize("settings, name, says", [
    ({"SMTP_RATE_LIMIT": "1e-300"}, "SMTP_RATE_LIMIT", "SMTP_DAILY_LIMIT"),  # a 1e300 s sleep overflows
    ({"DKIM_PRIVATE_KEY_FILE": "/dev/zero"}, "DKIM_PRIVATE_KEY_FILE", "not a private key"),  # endless: read bounded
    ({"DKIM_PRIVATE_KEY_FILE": "{tmp}/missing.pem"}, "DKIM_PRIVATE_KEY_FILE", "No such file"),
    ({"DKIM_PRIVATE_KEY_FILE": "{tmp}"}, "DKIM_PRIVATE_KEY_FILE", "Is a directory"),
    ({"DKIM_PRIVATE_KEY_FILE": "{tmp}/binary.pem"}, "DKIM_PRIVATE_KEY_FILE", "not an RSA private key"),
])
def test_hostile_limit_and_key_file_settings_are_one_typed_problem(tmp_path, settings, name, says):
    (tmp_path / "binary.pem").write_bytes(b"\xff\xfe\x00\x80 not utf-8 " * 10)
    base = {"SMTP_HOST": "h.io", "SMTP_PORT": "25", "SMTP_SENDER": "a@b.io"}
    if "DKIM_PRIVATE_KEY_FILE" in settings:
        base.update(DKIM_DOMAIN="b.io", DKIM_SELECTOR="s1")
    settings = {k: v.format(tmp=tmp_path) for k, v in settings.items()}
    with pytest.raises(ConfigError) as info:
        SmtpConfig.from_env({**base, **settings}, dotenv=None)
    assert set(info.value.problems) == {name} and says in info.value.problems[name]
