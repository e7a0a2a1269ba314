"""Issue 16: AsyncMailer against real SMTP servers on 127.0.0.1 (aiosmtpd, raw asyncio servers for faults)."""
import asyncio
import logging
import threading
from contextlib import contextmanager

import pytest

from mailtpl.message import build_message
from mailtpl.smtp import (AsyncMailer, SmtpAuthError, SmtpConfig, SmtpConnectError, SmtpRecipientsRefused,
                          SmtpSenderRejected, SmtpStartTlsError, SmtpTlsError, SmtpTransientError)
from tests.smtp_servers import SENDER, env, free_port, smtp_server  # noqa: F401 - env is a fixture


def mailer(env, server_env: dict, **settings) -> AsyncMailer:
    return AsyncMailer(env, SmtpConfig.from_env({**server_env, **settings}, dotenv=None), backoff=0.05)


def send(m: AsyncMailer, *calls):
    """Run the sends (coroutine factories) on a fresh event loop, close the pool, return the results."""
    async def main():
        async with m:
            return [await call() for call in calls]
    return asyncio.run(main())


def test_plain_send_delivers_the_rendered_email(tmp_path, env, caplog):
    caplog.set_level(logging.INFO, logger="mailtpl")
    with smtp_server(tmp_path) as server:
        m = mailer(env, server.env())
        (result,) = send(m, lambda: m.send_verification("ada@example.com", "482913"))
    (msg,) = server.recorder.messages
    assert server.recorder.envelopes == [(SENDER, ["ada@example.com"])]
    assert msg["Subject"] == "User feedback Email Verification" and "482913" in msg.get_body("plain").get_content()
    assert msg["Message-ID"] == result.message_id and result.accepted == ["ada@example.com"]
    assert result.reply.startswith("250 2.0.0 Ok") and result.attempts == 1
    assert any(r.levelno == logging.INFO and "sent verification to ada@example.com" in r.getMessage()
               for r in caplog.records)


@pytest.mark.parametrize("tls, settings", [("starttls", {}), ("implicit", {"SMTP_TLS": "true"})])
def test_tls_and_starttls_with_login(tmp_path, env, tls, settings):
    with smtp_server(tmp_path, tls=tls, users={"apikey": "s3cret"}) as server:
        m = mailer(env, server.env(SMTP_USERNAME="apikey", SMTP_PASSWORD="s3cret", **settings))

        send(m, lambda: m.send_verification("ada@example.com", "482913"))
    assert server.recorder.encrypted == [True]


def test_wrong_password_is_an_auth_error(tmp_path, env):
    with smtp_server(tmp_path, tls="starttls", users={"apikey": "right"}) as server:
        m = mailer(env, server.env(SMTP_USERNAME="apikey", SMTP_PASSWORD="wrong"))
        with pytest.raises(SmtpAuthError) as info:
            send(m, lambda: m.send_verification("ada@example.com", "1"))
    assert info.value.code == 535 and "SMTP_USERNAME" in info.value.fix and server.recorder.messages == []


def test_drop_during_data_is_retried_on_a_new_connection_and_delivered_once(tmp_path, env):
    with smtp_server(tmp_path, script={"DATA": ["DROP"]}) as server:
        m = mailer(env, server.env())
        (result,) = send(m, lambda: m.send_verification("ada@example.com", "1"))
        assert result.attempts == 2 and m.pool.opened == 2
    assert len(server.recorder.messages) == 1 and server.recorder.commands.count("DATA") == 2


def test_451_is_retried_on_the_same_connection_after_rset(tmp_path, env):
    with smtp_server(tmp_path, script={"DATA": ["451 4.3.0 try again"]}) as server:
        m = mailer(env, server.env())
        (result,) = send(m, lambda: m.send_verification("ada@example.com", "1"))
        assert result.attempts == 2 and m.pool.opened == 1
    assert server.recorder.commands == ["MAIL", "DATA", "RSET", "MAIL", "DATA"]


def test_421_reconnects(tmp_path, env):
    with smtp_server(tmp_path, script={"MAIL": ["421 4.7.0 closing"]}) as server:
        m = mailer(env, server.env())
        (result,) = send(m, lambda: m.send_verification("ada@example.com", "1"))
        assert result.attempts == 2 and m.pool.opened == 2
    assert len(server.recorder.messages) == 1


def test_persistent_451_gives_up_with_a_transient_error(tmp_path, env, caplog):
    with smtp_server(tmp_path, script={"DATA": ["451 4.3.0 busy"] * 4}) as server:
        m = mailer(env, server.env())
        with pytest.raises(SmtpTransientError) as info:
            send(m, lambda: m.send_verification("ada@example.com", "1"))
    assert "gave up after 4 attempts" in str(info.value) and info.value.code == 451
    assert server.recorder.messages == []
    assert any(r.levelno == logging.ERROR and "sending verification to ada@example.com failed" in r.getMessage()
               for r in caplog.records)


