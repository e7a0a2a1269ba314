"""Issue 3: the shipped emails, sample data, CSS inlining, plain text, MIME messages."""
import email
import email.policy
import json
import re
import shutil
from pathlib import Path

import lxml.html
import pytest

from mailtpl import (DataError, Environment, TemplateNotFound, TemplateSyntaxError, UndefinedError,
                     invitation_link, reset_password_link)
from mailtpl.inline import inline_css
from mailtpl.message import build_message

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
BASE = "https://fb.example.org"
SHIPPED = [(name, fixture) for name in Environment(TEMPLATES).names()
           for fixture in Environment(TEMPLATES).loader.fixtures(name)]


@pytest.fixture
def env():
    return Environment(TEMPLATES, base_url=BASE)


def dom(html: str) -> str:
    """The document as lxml reads and writes it: same DOM, same string."""
    return lxml.html.tostring(lxml.html.document_fromstring(html), encoding="unicode")


def test_the_three_emails_are_shipped(env):
    assert env.names() == ["invitation", "resetPassword", "verification"]
    assert {n: env.info(n).subject for n in env.names()} == {
        "verification": "User feedback Email Verification",
        "resetPassword": "User feedback Reset Password",
        "invitation": "User Feedback Invitation",
    }


@pytest.mark.parametrize("name, fixture", SHIPPED)
def test_compile_time_inlining_equals_inlining_every_render(name, fixture):
    fast = Environment(TEMPLATES).render(name, fixture=fixture)
    slow = Environment(TEMPLATES, inline_css="per-render").render(name, fixture=fixture)
    assert fast.inlining == "compile-time" and slow.inlining == "per-render"
    assert dom(fast.html) == dom(slow.html)
    assert fast.text == slow.text and fast.subject == slow.subject


@pytest.mark.parametrize("name, fixture", SHIPPED)
def test_rendered_email_content(env, name, fixture):
    out = env.render(name, fixture=fixture)
    doc = lxml.html.document_fromstring(out.html)
    images = [img.get("src") for img in doc.iter("img")]
    assert images and all(src.startswith(BASE + "/") for src in images)
    # every rule of the <style> block that is not @media has been inlined and removed
    for style in doc.iter("style"):
        assert not re.search(r"(^|})\s*[.#a-z][^{@]*\{", re.sub(r"@media[^{]*\{([^{}]*\{[^{}]*\})*[^{}]*\}", "",
                                                               style.text or "")), style.text
    assert doc.cssselect(".content")[0].get("style").startswith("padding:24px 40px")
    media = "".join(style.text or "" for style in doc.iter("style"))
    assert "@media only screen and (max-width: 620px)" in media and "width: 100% !important" in media
    assert "<" not in out.text and "{" not in out.text and "padding" not in out.text
    assert "\n\n" in out.text and not out.text.startswith("\n")


def test_verification_code_is_shown_and_escaped(env):
    out = env.render("verification", {"code": "<b>12&34</b>"})
    assert "&lt;b&gt;12&amp;34&lt;/b&gt;" in out.html
    code = lxml.html.document_fromstring(out.html).cssselect("div.code")[0]
    assert code.text_content() == "<b>12&34</b>" and "font-size:36px" in code.get("style")
    assert "<b>12&34</b>" in out.text  # the plain-text part is not HTML-escaped
    assert out.subject == "User feedback Email Verification"


@pytest.mark.parametrize("name, build, path", [
    ("resetPassword", reset_password_link, "reset-password"),
    ("invitation", invitation_link, "user-invitation"),
])
def test_link_mails_link_exactly(env, name, build, path):
    link = build(BASE, "c0de 7", "a+b@x.io")
    assert link == f"{BASE}/link/{path}?code=c0de+7&email=a%2Bb%40x.io"
    out = env.render(name, {"link": link})
    hrefs = [a.get("href") for a in lxml.html.document_fromstring(out.html).cssselect("a.button, a.fallback-link")]
    assert hrefs == [link, link]
    assert f"({link})" in out.text


def test_base_url_from_admin_web_url_and_context(monkeypatch):
    monkeypatch.setenv("ADMIN_WEB_URL", "https://admin.example.net/")
    env = Environment(TEMPLATES)
    assert 'src="https://admin.example.net/assets/logo.png"' in env.render("verification", {"code": "1"}).html
    out = env.render("verification", {"code": "1", "baseUrl": "https://ctx.example"})
    assert 'src="https://ctx.example/assets/logo.png"' in out.html


def test_missing_base_url_says_which_setting(monkeypatch):
    monkeypatch.delenv("ADMIN_WEB_URL", raising=False)
    with pytest.raises(UndefinedError) as info:
        Environment(TEMPLATES).render("verification", {"code": "1"})
    err = info.value
    assert (err.path, err.name) == ("baseUrl", "layouts/layout.hbs") and err.lineno == 37
    assert "ADMIN_WEB_URL" in str(err)


