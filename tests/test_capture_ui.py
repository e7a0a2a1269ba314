"""Issue 15: caught mail in the preview's inbox page, live, driven in Debian's chromium by Playwright."""
import re
import smtplib
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from mailtpl import Environment
from mailtpl.capture import CaptureServer, register
from mailtpl.preview import create_app
from mailtpl.smtp import Mailer, SmtpConfig
from tests.smtp_servers import smtp_server
from tests.test_preview import browser  # noqa: F401 - the shared chromium fixture

ROOT = Path(__file__).resolve().parents[1]
SENDER = "no-reply@fb.example.org"
HOSTILE = (b"From: x@evil.example\r\nTo: ada@example.com\r\nSubject: Hostile\r\nContent-Type: text/html\r\n\r\n"
           b"<p id=p>hostile</p><script>document.getElementById('p').textContent='ran';"
           b"try { parent.document.body.dataset.pwned = 1 } catch (e) {}</script>"
           b"<img src=x onerror=\"document.title='ran'\">"
           b"<form action=/api/messages method=post><button id=b>go</button></form>")


@pytest.fixture
def inbox(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no stray .env
    with CaptureServer(port=0) as capture:
        app = create_app(Environment(ROOT / "templates"), watch=False)
        register(app, capture.inbox, address=(capture.host, capture.port))
        http = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=http.serve_forever, daemon=True).start()
        capture.url = f"http://127.0.0.1:{http.server_port}"
        yield capture
        http.shutdown()


