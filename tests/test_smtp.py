"""Issues 4 and 9: SMTP settings, transport, pool, retries and diagnoses, against real servers on 127.0.0.1."""
import logging
import socket

import lxml.html
import pytest
from click.testing import CliRunner

from mailtpl import reset_password_link
from mailtpl.cli import main
from mailtpl.environment import SET_ADMIN_URL, Environment
from mailtpl.errors import UndefinedError
from mailtpl.message import build_message
from mailtpl.smtp import (ConfigError, Mailer, SmtpAuthError, SmtpConfig, SmtpConnectError, SmtpConnectionLost,
                          SmtpGreetingError, SmtpInsecureAuthError, SmtpRecipientsRefused, SmtpSenderRejected,
                          SmtpStartTlsError, SmtpTlsError, SmtpTlsRequiredError, SmtpTransientError)
from mailtpl.smtp.transport import plaintext_warning
from tests.smtp_servers import BASE, ROOT, SENDER, env, free_port, scripted_front, smtp_server  # noqa: F401
from tests.threads import run_in_threads


def mailer(env, server, **settings) -> Mailer:
    return Mailer(env, SmtpConfig.from_env(server.env(**settings), dotenv=None), backoff=0.05)


# -- settings -------------------------------------------------------------------------------------
def test_config_reports_every_problem_at_once_without_the_password():
    with pytest.raises(ConfigError) as info:
        SmtpConfig.from_env({"SMTP_PORT": "99999", "SMTP_TLS": "yes", "SMTP_SENDER": "nobody",
                             "SMTP_PASSWORD": "hunter2-secret", "SMTP_OPPORTUNISTIC_TLS": "1"}, dotenv=None)
    problems = info.value.problems
    assert set(problems) == {"SMTP_HOST", "SMTP_PORT", "SMTP_TLS", "SMTP_SENDER", "SMTP_OPPORTUNISTIC_TLS"}
    assert problems["SMTP_TLS"] == "must be true or false, not 'yes'"
    assert "1 to 65535" in problems["SMTP_PORT"] and "hunter2" not in str(info.value)


@pytest.mark.parametrize("settings", [
    {"SMTP_PORT": "0"}, {"SMTP_PORT": "70000"}, {"SMTP_PORT": "²"}, {"SMTP_PORT": "٣"},  # str.isdigit() says yes
    {"SMTP_HOST": "a b"}, {"SMTP_HOST": "mail\x00.example.org"}, {"SMTP_HOST": "mail\u200b.example.org\x7f"},
])
def test_odd_host_and_port_are_one_config_error(settings):
    base = {"SMTP_HOST": "mail.example.org", "SMTP_PORT": "587", "SMTP_SENDER": "a@example.org"}
    with pytest.raises(ConfigError) as info:
        SmtpConfig.from_env({**base, **settings}, dotenv=None)
    assert set(info.value.problems) == set(settings)


def test_config_reads_dotenv_and_the_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("SMTP_HOST=smtp.sendgrid.net\nSMTP_PORT=587\nSMTP_SENDER=a@b.io\n"
                      "SMTP_USERNAME=apikey\nSMTP_PASSWORD=SG.secret\nSMTP_TLS=FALSE\n")
    config = SmtpConfig.from_env({"SMTP_PORT": "465", "SMTP_TLS": "True"}, dotenv=dotenv)
    assert (config.host, config.port, config.tls, config.auth) == ("smtp.sendgrid.net", 465, True, True)
    assert config.cipher_spec == "TLSv1.2"  # the default when SMTP_TLS is true
    assert "SG.secret" not in repr(config) and "SG.secret" not in str(config)
    assert not SmtpConfig.from_env({"SMTP_HOST": "h.io", "SMTP_PORT": "25", "SMTP_SENDER": "a@b.io",
                                    "SMTP_USERNAME": "only-user"}, dotenv=None).auth