def test_5xx_raises_at_once(tmp_path, env):
    script = {"MAIL": ["550 5.7.1 sender not verified"],
              "RCPT:bad@example.com": ["550 5.1.1 no such user"] * 2, "RCPT:gone@example.com": ["550 5.1.1 gone"]}
    with smtp_server(tmp_path, script=script) as server:
        m = mailer(env, server.env())
        with pytest.raises(SmtpSenderRejected) as info:
            send(m, lambda: m.send_verification("ada@example.com", "1"))
        assert info.value.code == 550 and "SMTP_SENDER" in info.value.fix
        (partial,) = send(m, lambda: m.send("verification", ["ada@example.com", "bad@example.com"], {"code": "1"}))
        with pytest.raises(SmtpRecipientsRefused) as refused:
            send(m, lambda: m.send("verification", ["bad@example.com", "gone@example.com"], {"code": "1"}))
    assert partial.refused == {"bad@example.com": (550, "5.1.1 no such user")}
    assert set(refused.value.refused) == {"bad@example.com", "gone@example.com"}
    assert server.recorder.envelopes == [(SENDER, ["ada@example.com"])]


def test_closed_port_tls_mismatch_and_failed_starttls(tmp_path, env):
    port = free_port()
    m = mailer(env, {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_SENDER": SENDER})
    with pytest.raises(SmtpConnectError) as info:
        send(m, lambda: m.send_verification("ada@example.com", "1"))
    assert f"127.0.0.1:{port} refused" in str(info.value) and "firewall" in info.value.fix
    with smtp_server(tmp_path) as server:
        m = mailer(env, server.env(SMTP_TLS="true"))
        with pytest.raises(SmtpTlsError) as tls:
            send(m, lambda: m.send_verification("ada@example.com", "1"))
    assert "TLS handshake" in str(tls.value) and "465" in tls.value.fix
    with smtp_server(tmp_path, tls="starttls") as server:
        m = mailer(env, server.env(SMTP_CA_FILE=""))  # the certificate is not trusted
        with pytest.raises(SmtpStartTlsError):
            send(m, lambda: m.send_verification("ada@example.com", "1"))
        m = mailer(env, server.env(SMTP_CA_FILE="", SMTP_OPPORTUNISTIC_TLS="true"))
        send(m, lambda: m.send_verification("ada@example.com", "1"))
    assert len(server.recorder.messages) == 1


@contextmanager
def raw_server(behaviour):
    """A TCP server on 127.0.0.1 whose every connection is handled by ``behaviour(reader, writer, n)``."""
    port = free_port()
    loop = asyncio.new_event_loop()
    count = [0]
    handlers: set[asyncio.Task] = set()

    async def handle(reader, writer):
        count[0] += 1
        handlers.add(asyncio.current_task())
        try:
            await behaviour(reader, writer, count[0])
        finally:
            writer.close()

    async def stop():
        server.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)

    server = loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", port))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield port, count
    finally:
        asyncio.run_coroutine_threadsafe(stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


async def speak_smtp(reader, writer):
    """Just enough SMTP to take one message, for the connections a fault server lets through."""
    writer.write(b"220 ready\r\n")
    while line := await reader.readline():
        verb = line[:4].upper()
        if verb == b"DATA":
            writer.write(b"354 go\r\n")
            while (await reader.readline()) not in (b".\r\n", b""):
                pass
            writer.write(b"250 2.0.0 Ok: queued\r\n")
        elif verb == b"QUIT":
            writer.write(b"221 bye\r\n")
            return
        else:
            writer.write(b"250 ok\r\n")


@pytest.mark.parametrize("fault, expected, retries", [
    ("drop", "closed the connection before its greeting", 2),
    ("421", "greeted with 421: busy or not accepting mail now", 2),
    ("silent", "but no greeting within SMTP_TIMEOUT=0.3s", 1),  # the 2nd connection asks whether it speaks TLS
])
def test_failures_before_the_greeting_are_retried(env, fault, expected, retries, caplog):
    async def behaviour(reader, writer, n):
        if n <= 2:  # the first two connections fail, the third one works
            if fault == "421":
                writer.write(b"421 4.3.2 too busy\r\n")
                await writer.drain()
            elif fault == "silent":
                await asyncio.sleep(2)
            return
        await speak_smtp(reader, writer)

    caplog.set_level(logging.WARNING, logger="mailtpl")
    with raw_server(behaviour) as (port, count):
        m = mailer(env, {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_SENDER": SENDER,
                         "SMTP_TIMEOUT": "0.3"})
        (result,) = send(m, lambda: m.send_verification("ada@example.com", "1"))
    assert result.attempts == retries + 1 and count[0] == 3
    assert sum(expected in r.getMessage() for r in caplog.records) == retries


def test_a_server_that_stalls_mid_transaction_is_bounded_by_the_timeout(env):
    async def behaviour(reader, writer, n):
        writer.write(b"220 ready\r\n")
        while line := await reader.readline():
            if n == 1 and line.upper().startswith(b"RCPT"):
                await asyncio.sleep(3)  # never answers in time
                return
            if line.upper().startswith(b"DATA"):
                writer.write(b"354 go\r\n")
                while (await reader.readline()) not in (b".\r\n", b""):
                    pass
                writer.write(b"250 ok\r\n")
            else:
                writer.write(b"250 ok\r\n")

    with raw_server(behaviour) as (port, count):
        m = mailer(env, {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_SENDER": SENDER,
                         "SMTP_TIMEOUT": "0.5"})
        (result,) = send(m, lambda: m.send_verification("ada@example.com", "1"))
    assert result.attempts == 2 and count[0] == 2


def test_many_tasks_share_a_pool_of_four(tmp_path, env):
    with smtp_server(tmp_path, script={"DATA": ["451 4.3.0 busy", "DROP"]}) as server:
        m = mailer(env, server.env())

        async def main():
            async with m:
                return await asyncio.gather(*(m.send_verification(f"user{i}@example.com", f"{i:06d}")
                                              for i in range(200)))
        results = asyncio.run(main())
        assert m.pool.opened <= 5  # four, plus the one that replaced the dropped connection
        assert 1 <= server.recorder.most_in_transaction <= 4  # the server never saw more than four at once
    received = sorted(addr for _, rcpts in server.recorder.envelopes for addr in rcpts)
    assert received == sorted(f"user{i}@example.com" for i in range(200))  # each exactly once
    assert len({r.message_id for r in results}) == 200 and sum(r.attempts for r in results) == 202


def test_debug_log_shows_the_conversation_as_mailer_does_with_auth_redacted(tmp_path, env, caplog):
    caplog.set_level(logging.DEBUG, logger="mailtpl")
    with smtp_server(tmp_path, tls="starttls", users={"apikey": "pa55word"}) as server:
        m = mailer(env, server.env(), SMTP_USERNAME="apikey", SMTP_PASSWORD="pa55word")
        send(m, lambda: m.send_verification("ada@example.com", "1"))
    where = f"127.0.0.1:{server.port}"
    log = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert all(line.startswith(f"{where} ") for line in log)
    log = [line.split(" ", 1)[1] for line in log]
    assert log[0].startswith("<< 220 ") and log[1].upper().startswith(">> EHLO ")  # the greeting, then EHLO
    assert ">> STARTTLS" in log and ">> AUTH ***" in log and "<< 235 ***" in log
    mail = log.index(f">> MAIL FROM:<{SENDER}>")
    assert log[mail + 1] == "<< 250 OK" and log[mail + 2] == ">> RCPT TO:<ada@example.com>"
    assert log[mail + 4].startswith(">> DATA (") and log[mail + 5].startswith("<< 250 2.0.0 Ok")
    assert not any("pa55word" in line or "cGE1NXdvcmQ" in line for line in log)  # nor its base64


def test_send_message_sends_bcc_without_showing_it(tmp_path, env):
    msg = build_message(env.render("verification", {"code": "1"}), to="ada@example.com", sender=SENDER)
    msg["Bcc"] = "audit@example.com"
    with smtp_server(tmp_path) as server:
        m = mailer(env, server.env())
        send(m, lambda: m.send_message(msg))
    assert server.recorder.envelopes == [(SENDER, ["ada@example.com", "audit@example.com"])]
    assert server.recorder.messages[0]["Bcc"] is None


@pytest.mark.parametrize("greeting, words", [
    (b"554 5.7.1 no service for you\r\n", "refuses service"),
    (b"220-" + b"x" * 70 + b"\r\n", "did not answer with an SMTP greeting"),  # repeated: a flood of 220- lines
])
def test_a_554_greeting_or_a_flood_is_permanent(env, greeting, words):
    async def behaviour(reader, writer, n):
        for _ in range(1 if greeting.startswith(b"554") else 50_000):
            writer.write(greeting)
            await writer.drain()
        await reader.read()

    with raw_server(behaviour) as (port, count):
        m = mailer(env, {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_SENDER": SENDER,
                         "SMTP_TIMEOUT": "2"})
        with pytest.raises(SmtpConnectError) as info:
            send(m, lambda: m.send_verification("ada@example.com", "1"))
    assert words in info.value.message and count[0] == 1  # not a server worth retrying
