"""Issue 15: the capture SMTP server, its inbox and API, the `mail_capture` fixture, `mailtpl capture`."""
import json
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from mailtpl import Environment
from mailtpl.capture import CapturedMessage, CaptureError, CaptureServer, CaptureTimeout, Inbox, create_app
from mailtpl.capture import register
from mailtpl.message import compose
from mailtpl.preview import create_app as create_preview_app
from mailtpl.smtp import Mailer, SmtpConfig
from tests.smtp_servers import free_port, smtp_server

ROOT = Path(__file__).resolve().parents[1]
SENDER = "no-reply@fb.example.org"
RAW = (b'From: "User feedback" <no-reply@fb.example.org>\r\nTo: ada@example.com\r\nSubject: Hello\r\n'
       b"Content-Type: text/plain; charset=utf-8\r\n\r\nYour code is 482913.\r\nSee https://fb.example.org/x?a=1\r\n")


def tls_client(server: CaptureServer) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.cert_file))  # verified, not turned off


class Api:
    """The capture's HTTP API on a free port of 127.0.0.1."""

    def __init__(self, app) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def call(self, path: str, method: str = "GET", body=None, headers=None) -> tuple[int, bytes, dict]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", **(headers or {})} if data else (headers or {})
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), dict(exc.headers)

    def json(self, path: str, method: str = "GET", body=None, headers=None) -> tuple[int, dict]:
        status, content, _ = self.call(path, method, body, headers)
        return status, json.loads(content)


@pytest.fixture
def capture():
    with CaptureServer(port=0) as server:
        yield server


@pytest.fixture
def api(capture):
    api = Api(create_app(capture.inbox, address=(capture.host, capture.port)))
    yield api
    api.server.shutdown()


# -- SMTP -------------------------------------------------------------------------------------------
def test_plain_smtplib_message_is_caught_byte_for_byte_for_any_recipient(capture):
    with smtplib.SMTP(capture.host, capture.port, timeout=10) as smtp:
        refused = smtp.sendmail("app@example.org", ["ada@example.com", "anyone@anywhere.invalid"], RAW)
    assert refused == {}
    (message,) = capture.inbox.messages
    assert message.raw == RAW
    assert (message.mail_from, message.rcpt_tos) == ("app@example.org", ["ada@example.com", "anyone@anywhere.invalid"])
    assert (message.subject, message.sender, message.to) == ("Hello", '"User feedback" <no-reply@fb.example.org>',
                                                            ["ada@example.com"])
    assert message.text == "Your code is 482913.\r\nSee https://fb.example.org/x?a=1\r\n" and message.html is None
    assert (message.login, message.tls, message.size) == (None, False, len(RAW))


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_starttls_then_auth_with_any_credentials(capture, mechanism):
    with smtplib.SMTP(capture.host, capture.port, timeout=10) as smtp:
        smtp.starttls(context=tls_client(capture))
        smtp.ehlo()
        assert "auth" in smtp.esmtp_features and "starttls" not in smtp.esmtp_features
        smtp.user, smtp.password = "apikey", "SG.anything-goes"
        code, _ = smtp.auth(mechanism, getattr(smtp, f"auth_{mechanism.lower()}"))
        assert code == 235
        smtp.sendmail("app@example.org", ["ada@example.com"], RAW)
    (message,) = capture.inbox.messages
    assert (message.login, message.tls) == ("apikey", True)
    assert "SG.anything-goes" not in repr(message) + json.dumps(message.details())  # the password is not kept


def test_auth_without_tls_is_accepted_for_apps_that_log_in_on_plain_connections(capture):
    with smtplib.SMTP(capture.host, capture.port, timeout=10) as smtp:
        smtp.ehlo()
        assert {"auth", "starttls"} <= set(smtp.esmtp_features)
        assert smtp.login("user", "wrong-or-right")[0] == 235
        smtp.sendmail("app@example.org", ["ada@example.com"], RAW)
    assert capture.inbox.messages[0].login == "user"


