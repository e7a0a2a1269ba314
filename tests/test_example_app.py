"""Issue 15: the seed's manual test method (sign up, reset, invite; read the mail) as tests of examples/."""
from urllib.parse import parse_qs, urlsplit

import pytest

from examples.feedback_server import create_app

SENDER = "no-reply@fb.example.org"
ADMIN = "https://admin.fb.example.org"


@pytest.fixture(params=["no login", "login"])
def client(request, mail_capture, monkeypatch, tmp_path):
    """The example server configured only by SMTP_* (host and port from mail_capture) and ADMIN_WEB_URL."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("SMTP_SENDER", SENDER)
    monkeypatch.setenv("ADMIN_WEB_URL", ADMIN)
    if request.param == "login":  # an app deployed with SMTP_USERNAME/PASSWORD works against the capture too
        monkeypatch.setenv("SMTP_USERNAME", "apikey")
        monkeypatch.setenv("SMTP_PASSWORD", "SG.secret")
    app = create_app()
    yield app.test_client()
    app.extensions["mailer"].close()


def assert_mail_as_sent_by_the_server(mail, subject: str) -> None:
    assert mail.headers["From"] == f'"User feedback" <{SENDER}>'
    assert mail.subject == subject
    assert [part.content_type for part in mail.parts] == ["text/plain", "text/html"]  # both parts
    assert mail.text.strip() and "<html" in mail.html.lower()


def test_sign_up_mails_a_six_digit_code_that_verifies(client, mail_capture):
    assert client.post("/api/admin/auth/email/code", json={"email": "ada@example.com"}).status_code == 204
    mail = mail_capture.wait_for(to="ada@example.com", subject="User feedback Email Verification")
    assert_mail_as_sent_by_the_server(mail, "User feedback Email Verification")
    code = mail.find(r"(?<!\d)(\d{6})(?!\d)")
    assert code is not None and code in mail.html  # the same code in both parts
    assert client.post("/api/admin/auth/email/code/verify", json={"email": "ada@example.com",
                                                                  "code": code}).status_code == 200
    assert client.post("/api/admin/auth/email/code/verify", json={"email": "ada@example.com",
                                                                  "code": code}).status_code == 400  # used once


@pytest.mark.parametrize("email", ["a+b@x.io", "grace@example.com"])
def test_reset_mails_a_link_with_the_url_encoded_email(client, mail_capture, email):
    assert client.post("/api/admin/users/password/reset/code", json={"email": email}).status_code == 204
    mail = mail_capture.wait_for(to=email, subject="User feedback Reset Password")
    assert_mail_as_sent_by_the_server(mail, "User feedback Reset Password")
    (link,) = [url for url in mail.links() if "/link/reset-password" in url]
    assert link.startswith(f"{ADMIN}/link/reset-password?code=")
    assert "email=" + email.replace("+", "%2B").replace("@", "%40") in link
    assert link in mail.text  # the text part carries the same link
    query = parse_qs(urlsplit(link).query)
    assert query["email"] == [email]  # decodes back to the address (a raw '+' would arrive as a space)
    assert client.post("/api/admin/users/password/reset", json={"email": email,
                                                               "code": query["code"][0]}).status_code == 200


def test_invite_mails_the_invitation_link(client, mail_capture):
    assert client.post("/api/admin/users/invite", json={"email": "new+team@example.com"}).status_code == 204
    mail = mail_capture.wait_for(to="new+team@example.com")
    assert_mail_as_sent_by_the_server(mail, "User Feedback Invitation")
    (link,) = [url for url in mail.links() if "/link/user-invitation" in url]
    query = parse_qs(urlsplit(link).query)
    assert link.startswith(f"{ADMIN}/link/user-invitation?") and "email=new%2Bteam%40example.com" in link
    assert client.post("/api/admin/users/signup", json={"email": "new+team@example.com",
                                                        "code": query["code"][0]}).status_code == 200


def test_each_request_sends_exactly_one_mail_to_its_address(client, mail_capture):
    client.post("/api/admin/auth/email/code", json={"email": "ada@example.com"})
    client.post("/api/admin/users/password/reset/code", json={"email": "ada@example.com"})
    client.post("/api/admin/users/invite", json={"email": "grace@example.com"})
    mail_capture.wait_for(to="grace@example.com")
    assert [(m.rcpt_tos, m.subject) for m in mail_capture.messages] == [
        (["ada@example.com"], "User feedback Email Verification"),
        (["ada@example.com"], "User feedback Reset Password"),
        (["grace@example.com"], "User Feedback Invitation")]


def test_bad_input_is_a_400_and_sends_nothing(client, mail_capture):
    assert client.post("/api/admin/auth/email/code", json={}).status_code == 400
    assert client.post("/api/admin/auth/email/code", json={"email": "not an address"}).status_code == 400
    assert client.post("/api/admin/users/invite", data="email=x@y.io").status_code == 400
    for code in ["é", "12345\u0660", ""]:  # a code that is not ASCII digits is wrong, not a 500
        assert client.post("/api/admin/auth/email/code/verify", json={"email": "ada@example.com",
                                                                      "code": code}).status_code == 400
    assert mail_capture.messages == []
