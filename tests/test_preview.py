"""Issue 5: the live preview, driven in Debian's chromium by Playwright."""
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
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.app = create_app(Environment(folder))
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


def open_email(page, served, name="verification", fragment=""):
    page.goto(f"{served.url}/email/{name}{fragment}")
    page.wait_for_function("document.body.dataset.renders >= 1 || document.body.dataset.error")
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
    page.screenshot(path=str(ROOT / "docs" / "preview.png"))


def test_saving_a_template_updates_the_open_page(page, served):
    open_email(page, served, fragment="#fixture=leading-zeros&view=html")
    frame = page.frame_locator("#frame")
    expect(frame.locator("div.code")).to_have_text("000042")
    renders = int(page.evaluate("document.body.dataset.renders"))
    template = served.folder / "verification.hbs"
    saved = time.perf_counter()
    template.write_text(template.read_text().replace("Authentication Code", "Your sign-in code"))
    page.wait_for_function(f"document.body.dataset.renders > {renders}", timeout=5000)
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
    page.wait_for_function(f"document.body.dataset.renders > {renders}", timeout=5000)
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
    assert "warning" not in err
