"""Every public mailtpl error comes back whole through pickle and through Celery's JSON result backend.

Both rebuild an error as ``type(err)(*err.args)`` (Celery keeps nothing else), so each error's ``args`` must be
its constructor's arguments: the same type, message, place in the template and other attributes after the trip.
(The real worker round trip is in tests/test_celery.py.)
"""
import pickle

import pytest

import mailtpl
import mailtpl.capture
import mailtpl.smtp
from mailtpl.capture.server import CaptureError
from mailtpl.capture.store import CaptureTimeout
from mailtpl.loader import FixtureExists
from mailtpl.errors import (DataError, HelperError, TemplateError, TemplateNotFound, TemplateRuntimeError,
                            TemplateSyntaxError, UndefinedError)
from mailtpl.inline import CssError, MarkupError
from mailtpl.message import AddressError, HeaderError
from mailtpl.smtp import errors as smtp
from mailtpl.smtp.config import ConfigError
from mailtpl.snapshots import SnapshotError

SOURCE = "<p>Hello</p>\n<p>{{user.name}}</p>\n"
WHERE = {"name": "verification.hbs", "lineno": 2, "column": 4, "source": SOURCE}
REFUSED = {"bob@example.com": (550, "5.1.1 no such user"), "eve@example.com": (451, "4.2.1 busy")}

SAMPLES = [
    TemplateError("something is wrong", **WHERE),
    TemplateSyntaxError("unclosed block {{#if}}", **WHERE),
    UndefinedError('"user.name" is not defined (strict mode)', "user.name", **WHERE),
    TemplateRuntimeError("missing helper 'shout'", **WHERE),
    TemplateNotFound("nope", ["invitation", "verification"], what="email"),
    TemplateNotFound("/nowhere"),
    DataError("sample data is not a JSON object", name="verification.preview.json", lineno=1, column=1),
    FixtureExists("sample data set 'ada' exists", name="verification.preview.json"),
    MarkupError("unclosed <table>", **WHERE),
    CssError("selector too long", name="verification.hbs"),
    HelperError("shout takes one argument"),
    smtp.SmtpError("the server closed", code=421, reply="4.4.2 bye", fix="try later"),
    smtp.SmtpConnectError("connection to mx:25 refused"),
    smtp.SmtpGreetingError("mx:25 greeted with 421", code=421, reply="busy"),
    smtp.SmtpTlsError("TLS handshake with mx:465 failed"),
    smtp.SmtpStartTlsError("STARTTLS refused by mx:587", code=454, reply="TLS not available"),
    smtp.SmtpInsecureAuthError("will not send SMTP_USERNAME/SMTP_PASSWORD unencrypted to mx"),
    smtp.SmtpTlsRequiredError("mx offers no encryption"),
    smtp.SmtpAuthError("mx refused the login of 'apikey'", code=535, reply="5.7.8 bad credentials"),
    smtp.SmtpSenderRejected("mx refused the sender", code=550, reply="5.7.1 not allowed"),
    smtp.SmtpRecipientsRefused("the server refused every recipient", REFUSED, code=550, reply="no such user"),
    smtp.SmtpTransientError("every recipient was deferred", attempts=3),
    smtp.SmtpConnectionLost("the connection dropped before the 250 to DATA", attempts=5),
    smtp.SmtpDailyLimitError("SMTP_DAILY_LIMIT=500 messages already sent today (UTC)", 3600.5),
    ConfigError({"SMTP_PORT": "must be a number, not 'x'", "SMTP_SENDER": "missing"}),
    HeaderError("a line break in the subject", "subject"),
    AddressError("not an address: 'ada'", "to"),
    SnapshotError("not a plain file name: '../x'", "../x"),
    CaptureError("port 1025 is in use: set --smtp-port"),
    CaptureTimeout("no message to ada@example.com within 5 s (caught: none)"),
]


def exported_errors() -> set[type]:
    """Every exception class a user can import from mailtpl's public modules."""
    found = set()
    for module in (mailtpl, mailtpl.smtp, mailtpl.capture):
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, BaseException) and value.__module__.startswith("mailtpl"):
                found.add(value)
    return found


def same(a: BaseException, b: BaseException) -> None:
    assert type(b) is type(a)
    assert str(b) == str(a)
    assert b.args == a.args
    assert vars(b) == vars(a)  # message, name, lineno, column, source_line, path, refused, attempts, ...


def celery_round_trip(error: BaseException) -> BaseException:
    """What a Celery caller gets back from a JSON result backend (Celery's default serializer)."""
    from celery import Celery
    from celery.backends.base import BaseBackend

    backend = BaseBackend(Celery(set_as_current=False), serializer="json")
    stored = backend.encode(backend.prepare_exception(error))
    return backend.exception_to_python(backend.decode(stored))


def test_every_exported_error_has_a_sample():
    assert exported_errors() <= {type(sample) for sample in SAMPLES}


@pytest.mark.parametrize("error", SAMPLES, ids=lambda e: type(e).__name__)
def test_pickle_gives_the_same_error(error):
    same(error, pickle.loads(pickle.dumps(error)))


@pytest.mark.parametrize("error", SAMPLES, ids=lambda e: type(e).__name__)
def test_celery_result_backend_gives_the_same_error(error):
    pytest.importorskip("celery")
    same(error, celery_round_trip(error))


def test_the_rebuilt_template_error_still_points_at_the_line():
    error = celery_round_trip(UndefinedError('"user.name" is not defined', "user.name", **WHERE))
    assert (error.name, error.lineno, error.column, error.path) == ("verification.hbs", 2, 4, "user.name")
    assert str(error).splitlines() == ['verification.hbs:2:4: "user.name" is not defined',
                                       "    <p>{{user.name}}</p>", "       ^"]


def test_template_not_found_keeps_its_message():
    error = celery_round_trip(TemplateNotFound("nope", ["verification"], what="email"))
    assert str(error) == "no email named 'nope' (available: verification)"
