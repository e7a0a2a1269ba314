"""Issue 10: render -> message -> transport. The mailers render and compose themselves, SMTP_SENDER is read in one
place, and `mailtpl doctor` goes through the Mailer's own transaction; against real SMTP servers on 127.0.0.1."""
import ast
import asyncio
import json
import shutil
import smtplib
from datetime import UTC, datetime
from pathlib import Path

import dkim
import pytest
from click.testing import CliRunner

from mailtpl import Environment, RenderedEmail
from mailtpl.cli import main
from mailtpl.preview import create_app
from mailtpl.smtp import AsyncMailer, Mailer, SmtpConfig
from mailtpl.smtp.doctor import diagnose
from tests.smtp_servers import BASE, ROOT, SENDER, smtp_server
from tests.test_dkim import dkim_env, rsa_key, stub_dns

OWN = RenderedEmail("receipt", "Your receipt", "<p>Paid: 12 EUR</p>", "Paid: 12 EUR")


@pytest.fixture
def folder(tmp_path):
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    return tmp_path / "templates"


def with_sender_name(folder: Path, name: str) -> Environment:
    path = folder / "mailtpl.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "sender_name": name}))
    return Environment(folder, base_url=BASE)


def run(kind: str, env, config, call):
    """``call(mailer)`` on a Mailer or (awaited, on a fresh loop) an AsyncMailer, the pool closed after."""
    if kind == "Mailer":
        with Mailer(env, config, backoff=0.01) as mailer:
            return call(mailer)

    async def main():
        async with AsyncMailer(env, config, backoff=0.01) as mailer:
            return await call(mailer)
    return asyncio.run(main())


