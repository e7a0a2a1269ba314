"""Issue 14: the lint panel of the preview, driven in Debian's chromium by Playwright."""
import json
import shutil
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from mailtpl import Environment
from mailtpl.lint import Linter
from tests.test_preview import Served, browser, copy_templates, page, wait_until  # noqa: F401 - chromium as the preview tests drive it

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def served(tmp_path, monkeypatch):
    served = Served(copy_templates(tmp_path, monkeypatch, ROOT / "tests" / "fixtures" / "lint_bootstrap"))
    yield served.url, served.folder
    served.stop()


def test_panel_lists_findings_and_a_click_outlines_the_element(page, served):
    url, _ = served
    page.goto(f"{url}/email/verification")
    wait_until(page, "document.getElementById('lint-panel').dataset.lints >= 1")
    alt = page.locator('#lint-list li[data-rule="img-alt"]')
    expect(alt).to_contain_text("verification.hbs:11:1")
    expect(alt).to_contain_text("error")
    svg = page.locator('#lint-list li[data-rule="caniemail:image-svg"]')
    expect(svg).to_contain_text("Outlook 2016-2021 (Windows): not supported in 2016")
    expect(page.locator('#lint-list li[data-rule="html-lang"]')).to_have_count(1)
    expect(page.locator("#lint-status")).to_contain_text("1 error,")
    expect(page.locator('#lint-list li.info')).to_have_count(0)
    page.check("#lint-notes")
    assert page.locator("#lint-list li.info").count() > 0

    svg.click()
    hit = page.frame_locator("#frame").locator("#mailtpl-lint-hit")
    expect(hit).to_have_attribute("src", "https://feedback.example.com/assets/images/logo.svg")
    assert "rgb(225, 29, 72)" in hit.evaluate("el => getComputedStyle(el).outlineColor")
    page.locator('#lint-list li[data-rule="table-role"]').click()
    expect(page.frame_locator("#frame").locator("table#mailtpl-lint-hit")).to_have_class("container w-full")


def test_panel_follows_saved_files_and_switch_offs(page, served):
    url, folder = served
    page.goto(f"{url}/email/verification")
    wait_until(page, "document.getElementById('lint-panel').dataset.lints >= 1")
    expect(page.locator('#lint-list li[data-rule="html-lang"]')).to_have_count(1)
    before = page.evaluate("Number(document.getElementById('lint-panel').dataset.lints)")
    template = folder / "verification.hbs"
    template.write_text(template.read_text().replace("<html>", '<html lang="en">', 1))
    wait_until(page, f"document.getElementById('lint-panel').dataset.lints > {before}", timeout=10)
    expect(page.locator('#lint-list li[data-rule="html-lang"]')).to_have_count(0)
    config = json.loads((folder / "mailtpl.json").read_text())
    config["lint"] = {"ignore": {"verification": {"img-alt": "the logo is decorative"}}}
    before = page.evaluate("Number(document.getElementById('lint-panel').dataset.lints)")
    (folder / "mailtpl.json").write_text(json.dumps(config))
    wait_until(page, f"document.getElementById('lint-panel').dataset.lints > {before}", timeout=10)
    expect(page.locator('#lint-list li[data-rule="img-alt"]')).to_have_count(0)
    page.check("#lint-off")
    expect(page.locator('#lint-list li.off[data-rule="img-alt"]')).to_contain_text("the logo is decorative")


def test_lint_api_answers_json_errors(served):
    url, folder = served

    def get(path):
        try:
            with urllib.request.urlopen(url + path) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    status, body = get("/api/lint/verification?fixture=default")
    assert status == 200 and not body["clean"]
    assert {"img-alt", "html-lang", "caniemail:image-svg"} <= {f["rule"] for f in body["findings"]}
    assert get("/api/lint/nope")[0] == 404
    status, body = get("/api/lint/verification?fixture=missing")
    assert status == 422 and "missing" in body["error"]["message"]
    (folder / "mailtpl.json").write_text(json.dumps({"lint": {"ignore": {"verification": {"img-alt": ""}}}}))
    deadline = time.monotonic() + 10  # the watcher reloads mailtpl.json
    while (answer := get("/api/lint/verification?fixture=default"))[0] == 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    status, body = answer
    assert status == 422 and "give the reason" in body["error"]["message"]
    assert get("/frame/unknown/highlight?tag=img&index=0")[0] == 404



def test_the_preview_serving_assets_is_not_a_local_or_http_address_to_lint(tmp_path, monkeypatch):
    monkeypatch.delenv("ADMIN_WEB_URL", raising=False)
    shutil.copytree(ROOT / "templates", tmp_path / "templates")  # has assets/: {{baseUrl}} is the preview
    served = Served(tmp_path / "templates", watch=False)
    try:
        url = f"{served.url}/api/lint/verification?fixture=default"
        with urllib.request.urlopen(url, timeout=30) as response:
            findings = json.load(response)["findings"]
    finally:
        served.stop()
    local = {"img-local", "link-local", "img-http", "link-http"}
    assert not {f["rule"] for f in findings if not f.get("ignored")} & local
    # the same render with {{baseUrl}} on 127.0.0.1, linted as if it were the real address, is flagged
    env = Environment(tmp_path / "templates", base_url=url.split("/api")[0])
    assert local <= {f.rule for f in Linter(env).lint("verification", fixture="default").findings}