@pytest.fixture
def page(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def open_inbox(page, inbox):
    page.goto(inbox.url + "/inbox")
    expect(page.locator("body")).to_have_attribute("data-loads", re.compile(r"^[1-9]"))  # no eval: the CSP forbids it


def send_raw(inbox, raw: bytes) -> None:
    """``raw`` sent as it is, from x@evil.example to ada@example.com."""
    with smtplib.SMTP(inbox.host, inbox.port, timeout=10) as smtp:
        smtp.sendmail("x@evil.example", ["ada@example.com"], raw)


def open_only_message(page, inbox):
    """The inbox opened on its one message; the frame its HTML is shown in."""
    open_inbox(page, inbox)
    page.click("tr.message")
    return page.frame_locator("#frame")


def send_verification(inbox, to="ada@example.com", code="482913"):
    config = SmtpConfig.from_env({**inbox.env(), "SMTP_SENDER": SENDER}, dotenv=None)
    with Mailer(Environment(ROOT / "templates", base_url="https://fb.example.org"), config) as mailer:
        mailer.send_verification(to, code)


def test_caught_mail_appears_live_and_reads_in_every_view(page, inbox):
    page.goto(inbox.url + "/")
    page.click("#inbox-link")
    expect(page.locator("body")).to_have_attribute("data-loads", re.compile(r"^[1-9]"))
    expect(page.locator("#empty")).to_be_visible()
    send_verification(inbox)  # after the page loaded: only the live update can show it
    row = page.locator("tr.message")
    expect(row).to_have_count(1, timeout=5000)
    cells = row.locator("td")
    for column, text in enumerate(['"User feedback" <no-reply@fb.example.org>', "ada@example.com",
                                   "User feedback Email Verification"]):
        expect(cells.nth(column)).to_have_text(text)
    expect(cells.nth(3)).to_have_text(re.compile(r"\d{1,2}:\d{2}:\d{2}"))  # the time it was caught
    expect(cells.nth(4)).to_have_text(re.compile(r"^\d+\.\d KB$"))
    row.click()
    expect(page.frame_locator("#frame").locator("div.code")).to_have_text("482913")
    expect(page.locator("#received")).to_contain_text("STARTTLS")
    page.click("button[data-width=mobile]")
    assert page.locator("#frame").bounding_box()["width"] == 375
    page.click("button[data-view=text]")
    expect(page.locator("#text")).to_contain_text("482913")
    page.click("button[data-view=headers]")
    expect(page.locator("#headers")).to_contain_text('From: "User feedback" <no-reply@fb.example.org>')
    page.click("button[data-view=source]")
    expect(page.locator("#source")).to_contain_text("Content-Type: multipart/alternative")
    page.click("button[data-view=links]")
    expect(page.locator("#links li")).to_have_text(["https://fb.example.org"])  # the logo's link


def test_scripts_and_forms_in_caught_html_do_not_run(page, inbox):
    send_raw(inbox, HOSTILE)
    frame = open_only_message(page, inbox)
    expect(frame.locator("#p")).to_have_text("hostile")
    frame.locator("#b").click()  # forms are blocked by the sandbox: no request, nothing deleted
    assert page.evaluate("document.body.dataset.pwned") is None
    assert len(inbox.inbox) == 1
    direct = page.context.new_page()  # the HTML opened on its own: the CSP sandbox still stops scripts
    direct.goto(f"{inbox.url}/api/messages/{inbox.inbox.messages[0].id}/html")
    expect(direct.locator("#p")).to_have_text("hostile")
    assert direct.title() != "ran"


def test_search_delete_and_release_from_the_page(page, inbox, tmp_path, monkeypatch):
    send_verification(inbox, "ada@example.com", "111111")
    send_verification(inbox, "grace@example.com", "222222")
    open_inbox(page, inbox)
    expect(page.locator("tr.message")).to_have_count(2)
    page.fill("#search", "grace")
    expect(page.locator("tr.message")).to_have_count(1)
    expect(page.locator("tr.message td").nth(1)).to_have_text("grace@example.com")
    page.fill("#search", "")
    expect(page.locator("tr.message")).to_have_count(2)

    page.locator("tr.message", has_text="grace@example.com").click()
    with smtp_server(tmp_path) as real:
        for key, value in real.env().items():
            monkeypatch.setenv(key, value)
        page.fill("#release-to", "me@example.net")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#release")
        expect(page.locator("#release-status")).to_contain_text("Released to me@example.net", timeout=10000)
    assert real.recorder.envelopes == [(SENDER, ["me@example.net"])]
    assert real.recorder.raw == [m.raw for m in inbox.inbox.messages if m.rcpt_tos == ["grace@example.com"]]

    page.click("#delete")
    expect(page.locator("tr.message")).to_have_count(1)
    assert [m.rcpt_tos for m in inbox.inbox.messages] == [["ada@example.com"]]
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete-all")
    expect(page.locator("tr.message")).to_have_count(0)
    assert len(inbox.inbox) == 0


def test_markup_in_subject_and_from_shows_as_text_and_a_text_only_mail_opens_on_its_text(page, inbox):
    marked = (b'From: "<img src=x onerror=alert(1)>" <x@evil.example>\r\nTo: ada@example.com\r\n'
              b"Subject: <b>bold</b><script>alert(2)</script>\r\n\r\nplain text only")
    send_raw(inbox, marked)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_inbox(page, inbox)
    cells = page.locator("tr.message td")
    expect(cells.nth(0)).to_have_text('"<img src=x onerror=alert(1)>" <x@evil.example>')
    expect(cells.nth(2)).to_have_text("<b>bold</b><script>alert(2)</script>")
    page.click("tr.message")
    expect(page.locator("#subject")).to_have_text("<b>bold</b><script>alert(2)</script>")
    expect(page.locator("#text")).to_be_visible()  # no HTML part: the text, not an empty frame
    expect(page.locator("#text")).to_have_text("plain text only")
    expect(page.locator("#frame")).to_be_hidden()
    expect(page.locator("button[data-view=html]")).to_be_disabled()
    assert page.locator("#messages img, #messages script, #subject *").count() == 0 and dialogs == []


@pytest.fixture
def tracker():
    """A web server on 127.0.0.1 standing for the mail's author: it records every path requested."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            seen.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.seen = seen
    yield server
    server.shutdown()


def test_caught_mail_loads_nothing_remote_until_the_reader_asks(page, inbox, tracker):
    base = f"http://127.0.0.1:{tracker.server_port}"
    html = (f'<html><head><link rel=stylesheet href="{base}/sheet.css"><style>@import url({base}/import.css);'
            f'@font-face{{font-family:t;src:url({base}/font.woff)}} p{{font-family:t}}</style></head>'
            f'<body style="background:url({base}/background.png)"><p id=p>hello</p>'
            f'<img id=pixel src="{base}/pixel.png?who=ada"></body></html>')
    raw = (b"From: x@evil.example\r\nTo: ada@example.com\r\nSubject: Tracked\r\nContent-Type: text/html\r\n\r\n"
           + html.encode())
    send_raw(inbox, raw)
    frame = open_only_message(page, inbox)
    expect(frame.locator("#p")).to_have_text("hello")
    expect(page.locator("#remote")).to_have_attribute("aria-pressed", "false")
    page.wait_for_load_state("networkidle")
    assert tracker.seen == []  # opened and read: its author learns nothing
    page.click("#remote")
    expect(page.locator("#remote")).to_have_attribute("aria-pressed", "true")
    expect(frame.locator("#p")).to_have_text("hello")
    page.wait_for_load_state("networkidle")
    deadline = time.monotonic() + 5
    while "/pixel.png?who=ada" not in tracker.seen and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "/pixel.png?who=ada" in tracker.seen
    page.click("button[data-view=text]")  # opening the message again closes it again
    page.click("tr.message")
    expect(page.locator("#remote")).to_have_attribute("aria-pressed", "false")