@pytest.mark.parametrize("kind", ["Mailer", "AsyncMailer"])
def test_the_mailer_renders_a_sample_data_set_and_signs_with_the_folders_sender_name(tmp_path, folder, kind):
    env = with_sender_name(folder, "Feedback Team")
    with smtp_server(tmp_path) as server:
        config = SmtpConfig.from_env(server.env(), dotenv=None)
        result = run(kind, env, config, lambda m: m.send("verification", "ada@example.com", fixture="leading-zeros"))
        run(kind, env, config, lambda m: m.send("verification", "bob@example.com", {"code": "777"}, fixture="default"))
    first, second = server.recorder.messages
    assert "000042" in first.get_body("plain").get_content() and result.accepted == ["ada@example.com"]
    assert "777" in second.get_body("plain").get_content()  # the data given wins over the set's
    sender = first["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("Feedback Team", SENDER)
    assert server.recorder.envelopes[0] == (SENDER, ["ada@example.com"])


@pytest.mark.parametrize("kind", ["Mailer", "AsyncMailer"])
def test_a_sender_name_given_to_the_mailer_wins_over_the_folders(tmp_path, folder, kind):
    env = with_sender_name(folder, "Feedback Team")
    with smtp_server(tmp_path) as server:
        config = SmtpConfig.from_env(server.env(), dotenv=None)
        if kind == "Mailer":
            with Mailer(env, config, sender_name="Ops") as m:
                m.send_verification("ada@example.com", "1")
        else:
            async def main():
                async with AsyncMailer(env, config, sender_name="Ops") as m:
                    await m.send_verification("ada@example.com", "1")
            asyncio.run(main())
    assert server.recorder.messages[0]["From"].addresses[0].display_name == "Ops"


@pytest.mark.parametrize("kind", ["Mailer", "AsyncMailer"])
def test_an_email_rendered_elsewhere_is_sent_by_a_mailer_without_templates(tmp_path, kind):
    with smtp_server(tmp_path) as server:
        config = SmtpConfig.from_env(server.env(), dotenv=None)
        result = run(kind, None, config, lambda m: m.send_rendered(OWN, "Zoë <zoe@example.com>", X_Order="42"))
        with pytest.raises(ValueError, match="no templates"):
            run(kind, None, config, lambda m: m.send_verification("ada@example.com", "1"))
    message = server.recorder.messages[0]
    assert message["Subject"] == "Your receipt" and message["X-Order"] == "42"
    assert message["From"].addresses[0].display_name == "User feedback"
    assert message.get_body("plain").get_content().strip() == "Paid: 12 EUR"
    assert result.message_id == message["Message-ID"] and server.recorder.envelopes == [(SENDER, ["zoe@example.com"])]


# -- mailtpl doctor: the Mailer's transaction, retry outcome and composing ----------------------------------
def test_doctor_checks_the_sender_then_sends_through_the_mailer(tmp_path):
    with smtp_server(tmp_path, tls="starttls") as server:
        steps = diagnose(server.env(), dotenv=None, to="ops@example.com")
        with smtplib.SMTP("127.0.0.1", server.port, timeout=5) as smtp:
            greeting = smtp.ehlo()[1].decode().splitlines()[0]
    assert [s.name for s in steps][-2:] == ["MAIL FROM", "test message"] and all(s.ok for s in steps)
    assert {s.name: s.detail for s in steps}["EHLO"] == greeting  # the server's first EHLO line
    assert server.recorder.commands == ["MAIL", "RSET", "MAIL", "DATA"]  # the check leaves no transaction open
    assert server.recorder.envelopes == [(SENDER, ["ops@example.com"])]
    assert server.recorder.messages[0]["From"].addresses[0].display_name == "mailtpl doctor"
    assert server.recorder.messages[0]["Message-ID"] in steps[-1].detail


def test_doctor_test_message_is_dkim_signed_as_the_mailer_signs(tmp_path):
    key_file, record = rsa_key(tmp_path / "dkim.pem")
    with smtp_server(tmp_path) as server:
        steps = diagnose(dkim_env(server, key_file), dotenv=None, to="ops@example.com",
                         resolve=lambda name: {"mail2026._domainkey.fb.example.org": [record]}.get(name, []))
    assert steps[-1].name == "test message" and steps[-1].ok, steps
    raw = server.recorder.raw[0]
    assert dkim.verify(raw, dnsfunc=stub_dns({"mail2026._domainkey.fb.example.org": record}))


@pytest.mark.parametrize("script, step, says", [
    ({"MAIL": ["550 5.7.1 sender not verified"]}, "SmtpSenderRejected", "SMTP_SENDER is not a sender this server"),
    ({"MAIL": ["451 4.3.0 later"]}, "SmtpTransientError", "did not take MAIL FROM this time"),
    ({"RCPT:ops@example.com": ["550 5.1.1 no such user"]}, "SmtpRecipientsRefused", "no such user"),
    ({"RCPT:ops@example.com": ["450 4.2.1 mailbox busy"]}, "SmtpTransientError", "every recipient was deferred"),
])
def test_doctor_reports_refusals_as_the_mailer_types_them(tmp_path, script, step, says):
    with smtp_server(tmp_path, script=script) as server:
        steps = diagnose(server.env(), dotenv=None, to="ops@example.com")
    last = steps[-1]
    assert (last.name, last.ok) == (step, False) and says in f"{last.detail} {last.fix}", last
    assert server.recorder.messages == []


def test_cli_doctor_prints_the_steps_and_no_log_lines(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with smtp_server(tmp_path, script={"RCPT:ops@example.com": ["550 5.1.1 no such user"]}) as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        result = CliRunner().invoke(main, ["doctor", "--to", "ops@example.com"])
    assert result.exit_code == 1
    assert result.output.count("no such user") == 1, result.output  # the step, not a log line repeating it


# -- the command line and the preview ---------------------------------------------------------------------
def test_cli_send_renders_a_sample_data_set_with_data_over_it(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("ADMIN_WEB_URL", BASE)
    with smtp_server(tmp_path) as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        runner = CliRunner()
        assert runner.invoke(main, ["send", "verification", "--to", "a@example.com", "--fixture",
                                    "leading-zeros"]).exit_code == 0
        sent = runner.invoke(main, ["send", "verification", "--to", "b@example.com", "--fixture", "default",
                                    "--data", '{"code": "31337"}'])
        missing = runner.invoke(main, ["send", "verification", "--to", "c@example.com", "--fixture", "nope"])
    assert sent.exit_code == 0, sent.output
    assert "000042" in server.recorder.messages[0].get_body("plain").get_content()
    assert "31337" in server.recorder.messages[1].get_body("plain").get_content()
    assert missing.exit_code != 0 and "nope" in missing.output and len(server.recorder.messages) == 2


def test_the_preview_shows_the_from_that_the_mailer_sends(tmp_path, folder, monkeypatch):
    """SMTP_SENDER from .env too, as SmtpConfig reads it; one that is not an address is the error it is."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SMTP_SENDER", raising=False)
    client = create_app(with_sender_name(folder, "Feedback Team"), watch=False).test_client()
    assert '"Feedback Team" <no-reply@example.com>' in client.get("/api/render/verification?fixture=default").json[
        "headers"]
    (tmp_path / ".env").write_text("SMTP_SENDER=team@bücher.example\n")
    headers = client.get("/api/render/verification?fixture=default").json["headers"]
    assert 'From: "Feedback Team" <team@xn--bcher-kva.example>' in headers
    monkeypatch.setenv("SMTP_SENDER", "not an address")  # the environment wins over .env, as for sending
    response = client.get("/api/render/verification?fixture=default")
    assert response.status_code == 422 and "SMTP_SENDER" in response.json["error"]["message"]


def test_smtp_sender_is_read_in_one_module():
    """Only mailtpl/smtp/config.py looks SMTP_SENDER up (os.environ, getenv, a .env mapping)."""
    readers = []
    for path in sorted((ROOT / "mailtpl").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            looked_up = (node.args if isinstance(node, ast.Call) else
                         [node.slice] if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) else [])
            if any(isinstance(arg, ast.Constant) and arg.value == "SMTP_SENDER" for arg in looked_up):
                readers.append(path.relative_to(ROOT).as_posix())
    assert set(readers) == {"mailtpl/smtp/config.py"}


def test_the_preview_sends_the_email_it_shows_through_the_mailer(tmp_path, folder, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with smtp_server(tmp_path) as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        client = create_app(with_sender_name(folder, "Feedback Team"), watch=False).test_client()
        body = {"data": {"code": "424242"}}
        shown = client.post("/api/render/verification", json=body).json
        sent = client.post("/api/send/verification", json={**body, "to": "designer@example.com"})
    assert sent.status_code == 200, sent.json
    message = server.recorder.messages[0]
    assert sent.json["message_id"] == message["Message-ID"]
    html = message.get_body("html").get_content().replace("\r\n", "\n")  # CRLF on the wire
    assert (message["Subject"], html.rstrip("\n")) == (shown["subject"], shown["html"].rstrip("\n"))
    assert "424242" in html and "http://localhost/assets/logo.png" in html  # the preview's assets, as shown
    assert message["From"].addresses[0].display_name == "Feedback Team"


# -- the capture's release: the same transport and transaction, once, unsigned ---------------------------
@pytest.mark.parametrize("script, says", [
    ({}, None),
    ({"MAIL": ["550 5.7.1 sender not verified"]}, "SMTP_SENDER is not a sender this server accepts"),
    ({"RCPT:me@example.net": ["550 5.1.1 no such user"]},
     r"refused every recipient: me@example.net \(550 5.1.1 no such user\)\nfix: check the recipient addresses"),
    ({"RCPT:me@example.net": ["450 4.2.1 mailbox busy"]},
     r"deferred: me@example.net \(450 4.2.1 mailbox busy\)\nfix: .*temporary.*release it again later"),
    ({"DATA": ["451 4.3.0 try later"]}, r"temporary\): release it again later"),
])
def test_release_goes_through_the_mailers_transaction(tmp_path, script, says):
    from mailtpl.capture.message import CapturedMessage
    from mailtpl.capture.release import release
    from mailtpl.smtp import SmtpError

    raw = b"From: app@example.org\r\nTo: ada@example.com\r\nSubject: caught\r\n\r\nhello\r\n"
    caught = CapturedMessage("0123456789abcdef", raw, "app@example.org", ["ada@example.com"], datetime.now(UTC))
    key_file, _ = rsa_key(tmp_path / "dkim.pem")  # DKIM configured: a release still goes out as caught
    with smtp_server(tmp_path, script=script) as server:
        config = SmtpConfig.from_env(dkim_env(server, key_file), dotenv=None)
        if says is None:
            assert release(caught, "me@example.net", config).startswith("250 2.0.0")
        else:
            with pytest.raises(SmtpError, match=says):
                release(caught, "me@example.net", config)
    assert server.recorder.raw == ([raw] if says is None else [])
    assert server.recorder.envelopes == ([(SENDER, ["me@example.net"])] if says is None else [])
