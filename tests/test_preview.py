"""The live preview (issues 5, 9, 13), driven in Debian's chromium by Playwright."""
import json
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from mailtpl import Environment
from mailtpl.preview import create_app
from tests.smtp_servers import free_port, smtp_server

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


class Served:
    def __init__(self, folder: Path, **options) -> None:
        self.folder = folder
        self.app = create_app(Environment(folder), **options)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        if watcher := self.app.config.get("MAILTPL_WATCHER"):
            watcher.stop()


def copy_templates(tmp_path, monkeypatch, source: Path) -> Path:
    """A copy of `source` as tmp_path/templates, run from tmp_path with no SMTP/admin settings from outside."""
    for key in ("SMTP_HOST", "SMTP_PORT", "SMTP_SENDER", "ADMIN_WEB_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    shutil.copytree(source, tmp_path / "templates")
    return tmp_path / "templates"


@pytest.fixture
def served(tmp_path, monkeypatch):
    served = Served(copy_templates(tmp_path, monkeypatch, ROOT / "templates"))
    yield served
    served.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def wait_until(page, expression: str, timeout: float = 5.0) -> None:
    """Poll a JavaScript condition (wait_for_function needs eval, which the page's CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        time.sleep(0.01)


def open_email(page, served, name="verification", fragment=""):
    page.goto(f"{served.url}/email/{name}{fragment}")
    wait_until(page, "document.body.dataset.renders >= 1 || !!document.body.dataset.error")
    return page.frame_locator("#frame")


def test_index_lists_the_three_emails(page, served):
    page.goto(served.url)
    rows = page.locator("tr.email-row")
    expect(rows).to_have_count(3)
    assert [rows.nth(i).get_attribute("data-name") for i in range(3)] == ["invitation", "resetPassword", "verification"]
    expect(page.locator("tr[data-name=verification]")).to_contain_text("User feedback Email Verification")
    expect(page.locator("tr[data-name=verification] a.fixture")).to_have_text(["default", "leading-zeros"])


def test_email_page_shows_the_rendered_sample_data(page, served):
    frame = open_email(page, served)
    expect(frame.locator("div.code")).to_have_text("482913")
    expect(frame.locator("img.logo")).to_have_attribute("src", f"{served.url}/assets/logo.png")
    expect(page.locator("#subject")).to_have_text("User feedback Email Verification")


def test_saving_a_template_updates_the_open_page(page, served):
    open_email(page, served, fragment="#fixture=leading-zeros&view=html")
    frame = page.frame_locator("#frame")
    expect(frame.locator("div.code")).to_have_text("000042")
    renders = int(page.evaluate("document.body.dataset.renders"))
    template = served.folder / "verification.hbs"
    saved = time.perf_counter()
    template.write_text(template.read_text().replace("Authentication Code", "Your sign-in code"))
    wait_until(page, f"document.body.dataset.renders > {renders}")
    expect(frame.locator("h1.title")).to_have_text("Your sign-in code")
    elapsed = (time.perf_counter() - saved) * 1000
    print(f"\nsave-to-DOM: {elapsed:.0f} ms")
    expect(frame.locator("div.code")).to_have_text("000042")  # the chosen sample data is kept
    assert page.locator("#fixture").input_value() == "leading-zeros"


def test_editing_a_partial_updates_the_page_and_keeps_the_view(page, served):
    open_email(page, served, name="invitation")
    page.click("button[data-view=text]")
    renders = int(page.evaluate("document.body.dataset.renders"))
    footer = served.folder / "partials" / "footer.hbs"
    footer.write_text(footer.read_text().replace("you can ignore this message", "write to support"))
    wait_until(page, f"document.body.dataset.renders > {renders}")
    expect(page.locator("#text")).to_be_visible()
    expect(page.locator("#text")).to_contain_text("write to support")


def test_broken_template_shows_overlay_then_fix_removes_it(page, served):
    open_email(page, served)
    template = served.folder / "verification.hbs"
    good = template.read_text()
    template.write_text(good.replace('<div class="code">{{code}}</div>', '<div class="code">{{#if code}}{{code}}</div>'))
    overlay = page.locator("#overlay")
    expect(overlay).to_be_visible(timeout=5000)
    expect(overlay).to_contain_text("verification.hbs:6:1: {{#if}} (opened at 4:19) closed by {{/layout}}")
    expect(overlay).to_contain_text("{{/layout}}")
    assert _call(served.url + page.locator("#overlay-source").get_attribute("href"))[2] == template.read_bytes()
    template.write_text(good)
    expect(overlay).to_be_hidden(timeout=5000)
    expect(page.frame_locator("#frame").locator("div.code")).to_have_text("482913")


def test_strict_miss_shows_overlay_with_line_and_column(page, served):
    open_email(page, served)
    page.fill("#data", json.dumps({"cod": "1"}))
    expect(page.locator("#overlay")).to_contain_text('verification.hbs:4:21: "code" is not defined', timeout=5000)


def test_mobile_toggle_narrows_the_frame(page, served):
    open_email(page, served)
    assert page.locator("#frame").evaluate("e => e.clientWidth") >= 600
    page.click("button[data-width='375']")
    assert page.locator("#frame").evaluate("e => e.clientWidth") == 375


def test_edited_json_rerenders(page, served):
    frame = open_email(page, served)
    page.fill("#data", json.dumps({"code": "999111"}))
    expect(frame.locator("div.code")).to_have_text("999111", timeout=5000)
    page.fill("#data", "{not json")
    expect(page.locator("#data-status")).to_contain_text("JSON error")
    assert json.loads((served.folder / "verification.preview.json").read_text())["default"] == {"code": "482913"}


def test_send_test_delivers_to_a_local_server(page, served, tmp_path, monkeypatch):
    with smtp_server(tmp_path) as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        open_email(page, served)
        page.fill("#to", "designer@example.com")
        page.click("#send")
        expect(page.locator("#send-status")).to_contain_text("Sent:", timeout=10000)
    status = page.locator("#send-status")  # a long Message-ID wraps inside the panel; errors keep line breaks
    assert status.evaluate("e => e.scrollWidth <= e.clientWidth && getComputedStyle(e).whiteSpace === 'pre-wrap'")
    (msg,) = server.recorder.messages
    assert msg["To"] == "designer@example.com" and "482913" in msg.get_body("html").get_content()


def test_send_test_is_disabled_with_the_reason_without_smtp(page, served):
    open_email(page, served)
    expect(page.locator("#send")).to_be_disabled()
    expect(page.locator("#send-status")).to_contain_text("SMTP_HOST required")


def test_scripts_in_templates_do_not_run(page, served):
    template = served.folder / "verification.hbs"
    template.write_text(template.read_text().replace(
        "{{/layout}}", '<script>document.body.insertAdjacentHTML("beforeend", "<p id=ran>ran</p>")</script>\n{{/layout}}'))
    frame = open_email(page, served)
    expect(frame.locator("div.code")).to_have_text("482913")
    expect(frame.locator("#ran")).to_have_count(0)


def _status(url, data=None, headers=None):
    try:
        return _call(url, method="POST" if data else "GET", body=data, headers=headers)[0]
    except urllib.error.URLError:
        return None


def test_cross_origin_post_is_refused(served):
    body = json.dumps({"fixture": "default"}).encode()
    url = f"{served.url}/api/render/verification"
    assert _status(url, body, {"Content-Type": "application/json", "Origin": "http://evil.example"}) == 403
    assert _status(url, body, {"Content-Type": "application/json", "Origin": served.url}) == 200
    assert _status(url, b"fixture=default", {"Content-Type": "application/x-www-form-urlencoded"}) == 415


@pytest.mark.parametrize("path", ["/..%2f..%2fetc%2fpasswd", "/source/..%2f..%2fetc%2fpasswd",
                                  "/source/%2e%2e/%2e%2e/etc/passwd", "/static/preview/..%2f__init__.py",
                                  "/source/../mailtpl.json.bak"])
def test_paths_outside_the_templates_folder_are_404(served, path):
    assert _status(served.url + path) == 404
    assert _status(served.url + "/source/verification.hbs") == 200


def test_edited_data_is_saved_only_when_asked(page, served):
    open_email(page, served)
    page.fill("#data", json.dumps({"code": "123123"}))
    expect(page.frame_locator("#frame").locator("div.code")).to_have_text("123123", timeout=5000)
    assert "edited" not in json.loads((served.folder / "verification.preview.json").read_text())
    page.fill("#save-name", "edited")
    page.click("#save")
    expect(page.locator("#data-status")).to_contain_text('Saved as "edited" in verification.preview.json')
    assert json.loads((served.folder / "verification.preview.json").read_text())["edited"] == {"code": "123123"}


def preview_process(*args: str) -> tuple[subprocess.Popen, int]:
    """`python -m mailtpl preview` on a free port of 127.0.0.1, once it answers."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mailtpl", "preview", "--templates", str(ROOT / "templates"),
                             "--port", str(port), "--smtp-port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while _status(f"http://127.0.0.1:{port}/") != 200 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    return proc, port


def test_preview_command_serves_on_loopback():
    """`mailtpl preview` serves the folder on 127.0.0.1 by default (any other address prints a warning:
    mailtpl.smtp.transport.is_loopback decides; tests never listen off loopback)."""
    from mailtpl.smtp.transport import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("mail.example.com")
    proc, port = preview_process()
    try:
        assert _status(f"http://127.0.0.1:{port}/email/invitation") == 200
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert f"previewing {ROOT / 'templates'}/ on http://127.0.0.1:{port}/" in out
    assert "warning" not in err and "development server" not in out + err


# -- issue 9: a preview only its user can drive ------------------------------------------------------------

def _call(url, *, method="GET", body=None, headers=None):
    """(status, headers, body) of one request; ``body`` bytes or a JSON-able value."""
    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **(headers or {})}
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


