"""Issue 16: mailtpl.celery with a real redis-server and a real worker process (4 prefork children).

200 tasks while the SMTP server drops 5% of transactions and answers 451 to
some: each message is delivered exactly once (counted by the server), the 5xx
ones are reported as failed tasks, none is lost; a task run twice with the
same key sends once. redis-server comes from Debian (/usr/bin/redis-server).
"""
import collections
import os
import random
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("celery")
import redis  # noqa: E402

from mailtpl.celery import idempotency_key, message_id_for  # noqa: E402
from tests.celery_app import app, send  # noqa: E402
from tests.redis_server import needs_redis, redis_server  # noqa: E402
from tests.smtp_servers import smtp_server  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
pytestmark = needs_redis


class Flaky:
    """Drops 5% of transactions before its 250 and answers 451 to 8% (seeded); 550 for bounce@ recipients."""

    def __init__(self) -> None:
        self.random = random.Random(16)
        self.delivered: collections.Counter = collections.Counter()
        self.dropped = self.deferred = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("bounce"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        roll = self.random.random()
        if roll < 0.05:
            self.dropped += 1
            server.transport.close()
            return "421 dropped"
        if roll < 0.13:
            self.deferred += 1
            return "451 4.3.0 try again later"
        message_id = next(line for line in envelope.content.split(b"\r\n") if line.startswith(b"Message-ID:"))
        self.delivered[message_id.split(b":", 1)[1].strip().decode()] += 1
        return "250 2.0.0 Ok: queued"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@contextmanager
def running_worker(tmp_path, redis_url, handler, **settings):
    """An SMTP server with ``handler``, and a celery worker process (4 children) sending to it."""
    redis.Redis.from_url(redis_url).flushall()  # nothing queued or recorded by an earlier test
    with smtp_server(tmp_path) as server, (tmp_path / "worker.log").open("w") as log:
        server.controller.handler = handler
        env = dict(os.environ, CELERY_BROKER_URL=redis_url, CELERY_RESULT_BACKEND=redis_url,
                   MAILTPL_TEMPLATES=str(ROOT / "templates"), ADMIN_WEB_URL="https://fb.example.org",
                   PYTHONPATH=str(ROOT), **server.env(SMTP_TIMEOUT="5", **settings))
        process = subprocess.Popen([sys.executable, "-m", "celery", "-A", "tests.celery_app", "worker",
                                    "--concurrency", "4", "--pool", "prefork", "--loglevel", "WARNING",
                                    "--without-gossip", "--without-mingle", "--without-heartbeat"],
                                   cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=log)
        app.conf.update(broker_url=redis_url, result_backend=redis_url)
        try:
            yield handler
        finally:
            process.terminate()
            process.wait(30)


@pytest.fixture
def worker(tmp_path, redis_url):
    with running_worker(tmp_path, redis_url, Flaky()) as handler:
        yield handler, redis_url


def test_200_tasks_through_faults_are_each_delivered_once(worker):
    handler, redis_url = worker
    tasks = {}
    for i in range(200):
        to = f"bounce{i}@example.com" if i % 50 == 7 else f"user{i}@example.com"
        tasks[i] = send.delay("verification", to, {"code": f"{i:06d}"})
    outcomes = {}
    for i, task in tasks.items():
        try:
            outcomes[i] = task.get(timeout=60, propagate=True)
        except Exception as exc:  # noqa: BLE001 - a failed task, reported
            outcomes[i] = exc
    bounced = {i for i in tasks if i % 50 == 7}
    failed = {i for i, outcome in outcomes.items() if isinstance(outcome, Exception)}
    assert failed == bounced  # 5xx: reported as failures, not retried
    assert all("refused every recipient" in str(outcomes[i]) for i in bounced)
    delivered_ids = {outcomes[i]["message_id"] for i in tasks if i not in bounced}
    assert set(handler.delivered) == delivered_ids and len(delivered_ids) == 196  # nothing lost
    assert set(handler.delivered.values()) == {1}  # nothing twice
    assert handler.dropped > 0 and handler.deferred > 0  # the faults did happen and were retried
    assert any(outcomes[i]["duplicate"] is False for i in tasks if i not in bounced)
    # The 250 to DATA was recorded under each key, in the broker's Redis.
    keys = redis.Redis.from_url(redis_url).keys("mailtpl:sent:*")
    assert len(keys) == 196


def test_a_task_run_twice_with_the_same_key_sends_once(worker):
    handler, _ = worker
    data = {"code": "424242"}
    first, second = (send.delay("verification", "twice@example.com", data) for _ in range(2))
    explicit = [send.apply_async(("verification", "grace@example.com", {"code": str(n)}), {"key": "invite-7"})
                for n in range(3)]  # different data, one key: one message
    results = [task.get(timeout=60) for task in (first, second, *explicit)]
    assert sorted(r["duplicate"] for r in results[:2]) == [False, True]
    assert sorted(r["duplicate"] for r in results[2:]) == [False, True, True]
    assert len({r["message_id"] for r in results[:2]}) == 1
    assert results[0]["key"] == idempotency_key("verification", "twice@example.com", data)
    assert results[0]["message_id"] == message_id_for(results[0]["key"], "no-reply@fb.example.org")
    assert results[2]["key"] == "invite-7"
    assert sum(handler.delivered.values()) == 2 and set(handler.delivered.values()) == {1}


class Timed:
    """Accepts everything and notes when each message arrived."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []

    async def handle_DATA(self, server, session, envelope):
        self.arrivals.append(time.monotonic())
        return "250 2.0.0 Ok: queued"


def test_rate_and_daily_limits_hold_across_worker_processes(tmp_path, redis_url):
    handler = Timed()
    with running_worker(tmp_path, redis_url, handler, SMTP_RATE_LIMIT="5", SMTP_DAILY_LIMIT="6"):
        tasks = [send.delay("verification", f"limited{i}@example.com", {"code": str(i)}) for i in range(8)]
        states: list[str] = []
        for _ in range(600):  # up to 60 s: six sent, the two over the cap waiting for the next UTC day
            states = sorted(task.state for task in tasks)
            if states == ["RETRY"] * 2 + ["SUCCESS"] * 6:
                break
            time.sleep(0.1)
        assert states == ["RETRY"] * 2 + ["SUCCESS"] * 6 and len(handler.arrivals) == 6
        waiting = [task for task in tasks if task.state == "RETRY"]
        for task in waiting:
            task.forget()  # stop listening for results this Redis will not outlive
    # 5 per second for all workers together: the six start 0.2 s apart (arrivals vary by each transaction's
    # own duration, a new connection's included; without the limit, four workers deliver six within ~50 ms).
    assert max(handler.arrivals) - min(handler.arrivals) >= 5 * 0.2 - 0.2


class DefersOne:
    """Accepts every recipient but defers later@ (451) the first three times it is named."""

    def __init__(self) -> None:
        self.deferrals = 0
        self.delivered: collections.Counter = collections.Counter()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("later") and self.deferrals < 3:
            self.deferrals += 1
            return "451 4.2.1 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.delivered.update(envelope.rcpt_tos)
        return "250 2.0.0 Ok: queued"


def test_a_recipient_deferred_while_others_accept_gets_the_mail_once_later(tmp_path, redis_url):
    with running_worker(tmp_path, redis_url, DefersOne()) as handler:
        result = send.delay("verification", ["now@example.com", "later@example.com"], {"code": "1"}).get(timeout=60)
        assert result["accepted"] == ["now@example.com"] and "later@example.com" in result["refused"]
        follow_up = app.AsyncResult(result["follow_up"]).get(timeout=60)
        assert follow_up["accepted"] == ["later@example.com"] and follow_up["refused"] == {}
        assert handler.delivered == {"now@example.com": 1, "later@example.com": 1}  # each once, none lost
        assert handler.deferrals == 3


def test_a_template_error_reaches_the_caller_typed_and_whole(tmp_path, redis_url):
    """README: a permanent failure is the task's result as the typed error (through the JSON result backend)."""
    from mailtpl.errors import TemplateNotFound, UndefinedError

    with running_worker(tmp_path, redis_url, Timed()) as handler:
        with pytest.raises(UndefinedError) as undefined:
            send.delay("verification", "ada@example.com", {}).get(timeout=60)
        with pytest.raises(TemplateNotFound) as not_found:
            send.delay("nope", "ada@example.com", {}).get(timeout=60)
    error = undefined.value
    assert error.name and error.name.startswith("verification") and error.lineno and error.column and error.path
    assert str(error).startswith(f"{error.name}:{error.lineno}:{error.column}: ")
    assert error.source_line is not None and error.path in error.source_line
    assert not_found.value.available == ["invitation", "resetPassword", "verification"]
    assert str(not_found.value) == "no email named 'nope' (available: invitation, resetPassword, verification)"
    assert handler.arrivals == []  # nothing was sent
