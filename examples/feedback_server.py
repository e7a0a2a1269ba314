"""A stand-in for the mail paths of the ABC User Feedback server, in a few lines of Flask.

Sign-up mails a 6-digit verification code, a password reset mails a link,
an invitation mails a link; everything else of the server is left out. Mail
goes through mailtpl's ``Mailer``, configured only by SMTP_* and
ADMIN_WEB_URL, exactly as the real server is deployed:

    mailtpl capture &                                   # or: mailtpl preview (inbox at /inbox)
    SMTP_HOST=127.0.0.1 SMTP_PORT=1025 SMTP_SENDER=no-reply@fb.example.org \\
    ADMIN_WEB_URL=http://localhost:3000 python examples/feedback_server.py
    curl -X POST localhost:4000/api/admin/auth/email/code -H 'Content-Type: application/json' \\
         -d '{"email": "ada@example.com"}'
"""
from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask, jsonify, request

from mailtpl import Environment
from mailtpl.smtp import Mailer, SmtpConfig, SmtpError

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def create_app(templates: Path = TEMPLATES) -> Flask:
    app = Flask(__name__)
    mailer = Mailer(Environment(templates), SmtpConfig.from_env())
    app.extensions["mailer"] = mailer
    codes: dict[tuple[str, str], str] = {}  # (purpose, email) -> the code last mailed

    def body(*fields: str) -> list[str]:
        data = request.get_json(silent=True)
        values = [data.get(field) if isinstance(data, dict) else None for field in fields]
        if not all(isinstance(value, str) and value for value in values):
            raise ValueError(f"expected JSON with {', '.join(fields)}")
        return values

    def mail_code(purpose: str, send) -> tuple:
        (email,) = body("email")
        codes[(purpose, email)] = code = f"{secrets.randbelow(10**6):06d}"
        send(email, code)
        return "", 204

    def check_code(purpose: str) -> tuple:
        email, code = body("email", "code")
        if not secrets.compare_digest(codes.get((purpose, email), "").encode(), code.encode()):  # str: ASCII only
            return jsonify(error="invalid code"), 400
        del codes[(purpose, email)]
        return jsonify(ok=True), 200

    @app.post("/api/admin/auth/email/code")
    def send_verification_code():
        return mail_code("verify", mailer.send_verification)

    @app.post("/api/admin/auth/email/code/verify")
    def verify_code():
        return check_code("verify")

    @app.post("/api/admin/users/password/reset/code")
    def send_reset_link():
        return mail_code("reset", mailer.send_reset_password)

    @app.post("/api/admin/users/password/reset")
    def reset_password():
        return check_code("reset")

    @app.post("/api/admin/users/invite")
    def invite():
        return mail_code("invite", mailer.send_invitation)

    @app.post("/api/admin/users/signup")
    def accept_invitation():
        return check_code("invite")

    @app.errorhandler(ValueError)
    def bad_request(exc: ValueError):
        return jsonify(error=str(exc)), 400

    @app.errorhandler(SmtpError)
    def mail_failed(exc: SmtpError):
        return jsonify(error=f"could not send the mail: {exc.message}"), 502

    return app


if __name__ == "__main__":
    create_app().run(port=4000)