XSS = ("</script><script>alert('xss');fetch('/api/send/verification',{method:'POST',"
       "headers:{'Content-Type':'application/json'},body:JSON.stringify({to:'x@evil.example'})})</script>"
       "<!--<script> \u2028\u2029 &lt;")


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "escaping-alone"])
def test_stored_xss_in_sample_data_does_not_run(browser, served, bypass_csp):
    """The payload of the security review, in sample data, a set name, a subject and an email's file name:
    no dialog, no request to the send API; with the CSP bypassed, the escaping alone holds."""
    (served.folder / "verification.preview.json").write_text(json.dumps(
        {"default": {"code": XSS}, XSS: {"code": "1"}}), encoding="utf-8")
    config = json.loads((served.folder / "mailtpl.json").read_text())
    config["subjects"]["verification"] = "<script>alert('subject')</script>"
    (served.folder / "mailtpl.json").write_text(json.dumps(config))
    (served.folder / "<img src=x onerror=alert(1)>.hbs").write_text("<p>{{code}}</p>")
    served.app.config["MAILTPL_ENV"].invalidate()
    context = browser.new_context(bypass_csp=bypass_csp)
    page = context.new_page()
    dialogs, sends = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: sends.append(request.url) if "/api/send" in request.url else None)
    try:
        page.goto(served.url)
        expect(page.locator("body")).to_contain_text("<img src=x onerror=alert(1)>")
        open_email(page, served)
        assert json.loads(page.locator("#data").input_value()) == {"code": XSS}  # shown as text, intact
        expect(page.frame_locator("#frame").locator("div.code")).to_contain_text("</script>")
        page.wait_for_timeout(300)
    finally:
        context.close()
    assert dialogs == [] and sends == []


