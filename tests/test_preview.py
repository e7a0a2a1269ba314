"""The live preview (issues 5, 9, 13), driven in Debian's chromium by Playwright."""
import json
import shutil
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
from tests.smtp_servers import smtp_server

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
        self.app.config["MAILTPL_WATCHER"].stop()


@pytest.fixture
def served(tmp_path, monkeypatch):
    for key in ("SMTP_HOST", "SMTP_PORT", "SMTP_SENDER", "ADMIN_WEB_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    served = Served(tmp_path / "templates")
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
    expect(frame.locator("img.logo")).to_have_attribute("src", "https://feedback.example.com/assets/logo.png")
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
    template.write_text(good)
    expect(overlay).to_be_hidden(timeout=5000)
    expect(page.frame_locator("#frame").locator("div.code")).to_have_text("482913")


def test_strict_miss_shows_overlay_with_line_and_column(page, served):
    open_email(page, served)
    page.fill("#data", json.dumps({"cod": "1"}))
    expect(page.locator("#overlay")).to_contain_text('verification.hbs:4:21: "code" is not defined', timeout=5000)


def test_mobile_toggle_narrows_the_frame(page, served):
    open_email(page, served)
    assert page.locator("#frame").bounding_box()["width"] >= 600
    page.click("button[data-width=mobile]")
    assert page.locator("#frame").bounding_box()["width"] == 375


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
    request = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
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


def test_preview_command_serves_on_loopback(tmp_path):
    """`mailtpl preview` serves the folder on 127.0.0.1 by default (any other address prints a warning:
    mailtpl.smtp.transport.is_loopback decides; tests never listen off loopback)."""
    import socket
    import subprocess
    import sys

    from mailtpl.smtp.transport import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("mail.example.com")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "mailtpl", "preview", "--templates", str(ROOT / "templates"),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if _status(f"http://127.0.0.1:{port}/") == 200:
                break
            time.sleep(0.2)
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
    page.click("button[data-width=mobile]")
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


@pytest.mark.parametrize("name", ["../../x", "..", "a/b", "x.html", " ", "", "a" * 65, 7, None])
def test_sample_data_names_that_could_reach_the_filesystem_are_refused(served, name):
    before = sorted(p.name for p in served.folder.parent.rglob("*"))
    status, _, body = _call(served.url + "/api/fixtures/verification", method="POST",
                            body={"fixture": name, "data": {"code": "1"}})
    assert status == 400 and "sample-data name" in json.loads(body)["error"]["message"]
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