def test_missing_variable_names_template_line_column(env):
    with pytest.raises(UndefinedError) as info:
        env.render("verification", {})
    err = info.value
    assert (err.name, err.lineno, err.column, err.path) == ("verification.hbs", 4, 21, "code")
    assert str(err).startswith('verification.hbs:4:21: "code" is not defined')


def test_unknown_email_lists_the_names(env):
    with pytest.raises(TemplateNotFound) as info:
        env.render("welcome")
    assert str(info.value) == "no email named 'welcome' (available: invitation, resetPassword, verification)"
    with pytest.raises(TemplateNotFound, match="available: default, leading-zeros"):
        env.render("verification", fixture="nope")


@pytest.fixture
def folder(tmp_path):
    shutil.copytree(TEMPLATES, tmp_path / "t")
    return tmp_path / "t"


def test_broken_sample_json_names_file_line_column(folder):
    (folder / "verification.preview.json").write_text('{\n  "default": {"code": "1",}\n}\n')
    with pytest.raises(DataError) as info:
        Environment(folder).render("verification", fixture="default")
    err = info.value
    assert (err.name, err.lineno, err.column) == ("verification.preview.json", 2, 27)
    assert "invalid JSON" in str(err)


def test_syntax_error_in_a_partial_names_the_partial(folder):
    (folder / "partials" / "footer.hbs").write_text("ok\n{{#if x}}\nnever closed\n")
    with pytest.raises(TemplateSyntaxError) as info:
        Environment(folder).render("verification", {"code": "1"})
    assert (info.value.name, info.value.lineno) == ("partials/footer.hbs", 2)


def test_editing_a_partial_rerenders_its_dependents(folder):
    env = Environment(folder, base_url=BASE)
    assert "User feedback</a>" in env.render("invitation", fixture="default").html
    footer = folder / "partials" / "footer.hbs"
    footer.write_text(footer.read_text().replace("User feedback</a>", "Feedback HQ</a>"))
    assert env.invalidate([footer]) == {"invitation", "resetPassword", "verification"}
    assert "Feedback HQ</a>" in env.render("invitation", fixture="default").html
    assert env.invalidate([folder / "verification.txt.hbs"]) == {"verification"}
    (folder / "welcome.v2.hbs").write_text("{{#> layout}}<p class=\"text\">hi</p>{{/layout}}\n")
    env.invalidate([folder / "welcome.v2.hbs"])  # a new file: the folder is read again
    assert "welcome.v2" in env.names()
    assert env.invalidate([folder / "welcome.v2.hbs"]) == {"welcome.v2"}


def test_data_dependent_classes_fall_back_to_inlining_per_render(folder):
    (folder / "verification.hbs").write_text(
        '{{#> layout}}<p class="{{kind}}">{{code}}</p>{{/layout}}\n')
    env = Environment(folder, base_url=BASE)
    assert "class attribute" in env.info("verification").inline_reason
    out = env.render("verification", {"code": "1", "kind": "note"})
    assert out.inlining == "per-render"
    assert 'class="note" style="margin:16px 0 0 0' in out.html


def test_unbalanced_block_falls_back_to_inlining_per_render(folder):
    (folder / "verification.hbs").write_text(
        '{{#> layout}}{{#if wrap}}<div class="note">{{/if}}<p class="text">{{code}}</p>'
        '{{#if wrap}}</div>{{/if}}{{/layout}}\n')
    env = Environment(folder, base_url=BASE)
    assert env.info("verification").inline_reason.startswith(
        "{{#if wrap}} at verification.hbs:1 opens and closes in different places of the HTML")
    html = env.render("verification", {"code": "1", "wrap": True}).html
    assert dom(html) == dom(inline_css(env.compiled("verification").html(
        {"code": "1", "wrap": True, "baseUrl": BASE},
        partials=env.compiled("verification").partials)))


def test_original_single_file_templates_render_unchanged(tmp_path):
    shutil.copytree(ROOT / "tests" / "fixtures" / "original", tmp_path / "orig")
    env = Environment(tmp_path / "orig", base_url=BASE)
    assert env.names() == ["invitation", "resetPassword", "verification"]
    out = env.render("verification", {"code": "123456"})
    assert out.subject == "User feedback Email Verification"
    assert '<div class="code" style="font-size: 36px; font-weight: bold;">123456</div>' in out.html.replace(
        "font-size:36px; font-weight:bold", "font-size: 36px; font-weight: bold")
    assert f'src="{BASE}/assets/images/logo.png"' in out.html
    assert "@media screen and (max-width: 600px)" in out.html
    link = reset_password_link(BASE, "abc", "a+b@x.io")
    reset = env.render("resetPassword", {"link": link})
    assert [a.get("href") for a in lxml.html.document_fromstring(reset.html).iter("a")] == [link]
    assert reset.subject == "User feedback Reset Password"
    assert env.render("invitation", {"link": link}).subject == "User Feedback Invitation"