def test_a_dotenv_that_is_not_text_is_a_config_error_naming_it(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_bytes(b"SMTP_HOST=smtp.example.org\nSMTP_SENDER=caf\xe9@example.org\n")  # Latin-1, not UTF-8
    with pytest.raises(ConfigError) as info:
        SmtpConfig.from_env({}, dotenv=dotenv)
    assert list(info.value.problems) == [str(dotenv)]
    assert info.value.problems[str(dotenv)].startswith("not UTF-8 text (invalid continuation byte at byte 42)")


def test_links_without_an_admin_address_say_what_to_set_as_the_render_does(monkeypatch):
    monkeypatch.delenv("ADMIN_WEB_URL", raising=False)
    templates = Environment(ROOT / "templates", dotenv=None)
    m = Mailer(templates, SmtpConfig.from_env({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": "9", "SMTP_SENDER": SENDER},
                                              dotenv=None))
    with pytest.raises(ValueError) as sending:
        m.send_reset_password("ada@example.com", "c0de")  # before any connection: the link needs the address
    with pytest.raises(UndefinedError) as rendering:
        templates.render("verification", {"code": "1"})
    assert str(sending.value).endswith(SET_ADMIN_URL) and rendering.value.message.endswith(SET_ADMIN_URL)


# -- sending --------------------------------------------------------------------------------------
def test_plain_send_delivers_the_rendered_email(tmp_path, env, caplog):
    caplog.set_level(logging.INFO, logger="mailtpl")
    with smtp_server(tmp_path) as server, mailer(env, server) as m:
        result = m.send_reset_password("a+b@x.io", "c0de")
    msg = server.recorder.messages[0]
    assert server.recorder.envelopes == [(SENDER, ["a+b@x.io"])]
    assert b'\r\nFrom: "User feedback" <no-reply@fb.example.org>\r\n' in b"\r\n" + server.recorder.raw[0]
    assert msg["From"].addresses[0].display_name == "User feedback" and msg["From"].addresses[0].addr_spec == SENDER
    assert msg["Subject"] == "User feedback Reset Password" and msg["Message-ID"] == result.message_id
    text, html = msg.iter_parts()
    link = reset_password_link(BASE, "c0de", "a+b@x.io")
    assert lxml.html.document_fromstring(html.get_content()).cssselect("a.button")[0].get("href") == link
    assert f"({link})" in text.get_content()
    assert result.accepted == ["a+b@x.io"] and result.reply.startswith("250 2.0.0 Ok")
    assert any(r.levelno == logging.INFO and "sent resetPassword to a+b@x.io" in r.getMessage()
               and result.message_id in r.getMessage() and " ms" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("tls, settings", [("starttls", {}), ("implicit", {"SMTP_TLS": "true"})])
def test_tls_and_starttls_with_login(tmp_path, env, tls, settings):
    with smtp_server(tmp_path, tls=tls, users={"apikey": "s3cret"}) as server, \
            mailer(env, server, SMTP_USERNAME="apikey", SMTP_PASSWORD="s3cret", **settings) as m:
        m.send_verification("ada@example.com", "482913")
    assert server.recorder.encrypted == [True]
    (msg,) = server.recorder.messages
    assert msg["Subject"] == "User feedback Email Verification" and "482913" in msg.get_body("plain").get_content()


def test_wrong_password_is_an_auth_error_with_the_fix(tmp_path, env):
    with smtp_server(tmp_path, tls="starttls", users={"apikey": "right"}) as server, \
            mailer(env, server, SMTP_USERNAME="apikey", SMTP_PASSWORD="wrong") as m:
        with pytest.raises(SmtpAuthError) as info:
            m.send_verification("ada@example.com", "1")
    assert info.value.code == 535 and "SMTP_USERNAME" in info.value.fix and "app password" in info.value.fix
    assert server.recorder.messages == []


def test_connection_dropped_during_data_is_retried_and_delivered_once(tmp_path, env):
    with smtp_server(tmp_path, script={"DATA": ["DROP"]}) as server, mailer(env, server) as m:
        result = m.send_verification("ada@example.com", "1")
        assert result.attempts == 2 and m.pool.opened == 2
    assert len(server.recorder.messages) == 1 and server.recorder.commands.count("DATA") == 2


def test_451_then_success_is_retried_on_the_same_connection(tmp_path, env):
    with smtp_server(tmp_path, script={"DATA": ["451 4.3.0 try again"]}) as server, mailer(env, server) as m:
        assert m.send_verification("ada@example.com", "1").attempts == 2
        assert m.pool.opened == 1
    assert len(server.recorder.messages) == 1


def test_connection_is_reset_after_a_failed_transaction_or_when_idle(tmp_path, env):
    with smtp_server(tmp_path, script={"DATA": ["451 4.3.0 try again"]}) as server, mailer(env, server) as m:
        m.send_verification("ada@example.com", "1")  # 451, RSET, then the retry succeeds
        m.send_verification("bob@example.com", "2")  # after a completed transaction: no RSET needed
        m.pool.idle_probe = 0
        m.send_verification("cy@example.com", "3")  # idle (probe 0 s): RSET proves the server is there
        assert m.pool.opened == 1
    assert server.recorder.commands == ["MAIL", "DATA", "RSET", "MAIL", "DATA", "MAIL", "DATA",
                                        "RSET", "MAIL", "DATA"]


def test_421_then_success_reconnects(tmp_path, env):
    with smtp_server(tmp_path, script={"MAIL": ["421 4.7.0 closing"]}) as server, mailer(env, server) as m:
        assert m.send_verification("ada@example.com", "1").attempts == 2
        assert m.pool.opened == 2
    assert len(server.recorder.messages) == 1


def test_550_at_mail_from_raises_at_once(tmp_path, env):
    with smtp_server(tmp_path, script={"MAIL": ["550 5.7.1 sender not verified"]}) as server, \
            mailer(env, server) as m:
        with pytest.raises(SmtpSenderRejected) as info:
            m.send_verification("ada@example.com", "1")
    assert info.value.code == 550 and "SMTP_SENDER" in info.value.fix
    assert server.recorder.commands == ["MAIL"]  # no retry of a permanent failure


def test_refused_recipients_are_reported(tmp_path, env):
    script = {"RCPT:bad@example.com": ["550 5.1.1 no such user"] * 2, "RCPT:gone@example.com": ["550 5.1.1 gone"]}
    with smtp_server(tmp_path, script=script) as server, mailer(env, server) as m:
        result = m.send("verification", ["ada@example.com", "bad@example.com"], {"code": "1"})
        assert result.accepted == ["ada@example.com"]
        assert result.refused == {"bad@example.com": (550, "5.1.1 no such user")}
        with pytest.raises(SmtpRecipientsRefused) as info:
            m.send("verification", ["bad@example.com", "gone@example.com"], {"code": "1"})
    assert set(info.value.refused) == {"bad@example.com", "gone@example.com"}
    assert server.recorder.envelopes == [(SENDER, ["ada@example.com"])]


def test_send_message_sends_bcc_without_showing_it(tmp_path, env):
    msg = build_message(env.render("verification", {"code": "1"}), to="ada@example.com", sender=SENDER)
    msg["Bcc"] = "audit@example.com"
    with smtp_server(tmp_path) as server, mailer(env, server) as m:
        m.send_message(msg)
    assert server.recorder.envelopes == [(SENDER, ["ada@example.com", "audit@example.com"])]
    assert server.recorder.messages[0]["Bcc"] is None


def test_closed_port_is_a_connect_error(tmp_path, env):
    port = free_port()
    config = SmtpConfig.from_env({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_SENDER": SENDER},
                                 dotenv=None)
    with pytest.raises(SmtpConnectError) as info:
        Mailer(env, config).send_verification("ada@example.com", "1")
    assert f"127.0.0.1:{port} refused" in str(info.value) and "firewall" in info.value.fix


def test_tls_against_a_plain_port(tmp_path, env):
    with smtp_server(tmp_path) as server, mailer(env, server, SMTP_TLS="true") as m:
        with pytest.raises(SmtpTlsError) as info:
            m.send_verification("ada@example.com", "1")
    assert "TLS handshake" in str(info.value) and "465" in info.value.fix


def test_plain_against_a_tls_port(tmp_path, env):
    with smtp_server(tmp_path, tls="implicit") as server, mailer(env, server, SMTP_TIMEOUT="1") as m:
        with pytest.raises(SmtpTlsError) as info:
            m.send_verification("ada@example.com", "1")
    assert "no SMTP greeting within SMTP_TIMEOUT=1s" in str(info.value)
    assert "answers a TLS handshake" in str(info.value) and "set SMTP_TLS=true" in info.value.fix
    assert info.value.attempts == 1  # a wrong setting is not retried


def test_credentials_are_not_sent_unencrypted_to_a_remote_name(tmp_path, env):
    name = socket.gethostname()
    if socket.gethostbyname(name) != "127.0.0.1":
        pytest.skip("this machine's name does not resolve to 127.0.0.1")
    with smtp_server(tmp_path, users={"u": "p"}) as server, \
            mailer(env, server, SMTP_HOST=name, SMTP_USERNAME="u", SMTP_PASSWORD="p") as m:
        with pytest.raises(SmtpInsecureAuthError) as info:
            m.send_verification("ada@example.com", "1")
    assert "SMTP_TLS=true" in info.value.fix and server.recorder.commands == []


def test_credentials_over_plain_to_loopback_are_allowed(tmp_path, env):
    with smtp_server(tmp_path, users={"u": "p"}) as server, \
            mailer(env, server, SMTP_USERNAME="u", SMTP_PASSWORD="p") as m:
        m.send_verification("ada@example.com", "1")
    assert len(server.recorder.messages) == 1


def test_failed_starttls_stops_unless_opportunistic(tmp_path, env, caplog):
    with smtp_server(tmp_path, tls="starttls") as server:
        untrusted = {"SMTP_CA_FILE": ""}  # the server's certificate is not trusted: STARTTLS fails
        with mailer(env, server, **untrusted) as m, pytest.raises(SmtpStartTlsError) as info:
            m.send_verification("ada@example.com", "1")
        assert "SMTP_OPPORTUNISTIC_TLS" in info.value.fix and server.recorder.messages == []
        caplog.set_level(logging.WARNING, logger="mailtpl")
        with mailer(env, server, SMTP_OPPORTUNISTIC_TLS="true", **untrusted) as m:
            m.send_verification("ada@example.com", "1")
    assert server.recorder.encrypted == [False]
    assert any("continuing unencrypted" in r.getMessage() for r in caplog.records)


def test_pool_is_shared_by_threads_and_bounded(tmp_path, env):
    with smtp_server(tmp_path) as server, mailer(env, server) as m:
        def work(i):
            for j in range(5):
                m.send_verification(f"user{i}.{j}@example.com", f"{i}{j}")

        assert run_in_threads(work, 8) == [] and m.pool.opened <= m.pool.size
    received = sorted(addr for _, rcpts in server.recorder.envelopes for addr in rcpts)
    assert received == sorted(f"user{i}.{j}@example.com" for i in range(8) for j in range(5))


def test_debug_log_shows_the_conversation_with_auth_redacted(tmp_path, env, caplog):
    caplog.set_level(logging.DEBUG, logger="mailtpl")
    with smtp_server(tmp_path, tls="starttls", users={"apikey": "pa55word"}) as server, \
            mailer(env, server, SMTP_USERNAME="apikey", SMTP_PASSWORD="pa55word") as m:
        m.send_verification("ada@example.com", "1")
    log = "\n".join(r.getMessage() for r in caplog.records)
    assert ">> ehlo" in log and ">> STARTTLS" in log.upper() and "AUTH ***" in log and ">> mail FROM:" in log
    assert "pa55word" not in log and "cGE1NXdvcmQ" not in log  # nor its base64


# -- command line ---------------------------------------------------------------------------------
def test_cli_send_and_doctor(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("ADMIN_WEB_URL", BASE)
    with smtp_server(tmp_path, tls="starttls") as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        sent = CliRunner().invoke(main, ["send", "verification", "--to", "ada@example.com", "--data",
                                         '{"code": "777"}'])
        assert sent.exit_code == 0, sent.output
        doctor = CliRunner().invoke(main, ["doctor", "--to", "ops@example.com"])
        assert doctor.exit_code == 0, doctor.output
    assert "777" in server.recorder.messages[0].get_body("plain").get_content()
    lines = doctor.output.splitlines()
    assert [line.split(":")[0] for line in lines] == ["✓ config", "✓ DNS", "✓ TCP", "✓ connect", "✓ EHLO",
                                                       "✓ STARTTLS", "✓ MAIL FROM", "✓ test message"]
    assert server.recorder.messages[1]["Subject"] == "mailtpl doctor: test message"


def test_cli_doctor_names_the_first_failure_and_its_fix(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    port = free_port()
    for key, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_SENDER": SENDER}.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 1
    assert "✗ TCP: 127.0.0.1:" in result.output and "fix: a firewall may block the port" in result.output
    monkeypatch.setenv("SMTP_PORT", "smtp")
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 1 and "✗ config" in result.output and "SMTP_PORT" in result.output


# -- issue 9: faults before and during the greeting, against a scripted server --------------------
GREETING_DIAGNOSES = {
    "drop": "closed the connection before its greeting",
    "421": "greeted with 421: busy or not accepting mail now",
    "silent": "but no greeting within SMTP_TIMEOUT={}s",
    "trickle": "but no greeting within SMTP_TIMEOUT={}s",  # 200 bytes at 50/s: per-read timeouts never fire
}


def front_mailer(env, front, attempts: int, **settings) -> Mailer:
    return Mailer(env, SmtpConfig.from_env(front.env(**settings), dotenv=None), attempts=attempts, backoff=0.01)


@pytest.mark.parametrize("fault", list(GREETING_DIAGNOSES))
def test_a_greeting_fault_is_retried_and_the_mail_delivered_once(tmp_path, env, caplog, fault):
    caplog.set_level(logging.WARNING, logger="mailtpl")
    # 1.5 s: room for the good exchanges through the pipe on a busy machine
    with smtp_server(tmp_path) as server, scripted_front([fault], backend=server) as front, \
            front_mailer(env, front, attempts=3, SMTP_TIMEOUT="1.5") as m:
        result = m.send_verification("ada@example.com", "1")
    assert result.attempts == 2 and len(server.recorder.messages) == 1
    # after silence, one connection asks whether the port speaks TLS from connect (it does not: a 220 comes)
    assert front.seen == ([fault, "pipe", "pipe"] if fault in ("silent", "trickle") else [fault, "pipe"])
    (retry,) = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert GREETING_DIAGNOSES[fault].format("1.5") in retry and "attempt 2 of 3" in retry


@pytest.mark.parametrize("fault", list(GREETING_DIAGNOSES))
def test_a_greeting_fault_that_persists_is_diagnosed_as_what_it_is(env, fault):
    with scripted_front([], then=fault) as front, front_mailer(env, front, attempts=2) as m:
        with pytest.raises(SmtpGreetingError) as info:
            m.send_verification("ada@example.com", "1")
    error = info.value
    assert error.attempts == 2 and str(error).startswith("gave up after 2 attempts: ")
    assert GREETING_DIAGNOSES[fault].format("0.5") in error.message and f"127.0.0.1:{front.port}" in error.message
    assert all(name in error.fix for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_TIMEOUT"))
    assert "TLS" not in str(error)  # SMTP_TLS=false: nothing here is about TLS
    if fault == "421":
        assert error.code == 421 and "busy, try again later" in error.reply
    assert len(front.seen) == (4 if fault in ("silent", "trickle") else 2)  # + the TLS question after silence


def test_a_554_greeting_is_permanent_and_not_retried(env):
    with scripted_front([], then="554") as front, front_mailer(env, front, attempts=3) as m:
        with pytest.raises(SmtpConnectError) as info:
            m.send_verification("ada@example.com", "1")
    assert not isinstance(info.value, SmtpGreetingError) and info.value.code == 554
    assert front.seen == ["554"]


def test_a_flood_of_greeting_lines_is_cut_off(env):
    with scripted_front([], then="flood") as front, front_mailer(env, front, attempts=3, SMTP_TIMEOUT="10") as m:
        with pytest.raises(SmtpConnectError) as info:
            m.send_verification("ada@example.com", "1")
    assert "sent a reply of more than 1048576 bytes instead of a greeting" in info.value.message
    assert front.seen == ["flood"]  # not a server worth retrying


def test_silence_with_tls_from_connect_is_a_greeting_fault_too(env):
    with scripted_front([], then="silent") as front, front_mailer(env, front, attempts=2, SMTP_TLS="true") as m:
        with pytest.raises(SmtpGreetingError) as info:
            m.send_verification("ada@example.com", "1")
    assert "no TLS handshake or greeting within SMTP_TIMEOUT=0.5s" in info.value.message
    assert front.seen == ["silent", "silent"]  # no TLS question: TLS was asked for


def test_a_reply_trickled_past_the_timeout_is_a_lost_connection_retried_on_a_new_one(tmp_path, env, caplog):
    caplog.set_level(logging.WARNING, logger="mailtpl")
    with smtp_server(tmp_path, script={"MAIL": ["TRICKLE"]}) as server, \
            mailer(env, server, SMTP_TIMEOUT="1.5") as m:  # the trickle lasts 4 s
        result = m.send_verification("ada@example.com", "1")
        assert result.attempts == 2 and m.pool.opened == 2
    assert len(server.recorder.messages) == 1
    (retry,) = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert f"no complete reply from 127.0.0.1:{server.port} within SMTP_TIMEOUT=1.5s" in retry


def test_advice_after_a_lost_connection_is_not_about_4xx(tmp_path, env):
    with smtp_server(tmp_path, script={"DATA": ["DROP", "DROP"]}) as server, \
            Mailer(env, SmtpConfig.from_env(server.env(), dotenv=None), attempts=2, backoff=0.01) as m:
        with pytest.raises(SmtpConnectionLost) as info:
            m.send_verification("ada@example.com", "1")
    assert info.value.attempts == 2 and "connection ended before the server accepted" in info.value.message
    assert "4xx" not in str(info.value) and "SMTP_HOST:SMTP_PORT" in info.value.fix
    assert server.recorder.messages == []


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "thirty", "1e12"])
def test_smtp_timeout_must_be_a_finite_positive_number(value):
    settings = {"SMTP_HOST": "h.io", "SMTP_PORT": "25", "SMTP_SENDER": "a@b.io", "SMTP_TIMEOUT": value}
    with pytest.raises(ConfigError) as info:
        SmtpConfig.from_env(settings, dotenv=None)
    assert set(info.value.problems) == {"SMTP_TIMEOUT"} and repr(value) in info.value.problems["SMTP_TIMEOUT"]


def test_smtp_timeout_is_checked_when_the_config_is_built_in_code():
    with pytest.raises(ConfigError) as info:
        SmtpConfig(host="h.io", port=25, sender="a@b.io", timeout=float("nan"))
    assert set(info.value.problems) == {"SMTP_TIMEOUT"}


# -- issue 9: deferred recipients -------------------------------------------------------------------
def test_a_deferred_recipient_gets_a_transaction_of_its_own(tmp_path, env, caplog):
    caplog.set_level(logging.WARNING, logger="mailtpl")
    script = {"RCPT:bob@example.com": ["451 4.2.1 mailbox busy"]}
    with smtp_server(tmp_path, script=script) as server, mailer(env, server) as m:
        result = m.send("verification", ["ada@example.com", "bob@example.com"], {"code": "1"})
    assert result.accepted == ["ada@example.com", "bob@example.com"] and result.refused == {}
    assert result.attempts == 2
    assert server.recorder.envelopes == [(SENDER, ["ada@example.com"]), (SENDER, ["bob@example.com"])]
    assert server.recorder.raw[0] == server.recorder.raw[1]  # the same message, Message-ID included
    assert any("deferred bob@example.com (451 4.2.1 mailbox busy)" in r.getMessage() for r in caplog.records)


def test_a_recipient_deferred_to_the_end_is_a_warning_not_silence(tmp_path, env, caplog):
    caplog.set_level(logging.WARNING, logger="mailtpl")
    script = {"RCPT:bob@example.com": ["451 4.2.1 mailbox busy"] * 6}  # 3 attempts, twice
    with smtp_server(tmp_path, script=script) as server, \
            Mailer(env, SmtpConfig.from_env(server.env(), dotenv=None), attempts=3, backoff=0.01) as m:
        result = m.send("verification", ["ada@example.com", "bob@example.com"], {"code": "1"})
        with pytest.raises(SmtpTransientError) as info:  # nobody accepted: an error
            m.send("verification", ["bob@example.com"], {"code": "2"})
    assert result.accepted == ["ada@example.com"] and result.refused == {"bob@example.com": (451, "4.2.1 mailbox busy")}
    assert server.recorder.envelopes == [(SENDER, ["ada@example.com"])]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "sent verification to ada@example.com but NOT to bob@example.com (451 4.2.1 mailbox busy)" in warnings
    assert "every recipient was deferred: bob@example.com (451" in info.value.message


# -- issue 9: plaintext to a remote host --------------------------------------------------------------
def plain_config(host: str = "mail.example.com", **settings) -> SmtpConfig:
    return SmtpConfig.from_env({"SMTP_HOST": host, "SMTP_PORT": "25", "SMTP_SENDER": SENDER, **settings},
                               dotenv=None)


def test_the_plaintext_policy_names_the_settings_and_spares_loopback():
    warning = plaintext_warning(plain_config())
    assert "mail.example.com:25 goes unencrypted (the server offers no STARTTLS" in warning
    assert all(name in warning for name in ("SMTP_TLS", "SMTP_OPPORTUNISTIC_TLS", "SMTP_REQUIRE_TLS"))
    assert "STARTTLS failed and SMTP_OPPORTUNISTIC_TLS=true" in plaintext_warning(plain_config(), starttls_failed=True)
    for loopback in ("127.0.0.1", "localhost", "::1", "::ffff:127.0.0.1"):
        assert plaintext_warning(plain_config(loopback)) is None
    assert plaintext_warning(plain_config("127.0.0.1"), loopback=False)  # the decision can be given
    assert plaintext_warning(plain_config(), loopback=True) is None


def machine_name() -> str:
    """This machine's name: it resolves to 127.0.0.1 here, but as a name it is not loopback to the policy (a name
    could point anywhere), so a send to it takes the path of a send to a remote server without leaving the host."""
    name = socket.gethostname()
    if socket.gethostbyname(name) != "127.0.0.1":
        pytest.skip("this machine's name does not resolve to 127.0.0.1")
    return name


def test_plaintext_to_a_remote_name_is_a_warning_and_to_loopback_is_not(tmp_path, env, caplog):
    caplog.set_level(logging.WARNING, logger="mailtpl")
    with smtp_server(tmp_path) as server:
        with mailer(env, server) as m:
            m.send_verification("ada@example.com", "1")
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
        with mailer(env, server, SMTP_HOST=machine_name()) as m:
            m.send_verification("ada@example.com", "2")
            m.send_verification("ada@example.com", "3")  # the same connection: warned once
    assert len(server.recorder.messages) == 3
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "goes unencrypted" in warning.getMessage() and "SMTP_OPPORTUNISTIC_TLS" in warning.getMessage()


def test_require_tls_refuses_plaintext_even_to_loopback(tmp_path, env):
    with smtp_server(tmp_path) as server, mailer(env, server, SMTP_REQUIRE_TLS="true") as m:
        with pytest.raises(SmtpTlsRequiredError) as info:
            m.send_verification("ada@example.com", "1")
    assert "SMTP_REQUIRE_TLS=true" in str(info.value) and "SMTP_TLS=true" in info.value.fix
    assert server.recorder.commands == [] and info.value.attempts == 1


def test_require_tls_sends_over_starttls_and_refuses_a_failed_one(tmp_path, env):
    with smtp_server(tmp_path, tls="starttls") as server:
        with mailer(env, server, SMTP_REQUIRE_TLS="true") as m:
            m.send_verification("ada@example.com", "1")
        with mailer(env, server, SMTP_REQUIRE_TLS="true", SMTP_CA_FILE="") as m, pytest.raises(SmtpStartTlsError):
            m.send_verification("ada@example.com", "2")
    assert len(server.recorder.messages) == 1
    with pytest.raises(ConfigError) as info:
        plain_config(SMTP_REQUIRE_TLS="true", SMTP_OPPORTUNISTIC_TLS="true")
    assert "SMTP_OPPORTUNISTIC_TLS" in info.value.problems["SMTP_REQUIRE_TLS"]


def test_doctor_flags_plaintext_to_a_remote_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with smtp_server(tmp_path) as server:
        for key, value in server.env(SMTP_HOST=machine_name()).items():
            monkeypatch.setenv(key, value)
        flagged = CliRunner().invoke(main, ["doctor"])
        monkeypatch.setenv("SMTP_REQUIRE_TLS", "true")
        refused = CliRunner().invoke(main, ["doctor"])
    assert flagged.exit_code == 0, flagged.output
    assert "! plaintext: mail to" in flagged.output and "SMTP_OPPORTUNISTIC_TLS" in flagged.output
    assert refused.exit_code == 1 and "✗ SmtpTlsRequiredError" in refused.output


def test_doctor_names_a_greeting_fault_and_its_settings(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    with scripted_front([], then="421") as front:
        for key, value in front.env().items():
            monkeypatch.setenv(key, value)
        result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 1
    assert f"✗ SmtpGreetingError: 127.0.0.1:{front.port} greeted with 421" in result.output
    assert "fix: the server at SMTP_HOST:SMTP_PORT" in result.output and "SMTP_TIMEOUT" in result.output