def test_script_json_escapes_everything_that_could_end_the_script():
    from mailtpl.preview.views import script_json

    out = str(script_json({"a": "</script><!-- & \u2028\u2029 >"}))
    assert not any(ch in out for ch in "<>&\u2028\u2029")
    assert json.loads(out) == {"a": "</script><!-- & \u2028\u2029 >"}


def test_dns_rebinding_host_gets_400(served):
    port = served.server.server_port
    evil = {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
    assert _call(served.url + "/", headers=evil)[0] == 400
    assert _call(served.url + "/source/verification.hbs", headers=evil)[0] == 400
    status, _, body = _call(served.url + "/api/fixtures/verification", method="POST", headers=evil,
                            body={"fixture": "planted", "data": {"code": XSS}})
    assert status == 400 and "Host header" in json.loads(body)["error"]["message"]
    assert "planted" not in (served.folder / "verification.preview.json").read_text()
    status, _, body = _call(served.url + "/", headers={"Host": f"evil.example:{port}"})
    assert status == 400 and b"is not this preview" in body
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
        assert _call(served.url + "/", headers={"Host": host})[0] == 200


def test_origin_check_does_not_trust_the_host_header(served):
    port = served.server.server_port
    url = served.url + "/api/render/verification"
    for origin in (f"http://evil.example:{port}", f"http://127.0.0.1:{port + 1}", f"https://127.0.0.1:{port}",
                   "null", "http://[bad"):
        assert _call(url, method="POST", body={"fixture": "default"}, headers={"Origin": origin})[0] == 403, origin
    for origin in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
        assert _call(url, method="POST", body={"fixture": "default"}, headers={"Origin": origin})[0] == 200, origin


def test_host_given_to_the_server_is_trusted(tmp_path):
    shutil.copytree(ROOT / "templates", tmp_path / "t")
    app = create_app(Environment(tmp_path / "t"), watch=False, host="192.168.1.5")
    client = app.test_client()
    assert client.get("/", headers={"Host": "192.168.1.5:8025"}).status_code == 200
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400


def test_security_headers_on_every_response(served):
    status, headers, body = _call(served.url + "/api/render/verification", method="POST", body={"fixture": "default"})
    frame = json.loads(body)["frame"]
    responses = {path: _call(served.url + path) for path in
                 ["/", "/email/verification", "/static/preview/preview.css", "/source/verification.hbs",
                  "/nope", "/email/nope", "/frame/nope", frame]}
    responses["POST 415"] = _call(served.url + "/api/render/verification", method="POST", body=b"x=1")
    responses["rebinding 400"] = _call(served.url + "/", headers={"Host": "evil.example"})
    for path, (status, headers, _) in responses.items():
        assert headers["X-Content-Type-Options"] == "nosniff", path
        csp = headers["Content-Security-Policy"]
        if path == frame:
            assert "sandbox" in csp and "frame-ancestors 'self'" in csp and "script-src" not in csp
        else:
            assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path


def test_email_renders_in_the_sandboxed_frame_under_the_csp(page, served):
    """The page's CSP does not reach the email: inline and <style> CSS apply, no CSP violation is logged."""
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    frame = open_email(page, served)
    code = frame.locator("div.code")
    expect(code).to_have_text("482913")
    assert code.evaluate("e => getComputedStyle(e).letterSpacing") == "8px"  # an inlined style attribute
    page.click("button[data-width='375']")
    assert frame.locator("table.container").evaluate("e => e.offsetWidth") <= 375  # the @media rule applies
    assert violations == []


def test_request_bodies_are_capped_at_1_mb(served):
    big = {"fixture": "default", "data": {"code": "x" * (1 << 20)}}
    status, _, body = _call(served.url + "/api/render/verification", method="POST", body=big)
    assert status == 413 and "error" in json.loads(body)
    small = {"data": {"code": "x" * 1000}}
    assert _call(served.url + "/api/render/verification", method="POST", body=small)[0] == 200


def test_send_test_takes_one_recipient_and_is_rate_limited(served, tmp_path, monkeypatch):
    from mailtpl.preview.guard import RateLimit

    served.app.config["MAILTPL_SEND_LIMIT"] = RateLimit(2, 60.0)
    url = served.url + "/api/send/verification"
    with smtp_server(tmp_path) as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        fifty = ", ".join(f"r{i}@example.com" for i in range(50))
        for to in (fifty, [f"r{i}@example.com" for i in range(50)], "a@example.com; b@example.com",
                   "a@example.com\r\nBcc: b@example.com", "", None):
            status, _, body = _call(url, method="POST", body={"to": to, "fixture": "default"})
            assert status == 400 and "error" in json.loads(body), to
        assert server.recorder.messages == []
        statuses = [_call(url, method="POST", body={"to": "designer@example.com", "fixture": "default"})[0]
                    for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert [env[1] for env in server.recorder.envelopes] == [["designer@example.com"]] * 2


@pytest.mark.parametrize("name", ["../../x", "..", "a/b", "a\\b", ".hidden", "x ", "", "CON", "\x1b", 7, None])
def test_sample_data_names_that_could_reach_the_filesystem_are_refused(served, name):
    """The preview checks a set name with the snapshot folder's own rule (snapshots.snapshot_stem)."""
    before = sorted(p.name for p in served.folder.parent.rglob("*"))
    status, _, body = _call(served.url + "/api/fixtures/verification", method="POST",
                            body={"fixture": name, "data": {"code": "1"}})
    message = json.loads(body)["error"]["message"]
    assert status == 400 and ("cannot name a snapshot file" in message or "give the sample-data set a name" in message)
    assert sorted(p.name for p in served.folder.parent.rglob("*")) == before


@pytest.mark.parametrize("path", ["/email/..%2f..%2fetc%2fpasswd", "/api/render/..%2fmailtpl",
                                  "/api/render/%2e%2e", "/frame/..%2f..%2fverification.hbs",
                                  "/api/render/verification?fixture=..%2f..%2fx"])
def test_traversal_names_are_refused(served, path):
    status, _, body = _call(served.url + path)
    assert status in (404, 422) and b"Traceback" not in body


def _break(folder: Path, how: str) -> None:
    template = folder / "verification.hbs"
    if how == "empty template":
        template.write_text("")
    elif how == "whitespace template":
        template.write_text(" \n\t\n")
    elif how == "{{#this a}}":
        template.write_text("{{#this a}}x{{/this}}")
    elif how == "{{#. a}}":
        template.write_text("{{#. a}}x{{/.}}")
    elif how == "deep sample data":
        (folder / "verification.preview.json").write_text('{"default": ' + "[" * 100_000 + "]" * 100_000 + "}")
    elif how == "sample data not objects":
        (folder / "verification.preview.json").write_text('{"default": 3}')
    elif how == "not utf-8":
        template.write_bytes(b"\xff\xfe{{code}}")


@pytest.mark.parametrize("how", ["empty template", "whitespace template", "{{#this a}}", "{{#. a}}",
                                 "deep sample data", "sample data not objects", "not utf-8"])
def test_broken_input_is_an_error_message_never_a_500(served, how):
    _break(served.folder, how)
    served.app.config["MAILTPL_ENV"].invalidate()
    for path in ("/", "/email/verification", "/api/render/verification?fixture=default"):
        status, _, body = _call(served.url + path)
        assert status in (200, 422), (path, status, body[:500])
        assert b"Traceback" not in body
    status, _, body = _call(served.url + "/api/render/verification", method="POST", body={"data": {"code": "1"}})
    assert status in (200, 422) and (status == 200 or json.loads(body)["error"]["message"])


@pytest.mark.parametrize("body", [b"[" * 100_000, b"{not json", b"[1, 2]", b'"text"',
                                  json.dumps({"data": {"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{}]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}).encode()
                                  .replace(b"[{}]", b"[" * 70 + b"{}" + b"]" * 70),
                                  b'{"data": [1]}', b'{"fixture": 3}', b'{"fixture": ["x"]}', b'{"data": null}'])
def test_bad_request_bodies_are_json_errors(served, body):
    status, headers, out = _call(served.url + "/api/render/verification", method="POST", body=body,
                                 headers={"Content-Type": "application/json"})
    assert status in (200, 400, 422), status
    assert headers["Content-Type"] == "application/json"
    if status != 200:
        assert json.loads(out)["error"]["message"]


def test_sse_clients_are_bounded(served):
    import http.client

    served.app.config["MAILTPL_HUB"].max_clients = 3
    streams = []
    try:
        for _ in range(3):
            conn = http.client.HTTPConnection("127.0.0.1", served.server.server_port, timeout=10)
            conn.request("GET", "/events")
            response = conn.getresponse()
            assert response.status == 200 and response.readline() == b"event: hello\n"
            streams.append(conn)
        status, _, body = _call(served.url + "/events")
        assert status == 503 and "too many open preview pages" in json.loads(body)["error"]["message"]
    finally:
        for conn in streams:
            conn.close()


def test_a_reader_that_stops_reading_is_dropped():
    from mailtpl.preview.events import Hub

    hub = Hub(max_clients=2, backlog=4)
    stalled = hub.subscribe()
    for i in range(5):
        hub.publish("change", {"emails": [str(i)]})
    assert hub.subscribe() is not None and hub.subscribe() is not None and hub.subscribe() is None
    assert stalled.qsize() == 4


# -- issue 13: the designer's loop -----------------------------------------------------------------------

def frame_text(page, selector: str) -> str | None:
    try:
        return page.frame_locator("#frame").locator(selector).text_content(timeout=200)
    except Exception:  # between two frames
        return None


def wait_for_frame_text(page, selector: str, text: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while frame_text(page, selector) != text:
        if time.monotonic() > deadline:
            raise AssertionError(f"{selector} never showed {text!r}")
        time.sleep(0.005)


def renders(page) -> int:
    return int(page.evaluate("document.body.dataset.renders || 0"))


def test_one_render_per_save_and_the_measured_save_to_screen_time(page, served):
    """Editors save with several events (write, close; or a rename over the file): one render each.
    Prints the save-to-screen times; the issue asks for a median of at most 150 ms."""
    import statistics

    open_email(page, served)
    template = served.folder / "verification.hbs"
    good = template.read_text()
    times, counts = [], []
    for i in range(9):
        before = renders(page)
        text = good.replace("Authentication Code", f"Code {i}")
        started = time.perf_counter()
        if i % 2:  # an atomic save: a temporary file renamed over the template
            temporary = served.folder / ".verification.hbs.tmp"
            temporary.write_text(text)
            temporary.replace(template)
        else:
            template.write_text(text)
        wait_for_frame_text(page, "h1.title", f"Code {i}")
        times.append((time.perf_counter() - started) * 1000)
        page.wait_for_timeout(400)  # time for any further render of the same save
        counts.append(renders(page) - before)
    print(f"\nsave-to-screen ms: {', '.join(f'{t:.0f}' for t in times)}; median {statistics.median(times):.0f} ms; "
          f"renders per save: {counts}")
    assert counts == [1] * 9


def test_a_file_written_in_two_parts_does_not_flash_an_error(page, served):
    open_email(page, served)
    template = served.folder / "verification.hbs"
    text = template.read_text().replace("Authentication Code", "Two parts") + "<!--" + "x" * 200_000 + "-->"
    cut = text.index("{{code}}") + 3  # the first part ends inside a mustache: a syntax error on its own
    with template.open("w") as out:
        out.write(text[:cut])
        out.flush()
        time.sleep(0.02)
        out.write(text[cut:])
    wait_for_frame_text(page, "h1.title", "Two parts")
    page.wait_for_timeout(300)
    assert page.evaluate("document.body.dataset.errors || '0'") == "0"


def test_assets_are_served_and_missing_images_listed(page, served):
    frame = open_email(page, served)
    logo = frame.locator("img.logo")
    expect(logo).to_have_attribute("src", f"{served.url}/assets/logo.png")
    expect(logo).to_have_js_property("complete", True)
    assert logo.evaluate("img => img.naturalWidth") > 0
    expect(page.locator("#images li.ok")).to_contain_text("/assets/logo.png")
    template = served.folder / "verification.hbs"
    template.write_text(template.read_text().replace(
        "{{/layout}}", '<img src="{{baseUrl}}/assets/mailing/missing.png"><img src="relative.png">\n{{/layout}}'))
    expect(page.locator("#images li.missing")).to_contain_text("/assets/mailing/missing.png", timeout=5000)
    expect(page.locator("#images li.relative")).to_contain_text("relative.png")
    for path in ("/assets/..%2fverification.hbs", "/assets/../mailtpl.json", "/assets/nope.png", "/assets/%00",
                 "/assets/logo.png%00.txt", "/assets/" + "a/" * 3000, "/source/%00", "/source/" + "a" * 5000):
        assert _call(served.url + path)[0] == 404


def test_assets_folder_from_the_flag_or_mailtpl_json(tmp_path):
    from mailtpl.preview.assets import assets_folder

    shutil.copytree(ROOT / "templates", tmp_path / "t")
    (tmp_path / "public" / "mailing").mkdir(parents=True)
    (tmp_path / "public" / "mailing" / "a.png").write_bytes(b"\x89PNG")
    env = Environment(tmp_path / "t")
    assert assets_folder(env) == (tmp_path / "t" / "assets").resolve()
    assert assets_folder(env, tmp_path / "public") == (tmp_path / "public").resolve()
    config = json.loads((tmp_path / "t" / "mailtpl.json").read_text())
    (tmp_path / "t" / "mailtpl.json").write_text(json.dumps({**config, "assets": "../public"}))
    env = Environment(tmp_path / "t")
    client = create_app(env, watch=False).test_client()
    assert client.get("/assets/mailing/a.png").data == b"\x89PNG"
    shutil.rmtree(tmp_path / "public")
    assert assets_folder(env) is None
    status = create_app(env, watch=False).test_client().get("/assets/mailing/a.png")
    assert status.status_code == 404 and b"no assets folder" in status.data


def test_saving_a_set_adds_it_to_the_menu_keeps_the_file_and_asks_before_replacing(page, served):
    path = served.folder / "verification.preview.json"
    path.write_text('{\n    "default": {"code": "482913"},\n    "leading-zeros": {"code": "000042"}   \n}\n')
    original = path.read_text()
    open_email(page, served)
    page.fill("#data", json.dumps({"code": "777777"}))
    expect(page.frame_locator("#frame").locator("div.code")).to_have_text("777777", timeout=5000)
    page.fill("#save-name", "sevens")
    page.click("#save")
    expect(page.locator("#data-status")).to_contain_text('Saved as "sevens"')
    expect(page.locator("#fixture option")).to_have_text(["default", "leading-zeros", "sevens"])
    assert page.locator("#fixture").input_value() == "sevens"
    saved = path.read_text()  # added before the closing brace, the rest byte for byte
    assert saved.startswith(original.rstrip()[:-1].rstrip()) and json.loads(saved)["sevens"] == {"code": "777777"}
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.fill("#data", json.dumps({"code": "111111"}))
    expect(page.frame_locator("#frame").locator("div.code")).to_have_text("111111", timeout=5000)
    page.fill("#save-name", "default")
    page.click("#save")
    expect(page.locator("#data-status")).to_contain_text("already has a set named")
    assert dialogs and "replace it?" in dialogs[0] and path.read_text() == saved
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#save")
    expect(page.locator("#data-status")).to_contain_text('Saved as "default"')
    assert json.loads(path.read_text()) == {"default": {"code": "111111"}, "leading-zeros": {"code": "000042"},
                                            "sevens": {"code": "777777"}}


def test_a_broken_mailtpl_json_shows_in_the_browser(page, served):
    open_email(page, served)
    config = served.folder / "mailtpl.json"
    good = config.read_text()
    config.write_text(good[:-10])
    expect(page.locator("#banner")).to_contain_text("mailtpl.json", timeout=5000)
    config.write_text(good)
    expect(page.locator("#banner")).to_be_hidden(timeout=5000)


def test_deleting_or_renaming_the_open_email_says_so(page, served):
    open_email(page, served)
    (served.folder / "verification.hbs").rename(served.folder / "code.hbs")
    gone = page.locator("#gone")
    expect(gone).to_be_visible(timeout=5000)
    expect(gone).to_contain_text("verification.hbs was deleted or renamed")
    expect(gone.locator("a")).to_have_text("code")
    expect(page.locator("#orphans")).to_contain_text("verification.preview.json belongs to no email")
    expect(page.locator("#orphans")).to_contain_text('subject for "verification"')
    (served.folder / "code.hbs").unlink()
    expect(page.locator("#email-list li")).to_have_count(2, timeout=5000)


def test_the_data_box_follows_the_sample_file_on_disk(page, served):
    open_email(page, served)
    path = served.folder / "verification.preview.json"
    path.write_text(json.dumps({"default": {"code": "246810"}, "leading-zeros": {"code": "000042"}}))
    expect(page.frame_locator("#frame").locator("div.code")).to_have_text("246810", timeout=5000)
    assert json.loads(page.locator("#data").input_value()) == {"code": "246810"}
    page.fill("#data", json.dumps({"code": "mine"}))  # edited: kept, with a word and a way back
    expect(page.frame_locator("#frame").locator("div.code")).to_have_text("mine", timeout=5000)
    path.write_text(json.dumps({"default": {"code": "135791"}}))
    expect(page.locator("#data-notice")).to_contain_text("changed on disk; your edits are kept", timeout=5000)
    assert json.loads(page.locator("#data").input_value()) == {"code": "mine"}
    page.click("#data-notice button")
    expect(page.frame_locator("#frame").locator("div.code")).to_have_text("135791", timeout=5000)


def test_links_in_the_email_open_in_a_new_tab(page, served):
    frame = open_email(page, served, name="resetPassword")
    expect(frame.locator("a.button")).to_have_attribute("href", re.compile(r"^https://feedback.example.com/"))
    with page.context.expect_page():
        frame.locator("a.button").click()
    expect(frame.locator("a.button")).to_be_visible()  # the preview is still there
    assert page.url.startswith(f"{served.url}/email/resetPassword")


def test_index_links_are_url_encoded_and_unknown_sets_are_named(page, served):
    (served.folder / "verification.preview.json").write_text(json.dumps(
        {"default": {"code": "482913"}, "a&b": {"code": "121212"}}))
    page.goto(served.url)
    page.click("tr[data-name=verification] a.fixture >> text=a&b")
    expect(page.frame_locator("#frame").locator("div.code")).to_have_text("121212", timeout=5000)
    assert page.locator("#fixture").input_value() == "a&b"
    open_email(page, served, fragment="#fixture=nope")
    expect(page.locator("#data-notice")).to_contain_text('There is no sample data set "nope": showing "default"')
    assert json.loads(page.locator("#data").input_value()) == {"code": "482913"}


def test_status_line_agrees_with_the_overlay(page, served):
    open_email(page, served)
    page.fill("#data", json.dumps({"cod": "1"}))
    expect(page.locator("#overlay")).to_be_visible(timeout=5000)
    expect(page.locator("#data-status")).to_contain_text("does not render")
    expect(page.locator("#data-status")).to_have_class("status bad")


def test_choosing_another_set_asks_before_dropping_edits(page, served):
    open_email(page, served)
    page.fill("#data", json.dumps({"code": "999999"}))
    expect(page.frame_locator("#frame").locator("div.code")).to_have_text("999999", timeout=5000)
    messages = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.dismiss()))
    page.select_option("#fixture", "leading-zeros")
    assert messages == ["Discard your edits to the data?"]
    assert page.locator("#fixture").input_value() == "default"
    assert json.loads(page.locator("#data").input_value()) == {"code": "999999"}
    page.once("dialog", lambda dialog: dialog.accept())
    page.select_option("#fixture", "leading-zeros")
    expect(page.frame_locator("#frame").locator("div.code")).to_have_text("000042", timeout=5000)


def test_sidebar_lists_emails_with_status_and_keeps_the_view_across_emails(page, served):
    open_email(page, served)
    page.click("button[data-view=text]")
    page.click("button[data-width='320']")
    page.select_option("#look", "invert")
    sidebar = page.locator("#email-list li")
    expect(sidebar).to_have_count(3)
    (served.folder / "welcome.hbs").write_text("<p>{{name}}</p>")
    expect(sidebar).to_have_count(4, timeout=5000)
    expect(page.locator("#email-list li.status-generated")).to_contain_text("welcome")
    expect(page.locator("#email-list li.status-generated")).to_contain_text("generated sample data")
    page.click("#email-list a >> text=invitation")
    page.wait_for_url("**/email/invitation**")
    expect(page.locator("#text")).to_be_visible()
    assert page.locator("button[data-width='320']").get_attribute("class") == "on"
    assert page.locator("#look").input_value() == "invert"


def test_index_shows_compile_errors_and_failing_sample_data(page, served):
    (served.folder / "resetPassword.hbs").write_text("{{#if link}}")
    (served.folder / "verification.preview.json").write_text(json.dumps({"default": {"code": "1"}, "broken": {}}))
    served.app.config["MAILTPL_ENV"].invalidate()
    page.goto(served.url)
    expect(page.locator("thead th")).to_have_text(["Email", "Subject", "Sample data", "Status"])
    expect(page.locator("tr[data-name=resetPassword]")).to_contain_text("Does not compile")
    row = page.locator("tr[data-name=verification]")
    expect(row).to_contain_text('Sample data "broken" fails')
    expect(row.locator("a.fixture.failing")).to_have_text("broken")
    expect(page.locator("tr[data-name=invitation]")).to_contain_text("OK")


def test_a_stopped_server_is_announced(page):
    proc, port = preview_process()
    try:
        page.goto(f"http://127.0.0.1:{port}/email/verification")
        expect(page.locator("#live")).to_have_text("live")
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    expect(page.locator("#banner")).to_contain_text("The preview server stopped", timeout=10000)
    expect(page.locator("#live")).to_have_text("stopped")


def test_widths_drag_handle_and_keyboard_shortcuts(page, served):
    open_email(page, served)
    frame = page.locator("#frame")
    for width in ("320", "375", "600", "800"):
        page.click(f"button[data-width='{width}']")
        assert frame.evaluate("e => e.clientWidth") == int(width)
    page.click("button[data-width=full]")
    assert frame.evaluate("e => e.clientWidth") > 800
    page.click("button[data-width='600']")
    box = page.locator("#handle").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 50, y, steps=5)
    page.mouse.up()
    assert frame.evaluate("e => e.clientWidth") == 500
    expect(page.locator("#width-label")).to_have_text("500 px")
    page.keyboard.press("2")
    expect(page.locator("#text")).to_be_visible()
    page.keyboard.press("5")
    expect(page.locator("#mime")).to_contain_text("MIME-Version: 1.0")
    page.keyboard.press("1")
    page.keyboard.press("w")
    expect(page.locator("button.on[data-width]")).to_have_text("320")
    page.keyboard.press("d")
    assert page.locator("#look").input_value() == "dark"
    page.keyboard.press("p")
    expect(page.locator("#panel")).to_be_hidden()
    page.keyboard.press("j")
    page.wait_for_url("**/email/invitation**")


def test_dark_views_in_both_senses(page, served):
    template = served.folder / "verification.hbs"
    template.write_text(template.read_text().replace(
        "{{/layout}}", "<style>@media (prefers-color-scheme: dark) { .dark-probe { color: rgb(1, 2, 3); } }</style>"
                       '<p class="dark-probe">probe</p>\n{{/layout}}'))
    frame = open_email(page, served)
    probe = frame.locator("p.dark-probe")
    expect(probe).not_to_have_css("color", "rgb(1, 2, 3)")
    page.select_option("#look", "dark")
    expect(frame.locator("p.dark-probe")).to_have_css("color", "rgb(1, 2, 3)")
    page.select_option("#look", "invert")
    expect(frame.locator("html")).to_have_css("filter", "invert(1) hue-rotate(180deg)")
    expect(page.locator("#look option[value=invert]")).to_have_text("Dark (forced, approximation)")


def test_source_is_highlighted_and_copied_and_the_eml_downloads(page, served):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_email(page, served)
    page.click("button[data-view=source]")
    expect(page.locator("#source .hl-tag").first).to_be_visible()
    expect(page.locator("#source")).to_contain_text('<div class="code"')
    page.click("#copy")
    expect(page.locator("#copy")).to_have_text("Copied")
    assert '<div class="code"' in page.evaluate("navigator.clipboard.readText()")
    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename == "verification.eml"
    raw = Path(download.value.path()).read_bytes()
    assert b"Subject: User feedback Email Verification" in raw and b"MIME-Version: 1.0" in raw


def test_everything_is_served_by_the_package_no_cdn(page, served):
    """No request leaves the preview, and nothing on its pages breaks its own CSP (no console error)."""
    urls, errors = [], []
    page.on("request", lambda request: urls.append(request.url))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    open_email(page, served)
    page.click("button[data-view=source]")
    page.goto(served.url)
    page.wait_for_timeout(200)
    assert urls and all(url.startswith(served.url + "/") for url in urls), [u for u in urls if not u.startswith(served.url)]
    assert errors == []


@pytest.mark.parametrize("width", [800, 1600])
def test_readable_from_800_to_1600_px(browser, served, width):
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    try:
        open_email(page, served)
        toolbar = page.locator(".toolbar")
        assert toolbar.evaluate("e => e.scrollWidth <= e.clientWidth")
        box = page.locator("#frame").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width  # the email is not cut off
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()


@pytest.fixture
def original(tmp_path, monkeypatch):
    """ABC User Feedback's own three templates: no sample data, images under {{baseUrl}}/assets/images/."""
    copy_templates(tmp_path, monkeypatch, ROOT / "tests" / "fixtures" / "original")
    (tmp_path / "web" / "assets" / "images").mkdir(parents=True)
    shutil.copy(ROOT / "templates" / "assets" / "logo.png", tmp_path / "web" / "assets" / "images" / "logo.png")
    served = Served(tmp_path / "templates", assets_dir=tmp_path / "web" / "assets")
    yield served
    served.stop()


@pytest.mark.parametrize("name", ["invitation", "resetPassword", "verification"])
def test_a_folder_without_sample_data_renders_generated_data_and_lists_variables(page, original, name):
    frame = open_email(page, original, name=name)
    expect(page.locator("#overlay")).to_be_hidden()
    assert not page.evaluate("document.body.dataset.error || ''")
    expect(page.locator("#data-source")).to_be_visible()
    expect(page.locator("#data-source")).to_have_text("generated")
    expect(page.locator("#data-status")).to_contain_text("generated from the template's variables")
    variables = page.locator("#variables > li")
    expected = {"invitation": ["baseUrl", "link"], "resetPassword": ["baseUrl", "link"],
                "verification": ["baseUrl", "code"]}[name]
    expect(variables.locator("> code")).to_have_text(expected)
    if name == "verification":
        expect(frame.locator("body")).to_contain_text("[code]")
        expect(variables.filter(has_text="code").locator(".kind")).to_have_text("text")
    else:
        expect(variables.filter(has_text="link").locator(".kind")).to_have_text("url")
    logo = frame.locator("img").first
    expect(logo).to_have_attribute("src", f"{original.url}/assets/images/logo.png")
    expect(logo).to_have_js_property("complete", True)
    assert logo.evaluate("img => img.naturalWidth") > 0
    expect(page.locator("#images li.ok")).to_contain_text("/assets/images/logo.png")


def test_generated_data_can_be_saved_as_a_set(page, original):
    open_email(page, original, name="verification")
    expect(page.locator("#fixture option")).to_have_text(["generated"])
    data = json.loads(page.locator("#data").input_value())
    assert data == {"code": "[code]"}
    page.fill("#save-name", "as-generated")  # saved as shown, without an edit
    before = renders(page)
    page.click("#save")
    expect(page.locator("#data-status")).to_contain_text('Saved as "as-generated"')
    wait_until(page, f"document.body.dataset.renders > {before}")  # the watcher's news of the new file
    saved = original.folder / "verification.preview.json"
    assert json.loads(saved.read_text()) == {"as-generated": {"code": "[code]"}}
    saved.unlink()
    expect(page.locator("#fixture option")).to_have_text(["generated"], timeout=5000)
    page.fill("#data", json.dumps({"code": "482913"}))
    expect(page.frame_locator("#frame").locator("body")).to_contain_text("482913", timeout=5000)
    expect(page.locator("#save-name")).to_have_value("default")
    page.click("#save")
    expect(page.locator("#data-status")).to_contain_text('Saved as "default" in verification.preview.json')
    expect(page.locator("#fixture option")).to_have_text(["default"])
    expect(page.locator("#data-source")).to_be_hidden(timeout=5000)
    assert json.loads((original.folder / "verification.preview.json").read_text()) == {"default": {"code": "482913"}}
    assert page.evaluate("document.body.dataset.errors || '0'") == "0", page.locator("#overlay-text").text_content()
    page.goto(original.url)
    expect(page.locator("tr[data-name=invitation]")).to_contain_text("shown with generated data")
    expect(page.locator("tr[data-name=verification] a.fixture")).to_have_text(["default"])


@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH", "PROPFIND"])
def test_cross_origin_requests_that_change_things_are_refused_whatever_the_method(method):
    from datetime import UTC, datetime

    from mailtpl.capture import CapturedMessage, Inbox, register

    app = create_app(Environment(ROOT / "templates"), watch=False)
    box = Inbox()
    raw = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: kept\r\n\r\nbody\r\n"
    box.add(CapturedMessage("0123456789abcdef", raw, "a@example.com", ["b@example.com"], datetime.now(UTC)))
    register(app, box)
    client = app.test_client()
    for origin in ("http://evil.example", "null", "http://127.0.0.1:1"):
        response = client.open("/api/messages", method=method, headers={"Origin": origin})
        assert response.status_code == 403 and "cross-origin" in response.get_json()["error"]["message"]
    assert len(box) == 1
    if method == "DELETE":
        assert client.delete("/api/messages", headers={"Origin": "http://localhost"}).get_json() == {"deleted": 1}


@pytest.mark.parametrize("host", ["evil.example.", "EVIL.EXAMPLE", "evil.example.:80", "127.0.0.1.nip.io",
                                  "localhost.evil.example", "[::ffff:7f00:1]", "[::ffff:127.0.0.1]", "0x7f000001",
                                  "2130706433", "127.1", "evil.example@localhost", "localhost@evil.example", " ",
                                  "localhost:80:80", "[::1", "localhost\\@evil.example"])
def test_rebinding_host_variants_are_refused(served, host):
    status, _, body = _call(served.url + "/api/emails", headers={"Host": host})
    assert status == 400 and b"is not this preview" in body, host


@pytest.mark.parametrize("host", ["LOCALHOST", "localhost.", "127.0.0.1.", "[::1]", "[0:0:0:0:0:0:0:1]"])
def test_loopback_spellings_are_this_server_and_its_pages_can_post(served, host):
    port = served.server.server_port
    assert _call(served.url + "/", headers={"Host": f"{host}:{port}"})[0] == 200, host
    origin = f"http://{host.lower()}:{port}"
    status = _call(served.url + "/api/render/verification", method="POST", body={"fixture": "default"},
                   headers={"Host": f"{host}:{port}", "Origin": origin})[0]
    assert status == 200, origin


def test_a_page_or_svg_in_the_assets_folder_runs_nothing_on_the_preview(page, served):
    """A template linking to {{baseUrl}}/assets/x.html opens it in a new tab on the preview's own origin."""
    assets = served.folder / "assets"
    (assets / "x.js").write_text("document.title = 'ran'; fetch('/api/fixtures/verification', {method: 'POST',"
                                 "headers: {'Content-Type': 'application/json'}, body: '{\"fixture\": \"planted\"}'})")
    (assets / "x.html").write_text("<title>page</title><p id=p>asset</p><script src=/assets/x.js></script>")
    (assets / "x.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" onload="document.title=\'ran\'">'
                                  '<script href="/assets/x.js"/><title>svg</title></svg>')
    for name in ("x.html", "x.svg"):
        page.goto(f"{served.url}/assets/{name}")
        page.wait_for_load_state("networkidle")
        assert page.title() != "ran", name
    expect(page.locator("svg")).to_have_count(1)
    assert "planted" not in (served.folder / "verification.preview.json").read_text()
    assert _call(f"{served.url}/assets/logo.png")[1]["Content-Security-Policy"].startswith("sandbox;")


@pytest.mark.parametrize("value", [b"1e999", b"-1e999", b"NaN", b"Infinity", b"-Infinity", b'"\\ud800"',
                                   b'"a\\udfffb"'])
def test_values_standard_json_cannot_hold_are_refused_and_the_sample_file_is_kept(served, value):
    """Before: NaN/1e999 were saved as NaN/Infinity (a file other tools refuse) and a lone surrogate
    emptied the sample file (a 500 after the file was opened for writing)."""
    sample = served.folder / "verification.preview.json"
    before = sample.read_bytes()
    for path in ("/api/fixtures/verification", "/api/render/verification"):
        status, _, out = _call(served.url + path, method="POST", headers={"Content-Type": "application/json"},
                               body=b'{"fixture": "odd", "data": {"code": ' + value + b"}}")
        assert status == 400 and json.loads(out)["error"]["message"], (path, out)
    assert sample.read_bytes() == before
    json.loads(before)


def test_markup_in_error_overlays_variables_and_the_index_shows_as_text_even_without_the_csp(browser, served):
    payload = "<img src=x onerror=alert(1)>"
    (served.folder / "broken.hbs").write_text("{{#if}}" + payload + "{{/each}}")
    (served.folder / "vars.hbs").write_text("{{#each items}}{{[" + payload.replace("]", "") + "]}}{{/each}}"
                                            "{{missing." + "x" * 3 + "}}")
    served.app.config["MAILTPL_ENV"].invalidate()
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        page.goto(served.url)
        expect(page.locator("main")).to_contain_text(payload)
        for name in ("broken", "vars"):
            open_email(page, served, name)
            expect(page.locator("body")).to_contain_text(payload)
            page.wait_for_timeout(300)
            assert page.locator("main img[src=x], #overlay img, aside img").count() == 0
    finally:
        context.close()
    assert dialogs == []