# -- MIME messages ----------------------------------------------------------------------------------
def test_message_headers_and_parts(env):
    msg = build_message(env.render("verification", {"code": "482913"}), to="ada@example.com",
                        sender="no-reply@fb.example.org")
    raw = msg.as_bytes()
    assert b'\nFrom: "User feedback" <no-reply@fb.example.org>\n' in b"\n" + raw
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    sender = parsed["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("User feedback", "no-reply@fb.example.org")
    assert parsed["To"] == "ada@example.com"
    assert parsed["Subject"] == "User feedback Email Verification"
    assert parsed["Date"] and re.fullmatch(r"<[^@>]+@fb\.example\.org>", parsed["Message-ID"])
    assert parsed.get_content_type() == "multipart/alternative"
    text, html = parsed.iter_parts()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    assert "482913" in text.get_content() and "482913" in html.get_content()


def test_non_ascii_subject_is_rfc2047_encoded(folder):
    (folder / "mailtpl.json").write_text('{"subjects": {"verification": "Bestätigung für {{name}}"}}')
    msg = build_message(Environment(folder, base_url=BASE).render("verification", {"code": "1", "name": "Zoë"}),
                        to="a@b.io", sender="s@b.io")
    raw = msg.as_bytes()
    assert b"Subject: =?utf-8?" in raw
    assert email.message_from_bytes(raw, policy=email.policy.default)["Subject"] == "Bestätigung für Zoë"


@pytest.mark.parametrize("kwargs, field", [
    ({"to": "a@b.io\r\nBcc: evil@x.io"}, "to"),
    ({"to": "not-an-address"}, "to"),
    ({"to": "a@b.io", "sender": "s@b.io\nX: y"}, "sender"),
    ({"to": "a@b.io", "reply_to": "r@b.io\r\n"}, "reply_to"),
])
def test_header_injection_and_bad_addresses_are_refused(env, kwargs, field):
    kwargs.setdefault("sender", "s@b.io")
    with pytest.raises(ValueError, match=field):
        build_message(env.render("verification", {"code": "1"}), **kwargs)


def test_subject_with_line_break_is_refused(folder):
    (folder / "mailtpl.json").write_text('{"subjects": {"verification": "Hi {{name}}"}}')
    env = Environment(folder, base_url=BASE)
    assert env.render("verification", {"code": "1", "name": "Ann"}).subject == "Hi Ann"
    with pytest.raises(ValueError, match="subject of 'verification' contains a line break"):
        env.render("verification", {"code": "1", "name": "a\r\nBcc: x@y.z"})


def test_helpers_of_the_environment(folder):
    (folder / "verification.hbs").write_text('{{#> layout}}<p class="text">{{shout code}}</p>{{/layout}}\n')
    env = Environment(folder, base_url=BASE, helpers={"shout": lambda this, value: value.upper() + "!"})
    assert ">AB12!</p>" in env.render("verification", {"code": "ab12"}).html


def test_concurrent_renders_and_invalidations(folder):
    from tests.threads import run_in_threads

    env = Environment(folder, base_url=BASE)
    footer = folder / "partials" / "footer.hbs"

    def work(i):
        for _ in range(20):
            if i == 0:
                env.invalidate([footer])
            else:
                assert "482913" in env.render("verification", fixture="default").html

    assert run_in_threads(work, 4) == []


@pytest.mark.parametrize("subject", [
    "Bestätigung für Zoë – " + "sehr lange Betreffzeile mit Umlauten äöü " * 4,
    "A plain subject that is long enough to need folding over more than one line of a header " * 2,
])
def test_long_subjects_survive_the_wire(folder, subject):
    (folder / "mailtpl.json").write_text(json.dumps({"subjects": {"verification": subject}}))
    msg = build_message(Environment(folder, base_url=BASE).render("verification", {"code": "1"}), to="a@b.io",
                        sender="s@b.io")
    raw = msg.as_bytes(policy=email.policy.SMTP)
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert email.message_from_bytes(raw, policy=email.policy.default)["Subject"] == subject.strip()


def test_non_ascii_and_long_lines_go_quoted_printable(folder):
    (folder / "verification.hbs").write_text('{{#> layout}}<p class="text">' + "x" * 1200 + " Grüße {{code}}</p>{{/layout}}\n")
    msg = build_message(Environment(folder, base_url=BASE).render("verification", {"code": "ü1"}), to="a@b.io",
                        sender="s@b.io")
    text, html = msg.iter_parts()
    assert html["Content-Transfer-Encoding"] == "quoted-printable"
    assert "x" * 1200 + " Grüße ü1</p>" in html.get_content()
    assert all(len(line) <= 998 for line in msg.as_bytes().split(b"\n"))
