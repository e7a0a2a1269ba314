"""Issue 15: lint findings of caught mail, in the API and in the inbox's Lint view (Debian's chromium by
Playwright), as templates have them in the preview; hostile caught mail gives findings or a clear error."""
import json
import re
import smtplib
from email.mime.multipart import MIMEMultipart
from email.policy import SMTP
from email.mime.text import MIMEText

import pytest
from playwright.sync_api import expect

from tests.test_capture import HOSTILE, Api, api, capture  # noqa: F401 - the capture server and its API
from tests.test_capture_ui import inbox, open_inbox, page, send_verification  # noqa: F401
from tests.test_lint import CLEAN
from tests.test_preview import browser  # noqa: F401 - the shared chromium fixture

BROKEN = CLEAN.replace('<html lang="en">', "<html>").replace('alt="Logo" ', "").replace("logo.png", "logo.svg")


def mime(html: str | None, text: str | None = "Hello", subject: str = "Hello") -> bytes:
    """A message with a text and/or an HTML part (base64: SMTP lines are short, hostile HTML is not)."""
    parts = [MIMEText(body, kind, "utf-8") for kind, body in (("plain", text), ("html", html)) if body is not None]
    message = parts[0] if len(parts) == 1 else MIMEMultipart("alternative", _subparts=parts)
    message["From"], message["To"], message["Subject"] = "app@example.org", "ada@example.com", subject
    return message.as_bytes(policy=SMTP)


def caught(server, raw: bytes) -> str:
    with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
        smtp.sendmail("app@example.org", ["ada@example.com"], raw)
    return server.inbox.messages[-1].id


def test_lint_api_of_a_caught_message(capture, api):  # noqa: F811
    message_id = caught(capture, mime(BROKEN))
    status, body = api.json(f"/api/messages/{message_id}/lint")
    assert status == 200 and body["html"] and not body["clean"]
    by_rule = {f["rule"]: f for f in body["findings"]}
    assert {"img-alt", "html-lang", "caniemail:image-svg"} <= set(by_rule)
    assert (by_rule["img-alt"]["file"], by_rule["img-alt"]["line"]) == (None, None)
    assert by_rule["img-alt"]["selector"] == "html > body > table > tr > td > img"
    assert by_rule["img-alt"]["element"] == ["img", 0]
    status, content, headers = api.call(f"/api/messages/{message_id}/lint/highlight?tag=img&index=0")
    assert status == 200 and "sandbox" in headers["Content-Security-Policy"]
    assert "default-src 'none'" in headers["Content-Security-Policy"]  # untrusted: nothing remote loads
    assert re.search(rb'<img [^>]*id="mailtpl-lint-hit"', content)
    assert api.call(f"/api/messages/{message_id}/lint/highlight?tag=img&index=1")[0] == 404
    assert api.call(f"/api/messages/{message_id}/lint/highlight?tag=img&index=x")[0] == 400
    assert api.call(f"/api/messages/{message_id}/lint/highlight?tag=im%22g&index=0")[0] == 400
    assert api.json("/api/messages/nope/lint")[0] == 404


def test_text_only_mail_is_linted_for_its_text_and_subject(capture, api):  # noqa: F811
    message_id = caught(capture, mime(None, text="", subject="x" * 90))
    status, body = api.json(f"/api/messages/{message_id}/lint")
    assert status == 200 and body["html"] is False
    assert {f["rule"] for f in body["findings"]} == {"text-part", "subject-length"}
    assert api.call(f"/api/messages/{message_id}/lint/highlight?tag=img&index=0")[0] == 404


HOSTILE_HTML = [
    "<div>" * 20000 + "deep",
    "<p style='color:" + "(" * 100000 + "'>x</p>",
    '<?xml version="1.0" encoding="latin-1"?><html><body><img src="a.svg"></body></html>',
    "<!-- only a comment -->",
    "<style>" * 20000 + "<p>x</p>",
    "<p>" + "<a href='#'>x</a>" * 200000 + "</p>",  # 3.4 MB: measured, not read
]


@pytest.mark.parametrize("raw", HOSTILE + [mime(html) for html in HOSTILE_HTML])
def test_hostile_caught_mail_gives_findings_not_a_500(capture, api, raw):  # noqa: F811
    message_id = caught(capture, raw)
    status, body = api.json(f"/api/messages/{message_id}/lint")
    assert status == 200, body
    assert isinstance(body["findings"], list) and all(f["file"] is None for f in body["findings"])


def test_a_bad_lint_setting_is_a_clear_error_in_the_preview(tmp_path, capture):  # noqa: F811
    from mailtpl import Environment
    from mailtpl.capture import register
    from mailtpl.preview import create_app

    (tmp_path / "mailtpl.json").write_text(json.dumps({"lint": {"clients": ["hotmail"]}}))
    app = create_app(Environment(tmp_path), watch=False)
    register(app, capture.inbox, address=(capture.host, capture.port))
    preview = Api(app)
    try:
        message_id = caught(capture, mime(BROKEN))
        status, body = preview.json(f"/api/messages/{message_id}/lint")
        assert status == 422 and "unknown email client 'hotmail'" in body["error"]["message"]
    finally:
        preview.server.shutdown()


def test_lint_view_lists_findings_and_a_click_outlines_the_element(page, inbox):  # noqa: F811
    caught(inbox, mime(BROKEN, subject="Broken"))
    send_verification(inbox)
    open_inbox(page, inbox)
    page.locator("tr.message", has_text="Broken").click()
    page.click("button[data-view=lint]")
    panel = page.locator("#lint-panel")
    expect(panel).to_have_attribute("data-lints", re.compile(r"^[1-9]"))
    alt = page.locator('#lint-list li[data-rule="img-alt"]')
    expect(alt).to_contain_text("html > body > table > tr > td > img")
    expect(alt).to_contain_text("error")
    expect(page.locator('#lint-list li[data-rule="html-lang"]')).to_have_count(1)
    svg = page.locator('#lint-list li[data-rule="caniemail:image-svg"]')
    expect(svg).to_contain_text("Outlook 2016-2021 (Windows): not supported in 2016")
    expect(page.locator("#lint-status")).to_contain_text("1 error,")

    svg.click()  # back to the HTML view, the image outlined in the sandboxed frame
    expect(page.locator("#frame")).to_be_visible()
    hit = page.frame_locator("#frame").locator("#mailtpl-lint-hit")
    expect(hit).to_have_attribute("src", "https://abc.io/logo.svg")
    assert "rgb(225, 29, 72)" in hit.evaluate("el => getComputedStyle(el).outlineColor")

    page.locator("tr.message", has_text="Email Verification").click()  # another message: its own findings
    page.click("button[data-view=lint]")
    expect(panel).to_have_attribute("data-lints", re.compile(r"^([2-9]|\d\d+)$"))
    expect(page.locator('#lint-list li[data-rule="img-alt"]')).to_have_count(0)
    logo = page.locator('#lint-list li[data-rule="link-local"]')  # the app sent fb.example.org links
    expect(logo).to_contain_text("https://fb.example.org")
    expect(logo).to_contain_text("html > body > table")