def test_mailer_with_starttls_and_login_through_the_fixture(mail_capture, monkeypatch):
    for key, value in {"SMTP_SENDER": SENDER, "SMTP_USERNAME": "apikey", "SMTP_PASSWORD": "secret",
                       "ADMIN_WEB_URL": "https://fb.example.org"}.items():
        monkeypatch.setenv(key, value)
    assert (os.environ["SMTP_HOST"], os.environ["SMTP_PORT"]) == ("127.0.0.1", str(mail_capture.port))
    with Mailer(Environment(ROOT / "templates"), SmtpConfig.from_env(dotenv=None)) as mailer:
        mailer.send_verification("ada@example.com", "004213")
        mailer.send_reset_password("a+b@x.io", "c0de")
    code_mail = mail_capture.wait_for(to="ada@example.com", subject="User feedback Email Verification")
    assert code_mail.find(r"\b(\d{6})\b") == "004213" and code_mail.tls and code_mail.login == "apikey"
    reset = mail_capture.wait_for(to="a+b@x.io")
    assert "https://fb.example.org/link/reset-password?code=c0de&email=a%2Bb%40x.io" in reset.links()
    assert [m.subject for m in mail_capture.messages] == ["User feedback Email Verification",
                                                         "User feedback Reset Password"]


def test_mailer_with_opportunistic_starttls_and_no_ca_file_still_delivers(capture):
    """An app that does not trust the capture's certificate but allows SMTP_OPPORTUNISTIC_TLS carries on in plain."""
    settings = {**capture.env(), "SMTP_SENDER": SENDER, "SMTP_OPPORTUNISTIC_TLS": "true"}
    del settings["SMTP_CA_FILE"]
    with Mailer(Environment(ROOT / "templates", base_url="https://fb.example.org"),
                SmtpConfig.from_env(settings, dotenv=None)) as mailer:
        mailer.send_verification("ada@example.com", "123456")
    message = capture.inbox.wait_for(to="ada@example.com")
    assert message.find(r"\b(\d{6})\b") == "123456" and not message.tls


NODE_SEND = """
const nodemailer = require('nodemailer');
const [port, ca] = process.argv.slice(1);
nodemailer.createTransport({ host: '127.0.0.1', port: Number(port), secure: false, requireTLS: true,
  auth: { user: 'node', pass: 'pw' }, tls: { ca: require('fs').readFileSync(ca) } })
  .sendMail({ from: '"User feedback" <no-reply@fb.example.org>', to: 'ada@example.com', subject: 'From node',
              text: 'code 777111', html: '<p>code <b>777111</b></p>' })
  .then((info) => console.log(info.response), (e) => { console.error(e.message); process.exit(1); });
"""


def test_nodemailer_with_starttls_and_auth_is_caught(capture):
    node = shutil.which("node")
    modules = ROOT / "bench" / "node_modules"
    if not node or not (modules / "nodemailer").is_dir():
        pytest.skip("needs node and `npm install --prefix bench nodemailer`")
    proc = subprocess.run([node, "-e", NODE_SEND, str(capture.port), str(capture.cert_file)], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "NODE_PATH": str(modules)})
    assert proc.returncode == 0, proc.stderr
    message = capture.inbox.wait_for(to="ada@example.com", subject="From node", timeout=5)
    assert (message.login, message.tls) == ("node", True)
    assert message.text.strip() == "code 777111" and message.find(r"<b>(\d+)</b>") == "777111"  # then the HTML
    assert message.html == "<p>code <b>777111</b></p>" and message.sender == "User feedback <no-reply@fb.example.org>"


def test_a_message_over_the_size_limit_is_refused_with_552_and_not_kept():
    with CaptureServer(port=0, max_message_bytes=1000) as server:
        with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
            smtp.ehlo()
            assert smtp.esmtp_features["size"] == "1000"
            with pytest.raises(smtplib.SMTPSenderRefused) as refused:  # smtplib declares SIZE in MAIL FROM
                smtp.sendmail("app@example.org", ["ada@example.com"], RAW + b"x" * 1000)
            assert refused.value.smtp_code == 552
            assert smtp.docmd("MAIL FROM:<app@example.org>")[0] == 250  # a client that does not declare the size
            assert smtp.rcpt("ada@example.com")[0] == 250
            assert smtp.data(RAW + b"x" * 1000)[0] == 552
        assert len(server.inbox) == 0


def test_events_stream_count_is_bounded(capture, api):
    from mailtpl.capture.web import MAX_STREAMS

    streams = [urllib.request.urlopen(api.url + "/api/messages/events", timeout=10) for _ in range(MAX_STREAMS)]
    try:
        assert api.call("/api/messages/events")[0] == 503
    finally:
        for stream in streams:
            stream.close()


