"""A hostile or broken SMTP server, scripted on 127.0.0.1, against Mailer and AsyncMailer alike: one typed
error (or a send), never a traceback, a message sent twice, or a message lost without saying so."""
import asyncio
from pathlib import Path

import pytest

from mailtpl import Environment
from mailtpl.smtp import (AsyncMailer, Mailer, SmtpAuthError, SmtpConnectionLost, SmtpRecipientsRefused,
                          SmtpGreetingError, SmtpStartTlsError)
from mailtpl.smtp.delivery import SendResult
from tests.smtp_servers import ScriptedSmtp

ROOT = Path(__file__).resolve().parents[1]
FLOOD = b"".join(b"250-" + b"x" * 70 + b"\r\n" for _ in range((1 << 20) // 76 + 100)) + b"250 ok\r\n"

# attack: (replies, settings, expected error type or None for a send, messages the server must hold)
ATTACKS = {
    "multiline reply with mixed codes": ({"RCPT": [b"250-fine\r\n451-wait\r\n550 no such user\r\n"]}, {},
                                         SmtpRecipientsRefused, 0),
    "reply over 1 MB": ({"MAIL": [FLOOD]}, {}, SmtpConnectionLost, 0),
    "EHLO reply over 1 MB": ({"EHLO": [FLOOD]}, {}, SmtpGreetingError, 0),
    "reply with no code": ({"RCPT": [b"hello there\r\n"]}, {}, SmtpConnectionLost, 0),  # not "recipient refused"
    "STARTTLS advertised, then refused": ({"EHLO": [b"250-mx.test\r\n250 STARTTLS\r\n"],
                                           "STARTTLS": [b"454 4.7.0 TLS not available\r\n"]}, {},
                                          SmtpStartTlsError, 0),
    "STARTTLS accepted, then no TLS": ({"EHLO": [b"250-mx.test\r\n250 STARTTLS\r\n"],
                                        "STARTTLS": [b"220 go ahead\r\n"]}, {}, SmtpStartTlsError, 0),
    "AUTH with no mechanism": ({"EHLO": [b"250-mx.test\r\n250 AUTH\r\n"]},
                               {"SMTP_USERNAME": "u", "SMTP_PASSWORD": "p"}, SmtpAuthError, 0),
    "AUTH with unknown mechanisms only": ({"EHLO": [b"250-mx.test\r\n250 AUTH X-WEIRD \xff GSSAPI\r\n"]},
                                          {"SMTP_USERNAME": "u", "SMTP_PASSWORD": "p"}, SmtpAuthError, 0),
    "421 after the message, then 250": ({".": [b"421 4.3.2 shutting down\r\n", b"250 ok\r\n"]}, {}, None, 1),
    "421 to DATA itself, then 354": ({"DATA": [b"421 4.3.2 busy\r\n", b"354 go ahead\r\n"]}, {}, None, 1),
    "250 to the message, then drop": ({".": [b"250 ok\r\n"], "QUIT": ["drop"]}, {}, None, 1),
    "drop before the 250 every time": ({".": ["drop"]}, {}, SmtpConnectionLost, 0),
    "5xx after 4xx": ({"RCPT": [b"451 4.2.0 later\r\n", b"550 5.1.1 no such user\r\n"]}, {},
                      SmtpRecipientsRefused, 0),
    "invalid UTF-8 in a refusal": ({"RCPT": [b"550 5.1.1 \xff\xfe\xc3 no\r\n"]}, {}, SmtpRecipientsRefused, 0),
    "invalid UTF-8 in the greeting and EHLO": ({"EHLO": [b"250-mx\xff\r\n250 8BITMIME \xfe\r\n"]}, {}, None, 1),
}

SAYS = {"AUTH with no mechanism": "mailtpl logs in with", "AUTH with unknown mechanisms only": "offers AUTH X-WEIRD",
        "invalid UTF-8 in a refusal": "550 5.1.1 \ufffd\ufffd\ufffd no"}  # printable: no lone surrogates


def send(kind: str, server: ScriptedSmtp, settings: dict, sends: int = 1) -> SendResult | BaseException:
    """Send the verification email ``sends`` times through one mailer; the last send's result or error."""
    from mailtpl.smtp import SmtpConfig
    env = Environment(ROOT / "templates", base_url="https://fb.example.org")
    config = SmtpConfig.from_env(server.env(**settings), dotenv=None)
    if kind == "Mailer":
        with Mailer(env, config, backoff=0.01, attempts=3) as m:
            try:
                return [m.send_verification("ada@example.com", "1") for _ in range(sends)][-1]
            except Exception as exc:  # noqa: BLE001 - the test checks its type
                return exc

    async def run():
        async with AsyncMailer(env, config, backoff=0.01, attempts=3) as m:
            return [await m.send_verification("ada@example.com", "1") for _ in range(sends)][-1]
    try:
        return asyncio.run(run())
    except Exception as exc:  # noqa: BLE001
        return exc


@pytest.mark.parametrize("kind", ["Mailer", "AsyncMailer"])
@pytest.mark.parametrize("attack", ATTACKS)
def test_hostile_server(kind, attack):
    replies, settings, expected, held = ATTACKS[attack]
    server = ScriptedSmtp(replies, greeting=b"220 mx.test \xff\xfe ESMTP\r\n")
    try:
        outcome = send(kind, server, settings)
    finally:
        server.stop()
    if expected is None:
        assert isinstance(outcome, SendResult), outcome
        assert outcome.accepted == ["ada@example.com"]
    else:
        assert type(outcome) is expected, f"{type(outcome).__name__}: {outcome}"
        assert outcome.fix and SAYS.get(attack, "") in str(outcome)
        str(outcome).encode("utf-8")  # a log handler or terminal can write it
    assert server.delivered == held


@pytest.mark.parametrize("kind", ["Mailer", "AsyncMailer"])
def test_a_connection_that_drops_after_a_sent_message_loses_and_repeats_nothing(kind):
    server = ScriptedSmtp({"MAIL": [b"250 ok\r\n", "drop", b"250 ok\r\n"]})  # the pooled connection dies
    try:
        outcome = send(kind, server, {}, sends=2)
    finally:
        server.stop()
    assert isinstance(outcome, SendResult) and outcome.attempts == 2, outcome
    assert server.delivered == 2  # the first once, the second once, on a new connection