def test_port_in_use_names_the_option_to_change(capture):
    with pytest.raises(CaptureError, match=r"127\.0\.0\.1:\d+: the port is in use \(choose another with --smtp-port"):
        CaptureServer(port=capture.port).start()


# -- the inbox --------------------------------------------------------------------------------------
def send(server: CaptureServer, subject: str, to: str = "ada@example.com") -> None:
    with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
        smtp.sendmail("app@example.org", [to], RAW.replace(b"Subject: Hello", f"Subject: {subject}".encode())
                      .replace(b"To: ada@example.com", f"To: {to}".encode()))


def test_inbox_keeps_the_newest_messages_up_to_its_limit(tmp_path):
    with CaptureServer(Inbox(limit=3, folder=tmp_path / "eml"), port=0) as server:
        for i in range(5):
            send(server, f"n{i}")
        assert [m.subject for m in server.inbox.messages] == ["n2", "n3", "n4"]
        files = sorted(p.name for p in (tmp_path / "eml").iterdir())
        assert files == sorted(f"{m.id}.eml" for m in server.inbox.messages)  # dropped from memory, dropped on disk
        assert (tmp_path / "eml" / f"{server.inbox.messages[0].id}.eml").read_bytes().startswith(b"From:")


def test_folder_is_read_back_at_start_ignoring_files_that_are_not_ours(tmp_path):
    folder = tmp_path / "eml"
    with CaptureServer(Inbox(folder=folder), port=0) as server:
        send(server, "kept")
        kept = server.inbox.messages[0]
    (folder / "notes.eml").write_bytes(b"Subject: not ours\r\n\r\n")
    (folder / "..evil.eml").write_bytes(b"Subject: not ours\r\n\r\n")
    outside = tmp_path / "secret.txt"
    outside.write_bytes(b"Subject: outside the folder\r\n\r\n")
    (folder / "0123456789abcdef.eml").symlink_to(outside)
    again = Inbox(folder=folder)
    assert [(m.id, m.subject, m.raw) for m in again.messages] == [(kept.id, "kept", kept.raw)]
    again.delete(kept.id)
    assert sorted(p.name for p in folder.iterdir()) == ["..evil.eml", "0123456789abcdef.eml", "notes.eml"]
    assert outside.read_bytes() == b"Subject: outside the folder\r\n\r\n"


@pytest.mark.parametrize("bound", ["limit", "max_bytes"])
def test_folder_read_back_with_a_smaller_bound_drops_the_oldest_files(tmp_path, bound):
    folder = tmp_path / "eml"
    with CaptureServer(Inbox(folder=folder), port=0) as server:
        for i in range(3):
            send(server, f"n{i}")
            os.utime(folder / f"{server.inbox.messages[-1].id}.eml", (1000 + i, 1000 + i))  # distinct mtimes
    size = server.inbox.messages[0].size  # the subjects n0..n2 are as long as each other
    again = Inbox(folder=folder, **{bound: 2 if bound == "limit" else 2 * size})
    assert ([m.subject for m in again.messages], again.bytes) == (["n1", "n2"], 2 * size)
    assert sorted(p.stem for p in folder.iterdir()) == sorted(m.id for m in again.messages)


def test_inbox_drops_the_oldest_past_its_byte_bound_in_memory_and_on_disk(tmp_path):
    folder = tmp_path / "eml"
    size = len(RAW.replace(b"Subject: Hello", b"Subject: n0"))
    with CaptureServer(Inbox(folder=folder, max_bytes=size * 5 // 2), port=0) as server:
        for i in range(4):
            send(server, f"n{i}")
        assert [m.subject for m in server.inbox.messages] == ["n2", "n3"]
        assert server.inbox.bytes == 2 * size
        assert sorted(p.stem for p in folder.iterdir()) == sorted(m.id for m in server.inbox.messages)
        server.inbox.delete(server.inbox.messages[0].id)
        assert server.inbox.bytes == size
        send(server, "n4")
        send(server, "n5")
        assert [m.subject for m in server.inbox.messages] == ["n4", "n5"]
        server.inbox.clear()
        assert server.inbox.bytes == 0


def test_a_message_larger_than_the_inbox_holds_is_refused_not_kept_and_lost():
    with CaptureServer(Inbox(max_bytes=500), port=0) as server:
        with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
            smtp.ehlo()
            assert smtp.esmtp_features["size"] == "500"
            with pytest.raises(smtplib.SMTPSenderRefused) as refused:
                smtp.sendmail("app@example.org", ["ada@example.com"], RAW + b"x" * 500)
            assert refused.value.smtp_code == 552
        assert len(server.inbox) == 0


def test_wait_for_times_out_naming_what_was_caught(capture):
    send(capture, "Something else", to="bob@example.com")
    with pytest.raises(CaptureTimeout, match=r"no message \(to='ada@example.com'\) within 0.2s; caught 1:\n"
                                             r"  to bob@example.com: 'Something else'"):
        capture.inbox.wait_for(to="ada@example.com", timeout=0.2)


def test_wait_for_returns_a_message_that_arrives_while_waiting(capture):
    threading.Timer(0.3, send, args=(capture, "Late")).start()
    assert capture.inbox.wait_for(to="ADA@example.com", subject="Late", timeout=10).subject == "Late"


HOSTILE = [
    b"garbage without headers \xff\xfe\x00",
    b"Subject: =?x-unknown?B?AAAA?=\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\n\xff\xfebody",
    b"Subject: bad\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/html\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n!!!notbase64\r\n",  # unterminated multipart
    b"From: <<<@@@>>>\r\nTo: ,,,;;\"\r\nSubject: \r\n\tfolded\r\n\r\n",
    b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    b"=ZZ<a href=\"javascript:alert(1)\">x</a>",
    # nested past the stdlib reader's recursion: the whole inbox listing used to be a 500
    b"Subject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
    + b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1) for i in range(3000)),
    b"Content-Type: message/rfc822\r\n\r\n" * 3000 + b"Subject: inside\r\n\r\nbody",
    # RFC 2231 continuations the stdlib raises on (TypeError, ValueError), an unknown charset in an encoded word
    b"Subject: =?utf\xff-8?q?x?=\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
    b"Content-Type: text/plain; charset=\"utf\x00-8\"\r\n\r\ntext\r\n--b\r\n"
    b"Content-Disposition: attachment; filename*0*=x''%ff; filename*=a; filename*1=\r\n\r\nx\r\n--b\r\n"
    b"Content-Disposition: attachment; filename*=utf-8''a\x00b\r\n\r\nx\r\n--b--\r\n",
]


@pytest.mark.parametrize("raw", HOSTILE)
def test_malformed_messages_are_shown_not_crashed_on(capture, api, raw):
    with smtplib.SMTP(capture.host, capture.port, timeout=10) as smtp:
        smtp.sendmail("app@example.org", ["ada@example.com"], raw)
    status, listing = api.json("/api/messages")
    assert status == 200 and listing["total"] == 1
    message_id = listing["messages"][0]["id"]
    status, details = api.json(f"/api/messages/{message_id}")
    assert status == 200 and isinstance(details["headers"], list)
    assert api.call(f"/api/messages/{message_id}.eml")[1] == capture.inbox.get(message_id).raw


def test_a_message_nested_past_the_limit_is_read_as_its_headers(capture):
    from mailtpl.capture.message import MAX_NESTING

    def nested(subject: str, levels: int) -> bytes:  # a MIME tree ``levels`` deep, the text at the bottom
        return (f"Subject: {subject}\r\n".encode() + b"Content-Type: message/rfc822\r\n\r\n" * (levels - 1)
                + b"Subject: inside\r\n\r\ninner text")

    with smtplib.SMTP(capture.host, capture.port, timeout=10) as smtp:
        smtp.sendmail("app@example.org", ["ada@example.com"], nested("at the limit", MAX_NESTING))
        smtp.sendmail("app@example.org", ["ada@example.com"], nested("too deep", MAX_NESTING + 1))
    within, beyond = capture.inbox.messages
    assert (within.subject, within.find("inner (text)"), len(within.parts)) == ("at the limit", "text", 1)
    assert (beyond.subject, beyond.text, [p.content_type for p in beyond.parts]) == ("too deep", None,
                                                                                     ["message/rfc822"])


def test_utf8_headers_of_an_smtputf8_client_read_as_utf8(capture):
    with smtplib.SMTP(capture.host, capture.port, timeout=10) as smtp:
        smtp.sendmail("app@example.org", ["ada@example.com"],
                      "From: Zoë <zoë@example.org>\r\nSubject: ✓ café\r\n\r\nbody".encode(), mail_options=["SMTPUTF8"])
        smtp.sendmail("app@example.org", ["ada@example.com"], b"Subject: caf\xe9\r\n\r\nnot UTF-8")
    utf8, latin1 = capture.inbox.messages
    assert (utf8.sender, utf8.subject) == ("Zoë <zoë@example.org>", "✓ café")
    assert latin1.subject == "caf\ufffd"


def test_a_message_of_more_parts_than_the_limit_is_read_as_its_headers():
    from mailtpl.capture.message import MAX_BOUNDARIES

    def parts(count: int) -> CapturedMessage:
        raw = (f"Subject: {count} parts\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n".encode()
               + b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" * count + b"--b--\r\n")
        return CapturedMessage("0123456789abcdef", raw, "", [], datetime.now(UTC))

    within, beyond = parts(MAX_BOUNDARIES - 1), parts(MAX_BOUNDARIES)  # the closing boundary is one more line
    assert (len(within.parts), within.text) == (MAX_BOUNDARIES - 1, "x")
    assert ([p.content_type for p in beyond.parts], beyond.text, beyond.subject) == (
        ["multipart/mixed"], None, f"{MAX_BOUNDARIES} parts")


def test_hostile_header_fields_list_at_once_without_a_500(capture, api):
    """Nested comments recurse in the stdlib's address reader, encoded words are quadratic in its decoder:
    one such mail made the listing a 500, or took 35 s (2 MB of encoded words)."""
    from mailtpl.capture.message import MAX_ENCODED_WORDS, MAX_HEADER_BYTES

    words = "\r\n".join([" =?utf-8?q?a?=" * 50] * (MAX_ENCODED_WORDS // 50 + 1))  # SMTP lines end by 1,000
    long_header = b"X-Filler: " + b"x" * 900 + b"\r\n"
    mails = [b"Subject: comments\r\nTo:" + b"\r\n ".join([b"(" * 900] * 100) + b"\r\n\r\nbody",
             f"Subject:{words}\r\nTo: ada@example.com\r\n\r\nbody".encode(),
             b"Subject: first\r\n" + long_header * (MAX_HEADER_BYTES // len(long_header) + 10)
             + b"X-Last: dropped\r\nContent-Type: text/html\r\n\r\nthe body"]
    with smtplib.SMTP(capture.host, capture.port, timeout=10) as smtp:
        for raw in mails:
            smtp.sendmail("app@example.org", ["ada@example.com"], raw)
    status, listing = api.json("/api/messages")
    assert status == 200
    assert [(m["subject"], m["to"]) for m in reversed(listing["messages"])] == [
        ("comments", ["ada@example.com"]), (words.replace("\r\n", "").strip(), ["ada@example.com"]),
        ("first", ["ada@example.com"])]
    long = capture.inbox.messages[2]
    assert "X-Last" not in long.headers and len(long.headers.get_all("X-Filler")) < MAX_HEADER_BYTES // 900
    # reading the body leaves them out too (32 MB of header fields took half a minute): the type was among them
    assert "X-Last" not in long.parse() and (long.text, long.html) == ("the body\r\n", None)


HEADER_ENDS = [b"Subject: a\n\nb", b"Subject: a\n\r\nb", b"Subject: a\r\n\nb", b"Subject: a\r\rb", b"Subject: a",
               b"\r\nSubject: a\r\n\r\nb", b"Subject: a\r\n folded\r\n\r\nX-Body: b",
               b"Subject: a\r\nnot a field\r\nX: b\r\n\r\n"]


@pytest.mark.parametrize("raw", HOSTILE + HEADER_ENDS + [RAW])
def test_headers_read_from_the_header_block_equal_those_of_the_whole_message(raw):
    """The listing reads only the bytes before the first blank line; reading the whole message gives the same
    fields (the decoding of each value is the same code on both sides: what is compared is where reading stops)."""
    from mailtpl.capture.message import _decode_header, _utf8

    message = CapturedMessage("0123456789abcdef", raw, "", [], datetime.now(UTC))
    whole = [(name, _decode_header(_utf8(value))) for name, value in message.parse().raw_items()]
    assert list(message.headers) == whole


def test_listing_and_searching_keep_no_parsed_tree_of_the_mail():
    """Only the headers, text, HTML and list of parts are kept: the tree would double the inbox's memory."""
    attachment = b"A" * 100_000
    raw = (b"Subject: big\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain"
           b"\r\n\r\nhello\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n" + attachment + b"\r\n--b--\r\n")
    message = CapturedMessage("0123456789abcdef", raw, "", [], datetime.now(UTC))
    message.summary(), message.matches("hello"), message.details()
    kept = [value for name, value in vars(message).items() if name != "raw"]
    assert not any(isinstance(value, Message) for value in kept)
    assert not any(attachment in repr(value).encode() for value in kept)
    assert [part.size for part in message.parts] == [5, len(attachment)]


# -- the API ----------------------------------------------------------------------------------------
def test_api_round_trip(capture, api):
    rendered = Environment(ROOT / "templates", base_url="https://fb.example.org").render(
        "invitation", {"link": "https://fb.example.org/link/user-invitation?code=c&email=g%40x.io"})
    composed = compose(rendered, to="g@x.io", sender=SENDER)
    with smtplib.SMTP(capture.host, capture.port, timeout=10) as smtp:
        smtp.sendmail(SENDER, ["g@x.io"], composed.wire)
    send(capture, "Second")
    status, listing = api.json("/api/messages")
    assert status == 200 and (listing["total"], listing["limit"]) == (2, 1000)
    newest, invitation = listing["messages"]
    assert newest["subject"] == "Second"
    assert {k: invitation[k] for k in ("from", "to", "subject", "size")} == {
        "from": '"User feedback" <no-reply@fb.example.org>', "to": ["g@x.io"], "subject": "User Feedback Invitation",
        "size": len(composed.wire)}

    status, details = api.json(f"/api/messages/{invitation['id']}")
    assert [p["content_type"] for p in details["parts"]] == ["text/plain", "text/html"]
    assert ["Message-ID", composed.message_id] in details["headers"]
    assert "https://fb.example.org/link/user-invitation?code=c&email=g%40x.io" in details["links"]
    assert "user-invitation" in details["text"] and "<html" in details["html"].lower()

    status, eml, headers = api.call(f"/api/messages/{invitation['id']}.eml")
    assert (status, eml, headers["Content-Type"]) == (200, composed.wire, "message/rfc822")
    status, html, headers = api.call(f"/api/messages/{invitation['id']}/html")
    assert status == 200 and html.decode().replace('<base target="_blank">', "", 1) == details["html"]  # links: new tab
    policy = headers["Content-Security-Policy"]
    assert policy.startswith("sandbox ") and "allow-scripts" not in policy and "default-src 'none'" in policy

    assert [m["subject"] for m in api.json("/api/messages?q=INVITATION")[1]["messages"]] == ["User Feedback Invitation"]
    assert [m["subject"] for m in api.json("/api/messages?q=482913")[1]["messages"]] == ["Second"]  # text is searched
    assert api.json(f"/api/messages/{newest['id']}", "DELETE") == (200, {"deleted": 1})
    assert api.json(f"/api/messages/{newest['id']}")[0] == 404
    assert api.json(f"/api/messages/{newest['id']}", "DELETE")[0] == 404
    assert api.json("/api/messages", "DELETE") == (200, {"deleted": 1})
    assert api.json("/api/messages")[1]["messages"] == []


def test_other_sites_cannot_change_the_inbox(capture, api):
    """The preview's guard covers the API: a page of another site cannot POST (Origin), rebind its name to
    127.0.0.1 (Host), or send a form; a cross-site DELETE is preflighted by browsers, and no CORS header allows it."""
    send(capture, "Keep me")
    message_id = capture.inbox.messages[0].id
    release = f"/api/messages/{message_id}/release"
    assert api.call(release, "POST", {"to": "me@example.net"}, {"Origin": "http://evil.example"})[0] == 403
    assert api.call("/api/messages", "DELETE", headers={"Host": "evil.example"})[0] == 400
    assert api.call(release, "POST", headers={"Content-Type": "application/x-www-form-urlencoded"})[0] == 415
    status, _, headers = api.call("/api/messages", "OPTIONS", headers={"Origin": "http://evil.example",
                                                                       "Access-Control-Request-Method": "DELETE"})
    assert not any(name.lower().startswith("access-control-allow") for name in headers)
    assert len(capture.inbox) == 1


def test_events_stream_tells_of_new_mail(capture, api):
    with urllib.request.urlopen(api.url + "/api/messages/events", timeout=10) as stream:
        assert stream.readline().startswith(b"event: hello")
        stream.readline(), stream.readline()
        send(capture, "Live")
        assert stream.readline() == b"event: change\n"
        assert json.loads(stream.readline().removeprefix(b"data: "))["total"] == 1


# -- release --------------------------------------------------------------------------------------
def test_release_delivers_the_bytes_to_one_recipient_through_the_real_server(capture, api, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no stray .env
    with smtp_server(tmp_path, tls="starttls", users={"relay": "pw"}) as real:
        for key, value in real.env(SMTP_USERNAME="relay", SMTP_PASSWORD="pw").items():
            monkeypatch.setenv(key, value)
        with smtplib.SMTP(capture.host, capture.port, timeout=10) as smtp:
            smtp.sendmail("app@example.org", ["ada@example.com", "bob@example.com"], RAW)
        message_id = capture.inbox.messages[0].id
        assert api.json(f"/api/messages/{message_id}/release", "POST", {"to": ["a@x.io", "b@x.io"]})[0] == 400
        assert api.json(f"/api/messages/{message_id}/release", "POST", {"to": "not an address"})[0] == 422
        status, result = api.json(f"/api/messages/{message_id}/release", "POST", {"to": "me@example.net"})
    assert status == 200 and result["to"] == "me@example.net" and result["reply"].startswith("250")
    assert real.recorder.envelopes == [(SENDER, ["me@example.net"])]
    assert real.recorder.raw == [RAW]


def test_release_refuses_to_send_to_itself_or_without_settings(capture, api, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for key in ("SMTP_HOST", "SMTP_PORT", "SMTP_SENDER"):
        monkeypatch.delenv(key, raising=False)
    send(capture, "x")
    message_id = capture.inbox.messages[0].id
    status, body = api.json(f"/api/messages/{message_id}/release", "POST", {"to": "me@example.net"})
    assert status == 409 and "SMTP_HOST" in body["error"]["message"]
    for key, value in {"SMTP_HOST": "localhost", "SMTP_PORT": str(capture.port), "SMTP_SENDER": SENDER}.items():
        monkeypatch.setenv(key, value)
    status, body = api.json(f"/api/messages/{message_id}/release", "POST", {"to": "me@example.net"})
    assert status == 409 and "point at this capture server" in body["error"]["message"]
    assert len(capture.inbox) == 1


def own_address() -> str:
    """This machine's address on its default route (a UDP connect sends nothing), else its name's."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the outgoing interface
            return probe.getsockname()[0]
        except OSError:
            return socket.gethostbyname(socket.gethostname())


# Names the capture (on 127.0.0.1) is reached by, or that resolve to this machine, that a check of the name's
# text misses: the resolver reads 127.1 and 2130706433 as 127.0.0.1, and 0.0.0.0 connects to this machine.
@pytest.mark.parametrize("host", ["localhost", "127.1", "2130706433", "0.0.0.0", "127.0.0.2", "LocalHost.",
                                  socket.gethostname(), own_address()])
def test_release_to_this_capture_by_another_name_is_refused(capture, api, tmp_path, monkeypatch, host):
    monkeypatch.chdir(tmp_path)
    for key, value in {"SMTP_HOST": host, "SMTP_PORT": str(capture.port), "SMTP_SENDER": SENDER}.items():
        monkeypatch.setenv(key, value)
    send(capture, "x")
    message_id = capture.inbox.messages[0].id
    status, body = api.json(f"/api/messages/{message_id}/release", "POST", {"to": "me@example.net"})
    assert status == 409 and "point at this capture server" in body["error"]["message"]
    assert len(capture.inbox) == 1  # not caught a second time


# -- the preview and the command --------------------------------------------------------------------
def test_preview_serves_the_inbox_only_with_capture(capture, tmp_path):
    env = Environment(ROOT / "templates")
    app = create_preview_app(env, watch=False)
    register(app, capture.inbox, address=(capture.host, capture.port))
    with_capture = app.test_client()
    assert with_capture.get("/inbox").status_code == 200
    assert b'id="inbox-link"' in with_capture.get("/").data
    without = create_preview_app(env, watch=False).test_client()
    assert without.get("/inbox").status_code == 404 and b'id="inbox-link"' not in without.get("/").data
    headless = create_app(capture.inbox).test_client()  # API only
    page = headless.get("/inbox")
    assert page.status_code == 404 and b'<a href="/api/messages">' in page.data


def get_json(url: str, timeout: float = 20.0):
    """GET ``url`` as JSON, waiting up to ``timeout`` seconds for a just-started server to answer."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            return exc.code
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def run_command(*args: str):
    return subprocess.Popen([sys.executable, "-m", "mailtpl", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)


def caught_on(line: str) -> int:
    """The SMTP port in the line a command prints when it starts catching."""
    assert line.startswith("catching mail on smtp://127.0.0.1:"), line
    return int(line.split("smtp://127.0.0.1:")[1].split(" ")[0])


def test_capture_command_catches_mail_and_serves_the_api(tmp_path):
    http_port = free_port()
    proc = run_command("capture", "--smtp-port", "0", "--port", str(http_port), "--max-messages", "10",
                       "--max-megabytes", "1", "--capture-folder", str(tmp_path / "eml"))
    try:
        first = proc.stdout.readline()
        smtp_port = caught_on(first)
        assert "keeping the last 10, at most 1 MB" in first
        assert proc.stdout.readline() == f"API on http://127.0.0.1:{http_port}/api/messages (Ctrl-C to stop)\n"
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
            smtp.sendmail("app@example.org", ["ada@example.com"], RAW)
            assert smtp.esmtp_features["size"] == str(1 << 20)
        listing = get_json(f"http://127.0.0.1:{http_port}/api/messages")
        assert [m["subject"] for m in listing["messages"]] == ["Hello"]
        assert (listing["bytes"], listing["max_bytes"]) == (len(RAW), 1 << 20)
        assert len(list((tmp_path / "eml").glob("*.eml"))) == 1
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


@pytest.mark.parametrize("flags", [["--smtp-port", "0"], ["--no-capture"]])
def test_preview_command_catches_mail_unless_told_not_to(flags):
    http_port = free_port()
    proc = run_command("preview", "--templates", str(ROOT / "templates"), "--port", str(http_port), *flags)
    try:
        first = proc.stdout.readline()
        if flags == ["--no-capture"]:
            assert first.startswith("previewing ")
            assert get_json(f"http://127.0.0.1:{http_port}/api/messages") == 404
            return
        with smtplib.SMTP("127.0.0.1", caught_on(first), timeout=10) as smtp:
            smtp.sendmail("app@example.org", ["ada@example.com"], RAW)
        assert proc.stdout.readline().startswith("previewing ")
        assert [m["subject"] for m in get_json(f"http://127.0.0.1:{http_port}/api/messages")["messages"]] == ["Hello"]
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert "warning" not in err and "Traceback" not in err


def test_preview_command_on_a_busy_smtp_port_previews_without_the_inbox():
    http_port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        proc = run_command("preview", "--templates", str(ROOT / "templates"), "--port", str(http_port),
                           "--smtp-port", str(busy.getsockname()[1]))
        try:
            assert proc.stdout.readline().startswith("previewing ")
            assert get_json(f"http://127.0.0.1:{http_port}/api/messages") == 404
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=10)
    assert ("the port is in use (choose another with --smtp-port, or turn capture off); "
            "previewing without the inbox") in err


def test_capture_command_on_a_busy_port_says_what_to_change():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        proc = subprocess.run([sys.executable, "-m", "mailtpl", "capture", "--smtp-port", str(busy.getsockname()[1])],
                              capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "the port is in use (choose another with --smtp-port" in proc.stderr


def test_connections_past_the_bound_are_refused_with_421_and_their_slots_come_back():
    """Each open connection may be buffering a message up to the size limit: their number is bounded."""
    with CaptureServer(port=0, max_connections=2) as server:
        held = [smtplib.SMTP(server.host, server.port, timeout=10) for _ in range(2)]
        held[1].starttls(context=tls_client(server))  # an upgraded connection is still one connection
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            smtplib.SMTP(server.host, server.port, timeout=10)
        assert refused.value.smtp_code == 421
        assert held[1].sendmail("app@example.org", ["ada@example.com"], RAW) == {}
        for smtp in held:
            smtp.quit()
        deadline = time.monotonic() + 10
        while True:  # the server sees the connections close a moment after the clients do
            held = []
            try:
                while len(held) < 2:
                    held.append(smtplib.SMTP(server.host, server.port, timeout=10))
                break
            except smtplib.SMTPConnectError:
                for smtp in held:
                    smtp.close()
                assert time.monotonic() < deadline, "the slots of closed connections never came back"
                time.sleep(0.05)
        for smtp in held:
            smtp.starttls(context=tls_client(server))
            smtp.sendmail("app@example.org", ["ada@example.com"], RAW)
            smtp.quit()
        assert len(server.inbox) == 3
